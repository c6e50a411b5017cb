// Command nethttp exercises the network from a Go program:
//
//	nethttp serve PORT   serve HTTP on :PORT (GET /hello, /bytes?n=N,
//	                     /quit ends the program with status 0)
//	nethttp fetch URL    GET URL and print the status and the body
//	nethttp loopback     HTTP, TCP echo and UDP over 127.0.0.1 and ::1;
//	                     then the interfaces
//	nethttp stress N URL N clients at once, 10 requests each, to URL
//	                     ("local": a server of its own on 127.0.0.1)
//	nethttp resolve NAME...  each NAME's IPv4 addresses, sorted (Go's own
//	                     resolver: /etc/hosts, then DNS)
package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: nethttp serve PORT | fetch URL | loopback")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2])
	case "fetch":
		err = fetch(os.Args[2])
	case "loopback":
		err = loopback()
	case "stress":
		err = stress(os.Args[2], os.Args[3])
	case "resolve":
		err = resolve(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Println("nethttp:", err)
		os.Exit(1)
	}
}

func handler(quit chan struct{}) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from yolk, %s\n", r.RemoteAddr)
	})
	mux.HandleFunc("/bytes", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		w.Header().Set("Content-Length", strconv.Itoa(n))
		b := make([]byte, 32<<10)
		for i := range b {
			b[i] = byte(i * 7)
		}
		for n > 0 {
			k := min(n, len(b))
			if _, err := w.Write(b[:k]); err != nil {
				return
			}
			n -= k
		}
	})
	mux.HandleFunc("/quit", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "bye")
		if quit != nil {
			close(quit)
			quit = nil
		}
	})
	return mux
}

func serve(port string) error {
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		return err
	}
	quit := make(chan struct{})
	srv := &http.Server{Handler: handler(quit)}
	go srv.Serve(ln)
	fmt.Println("serving on", ln.Addr())
	<-quit
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
	fmt.Println("served")
	return nil
}

func resolve(names []string) error {
	failed := 0
	for _, name := range names {
		addrs, err := net.DefaultResolver.LookupIP(context.Background(), "ip4", name)
		if err != nil {
			fmt.Printf("%s: %v\n", name, err)
			failed++
			continue
		}
		var s []string
		for _, a := range addrs {
			s = append(s, a.String())
		}
		slices.Sort(s)
		fmt.Printf("%s: %s\n", name, strings.Join(slices.Compact(s), " "))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d names did not resolve", failed, len(names))
	}
	return nil
}

func fetch(url string) error {
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	fmt.Printf("status %d, %d bytes\n%s", resp.StatusCode, len(body), body)
	return nil
}

func loopback() error {
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		go http.Serve(ln, handler(nil))
		base := "http://" + ln.Addr().String()
		resp, err := http.Get(base + "/bytes?n=1000000")
		if err != nil {
			return err
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || n != 1000000 {
			return fmt.Errorf("%s: %d bytes, %v", base, n, err)
		}
		fmt.Printf("http %s: %d bytes\n", ln.Addr(), n)
		ln.Close()
	}
	// TCP echo with a half close.
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		io.Copy(c, c)
		c.Close()
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return err
	}
	msg := bytes.Repeat([]byte("echo "), 20000)
	go func() {
		c.Write(msg)
		c.(*net.TCPConn).CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(got, msg) {
		return fmt.Errorf("echo: %d of %d bytes, %v", len(got), len(msg), err)
	}
	fmt.Printf("tcp echo: %d bytes\n", len(got))
	// UDP.
	u, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	uc, err := net.Dial("udp", u.LocalAddr().String())
	if err != nil {
		return err
	}
	uc.Write([]byte("datagram"))
	buf := make([]byte, 64)
	u.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := u.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "datagram" || from.String() != uc.LocalAddr().String() {
		return fmt.Errorf("udp: %q from %v, %v", buf[:n], from, err)
	}
	fmt.Println("udp: ok")
	// A name from /etc/hosts.
	addrs, err := net.LookupHost("localhost")
	if err != nil {
		return err
	}
	fmt.Println("localhost:", addrs)
	// Interfaces, from netlink.
	ifs, err := net.Interfaces()
	if err != nil {
		return err
	}
	for _, it := range ifs {
		addrs, err := it.Addrs()
		if err != nil {
			return err
		}
		fmt.Println("interface", it.Name, it.MTU, it.HardwareAddr, it.Flags, addrs)
	}
	return nil
}

func stress(clients, url string) error {
	n, err := strconv.Atoi(clients)
	if err != nil {
		return err
	}
	if url == "local" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		go http.Serve(ln, handler(nil))
		url = "http://" + ln.Addr().String() + "/hello"
	}
	start := time.Now()
	errs := make(chan error, n*10)
	done := make(chan struct{})
	for i := 0; i < n; i++ {
		go func() {
			c := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			for j := 0; j < 10; j++ {
				resp, err := c.Get(url)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				errs <- err
			}
			done <- struct{}{}
		}()
	}
	for i := 0; i < n; i++ {
		<-done
	}
	close(errs)
	bad := 0
	for err := range errs {
		if err != nil {
			if bad < 3 {
				fmt.Println("error:", err)
			}
			bad++
		}
	}
	fmt.Printf("stress: %d requests, %d errors, %v\n", n*10, bad, time.Since(start).Round(time.Millisecond))
	if bad > 0 {
		return fmt.Errorf("%d errors", bad)
	}
	return nil
}
