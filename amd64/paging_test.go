package amd64_test

import (
	"testing"

	"yolk/amd64"
)

// fakeFrames is a FrameSource backed by Go arrays. Frames get sequential
// fake physical addresses starting at base; limit caps how many may be
// handed out (0: no cap).
type fakeFrames struct {
	t      *testing.T
	tables map[uint64]*amd64.Table
	next   uint64
	limit  int
	allocs int
}

const fakeBase = 0x100000

func newFakeFrames(t *testing.T) *fakeFrames {
	return &fakeFrames{t: t, tables: map[uint64]*amd64.Table{}, next: fakeBase}
}

func (f *fakeFrames) Alloc() (uint64, bool) {
	if f.limit > 0 && f.allocs >= f.limit {
		return 0, false
	}
	p := f.next
	f.next += amd64.PageSize
	f.tables[p] = new(amd64.Table)
	f.allocs++
	return p, true
}

func (f *fakeFrames) Table(phys uint64) *amd64.Table {
	t, ok := f.tables[phys]
	if !ok {
		f.t.Fatalf("Table(%#x): not a frame handed out by Alloc", phys)
	}
	return t
}

func newPT(t *testing.T) (*amd64.PageTable, *fakeFrames) {
	f := newFakeFrames(t)
	root, ok := f.Alloc()
	if !ok {
		t.Fatal("cannot allocate root")
	}
	return &amd64.PageTable{Root: root, Mem: f}, f
}

func idx(va uint64, level int) int { return int(va>>(12+9*uint(level))) & 511 }

// path returns the entries from the PML4 down to the given level (3..0)
// that map va, failing the test if a table is missing on the way.
func path(t *testing.T, pt *amd64.PageTable, va uint64, downTo int) []uint64 {
	t.Helper()
	var es []uint64
	tab := pt.Mem.Table(pt.Root)
	for level := 3; level >= downTo; level-- {
		e := tab[idx(va, level)]
		es = append(es, e)
		if level == downTo {
			break
		}
		if e&amd64.PTE_P == 0 {
			t.Fatalf("va %#x: level %d entry not present (%#x)", va, level, e)
		}
		tab = pt.Mem.Table(e & amd64.PTE_ADDR)
	}
	return es
}

func TestCanonical(t *testing.T) {
	cases := []struct {
		va   uint64
		want bool
	}{
		{0, true},
		{0x00007fffffffffff, true},
		{0x0000800000000000, false},
		{0x7fffffffffffffff, false},
		{0xffff7fffffffffff, false},
		{0xffff800000000000, true},
		{0xffff888000000000, true},
		{0xffffffff80200000, true},
		{0xffffffffffffffff, true},
		{0x8000000000000000, false},
		{0x0001000000000000, false},
	}
	for _, c := range cases {
		if got := amd64.Canonical(c.va); got != c.want {
			t.Errorf("Canonical(%#x) = %v, want %v", c.va, got, c.want)
		}
	}
}

func TestMapLookupTranslate(t *testing.T) {
	cases := []struct {
		name  string
		va    uint64
		phys  uint64
		flags uint64
	}{
		{"low user rw", 0x400000, 0x7000, amd64.PTE_W | amd64.PTE_U},
		{"low user ro nx", 0x401000, 0x8000, amd64.PTE_U | amd64.PTE_NX},
		{"kernel rw nx", 0x10000000, 0x9000, amd64.PTE_W | amd64.PTE_NX},
		{"kernel exec global", 0x10200000, 0xa000, amd64.PTE_G},
		{"direct map", 0xffff888000000000, 0x1234000, amd64.PTE_W | amd64.PTE_NX},
		{"kernel image", 0xffffffff80200000, 0x200000, amd64.PTE_G},
		{"top page", 0xfffffffffffff000, 0xb000, amd64.PTE_W},
		{"high phys", 0x7ffffffff000, 0x000ffffffffff000, amd64.PTE_W | amd64.PTE_U},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pt, _ := newPT(t)
			if !pt.Map(c.va, c.phys, c.flags) {
				t.Fatalf("Map(%#x) failed", c.va)
			}
			pte, ok := pt.Lookup(c.va)
			if !ok {
				t.Fatalf("Lookup(%#x): not present", c.va)
			}
			if want := c.phys | c.flags | amd64.PTE_P; pte != want {
				t.Errorf("pte = %#x, want %#x", pte, want)
			}
			for _, off := range []uint64{0, 1, 0x800, 0xfff} {
				got, ok := pt.Translate(c.va + off)
				if !ok || got != c.phys+off {
					t.Errorf("Translate(%#x) = %#x, %v; want %#x", c.va+off, got, ok, c.phys+off)
				}
			}
			// Neighbouring pages stay unmapped.
			for _, n := range []uint64{c.va - amd64.PageSize, c.va + amd64.PageSize} {
				if n+amd64.PageSize == 0 || n == 0 { // wrapped past the top
					continue
				}
				if _, ok := pt.Lookup(n); ok {
					t.Errorf("Lookup(%#x) present, want absent", n)
				}
				if _, ok := pt.Translate(n); ok {
					t.Errorf("Translate(%#x) ok, want absent", n)
				}
			}
		})
	}
}

