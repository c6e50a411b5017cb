package mm

import (
	"golang.org/x/sys/unix"

	"yolk/amd64"
)

// UserStack is the sampling profiler's stack walk, for the trap handler:
// it fills pcs with rip and then the return addresses found by following
// the frame-pointer chain from rbp (each frame: saved rbp at [rbp], return
// address at [rbp+8], as the x86-64 psABI lays it out when frame pointers
// are kept), and returns how many it stored. It stops at the first frame
// that does not look like one: a misaligned or non-increasing frame
// pointer, memory that is not present and readable, or a return address
// outside executable memory. Code built without frame pointers gives its
// leaf (and possibly a frame or two that pass those checks by chance, as
// perf's fp unwinder does). It reads page tables and frames through the
// direct map, never at the program's addresses, so it cannot fault; it
// does not allocate, lock or write Go pointers, and gives up (just the
// leaf) while a goroutine is changing the space or after it was released.
func (as *AddressSpace) UserStack(rip, rbp uint64, pcs []uint64) int {
	if len(pcs) == 0 {
		return 0
	}
	pcs[0] = rip
	n := 1
	if !as.state.CompareAndSwap(stIdle, stFast) {
		return n
	}
	// A released space has no root (Release clears it, holding the space
	// busy): its thread is exiting or execing as the timer fires.
	for as.root != 0 && n < len(pcs) && rbp%8 == 0 && rbp >= as.lo && rbp+16 <= as.hi {
		next, ok1 := as.peek(rbp)
		ret, ok2 := as.peek(rbp + 8)
		if !ok1 || !ok2 || ret == 0 {
			break
		}
		x := as.vmas.lookup(ret)
		if x == nil || x.Prot&unix.PROT_EXEC == 0 {
			break
		}
		pcs[n] = ret
		n++
		if next <= rbp {
			break
		}
		rbp = next
	}
	as.state.Store(stIdle)
	return n
}

// peek reads the 8-byte word at va (8-aligned) if its page is present and
// user-accessible; the caller holds the fast state.
func (as *AddressSpace) peek(va uint64) (uint64, bool) {
	e := as.slot(va, false)
	if e == nil || *e&(amd64.PTE_P|amd64.PTE_U) != amd64.PTE_P|amd64.PTE_U {
		return 0, false
	}
	pg := as.page(*e & amd64.PTE_ADDR)
	off := va & pageMask
	var v uint64
	for i := uint64(0); i < 8; i++ {
		v |= uint64(pg[off+i]) << (8 * i)
	}
	return v, true
}
