package amd64

// Page-table entry bits (Intel SDM Vol. 3A 4.5, table 4-19/4-20).
const (
	PTE_P   = 1 << 0  // present
	PTE_W   = 1 << 1  // writable
	PTE_U   = 1 << 2  // user (ring 3) may access
	PTE_PWT = 1 << 3  // write-through
	PTE_PCD = 1 << 4  // cache disable
	PTE_A   = 1 << 5  // accessed
	PTE_D   = 1 << 6  // dirty
	PTE_PS  = 1 << 7  // large page (in PDPTE/PDE)
	PTE_G   = 1 << 8  // global
	PTE_NX  = 1 << 63 // no execute (needs EFER.NXE)

	PTE_ADDR = 0x000ffffffffff000 // physical address bits of an entry

	PageSize  = 4096
	PageShift = 12
	HugeSize  = 2 << 20
)

// Table is one level of the page-table tree.
type Table [512]uint64

// FrameSource gives a page-table builder its memory: Alloc returns the
// physical address of a zeroed 4 KiB frame (ok false when none is left),
// and Table returns the table stored in the frame at a physical address.
// The kernel backs it with the frame allocator and the direct map; tests
// with Go arrays.
type FrameSource interface {
	Alloc() (phys uint64, ok bool)
	Table(phys uint64) *Table
}

// PageTable is a 4-level page-table tree rooted at Root (the value for
// CR3). It is shared by every address-space user: the kernel's own
// mappings, the loader and mmap.
type PageTable struct {
	Root uint64
	Mem  FrameSource
}

func index(va uint64, level int) int { return int(va>>(12+9*uint(level))) & 511 }

// Canonical reports whether va is a canonical 48-bit address.
func Canonical(va uint64) bool {
	top := va >> 47
	return top == 0 || top == 0x1ffff
}

// walk returns the level-0 (PTE) slot for va, creating missing tables when
// create is set; intermediate entries get the user bit when user is set so
// that the leaf decides access. It returns nil when a table is missing (or
// cannot be allocated), or when a large page maps va.
func (pt *PageTable) walk(va uint64, create, user bool) *uint64 {
	t := pt.Mem.Table(pt.Root)
	for level := 3; level > 0; level-- {
		e := &t[index(va, level)]
		if *e&PTE_P == 0 {
			if !create {
				return nil
			}
			phys, ok := pt.Mem.Alloc()
			if !ok {
				return nil
			}
			*e = phys | PTE_P | PTE_W
		}
		if *e&PTE_PS != 0 {
			return nil
		}
		if user {
			*e |= PTE_U
		}
		t = pt.Mem.Table(*e & PTE_ADDR)
	}
	return &t[index(va, 0)]
}

// Map maps the 4 KiB page at va to phys with flags (PTE_P is implied). It
// reports false when a table could not be allocated or a large page is in
// the way.
func (pt *PageTable) Map(va, phys, flags uint64) bool {
	e := pt.walk(va, true, flags&PTE_U != 0)
	if e == nil {
		return false
	}
	*e = phys&PTE_ADDR | flags | PTE_P
	return true
}

// MapHuge maps the 2 MiB page at va (2 MiB aligned) to phys.
func (pt *PageTable) MapHuge(va, phys, flags uint64) bool {
	t := pt.Mem.Table(pt.Root)
	for level := 3; level > 1; level-- {
		e := &t[index(va, level)]
		if *e&PTE_P == 0 {
			p, ok := pt.Mem.Alloc()
			if !ok {
				return false
			}
			*e = p | PTE_P | PTE_W
		}
		if flags&PTE_U != 0 {
			*e |= PTE_U
		}
		t = pt.Mem.Table(*e & PTE_ADDR)
	}
	t[index(va, 1)] = phys&PTE_ADDR | flags | PTE_P | PTE_PS
	return true
}

// Lookup returns the leaf entry mapping va (4 KiB or 2 MiB) and whether it
// is present.
func (pt *PageTable) Lookup(va uint64) (pte uint64, ok bool) {
	t := pt.Mem.Table(pt.Root)
	for level := 3; level >= 0; level-- {
		e := t[index(va, level)]
		if e&PTE_P == 0 {
			return 0, false
		}
		if level == 0 || e&PTE_PS != 0 {
			return e, true
		}
		t = pt.Mem.Table(e & PTE_ADDR)
	}
	return 0, false
}

// Translate returns the physical address va maps to.
func (pt *PageTable) Translate(va uint64) (uint64, bool) {
	e, ok := pt.Lookup(va)
	if !ok {
		return 0, false
	}
	if e&PTE_PS != 0 {
		return e&PTE_ADDR&^(HugeSize-1) | va&(HugeSize-1), true
	}
	return e&PTE_ADDR | va&(PageSize-1), true
}

// Unmap clears the 4 KiB mapping of va and returns the physical page it
// mapped. The caller flushes the TLB.
func (pt *PageTable) Unmap(va uint64) (phys uint64, ok bool) {
	e := pt.walk(va, false, false)
	if e == nil || *e&PTE_P == 0 {
		return 0, false
	}
	phys = *e & PTE_ADDR
	*e = 0
	return phys, true
}

// Protect replaces the flags of a present 4 KiB mapping, keeping its
// physical page. It reports whether va was mapped.
func (pt *PageTable) Protect(va, flags uint64) bool {
	e := pt.walk(va, false, false)
	if e == nil || *e&PTE_P == 0 {
		return false
	}
	if flags&PTE_U != 0 {
		pt.walk(va, false, true) // user bit on the intermediate entries
	}
	*e = *e&PTE_ADDR | flags | PTE_P
	return true
}
