package main

import (
	"debug/elf"
	"os"
	"path/filepath"
	"testing"

	"yolk/elfload/elftest"
)

func TestMemBytes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"256M", 256 << 20, true}, {"16m", 16 << 20, true}, {"1G", 1 << 30, true}, {"1.5G", 3 << 29, true},
		{"512", 512 << 20, true}, {"8192K", 8 << 20, true}, {"1T", 1 << 40, true},
		{"size=1G", 0, false}, {"", 0, false}, {"M", 0, false}, {"-1M", 0, false}, {"0", 0, false},
	} {
		got, ok := memBytes(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("memBytes(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// The runner refuses a -m the kernel image does not fit in, with one line
// and the kernel's status for too little memory, and lets larger ones
// (and forms it does not parse) through to the kernel's own check.
func TestCheckMemory(t *testing.T) {
	// Two segments, as the kernel has: the image ends at 11 MiB.
	img := elftest.Build(elf.ET_EXEC, 0x200000, 0x1000,
		elftest.Prog{Type: elf.PT_LOAD, Off: 0, Vaddr: 0x200000, Filesz: 0x1000, Memsz: 0x400000, Align: 0x1000},
		elftest.Prog{Type: elf.PT_LOAD, Off: 0, Vaddr: 0x600000, Filesz: 0x1000, Memsz: 0x500000, Align: 0x1000})
	kernel := filepath.Join(t.TempDir(), "kernel.elf")
	if err := os.WriteFile(kernel, img, 0o644); err != nil {
		t.Fatal(err)
	}
	if end, err := imageEnd(kernel); end != 11<<20 || err != nil {
		t.Fatalf("imageEnd = %#x, %v; want 11 MiB", end, err)
	}
	err := checkMemory(kernel, "10M")
	f, ok := err.(*failure)
	if !ok || f.status != exitNoMemory {
		t.Fatalf("checkMemory(10M) = %v, want a failure with status %d", err, exitNoMemory)
	}
	want := "-m 10M is too little memory: the kernel image alone (" + kernel + ") ends at 11.0 MiB"
	if f.msg != want {
		t.Errorf("message %q, want %q", f.msg, want)
	}
	for _, m := range []string{"11M", "1G", "size=1G"} {
		if err := checkMemory(kernel, m); err != nil {
			t.Errorf("checkMemory(%s) = %v", m, err)
		}
	}
}
