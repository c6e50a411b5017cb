package mm

import (
	"golang.org/x/sys/unix"

	"yolk/amd64"
)

// Software bits of a user leaf entry (bits 9-11 are ignored by the CPU,
// Intel SDM Vol. 3A table 4-19).
const (
	// pteHeld marks a non-present entry that still owns its frame: a
	// page made PROT_NONE keeps its contents for a later mprotect.
	pteHeld = 1 << 9
	// pteCOW marks a private page whose frame may be shared (after fork,
	// or a file's page-cache frame): a write copies it unless the
	// mapping is its only user. PTE_W is clear while it is set.
	pteCOW = 1 << 10
)

// pteTable is how upper-level entries pointing at user tables look: the
// leaf decides access, so they allow everything.
const pteTable = amd64.PTE_P | amd64.PTE_W | amd64.PTE_U

const pageMask = amd64.PageSize - 1

func pageDown(a uint64) uint64 { return a &^ pageMask }

// pageUp rounds a up to a page; 0 means it overflowed (or a was 0).
func pageUp(a uint64) uint64 { return (a + pageMask) &^ pageMask }

// leaf returns the entry for frame phys in a VMA of prot; cow keeps the
// page read-only until a write fault copies it.
func leaf(phys uint64, prot uint32, cow bool) uint64 {
	if prot&(unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC) == 0 {
		e := phys | pteHeld
		if cow {
			e |= pteCOW
		}
		return e
	}
	e := phys | amd64.PTE_P | amd64.PTE_U
	if cow {
		e |= pteCOW
	} else if prot&unix.PROT_WRITE != 0 {
		e |= amd64.PTE_W
	}
	if prot&unix.PROT_EXEC == 0 {
		e |= amd64.PTE_NX
	}
	return e
}

// framed reports whether a leaf entry owns a frame (present or held).
func framed(e uint64) bool { return e&(amd64.PTE_P|pteHeld) != 0 }

// slot returns the leaf entry for va, creating missing tables when create
// is set. It returns nil when a table is missing (create unset) or no
// frame was left for one. It does not allocate Go memory: FaultFast uses
// it.
func (as *AddressSpace) slot(va uint64, create bool) *uint64 {
	if d := as.direct; d != 0 && !create {
		return slotDirect(d, as.root, va)
	}
	t := as.table(as.root)
	for shift := uint(39); shift > 12; shift -= 9 {
		e := &t[(va>>shift)&511]
		if *e&amd64.PTE_P == 0 {
			if !create {
				return nil
			}
			p, ok := as.phys.Alloc()
			if !ok {
				return nil
			}
			*e = p | pteTable
		}
		t = as.table(*e & amd64.PTE_ADDR)
	}
	return &t[(va>>12)&511]
}

// slotDirect is slot without create for a space with a direct map at d:
// the walk of every copy and of the trap handler's fast paths, without a
// call per level.
func slotDirect(d, root, va uint64) *uint64 {
	t := tableAt(d, root)
	for shift := uint(39); shift > 12; shift -= 9 {
		e := t[(va>>shift)&511]
		if e&amd64.PTE_P == 0 {
			return nil
		}
		t = tableAt(d, e&amd64.PTE_ADDR)
	}
	return &t[(va>>12)&511]
}

// walk calls fn for every non-zero leaf entry in [start, end), skipping
// absent upper-level entries whole (512 GiB, 1 GiB, 2 MiB at a time).
// With prune set, tables left empty are freed (the caller flushes the
// TLB); it reports whether any was.
func (as *AddressSpace) walk(start, end uint64, prune bool, fn func(va uint64, e *uint64)) (pruned bool) {
	if start >= end {
		return false
	}
	return as.walkTable(as.root, 3, 0, start, end, prune, fn)
}

func (as *AddressSpace) walkTable(tp uint64, level uint, base, start, end uint64, prune bool, fn func(va uint64, e *uint64)) (pruned bool) {
	t := as.table(tp)
	shift := 12 + 9*level
	span := uint64(1) << shift
	first := uint64(0)
	if start > base {
		first = (start - base) >> shift
	}
	last := (end - 1 - base) >> shift
	if last > 511 {
		last = 511
	}
	for i := first; i <= last; i++ {
		e := &t[i]
		va := base + i<<shift
		if level == 0 {
			if *e != 0 {
				fn(va, e)
			}
			continue
		}
		if *e&amd64.PTE_P == 0 {
			continue
		}
		child := *e & amd64.PTE_ADDR
		if as.walkTable(child, level-1, va, max(start, va), min(end, va+span), prune, fn) {
			pruned = true
		}
		if prune && empty(as.table(child)) {
			*e = 0
			as.phys.DecRef(child)
			pruned = true
		}
	}
	return pruned
}

func empty(t *[512]uint64) bool {
	for _, e := range t {
		if e != 0 {
			return false
		}
	}
	return true
}

// dropRange frees the frames of [start, end) and clears their entries,
// freeing emptied tables, and flushes the TLB.
func (as *AddressSpace) dropRange(start, end uint64) {
	n := 0
	pruned := as.walk(start, end, true, func(va uint64, e *uint64) {
		if framed(*e) {
			as.phys.DecRef(*e & amd64.PTE_ADDR)
			as.resident--
		}
		present := *e&amd64.PTE_P != 0
		*e = 0
		if present {
			n++
			as.flushPage(va, n)
		}
	})
	as.flushDone(n, pruned)
}

// flushBatch is how many single-page flushes an operation does before it
// flushes the whole TLB once instead.
const flushBatch = 32

// flushPage flushes va, the nth page an operation changed, unless the
// operation has changed so many that it will flush everything at the end.
func (as *AddressSpace) flushPage(va uint64, n int) {
	if n <= flushBatch && as.cfg.Flush != nil {
		as.cfg.Flush(as, va)
	}
}

// flushDone finishes an operation that changed n pages (and freed tables
// if pruned: their cached translations go with a full flush too).
func (as *AddressSpace) flushDone(n int, pruned bool) {
	if (n > flushBatch || pruned) && as.cfg.FlushAll != nil {
		as.cfg.FlushAll(as)
	}
}
