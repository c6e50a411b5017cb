package kernel

import "sync/atomic"

// Per-CPU time, as Linux's /proc/stat splits it: each CPU is idle (its
// idle thread runs), in the kernel (the trap handler, the kernel's own
// Go code, system calls; also a trap handler halted waiting for the
// kernel lock, as Linux counts a spinning CPU busy) or running a
// program. The trap handler switches the account at every locked entry
// and exit (cpuAccount): time between two traps belongs to what ran in
// between. System calls answered without the lock (unlocked.go) leave
// the account in user mode: they take a few hundred instructions.

// CPU time accounts (cpuAcct.ns).
const (
	acctIdle = iota
	acctSystem
	acctUser
)

// cpuAcct is one CPU's account: written by that CPU in its trap handler
// (interrupts off), read by any (CPUTimes).
type cpuAcct struct {
	ns       [3]atomic.Int64
	mode     atomic.Int32 // the account running now
	since    atomic.Int64 // when it started (monotonic ns); 0 before the CPU's first trap
	switches atomic.Uint64
}

var cpuAccts [len(kcpus)]cpuAcct

// cpuAccount closes CPU c's running account at now and opens mode.
func cpuAccount(c int, now int64, mode int32) {
	a := &cpuAccts[c]
	if s := a.since.Load(); s != 0 && now > s {
		a.ns[a.mode.Load()].Add(now - s)
	}
	a.mode.Store(mode)
	a.since.Store(now)
}

// resumeMode is the account of what CPU c resumes now (kernel lock held).
func resumeMode(c int) int32 {
	switch {
	case sched.Cur(c) < sched.first():
		return acctIdle
	case sched.Current(c).inUser:
		return acctUser
	}
	return acctSystem
}

// CPUTimes returns CPU c's time in programs, in the kernel and idle
// since it started, in nanoseconds.
func CPUTimes(c int) (user, system, idle int64) {
	if c < 0 || c >= CPUsOnline() {
		return 0, 0, 0
	}
	a := &cpuAccts[c]
	var ns [3]int64
	for i := range ns {
		ns[i] = a.ns[i].Load()
	}
	if s := a.since.Load(); s != 0 {
		if now := nanotime(); now > s {
			ns[a.mode.Load()] += now - s
		}
	}
	return ns[acctUser], ns[acctSystem], ns[acctIdle]
}

// CPUCounts returns the context switches and interrupts every CPU has
// taken since boot, and how many threads run or wait to run a program.
func CPUCounts() (switches, interrupts uint64, running int) {
	for c := range CPUsOnline() {
		switches += cpuAccts[c].switches.Load()
	}
	fl := kernelLock()
	for v := 32; v < len(trapCounts) && v < 256; v++ {
		interrupts += trapCounts[v]
	}
	for i := sched.first(); i < sched.top; i++ {
		if t := &sched.T[i]; t.State == Runnable && t.inUser {
			running++
		}
	}
	kernelUnlock(fl)
	return switches, interrupts, running
}
