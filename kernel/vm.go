package kernel

import (
	"golang.org/x/sys/unix"

	"yolk/amd64"
)

// Memory protection and mapping flags, as mmap(2) takes them.
const (
	protRead  = unix.PROT_READ
	protWrite = unix.PROT_WRITE
	protExec  = unix.PROT_EXEC
)

// pteHeld marks a non-present entry that still owns its frame: a page
// made PROT_NONE by mprotect keeps its contents for a later mprotect
// (bit 9 is ignored by the CPU, Intel SDM Vol. 3A table 4-19).
const pteHeld = 1 << 9

// VMA is one mapped range [Start, End) with its protection.
type VMA struct {
	Start, End uint64
	Prot       uint32
}

// PhysMem is where an address space gets frames: zeroed frames for pages
// and tables, the table stored in a frame, and freeing.
type PhysMem interface {
	amd64.FrameSource
	Free(phys uint64)
}

const maxVMAs = 1024

// AddressSpace is a range of virtual memory with its mappings: the
// kernel's own (the upper half, serving its Go runtime's mmap) or a Linux
// program's (the lower half, serving the ELF loader and the program's
// mmap). Pages are backed on first touch (demand-zero). It never
// allocates Go memory, so the trap handler can use it.
type AddressSpace struct {
	PT     amd64.PageTable
	Mem    PhysMem
	Lo, Hi uint64 // the window this space may map
	User   bool   // pages are accessible from ring 3
	// MmapTop, when set, makes mmap without a usable hint search top-down
	// from it, as Linux places a process's mmaps below its stack.
	MmapTop uint64
	// Flush drops a page's TLB entry; nil in tests.
	Flush func(va uint64)

	vmas     [maxVMAs]VMA
	n        int
	Resident uint64 // pages currently backed
	// Released counts the calls that unbacked pages or made them
	// inaccessible: a range found backed stays backed until it changes.
	Released uint64
}

func pageDown(a uint64) uint64 { return a &^ (amd64.PageSize - 1) }
func pageUp(a uint64) uint64   { return (a + amd64.PageSize - 1) &^ (amd64.PageSize - 1) }

// VMAs returns the current mappings in address order.
func (as *AddressSpace) VMAs() []VMA { return as.vmas[:as.n] }