func TestMapPhysAddressMasked(t *testing.T) {
	pt, _ := newPT(t)
	// Low bits of phys must not leak into the flags, nor bits above 51.
	if !pt.Map(0x1000, 0xfff0_0000_0000_5fff, amd64.PTE_W) {
		t.Fatal("Map failed")
	}
	pte, _ := pt.Lookup(0x1000)
	if want := uint64(0x5000 | amd64.PTE_W | amd64.PTE_P); pte != want {
		t.Errorf("pte = %#x, want %#x", pte, want)
	}
}

func TestUpperHalfIndices(t *testing.T) {
	cases := []struct {
		va      uint64
		indices [4]int // PML4, PDPT, PD, PT
	}{
		{0xffff888000000000, [4]int{273, 0, 0, 0}},
		{0xffffffff80200000, [4]int{511, 510, 1, 0}},
		{0xffffffff80201000, [4]int{511, 510, 1, 1}},
		{0x0000000000400000, [4]int{0, 0, 2, 0}},
	}
	for _, c := range cases {
		pt, _ := newPT(t)
		const phys = 0x5000
		if !pt.Map(c.va, phys, amd64.PTE_W) {
			t.Fatalf("Map(%#x) failed", c.va)
		}
		tab := pt.Mem.Table(pt.Root)
		for level := 3; level >= 0; level-- {
			want := c.indices[3-level]
			for i, e := range tab {
				if (e != 0) != (i == want) {
					t.Fatalf("va %#x level %d: entry %d = %#x; only entry %d should be set", c.va, level, i, e, want)
				}
			}
			if level > 0 {
				tab = pt.Mem.Table(tab[want] & amd64.PTE_ADDR)
			} else if tab[want]&amd64.PTE_ADDR != phys {
				t.Errorf("va %#x: leaf maps %#x, want %#x", c.va, tab[want]&amd64.PTE_ADDR, phys)
			}
		}
	}
}

func TestIntermediateFlags(t *testing.T) {
	cases := []struct {
		name  string
		flags uint64
		user  bool
	}{
		{"kernel", amd64.PTE_W | amd64.PTE_NX, false},
		{"kernel ro", amd64.PTE_NX, false},
		{"user rw nx", amd64.PTE_U | amd64.PTE_W | amd64.PTE_NX, true},
		{"user ro exec", amd64.PTE_U, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pt, _ := newPT(t)
			const va = 0x7f0000001000
			if !pt.Map(va, 0x5000, c.flags) {
				t.Fatal("Map failed")
			}
			es := path(t, pt, va, 0)
			for i, e := range es[:3] {
				level := 3 - i
				if e&amd64.PTE_P == 0 || e&amd64.PTE_W == 0 {
					t.Errorf("level %d entry %#x: want present and writable", level, e)
				}
				if e&amd64.PTE_NX != 0 || e&amd64.PTE_PS != 0 {
					t.Errorf("level %d entry %#x: NX/PS set on an intermediate entry", level, e)
				}
				if got := e&amd64.PTE_U != 0; got != c.user {
					t.Errorf("level %d entry %#x: user bit %v, want %v", level, e, got, c.user)
				}
			}
			leaf := es[3]
			for _, b := range []struct {
				name string
				bit  uint64
			}{{"W", amd64.PTE_W}, {"U", amd64.PTE_U}, {"NX", amd64.PTE_NX}} {
				if got, want := leaf&b.bit != 0, c.flags&b.bit != 0; got != want {
					t.Errorf("leaf %#x: %s bit %v, want %v", leaf, b.name, got, want)
				}
			}
		})
	}
}

func TestUserMappingAddsUserBitToSharedTables(t *testing.T) {
	pt, _ := newPT(t)
	const kva, uva = 0x400000, 0x401000 // same PT
	if !pt.Map(kva, 0x5000, amd64.PTE_W) {
		t.Fatal("kernel Map failed")
	}
	for _, e := range path(t, pt, kva, 1) {
		if e&amd64.PTE_U != 0 {
			t.Fatalf("kernel-only path has user bit: %#x", e)
		}
	}
	if !pt.Map(uva, 0x6000, amd64.PTE_W|amd64.PTE_U) {
		t.Fatal("user Map failed")
	}
	for i, e := range path(t, pt, uva, 1) {
		if e&amd64.PTE_U == 0 {
			t.Errorf("level %d entry %#x lacks the user bit after a user mapping", 3-i, e)
		}
	}
	// The kernel leaf itself stays supervisor-only.
	if pte, _ := pt.Lookup(kva); pte&amd64.PTE_U != 0 {
		t.Errorf("kernel leaf %#x gained the user bit", pte)
	}
}

