package mm_test

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"

	"yolk/amd64"
	"yolk/mm"
	"yolk/mm/mmtest"
)

func read(t *testing.T, as *mm.AddressSpace, va uint64, n int) string {
	t.Helper()
	b := make([]byte, n)
	if got, err := as.CopyIn(va, b); err != nil || got != n {
		t.Fatalf("CopyIn(%#x) = %d %v", va, got, err)
	}
	return string(b)
}

func write(t *testing.T, as *mm.AddressSpace, va uint64, s string) {
	t.Helper()
	if n, err := as.CopyOut(va, []byte(s)); err != nil || n != len(s) {
		t.Fatalf("CopyOut(%#x) = %d %v", va, n, err)
	}
}

func TestForkCOW(t *testing.T) {
	p := mmtest.NewPhys(1000)
	parent := mmtest.NewASPhys(t, p)
	a := mustMap(t, parent, 0, 4*pg, rw, 0)
	r := mustMap(t, parent, 0, pg, ro, 0)
	for i := uint64(0); i < 4; i++ {
		write(t, parent, a+i*pg, "page")
	}
	parent.Fault(r, mm.Read)
	used := p.InUse()
	child, err := parent.Fork()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(child.Release)
	if parent.Resident() != 5 || child.Resident() != 5 {
		t.Fatalf("resident %d %d, want 5 5", parent.Resident(), child.Resident())
	}
	// Only the child's tables are new: no page was copied.
	if n := p.InUse() - used; n != 4 {
		t.Fatalf("Fork took %d frames, want 4 (root and three tables)", n)
	}
	for _, as := range []*mm.AddressSpace{parent, child} {
		e := mm.Leaf(as, a)
		if e&amd64.PTE_W != 0 || e&mm.PTECOW == 0 {
			t.Fatalf("entry %#x after fork is not copy-on-write", e)
		}
	}
	if mm.Leaf(parent, a)&amd64.PTE_ADDR != mm.Leaf(child, a)&amd64.PTE_ADDR {
		t.Fatal("child maps another frame")
	}
	if n := p.Refs(mm.Leaf(parent, a) & amd64.PTE_ADDR); n != 2 {
		t.Fatalf("refcount %d, want 2", n)
	}

	write(t, parent, a, "PARENT")
	write(t, child, a+pg, "CHILD")
	if s := read(t, parent, a, 6) + read(t, child, a, 6); s != "PARENTpage\x00\x00" {
		t.Fatalf("page 0: %q", s)
	}
	if s := read(t, parent, a+pg, 5) + read(t, child, a+pg, 5); s != "page\x00CHILD" {
		t.Fatalf("page 1: %q", s)
	}
	// Untouched pages stay shared; the two written ones were copied once each.
	if n := p.Refs(mm.Leaf(child, a+2*pg) & amd64.PTE_ADDR); n != 2 {
		t.Fatalf("untouched page refcount %d", n)
	}
	if n := p.InUse() - used; n != 4+2 {
		t.Fatalf("%d frames more than before fork, want 6", n)
	}
	// The parent's page 1 is now its own again: a write needs no copy.
	pf := mm.Leaf(parent, a+pg) & amd64.PTE_ADDR
	if n := p.Refs(pf); n != 1 {
		t.Fatalf("parent's page 1 refcount %d", n)
	}
	write(t, parent, a+pg, "P")
	if mm.Leaf(parent, a+pg)&amd64.PTE_ADDR != pf {
		t.Fatal("sole-owner COW page copied")
	}
	// The read-only page stays read-only in both.
	if n, err := child.CopyOut(r, []byte{1}); n != 0 || err != unix.EFAULT {
		t.Fatalf("write to read-only in child: %d %v", n, err)
	}
	child.Release()
	if n := p.InUse() - used; n != 0 {
		t.Fatalf("%d frames left after the child's Release", n)
	}
	if s := read(t, parent, a+2*pg, 4); s != "page" {
		t.Fatalf("parent lost a page: %q", s)
	}
}

