package tests

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
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
	// SIGTERM: the runner stops QEMU (its own process group, holding
	// the output pipe) and exits with 143.
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); wait() })
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

// echoSize is how much the echo tests stream through a guest server.
const echoSize = 100 << 20

// waitEcho dials addr until a server behind QEMU's forward echoes a
// probe (QEMU accepts the host's connection before the guest listens,
// then drops it), for up to 90 seconds.
func waitEcho(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		err := func() error {
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				return err
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Write([]byte("ping\n")); err != nil {
				return err
			}
			b := make([]byte, 5)
			if _, err := io.ReadFull(c, b); err != nil {
				return err
			}
			if string(b) != "ping\n" {
				return fmt.Errorf("probe echoed %q", b)
			}
			return nil
		}()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no echo server at %s: %v", addr, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// streamEcho sends n pseudo-random bytes to an echo server at addr
// while reading the echo, and checks that the SHA-256 of what came back
// is that of what went out. It closes only after reading all n bytes:
// QEMU 7.2's user networking (libslirp) was seen to drop the last few
// KB it still buffered when a FIN arrived (a capture showed its FIN to
// the guest 974 bytes short of what the host had written), in either
// direction, so the stream ends with nothing in flight.
func streamEcho(t *testing.T, addr string, n int) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(4 * time.Minute))
	start := time.Now()
	sent := make(chan []byte, 1)
	go func() {
		h := sha256.New()
		r := rand.New(rand.NewPCG(1, 2))
		buf := make([]byte, 64<<10)
		for left := n; left > 0; {
			k := min(left, len(buf))
			for i := 0; i < k; i += 8 {
				binary.LittleEndian.PutUint64(buf[i:], r.Uint64())
			}
			h.Write(buf[:k])
			if _, err := c.Write(buf[:k]); err != nil {
				t.Errorf("write: %v", err)
				break
			}
			left -= k
		}
		sent <- h.Sum(nil)
	}()
	h := sha256.New()
	got, err := io.CopyN(h, c, int64(n))
	if err != nil {
		t.Fatalf("read the echo: %v after %d bytes", err, got)
	}
	want := <-sent
	if !bytes.Equal(h.Sum(nil), want) {
		t.Fatalf("echoed %d bytes, sha256 %x, want %x", got, h.Sum(nil), want)
	}
	el := time.Since(start)
	t.Logf("%d MB echoed in %v (%.1f MB/s each way)", n>>20, el.Round(time.Millisecond), float64(n)/(1<<20)/el.Seconds())
}

// TestNetEchoC streams 100 MB through a C echo server in the guest (a
// non-blocking listener and connections on one edge-triggered epoll
// instance: examples/netc) and checks every byte by SHA-256.
func TestNetEchoC(t *testing.T) {
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	wait := startRun(t, "-p", fmt.Sprintf("%d:7000", port), example(t, "netc"), "echo", "7000", fmt.Sprint(echoSize))
	waitEcho(t, addr)
	streamEcho(t, addr, echoSize)
	r := wait()
	if want := fmt.Sprintf("echo: a connection of %d bytes, then end of file\n", echoSize); r.status != 0 || !strings.Contains(r.out, want) {
		t.Fatalf("status %d; want %q in the output", r.status, want)
	}
}

// TestNetEchoBusybox streams 100 MB through busybox nc in the guest,
// which runs cat on each connection (nc -ll -e cat; it never exits: the
// cleanup stops the VM).
func TestNetEchoBusybox(t *testing.T) {
	dir := processRoot(t)
	if err := os.Symlink("busybox", filepath.Join(dir, "bin", "nc")); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	startRun(t, "-i", dir, "-p", fmt.Sprintf("%d:7001", port), "-o", "init=/bin/nc", "-a", "-ll -p 7001 -e /bin/cat")
	waitEcho(t, addr)
	streamEcho(t, addr, echoSize)
}

// TestNetUnix runs examples/netc's AF_UNIX checks (data and a descriptor
// over a socketpair and a named socket in /tmp, peers that vanish over
// AF_UNIX and TCP) and compares with what Linux printed for them.
func TestNetUnix(t *testing.T) {
	r := run(t, example(t, "netc"), "unix")
	expect(t, r, 0, netcUnixOut)
}

// netcUnixOut is what `netc unix` prints on Linux 6.1.
const netcUnixOut = `socketpair parent: "a pipe for you" with a descriptor
socketpair parent: read 21 bytes through the passed descriptor: hello through a pipe
socketpair child: parent says "thanks"
socketpair: child exited 0
named server: "a file for you" with a descriptor
named server: read 28 bytes through the passed descriptor: a file written by the child
named child: server says "bye"
named: child exited 0
unix read after the peer closed with unread data: -1 ECONNRESET
unix read again: 0
unix write, SIGPIPE ignored: -1 EPIPE
unix send MSG_NOSIGNAL: -1 EPIPE
unix write, SIGPIPE default: child killed by signal 13
tcp poll after the reset: POLLIN POLLERR POLLHUP
tcp read after the peer reset: -1 ECONNRESET
tcp read again: 0
tcp send MSG_NOSIGNAL: -1 EPIPE
unix: done
`

