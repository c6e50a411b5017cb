package pvhnote

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

const (
	testBase   = 0xffffffff80000000
	testSymbol = "main.entry"
)

var testFiles = map[string]string{
	"go.mod": "module t\n\ngo 1.26\n",
	"main.go": `package main

func entry()

// keep references entry so the linker retains it.
var keep = entry

// scratch is a large pointer-free bss buffer: the linker sorts bss by
// size, so it comes last (TrimTail's case).
var scratch [1 << 22]byte

var keepScratch = &scratch

func main() {
	if keep == nil || keepScratch == nil {
		println("unreachable")
	}
}
`,
	"entry_amd64.s": `#include "textflag.h"

TEXT ·entry(SB),NOSPLIT|NOFRAME,$0
	HLT
`,
}

// buildTestELF builds a tiny higher-half Go program the same way the kernel is
// built and returns the ELF bytes.
func buildTestELF(tb testing.TB) []byte {
	tb.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		tb.Skipf("go tool not available: %v", err)
	}
	dir := tb.TempDir()
	for name, content := range testFiles {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	out := filepath.Join(dir, "t.elf")
	cmd := exec.Command(goBin, "build", "-ldflags", "-T -2145382400", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0",
		"GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS=",
	)
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("building test ELF: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func symbolValue(t *testing.T, f *elf.File, name string) uint64 {
	t.Helper()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name == name {
			return s.Value
		}
	}
	t.Fatalf("symbol %s not found", name)
	return 0
}