func TestForkCycles(t *testing.T) {
	p := mmtest.NewPhys(10000)
	as := mmtest.NewASPhys(t, p)
	a := mustMap(t, as, 0, 64*pg, rw, 0)
	s := mm.NewSharedAnon(p, 8*pg)
	b, _ := as.Map(0, 8*pg, rw, mm.Shared, s, 0, "")
	s.DecRef()
	as.ZeroOut(a, 64*pg)
	as.ZeroOut(b, 8*pg)
	start := p.InUse()
	for i := 0; i < 1000; i++ {
		c, err := as.Fork()
		if err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			write(t, c, a+uint64(i%64)*pg, "x")
			write(t, c, b+uint64(i%8)*pg+8, "y")
		}
		c.Release()
	}
	if n := p.InUse(); n != start {
		t.Fatalf("in use %d after 1000 Fork+Release, was %d", n, start)
	}
	as.Release()
	if n := p.InUse(); n != 0 {
		t.Fatalf("in use %d after Release", n)
	}
}

func TestSharedAcrossFork(t *testing.T) {
	p := mmtest.NewPhys(100)
	parent := mmtest.NewASPhys(t, p)
	s := mm.NewSharedAnon(p, 2*pg+1) // three pages
	a, err := parent.Map(0, 4*pg, rw, mm.Shared, s, 0, "/dev/zero (deleted)")
	s.DecRef()
	if err != nil {
		t.Fatal(err)
	}
	write(t, parent, a, "before")
	child, err := parent.Fork()
	if err != nil {
		t.Fatal(err)
	}
	defer child.Release()
	write(t, child, a+3, "CHILD")
	write(t, parent, a+pg, "parent")
	if got := read(t, parent, a, 8); got != "befCHILD" {
		t.Fatalf("parent sees %q", got)
	}
	if got := read(t, child, a+pg, 6); got != "parent" {
		t.Fatalf("child sees %q", got)
	}
	// Beyond the object's end: SIGBUS, EFAULT for a copy.
	if r := parent.Fault(a+3*pg, mm.Read); r != mm.FaultBus {
		t.Fatalf("fault past the end: %v", r)
	}
	if n, err := child.CopyIn(a+3*pg-2, make([]byte, 4)); n != 2 || err != unix.EFAULT {
		t.Fatalf("CopyIn past the end: %d %v", n, err)
	}
	parent.Release()
	if got := read(t, child, a, 8); got != "befCHILD" {
		t.Fatalf("child after the parent's release sees %q", got)
	}
	child.Release()
	if n := p.InUse(); n != 0 {
		t.Fatalf("%d frames left", n)
	}
}

// fileBacking is a read-only "file" of size bytes whose pages hold their
// page number, as a page cache would (one reference kept by the cache).
type fileBacking struct {
	p     *mmtest.Phys
	size  uint64
	pages map[uint64]uint64
	refs  int
}

func (f *fileBacking) Page(off uint64) (uint64, error) {
	if off >= f.size {
		return 0, mm.ErrBeyondEOF
	}
	ph, ok := f.pages[off]
	if !ok {
		ph, _ = f.p.Alloc()
		f.p.Page(ph)[0] = byte(off / pg)
		f.pages[off] = ph
	}
	f.p.IncRef(ph)
	return ph, nil
}
func (f *fileBacking) IncRef() { f.refs++ }
func (f *fileBacking) DecRef() { f.refs-- }

func TestPrivateFile(t *testing.T) {
	p := mmtest.NewPhys(100)
	as := mmtest.NewASPhys(t, p)
	f := &fileBacking{p: p, size: 3 * pg, pages: map[uint64]uint64{}}
	a, err := as.Map(0, 4*pg, rw, 0, f, pg, "/bin/file")
	if err != nil {
		t.Fatal(err)
	}
	if f.refs != 1 {
		t.Fatalf("Map took %d references", f.refs)
	}
	if got := read(t, as, a, 1); got != "\x01" {
		t.Fatalf("page 0 of the mapping: %q", got)
	}
	if e := mm.Leaf(as, a); e&amd64.PTE_W != 0 || e&amd64.PTE_ADDR != f.pages[pg] {
		t.Fatalf("private file page not mapped read-only from the cache: %#x", e)
	}
	write(t, as, a, "W")
	if e := mm.Leaf(as, a); e&amd64.PTE_ADDR == f.pages[pg] || p.Page(f.pages[pg])[0] != 1 {
		t.Fatal("write reached the page cache")
	}
	write(t, as, a+pg, "V") // first touch is a write: a copy at once
	if got := read(t, as, a+pg, 2); got != "V\x00" || p.Page(f.pages[2*pg])[0] != 2 {
		t.Fatalf("page 1: %q", got)
	}
	if r := as.FaultFast(a+3*pg, mm.Read); r != mm.FaultSlow {
		t.Fatalf("FaultFast on a file mapping: %v", r)
	}
	if r := as.Fault(a+2*pg, mm.Read); r != mm.FaultBus {
		t.Fatalf("page past EOF: %v", r)
	}
	as.Release()
	if f.refs != 0 {
		t.Fatalf("%d references left", f.refs)
	}
	if n := p.InUse(); n != len(f.pages) {
		t.Fatalf("%d frames in use, the cache holds %d", n, len(f.pages))
	}
}