func TestMapSharesTables(t *testing.T) {
	pt, f := newPT(t)
	if !pt.Map(0x400000, 0x5000, 0) {
		t.Fatal("Map failed")
	}
	if f.allocs != 4 {
		t.Fatalf("first Map: %d frames in use, want 4 (root + 3 tables)", f.allocs)
	}
	// Same page table: no new tables.
	pt.Map(0x401000, 0x6000, 0)
	if f.allocs != 4 {
		t.Errorf("Map in the same PT allocated tables: %d frames", f.allocs)
	}
	// Remapping the same page replaces the entry.
	pt.Map(0x400000, 0x7000, amd64.PTE_W)
	if p, _ := pt.Translate(0x400000); p != 0x7000 || f.allocs != 4 {
		t.Errorf("remap: Translate = %#x, frames %d; want 0x7000, 4", p, f.allocs)
	}
	// Next PD entry: one new PT.
	pt.Map(0x600000, 0x8000, 0)
	if f.allocs != 5 {
		t.Errorf("Map in the next 2 MiB: %d frames, want 5", f.allocs)
	}
	// Next PML4 entry: three new tables.
	pt.Map(0x8000000000, 0x9000, 0)
	if f.allocs != 8 {
		t.Errorf("Map in the next 512 GiB: %d frames, want 8", f.allocs)
	}
}

func TestMapOutOfFrames(t *testing.T) {
	for limit := 1; limit <= 3; limit++ {
		pt, f := newPT(t)
		f.limit = 1 + limit // root + limit tables: one short of 3 tables when limit < 3
		ok := pt.Map(0x400000, 0x5000, amd64.PTE_W)
		if ok != (limit == 3) {
			t.Errorf("limit %d tables: Map = %v", limit, ok)
		}
		if _, present := pt.Lookup(0x400000); present != ok {
			t.Errorf("limit %d tables: Lookup present = %v, Map = %v", limit, present, ok)
		}
	}
}

func TestUnmap(t *testing.T) {
	pt, f := newPT(t)
	const va = 0x7f0000000000
	if _, ok := pt.Unmap(va); ok {
		t.Error("Unmap of a never-mapped page (no tables) succeeded")
	}
	if f.allocs != 1 {
		t.Errorf("Unmap created tables: %d frames", f.allocs)
	}
	pt.Map(va, 0x5000, amd64.PTE_W|amd64.PTE_U)
	pt.Map(va+amd64.PageSize, 0x6000, amd64.PTE_W|amd64.PTE_U)
	if _, ok := pt.Unmap(va + 2*amd64.PageSize); ok {
		t.Error("Unmap of an unmapped page in a present table succeeded")
	}
	phys, ok := pt.Unmap(va + 0x123) // any address in the page
	if !ok || phys != 0x5000 {
		t.Fatalf("Unmap = %#x, %v; want 0x5000, true", phys, ok)
	}
	if _, ok := pt.Lookup(va); ok {
		t.Error("page still present after Unmap")
	}
	if _, ok := pt.Unmap(va); ok {
		t.Error("second Unmap succeeded")
	}
	if p, ok := pt.Translate(va + amd64.PageSize); !ok || p != 0x6000 {
		t.Errorf("neighbour lost: Translate = %#x, %v", p, ok)
	}
}

func TestProtect(t *testing.T) {
	const va = 0x400000
	cases := []struct {
		name       string
		from, to   uint64
		wantInterU bool // user bit on intermediate entries afterwards
	}{
		{"rw to ro", amd64.PTE_W | amd64.PTE_U, amd64.PTE_U, true},
		{"ro to rw nx", amd64.PTE_U, amd64.PTE_U | amd64.PTE_W | amd64.PTE_NX, true},
		{"kernel to user", amd64.PTE_W, amd64.PTE_W | amd64.PTE_U, true},
		{"kernel rw to ro", amd64.PTE_W | amd64.PTE_NX, amd64.PTE_NX, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pt, _ := newPT(t)
			pt.Map(va, 0x5000, c.from)
			if !pt.Protect(va, c.to) {
				t.Fatal("Protect of a mapped page failed")
			}
			pte, ok := pt.Lookup(va)
			if want := 0x5000 | c.to | amd64.PTE_P; !ok || pte != want {
				t.Errorf("pte = %#x, want %#x", pte, want)
			}
			for i, e := range path(t, pt, va, 1) {
				if got := e&amd64.PTE_U != 0; got != c.wantInterU {
					t.Errorf("level %d entry %#x: user bit %v, want %v", 3-i, e, got, c.wantInterU)
				}
			}
		})
	}
	pt, f := newPT(t)
	if pt.Protect(va, amd64.PTE_W) {
		t.Error("Protect of an unmapped page (no tables) succeeded")
	}
	pt.Map(va, 0x5000, 0)
	if pt.Protect(va+amd64.PageSize, amd64.PTE_W) {
		t.Error("Protect of an unmapped page succeeded")
	}
	if _, ok := pt.Lookup(va + amd64.PageSize); ok {
		t.Error("Protect made an unmapped page present")
	}
	if f.allocs != 4 {
		t.Errorf("Protect allocated tables: %d frames", f.allocs)
	}
}

