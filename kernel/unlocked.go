package kernel

import (
	"golang.org/x/sys/unix"

	"yolk/amd64"
)

// System calls answered without the kernel lock. The kernel's own
// runtime has no vDSO: every nanotime and walltime is a clock_gettime
// system call (165,000 of them in a run of examples/gofiles over 300
// files on a host directory, nine in ten of all its traps), and a
// program's clock_gettime, and reads and writes of /dev/zero and
// /dev/null, are answered in the trap handler too (fastSyscall). None
// reads or changes anything the lock guards: the clocks are the TSC and
// constants, the CPU's current thread is changed only by the CPU
// itself, the kernel's page tables never free a table (a lookup sees an
// entry or its absence, never a freed table), a program's space is
// guarded by mm's own fast-path word, and its descriptor table's
// generation is read atomically. With several
// CPUs taking the lock for each of them made the CPUs queue behind
// each other for calls that share nothing.

// unlockedSyscall answers the system call that trapped on CPU c if it
// needs no lock, and reports whether it did (interrupts off, trap
// handler, the kernel lock not held).
func unlockedSyscall(c int) bool {
	t := sched.Current(c)
	if t.SigPend != 0 || t.kick || timerStale(c) {
		// Signals and kicks are the locked path's, and so is re-arming
		// the timer when what it is armed for changed (another CPU woke
		// a thread that may wait for this one's slice to end).
		return false
	}
	if t.inUser {
		if !fastSyscall(t, &t.user().Regs) {
			return false
		}
	} else if !runtimeClock(&t.Regs) {
		return false
	}
	kcpus[c].unlockedCalls++
	return true
}

// runtimeClock answers the kernel's runtime's clock_gettime of
// CLOCK_MONOTONIC or CLOCK_REALTIME (the clocks nanotime and walltime
// read) when the timespec's pages are mapped writable; anything else
// goes to runtimeSyscall under the lock.
func runtimeClock(r *amd64.Frame) bool {
	if r.RAX != unix.SYS_CLOCK_GETTIME {
		return false
	}
	var ns int64
	switch r.RDI {
	case unix.CLOCK_MONOTONIC, unix.CLOCK_MONOTONIC_RAW, unix.CLOCK_MONOTONIC_COARSE, unix.CLOCK_BOOTTIME:
		ns = nanotime()
	case unix.CLOCK_REALTIME, unix.CLOCK_REALTIME_COARSE:
		ns = walltime()
	default:
		return false
	}
	va := r.RSI
	if va&7 != 0 || !kernelWritable(va) || !kernelWritable(va+15) {
		return false
	}
	p := (*[2]int64)(ptr(uintptr(va)))
	p[0], p[1] = ns/1e9, ns%1e9
	r.RAX = 0
	r.CS, r.SS = amd64.KernelCS, amd64.KernelDS
	return true
}

// kernelWritable reports whether the kernel's tables map va writable
// now (a lookup only: the locked path backs the runtime's pages on
// demand). The upper half's tables are every space's, and only
// kernel pages are there.
func kernelWritable(va uint64) bool {
	if va < 1<<63 {
		return false
	}
	e, ok := kernelAS.PT.Lookup(va)
	return ok && e&(amd64.PTE_W|amd64.PTE_U) == amd64.PTE_W
}
