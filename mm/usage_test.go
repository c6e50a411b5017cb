package mm_test

import (
	"testing"

	"yolk/mm"
	"yolk/mm/mmtest"
)

// cache is a page cache for a test: it holds one reference on each page
// it hands out, as syscallshim's fileCache does.
type cache struct {
	phys  *mmtest.Phys
	pages map[uint64]uint64
}

func (c *cache) Page(off uint64) (uint64, error) {
	p, ok := c.pages[off]
	if !ok {
		p, _ = c.phys.Alloc()
		c.pages[off] = p
	}
	c.phys.IncRef(p)
	return p, nil
}
func (c *cache) IncRef()                     {}
func (c *cache) DecRef()                     {}
func (c *cache) Holds(off, phys uint64) bool { p, ok := c.pages[off]; return ok && p == phys }

// TestUsage: two address spaces mapping the same file pages each count
// them as file pages with half the proportional share; anonymous pages
// written are private and dirty; a private copy of a file page is
// anonymous; shared anonymous memory is shmem.
func TestUsage(t *testing.T) {
	phys := mmtest.NewPhys(1 << 20)
	c := &cache{phys: phys, pages: map[uint64]uint64{}}
	a, b := mmtest.NewASPhys(t, phys), mmtest.NewASPhys(t, phys)
	const file = 8 // file pages mapped by both
	var buf [1]byte
	for _, as := range []*mm.AddressSpace{a, b} {
		lib, err := as.Map(0x200000, file*pg, ro, mm.Fixed, c, 0, "/lib/x.so")
		if err != nil {
			t.Fatal(err)
		}
		for i := uint64(0); i < file; i++ {
			if _, err := as.CopyIn(lib+i*pg, buf[:]); err != nil {
				t.Fatal(err)
			}
		}
	}
	u := b.Usage()
	want := mm.Usage{
		Size: file * pg, Rss: file * pg, File: file * pg,
		Pss: file * pg / 2 << mm.PssShift, PssFile: file * pg / 2 << mm.PssShift,
		SharedClean: file * pg, Referenced: file * pg,
	}
	if u != want {
		t.Errorf("b after mapping the file pages:\n%+v\nwant\n%+v", u, want)
	}

	// a: 3 anonymous pages written; one file page written in a private
	// writable mapping (a copy: anonymous); 2 pages of shared memory.
	anon := mustMap(t, a, 0x400000, 3*pg, rw, mm.Fixed)
	for i := uint64(0); i < 3; i++ {
		a.CopyOut(anon+i*pg, []byte{1})
	}
	priv, err := a.Map(0x500000, pg, rw, mm.Fixed, c, 0, "/lib/x.so")
	if err != nil {
		t.Fatal(err)
	}
	a.CopyOut(priv, []byte{2})
	shm := mm.NewSharedAnon(phys, 2*pg)
	defer shm.DecRef()
	sh, err := a.Map(0x600000, 2*pg, rw, mm.Fixed|mm.Shared, shm, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	a.CopyIn(sh, buf[:])
	a.CopyIn(sh+pg, buf[:])
	u = a.Usage()
	fileShare := uint64(file * pg / 2 << mm.PssShift)
	want = mm.Usage{
		Size: (file + 3 + 1 + 2) * pg, Rss: (file + 3 + 1 + 2) * pg,
		Anon: 4 * pg, File: file * pg, Shmem: 2 * pg,
		Pss:      fileShare + (4*pg+2*pg)<<mm.PssShift,
		PssDirty: 4 * pg << mm.PssShift,
		PssAnon:  4 * pg << mm.PssShift, PssFile: fileShare, PssShmem: 2 * pg << mm.PssShift,
		SharedClean: file * pg, PrivateClean: 2 * pg, PrivateDirty: 4 * pg,
		Referenced: (file + 3 + 1 + 2) * pg,
	}
	if u != want {
		t.Errorf("a:\n%+v\nwant\n%+v", u, want)
	}

	// b forgets the file: a's file pages are its own again.
	if err := b.Unmap(0x200000, file*pg); err != nil {
		t.Fatal(err)
	}
	if u := a.Usage(); u.SharedClean != 0 || u.PrivateClean != (file+2)*pg || u.PssFile != file*pg<<mm.PssShift {
		t.Errorf("a alone: %+v", u)
	}
}
