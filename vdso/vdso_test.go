package vdso

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"math/bits"
	"sync"
	"testing"
	"unsafe"

	"golang.org/x/arch/x86/x86asm"
)

func openImage(t *testing.T) *elf.File {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(Image))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestImageHeaders checks what a dynamic loader relies on: an x86-64
// ET_DYN linked at 0, one PT_LOAD holding everything the code and the
// dynamic section need, PT_DYNAMIC inside it, at most two pages.
func TestImageHeaders(t *testing.T) {
	f := openImage(t)
	if f.Type != elf.ET_DYN || f.Machine != elf.EM_X86_64 || f.Class != elf.ELFCLASS64 {
		t.Fatalf("type %v machine %v class %v", f.Type, f.Machine, f.Class)
	}
	if len(Image) > 2*4096 {
		t.Errorf("image is %d bytes, more than two pages", len(Image))
	}
	var load, dyn *elf.Prog
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_LOAD:
			if load != nil {
				t.Fatal("two PT_LOADs")
			}
			load = p
		case elf.PT_DYNAMIC:
			dyn = p
		}
	}
	if load == nil || dyn == nil {
		t.Fatal("no PT_LOAD or no PT_DYNAMIC")
	}
	if load.Vaddr != 0 || load.Off != 0 || load.Filesz != load.Memsz || load.Filesz > uint64(len(Image)) ||
		load.Flags != elf.PF_R|elf.PF_X {
		t.Errorf("PT_LOAD %+v", load.ProgHeader)
	}
	if dyn.Vaddr != dyn.Off || dyn.Off+dyn.Filesz > load.Filesz {
		t.Errorf("PT_DYNAMIC %+v outside PT_LOAD", dyn.ProgHeader)
	}
	text := f.Section(".text")
	if text == nil || text.Addr+text.Size > load.Filesz {
		t.Fatalf(".text %+v outside PT_LOAD", text)
	}
	soname, err := f.DynString(elf.DT_SONAME)
	if err != nil || len(soname) != 1 || soname[0] != "linux-vdso.so.1" {
		t.Errorf("DT_SONAME %q, %v", soname, err)
	}
	for _, tag := range []elf.DynTag{elf.DT_HASH, elf.DT_SYMTAB, elf.DT_STRTAB, elf.DT_VERSYM, elf.DT_VERDEF} {
		if v, err := f.DynValue(tag); err != nil || len(v) != 1 || v[0] >= load.Filesz {
			t.Errorf("%v = %v, %v", tag, v, err)
		}
	}
}

var wantSyms = []string{
	"__vdso_clock_gettime", "clock_gettime",
	"__vdso_gettimeofday", "gettimeofday",
	"__vdso_time", "time",
	"__vdso_getcpu", "getcpu",
	"__vdso_clock_getres", "clock_getres",
}

// TestImageSymbols checks every export: a function in .text at version
// LINUX_2.6, found through DT_HASH the way Go's runtime and musl look
// symbols up.
func TestImageSymbols(t *testing.T) {
	f := openImage(t)
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	text := f.Section(".text")
	byName := map[string]elf.Symbol{}
	for _, s := range syms {
		byName[s.Name] = s
	}
	for _, name := range wantSyms {
		s, ok := byName[name]
		switch {
		case !ok:
			t.Errorf("%s: missing", name)
			continue
		case s.Version != "LINUX_2.6":
			t.Errorf("%s: version %q, want LINUX_2.6", name, s.Version)
		case elf.ST_TYPE(s.Info) != elf.STT_FUNC || s.Section != elf.SectionIndex(indexOf(f, text)):
			t.Errorf("%s: type %v section %v", name, elf.ST_TYPE(s.Info), s.Section)
		case s.Value < text.Addr || s.Value+s.Size > text.Addr+text.Size || s.Size == 0:
			t.Errorf("%s: [%#x, +%d) outside .text", name, s.Value, s.Size)
		}
		if got := hashLookup(t, f, name); got != s.Value {
			t.Errorf("%s: DT_HASH lookup gives %#x, want %#x", name, got, s.Value)
		}
	}
	if got := hashLookup(t, f, "clock_settime"); got != 0 {
		t.Errorf("DT_HASH finds clock_settime at %#x", got)
	}
}

func indexOf(f *elf.File, s *elf.Section) int {
	for i, x := range f.Sections {
		if x == s {
			return i
		}
	}
	return -1
}

// hashLookup finds name through DT_HASH, DT_SYMTAB and DT_STRTAB alone,
// as a loader given only the program headers does.
func hashLookup(t *testing.T, f *elf.File, name string) uint64 {
	dv := func(tag elf.DynTag) uint64 {
		v, err := f.DynValue(tag)
		if err != nil || len(v) != 1 {
			t.Fatalf("%v: %v %v", tag, v, err)
		}
		return v[0]
	}
	hash, symtab, strtab := dv(elf.DT_HASH), dv(elf.DT_SYMTAB), dv(elf.DT_STRTAB)
	u32 := func(off uint64) uint32 { return binary.LittleEndian.Uint32(Image[off:]) }
	nbucket := u32(hash)
	h := uint32(0)
	for i := 0; i < len(name); i++ {
		h = h<<4 + uint32(name[i])
		h ^= (h & 0xf0000000) >> 24
		h &^= 0xf0000000
	}
	for i := u32(hash + 8 + 4*uint64(h%nbucket)); i != 0; i = u32(hash + 8 + 4*uint64(nbucket) + 4*uint64(i)) {
		sym := Image[symtab+24*uint64(i):]
		n := strtab + uint64(binary.LittleEndian.Uint32(sym))
		if end := bytes.IndexByte(Image[n:], 0); string(Image[n:n+uint64(end)]) == name {
			return binary.LittleEndian.Uint64(sym[8:])
		}
	}
	return 0
}