func TestFaultFast(t *testing.T) {
	p := mmtest.NewPhys(1 << 12)
	as := mmtest.NewASPhys(t, p)
	a := mustMap(t, as, 0, 512*pg, rw, 0)
	r := mustMap(t, as, 0, pg, ro, 0)
	s := mm.NewSharedAnon(p, pg)
	sh, _ := as.Map(0, pg, rw, mm.Shared, s, 0, "")
	s.DecRef()
	for _, c := range []struct {
		name string
		va   uint64
		acc  mm.Access
		want mm.FaultResult
	}{
		{"demand zero", a, mm.Write, mm.FaultMapped},
		{"again (spurious)", a, mm.Write, mm.FaultMapped},
		{"read", a + pg, mm.Read, mm.FaultMapped},
		{"write to read-only", r, mm.Write, mm.FaultDenied},
		{"exec of non-exec", a, mm.Exec, mm.FaultDenied},
		{"unmapped", 0x10000000, mm.Read, mm.FaultDenied},
		{"kernel address", 0xffff800000001000, mm.Read, mm.FaultDenied},
		{"shared", sh, mm.Read, mm.FaultSlow},
	} {
		if got := as.FaultFast(c.va, c.acc); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	mm.SetBusy(as, true)
	if got := as.FaultFast(a+2*pg, mm.Read); got != mm.FaultSlow {
		t.Errorf("busy: %v", got)
	}
	mm.SetBusy(as, false)
	if got := as.Fault(sh, mm.Write); got != mm.FaultMapped {
		t.Errorf("Fault on shared: %v", got)
	}

	// No Go allocation, in the demand-zero and the copy-on-write cases.
	p.Grow(1 << 12)
	c, err := as.Fork()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	va := a + 10*pg
	if n := testing.AllocsPerRun(100, func() {
		if as.FaultFast(va, mm.Write) != mm.FaultMapped {
			panic("demand zero failed")
		}
		va += pg
	}); n != 0 {
		t.Errorf("FaultFast demand-zero: %v allocations", n)
	}
	// Page 1 was read before the fork: shared, refcount 2, a copy to make.
	if p.Refs(mm.Leaf(c, a+pg)&amd64.PTE_ADDR) != 2 {
		t.Fatal("page not shared after fork")
	}
	cow := []uint64{a, a + pg}
	i := 0
	if n := testing.AllocsPerRun(1, func() {
		if c.FaultFast(cow[i], mm.Write) != mm.FaultMapped {
			panic("COW failed")
		}
		i++
	}); n != 0 {
		t.Errorf("FaultFast COW: %v allocations", n)
	}
	if got := read(t, as, a+pg, 1) + read(t, c, a+pg, 1); got != "\x00\x00" {
		t.Fatalf("%q", got)
	}
	if mm.Leaf(c, a+pg)&amd64.PTE_ADDR == mm.Leaf(as, a+pg)&amd64.PTE_ADDR {
		t.Fatal("COW not broken")
	}
}

// A goroutine changing the space and the fast path running at once (run
// with -race): they exclude each other.
func TestFaultFastConcurrent(t *testing.T) {
	as := mmtest.NewAS(t)
	a := mustMap(t, as, 0, 256*pg, rw, 0)
	done := make(chan bool)
	go func() {
		for i := 0; i < 200; i++ {
			as.Protect(a+uint64(i%256)*pg, pg, ro)
			as.Protect(a+uint64(i%256)*pg, pg, rw)
			as.Discard(a+uint64(i*7%256)*pg, pg)
		}
		close(done)
	}()
	slow := 0
	for i := 0; ; i++ {
		select {
		case <-done:
			t.Logf("%d fast faults went slow", slow)
			b := make([]byte, 256*pg)
			if n, err := as.CopyIn(a, b); n != len(b) || err != nil || !bytes.Equal(b, make([]byte, len(b))) {
				t.Fatal("bad contents")
			}
			return
		default:
		}
		switch as.FaultFast(a+uint64(i%256)*pg, mm.Read) {
		case mm.FaultSlow:
			slow++
		case mm.FaultMapped, mm.FaultDenied:
		default:
			t.Fatal("unexpected result")
		}
	}
}