// find returns the index of the first VMA whose End is above va.
func (as *AddressSpace) find(va uint64) int {
	lo, hi := 0, as.n
	for lo < hi {
		m := (lo + hi) / 2
		if as.vmas[m].End <= va {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// Lookup returns the VMA containing va.
func (as *AddressSpace) Lookup(va uint64) (VMA, bool) {
	i := as.find(va)
	if i < as.n && as.vmas[i].Start <= va {
		return as.vmas[i], true
	}
	return VMA{}, false
}

// covered reports whether VMAs map every page of [start, end).
func (as *AddressSpace) covered(start, end uint64) bool {
	for a := start; a < end; {
		v, ok := as.Lookup(a)
		if !ok {
			return false
		}
		a = v.End
	}
	return true
}

// free reports whether [start, end) overlaps no VMA.
func (as *AddressSpace) free(start, end uint64) bool {
	i := as.find(start)
	return i == as.n || as.vmas[i].Start >= end
}

// split makes a VMA boundary at va if a VMA straddles it.
func (as *AddressSpace) split(va uint64) bool {
	i := as.find(va)
	if i == as.n || as.vmas[i].Start >= va {
		return true
	}
	if as.n == maxVMAs {
		return false
	}
	copy(as.vmas[i+1:as.n+1], as.vmas[i:as.n])
	as.n++
	as.vmas[i].End = va
	as.vmas[i+1].Start = va
	return true
}

// merge joins neighbouring VMAs with the same protection.
func (as *AddressSpace) merge() {
	j := 0
	for i := 0; i < as.n; i++ {
		if j > 0 && as.vmas[j-1].End == as.vmas[i].Start && as.vmas[j-1].Prot == as.vmas[i].Prot {
			as.vmas[j-1].End = as.vmas[i].End
			continue
		}
		as.vmas[j] = as.vmas[i]
		j++
	}
	as.n = j
}

func (as *AddressSpace) pteFlags(prot uint32) uint64 {
	f := uint64(0)
	if prot&protWrite != 0 {
		f |= amd64.PTE_W
	}
	if prot&protExec == 0 {
		f |= amd64.PTE_NX
	}
	if as.User {
		f |= amd64.PTE_U
	}
	return f
}

// releasePages frees the frames backing [start, end).
func (as *AddressSpace) releasePages(start, end uint64) {
	as.Released++
	for va := start; va < end; va += amd64.PageSize {
		if va&(1<<21-1) == 0 || va == start {
			// Each 2 MiB: skip what has no page table below it (the
			// runtime unmaps gigabytes of reservations it never touched).
			if va = as.skipAbsent(va, end); va >= end {
				break
			}
		}
		e, ok := as.entry(va)
		if !ok {
			continue
		}
		as.PT.Unmap(va) // no-op for held (non-present) entries
		as.clearEntry(va)
		as.Mem.Free(e & amd64.PTE_ADDR)
		as.Resident--
		if as.Flush != nil {
			as.Flush(va)
		}
	}
}

// entry returns the entry for va if it is present or held.
func (as *AddressSpace) entry(va uint64) (uint64, bool) {
	if e, ok := as.PT.Lookup(va); ok {
		return e, true
	}
	if e := as.heldEntry(va); e != nil && *e&pteHeld != 0 {
		return *e, true
	}
	return 0, false
}

// skipAbsent returns the first address in [va, end) whose page tables go
// down to a level-0 table (or a large page), or end: nothing below an
// absent upper-level entry is mapped or held, so whole 2 MiB, 1 GiB and
// 512 GiB spans go at once.
func (as *AddressSpace) skipAbsent(va, end uint64) uint64 {
	for va < end {
		t := as.Mem.Table(as.PT.Root)
		level := 3
		for ; level > 0; level-- {
			e := t[int(va>>(12+9*uint(level)))&511]
			if e&amd64.PTE_P == 0 {
				break
			}
			if e&amd64.PTE_PS != 0 {
				return va
			}
			t = as.Mem.Table(e & amd64.PTE_ADDR)
		}
		if level == 0 {
			return va
		}
		span := uint64(1) << (12 + 9*uint(level))
		next := (va + span) &^ (span - 1)
		if next <= va {
			return end // the top of the address space
		}
		va = next
	}
	return end
}

// heldEntry returns the level-0 slot for va without creating tables.
func (as *AddressSpace) heldEntry(va uint64) *uint64 {
	t := as.Mem.Table(as.PT.Root)
	for level := 3; level > 0; level-- {
		e := t[int(va>>(12+9*uint(level)))&511]
		if e&amd64.PTE_P == 0 || e&amd64.PTE_PS != 0 {
			return nil
		}
		t = as.Mem.Table(e & amd64.PTE_ADDR)
	}
	return &t[int(va>>12)&511]
}

func (as *AddressSpace) clearEntry(va uint64) {
	if e := as.heldEntry(va); e != nil {
		*e = 0
	}
}

// remove deletes the VMAs inside [start, end) (boundaries already split).
func (as *AddressSpace) remove(start, end uint64) {
	j := 0
	for i := 0; i < as.n; i++ {
		v := as.vmas[i]
		if v.Start >= start && v.End <= end {
			continue
		}
		as.vmas[j] = v
		j++
	}
	as.n = j
}

// insert adds [start, end) with prot; the range must be free.
func (as *AddressSpace) insert(start, end uint64, prot uint32) bool {
	if as.n == maxVMAs {
		as.merge()
		if as.n == maxVMAs {
			return false
		}
	}
	i := as.find(start)
	copy(as.vmas[i+1:as.n+1], as.vmas[i:as.n])
	as.vmas[i] = VMA{Start: start, End: end, Prot: prot}
	as.n++
	as.merge()
	return true
}

// gap finds the lowest free range of length n at or above from.
func (as *AddressSpace) gap(from, n uint64) (uint64, bool) {
	if from < as.Lo {
		from = as.Lo
	}
	a := from
	for i := as.find(from); i < as.n; i++ {
		if as.vmas[i].Start >= a+n {
			break
		}
		if as.vmas[i].End > a {
			a = as.vmas[i].End
		}
	}
	if a+n > as.Hi || a+n < a {
		return 0, false
	}
	return a, true
}

// gapDown finds the highest free range of length n ending at or below top.
func (as *AddressSpace) gapDown(top, n uint64) (uint64, bool) {
	end := top
	i := as.find(top)
	if i < as.n && as.vmas[i].Start < end {
		end = as.vmas[i].Start
	}
	for j := i - 1; ; j-- {
		lo := as.Lo
		if j >= 0 {
			lo = as.vmas[j].End
		}
		if end >= lo && end-lo >= n {
			return end - n, true
		}
		if j < 0 {
			return 0, false
		}
		end = as.vmas[j].Start
	}
}

// Map implements the address-space part of mmap(2) for anonymous memory:
// with fixed it replaces whatever was at addr; otherwise addr is a hint,
// honoured when the range is free and inside the window, and the lowest
// free range above the window's search base is used instead. Pages are
// backed on first touch.
func (as *AddressSpace) Map(addr, length uint64, prot uint32, fixed bool) (uint64, unix.Errno) {
	if length == 0 {
		return 0, unix.EINVAL
	}
	n := pageUp(length)
	if n < length {
		return 0, unix.ENOMEM
	}
	if fixed {
		if addr&(amd64.PageSize-1) != 0 {
			return 0, unix.EINVAL
		}
		if addr < as.Lo || addr+n > as.Hi || addr+n < addr {
			return 0, unix.ENOMEM
		}
		if e := as.Unmap(addr, n); e != 0 {
			return 0, e
		}
	} else {
		addr = pageDown(addr)
		if addr < as.Lo || addr+n > as.Hi || addr+n < addr || !as.free(addr, addr+n) {
			a, ok := as.gap(as.Lo, n)
			if as.MmapTop != 0 {
				a, ok = as.gapDown(as.MmapTop, n)
			}
			if !ok {
				return 0, unix.ENOMEM
			}
			addr = a
		}
	}
	if !as.insert(addr, addr+n, prot) {
		return 0, unix.ENOMEM
	}
	return addr, 0
}

// Unmap implements munmap(2): the range's pages are freed and it is no
// longer mapped.
func (as *AddressSpace) Unmap(addr, length uint64) unix.Errno {
	if addr&(amd64.PageSize-1) != 0 || length == 0 {
		return unix.EINVAL
	}
	end := pageUp(addr + length)
	if end <= addr || addr < as.Lo || end > as.Hi { // end <= addr: the length wrapped
		return unix.EINVAL
	}
	if !as.split(addr) || !as.split(end) {
		return unix.ENOMEM
	}
	as.releasePages(addr, end)
	as.remove(addr, end)
	return 0
}

// Protect implements mprotect(2): every page of the range must be mapped.
func (as *AddressSpace) Protect(addr, length uint64, prot uint32) unix.Errno {
	if addr&(amd64.PageSize-1) != 0 {
		return unix.EINVAL
	}
	end := pageUp(addr + length)
	if end < addr || (length != 0 && end == addr) {
		return unix.ENOMEM
	}
	if !as.covered(addr, end) {
		return unix.ENOMEM
	}
	if !as.split(addr) || !as.split(end) {
		return unix.ENOMEM
	}
	for i := as.find(addr); i < as.n && as.vmas[i].Start < end; i++ {
		as.vmas[i].Prot = prot
	}
	flags := as.pteFlags(prot)
	as.Released++ // pages may become inaccessible or read-only
	for va := addr; va < end; va += amd64.PageSize {
		if va&(1<<21-1) == 0 || va == addr {
			if va = as.skipAbsent(va, end); va >= end {
				break
			}
		}
		e, ok := as.entry(va)
		if !ok {
			continue
		}
		slot := as.heldEntry(va)
		if prot&(protRead|protWrite|protExec) == 0 {
			*slot = e&amd64.PTE_ADDR | pteHeld
		} else {
			*slot = e&amd64.PTE_ADDR | flags | amd64.PTE_P
			if as.User {
				as.PT.Protect(va, flags) // user bit on the upper levels
			}
		}
		if as.Flush != nil {
			as.Flush(va)
		}
	}
	as.merge()
	return 0
}

// Discard implements madvise(MADV_DONTNEED): the range stays mapped and
// reads back as zeros; its frames return to the allocator.
func (as *AddressSpace) Discard(addr, length uint64) unix.Errno {
	if addr&(amd64.PageSize-1) != 0 {
		return unix.EINVAL
	}
	end := pageUp(addr + length)
	if length != 0 && end <= addr {
		return unix.EINVAL
	}
	if !as.covered(addr, end) {
		return unix.ENOMEM
	}
	as.releasePages(addr, end)
	return 0
}

// FaultResult says how a page fault was resolved.
type FaultResult int

const (
	FaultMapped FaultResult = iota // the page is now backed
	FaultDenied                    // no mapping allows the access
	FaultNoMem                     // allowed, but no frame was left
)

// Fault backs the page containing va if its VMA allows the access. It
// reports false for an access the mapping does not allow (or no memory).
func (as *AddressSpace) Fault(va uint64, write, exec bool) bool {
	return as.Resolve(va, write, exec) == FaultMapped
}

// Resolve is Fault telling a denied access from a lack of memory.
func (as *AddressSpace) Resolve(va uint64, write, exec bool) FaultResult {
	v, ok := as.Lookup(va)
	if !ok {
		return FaultDenied
	}
	switch {
	case write && v.Prot&protWrite == 0,
		exec && v.Prot&protExec == 0,
		v.Prot&(protRead|protWrite|protExec) == 0:
		return FaultDenied
	}
	page := pageDown(va)
	if e, held := as.entry(page); held {
		if e&amd64.PTE_P == 0 {
			*as.heldEntry(page) = e&amd64.PTE_ADDR | as.pteFlags(v.Prot) | amd64.PTE_P
		}
		return FaultMapped // (or already there: a spurious fault)
	}
	phys, ok := as.Mem.Alloc()
	if !ok {
		return FaultNoMem
	}
	if !as.PT.Map(page, phys, as.pteFlags(v.Prot)) {
		as.Mem.Free(phys)
		return FaultNoMem
	}
	as.Resident++
	return FaultMapped
}

// Ensure backs every page of [va, va+n) so that the kernel can access it
// without faulting, and reports whether the whole range is mapped with
// the access asked for (write or read).
func (as *AddressSpace) Ensure(va, n uint64, write bool) bool {
	if n == 0 {
		return true
	}
	end := va + n
	if end < va {
		return false
	}
	for p := pageDown(va); p < end; p += amd64.PageSize {
		e, ok := as.PT.Lookup(p)
		if ok && (!write || e&amd64.PTE_W != 0) {
			continue
		}
		if !as.Fault(p, write, false) {
			return false
		}
	}
	return true
}