func TestPatch(t *testing.T) {
	orig := buildTestELF(t)
	origCopy := bytes.Clone(orig)

	of, err := elf.NewFile(bytes.NewReader(orig))
	if err != nil {
		t.Fatal(err)
	}
	asmEntry := symbolValue(t, of, testSymbol+".abi0")
	wantPhys := asmEntry - testBase

	patched, phys, err := Patch(orig, testSymbol, testBase)
	if err != nil {
		t.Fatalf("Patch: %v", err)
	}
	if !bytes.Equal(orig, origCopy) {
		t.Fatal("Patch modified its input")
	}

	t.Run("entry", func(t *testing.T) {
		if phys != wantPhys {
			t.Fatalf("entryPhys = %#x, want %#x (%s.abi0 - base)", phys, wantPhys, testSymbol)
		}
		// The ABI0 (assembly) function, not the ABIInternal wrapper, must
		// be chosen: its first byte is HLT.
		text := of.Section(".text")
		if text == nil {
			t.Fatal("no .text")
		}
		off := text.Offset + (asmEntry - text.Addr)
		if orig[off] != 0xf4 {
			t.Fatalf("byte at entry = %#x, want HLT (0xf4)", orig[off])
		}
		// The exact .abi0 name yields the same result.
		_, phys2, err := Patch(orig, testSymbol+".abi0", testBase)
		if err != nil || phys2 != wantPhys {
			t.Fatalf("Patch(.abi0 name) = %#x, %v; want %#x", phys2, err, wantPhys)
		}
	})

	t.Run("note", func(t *testing.T) {
		f, err := elf.NewFile(bytes.NewReader(patched))
		if err != nil {
			t.Fatalf("patched file does not parse: %v", err)
		}
		var notes []*elf.Prog
		for _, p := range f.Progs {
			if p.Type == elf.PT_NOTE {
				notes = append(notes, p)
			}
		}
		if len(notes) != 1 {
			t.Fatalf("got %d PT_NOTE headers, want 1", len(notes))
		}
		p := notes[0]
		if p.Align != 4 {
			t.Errorf("PT_NOTE p_align = %d, want 4", p.Align)
		}
		if p.Flags != elf.PF_R || p.Vaddr != 0 || p.Paddr != 0 {
			t.Errorf("PT_NOTE flags/vaddr/paddr = %v/%#x/%#x, want R/0/0", p.Flags, p.Vaddr, p.Paddr)
		}
		if p.Filesz != NoteSize || p.Memsz != NoteSize || p.Off%4 != 0 {
			t.Errorf("PT_NOTE off/filesz/memsz = %#x/%d/%d", p.Off, p.Filesz, p.Memsz)
		}
		data := make([]byte, p.Filesz)
		if _, err := p.ReadAt(data, 0); err != nil {
			t.Fatal(err)
		}
		le := binary.LittleEndian
		namesz, descsz, typ := le.Uint32(data[0:]), le.Uint32(data[4:]), le.Uint32(data[8:])
		if namesz != 4 || descsz != 8 || typ != 18 {
			t.Fatalf("note header namesz/descsz/type = %d/%d/%d, want 4/8/18", namesz, descsz, typ)
		}
		if string(data[12:16]) != "Xen\x00" {
			t.Fatalf("note name = %q", data[12:16])
		}
		// Where QEMU reads the descriptor: 12 + align_up(namesz, p_align).
		descOff := 12 + (uint64(namesz)+p.Align-1)&^(p.Align-1)
		if got := le.Uint64(data[descOff:]); got != wantPhys {
			t.Fatalf("note desc = %#x, want %#x", got, wantPhys)
		}
		if uint64(len(patched)) != p.Off+p.Filesz {
			t.Errorf("note not at end of file: off %#x size %d len %d", p.Off, p.Filesz, len(patched))
		}
		// Apart from the program header table, the original bytes are
		// preserved; only padding and the note are appended.
		phoff := binary.LittleEndian.Uint64(orig[32:])
		phend := phoff + uint64(len(of.Progs))*56
		if !bytes.Equal(patched[:phoff], orig[:phoff]) || !bytes.Equal(patched[phend:len(orig)], orig[phend:]) {
			t.Error("bytes outside the program header table changed")
		}
		if !bytes.Equal(patched[len(orig):p.Off], make([]byte, p.Off-uint64(len(orig)))) {
			t.Error("padding before the note is not zero")
		}
	})

	t.Run("segments", func(t *testing.T) {
		f, err := elf.NewFile(bytes.NewReader(patched))
		if err != nil {
			t.Fatal(err)
		}
		loads := 0
		for i, p := range f.Progs {
			switch p.Type {
			case elf.PT_LOAD, elf.PT_PHDR:
				if p.Type == elf.PT_LOAD {
					loads++
				}
				if p.Paddr != p.Vaddr-testBase {
					t.Errorf("prog %d (%v): paddr %#x, want %#x", i, p.Type, p.Paddr, p.Vaddr-testBase)
				}
				op := of.Progs[i]
				if p.Vaddr != op.Vaddr || p.Off != op.Off || p.Filesz != op.Filesz || p.Memsz != op.Memsz {
					t.Errorf("prog %d changed beyond p_paddr: %+v -> %+v", i, op.ProgHeader, p.ProgHeader)
				}
			}
		}
		if loads == 0 {
			t.Fatal("no PT_LOAD")
		}
		if f.Entry != of.Entry {
			t.Errorf("e_entry changed: %#x -> %#x", of.Entry, f.Entry)
		}
	})

	t.Run("idempotent", func(t *testing.T) {
		again, phys2, err := Patch(patched, testSymbol, testBase)
		if err != nil {
			t.Fatalf("re-Patch: %v", err)
		}
		if phys2 != phys {
			t.Errorf("re-Patch entry %#x, want %#x", phys2, phys)
		}
		if !bytes.Equal(again, patched) {
			t.Errorf("re-Patch changed the file (len %d -> %d)", len(patched), len(again))
		}
	})

	t.Run("errors", func(t *testing.T) {
		mutate := func(fn func(b []byte)) []byte {
			b := bytes.Clone(orig)
			fn(b)
			return b
		}
		cases := []struct {
			name string
			in   []byte
			sym  string
			base uint64
			want error
		}{
			{"empty", nil, testSymbol, testBase, ErrNotELF},
			{"not ELF", []byte("#!/bin/sh\necho hello\n"), testSymbol, testBase, ErrNotELF},
			{"32-bit class", mutate(func(b []byte) { b[elf.EI_CLASS] = byte(elf.ELFCLASS32) }), testSymbol, testBase, nil},
			{"minimal ELF32", minimalELF32(), testSymbol, testBase, ErrClass},
			{"ARM machine", mutate(func(b []byte) {
				binary.LittleEndian.PutUint16(b[18:], uint16(elf.EM_AARCH64))
			}), testSymbol, testBase, ErrMachine},
			{"ET_DYN", mutate(func(b []byte) {
				binary.LittleEndian.PutUint16(b[16:], uint16(elf.ET_DYN))
			}), testSymbol, testBase, ErrType},
			{"missing symbol", orig, "main.doesNotExist", testBase, ErrNoSymbol},
			{"truncated header", orig[:40], testSymbol, testBase, ErrNotELF},
			{"truncated file", orig[:len(orig)/2], testSymbol, testBase, nil},
			{"base above symbol", orig, testSymbol, 0xffffffffc0000000, ErrBelowBase},
			{"entry above 4GiB", orig, testSymbol, 0xfffffffe00000000, ErrEntryRange},
			{"not text", orig, "runtime.buildVersion", testBase, ErrEntryNotInText},
			{"no PT_NOTE", mutate(func(b []byte) {
				f, _ := elf.NewFile(bytes.NewReader(b))
				phoff := binary.LittleEndian.Uint64(b[32:])
				for i, p := range f.Progs {
					if p.Type == elf.PT_NOTE {
						binary.LittleEndian.PutUint32(b[phoff+uint64(i)*56:], uint32(elf.PT_NULL))
					}
				}
			}), testSymbol, testBase, ErrNoNote},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				out, phys, err := Patch(c.in, c.sym, c.base)
				if err == nil {
					t.Fatalf("Patch succeeded (entry %#x, %d bytes), want error", phys, len(out))
				}
				if out != nil {
					t.Errorf("Patch returned output alongside error %v", err)
				}
				if c.want != nil && !errors.Is(err, c.want) {
					t.Errorf("error %v, want %v", err, c.want)
				}
				t.Logf("%v", err)
			})
		}
	})
}

