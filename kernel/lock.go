package kernel

import (
	"sync/atomic"

	"yolk/amd64"
)

// The kernel lock. The trap handler's state (the scheduler, futexes,
// epoll and eventfds, timers, the frame allocator, the kernel's address
// space, device interrupt state) is shared by every CPU's trap handler
// and by the few goroutine-side sections that touch it (kernelLock):
// one spinlock, taken with interrupts off, serialises them all. Programs
// and the kernel's own Go code run in parallel on every CPU; only their
// entries into the trap handler take turns.
//
// Whoever spins for the lock (or for the TLB-shootdown lock, tlb.go)
// keeps answering shootdown requests meanwhile, so a holder that waits
// for every CPU to flush its TLB never waits for a CPU that waits for it.

// klock holds 1 + the CPU that holds the kernel lock, 0 when free.
var klock atomic.Uint32

// cpuIndex returns the running CPU's number (interrupts off, or in the
// trap handler: otherwise the caller may move to another CPU at once).
func cpuIndex() int { return int(amd64.This().Index) }

// lockKernel takes the kernel lock for CPU c, interrupts off.
func lockKernel(c int) {
	for !klock.CompareAndSwap(0, uint32(c+1)) {
		for klock.Load() != 0 {
			pollTLB(c)
			amd64.Pause()
		}
	}
}

// unlockKernel releases the kernel lock.
func unlockKernel() { klock.Store(0) }

// heldBy reports whether CPU c holds the kernel lock: a trap taken
// inside a kernelLock section (a page fault on the section's own stack)
// runs under the section's hold.
func heldBy(c int) bool { return klock.Load() == uint32(c+1) }

// kernelLock turns interrupts off and takes the kernel lock, unless
// this CPU holds it already (the trap handler calls the same code as
// goroutines: the frame source userPhys); kernelUnlock(fl) undoes it.
func kernelLock() (fl uint64) {
	fl = amd64.IRQSave()
	if c := cpuIndex(); heldBy(c) {
		fl |= nestedLock
	} else {
		lockKernel(c)
	}
	return fl
}

// nestedLock marks kernelLock's result when it took nothing (RFLAGS
// bit 63 is reserved, always 0).
const nestedLock = 1 << 63

func kernelUnlock(fl uint64) {
	if fl&nestedLock == 0 {
		unlockKernel()
	}
	amd64.IRQRestore(fl &^ nestedLock)
}

// kcpu is the kernel's own per-CPU state.
type kcpu struct {
	// curCR3 is the root loaded in the CPU's CR3: a program's while its
	// threads run, and kept while kernel threads run (they use only the
	// shared upper half), so that going back into the same program costs
	// no TLB flush. Written by its CPU only; read by shootdowns.
	curCR3 atomic.Uint64
	// timerDeadline is the monotonic ns the CPU's armed timer fires at;
	// 0 = not armed.
	timerDeadline int64
	// poked is set while a wake-up IPI to the CPU is on its way.
	poked bool
	// tlbPending is set by a shootdown for the CPU to serve (tlb.go).
	tlbPending atomic.Uint32
	// tlbFlushAt is when the CPU next reloads CR3 under TCG, and
	// tlbGap the span before the one after (see tlbTick).
	tlbFlushAt, tlbGap int64
	_                  [64]byte // its own cache lines
}

var kcpus [amd64.MaxCPUs]kcpu
