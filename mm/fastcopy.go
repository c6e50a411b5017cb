package mm

import (
	"encoding/binary"

	"yolk/amd64"
)

// CopyOutFast writes b to the program's memory at va from the trap
// handler, as the program's own store would: only when every page of the
// range is present, user-accessible and writable (a store that would
// fault, into a copy-on-write, unbacked or read-only page, is the slow
// path's to resolve) and no goroutine is changing the space. It marks the
// pages accessed and dirty, as the CPU does, and reports whether it wrote;
// it writes nothing when it reports false.
func (as *AddressSpace) CopyOutFast(va uint64, b []byte) bool {
	if !as.state.CompareAndSwap(stIdle, stFast) {
		return false
	}
	ok := as.pokeFast(va, b)
	as.state.Store(stIdle)
	return ok
}

// pokeFast is CopyOutFast with the fast state held. It serves the small
// stores of the trap handler's answers: a range over more than two pages
// is left to the slow path. Each page's entry is looked up once (every
// level of the walk is an indirect call, which TCG pays dearly for).
func (as *AddressSpace) pokeFast(va uint64, b []byte) bool {
	const want = amd64.PTE_P | amd64.PTE_U | amd64.PTE_W
	end := va + uint64(len(b))
	if len(b) == 0 || end < va || va < as.lo || end > as.hi {
		return false
	}
	if off := va & pageMask; off+uint64(len(b)) <= amd64.PageSize {
		// One page: the common case (a timespec, a byte), without the
		// loops, and with a direct map without the calls of slot and
		// page (under TCG each call and each return is a lookup).
		var e *uint64
		if as.direct != 0 {
			e = slotDirect(as.direct, as.root, va)
		} else {
			e = as.slot(va, false)
		}
		if e == nil || *e&want != want {
			return false
		}
		*e |= amd64.PTE_A | amd64.PTE_D
		var pg *[amd64.PageSize]byte
		if as.direct != 0 {
			pg = (*[amd64.PageSize]byte)(addrPointer(as.direct + *e&amd64.PTE_ADDR))
		} else {
			pg = as.page(*e & amd64.PTE_ADDR)
		}
		copySmall(pg[off:], b)
		return true
	}
	var es [2]*uint64
	n := 0
	for p := va &^ pageMask; p < end; p += amd64.PageSize {
		if n == len(es) {
			return false
		}
		e := as.slot(p, false)
		if e == nil || *e&want != want {
			return false
		}
		es[n] = e
		n++
	}
	off := va & pageMask
	for _, e := range es[:n] {
		*e |= amd64.PTE_A | amd64.PTE_D
		pg := as.page(*e & amd64.PTE_ADDR)
		b = b[copy(pg[off:], b):]
		off = 0
	}
	return true
}

// copySmall is copy(dst, src) that stores up to 16 bytes itself, in two
// overlapping words from 8 bytes up, instead of calling memmove. dst and
// src do not overlap.
func copySmall(dst, src []byte) {
	n := len(src)
	switch {
	case n > 16 || len(dst) < n:
		copy(dst, src)
	case n >= 8:
		binary.LittleEndian.PutUint64(dst, binary.LittleEndian.Uint64(src))
		binary.LittleEndian.PutUint64(dst[n-8:], binary.LittleEndian.Uint64(src[n-8:]))
	default:
		for i := range n {
			dst[i] = src[i]
		}
	}
}
