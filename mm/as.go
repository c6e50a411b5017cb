package mm

import (
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"yolk/amd64"
)

// Config is how the kernel sets an address space up.
type Config struct {
	Phys    Phys
	Lo, Hi  uint64 // the window programs may map (the kernel uses 0x10000 .. 0x7ffffffff000)
	MmapTop uint64 // non-fixed mmaps search top-down below this (0: bottom-up from Lo)
	// InitRoot fills a new top-level table (e.g. copies the kernel's
	// upper-half entries); may be nil.
	InitRoot func(root *[512]uint64)
	// Flush invalidates the TLB entry of va in this address space (nil in
	// tests); FlushAll the whole space. BeforeRelease runs before the root
	// is freed (the kernel moves CR3 away from it). All may be nil. Flush
	// is also called by FaultFast, so it must be safe in the trap handler.
	Flush         func(as *AddressSpace, va uint64)
	FlushAll      func(as *AddressSpace)
	BeforeRelease func(as *AddressSpace)
	// DirectMap, when not 0, says that every frame of Phys is also at
	// virtual address DirectMap+phys: page tables and pages are then
	// reached there, not through Phys.Page (an indirect call for every
	// level of every walk, each costing a host-side lookup under TCG).
	DirectMap uint64
}

// VMA is one mapping, as /proc/PID/maps shows it.
type VMA struct {
	Start, End uint64
	Prot       uint32  // unix.PROT_*
	Shared     bool    // MAP_SHARED
	Backing    Backing // nil: anonymous private (zero-filled on demand)
	Offset     uint64  // Start's offset within Backing
	Name       string  // "[heap]", "[stack]", a path, or ""
}

// MapFlags are the mmap(2) flags the address space cares about.
type MapFlags uint8

const (
	Fixed          MapFlags = 1 << iota // MAP_FIXED
	FixedNoReplace                      // MAP_FIXED_NOREPLACE
	Shared                              // MAP_SHARED
)

// Values of AddressSpace.state.
const (
	stIdle = iota // nobody is changing the space
	stBusy        // a goroutine holds mu and may be changing anything
	stFast        // FaultFast is running
)

// AddressSpace is a Linux process's memory: VMAs, page tables rooted at
// Root, and the frames they map.
type AddressSpace struct {
	mu    sync.Mutex
	state atomic.Int32 // stIdle, stBusy or stFast; see the package doc

	cfg      Config
	phys     Phys
	direct   uint64 // cfg.DirectMap
	root     uint64
	lo, hi   uint64
	vmas     tree
	resident uint64 // leaf entries owning a frame
	released bool
}

// New returns an empty address space; ENOMEM if no frame for the root,
// EINVAL for a window that is not page aligned, empty or not in the lower
// half.
func New(cfg Config) (*AddressSpace, error) {
	if cfg.Phys == nil || cfg.Lo&pageMask != 0 || cfg.Hi&pageMask != 0 || cfg.Lo >= cfg.Hi ||
		cfg.Hi > 1<<47 || cfg.MmapTop != 0 && (cfg.MmapTop <= cfg.Lo || cfg.MmapTop > cfg.Hi) {
		return nil, unix.EINVAL
	}
	root, ok := cfg.Phys.Alloc()
	if !ok {
		return nil, unix.ENOMEM
	}
	as := &AddressSpace{cfg: cfg, phys: cfg.Phys, direct: cfg.DirectMap, root: root, lo: cfg.Lo, hi: cfg.Hi}
	as.vmas.lo = cfg.Lo
	as.vmas.seed = root | 1
	if cfg.InitRoot != nil {
		cfg.InitRoot(as.table(root))
	}
	return as, nil
}

// Root returns the physical address of the top-level table (for CR3).
func (as *AddressSpace) Root() uint64 { return as.root }

// lock takes the mutex and shuts the fast path out.
func (as *AddressSpace) lock() {
	as.mu.Lock()
	for !as.state.CompareAndSwap(stIdle, stBusy) {
		runtime.Gosched() // FaultFast is short and never blocks
	}
}

func (as *AddressSpace) unlock() {
	as.state.Store(stIdle)
	as.mu.Unlock()
}

