package elfload

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"yolk/elfload/elftest"

	"golang.org/x/sys/unix"
)

// ---- fake memory -----------------------------------------------------------

type fakeMap struct {
	va, n uint64
	prot  uint32
}

// fakeMem is a lazily allocated address space: Map only records the range,
// pages are allocated on Write.
type fakeMem struct {
	maps    []fakeMap
	pages   map[uint64]*[pageSize]byte
	written uint64 // total bytes written
	mapErr  error  // if set, Map fails with it
	writeFn func(va uint64, n int) error
}

func newFakeMem() *fakeMem { return &fakeMem{pages: map[uint64]*[pageSize]byte{}} }

func (m *fakeMem) Map(va, n uint64, prot uint32) error {
	if m.mapErr != nil {
		return m.mapErr
	}
	if va%pageSize != 0 || n%pageSize != 0 || n == 0 || va+n < va {
		return fmt.Errorf("fake Map: bad range [%#x, +%#x)", va, n)
	}
	if prot&^uint32(unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC) != 0 {
		return fmt.Errorf("fake Map: bad prot %#x", prot)
	}
	for _, x := range m.maps {
		if va < x.va+x.n && x.va < va+n {
			return fmt.Errorf("fake Map: [%#x, %#x) overlaps [%#x, %#x)", va, va+n, x.va, x.va+x.n)
		}
	}
	m.maps = append(m.maps, fakeMap{va, n, prot})
	return nil
}

func (m *fakeMem) find(va uint64) (fakeMap, bool) {
	for _, x := range m.maps {
		if va >= x.va && va-x.va < x.n {
			return x, true
		}
	}
	return fakeMap{}, false
}

func (m *fakeMem) mapped(va, n uint64) bool {
	end := va + n
	if end < va {
		return false
	}
	for va < end {
		x, ok := m.find(va)
		if !ok {
			return false
		}
		va = x.va + x.n
	}
	return true
}

func (m *fakeMem) Write(va uint64, b []byte) error {
	if m.writeFn != nil {
		if err := m.writeFn(va, len(b)); err != nil {
			return err
		}
	}
	if !m.mapped(va, uint64(len(b))) {
		return fmt.Errorf("fake Write: [%#x, +%#x) not mapped", va, len(b))
	}
	m.written += uint64(len(b))
	for len(b) > 0 {
		pg := va &^ (pageSize - 1)
		p := m.pages[pg]
		if p == nil {
			p = new([pageSize]byte)
			m.pages[pg] = p
		}
		n := copy(p[va-pg:], b)
		b = b[n:]
		va += uint64(n)
	}
	return nil
}

// read returns the n bytes at va (zero where never written).
func (m *fakeMem) read(va, n uint64) []byte {
	out := make([]byte, n)
	for i := uint64(0); i < n; {
		a := va + i
		pg := a &^ (pageSize - 1)
		k := min(n-i, pg+pageSize-a)
		if p := m.pages[pg]; p != nil {
			copy(out[i:i+k], p[a-pg:])
		}
		i += k
	}
	return out
}

// ---- test binaries ---------------------------------------------------------

type testBinaries struct {
	dir    string
	gccErr error
	paths  map[string]string // name -> path, for the ones that built
	errs   map[string]string // name -> build output, for the ones that did not
}

var (
	binsOnce sync.Once
	bins     testBinaries
)

// buildSpecs lists the test programs: name -> gcc arguments (source last).
var buildSpecs = []struct {
	name string
	args []string
}{
	{"static-pie", []string{"-O2", "-fpie", "-static-pie", "testdata/prog.c"}},
	{"static", []string{"-O2", "-static", "-no-pie", "testdata/prog.c"}},
	{"dynamic-pie", []string{"-O2", "testdata/prog.c"}},
	{"object", []string{"-O2", "-c", "testdata/prog.c"}},
	{"object32", []string{"-O2", "-m32", "-c", "testdata/tiny.c"}},
	{"auxdump-pie", []string{"-O2", "-fpie", "-static-pie", "testdata/auxdump.c"}},
	{"auxdump-static", []string{"-O2", "-static", "-no-pie", "testdata/auxdump.c"}},
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bins.dir != "" {
		os.RemoveAll(bins.dir)
	}
	os.Exit(code)
}

func buildAll() {
	bins.paths = map[string]string{}
	bins.errs = map[string]string{}
	if _, err := exec.LookPath("gcc"); err != nil {
		bins.gccErr = err
		return
	}
	dir, err := os.MkdirTemp("", "elfload-test-")
	if err != nil {
		bins.gccErr = err
		return
	}
	bins.dir = dir
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, s := range buildSpecs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := filepath.Join(dir, s.name)
			args := append(append([]string{}, s.args...), "-o", out)
			b, err := exec.Command("gcc", args...).CombinedOutput()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				bins.errs[s.name] = fmt.Sprintf("gcc %s: %v\n%s", strings.Join(args, " "), err, b)
				return
			}
			bins.paths[s.name] = out
		}()
	}
	wg.Wait()
}

