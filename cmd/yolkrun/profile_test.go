package main

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

// TestProfileRoundTrip feeds the collector the kernel's records for
// samples in a small C program (as if the guest ran it as a PIE at a
// load bias), writes the pprof profile and reads it back with the pprof
// library: the functions and lines, the [kernel] frames, the period and
// the lost samples must come through.
func TestProfileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "prog.c")
	os.WriteFile(src, []byte("__attribute__((noinline)) int leaf(int x) { return x * 3; }\n"+
		"int main(int c, char **v) { return leaf(c) + 1; }\n"), 0o644)
	exe := filepath.Join(dir, "prog")
	if out, err := exec.Command("gcc", "-O1", "-g", "-fpie", "-pie", "-o", exe, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc (scripts/setup installs it): %v\n%s", err, out)
	}
	const bias = 0x555555554000
	leaf, caller := bias+symbolAddr(t, exe, "leaf")+1, bias+symbolAddr(t, exe, "main")+5
	lo, hi := min(leaf, caller)&^0xfff, (max(leaf, caller)+0x1000)&^0xfff
	// Kernel frames are named from the kernel's file: a Go program built
	// here stands in (linked where it runs, as the kernel is), its
	// main.handler the kernel function sampled.
	kdir := filepath.Join(dir, "kernel")
	os.Mkdir(kdir, 0o755)
	os.WriteFile(filepath.Join(kdir, "go.mod"), []byte("module k\n"), 0o644)
	os.WriteFile(filepath.Join(kdir, "main.go"), []byte("package main\n\n//go:noinline\nfunc handler() int { return 7 }\n\nfunc main() { println(handler()) }\n"), 0o644)
	self := filepath.Join(dir, "kernel.elf")
	build := exec.Command("go", "build", "-o", self, ".")
	build.Dir, build.Env = kdir, append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	kfn := symbolAddr(t, self, "main.handler")
	records := fmt.Sprintf("P 10000000\nE 7 %x %x %x /guest/prog\nS 7 u 0 %x %x\nS 7 s 0 %x %x\nS 7 u 0 %x\nS 7 f 0 123\nS 7 s 0 %x k %x\nD 2\nC 3000 5 7000 1000000\n",
		lo, hi, bias, leaf, caller, leaf, caller, leaf, leaf, kfn+4)
	c := newProfCollector(self)
	for b := []byte(records); len(b) > 0; { // in pieces, as frames come
		n := min(len(b), 7)
		c.Write(b[:n])
		b = b[n:]
	}
	p, err := c.profile(func(g string) string {
		if g == "/guest/prog" {
			return exe
		}
		return g
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	q, err := profile.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if q.Period != 10000000 || q.PeriodType.Type != "cpu" || q.PeriodType.Unit != "nanoseconds" {
		t.Errorf("period %d %v", q.Period, q.PeriodType)
	}
	if !slices.ContainsFunc(q.Comments, func(s string) bool { return strings.HasPrefix(s, "2 samples lost") }) {
		t.Errorf("comments %q lack the lost samples", q.Comments)
	}
	if !slices.Contains(q.Comments, "yolk profiler cost: 3000 5 7000 1000000 (1.000% of the run: 3000 ns in 5 timer interrupts, 7000 ns draining, of 1000000 ns)") {
		t.Errorf("comments %q lack the cost", q.Comments)
	}
	var got []string
	for _, s := range q.Sample {
		var names []string
		for _, l := range s.Location {
			for _, ln := range l.Line {
				names = append(names, ln.Function.Name)
			}
			if len(l.Line) == 0 {
				names = append(names, fmt.Sprintf("%#x", l.Address))
			}
		}
		got = append(got, fmt.Sprintf("%v %v pid=%v", strings.Join(names, " < "), s.Value, s.NumLabel["pid"]))
	}
	want := []string{
		"leaf < main [1 10000000] pid=[7]",
		"[kernel] syscall read < leaf < main [1 10000000] pid=[7]",
		"leaf [1 10000000] pid=[7]",
		"[kernel] page fault < 0x123 [1 10000000] pid=[7]",
		"main.handler < [kernel] syscall read < leaf [1 10000000] pid=[7]",
	}
	if !slices.Equal(got, want) {
		t.Errorf("samples:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Line numbers come from the program's DWARF.
	for _, l := range q.Location {
		if len(l.Line) > 0 && l.Line[0].Function.Name == "leaf" && (l.Line[0].Line != 1 || l.Line[0].Function.Filename != src) {
			t.Errorf("leaf at %s:%d, want %s:1", l.Line[0].Function.Filename, l.Line[0].Line, src)
		}
	}
}

func TestProfileBadRecords(t *testing.T) {
	c := newProfCollector("")
	c.Write([]byte("S 1 u 0 zz\nQ\nM 1 2\n"))
	if c.bad != 3 {
		t.Errorf("%d bad records, want 3", c.bad)
	}
	if _, err := c.profile(func(g string) string { return g }); err == nil {
		t.Error("a stream without a period made a profile")
	}
}

// TestProfileStripped: without symbols, a function is named by its file
// and its start from .eh_frame_hdr, so samples still add up per
// function.
func TestProfileStripped(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "prog.c")
	os.WriteFile(src, []byte("__attribute__((noinline)) int leaf(int x) { return x * 3; }\n"+
		"int main(int c, char **v) { return leaf(c) + 1; }\n"), 0o644)
	exe, stripped := filepath.Join(dir, "prog"), filepath.Join(dir, "stripped")
	if out, err := exec.Command("gcc", "-O1", "-o", exe, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	if out, err := exec.Command("strip", "-o", stripped, exe).CombinedOutput(); err != nil {
		t.Fatalf("strip: %v\n%s", err, out)
	}
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	var leaf uint64
	syms, _ := f.Symbols()
	for _, s := range syms {
		if s.Name == "leaf" {
			leaf = s.Value
		}
	}
	f.Close()
	sf := loadSymbols(stripped)
	if sf == nil || len(sf.syms) != 0 {
		t.Fatalf("stripped file's symbols: %+v", sf)
	}
	if got, want := sf.name(leaf+2), fmt.Sprintf("stripped+%#x", leaf); got != want {
		t.Errorf("name %q, want %q", got, want)
	}
}

// symbolAddr is the address of function name in the ELF file at path.
func symbolAddr(t *testing.T, path, name string) uint64 {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name == name {
			return s.Value
		}
	}
	t.Fatalf("%s has no symbol %s", path, name)
	return 0
}