// TestImageCode decodes all of .text and checks that the code reaches
// the vvar page, one page below the image, RIP-relatively.
func TestImageCode(t *testing.T) {
	f := openImage(t)
	text := f.Section(".text")
	code := Image[text.Offset : text.Offset+text.Size]
	vvarRefs := 0
	for pc := 0; pc < len(code); {
		// RDPID r64 (F3 0F C7 /7, register form), which x86asm does
		// not know.
		if b := code[pc:]; len(b) >= 4 && b[0] == 0xf3 && b[1] == 0x0f && b[2] == 0xc7 && b[3]&0xf8 == 0xf8 {
			pc += 4
			continue
		}
		in, err := x86asm.Decode(code[pc:], 64)
		if err != nil {
			t.Fatalf(".text+%#x: %v", pc, err)
		}
		for _, a := range in.Args {
			if m, ok := a.(x86asm.Mem); ok && m.Base == x86asm.RIP {
				target := int64(text.Addr) + int64(pc+in.Len) + int64(int32(m.Disp))
				if target != -VVarSize {
					t.Errorf(".text+%#x: %v reaches %#x, not the vvar page", pc, in, target)
				}
				vvarRefs++
			}
		}
		pc += in.Len
	}
	if vvarRefs == 0 {
		t.Error("no RIP-relative reference to the vvar page")
	}
}

// TestVVarLayout pins the layout the image was assembled with.
func TestVVarLayout(t *testing.T) {
	var v VVar
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"Seq", unsafe.Offsetof(v.Seq), 0},
		{"TSCBase", unsafe.Offsetof(v.TSCBase), 8},
		{"NsBase", unsafe.Offsetof(v.NsBase), 16},
		{"Mult", unsafe.Offsetof(v.Mult), 24},
		{"Shift", unsafe.Offsetof(v.Shift), 32},
		{"WallOffset", unsafe.Offsetof(v.WallOffset), 40},
		{"GetCPU", unsafe.Offsetof(v.GetCPU), 48},
		{"size", unsafe.Sizeof(v), 56},
	} {
		if c.got != c.want {
			t.Errorf("%s at %d, want %d (regenerate the image and update this test)", c.name, c.got, c.want)
		}
	}
}

// TestParams compares the image's arithmetic with the kernel's
// tsc*1e9/hz: within a nanosecond over ten years of ticks.
func TestParams(t *testing.T) {
	ref := func(d, hz uint64) uint64 {
		hi, lo := bits.Mul64(d, 1e9)
		q, _ := bits.Div64(hi, lo, hz)
		return q
	}
	for _, hz := range []uint64{1, 1000, 1e8, 999_999_999, 1e9, 1_000_000_001, 2_495_123_457, 3e9, 5_123_456_789} {
		const base = 123456789
		p := NewParams(hz, base, -5)
		if p.Shift > 63 || p.Mult >= 1<<63 {
			t.Fatalf("hz %d: mult %d shift %d", hz, p.Mult, p.Shift)
		}
		for _, d := range []uint64{0, 1, 7, hz - 1, hz, hz + 1, 1e6 * hz / 1e3, 3600 * hz, 10 * 365 * 86400 * hz} {
			want := ref(d, hz)
			got := uint64(p.Monotonic(base + d))
			if got-want+1 > 2 { // |got - want| <= 1
				t.Errorf("hz %d ticks %d: %d ns, want %d", hz, d, got, want)
			}
			if r := p.Realtime(base + d); r != int64(got)-5 {
				t.Errorf("hz %d ticks %d: realtime %d, want %d", hz, d, r, int64(got)-5)
			}
		}
	}
}

// TestVVarSeqlock: readers never see a torn update.
func TestVVarSeqlock(t *testing.T) {
	var v VVar
	v.Store(Params{})
	if v.Seq != 2 {
		t.Errorf("sequence %d after one store, want 2", v.Seq)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := uint64(1); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			v.Store(Params{TSCBase: i, NsBase: i, Mult: i, Shift: uint32(i % 64), WallOffset: int64(i)})
		}
	}()
	for i := 0; i < 20000; i++ {
		p := v.Load()
		if p.TSCBase != p.NsBase || p.Mult != p.TSCBase || p.WallOffset != int64(p.TSCBase) ||
			p.TSCBase != 0 && p.Shift != uint32(p.TSCBase%64) {
			t.Fatalf("torn read %+v", p)
		}
	}
	close(stop)
	wg.Wait()
}