// TestNetTap gives the guest a card on a tap device (qemu/run -n
// tap=IFNAME) with its own address, and a host client reaches its Go
// HTTP server there directly, without QEMU's user networking. Making the
// device needs root (CAP_NET_ADMIN) and ip(8): without them the test
// fails under YOLK_REQUIRE_QEMU=1 unless YOLK_NO_TAP=1 says the machine
// cannot.
func TestNetTap(t *testing.T) {
	name := fmt.Sprintf("yolkt%d", os.Getpid()%100000)
	net3 := fmt.Sprintf("10.77.%d", os.Getpid()%250) // another run's device may exist
	steps := [][]string{
		{"ip", "tuntap", "add", "dev", name, "mode", "tap"},
		{"ip", "addr", "add", net3 + ".1/24", "dev", name},
		{"ip", "link", "set", name, "up"},
	}
	for i, s := range steps {
		if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
			msg := fmt.Sprintf("cannot make a tap device (%s: %v %s): needs root and iproute2", strings.Join(s, " "), err, bytes.TrimSpace(out))
			if os.Getenv("YOLK_REQUIRE_QEMU") == "1" && os.Getenv("YOLK_NO_TAP") != "1" {
				t.Fatal(msg + "; set YOLK_NO_TAP=1 where the machine cannot")
			}
			t.Skip(msg)
		}
		if i == 0 {
			t.Cleanup(func() { exec.Command("ip", "link", "del", name).Run() })
		}
	}
	wait := startRun(t, "-n", "tap="+name, "-o", "net.ip="+net3+".2/24 net.gw="+net3+".1", example(t, "nethttp"), "serve", "8080")
	c := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := c.Get("http://" + net3 + ".2:8080/hello")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.HasPrefix(string(b), "hello from yolk, "+net3+".1:") {
				t.Fatalf("body %q", b)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the guest server never answered on the tap device: %v", err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if resp, err := c.Get("http://" + net3 + ".2:8080/quit"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	if r := wait(); r.status != 0 || !strings.Contains(r.out, "served") {
		t.Fatalf("status %d", r.status)
	}
}

// TestNetDNS resolves a name from /etc/hosts and a name through QEMU's
// DNS forwarder (10.0.2.3, which asks the host's resolver) with glibc's,
// musl's and Go's resolvers (examples/netc built with each C library,
// examples/nethttp). The DNS name is one the host itself resolves now
// (this is checked first); the guest's addresses must be among the
// host's answers. A name under .invalid must not resolve (RFC 6761).
func TestNetDNS(t *testing.T) {
	lookup := func(name string) []string {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ips, _ := net.DefaultResolver.LookupIP(ctx, "ip4", name)
		var s []string
		for _, ip := range ips {
			s = append(s, ip.String())
		}
		return s
	}
	var name string
	var hostAddrs []string
	for _, n := range []string{"deb.debian.org", "proxy.golang.org"} {
		if hostAddrs = lookup(n); len(hostAddrs) > 0 {
			name = n
			break
		}
	}
	if name == "" {
		msg := "the host resolves neither deb.debian.org nor proxy.golang.org: no name to ask QEMU's DNS for"
		if os.Getenv("YOLK_REQUIRE_QEMU") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	copyFile(t, "/bin/busybox", filepath.Join(dir, "bin/busybox"))
	if err := os.Symlink("busybox", filepath.Join(dir, "bin/sh")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"netc", "netc-musl", "nethttp"} {
		copyFile(t, example(t, p), filepath.Join(dir, p))
	}
	names := "yolk-test.example " + name + " nonexistent.invalid"
	writeTree(t, dir, map[string]string{
		"etc/hosts": "127.0.0.1\tlocalhost\n10.1.2.3\tyolk-test.example\n",
		"dns.sh":    "#!/bin/sh\nfor r in netc netc-musl nethttp; do echo \"== $r\"; /$r resolve " + names + "; done\necho end\n",
	})
	if err := os.Chmod(filepath.Join(dir, "dns.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := run(t, "-n", "user", "-i", dir, "-o", "init=/dns.sh")
	if r.status != 0 {
		t.Errorf("status %d", r.status)
	}
	hostAddrs = append(hostAddrs, lookup(name)...) // a CDN may rotate its answers
	sections := strings.Split(r.out, "== ")
	if len(sections) != 4 {
		t.Fatalf("want three resolvers' output")
	}
	for i, notFound := range []string{"Name or service not known", "Name does not resolve", "no such host"} {
		s := sections[i+1]
		who, _, _ := strings.Cut(s, "\n")
		if !strings.Contains(s, "\nyolk-test.example: 10.1.2.3\n") {
			t.Errorf("%s: the /etc/hosts name did not resolve to 10.1.2.3", who)
		}
		_, rest, ok := strings.Cut(s, "\n"+name+": ")
		got, _, _ := strings.Cut(rest, "\n")
		addrs := strings.Fields(got)
		if !ok || len(addrs) == 0 {
			t.Errorf("%s: %s did not resolve through QEMU's DNS", who, name)
		}
		for _, a := range addrs {
			if !slices.Contains(hostAddrs, a) {
				t.Errorf("%s: %s resolved to %s, which the host's resolver does not give (%v)", who, name, a, hostAddrs)
			}
		}
		if !strings.Contains(s, "nonexistent.invalid: ") || !strings.Contains(s, notFound) {
			t.Errorf("%s: nonexistent.invalid: want %q", who, notFound)
		}
	}
}

// TestNetSendThenExit: a guest program connects to the host, writes 4 MB,
// closes and exits at once; everything it wrote reaches the host before
// the machine powers off (the kernel waits for connections to deliver,
// as Linux keeps sending after a process exits).
func TestNetSendThenExit(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const n = 4 << 20
	got := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- err
			return
		}
		defer c.Close()
		b, err := io.ReadAll(c)
		if err != nil {
			got <- fmt.Errorf("after %d bytes: %v", len(b), err)
			return
		}
		if len(b) != n {
			got <- fmt.Errorf("%d bytes of %d arrived", len(b), n)
			return
		}
		for i := range b {
			if b[i] != byte(i*7) {
				got <- fmt.Errorf("byte %d is %#x", i, b[i])
				return
			}
		}
		got <- nil
	}()
	port := l.Addr().(*net.TCPAddr).Port
	r := run(t, "-n", "user", example(t, "netc"), "send", "10.0.2.2", fmt.Sprint(port), fmt.Sprint(n))
	expect(t, r, 0, fmt.Sprintf("send: %d bytes written, exiting\n", n))
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the host never saw the connection end")
	}
}