func TestMapHuge(t *testing.T) {
	cases := []struct {
		name  string
		va    uint64
		phys  uint64
		flags uint64
		user  bool
	}{
		{"kernel image", 0xffffffff80200000, 0x200000, amd64.PTE_W | amd64.PTE_G, false},
		{"direct map", 0xffff888000000000, 0x40000000, amd64.PTE_W | amd64.PTE_NX, false},
		{"user", 0x40000000, 0x600000, amd64.PTE_U | amd64.PTE_W, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pt, f := newPT(t)
			if !pt.MapHuge(c.va, c.phys, c.flags) {
				t.Fatal("MapHuge failed")
			}
			if f.allocs != 3 {
				t.Errorf("MapHuge used %d frames, want 3 (root, PDPT, PD)", f.allocs)
			}
			es := path(t, pt, c.va, 1)
			for i, e := range es[:2] {
				if got := e&amd64.PTE_U != 0; got != c.user {
					t.Errorf("level %d entry %#x: user bit %v, want %v", 3-i, e, got, c.user)
				}
			}
			if want := c.phys | c.flags | amd64.PTE_P | amd64.PTE_PS; es[2] != want {
				t.Errorf("PDE = %#x, want %#x", es[2], want)
			}
			for _, off := range []uint64{0, 0x1000, 0x12345, amd64.HugeSize - 1} {
				pte, ok := pt.Lookup(c.va + off)
				if !ok || pte&amd64.PTE_PS == 0 {
					t.Errorf("Lookup(+%#x) = %#x, %v; want the huge entry", off, pte, ok)
				}
				p, ok := pt.Translate(c.va + off)
				if !ok || p != c.phys+off {
					t.Errorf("Translate(+%#x) = %#x, %v; want %#x", off, p, ok, c.phys+off)
				}
			}
			if _, ok := pt.Lookup(c.va + amd64.HugeSize); ok {
				t.Error("next 2 MiB present")
			}

			// 4 KiB operations inside the huge page fail and allocate nothing.
			before := f.allocs
			for _, off := range []uint64{0, 0x1000, amd64.HugeSize - amd64.PageSize} {
				if pt.Map(c.va+off, 0x5000, amd64.PTE_W) {
					t.Errorf("Map(+%#x) inside a huge page succeeded", off)
				}
				if _, ok := pt.Unmap(c.va + off); ok {
					t.Errorf("Unmap(+%#x) inside a huge page succeeded", off)
				}
				if pt.Protect(c.va+off, 0) {
					t.Errorf("Protect(+%#x) inside a huge page succeeded", off)
				}
			}
			if f.allocs != before {
				t.Errorf("4 KiB operations inside a huge page allocated %d frames", f.allocs-before)
			}
			if p, ok := pt.Translate(c.va + 0x1000); !ok || p != c.phys+0x1000 {
				t.Errorf("huge mapping damaged: Translate = %#x, %v", p, ok)
			}
		})
	}
}

func TestMapHugeTranslateMasksPAT(t *testing.T) {
	// In a 2 MiB entry bit 12 is PAT, not an address bit: Translate must
	// not add it to the physical address.
	pt, _ := newPT(t)
	const patBit = 1 << 12
	pt.MapHuge(0x200000, 0x400000|patBit, amd64.PTE_W)
	if p, ok := pt.Translate(0x200010); !ok || p != 0x400010 {
		t.Errorf("Translate = %#x, %v; want 0x400010", p, ok)
	}
}

func TestMapHugeOutOfFrames(t *testing.T) {
	pt, f := newPT(t)
	f.limit = 2 // root + PDPT, no PD
	if pt.MapHuge(0x200000, 0x200000, 0) {
		t.Error("MapHuge succeeded without a frame for the PD")
	}
	if _, ok := pt.Lookup(0x200000); ok {
		t.Error("page present after a failed MapHuge")
	}
}
