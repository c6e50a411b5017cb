package syscallshim

import "golang.org/x/sys/unix"

// sysBrk implements brk(2): the break moves within [start, start+1 TiB);
// a request outside, or one the address space refuses, leaves it where it
// is (Linux returns the current break on failure).
func sysBrk(t *Thread, a Args) (uint64, error) {
	p := t.p
	p.mu.Lock()
	defer p.mu.Unlock()
	want := a[0]
	if want < p.brkStart || want > p.brkMax {
		return p.brk, nil
	}
	oldEnd, newEnd := pageUp(p.brk), pageUp(want)
	switch {
	case newEnd > oldEnd:
		got, e := p.m.Map(oldEnd, newEnd-oldEnd, unix.PROT_READ|unix.PROT_WRITE, false)
		if e != 0 || got != oldEnd {
			if e == 0 {
				p.m.Unmap(got, newEnd-oldEnd)
			}
			return p.brk, nil
		}
	case newEnd < oldEnd:
		p.m.Unmap(newEnd, oldEnd-newEnd)
	}
	p.brk = want
	return want, nil
}

func pageUp(a uint64) uint64 { return (a + 4095) &^ 4095 }

// sysMmap implements mmap(2) for anonymous memory and private read-only
// or copy-on-write mappings of initrd files (the file's bytes are copied
// into anonymous pages: there is no page cache to share).
func sysMmap(t *Thread, a Args) (uint64, error) {
	addr, length, prot, flags, fdn, off := a[0], a[1], uint32(a[2]), a[3], a[4], a[5]
	if length == 0 || off%4096 != 0 {
		return 0, unix.EINVAL
	}
	switch flags & (unix.MAP_SHARED | unix.MAP_PRIVATE | unix.MAP_SHARED_VALIDATE) {
	case unix.MAP_PRIVATE:
	case unix.MAP_SHARED, unix.MAP_SHARED_VALIDATE:
		if flags&unix.MAP_ANONYMOUS == 0 {
			return 0, unix.ENODEV // no shared file mappings: files are in the initrd
		}
		// A shared anonymous mapping is private while there is one process.
	default:
		return 0, unix.EINVAL
	}
	var data []byte
	if flags&unix.MAP_ANONYMOUS == 0 {
		d, err := t.p.files.get(fdn)
		if err != nil {
			return 0, err
		}
		f, ok := d.f.(*regular)
		if !ok {
			return 0, unix.ENODEV
		}
		if off < uint64(len(f.node.Data)) {
			data = f.node.Data[off:]
		}
		if uint64(len(data)) > length {
			data = data[:length]
		}
	}
	fixed := flags&unix.MAP_FIXED != 0
	if flags&unix.MAP_FIXED_NOREPLACE != 0 {
		fixed = false
	}
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	m := t.p.m
	// The kernel writes the file's bytes, so map writable first.
	mapProt := prot
	if data != nil {
		mapProt |= unix.PROT_WRITE | unix.PROT_READ
	}
	got, e := m.Map(addr, length, mapProt, fixed)
	if e != 0 {
		return 0, e
	}
	if flags&unix.MAP_FIXED_NOREPLACE != 0 && got != addr {
		m.Unmap(got, length)
		return 0, unix.EEXIST
	}
	if data != nil {
		dst, ok := m.Bytes(got, uint64(len(data)), true)
		if !ok {
			m.Unmap(got, length)
			return 0, unix.ENOMEM
		}
		copy(dst, data)
		if mapProt != prot {
			m.Protect(got, length, prot)
		}
	}
	return got, nil
}

func sysMunmap(t *Thread, a Args) (uint64, error) {
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	if e := t.p.m.Unmap(a[0], a[1]); e != 0 {
		return 0, e
	}
	return 0, nil
}

func sysMprotect(t *Thread, a Args) (uint64, error) {
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	if e := t.p.m.Protect(a[0], a[1], uint32(a[2])); e != 0 {
		return 0, e
	}
	return 0, nil
}

// sysMremap implements mremap(2) for shrinking in place, growing in place
// when the pages after the mapping are free, and moving
// (MREMAP_MAYMOVE) by copying.
func sysMremap(t *Thread, a Args) (uint64, error) {
	old, oldLen, newLen, flags := a[0], pageUp(a[1]), pageUp(a[2]), a[3]
	if old%4096 != 0 || newLen == 0 || flags&^(unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED) != 0 {
		return 0, unix.EINVAL
	}
	if flags&unix.MREMAP_FIXED != 0 {
		return 0, unix.EINVAL // not supported: only MAYMOVE
	}
	p := t.p
	p.mu.Lock()
	defer p.mu.Unlock()
	m := p.m
	if _, ok := m.Bytes(old, 1, false); !ok && oldLen > 0 {
		if _, ok := m.Bytes(old, 1, true); !ok {
			return 0, unix.EFAULT
		}
	}
	switch {
	case newLen <= oldLen:
		if newLen < oldLen {
			m.Unmap(old+newLen, oldLen-newLen)
		}
		return old, nil
	default:
		prot := uint32(unix.PROT_READ | unix.PROT_WRITE)
		if got, e := m.Map(old+oldLen, newLen-oldLen, prot, false); e == 0 {
			if got == old+oldLen {
				return old, nil
			}
			m.Unmap(got, newLen-oldLen)
		}
		if flags&unix.MREMAP_MAYMOVE == 0 {
			return 0, unix.ENOMEM
		}
		dst, e := m.Map(0, newLen, prot, false)
		if e != 0 {
			return 0, e
		}
		src, ok1 := m.Bytes(old, oldLen, false)
		to, ok2 := m.Bytes(dst, oldLen, true)
		if !ok1 || !ok2 {
			m.Unmap(dst, newLen)
			return 0, unix.EFAULT
		}
		copy(to, src)
		m.Unmap(old, oldLen)
		return dst, nil
	}
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
		t.p.mu.Lock()
		defer t.p.mu.Unlock()
		if e := t.p.m.Discard(a[0], a[1]); e != 0 {
			return 0, e
		}
		return 0, nil
	case unix.MADV_NORMAL, unix.MADV_RANDOM, unix.MADV_SEQUENTIAL, unix.MADV_WILLNEED,
		unix.MADV_HUGEPAGE, unix.MADV_NOHUGEPAGE, unix.MADV_DONTDUMP, unix.MADV_DODUMP,
		unix.MADV_COLLAPSE, unix.MADV_DONTFORK, unix.MADV_DOFORK:
		return 0, nil
	}
	return 0, unix.EINVAL
}
