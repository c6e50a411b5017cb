package syscallshim

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"strings"
	"testing"
	"yolk/elfload/elftest"

	"github.com/u-root/u-root/pkg/cpio"
	"golang.org/x/sys/unix"

	"yolk/initrd"
	"yolk/linux/abi"
	"yolk/mm"
)

// synELF is a minimal ELF64 x86-64 file of type typ: the program headers
// at 64 (a PT_PHDR covering them, a PT_INTERP naming interp when it is not
// "", one read-execute PT_LOAD of the whole file at 0, a read-write one
// with a bss at 0x2000), the interpreter's name at 0x200 and a pattern
// elsewhere.
func synELF(typ elf.Type, entry uint64, interp string) []byte {
	phs := []elftest.Prog{{Type: elf.PT_PHDR, Flags: elf.PF_R, Off: 64, Vaddr: 64}}
	if interp != "" {
		n := uint64(len(interp) + 1)
		phs = append(phs, elftest.Prog{Type: elf.PT_INTERP, Flags: elf.PF_R, Off: 0x200, Vaddr: 0x200, Filesz: n, Memsz: n, Align: 0x1000})
	}
	phs = append(phs,
		elftest.Prog{Type: elf.PT_LOAD, Flags: elf.PF_R | elf.PF_X, Filesz: 0x1000, Memsz: 0x1000, Align: 0x1000},
		elftest.Prog{Type: elf.PT_LOAD, Flags: elf.PF_R | elf.PF_W, Off: 0x2000, Vaddr: 0x2000, Filesz: 0x100, Memsz: 0x3000, Align: 0x1000})
	phs[0].Filesz, phs[0].Memsz, phs[0].Align = uint64(56*len(phs)), uint64(56*len(phs)), 0x1000
	b := elftest.Build(typ, entry, 0x2100, phs...)
	if interp != "" {
		copy(b[0x200:], interp+"\x00")
	}
	return b
}