// minimalELF32 returns a bare, valid ELF32 x86 executable header with no
// program or section headers.
func minimalELF32() []byte {
	b := make([]byte, 52)
	copy(b, elf.ELFMAG)
	b[elf.EI_CLASS] = byte(elf.ELFCLASS32)
	b[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	b[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	le := binary.LittleEndian
	le.PutUint16(b[16:], uint16(elf.ET_EXEC))
	le.PutUint16(b[18:], uint16(elf.EM_386))
	le.PutUint32(b[20:], uint32(elf.EV_CURRENT))
	le.PutUint16(b[40:], 52) // e_ehsize
	return b
}

func FuzzPatch(f *testing.F) {
	orig := buildTestELF(f)
	patched, _, err := Patch(orig, testSymbol, testBase)
	if err != nil {
		f.Fatal(err)
	}
	// Keep seeds small enough for the fuzzer to mutate effectively: the
	// headers plus program header table of real files, and full files.
	f.Add(orig[:1024])
	f.Add(patched[:1024])
	f.Add(orig)
	f.Add(patched)
	f.Add([]byte{})
	f.Add([]byte("\x7fELF"))
	f.Add(minimalELF32())
	f.Fuzz(func(t *testing.T, in []byte) {
		out, phys, err := Patch(in, testSymbol, testBase)
		if err != nil {
			if out != nil {
				t.Fatalf("output with error %v", err)
			}
			return
		}
		if phys >= 1<<32 {
			t.Fatalf("entry %#x >= 4 GiB", phys)
		}
		// Anything accepted once must be accepted again, identically.
		again, phys2, err := Patch(out, testSymbol, testBase)
		if err != nil {
			t.Fatalf("re-Patch failed: %v", err)
		}
		if phys2 != phys || !bytes.Equal(again, out) {
			t.Fatalf("re-Patch not idempotent")
		}
	})
}

// lastLoad returns the last PT_LOAD's address and memory size.
func lastLoad(t *testing.T, b []byte) (vaddr, memsz uint64) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			vaddr, memsz = p.Vaddr, p.Memsz
		}
	}
	return vaddr, memsz
}

func TestTrimTail(t *testing.T) {
	orig := buildTestELF(t)
	origCopy := bytes.Clone(orig)
	f, err := elf.NewFile(bytes.NewReader(orig))
	if err != nil {
		t.Fatal(err)
	}
	scratch := symbolValue(t, f, "main.scratch")
	vaddr, memsz := lastLoad(t, orig)
	if vaddr+memsz != scratch+1<<22 {
		t.Fatalf("main.scratch at %#x is not last in [%#x, +%#x): the test program no longer has TrimTail's layout", scratch, vaddr, memsz)
	}

	out, trimmed, err := TrimTail(orig, []string{"main.scratch", "no.such"})
	if err != nil {
		t.Fatal(err)
	}
	if trimmed != 1<<22 {
		t.Errorf("trimmed %d bytes, want %d", trimmed, 1<<22)
	}
	if v, m := lastLoad(t, out); v != vaddr || v+m != scratch {
		t.Errorf("last segment [%#x, +%#x) after trimming, want it to end at %#x", v, m, scratch)
	}
	again, trimmed, err := TrimTail(out, []string{"main.scratch"})
	if err != nil || trimmed != 0 || !bytes.Equal(again, out) {
		t.Errorf("trimming again: %d bytes, %v; want no change", trimmed, err)
	}
	if _, _, err := Patch(out, testSymbol, testBase); err != nil {
		t.Errorf("Patch after TrimTail: %v", err)
	}

	// A symbol followed by others cannot be trimmed off.
	if _, _, err := TrimTail(orig, []string{"runtime.mheap_"}); !errors.Is(err, ErrNotTail) {
		t.Errorf("trimming runtime.mheap_: %v, want ErrNotTail", err)
	}
	if !bytes.Equal(orig, origCopy) {
		t.Errorf("TrimTail modified its input")
	}
}

func FuzzTrimTail(f *testing.F) {
	orig := buildTestELF(f)
	f.Add(orig[:1024])
	f.Add(orig)
	f.Add([]byte("\x7fELF"))
	f.Add(minimalELF32())
	f.Fuzz(func(t *testing.T, in []byte) {
		out, _, err := TrimTail(in, []string{"main.scratch", "runtime.mheap_"})
		if err != nil {
			if out != nil {
				t.Fatalf("output with error %v", err)
			}
			return
		}
		again, trimmed, err := TrimTail(out, []string{"main.scratch", "runtime.mheap_"})
		if err != nil || trimmed != 0 || !bytes.Equal(again, out) {
			t.Fatalf("re-TrimTail not idempotent: %d, %v", trimmed, err)
		}
	})
}