// binary returns the path of a built test program, skipping the test if it
// could not be built (no gcc, no static libc, no 32-bit support...).
func testBinary(t testing.TB, name string) string {
	t.Helper()
	binsOnce.Do(buildAll)
	if bins.gccErr != nil {
		t.Skipf("gcc not available: %v", bins.gccErr)
	}
	p, ok := bins.paths[name]
	if !ok {
		t.Skipf("cannot build %s: %s", name, bins.errs[name])
	}
	return p
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loadBytes(b []byte, mem Memory, opt Options) (*Image, error) {
	return Load(bytes.NewReader(b), int64(len(b)), mem, opt)
}

func wantKind(t *testing.T, err error, kind ErrorKind, substr string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want *Error of kind %v", err, err, kind)
	}
	if e.Kind != kind {
		t.Fatalf("error %q has kind %v, want %v", e, e.Kind, kind)
	}
	msg := e.Error()
	if strings.ContainsAny(msg, "\n\r") {
		t.Errorf("error message is not one line: %q", msg)
	}
	if !strings.Contains(msg, substr) {
		t.Errorf("error %q does not mention %q", msg, substr)
	}
	if e.ExitStatus() != 126 {
		t.Errorf("ExitStatus() = %d, want 126", e.ExitStatus())
	}
}

// checkImage compares what Load put into mem with the ELF file at path,
// read independently with debug/elf.
func checkImage(t *testing.T, path string, img *Image, mem *fakeMem) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bias := img.Base
	if f.Type == elf.ET_EXEC && bias != 0 {
		t.Errorf("ET_EXEC Base = %#x, want 0", bias)
	}
	if img.Entry != f.Entry+bias {
		t.Errorf("Entry = %#x, want %#x", img.Entry, f.Entry+bias)
	}
	if img.Phnum != len(f.Progs) || img.Phent != 56 {
		t.Errorf("Phnum, Phent = %d, %d, want %d, 56", img.Phnum, img.Phent, len(f.Progs))
	}
	if !img.Static || img.Interp != "" {
		t.Errorf("Static, Interp = %v, %q", img.Static, img.Interp)
	}
	// The program headers must be readable at Phdr.
	whole := readFile(t, path)
	phoff := binary.LittleEndian.Uint64(whole[32:])
	table := whole[phoff : phoff+uint64(len(f.Progs))*56]
	if got := mem.read(img.Phdr, uint64(len(table))); !bytes.Equal(got, table) {
		t.Errorf("program header table not found at Phdr %#x", img.Phdr)
	}

	// Each PT_LOAD: bytes, bss, protection.
	var loads []*elf.Prog
	var maxEnd uint64
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Memsz > 0 {
			loads = append(loads, p)
		}
	}
	sharesPage := func(p *elf.Prog) bool {
		for _, q := range loads {
			if q != p && pageDown(q.Vaddr) <= pageDown(p.Vaddr+p.Memsz-1) && pageDown(p.Vaddr) <= pageDown(q.Vaddr+q.Memsz-1) {
				return true
			}
		}
		return false
	}
	for i, p := range loads {
		va := p.Vaddr + bias
		data, err := io.ReadAll(p.Open())
		if err != nil {
			t.Fatal(err)
		}
		if uint64(len(data)) != p.Filesz {
			t.Fatalf("debug/elf gave %d bytes for a %d-byte segment", len(data), p.Filesz)
		}
		if got := mem.read(va, p.Filesz); !bytes.Equal(got, data) {
			t.Errorf("PT_LOAD %d at %#x: file bytes differ", i, va)
		}
		if bss := mem.read(va+p.Filesz, p.Memsz-p.Filesz); !bytes.Equal(bss, make([]byte, len(bss))) {
			t.Errorf("PT_LOAD %d at %#x: bss not zero", i, va)
		}
		// And the rest of the last page is zero too.
		end := va + p.Memsz
		if tail := mem.read(end, -end%pageSize); !bytes.Equal(tail, make([]byte, len(tail))) && !sharesPage(p) {
			t.Errorf("PT_LOAD %d: bytes after the segment in its last page are not zero", i)
		}
		want := progProt(uint32(p.Flags))
		mp, ok := mem.find(va)
		if !ok || !mem.mapped(pageDown(va), pageDown(end+pageSize-1)-pageDown(va)) {
			t.Errorf("PT_LOAD %d [%#x, %#x) not mapped", i, va, end)
			continue
		}
		if mp.prot&want != want {
			t.Errorf("PT_LOAD %d: mapped with prot %#x, lacks %#x", i, mp.prot, want)
		}
		if !sharesPage(p) && mp.prot != want {
			t.Errorf("PT_LOAD %d: mapped with prot %#x, want %#x", i, mp.prot, want)
		}
		if p.Flags&elf.PF_X != 0 && !sharesPage(p) && mp.prot != unix.PROT_READ|unix.PROT_EXEC {
			t.Errorf("text PT_LOAD %d: prot %#x, want R+X", i, mp.prot)
		}
		maxEnd = max(maxEnd, end)
	}
	if img.Brk%pageSize != 0 || img.Brk < maxEnd || img.Brk-maxEnd >= pageSize {
		t.Errorf("Brk = %#x, want the page-aligned end of %#x", img.Brk, maxEnd)
	}
	// The Map calls are exactly img.Segments.
	if len(mem.maps) != len(img.Segments) {
		t.Fatalf("%d Map calls, %d Segments", len(mem.maps), len(img.Segments))
	}
	for i, s := range img.Segments {
		if m := mem.maps[i]; m.va != s.VA || m.n != s.Memsz || m.prot != s.Prot {
			t.Errorf("Map call %d = %+v, Segment %+v", i, m, s)
		}
	}
	// Anything written beyond the file data is just the bss zeroing.
	var fileBytes uint64
	for _, p := range loads {
		fileBytes += p.Filesz
	}
	if mem.written > fileBytes+uint64(len(loads))*pageSize {
		t.Errorf("wrote %d bytes for %d bytes of file data", mem.written, fileBytes)
	}
}