// execRoot is an initrd holding the files, each mode 0755.
func execRoot(t *testing.T, files map[string][]byte) *initrd.FS {
	t.Helper()
	var recs []cpio.Record
	dirs := map[string]bool{}
	for name, data := range files {
		for d := name; strings.Contains(d, "/"); {
			d = d[:strings.LastIndex(d, "/")]
			if !dirs[d] {
				dirs[d] = true
				recs = append(recs, cpio.Directory(d, 0o755))
			}
		}
		recs = append(recs, cpio.StaticFile(name, string(data), 0o755))
	}
	var buf bytes.Buffer
	w := cpio.Newc.Writer(&buf)
	if err := cpio.WriteRecords(w, recs); err != nil {
		t.Fatal(err)
	}
	if err := cpio.WriteTrailer(w); err != nil {
		t.Fatal(err)
	}
	fs, err := initrd.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// TestLoadDynamicLayout loads a dynamically linked program (synthetic
// ELF files: a PIE naming /lib/ld-yolk.so, itself an ET_DYN) and checks
// the two images and the auxiliary vector as Linux's load_elf_binary
// makes them: the program at the PIE base, the interpreter below the
// mmap base and clear of the program and the stack, the entry point the
// interpreter's, AT_BASE the interpreter's base, AT_ENTRY the program's
// entry, AT_PHDR its program headers, AT_EXECFN the path, AT_SECURE 0.
func TestLoadDynamicLayout(t *testing.T) {
	const (
		progEntry   = 0x140
		interpEntry = 0x180
		pieBase     = 0x555555554000
	)
	prog := synELF(elf.ET_DYN, progEntry, "/lib/ld-yolk.so")
	interp := synELF(elf.ET_DYN, interpEntry, "")
	e := newHdEnv(t, execRoot(t, map[string][]byte{"lib/ld-yolk.so": interp, "bin/dyn": prog}))
	x, err := e.th.readExecutable(atFDCWD, "/bin/dyn", true)
	if err != nil {
		t.Fatal(err)
	}
	defer x.release()
	img, err := e.th.load(x, "/bin/dyn", []string{"dyn", "a1"}, []string{"K=V"})
	if err != nil {
		t.Fatal(err)
	}
	defer img.mem.release(nil)
	as := img.mem.as
	// Both files' pages are mapped from their page caches (Linux's
	// elf_map), the bss beyond the last file page anonymous.
	for _, v := range as.VMAs() {
		if v.Name != "/bin/dyn" && v.Name != "/lib/ld-yolk.so" {
			continue
		}
		if fileBacked := v.Backing != nil; fileBacked != (v.Offset == 0 && v.End-v.Start == 0x1000 || v.Offset == 0x2000) {
			t.Errorf("mapping %+v: file-backed %v", v, fileBacked)
		}
	}

	// The two images, by the names of their mappings.
	var progLo, progHi, interpLo, interpHi, stackLo uint64
	progLo, interpLo = ^uint64(0), ^uint64(0)
	for _, v := range as.VMAs() {
		switch v.Name {
		case "/bin/dyn":
			progLo, progHi = min(progLo, v.Start), max(progHi, v.End)
		case "/lib/ld-yolk.so":
			interpLo, interpHi = min(interpLo, v.Start), max(interpHi, v.End)
		case "[stack]":
			stackLo = v.Start
		}
	}
	if progLo != pieBase || progHi != pieBase+0x5000 {
		t.Errorf("the program at [%#x, %#x), want [%#x, %#x)", progLo, progHi, uint64(pieBase), uint64(pieBase+0x5000))
	}
	if interpLo == ^uint64(0) || interpHi-interpLo != 0x5000 || interpLo < progHi || interpHi > stackLo || interpHi > 0x7ffff7fff000 {
		t.Errorf("the interpreter at [%#x, %#x): want 0x5000 bytes between the program (ends %#x) and the mmap base", interpLo, interpHi, progHi)
	}
	if img.entry != interpLo+interpEntry {
		t.Errorf("entry %#x, want the interpreter's %#x", img.entry, interpLo+interpEntry)
	}
	// The interpreter's text is its file's bytes; its bss is zero.
	got := make([]byte, 16)
	as.CopyIn(interpLo+0x100, got)
	if !bytes.Equal(got, interp[0x100:0x110]) {
		t.Errorf("interpreter text at +0x100: % x, want % x", got, interp[0x100:0x110])
	}
	as.CopyIn(interpLo+0x2100, got)
	if !bytes.Equal(got, make([]byte, 16)) {
		t.Errorf("interpreter bss: % x, want zeros", got)
	}

	// The stack: argc, argv, envp, then the auxiliary vector.
	word := func(va uint64) uint64 {
		var b [8]byte
		if _, err := as.CopyIn(va, b[:]); err != nil {
			t.Fatalf("reading the stack at %#x: %v", va, err)
		}
		return binary.LittleEndian.Uint64(b[:])
	}
	str := func(va uint64) string {
		b := make([]byte, 64)
		as.CopyIn(va, b)
		s, _, _ := bytes.Cut(b, []byte{0})
		return string(s)
	}
	sp := img.sp
	if argc := word(sp); argc != 2 || str(word(sp+8)) != "dyn" || str(word(sp+16)) != "a1" || word(sp+24) != 0 {
		t.Fatalf("argc %d and argv wrong", argc)
	}
	if str(word(sp+32)) != "K=V" || word(sp+40) != 0 {
		t.Fatalf("envp wrong")
	}
	aux := map[uint64]uint64{}
	for p := sp + 48; ; p += 16 {
		k, v := word(p), word(p+8)
		if k == abi.AT_NULL {
			break
		}
		aux[k] = v
	}
	for _, c := range []struct {
		name string
		key  uint64
		want uint64
	}{
		{"AT_BASE", abi.AT_BASE, interpLo},
		{"AT_ENTRY", abi.AT_ENTRY, pieBase + progEntry},
		{"AT_PHDR", abi.AT_PHDR, pieBase + 64},
		{"AT_PHENT", abi.AT_PHENT, 56},
		{"AT_PHNUM", abi.AT_PHNUM, 4},
		{"AT_PAGESZ", abi.AT_PAGESZ, 4096},
		{"AT_SECURE", abi.AT_SECURE, 0},
	} {
		if got, ok := aux[c.key]; !ok || got != c.want {
			t.Errorf("%s = %#x (present %v), want %#x", c.name, got, ok, c.want)
		}
	}
	if fn := str(aux[abi.AT_EXECFN]); fn != "/bin/dyn" {
		t.Errorf("AT_EXECFN names %q, want /bin/dyn", fn)
	}
}

// TestLoadInterpErrors: a missing interpreter is ENOENT naming it and
// the program; one that is not a loadable ELF is ELIBBAD.
func TestLoadInterpErrors(t *testing.T) {
	prog := synELF(elf.ET_DYN, 0x1040, "/lib/ld-yolk.so")
	bad := synELF(elf.ET_DYN, 0x1080, "")
	bad[elf.EI_CLASS] = byte(elf.ELFCLASS32)
	for _, c := range []struct {
		name  string
		files map[string][]byte
		errno unix.Errno
		msg   string
	}{
		{"missing", map[string][]byte{"bin/dyn": prog}, unix.ENOENT, "/lib/ld-yolk.so that /bin/dyn needs"},
		{"32-bit", map[string][]byte{"bin/dyn": prog, "lib/ld-yolk.so": bad}, unix.ELIBBAD, "/lib/ld-yolk.so"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newHdEnv(t, execRoot(t, c.files))
			_, err := e.th.load(execBytes(prog), "/bin/dyn", []string{"dyn"}, nil)
			ee, ok := err.(*execError)
			if !ok || ee.errno != c.errno || !strings.Contains(ee.msg, c.msg) {
				t.Fatalf("error %v, want %v mentioning %q", err, c.errno, c.msg)
			}
		})
	}
}

// FuzzLoadInterp: whatever the interpreter file holds, loading a
// dynamically linked program either fails with an execError or maps the
// interpreter clear of the program and the stack; it never panics.
func FuzzLoadInterp(f *testing.F) {
	f.Add(synELF(elf.ET_DYN, 0x1080, ""))
	f.Add(synELF(elf.ET_EXEC, 0x401000, ""))
	f.Add([]byte("\x7fELF"))
	prog := synELF(elf.ET_DYN, 0x1040, "/lib/ld-yolk.so")
	f.Fuzz(func(t *testing.T, interp []byte) {
		e := newHdEnv(t, execRoot(t, map[string][]byte{"lib/ld-yolk.so": interp}))
		img, err := e.th.load(execBytes(prog), "/bin/dyn", []string{"dyn"}, nil)
		if err != nil {
			if _, ok := err.(*execError); !ok {
				t.Fatalf("error %T %v, want an execError", err, err)
			}
			return
		}
		defer img.mem.release(nil)
		var progHi, stackLo uint64
		var maps []mm.VMA
		for _, v := range img.mem.as.VMAs() {
			switch v.Name {
			case "/bin/dyn":
				progHi = v.End
			case "/lib/ld-yolk.so":
				maps = append(maps, v)
			case "[stack]":
				stackLo = v.Start
			}
		}
		for _, v := range maps {
			if v.Start < progHi || v.End > stackLo {
				t.Fatalf("interpreter mapping %+v overlaps the program (ends %#x) or the stack (%#x)", v, progHi, stackLo)
			}
		}
	})
}