// VMAs returns a copy of the mappings, in address order.
func (as *AddressSpace) VMAs() []VMA {
	as.lock()
	defer as.unlock()
	out := make([]VMA, 0, as.vmas.n)
	for n := as.vmas.first; n != nil; n = n.next {
		out = append(out, n.VMA)
	}
	return out
}

// Lookup returns the VMA containing va.
func (as *AddressSpace) Lookup(va uint64) (VMA, bool) {
	as.lock()
	defer as.unlock()
	if n := as.vmas.lookup(va); n != nil {
		return n.VMA, true
	}
	return VMA{}, false
}

// Resident returns how many pages hold a frame (PROT_NONE ones included).
func (as *AddressSpace) Resident() uint64 {
	as.lock()
	defer as.unlock()
	return as.resident
}

// inWindow reports whether [addr, addr+n) lies in the window (n > 0).
func (as *AddressSpace) inWindow(addr, n uint64) bool {
	return addr >= as.lo && addr+n > addr && addr+n <= as.hi
}

// Map implements mmap(2)'s address-space part. Without Fixed or
// FixedNoReplace addr is a hint, honoured if page-aligned, free and inside
// the window, else a free range is searched (top-down below MmapTop, then
// bottom-up in the whole window). b may be nil for anonymous private
// memory; Shared needs a Backing (EINVAL without). Map takes its own
// reference on b. Adjacent VMAs with identical attributes (and contiguous
// offsets on the same Backing) merge.
//
// Errors as Linux: EINVAL for length 0, an unaligned offset or fixed
// address; ENOMEM when the length overflows, no room is left or a fixed
// range goes beyond the window; EPERM for a fixed range below it (Linux's
// mmap_min_addr check); EEXIST for FixedNoReplace over a mapping;
// EOVERFLOW when off+length overflows.
func (as *AddressSpace) Map(addr, length uint64, prot uint32, flags MapFlags, b Backing, off uint64, name string) (uint64, error) {
	if length == 0 || off&pageMask != 0 || flags&Shared != 0 && b == nil {
		return 0, unix.EINVAL
	}
	n := pageUp(length)
	if n < length {
		return 0, unix.ENOMEM
	}
	if off+n < off {
		return 0, unix.EOVERFLOW
	}
	as.lock()
	defer as.unlock()
	if as.released {
		return 0, unix.ENOMEM
	}
	fixed := flags&(Fixed|FixedNoReplace) != 0
	switch {
	case fixed:
		if addr&pageMask != 0 {
			return 0, unix.EINVAL
		}
		if addr < as.lo {
			return 0, unix.EPERM
		}
		if !as.inWindow(addr, n) {
			return 0, unix.ENOMEM
		}
		if !as.vmas.free(addr, addr+n) {
			if flags&Fixed == 0 {
				return 0, unix.EEXIST
			}
			as.unmap(addr, addr+n)
		}
	case addr&pageMask == 0 && as.inWindow(addr, n) && as.vmas.free(addr, addr+n):
	default:
		a, ok := as.search(n)
		if !ok {
			return 0, unix.ENOMEM
		}
		addr = a
	}
	x := &node{VMA: VMA{Start: addr, End: addr + n, Prot: prot, Shared: flags&Shared != 0, Backing: b, Name: name}}
	if b != nil {
		x.Offset = off
		b.IncRef()
	}
	as.vmas.insert(x)
	as.merge(x)
	return addr, nil
}

// search finds a free range of n bytes for a non-fixed mmap.
func (as *AddressSpace) search(n uint64) (uint64, bool) {
	if as.cfg.MmapTop != 0 {
		if a, ok := as.vmas.gapDown(as.cfg.MmapTop, n); ok {
			return a, true
		}
	}
	return as.vmas.gapUp(as.hi, n)
}

// mergeable reports whether b can extend a (b starts where a ends).
func mergeable(a, b *node) bool {
	if a == nil || b == nil || a.End != b.Start || a.Prot != b.Prot || a.Shared != b.Shared ||
		a.Backing != b.Backing || a.Name != b.Name {
		return false
	}
	return a.Backing == nil || a.Offset+(a.End-a.Start) == b.Offset
}

// merge joins x with its neighbours where they are mergeable and returns
// the node that now covers x's range.
func (as *AddressSpace) merge(x *node) *node {
	if p := x.prev; mergeable(p, x) {
		as.absorb(p, x)
		x = p
	}
	if nx := x.next; mergeable(x, nx) {
		as.absorb(x, nx)
	}
	return x
}

