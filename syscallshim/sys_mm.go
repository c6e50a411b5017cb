package syscallshim

import (
	"golang.org/x/sys/unix"

	"yolk/mm"
	"yolk/vfs"
)

// sysBrk implements brk(2): the break moves within [start, start+1 TiB);
// a request outside, or one the address space refuses, leaves it where it
// is (Linux returns the current break on failure).
func sysBrk(t *Thread, a Args) (uint64, error) {
	m := t.p.memory()
	m.mu.Lock()
	defer m.mu.Unlock()
	want := a[0]
	if want < m.brkStart || want > m.brkMax {
		return m.brk, nil
	}
	oldEnd, newEnd := pageUp(m.brk), pageUp(want)
	switch {
	case newEnd > oldEnd:
		if _, err := m.as.Map(oldEnd, newEnd-oldEnd, unix.PROT_READ|unix.PROT_WRITE, mm.FixedNoReplace, nil, 0, "[heap]"); err != nil {
			return m.brk, nil
		}
	case newEnd < oldEnd:
		m.as.Unmap(newEnd, oldEnd-newEnd)
	}
	m.brk = want
	return want, nil
}

func pageUp(a uint64) uint64 { return (a + 4095) &^ 4095 }

// sysMmap implements mmap(2): anonymous memory, private or shared (shared
// pages stay shared with children after fork), and mappings of regular
// files through the file's page cache (filemap.go): MAP_SHARED maps the
// cached pages themselves, MAP_PRIVATE maps them read-only and copies a
// page when it is written. Touching a file mapping past the page that
// holds the end of the file raises SIGBUS.
func sysMmap(t *Thread, a Args) (uint64, error) {
	addr, length, prot, flags, fdn, off := a[0], a[1], uint32(a[2]), a[3], a[4], a[5]
	if length == 0 || off%4096 != 0 {
		return 0, unix.EINVAL
	}
	var mf mm.MapFlags
	switch flags & (unix.MAP_SHARED | unix.MAP_PRIVATE | unix.MAP_SHARED_VALIDATE) {
	case unix.MAP_PRIVATE:
	case unix.MAP_SHARED, unix.MAP_SHARED_VALIDATE:
		mf |= mm.Shared
	default:
		return 0, unix.EINVAL
	}
	var f *vfs.File
	name := ""
	if flags&unix.MAP_ANONYMOUS == 0 {
		var err error
		if f, err = t.file(fdn); err != nil {
			return 0, err
		}
		st, err := f.Stat()
		if err != nil {
			return 0, err
		}
		if streamOf(f) != nil || st.Type() != unix.S_IFREG || f.Impl() == nil {
			return 0, unix.ENODEV
		}
		acc := f.Flags() & unix.O_ACCMODE
		if acc == unix.O_WRONLY || f.Flags()&unix.O_PATH != 0 {
			return 0, unix.EACCES
		}
		// As Linux: a writable shared mapping needs a description
		// open for writing, and not one that may only append.
		if mf&mm.Shared != 0 && prot&unix.PROT_WRITE != 0 &&
			(acc != unix.O_RDWR || f.Flags()&unix.O_APPEND != 0) {
			return 0, unix.EACCES
		}
		name = fileName(t.p.sys, f)
	}
	switch {
	case flags&unix.MAP_FIXED_NOREPLACE != 0:
		mf |= mm.FixedNoReplace
	case flags&unix.MAP_FIXED != 0:
		mf |= mm.Fixed
	default:
		addr = pageUp(addr) // a hint is rounded up (PAGE_ALIGN), as Linux does
	}
	if t.overcommits(length, prot, mf) {
		return 0, unix.ENOMEM
	}
	var b mm.Backing
	switch {
	case f != nil:
		c, err := t.p.sys.filemaps.get(f, t.p.m.Phys())
		if err != nil {
			return 0, err
		}
		b = c
		// A shared mapping of a description open for writing may be
		// made writable later (mprotect), so its pages count as dirty
		// from the start.
		if mf&mm.Shared != 0 && f.Flags()&unix.O_ACCMODE == unix.O_RDWR && f.Flags()&unix.O_APPEND == 0 {
			b = c.writable(f)
		}
		defer b.DecRef() // Map takes its own reference
	case mf&mm.Shared != 0:
		if pageUp(length) < length {
			return 0, unix.ENOMEM
		}
		b = t.p.m.SharedMemory(pageUp(length))
		defer b.DecRef()
		off = 0
	default:
		off = 0
	}
	return t.as().Map(addr, length, prot, mf, b, off, name)
}

// overcommits is Linux's heuristic overcommit check (vm.overcommit_memory
// 0): one writable private or shared mapping larger than all of RAM is
// refused; everything else is allowed and backed on first touch.
func (t *Thread) overcommits(length uint64, prot uint32, mf mm.MapFlags) bool {
	if prot&unix.PROT_WRITE == 0 && mf&mm.Shared == 0 || t.p.cfg.MemInfo == nil {
		return false
	}
	total, _ := t.p.cfg.MemInfo()
	return length > total
}

func sysMunmap(t *Thread, a Args) (uint64, error) {
	return 0, t.as().Unmap(a[0], a[1])
}

func sysMprotect(t *Thread, a Args) (uint64, error) {
	return 0, t.as().Protect(a[0], a[1], uint32(a[2]))
}

// sysMremap implements mremap(2): shrinking, growing in place, and moving
// (MREMAP_MAYMOVE, MREMAP_FIXED) by moving page-table entries.
func sysMremap(t *Thread, a Args) (uint64, error) {
	return t.as().Remap(a[0], a[1], a[2], uint32(a[3]), a[4])
}

// sysMadvise implements madvise(2): MADV_DONTNEED and MADV_FREE discard
// pages (they read back as zeros); the other advice values only hint and
// are accepted without effect, as Linux may.
func sysMadvise(t *Thread, a Args) (uint64, error) {
	if a[0]%4096 != 0 {
		return 0, unix.EINVAL
	}
	switch a[2] {
	case unix.MADV_DONTNEED, unix.MADV_FREE:
		return 0, t.as().Discard(a[0], a[1])
	case unix.MADV_NORMAL, unix.MADV_RANDOM, unix.MADV_SEQUENTIAL, unix.MADV_WILLNEED,
		unix.MADV_HUGEPAGE, unix.MADV_NOHUGEPAGE, unix.MADV_DONTDUMP, unix.MADV_DODUMP,
		unix.MADV_COLLAPSE, unix.MADV_DONTFORK, unix.MADV_DOFORK:
		return 0, nil
	}
	return 0, unix.EINVAL
}
