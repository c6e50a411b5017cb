package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

// topFunctions reads a pprof profile and returns its functions by flat
// samples (the leaf frame's function), most first, with the counts; and
// checks that go tool pprof -top reads it too.
func topFunctions(t *testing.T, file string) ([]string, map[string]int, int) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("no profile: %v", err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatalf("profile.Parse: %v", err)
	}
	flat := map[string]int{}
	for _, s := range p.Sample {
		name := "?"
		switch {
		case len(s.Location) == 0:
		case len(s.Location[0].Line) > 0:
			name = s.Location[0].Line[0].Function.Name
		case s.Location[0].Mapping != nil:
			// No symbol: pprof -top names the place by its file.
			name = "[" + filepath.Base(s.Location[0].Mapping.File) + "]"
		}
		flat[name] += int(s.Value[0])
	}
	var names []string
	for n := range flat {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return flat[names[i]] > flat[names[j]] })
	out, err := exec.Command("go", "tool", "pprof", "-top", file).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool pprof -top: %v\n%s", err, out)
	}
	t.Logf("go tool pprof -top:\n%s", out)
	if len(names) > 0 && !strings.Contains(string(out), names[0]) {
		t.Errorf("go tool pprof -top does not show %s", names[0])
	}
	return names, flat, len(p.Sample)
}

// TestProfileLua: a CPU-bound Lua loop (examples/lua: Debian's liblua5.4
// in a dynamically linked interpreter) spends its time in the
// interpreter's luaV_execute, and the profile says so.
func TestProfileLua(t *testing.T) {
	t.Parallel()
	mk := exec.Command("make", "-C", root, "examples")
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make examples: %v\n%s", err, out)
	}
	dir := t.TempDir()
	script, err := os.ReadFile(filepath.Join(root, "examples/lua/loop.lua"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "loop.lua"), script, 0o644)
	prof := filepath.Join(t.TempDir(), "p.pb.gz")
	r := run(t, "-v", dir+":/w:ro", "-w", "/w", "--profile", prof, "lua", "loop.lua", "3000000")
	if r.status != 0 || r.out != "8999997\n" {
		t.Fatalf("status %d, output %q; want 0, \"8999997\\n\"", r.status, r.out)
	}
	names, flat, n := topFunctions(t, prof)
	if n < 20 || names[0] != "luaV_execute" || flat["luaV_execute"]*2 < n {
		t.Errorf("%d samples, flat %v: want luaV_execute on top with at least half", n, flat)
	}
}

// TestProfileSyscall: a program that spends its time in read(2) of
// /dev/urandom (the kernel makes the bytes) shows "[kernel] syscall read"
// on its stack, and above it the kernel's own frames where the kernel
// was, named from the kernel's ELF file: the system call's handler.
func TestProfileSyscall(t *testing.T) {
	t.Parallel()
	prof := filepath.Join(t.TempDir(), "p.pb.gz")
	r := run(t, "--profile", prof, "busybox", "dd", "if=/dev/urandom", "of=/dev/null", "bs=1M", "count=20")
	if r.status != 0 || !strings.Contains(r.out, "20+0 records out") {
		t.Fatalf("status %d, output %q", r.status, r.out)
	}
	_, flat, n := topFunctions(t, prof)
	f, err := os.Open(prof)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	inRead, handler := 0, 0
	for _, s := range p.Sample {
		var names []string
		for _, l := range s.Location {
			for _, ln := range l.Line {
				names = append(names, ln.Function.Name)
			}
		}
		i := slices.Index(names, "[kernel] syscall read")
		if i < 0 {
			continue
		}
		inRead++
		if slices.Contains(names[:i], "yolk/syscallshim.sysRead") {
			handler++
		}
	}
	if n < 20 || inRead*2 < n || handler*2 < inRead {
		t.Errorf("%d samples, %d in read, %d of them with the kernel's frames up to yolk/syscallshim.sysRead (flat %v): want at least half each", n, inRead, handler, flat)
	}
}

// TestProfileProcesses samples fast (1000 Hz) while processes fork, exec
// and exit and threads come and go: the kernel follows a thread's Context
// and address space from the timer interrupt while it runs a system call,
// and both are freed at exit and exec (kernel.ForgetUser). A sample taken
// after that would fault in the trap handler (status 112).
func TestProfileProcesses(t *testing.T) {
	t.Parallel()
	dir := processRoot(t)
	copyFile(t, example(t, "threads"), filepath.Join(dir, "threads"))
	prof := filepath.Join(t.TempDir(), "p.pb.gz")
	r := run(t, "-i", dir, "--profile-hz", "1000", "--profile", prof, "/bin/sh", "-c",
		`i=0; while [ $i -lt 150 ]; do /bin/true; i=$((i+1)); done; for j in 1 2 3 4 5; do /threads >/dev/null; done; echo done $i`)
	if r.status != 0 || r.out != "done 150\n" {
		t.Fatalf("status %d, output %q; want 0, \"done 150\\n\"", r.status, r.out)
	}
	_, flat, n := topFunctions(t, prof)
	if n < 20 {
		t.Errorf("%d samples (%v)", n, flat)
	}
}
