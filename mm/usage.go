package mm

import "yolk/amd64"

// Holder is a Backing that keeps a reference of its own on the frames it
// hands out (a file's page cache, shared anonymous memory). Holds reports
// whether phys is its frame for the page at byte offset off; a private
// mapping's page that is not is the mapping's own copy.
type Holder interface {
	Holds(off, phys uint64) bool
}

// PssShift is the fixed-point shift of Usage's Pss fields, as Linux's
// PSS_SHIFT: a page mapped n times adds (4096 << PssShift) / n.
const PssShift = 12

// Usage is what an address space's pages cost, counted as Linux counts
// them for /proc/PID/status (RssAnon, RssFile, RssShmem) and
// /proc/PID/smaps_rollup (fs/proc/task_mmu.c smaps_account). Sizes are in
// bytes; the Pss fields are bytes << PssShift.
//
// A page's map count is the number of page-table entries that map its
// frame in all address spaces: the frame's reference count, less the
// reference the page cache or shared memory object holds. A page is
// anonymous when its mapping has no backing or it is a private copy;
// file when it is a file's page-cache frame; shmem when it is a frame of
// shared anonymous memory. Dirty is the entry's dirty bit (the CPU sets
// it on a write).
type Usage struct {
	Size              uint64 // all mappings (VmSize)
	Rss               uint64 // pages holding a frame, PROT_NONE ones included
	Anon, File, Shmem uint64 // Rss by kind
	Pss, PssDirty     uint64
	PssAnon, PssFile  uint64
	PssShmem          uint64
	SharedClean       uint64 // map count above 1
	SharedDirty       uint64
	PrivateClean      uint64 // map count 1
	PrivateDirty      uint64
	Referenced        uint64 // the entry's accessed bit is set
}

// Usage counts the address space's resident pages (see Usage).
func (as *AddressSpace) Usage() Usage {
	var u Usage
	as.lock()
	defer as.unlock()
	for n := as.vmas.first; n != nil; n = n.next {
		x := n
		u.Size += x.End - x.Start
		h, _ := x.Backing.(Holder)
		_, shmem := x.Backing.(*sharedAnon)
		as.walk(x.Start, x.End, false, func(va uint64, e *uint64) {
			if !framed(*e) {
				return
			}
			phys := *e & amd64.PTE_ADDR
			maps := uint64(as.phys.Refs(phys))
			held := h != nil && h.Holds(x.Offset+(va-x.Start), phys)
			if held && maps > 1 {
				maps-- // the cache's own reference
			}
			if maps == 0 {
				maps = 1
			}
			const page = 4096
			pss := (page << PssShift) / maps
			dirty := *e&amd64.PTE_D != 0
			u.Rss += page
			u.Pss += pss
			if dirty {
				u.PssDirty += pss
			}
			switch {
			case held && shmem:
				u.Shmem += page
				u.PssShmem += pss
			case held:
				u.File += page
				u.PssFile += pss
			default:
				u.Anon += page
				u.PssAnon += pss
			}
			switch {
			case maps > 1 && dirty:
				u.SharedDirty += page
			case maps > 1:
				u.SharedClean += page
			case dirty:
				u.PrivateDirty += page
			default:
				u.PrivateClean += page
			}
			if *e&amd64.PTE_A != 0 {
				u.Referenced += page
			}
		})
	}
	return u
}

// Holds implements Holder.
func (s *sharedAnon) Holds(off, phys uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pages[off]
	return ok && p == phys
}