func TestLoadStaticPIE(t *testing.T) {
	for _, name := range []string{"static-pie", "auxdump-pie"} {
		t.Run(name, func(t *testing.T) {
			path := testBinary(t, name)
			f, err := elf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
			if f.Type != elf.ET_DYN {
				t.Fatalf("%s is %v, not ET_DYN", name, f.Type)
			}
			mem := newFakeMem()
			img, err := loadBytes(readFile(t, path), mem, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if img.Base != DefaultPIEBase || img.Entry != 0x555555554000+f.Entry {
				t.Errorf("Base, Entry = %#x, %#x; want 0x555555554000, %#x", img.Base, img.Entry, 0x555555554000+f.Entry)
			}
			phoff := binary.LittleEndian.Uint64(readFile(t, path)[32:])
			if img.Phdr != DefaultPIEBase+phoff { // first PT_LOAD: offset 0, vaddr 0
				t.Errorf("Phdr = %#x, want %#x", img.Phdr, DefaultPIEBase+phoff)
			}
			if img.StackExec {
				t.Error("StackExec for a program with a non-executable PT_GNU_STACK")
			}
			checkImage(t, path, img, mem)

			// Another base.
			mem = newFakeMem()
			img, err = loadBytes(readFile(t, path), mem, Options{PIEBase: 0x10000000})
			if err != nil {
				t.Fatal(err)
			}
			if img.Base != 0x10000000 || img.Entry != 0x10000000+f.Entry {
				t.Errorf("PIEBase 0x10000000: Base, Entry = %#x, %#x", img.Base, img.Entry)
			}
			checkImage(t, path, img, mem)
		})
	}
}

func TestLoadStaticExec(t *testing.T) {
	for _, name := range []string{"static", "auxdump-static"} {
		t.Run(name, func(t *testing.T) {
			path := testBinary(t, name)
			mem := newFakeMem()
			img, err := loadBytes(readFile(t, path), mem, Options{PIEBase: 0x10000000})
			if err != nil {
				t.Fatal(err)
			}
			if img.Base != 0 {
				t.Errorf("Base = %#x, want 0", img.Base)
			}
			checkImage(t, path, img, mem)
		})
	}
}

// TestLoadSystemPrograms loads static programs found on the host.
func TestLoadSystemPrograms(t *testing.T) {
	for _, path := range []string{"/bin/busybox", "/usr/lib/x86_64-linux-musl/bin/mksh", "/bin/bash-static", "/bin/sash"} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Skip(err)
			}
			mem := newFakeMem()
			img, err := loadBytes(b, mem, Options{})
			var e *Error
			if errors.As(err, &e) && e.Kind == Dynamic {
				t.Skipf("not static: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			checkImage(t, path, img, mem)
		})
	}
}

func TestLoadDynamic(t *testing.T) {
	mem := newFakeMem()
	_, err := loadBytes(readFile(t, testBinary(t, "dynamic-pie")), mem, Options{})
	wantKind(t, err, Dynamic, "dynamically linked (interpreter /lib64/ld-linux-x86-64.so.2); only static programs are supported")
	if len(mem.maps) != 0 || mem.written != 0 {
		t.Error("Load touched memory before refusing")
	}
}

func TestLoadObject(t *testing.T) {
	_, err := loadBytes(readFile(t, testBinary(t, "object")), newFakeMem(), Options{})
	wantKind(t, err, WrongType, "ET_REL")
}

func TestLoad32Bit(t *testing.T) {
	t.Run("gcc -m32", func(t *testing.T) {
		_, err := loadBytes(readFile(t, testBinary(t, "object32")), newFakeMem(), Options{})
		wantKind(t, err, Not64Bit, "32-bit ELF (i386)")
	})
	t.Run("class byte", func(t *testing.T) {
		b := readFile(t, testBinary(t, "static"))
		b[elf.EI_CLASS] = byte(elf.ELFCLASS32)
		_, err := loadBytes(b, newFakeMem(), Options{})
		wantKind(t, err, Not64Bit, "32-bit ELF")
	})
}

func TestLoadNotELF(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("\x7fEL"), []byte("#!/bin/sh\necho hi\n"), bytes.Repeat([]byte{0}, 200), []byte("\x7fELG" + strings.Repeat("x", 100))} {
		_, err := loadBytes(b, newFakeMem(), Options{})
		wantKind(t, err, NotELF, "not an ELF file")
	}
}

// ---- synthetic ELF files ---------------------------------------------------

type synProg struct {
	typ                               elf.ProgType
	flags                             elf.ProgFlag
	off, vaddr, filesz, memsz, palign uint64
}

// synELF builds a 64-bit x86-64 ELF file of size bytes with the program
// headers at 64; the rest of the file is a recognizable pattern.
func synELF(typ elf.Type, entry uint64, size int, progs ...synProg) []byte {
	ps := make([]elftest.Prog, len(progs))
	for i, p := range progs {
		ps[i] = elftest.Prog{Type: p.typ, Flags: p.flags, Off: p.off, Vaddr: p.vaddr, Filesz: p.filesz, Memsz: p.memsz, Align: p.palign}
	}
	return elftest.Build(typ, entry, size, ps...)
}

const (
	pR  = elf.PF_R
	pRW = elf.PF_R | elf.PF_W
	pRX = elf.PF_R | elf.PF_X
)

