package tests

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Networking under QEMU: a Go net/http server in the guest serving the
// host through qemu/run -p, a guest client fetching from a host server
// through 10.0.2.2, and HTTP/TCP/UDP on the guest's loopback.

// freePort returns a TCP port free on the host now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRun starts qemu/run in the background; wait returns its output
// and status.
func startRun(t *testing.T, flags ...string) (wait func() result) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	args := append([]string{"-q", "-A", "tcg", "-k", filepath.Join(root, "build/kernel.elf"), "-T", "240"}, flags...)
	cmd := exec.CommandContext(ctx, filepath.Join(root, "qemu/run"), args...)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	var once sync.Once
	var r result
	wait = func() result {
		once.Do(func() {
			err := cmd.Wait()
			cancel()
			if ee, ok := err.(*exec.ExitError); ok {
				r.status = ee.ExitCode()
			} else if err != nil {
				r.status = -1
			}
			r.out = strings.ReplaceAll(out.String(), "\r\n", "\n")
			t.Logf("qemu/run %s -> %d\n%s", strings.Join(flags, " "), r.status, r.out)
		})
		return r
	}
	t.Cleanup(func() { cmd.Process.Kill(); wait() })
	return wait
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestNetHTTPServer(t *testing.T) {
	prog := example(t, "nethttp")
	for _, machine := range []string{"microvm", "q35"} {
		t.Run(machine, func(t *testing.T) {
			t.Parallel()
			port := freePort(t)
			wait := startRun(t, "-M", machine, "-p", fmt.Sprintf("%d:8080", port), prog, "serve", "8080")
			base := fmt.Sprintf("http://127.0.0.1:%d", port)
			c := &http.Client{Timeout: 10 * time.Second}
			get := func(path string) (string, error) {
				resp, err := c.Get(base + path)
				if err != nil {
					return "", err
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				if err == nil && resp.StatusCode != 200 {
					err = fmt.Errorf("status %d", resp.StatusCode)
				}
				return string(b), err
			}
			deadline := time.Now().Add(90 * time.Second)
			for {
				body, err := get("/hello")
				if err == nil {
					if !strings.HasPrefix(body, "hello from yolk, 10.0.2.2:") {
						t.Fatalf("body %q", body)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the guest server never answered: %v", err)
				}
				time.Sleep(300 * time.Millisecond)
			}
			// 200 requests, 8 at a time, then a 4 MB body byte-exact.
			var wg sync.WaitGroup
			errs := make(chan error, 200)
			for w := 0; w < 8; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 25; i++ {
						if _, err := get("/hello"); err != nil {
							errs <- err
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("request: %v", err)
			}
			const n = 4 << 20
			body, err := get(fmt.Sprintf("/bytes?n=%d", n))
			if err != nil || len(body) != n {
				t.Fatalf("/bytes: %d bytes, %v", len(body), err)
			}
			for i := 0; i < n; i++ {
				if body[i] != byte((i%(32<<10))*7) {
					t.Fatalf("/bytes: byte %d is %#x", i, body[i])
				}
			}
			if _, err := get("/quit"); err != nil {
				t.Fatal(err)
			}
			r := wait()
			if r.status != 0 || !strings.Contains(r.out, "served") {
				t.Fatalf("status %d", r.status)
			}
		})
	}
}

func TestNetGuestClient(t *testing.T) {
	prog := example(t, "nethttp")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "host says hi to %s for %s\n", r.RemoteAddr, r.URL.Path)
	})}
	go srv.Serve(l)
	defer srv.Close()
	port := l.Addr().(*net.TCPAddr).Port
	for _, machine := range []string{"microvm", "q35"} {
		t.Run(machine, func(t *testing.T) {
			r := run(t, "-M", machine, "-n", "user", prog, "fetch", fmt.Sprintf("http://10.0.2.2:%d/from-guest", port))
			if r.status != 0 || !strings.Contains(r.out, "status 200") || !strings.Contains(r.out, "for /from-guest") {
				t.Fatalf("status %d", r.status)
			}
			// The card's interrupt is wired (else the kernel says so and polls).
			if strings.Contains(r.out, "is polled") {
				t.Fatal("the network card has no interrupt")
			}
		})
	}
}

func TestNetLoopback(t *testing.T) {
	r := run(t, example(t, "nethttp"), "loopback")
	for _, want := range []string{"http 127.0.0.1:", "http [::1]:", "tcp echo: 100000 bytes", "udp: ok", "localhost: [127.0.0.1 ::1]", "interface lo 65536  up|loopback|running [127.0.0.1/8 ::1/128]"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("no %q in the output", want)
		}
	}
	if r.status != 0 {
		t.Fatalf("status %d", r.status)
	}
}

// TestNetStress runs 200 Go HTTP clients at once against a server in the
// same guest, 10 requests each (400 sockets open together, epoll under
// load). Through qemu/run -p the host side is QEMU's own listener, whose
// backlog of 1 makes bursts of host connections stall in the host's
// TCP, so the load runs inside the guest.
func TestNetStress(t *testing.T) {
	r := run(t, "-m", "512M", example(t, "nethttp"), "stress", "200", "local")
	if r.status != 0 || !strings.Contains(r.out, "stress: 2000 requests, 0 errors") {
		t.Fatalf("status %d", r.status)
	}
}