// TestNetLoad: through qemu/run -p, the Go HTTP server in the guest
// serves 10,000 requests from ab (10 at a time, a new connection each)
// with no failure, then 1,000 keep-alive connections at once from wrk
// for 10 s, and still answers afterwards. (ab's own -c 1000 is not used:
// QEMU's user networking accepts forwarded connections with a backlog of
// 1 and resets some of a thousand simultaneous connects; see README.)
func TestNetLoad(t *testing.T) {
	for _, tool := range []string{"ab", "wrk"} {
		if _, err := exec.LookPath(tool); err != nil {
			msg := tool + " not found (apache2-utils, wrk: scripts/setup installs them)"
			if os.Getenv("YOLK_REQUIRE_QEMU") == "1" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	port := freePort(t)
	wait := startRun(t, "-m", "512M", "-p", fmt.Sprintf("%d:8080", port), example(t, "nethttp"), "serve", "8080")
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitHTTP(t, base+"/hello")
	out, err := exec.Command("ab", "-q", "-s", "60", "-n", "10000", "-c", "10", base+"/hello").CombinedOutput()
	if err != nil {
		t.Fatalf("ab: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("Complete requests:      10000\n")) || !bytes.Contains(out, []byte("Failed requests:        0\n")) {
		t.Fatalf("ab did not complete 10,000 requests without failure:\n%s", out)
	}
	out, err = exec.Command("wrk", "-t", "2", "-c", "1000", "-d", "10s", "--timeout", "20s", base+"/hello").CombinedOutput()
	if err != nil {
		t.Fatalf("wrk: %v\n%s", err, out)
	}
	t.Logf("wrk -c 1000:\n%s", out)
	// Connection, read and write errors fail the test; requests slower
	// than wrk's 20 s timeout are only logged (TCG on a loaded machine).
	var served, cerr, rerr, werr, terr int
	for _, line := range strings.Split(string(out), "\n") {
		fmt.Sscanf(strings.TrimSpace(line), "%d requests in", &served)
		fmt.Sscanf(strings.TrimSpace(line), "Socket errors: connect %d, read %d, write %d, timeout %d", &cerr, &rerr, &werr, &terr)
	}
	if bytes.Contains(out, []byte("Non-2xx")) || cerr+rerr+werr > 0 || served < 1000 {
		t.Errorf("wrk -c 1000: %d requests served, errors: connect %d, read %d, write %d; or non-2xx answers", served, cerr, rerr, werr)
	}
	waitHTTP(t, base+"/hello")
	if resp, err := http.Get(base + "/quit"); err == nil {
		resp.Body.Close()
	}
	if r := wait(); r.status != 0 || !strings.Contains(r.out, "served") {
		t.Fatalf("status %d", r.status)
	}
}

// waitHTTP gets url until it answers 200, for up to 90 seconds.
func waitHTTP(t *testing.T, url string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := c.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered: %v", url, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}