// twoSegs is a minimal valid static ET_EXEC: text and data in separate pages.
func twoSegs() []byte {
	return synELF(elf.ET_EXEC, 0x401000, 0x3000,
		synProg{typ: elf.PT_LOAD, flags: pRX, off: 0, vaddr: 0x400000, filesz: 0x1800, memsz: 0x1800, palign: 0x1000},
		synProg{typ: elf.PT_LOAD, flags: pRW, off: 0x2000, vaddr: 0x602000, filesz: 0x100, memsz: 0x5000, palign: 0x1000},
		synProg{typ: elf.PT_GNU_STACK, flags: pRW},
	)
}

func TestLoadSynthetic(t *testing.T) {
	mem := newFakeMem()
	b := twoSegs()
	img, err := loadBytes(b, mem, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Segment{{0x400000, 0x2000, unix.PROT_READ | unix.PROT_EXEC}, {0x602000, 0x5000, unix.PROT_READ | unix.PROT_WRITE}}
	if fmt.Sprint(img.Segments) != fmt.Sprint(want) {
		t.Errorf("Segments = %+v, want %+v", img.Segments, want)
	}
	if img.Brk != 0x607000 || img.Entry != 0x401000 || img.Phdr != 0x400040 || img.Base != 0 {
		t.Errorf("Brk, Entry, Phdr, Base = %#x, %#x, %#x, %#x", img.Brk, img.Entry, img.Phdr, img.Base)
	}
	if !bytes.Equal(mem.read(0x400000, 0x1800), b[:0x1800]) || !bytes.Equal(mem.read(0x602000, 0x100), b[0x2000:0x2100]) {
		t.Error("segment data differs")
	}
	if z := mem.read(0x602100, 0x4f00); !bytes.Equal(z, make([]byte, len(z))) {
		t.Error("bss not zero")
	}
	// padzero: zeros written explicitly from the end of the file data to the end of its page.
	if mem.written != 0x1800+0x100+0xf00 {
		t.Errorf("wrote %#x bytes", mem.written)
	}
}

func TestLoadSharedPage(t *testing.T) {
	// Text [0x400000, 0x401100) and data [0x401100, 0x403000) share the page
	// 0x401000 (file offsets congruent): one mapping, R|W|X.
	b := synELF(elf.ET_DYN, 0x100, 0x3000,
		synProg{typ: elf.PT_LOAD, flags: pRX, off: 0, vaddr: 0x400000, filesz: 0x1100, memsz: 0x1100, palign: 0x1000},
		synProg{typ: elf.PT_LOAD, flags: pRW, off: 0x1100, vaddr: 0x401100, filesz: 0x800, memsz: 0x1f00, palign: 0x1000},
		synProg{typ: elf.PT_LOAD, flags: pR, off: 0x2000, vaddr: 0x405000, filesz: 0x10, memsz: 0x10, palign: 0x1000},
	)
	mem := newFakeMem()
	img, err := loadBytes(b, mem, Options{PIEBase: 0x7000000})
	if err != nil {
		t.Fatal(err)
	}
	// Base is PIEBase - pagedown(lowest vaddr).
	if img.Base != 0x7000000-0x400000 || img.Entry != 0x100+img.Base {
		t.Errorf("Base, Entry = %#x, %#x", img.Base, img.Entry)
	}
	want := []Segment{{0x7000000, 0x3000, unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC}, {0x7005000, 0x1000, unix.PROT_READ}}
	if fmt.Sprint(img.Segments) != fmt.Sprint(want) {
		t.Errorf("Segments = %+v, want %+v", img.Segments, want)
	}
	if got := mem.read(0x7000000, 0x1900); !bytes.Equal(got, b[:0x1900]) {
		t.Error("file data differs")
	}
	if z := mem.read(0x7001900, 0x1700); !bytes.Equal(z, make([]byte, len(z))) {
		t.Error("bss not zero")
	}
	if img.Brk != 0x7006000 {
		t.Errorf("Brk = %#x", img.Brk)
	}
}

func TestLoadPIEAlignment(t *testing.T) {
	// Like Linux, PIEBase is aligned down to the largest PT_LOAD p_align.
	b := synELF(elf.ET_DYN, 0x10, 0x2000,
		synProg{typ: elf.PT_LOAD, flags: pRX, off: 0, vaddr: 0, filesz: 0x1000, memsz: 0x1000, palign: 0x200000},
	)
	img, err := loadBytes(b, newFakeMem(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if img.Base != 0x555555400000 {
		t.Errorf("Base = %#x, want 0x555555400000", img.Base)
	}
}

func TestLoadPTPhdrAndStack(t *testing.T) {
	b := synELF(elf.ET_EXEC, 0x401000, 0x2000,
		synProg{typ: elf.PT_PHDR, flags: pR, off: 64, vaddr: 0x400040, filesz: 3 * 56, memsz: 3 * 56, palign: 8},
		synProg{typ: elf.PT_LOAD, flags: pRX, off: 0, vaddr: 0x400000, filesz: 0x2000, memsz: 0x2000, palign: 0x1000},
		synProg{typ: elf.PT_GNU_STACK, flags: pRW | elf.PF_X},
	)
	img, err := loadBytes(b, newFakeMem(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if img.Phdr != 0x400040 || !img.StackExec || img.Phnum != 3 {
		t.Errorf("Phdr, StackExec, Phnum = %#x, %v, %d", img.Phdr, img.StackExec, img.Phnum)
	}
	// Without PT_GNU_STACK: not executable (Linux x86-64).
	b = synELF(elf.ET_EXEC, 0x401000, 0x2000,
		synProg{typ: elf.PT_LOAD, flags: pRX, off: 0, vaddr: 0x400000, filesz: 0x2000, memsz: 0x2000, palign: 0x1000},
	)
	img, err = loadBytes(b, newFakeMem(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if img.StackExec {
		t.Error("StackExec without PT_GNU_STACK")
	}
}

func TestLoadRefusals(t *testing.T) {
	ld := func(typ elf.ProgType, flags elf.ProgFlag, off, vaddr, filesz, memsz uint64) synProg {
		return synProg{typ: typ, flags: flags, off: off, vaddr: vaddr, filesz: filesz, memsz: memsz, palign: 0x1000}
	}
	text := ld(elf.PT_LOAD, pRX, 0, 0x400000, 0x1000, 0x1000)
	le := binary.LittleEndian
	withDyn := func(entries ...uint64) []byte {
		b := synELF(elf.ET_DYN, 0x1000, 0x3000, text,
			ld(elf.PT_LOAD, pRW, 0x2000, 0x402000, 0x1000, 0x1000),
			ld(elf.PT_DYNAMIC, pRW, 0x2000, 0x402000, uint64(len(entries))*8, uint64(len(entries))*8))
		for i, v := range entries {
			le.PutUint64(b[0x2000+8*i:], v)
		}
		copy(b[0x2800:], "\x00libfoo.so.1\x00")
		return b
	}
	withInterp := func(s string) []byte {
		b := synELF(elf.ET_EXEC, 0x400000, 0x2000, ld(elf.PT_INTERP, pR, 0x1000, 0, uint64(len(s)), uint64(len(s))), text)
		copy(b[0x1000:], s)
		return b
	}
	patch := func(b []byte, off int, v ...byte) []byte { copy(b[off:], v); return b }
	tests := []struct {
		name string
		b    []byte
		opt  Options
		kind ErrorKind
		msg  string
	}{
		{"ET_CORE", synELF(elf.ET_CORE, 0, 0x1000, text), Options{}, WrongType, "ET_CORE"},
		{"ET_NONE", synELF(elf.ET_NONE, 0, 0x1000, text), Options{}, WrongType, "not an executable"},
		{"aarch64", patch(synELF(elf.ET_EXEC, 0, 0x1000, text), 18, byte(elf.EM_AARCH64), 0), Options{}, WrongMachine, "ELF for AArch64, not x86-64"},
		{"big-endian ppc64", patch(patch(synELF(elf.ET_EXEC, 0, 0x1000, text), 5, 2), 18, 0, byte(elf.EM_PPC64)), Options{}, WrongMachine, "ELF for PowerPC64, not x86-64"},
		{"big-endian x86-64", patch(patch(synELF(elf.ET_EXEC, 0, 0x1000, text), 5, 2), 18, 0, byte(elf.EM_X86_64)), Options{}, BadHeader, "little-endian"},
		{"class 3", patch(synELF(elf.ET_EXEC, 0, 0x1000, text), 4, 3), Options{}, BadHeader, "ELF class 3"},
		{"phentsize", patch(synELF(elf.ET_EXEC, 0, 0x1000, text), 54, 32), Options{}, BadHeader, "e_phentsize"},
		{"PN_XNUM", patch(synELF(elf.ET_EXEC, 0, 0x1000, text), 56, 0xff, 0xff), Options{}, BadHeader, "program headers"},
		{"phdrs truncated", patch(synELF(elf.ET_EXEC, 0, 0x1000, text), 56, 200), Options{}, Truncated, "program header table"},
		{"no phdrs", synELF(elf.ET_EXEC, 0, 0x1000), Options{}, BadSegment, "no program headers"},
		{"no PT_LOAD", synELF(elf.ET_EXEC, 0, 0x1000, ld(elf.PT_NOTE, pR, 0, 0, 0x10, 0x10)), Options{}, BadSegment, "no loadable segment"},
		{"filesz > memsz", synELF(elf.ET_EXEC, 0, 0x2000, ld(elf.PT_LOAD, pR, 0, 0x400000, 0x1001, 0x1000)), Options{}, BadSegment, "p_filesz 0x1001 > p_memsz 0x1000"},
		{"data beyond EOF", synELF(elf.ET_EXEC, 0, 0x2000, ld(elf.PT_LOAD, pR, 0x1000, 0x400000, 0x1001, 0x2000)), Options{}, Truncated, "beyond end of file"},
		{"offset overflow", synELF(elf.ET_EXEC, 0, 0x2000, ld(elf.PT_LOAD, pR, ^uint64(0)-0xfff, 0x400000, 0x2000, 0x2000)), Options{}, Truncated, "beyond end of file"},
		{"unaligned", synELF(elf.ET_EXEC, 0, 0x2000, ld(elf.PT_LOAD, pR, 0x10, 0x400000, 0x10, 0x10)), Options{}, BadSegment, "modulo the page size"},
		{"vaddr overflow", synELF(elf.ET_EXEC, 0, 0x2000, ld(elf.PT_LOAD, pR, 0, 0xfffffffffffff000, 0x10, 0x2000)), Options{}, BadSegment, "overflows"},
		{"kernel half", synELF(elf.ET_EXEC, 0, 0x2000, ld(elf.PT_LOAD, pR, 0, 0xffffffff80000000, 0x10, 0x1000)), Options{}, BadSegment, "user address space"},
		{"PIE beyond user space", synELF(elf.ET_DYN, 0, 0x2000, ld(elf.PT_LOAD, pR, 0, 0, 0x10, 0x1000), ld(elf.PT_LOAD, pR, 0x1000, 0x7f0000000000, 0x10, 0x1000)), Options{}, BadSegment, "user address space"},
		{"PIE overflow", synELF(elf.ET_DYN, 0, 0x2000, ld(elf.PT_LOAD, pR, 0, 0, 0x10, 0x1000), ld(elf.PT_LOAD, pR, 0x1000, 0xfffffffffff00000, 0x10, 0x1000)), Options{}, BadSegment, "overflow"},
		{"overlap", synELF(elf.ET_EXEC, 0, 0x3000, text, ld(elf.PT_LOAD, pRW, 0x1800, 0x400800, 0x10, 0x1000)), Options{}, BadSegment, "overlap"},
		{"overlap unsorted", synELF(elf.ET_EXEC, 0, 0x3000, ld(elf.PT_LOAD, pRW, 0x1000, 0x401000, 0x10, 0x1000), ld(elf.PT_LOAD, pR, 0, 0x400000, 0x10, 0x1001)), Options{}, BadSegment, "overlap"},
		{"forbidden", twoSegs(), Options{Forbidden: []Range{{0, 0x10000}, {0x605000, 0x606000}}}, Overlap, "segment [0x602000, 0x607000) overlaps forbidden range [0x605000, 0x606000)"},
		{"too large", twoSegs(), Options{MaxMem: 0x6fff}, TooLarge, "28672 bytes"},
		{"interp", withInterp("/lib/ld-musl-x86_64.so.1\x00"), Options{}, Dynamic, "dynamically linked (interpreter /lib/ld-musl-x86_64.so.1); only static programs are supported"},
		{"interp newline", withInterp("/lib/ld\n.so"), Options{}, Dynamic, `(interpreter "/lib/ld\n.so")`},
		{"interp beyond EOF", synELF(elf.ET_EXEC, 0, 0x1000, ld(elf.PT_INTERP, pR, 0xfff, 0, 0x10, 0x10), text), Options{}, Truncated, "PT_INTERP"},
		{"DT_NEEDED", withDyn(uint64(elf.DT_STRTAB), 0x402800, uint64(elf.DT_NEEDED), 1, uint64(elf.DT_NULL), 0), Options{}, Dynamic, "dynamically linked (needs libfoo.so.1 but has no interpreter)"},
		{"DT_NEEDED no strtab", withDyn(uint64(elf.DT_NEEDED), 1, uint64(elf.DT_NULL), 0), Options{}, Dynamic, "needs shared libraries"},
		{"DT_NEEDED bad strtab", withDyn(uint64(elf.DT_NEEDED), 1<<60, uint64(elf.DT_STRTAB), 0x402800, uint64(elf.DT_NULL), 0), Options{}, Dynamic, "needs shared libraries"},
		{"PT_DYNAMIC beyond EOF", synELF(elf.ET_DYN, 0, 0x1000, text, ld(elf.PT_DYNAMIC, pRW, 0x800, 0, 0x1000, 0x1000)), Options{}, Truncated, "PT_DYNAMIC"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := newFakeMem()
			img, err := loadBytes(tc.b, mem, tc.opt)
			if err == nil {
				t.Fatalf("loaded: %+v", img)
			}
			wantKind(t, err, tc.kind, tc.msg)
			if len(mem.maps) != 0 || mem.written != 0 {
				t.Error("Load touched memory before refusing")
			}
		})
	}
	// DT_NEEDED-free PT_DYNAMIC (static-PIE) loads; MaxMem equal to the size loads.
	if _, err := loadBytes(withDyn(uint64(elf.DT_STRTAB), 0x402800, uint64(elf.DT_NULL), 0), newFakeMem(), Options{}); err != nil {
		t.Errorf("PT_DYNAMIC without DT_NEEDED: %v", err)
	}
	if _, err := loadBytes(twoSegs(), newFakeMem(), Options{MaxMem: 0x7000, Forbidden: []Range{{0, 0x10000}, {0x608000, 0x609000}, {5, 5}}}); err != nil {
		t.Errorf("MaxMem = size: %v", err)
	}
}

func TestLoadForbiddenReal(t *testing.T) {
	b := readFile(t, testBinary(t, "static-pie"))
	_, err := loadBytes(b, newFakeMem(), Options{Forbidden: []Range{{0x555555555000, 0x555555556000}}})
	wantKind(t, err, Overlap, "overlaps forbidden range [0x555555555000, 0x555555556000)")
	_, err = loadBytes(b, newFakeMem(), Options{MaxMem: 1 << 20})
	wantKind(t, err, TooLarge, "limit 1048576")
}

func TestLoadMemoryFailure(t *testing.T) {
	boom := errors.New("boom")
	mem := newFakeMem()
	mem.mapErr = boom
	_, err := loadBytes(twoSegs(), mem, Options{})
	wantKind(t, err, MemoryFailed, "mapping [0x400000, 0x402000): boom")
	if !errors.Is(err, boom) {
		t.Error("error does not wrap the Memory's error")
	}
	mem = newFakeMem()
	mem.writeFn = func(va uint64, n int) error { return boom }
	_, err = loadBytes(twoSegs(), mem, Options{})
	wantKind(t, err, MemoryFailed, "writing")
}

// sizeReader records the largest read and fails reads past its end.
type sizeReader struct {
	b   []byte
	max int
}

func (r *sizeReader) ReadAt(p []byte, off int64) (int, error) {
	r.max = max(r.max, len(p))
	if off < 0 || off > int64(len(r.b)) {
		return 0, io.EOF
	}
	n := copy(p, r.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func TestLoadTruncated(t *testing.T) {
	path := testBinary(t, "static-pie")
	full := readFile(t, path)
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	var dataEnd uint64 // end of the last byte Load needs
	for _, p := range f.Progs {
		dataEnd = max(dataEnd, p.Off+p.Filesz)
	}
	cuts := []int{0, 1, 3, 4, 5, 17, 63, 64, 65, 64 + 56, 64 + 56*len(f.Progs) - 1, 64 + 56*len(f.Progs), 0x1000, 0x8fff, 0x9000, len(full) / 2, int(dataEnd) - 1, int(dataEnd), len(full) - 1}
	for _, n := range cuts {
		b := full[:n]
		img, err := loadBytes(b, newFakeMem(), Options{})
		switch {
		case uint64(n) >= dataEnd:
			if err != nil {
				t.Errorf("cut at %d (>= end of segment data %d): %v", n, dataEnd, err)
			}
		case err == nil:
			t.Errorf("cut at %d: loaded %+v", n, img)
		default:
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("cut at %d: %T %v", n, err, err)
				continue
			}
			want := Truncated
			if n < 4 {
				want = NotELF
			}
			if e.Kind != want {
				t.Errorf("cut at %d: %v (%v), want %v", n, err, e.Kind, want)
			}
		}
		// A reader shorter than the size claimed: Truncated, no panic.
		r := &sizeReader{b: b}
		_, err = Load(r, int64(len(full)), newFakeMem(), Options{})
		if n < len(full) && uint64(n) < dataEnd && err == nil {
			t.Errorf("short reader cut at %d: no error", n)
		}
		if r.max > len(full) {
			t.Errorf("cut at %d: read %d bytes at once", n, r.max)
		}
	}
}

func TestLoadCorrupt(t *testing.T) {
	path := testBinary(t, "static-pie")
	full := readFile(t, path)
	phend := 64 + 56*int(binary.LittleEndian.Uint16(full[56:]))
	try := func(b []byte, what string) {
		t.Helper()
		r := &sizeReader{b: b}
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("%s: panic: %v", what, p)
			}
		}()
		mem := newFakeMem()
		_, err := Load(r, int64(len(b)), mem, Options{MaxMem: 1 << 30})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("%s: %T %v", what, err, err)
			}
		}
		if r.max > len(b) {
			t.Errorf("%s: read %d bytes at once from %d", what, r.max, len(b))
		}
	}
	for i := 0; i < phend; i++ {
		for _, x := range []byte{0xff, 0x80, 0x01, 0x10} {
			b := bytes.Clone(full[:max(phend, 0x1000)])
			b[i] ^= x
			try(b, fmt.Sprintf("byte %d ^ %#x", i, x))
		}
	}
	// Whole fields set to extreme values, on the full file.
	for off := 16; off+8 <= phend; off += 4 {
		for _, v := range []uint64{0, ^uint64(0), 1 << 63, uint64(len(full)), 0x7fffffff} {
			b := bytes.Clone(full)
			binary.LittleEndian.PutUint64(b[off:], v)
			try(b, fmt.Sprintf("u64 at %d = %#x", off, v))
		}
	}
}

// ---- fuzzing ---------------------------------------------------------------

func FuzzLoad(f *testing.F) {
	binsOnce.Do(buildAll)
	names := make([]string, 0, len(bins.paths))
	for name := range bins.paths {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		b, err := os.ReadFile(bins.paths[name])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(twoSegs())
	f.Add(synELF(elf.ET_DYN, 0x100, 0x3000,
		synProg{typ: elf.PT_PHDR, flags: pR, off: 64, vaddr: 0x40, filesz: 4 * 56, memsz: 4 * 56, palign: 8},
		synProg{typ: elf.PT_LOAD, flags: pRX, off: 0, vaddr: 0, filesz: 0x1100, memsz: 0x1100, palign: 0x1000},
		synProg{typ: elf.PT_LOAD, flags: pRW, off: 0x1100, vaddr: 0x1100, filesz: 0x800, memsz: 0x1f00, palign: 0x1000},
		synProg{typ: elf.PT_DYNAMIC, flags: pRW, off: 0x1100, vaddr: 0x1100, filesz: 0x40, memsz: 0x40, palign: 8},
	))
	f.Fuzz(func(t *testing.T, b []byte) {
		mem := newFakeMem()
		r := &sizeReader{b: b}
		img, err := Load(r, int64(len(b)), mem, Options{Forbidden: []Range{{0, 0x10000}}, MaxMem: 1 << 32})
		if r.max > len(b) {
			t.Fatalf("read %d bytes at once from a %d-byte file", r.max, len(b))
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%T %v", err, err)
			}
			if e.Kind != MemoryFailed && (len(mem.maps) != 0 || mem.written != 0) {
				t.Fatalf("refused with %v after touching memory", err)
			}
			if strings.ContainsAny(e.Error(), "\r\n") {
				t.Fatalf("multi-line error %q", e.Error())
			}
			return
		}
		if len(img.Segments) == 0 || len(mem.maps) != len(img.Segments) {
			t.Fatalf("%d segments, %d maps", len(img.Segments), len(mem.maps))
		}
		var prevEnd uint64
		for i, s := range img.Segments {
			if s.VA%pageSize != 0 || s.Memsz%pageSize != 0 || s.Memsz == 0 || s.VA < prevEnd || s.VA+s.Memsz > UserEnd || s.VA < 0x10000 {
				t.Fatalf("bad segment %d: %+v", i, s)
			}
			prevEnd = s.VA + s.Memsz
		}
		if img.Brk != prevEnd {
			t.Fatalf("Brk %#x, end %#x", img.Brk, prevEnd)
		}
		if mem.written > uint64(len(b))+uint64(img.Phnum)*pageSize {
			t.Fatalf("wrote %d bytes from a %d-byte file", mem.written, len(b))
		}

		// The same file through a FileMemory: the same image, every
		// segment mapped exactly once, and nothing written but padzero.
		fm := &fileMem{fakeMem: newFakeMem(), file: b}
		fimg, err := Load(bytes.NewReader(b), int64(len(b)), fm, Options{Forbidden: []Range{{0, 0x10000}}, MaxMem: 1 << 32})
		if err != nil {
			t.Fatalf("loads into a Memory, not into a FileMemory: %v", err)
		}
		if fmt.Sprintf("%+v", fimg) != fmt.Sprintf("%+v", img) {
			t.Fatalf("image %+v through a FileMemory, %+v through a Memory", fimg, img)
		}
		var mappedBytes uint64
		for _, x := range fm.maps {
			mappedBytes += x.n
		}
		var segBytes uint64
		for _, s := range img.Segments {
			segBytes += s.Memsz
			if !fm.mapped(s.VA, s.Memsz) {
				t.Fatalf("segment %+v not mapped through the FileMemory: %q", s, fm.calls)
			}
		}
		if mappedBytes != segBytes {
			t.Fatalf("%#x bytes mapped for %#x of segments: %q", mappedBytes, segBytes, fm.calls)
		}
		if fm.written > mem.written {
			t.Fatalf("wrote %d bytes through a FileMemory, %d without", fm.written, mem.written)
		}
	})
}

// fileMem is a fakeMem that is also a FileMemory: MapFile maps the range
// and fills it with the file's bytes (as a page cache would show them),
// and logs the calls.
type fileMem struct {
	*fakeMem
	file  []byte
	calls []string
}

func (m *fileMem) Map(va, n uint64, prot uint32) error {
	m.calls = append(m.calls, fmt.Sprintf("Map %#x+%#x %d", va, n, prot))
	return m.fakeMem.Map(va, n, prot)
}

func (m *fileMem) MapFile(va, n uint64, prot uint32, off uint64) error {
	m.calls = append(m.calls, fmt.Sprintf("MapFile %#x+%#x %d @%#x", va, n, prot, off))
	if err := m.fakeMem.Map(va, n, prot); err != nil {
		return err
	}
	b := make([]byte, n)
	if off < uint64(len(m.file)) {
		copy(b, m.file[off:])
	}
	w := m.written
	err := m.fakeMem.Write(va, b)
	m.written = w // what Load wrote is what counts
	return err
}

// TestLoadFileMemory: with a FileMemory, each PT_LOAD alone in its pages
// is mapped from the file (MapFile at pagedown(p_offset)), its bss pages
// with Map, and only padzero is written; PT_LOADs sharing a page are
// copied as before.
func TestLoadFileMemory(t *testing.T) {
	b := twoSegs()
	mem := &fileMem{fakeMem: newFakeMem(), file: b}
	if _, err := loadBytes(b, mem, Options{}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprintf("MapFile 0x400000+0x2000 %d @0x0", unix.PROT_READ|unix.PROT_EXEC),
		fmt.Sprintf("MapFile 0x602000+0x1000 %d @0x2000", unix.PROT_READ|unix.PROT_WRITE),
		fmt.Sprintf("Map 0x603000+0x4000 %d", unix.PROT_READ|unix.PROT_WRITE),
	}
	if fmt.Sprint(mem.calls) != fmt.Sprint(want) {
		t.Errorf("calls\n%q\nwant\n%q", mem.calls, want)
	}
	if mem.written != 0x1000-0x100 {
		t.Errorf("%#x bytes written, want only the padzero of the data page (0xf00)", mem.written)
	}
	// Text: the file's bytes, also after p_filesz in its last page (as Linux).
	if got := mem.read(0x400000, 0x2000); !bytes.Equal(got, b[:0x2000]) {
		t.Error("text differs from the file")
	}
	if got := mem.read(0x602000, 0x100); !bytes.Equal(got, b[0x2000:0x2100]) {
		t.Error("data differs from the file")
	}
	if z := mem.read(0x602100, 0x4f00); !bytes.Equal(z, make([]byte, len(z))) {
		t.Error("bss not zero")
	}

	// Shared pages: copied, no MapFile.
	shared := synELF(elf.ET_DYN, 0x100, 0x3000,
		synProg{typ: elf.PT_LOAD, flags: pRX, off: 0, vaddr: 0x400000, filesz: 0x1100, memsz: 0x1100, palign: 0x1000},
		synProg{typ: elf.PT_LOAD, flags: pRW, off: 0x1100, vaddr: 0x401100, filesz: 0x800, memsz: 0x1f00, palign: 0x1000},
		synProg{typ: elf.PT_LOAD, flags: pR, off: 0x2000, vaddr: 0x405000, filesz: 0x10, memsz: 0x10, palign: 0x1000},
	)
	mem = &fileMem{fakeMem: newFakeMem(), file: shared}
	if _, err := loadBytes(shared, mem, Options{PIEBase: 0x7000000}); err != nil {
		t.Fatal(err)
	}
	want = []string{
		fmt.Sprintf("Map 0x7000000+0x3000 %d", unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC),
		fmt.Sprintf("MapFile 0x7005000+0x1000 %d @0x2000", unix.PROT_READ),
	}
	if fmt.Sprint(mem.calls) != fmt.Sprint(want) {
		t.Errorf("shared pages: calls\n%q\nwant\n%q", mem.calls, want)
	}
	if got := mem.read(0x7000000, 0x1900); !bytes.Equal(got, shared[:0x1900]) {
		t.Error("shared pages: file data differs")
	}
}
