package mm

import (
	"golang.org/x/sys/unix"

	"yolk/amd64"
)

// allows reports whether a VMA of prot permits acc. x86 pages cannot be
// write- or execute-only: any access right implies reading.
func allows(prot uint32, acc Access) bool {
	switch {
	case prot&(unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC) == 0,
		acc&Write != 0 && prot&unix.PROT_WRITE == 0,
		acc&Exec != 0 && prot&unix.PROT_EXEC == 0:
		return false
	}
	return true
}

// FaultFast is Fault for the trap handler: it resolves demand-zero and
// copy-on-write faults of private anonymous memory and returns FaultSlow
// for anything else, or while a goroutine is changing the space. It does
// not allocate Go memory, lock, or write Go pointers.
func (as *AddressSpace) FaultFast(va uint64, acc Access) FaultResult {
	if !as.state.CompareAndSwap(stIdle, stFast) {
		return FaultSlow
	}
	r := FaultSlow
	if va >= as.lo && va < as.hi {
		x := as.vmas.lookup(va)
		switch {
		case x == nil || !allows(x.Prot, acc):
			r = FaultDenied
		case !x.Shared && x.Backing == nil:
			r = as.faultAnon(x.Prot, va, acc)
		}
	} else {
		r = FaultDenied
	}
	as.state.Store(stIdle)
	return r
}

// Fault resolves a page fault from goroutine context: demand-zero,
// copy-on-write (a frame only this mapping uses is just made writable,
// else copied), and Backing pages (shared: the backing frame is mapped;
// private: mapped read-only and copied on write).
func (as *AddressSpace) Fault(va uint64, acc Access) FaultResult {
	as.lock()
	defer as.unlock()
	return as.fault(va, acc)
}

// fault is Fault with the lock held.
func (as *AddressSpace) fault(va uint64, acc Access) FaultResult {
	if va < as.lo || va >= as.hi {
		return FaultDenied
	}
	x := as.vmas.lookup(va)
	switch {
	case x == nil || !allows(x.Prot, acc):
		return FaultDenied
	case !x.Shared && x.Backing == nil:
		return as.faultAnon(x.Prot, va, acc)
	}
	return as.faultBacked(x, va, acc)
}

// faultAnon handles a fault in private memory of prot (which allows acc):
// a missing page is zero-filled, a held (PROT_NONE) one made present, a
// copy-on-write one copied on a write. The trap handler runs it: no Go
// allocation, no locks, no panics.
func (as *AddressSpace) faultAnon(prot uint32, va uint64, acc Access) FaultResult {
	page := va &^ pageMask
	e := as.slot(page, true)
	if e == nil {
		return FaultNoMem
	}
	if !framed(*e) {
		p, ok := as.phys.Alloc()
		if !ok {
			return FaultNoMem
		}
		*e = leaf(p, prot, false)
		as.resident++
		return FaultMapped
	}
	cow := *e&pteCOW != 0
	if *e&amd64.PTE_P == 0 { // held, and prot allows access now
		*e = leaf(*e&amd64.PTE_ADDR, prot, cow)
	}
	if acc&Write == 0 || *e&amd64.PTE_W != 0 {
		return FaultMapped // or a stale TLB entry
	}
	return as.breakCOW(e, prot, page)
}

// breakCOW makes the private page at page (entry e) writable: its own if
// nobody else references the frame, else a copy. No Go allocation.
func (as *AddressSpace) breakCOW(e *uint64, prot uint32, page uint64) FaultResult {
	old := *e & amd64.PTE_ADDR
	if as.phys.Refs(old) == 1 {
		*e = leaf(old, prot, false)
	} else {
		p, ok := as.phys.Alloc()
		if !ok {
			return FaultNoMem
		}
		*as.page(p) = *as.page(old)
		*e = leaf(p, prot, false)
		as.phys.DecRef(old)
	}
	if as.cfg.Flush != nil {
		as.cfg.Flush(as, page)
	}
	return FaultMapped
}

// faultBacked handles a fault in a shared or file mapping x (which allows
// acc), from goroutine context: Backing.Page may block and allocate.
func (as *AddressSpace) faultBacked(x *node, va uint64, acc Access) FaultResult {
	page := va &^ pageMask
	e := as.slot(page, true)
	if e == nil {
		return FaultNoMem
	}
	if framed(*e) {
		if *e&amd64.PTE_P == 0 {
			*e = leaf(*e&amd64.PTE_ADDR, x.Prot, !x.Shared && *e&pteCOW != 0)
		}
		if acc&Write == 0 || *e&amd64.PTE_W != 0 {
			return FaultMapped
		}
		if x.Shared { // cannot happen: shared pages are never COW
			*e = leaf(*e&amd64.PTE_ADDR, x.Prot, false)
			return FaultMapped
		}
		return as.breakCOW(e, x.Prot, page)
	}
	if x.Backing == nil { // Shared without a Backing: Map refuses it
		return FaultDenied
	}
	p, err := x.Backing.Page(x.Offset + (page - x.Start))
	switch {
	case err == ErrBeyondEOF:
		return FaultBus
	case err != nil:
		return FaultNoMem
	}
	switch {
	case x.Shared:
		*e = leaf(p, x.Prot, false)
	case acc&Write != 0: // a private copy at once
		c, ok := as.phys.Alloc()
		if !ok {
			as.phys.DecRef(p)
			return FaultNoMem
		}
		*as.page(c) = *as.page(p)
		as.phys.DecRef(p)
		*e = leaf(c, x.Prot, false)
	default:
		*e = leaf(p, x.Prot, true)
	}
	as.resident++
	return FaultMapped
}
