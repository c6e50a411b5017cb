package tests

import (
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// busybox's own network tools in the guest, against the host: httpd
// serving a file to the host through -p, byte for byte, and wget fetching
// one from a host server through 10.0.2.2.

// busyboxRoot is a cpio root with busybox and its applets under /bin,
// and a 1 MiB file of random bytes at /www/file, which it returns.
func busyboxRoot(t *testing.T) (dir string, file []byte) {
	t.Helper()
	const bb = "/bin/busybox"
	if _, err := os.Stat(bb); err != nil {
		t.Fatalf("%s missing (install busybox-static; scripts/setup does): %v", bb, err)
	}
	dir = t.TempDir()
	copyFile(t, bb, filepath.Join(dir, "bin/busybox"))
	for _, a := range []string{"sh", "httpd", "wget", "sha256sum"} {
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", a)); err != nil {
			t.Fatal(err)
		}
	}
	file = make([]byte, 1<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range file {
		file[i] = byte(r.Uint32())
	}
	if err := os.MkdirAll(filepath.Join(dir, "www"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "www/file"), file, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, file
}

// TestNetBusyboxHTTPD: busybox httpd in the guest serves a 1 MiB file to
// the host byte for byte.
func TestNetBusyboxHTTPD(t *testing.T) {
	dir, want := busyboxRoot(t)
	port := freePort(t)
	startRun(t, "-i", dir, "-p", fmt.Sprintf("%d:80", port), "-o", "init=/bin/httpd", "-a", "-f -p 80 -h /www")
	c := &http.Client{Timeout: 30 * time.Second}
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/file", port))
		if err == nil {
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("GET /file: status %d, %d bytes, %v", resp.StatusCode, len(got), err)
			}
			if sha256.Sum256(got) != sha256.Sum256(want) {
				t.Fatalf("GET /file: %d bytes, not the file's %d", len(got), len(want))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("busybox httpd never answered: %v", err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// TestNetBusyboxWget: busybox wget in the guest fetches a 1 MiB file from
// a server on the host (10.0.2.2) and its SHA-256 is the host's.
func TestNetBusyboxWget(t *testing.T) {
	dir, file := busyboxRoot(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(file)
	})}
	go srv.Serve(l)
	defer srv.Close()
	port := l.Addr().(*net.TCPAddr).Port
	r := run(t, "-i", dir, "-n", "user", "-o", "init=/bin/sh", "-a",
		fmt.Sprintf(`-c "wget -q -O /tmp/f http://10.0.2.2:%d/file && sha256sum /tmp/f"`, port))
	want := fmt.Sprintf("%x  /tmp/f\n", sha256.Sum256(file))
	if r.status != 0 || !strings.Contains(r.out, want) {
		t.Fatalf("status %d, output %q; want %q", r.status, r.out, want)
	}
}
