package kernel

import (
	"math/bits"
	"sync/atomic"
	"unsafe"

	"yolk/amd64"
)

// The kernel lock. The trap handler's state (the scheduler, futexes,
// epoll and eventfds, timers, the frame allocator, the kernel's address
// space, device interrupt state) is shared by every CPU's trap handler
// and by the few goroutine-side sections that touch it (kernelLock):
// one lock, taken with interrupts off, serialises them all. Programs
// and the kernel's own Go code run in parallel on every CPU; only their
// entries into the trap handler take turns (and not the system calls
// that need nothing shared, unlocked.go).
//
// Whoever spins for the lock (or for the TLB-shootdown lock, tlb.go)
// keeps answering shootdown requests meanwhile, so a holder that waits
// for every CPU to flush its TLB never waits for a CPU that waits for it.
//
// A trap handler that does not get the lock after a short spin (lockSpins)
// stops spinning and halts: under TCG each virtual CPU is a host thread,
// and with more CPUs than the host has cores, CPUs spinning for the lock
// took the host's cores from the CPU holding it. Measured on this 2-core
// host with 4 CPUs (examples/gofiles over 300 files on a host directory):
// the CPUs spent 70 s of 160 spinning, the lock was held 186 us a time
// against 15 us with one CPU, and the run took 40 s against 6. The
// waiting CPU (park) puts its trap aside (the trap path has saved the
// thread's whole state in its Context), raises its task priority so
// that only the IPIs of class 15 (shootdowns, wake-ups, VecUnpark) reach
// it, and resumes its idle thread's context, which halts with interrupts
// on; QEMU's thread for that CPU then sleeps. The releaser sends
// VecUnpark to one waiting CPU, which takes its trap up again (unpark)
// and tries once more. Device and timer interrupts meanwhile stay
// pending in the local APIC until the task priority drops.

// klock holds 1 + the CPU that holds the kernel lock, 0 when free;
// klockWaiters has bit c set while CPU c halts waiting for it.
var (
	klock        atomic.Uint32
	klockWaiters atomic.Uint64
)

// lockSpins is how many times a trap handler looks at a held lock
// before it halts (park): about the time a trap holds the lock.
const lockSpins = 200

// VecUnpark is the IPI that tells a halted waiter the lock was released.
const VecUnpark = 0xf2

// parkTPR is the task priority a waiter halts with (CR8: classes up to
// 14 held pending; VecTLB, VecWake and VecUnpark are class 15).
const parkTPR = 14

// cpuIndex returns the running CPU's number (interrupts off, or in the
// trap handler: otherwise the caller may move to another CPU at once).
func cpuIndex() int { return int(amd64.This().Index) }

// lockKernel takes the kernel lock for CPU c, interrupts off, spinning
// for as long as it takes (goroutine-side sections and a starting CPU).
func lockKernel(c int) {
	for !tryLockKernel(c) {
	}
}

// tryLockKernel spins for the kernel lock a bounded time and reports
// whether CPU c got it.
func tryLockKernel(c int) bool {
	for range lockSpins {
		if klock.Load() == 0 && klock.CompareAndSwap(0, uint32(c+1)) {
			return true
		}
		pollTLB(c)
		amd64.Pause()
	}
	return false
}

// park makes CPU c, whose trap handler found the lock held, halt until
// the holder releases it: the trap (vector v, in the current Context)
// waits in kcpus[c] and the CPU resumes its idle thread's context. It
// reports false when the lock was released meanwhile (nothing parked:
// try again).
func park(c int, v uint64) bool {
	k := &kcpus[c]
	k.parkVec = v
	k.parked = uintptr(unsafe.Pointer(amd64.Current()))
	klockWaiters.Or(1 << c)
	if klock.Load() == 0 {
		unpark(c) // released since the last look
		return false
	}
	amd64.WriteCR8(parkTPR)
	amd64.SetCurrent(&sched.T[c].Context)
	return true
}

// unpark takes up the trap CPU c put aside (park) and returns its vector.
func unpark(c int) uint64 {
	k := &kcpus[c]
	klockWaiters.And(^uint64(1 << c))
	amd64.WriteCR8(0)
	ctx := (*amd64.Context)(ptr(k.parked))
	k.parked = 0
	amd64.SetCurrent(ctx)
	ctx.Regs.Vector = k.parkVec // the idle context may be the one put aside
	return k.parkVec
}

// unlockKernel releases the kernel lock.
func unlockKernel() {
	klock.Store(0)
	if w := klockWaiters.Load(); w != 0 {
		d := bits.TrailingZeros64(w)
		if klockWaiters.And(^uint64(1<<d))&(1<<d) != 0 {
			sendIPI(uint32(amd64.CPUByIndex(d).APICID), VecUnpark)
		}
	}
}

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
	poked atomic.Bool
	// parked is the Context whose trap the CPU put aside to wait for the
	// kernel lock (0: none), parkVec that trap's vector (park).
	parked  uintptr
	parkVec uint64
	// unlockedCalls counts the system calls answered without the kernel
	// lock (unlocked.go).
	unlockedCalls uint64
	// tlbPending is set by a shootdown for the CPU to serve (tlb.go).
	tlbPending atomic.Uint32
	// tlbFlushAt is when the CPU next reloads CR3 under TCG, and
	// tlbGap the span before the one after (see tlbTick).
	tlbFlushAt, tlbGap int64
	_                  [64]byte // its own cache lines
}

var kcpus [amd64.MaxCPUs]kcpu
