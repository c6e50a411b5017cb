package mm

import (
	"golang.org/x/sys/unix"

	"yolk/amd64"
)

// Remap implements mremap(2) (MREMAP_MAYMOVE and MREMAP_FIXED in flags,
// as Linux): a mapping shrinks or grows in place, or moves, taking its
// page-table entries along (page contents are never copied). An oldLen of
// 0 on a shared mapping maps the same pages a second time.
//
// Errors as Linux: EINVAL for unknown flags (MREMAP_DONTUNMAP is not
// supported), FIXED without MAYMOVE, unaligned addresses, a new length of
// 0, an overlapping or out-of-window FIXED target, or oldLen 0 on a
// private mapping; EFAULT when [old, old+oldLen) is not inside one VMA;
// ENOMEM when it cannot grow in place without MAYMOVE, or finds no room.
func (as *AddressSpace) Remap(old, oldLen, newLen uint64, flags uint32, newAddr uint64) (uint64, error) {
	const known = unix.MREMAP_MAYMOVE | unix.MREMAP_FIXED
	mayMove, fixed := flags&unix.MREMAP_MAYMOVE != 0, flags&unix.MREMAP_FIXED != 0
	if flags&^known != 0 || fixed && !mayMove || old&pageMask != 0 {
		return 0, unix.EINVAL
	}
	o, n := pageUp(oldLen), pageUp(newLen)
	if n == 0 || o < oldLen {
		return 0, unix.EINVAL
	}
	oldLen = o
	if old+oldLen < old {
		return 0, unix.EFAULT
	}
	as.lock()
	defer as.unlock()
	// As Linux, nothing changes unless old is mapped.
	if as.vmas.lookup(old) == nil {
		return 0, unix.EFAULT
	}
	if fixed {
		if newAddr&pageMask != 0 || !as.inWindow(newAddr, n) ||
			newAddr < old+oldLen && old < newAddr+n {
			return 0, unix.EINVAL
		}
		// As Linux: the target is cleared even if the move fails later.
		as.unmap(newAddr, newAddr+n)
		if oldLen > n {
			as.unmap(old+n, old+oldLen)
			oldLen = n
		}
	} else if oldLen >= n {
		if oldLen > n {
			as.unmap(old+n, old+oldLen)
		}
		return old, nil
	}

	x := as.vmas.lookup(old)
	if x == nil || oldLen > x.End-old {
		return 0, unix.EFAULT
	}
	if oldLen == 0 && !x.Shared {
		return 0, unix.EINVAL
	}
	// Grow in place when the mapping ends there and the room after it is free.
	if !fixed && oldLen != 0 && old+oldLen == x.End && as.inWindow(old, n) && as.vmas.free(x.End, old+n) {
		x.End = old + n
		as.vmas.setGap(x.next)
		as.merge(x)
		return old, nil
	}
	if !mayMove {
		return 0, unix.ENOMEM
	}
	dst := newAddr
	if !fixed {
		a, ok := as.search(n)
		if !ok {
			return 0, unix.ENOMEM
		}
		dst = a
	}
	if err := as.move(x, old, oldLen, dst, n); err != nil {
		return 0, err
	}
	return dst, nil
}

// move moves [old, old+oldLen) of VMA x to a free range [dst, dst+n),
// n >= oldLen, with its page-table entries.
func (as *AddressSpace) move(x *node, old, oldLen, dst, n uint64) error {
	// First make every table the moved entries need, so that nothing has
	// moved when a frame runs out.
	ok := true
	as.walk(old, old+oldLen, false, func(va uint64, e *uint64) {
		if ok && as.slot(dst+(va-old), true) == nil {
			ok = false
		}
	})
	if !ok {
		return unix.ENOMEM
	}
	y := &node{VMA: x.VMA}
	y.Start, y.End = dst, dst+n
	if y.Backing != nil {
		y.Offset += old - x.Start
		y.Backing.IncRef()
	}
	cnt := 0
	as.walk(old, old+oldLen, false, func(va uint64, e *uint64) {
		*as.slot(dst+(va-old), false) = *e
		present := *e&amd64.PTE_P != 0
		*e = 0
		if present {
			cnt++
			as.flushPage(va, cnt)
		}
	})
	// Free the emptied tables only now: before, a table might have been
	// empty but for entries still to be moved into it.
	pruned := as.walk(old, old+oldLen, true, func(uint64, *uint64) {})
	as.flushDone(cnt, pruned)
	if oldLen > 0 {
		as.split(old)
		as.split(old + oldLen)
		for z := as.vmas.lookup(old); z != nil && z.Start < old+oldLen; {
			nz := z.next
			as.vmas.remove(z)
			if z.Backing != nil {
				z.Backing.DecRef()
			}
			z = nz
		}
	}
	as.vmas.insert(y)
	as.merge(y)
	return nil
}
