package syscallshim

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestSymtabLookup names addresses in a static C program (gcc
// -static-pie, as the examples) from its symbol table, as fault reports
// name a program's, and checks each against debug/elf's decoding of the
// same table: every function's first and last byte, an address past
// every function, and a bias (a PIE's load base).
func TestSymtabLookup(t *testing.T) {
	dir := t.TempDir()
	src, exe := filepath.Join(dir, "p.c"), filepath.Join(dir, "p")
	if err := os.WriteFile(src, []byte("int twice(int x) { return 2 * x; }\nint main(int argc, char **argv) { return twice(argc); }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("gcc", "-O1", "-fpie", "-static-pie", "-o", exe, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	const bias = 0x555555554000
	st := newSymtab(bytes.NewReader(b), bias)
	if st == nil {
		t.Fatal("newSymtab found no symbol table")
	}
	// Functions at an address shared by none other, so that the answer is
	// one name.
	at := map[uint64]int{}
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Value != 0 {
			at[s.Value]++
		}
	}
	checked := 0
	var end uint64
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC || s.Value == 0 || s.Size == 0 || at[s.Value] != 1 {
			continue
		}
		end = max(end, s.Value+s.Size)
		for _, off := range []uint64{0, s.Size - 1} {
			name, got, ok := st.lookup(bias + s.Value + off)
			if !ok || name != s.Name || got != off {
				t.Fatalf("lookup(%s+%#x) = %q+%#x, %v", s.Name, off, name, got, ok)
			}
		}
		checked++
	}
	if name, off, ok := st.lookup(bias + fn(t, syms, "twice") + 1); !ok || name != "twice" || off != 1 {
		t.Errorf("twice+1 is %q+%d, %v", name, off, ok)
	}
	if checked < 100 {
		t.Fatalf("only %d functions checked", checked)
	}
	if name, _, ok := st.lookup(bias + end + 2*4096); ok {
		t.Errorf("an address past every function is named %q", name)
	}
	if _, _, ok := st.lookup(0x1000); ok {
		t.Errorf("an address below the bias is named")
	}
	var none *symtab
	if _, _, ok := none.lookup(bias); ok {
		t.Errorf("a nil table names an address")
	}
	if newSymtab(bytes.NewReader([]byte("\x7fELF not really")), 0) != nil {
		t.Errorf("a broken ELF gave a table")
	}
}

func fn(t *testing.T, syms []elf.Symbol, name string) uint64 {
	for _, s := range syms {
		if s.Name == name {
			return s.Value
		}
	}
	t.Fatalf("no symbol %s", name)
	return 0
}
