package tests

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runStreams runs qemu/run with stdin and returns stdout and stderr
// apart.
func runStreams(t *testing.T, stdin io.Reader, flags ...string) (stdout, stderr []byte, status int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := append([]string{"-q", "-A", "tcg", "-k", filepath.Join(root, "build/kernel.elf"), "-T", "240"}, flags...)
	cmd := exec.CommandContext(ctx, filepath.Join(root, "qemu/run"), args...)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		status = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("qemu/run %v: %v", flags, err)
	}
	t.Logf("qemu/run %s -> %d; stdout %d bytes, stderr:\n%s", strings.Join(flags, " "), status, out.Len(), errb.String())
	return out.Bytes(), errb.Bytes(), status
}

func busybox(t *testing.T) string {
	p, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox not installed (scripts/setup installs busybox-static)")
	}
	return p
}

var machines = []string{"microvm", "q35"}

// TestStreamsStdin: piped stdin reaches the program and ends; /dev/null
// ends at once; a large stdin arrives whole.
func TestStreamsStdin(t *testing.T) {
	bb := busybox(t)
	big := make([]byte, 10_000_000)
	rand.Read(big)
	for _, m := range machines {
		t.Run(m, func(t *testing.T) {
			t.Parallel()
			out, _, st := runStreams(t, strings.NewReader("hello\n"), "-M", m, bb, "cat")
			if st != 0 || string(out) != "hello\n" {
				t.Errorf("echo hello | cat: status %d, stdout %q", st, out)
			}
			devnull, err := os.Open(os.DevNull)
			if err != nil {
				t.Fatal(err)
			}
			defer devnull.Close()
			start := time.Now()
			out, _, st = runStreams(t, devnull, "-M", m, bb, "cat")
			if st != 0 || len(out) != 0 {
				t.Errorf("cat </dev/null: status %d, stdout %q", st, out)
			}
			if d := time.Since(start); d > 60*time.Second {
				t.Errorf("cat </dev/null took %v: no end of file?", d)
			}
			out, _, st = runStreams(t, bytes.NewReader(big), "-M", m, bb, "wc", "-c")
			if st != 0 || strings.TrimSpace(string(out)) != "10000000" {
				t.Errorf("wc -c of 10 MB: status %d, stdout %q", st, out)
			}
		})
	}
}

// TestStreamsBinaryOutput: gzip's output through stdout is the host's,
// byte for byte.
func TestStreamsBinaryOutput(t *testing.T) {
	bb := busybox(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(bb) // binary input with every byte value
	if err := os.WriteFile(filepath.Join(dir, "data"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", bb, filepath.Join(dir, "bin/busybox")).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	want, err := exec.Command(bb, "gzip", "-c", filepath.Join(dir, "data")).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range machines {
		t.Run(m, func(t *testing.T) {
			t.Parallel()
			out, _, st := runStreams(t, nil, "-M", m, "-i", dir, "/bin/busybox", "gzip", "-c", "/data")
			if st != 0 || !bytes.Equal(out, want) {
				t.Errorf("gzip -c: status %d, %d bytes, want the host's %d bytes", st, len(out), len(want))
			}
		})
	}
}

// TestStreamsSeparate: stdout holds only the program's stdout; stderr,
// strace lines and kernel notices go to stderr; fds 0-2 are no terminal;
// arguments arrive exactly.
func TestStreamsSeparate(t *testing.T) {
	bb := busybox(t)
	for _, m := range machines {
		t.Run(m, func(t *testing.T) {
			t.Parallel()
			script := `echo out; echo err >&2; [ -t 0 ] || [ -t 1 ] || echo notty; printf '[%s]' "$@"`
			out, errb, st := runStreams(t, nil, "-M", m, "-o", "strace bogus-option", bb, "sh", "-c", script, "sh",
				"a b", `"q"`, "$HOME", "", "x\ny")
			if st != 0 {
				t.Errorf("status %d", st)
			}
			if want := "out\nnotty\n[a b][\"q\"][$HOME][][x\ny]"; string(out) != want {
				t.Errorf("stdout %q, want %q", out, want)
			}
			for _, w := range []string{"err\n", "write(1, ", `yolk: ignoring unknown option "bogus-option"`} {
				if !bytes.Contains(errb, []byte(w)) {
					t.Errorf("stderr lacks %q", w)
				}
			}
		})
	}
}