// absorb extends a over b, its mergeable successor, and drops b.
func (as *AddressSpace) absorb(a, b *node) {
	a.End = b.End
	as.vmas.remove(b) // b.next's gap is unchanged: a.End is b.End
	if b.Backing != nil {
		b.Backing.DecRef()
	}
}

// split makes a VMA boundary at va if a VMA straddles it.
func (as *AddressSpace) split(va uint64) {
	x := as.vmas.lookup(va)
	if x == nil || x.Start == va {
		return
	}
	y := &node{VMA: x.VMA}
	y.Start = va
	if y.Backing != nil {
		y.Offset += va - x.Start
		y.Backing.IncRef()
	}
	x.End = va
	as.vmas.insert(y)
}

// unmap removes [start, end) (page aligned, in the window): its frames,
// its emptied tables and its VMAs.
func (as *AddressSpace) unmap(start, end uint64) {
	as.split(start)
	as.split(end)
	for x := as.vmas.ceil(start); x != nil && x.Start < end; {
		nx := x.next
		as.vmas.remove(x)
		if x.Backing != nil {
			x.Backing.DecRef()
		}
		x = nx
	}
	as.dropRange(start, end)
}

// Unmap implements munmap(2). EINVAL for an unaligned address, length 0,
// or a range that wraps or leaves the window; unmapping nothing is fine.
func (as *AddressSpace) Unmap(addr, length uint64) error {
	if addr&pageMask != 0 || length == 0 {
		return unix.EINVAL
	}
	end := pageUp(addr + length)
	if end <= addr || addr < as.lo || end > as.hi {
		return unix.EINVAL
	}
	as.lock()
	defer as.unlock()
	if !as.released {
		as.unmap(addr, end)
	}
	return nil
}

// checkRange validates an mprotect/madvise range: EINVAL unaligned, ENOMEM
// for a wrapping range, one leaving the window, or one with a hole. It
// returns the rounded end (end == addr for length 0).
func (as *AddressSpace) checkRange(addr, length uint64) (uint64, error) {
	if addr&pageMask != 0 {
		return 0, unix.EINVAL
	}
	if length == 0 {
		return addr, nil
	}
	end := pageUp(addr + length)
	if end <= addr || addr < as.lo || end > as.hi {
		return 0, unix.ENOMEM
	}
	for a := addr; a < end; {
		x := as.vmas.lookup(a)
		if x == nil {
			return 0, unix.ENOMEM
		}
		a = x.End
	}
	return end, nil
}

// Protect implements mprotect(2): every page of the range must be mapped
// (ENOMEM otherwise, and nothing changes; Linux changes the VMAs before
// the hole). Pages made PROT_NONE keep their frames.
func (as *AddressSpace) Protect(addr, length uint64, prot uint32) error {
	as.lock()
	defer as.unlock()
	end, err := as.checkRange(addr, length)
	if err != nil || end == addr {
		return err
	}
	as.split(addr)
	as.split(end)
	cnt := 0
	x := as.vmas.lookup(addr)
	for x != nil && x.Start < end {
		x.Prot = prot
		private := !x.Shared
		as.walk(x.Start, x.End, false, func(va uint64, e *uint64) {
			if !framed(*e) {
				return
			}
			cow := private && *e&pteCOW != 0
			ne := leaf(*e&amd64.PTE_ADDR, prot, cow)
			if ne != *e {
				was := *e&amd64.PTE_P != 0
				*e = ne
				if was {
					cnt++
					as.flushPage(va, cnt)
				}
			}
		})
		x = as.merge(x).next
	}
	// The split at end may have cut a VMA whose prot was prot already.
	if y := as.vmas.lookup(end - 1); y != nil {
		as.merge(y)
	}
	as.flushDone(cnt, false)
	return nil
}

// Discard implements madvise(MADV_DONTNEED): private anonymous pages read
// back as zeros (their frames are dropped); shared and file pages are just
// unmapped (they come back from the Backing). Errors as Protect's.
func (as *AddressSpace) Discard(addr, length uint64) error {
	as.lock()
	defer as.unlock()
	end, err := as.checkRange(addr, length)
	if err != nil || end == addr {
		return err
	}
	as.dropRange(addr, end)
	return nil
}
