package mm

import (
	"golang.org/x/sys/unix"

	"yolk/amd64"
)

// Fork returns a copy of the space for fork(2): shared mappings share
// their frames; private ones become copy-on-write in both spaces (entries
// made read-only, frame reference counts +1, the parent's TLB flushed with
// FlushAll). The cost is proportional to the pages mapped.
func (as *AddressSpace) Fork() (*AddressSpace, error) {
	as.lock()
	defer as.unlock()
	c, err := New(as.cfg)
	if err != nil {
		return nil, err
	}
	ok := true
	changed := false
	for x := as.vmas.first; x != nil && ok; x = x.next {
		y := &node{VMA: x.VMA}
		if y.Backing != nil {
			y.Backing.IncRef()
		}
		c.vmas.insert(y)
		private := !x.Shared
		as.walk(x.Start, x.End, false, func(va uint64, e *uint64) {
			if !ok || !framed(*e) {
				return
			}
			ce := c.slot(va, true)
			if ce == nil {
				ok = false
				return
			}
			if private && *e&pteCOW == 0 {
				*e = leaf(*e&amd64.PTE_ADDR, x.Prot, true)
				changed = true
			}
			as.phys.IncRef(*e & amd64.PTE_ADDR)
			*ce = *e
			c.resident++
		})
	}
	if changed && as.cfg.FlushAll != nil {
		as.cfg.FlushAll(as)
	}
	if !ok {
		c.Release()
		return nil, unix.ENOMEM
	}
	return c, nil
}

// Release drops every mapping and frees every frame and table; the space
// is unusable after (a second Release does nothing).
func (as *AddressSpace) Release() {
	as.lock()
	defer as.unlock()
	if as.released {
		return
	}
	as.released = true
	if as.cfg.BeforeRelease != nil {
		as.cfg.BeforeRelease(as)
	}
	for x := as.vmas.first; x != nil; x = x.next {
		if x.Backing != nil {
			x.Backing.DecRef()
		}
	}
	as.vmas = tree{lo: as.lo}
	as.walk(as.lo, as.hi, true, func(va uint64, e *uint64) {
		if framed(*e) {
			as.phys.DecRef(*e & amd64.PTE_ADDR)
			as.resident--
		}
		*e = 0
	})
	as.phys.DecRef(as.root)
	as.root = 0
}
