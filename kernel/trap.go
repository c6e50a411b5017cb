package kernel

import (
	"yolk/amd64"
	"yolk/linux/sysno"
)

// trap is the kernel's trap handler (see package amd64 for the contract:
// interrupts off, no allocation, no pointer writes to globals). It runs
// under the kernel lock (lock.go), but for a TLB shootdown's IPI, which
// touches nothing shared.
func trap() {
	cpu := amd64.This() // once: under TCG every call and return costs a lookup
	c := int(cpu.Index)
	v := cpu.Current().Regs.Vector
	switch v {
	case VecTLB:
		pollTLB(c)
		lapicAck()
		return
	case VecWake:
		kcpus[c].poked.Store(false)
		lapicAck()
	case VecUnpark:
		lapicAck()
		if kcpus[c].parked == 0 {
			return // this CPU stopped waiting before the IPI came
		}
	}
	if kcpus[c].parked != 0 {
		// The CPU halted for the kernel lock (park): back to the trap
		// it put aside, whatever woke it.
		v = unpark(c)
	}
	nested := heldBy(c)
	if !nested {
		if v == amd64.VecSyscall && unlockedSyscall(c) {
			return
		}
		cpuAccount(c, nanotime(), acctSystem)
		for !tryLockKernel(c) {
			if park(c, v) {
				return
			}
		}
	}
	t := sched.Current(c)
	if v < uint64(len(trapCounts)) {
		trapCounts[v]++
	}
	var isIRQ, resched bool
	if v >= 32 && v < 256 { // interrupt's vectors, not an exception or a system call
		isIRQ, resched = interrupt(c, v)
	}
	switch {
	case isIRQ:
		if v == amd64.VecTimer && t.inUser {
			cpuAlarm(t)
		}
	case t.inUser:
		userTrap(t, v)
	default:
		resched = kernelTrap(t, v)
	}
	if t.inUser && t.kick {
		// KickUser from another CPU while this one ran the program.
		t.kick = false
		t.user().Regs.Vector = VecKick
		leaveUser(t, 0)
	}
	// An interrupt taken while idle may have woken a thread; a thread
	// that entered its program here may have to run elsewhere.
	idle := sched.Cur(c) < sched.first()
	if !t.allowed(c) {
		sched.changed() // busy CPUs it may run on arm their slice's end
		resched = true
	}
	if resched || t.State != Runnable || idle && sched.othersRunnable(c) {
		switchTo(c, sched.Pick(c))
	}
	if sched.Cur(c) >= sched.first() {
		deliverSignal(sched.Current(c))
	}
	rearmTimer(c)
	flushKernelPending(c)
	pokeIdle(c)
	if !nested {
		cpuAccount(c, nanotime(), resumeMode(c))
		unlockKernel()
	}
}

// pokeIdle wakes an idle CPU with an IPI when a thread waits to run and
// none is on its way (kernel lock held).
func pokeIdle(c int) {
	n := int(cpusOnline.Load())
	if n == 1 || !sched.waiting() {
		return
	}
	for d := range n {
		if d != c && sched.Cur(d) < sched.first() && sched.othersRunnable(d) {
			if !kcpus[d].poked.Load() {
				kcpus[d].poked.Store(true)
				sendIPI(uint32(amd64.CPUByIndex(d).APICID), VecWake)
			}
			return
		}
	}
}

// interrupt handles external interrupts, whatever CPU c was running:
// it reports whether v was one and whether to run another thread.
func interrupt(c int, v uint64) (isIRQ, resched bool) {
	switch {
	case v == amd64.VecTimer:
		lapicAck()
		return true, tick(c)
	case v == VecWake:
		// Acknowledged in trap.
	case v == VecConsole:
		consoleInterrupt()
	case v >= VecDevice && v < VecDevice+maxDeviceIRQs:
		deviceInterrupt(v)
	case v == amd64.VecSpurious || (v >= 32 && v < 48):
		// APIC spurious interrupt, or a masked PIC line: no EOI.
	case v >= 32 && v < 256:
		lapicAck()
	default:
		return false, false
	}
	return true, false
}

// kernelTrap handles a system call or exception of the kernel's own
// code; it reports whether to run another thread.
func kernelTrap(t *Thread, v uint64) bool {
	r := &t.Regs
	switch v {
	case amd64.VecSyscall:
		r.CS, r.SS = amd64.KernelCS, amd64.KernelDS
		if nr := r.RAX; stageTSCMain == 0 && nr < uint64(len(bootSyscallTSC)) {
			t0 := amd64.RDTSC()
			resched := runtimeSyscall(t)
			bootSyscallTSC[nr] += amd64.RDTSC() - t0
			bootSyscallN[nr]++
			return resched
		}
		return runtimeSyscall(t)
	case amd64.VecPageFault:
		cr2 := amd64.ReadCR2()
		write := r.ErrorCode&2 != 0
		if r.ErrorCode&1 == 0 || write {
			switch kernelAS.Resolve(cr2, write, r.ErrorCode&16 != 0) {
			case FaultMapped:
				return false
			case FaultNoMem:
				outOfMemory()
			}
		}
		kernelFault(t, cr2)
	default:
		kernelFault(t, amd64.ReadCR2())
	}
	return false
}

// tick runs on every timer interrupt: it wakes threads whose deadline
// passed and asks for a switch when the current thread's slice is over.
func tick(c int) bool {
	kcpus[c].timerDeadline = 0 // fired: rearmTimer arms it again
	now := nanotime()
	crashWatchdog(now)
	if prof != nil && now >= profNext[c] {
		profTick(now)
	}
	woke := sched.Expire(now) > 0
	if sched.Cur(c) < sched.first() {
		return woke
	}
	if k := &kcpus[c]; tlbTick && now >= k.tlbFlushAt {
		amd64.WriteCR3(k.curCR3.Load())
		k.tlbGap = min(max(2*k.tlbGap, tlbGapMin), tlbGapMax)
		k.tlbFlushAt = now + k.tlbGap
	}
	return now-sched.Current(c).sliceStart >= sliceNs && sched.othersRunnable(c)
}

// cpuAlarm brings t, running a program, back to its EnterUser caller
// (VecKick) once the program's CPU time reaches its Context's CPUAlarm.
func cpuAlarm(t *Thread) {
	u := t.user()
	if u.CPUAlarm != 0 && u.UserNs+t.cpuNs()-t.userRun >= u.CPUAlarm {
		u.Regs.Vector = VecKick
		leaveUser(t, 0)
	}
}

// switchTo makes thread i the one CPU c's trap path resumes. A thread in
// user mode with a kick pending resumes in the kernel instead.
func switchTo(c, i int) {
	if n := &sched.T[i]; n.inUser && n.kick {
		n.kick = false
		n.user().Regs.Vector = VecKick
		leaveUser(n, 0)
	}
	now := nanotime()
	cur := sched.Current(c)
	cur.RunNs += now - cur.sliceStart
	if sched.Cur(c) != i {
		cpuAccts[c].switches.Add(1)
	}
	sched.Run(c, i)
	next := &sched.T[i]
	next.sliceStart = now
	if next.inUser {
		loadCR3(c, next.cr3)
		fpuHere(c, next.user())
		next.user().LastCPU = uint64(c + 1)
	}
	amd64.SetCurrent(next.context())
}

// kernelFault reports a CPU exception in kernel code: through the
// reporter goroutine when it is running (the faulting thread is frozen),
// else at once; then the machine powers off with ExitKernelFault.
func kernelFault(t *Thread, cr2 uint64) {
	if crashDeadline != 0 {
		// A second fault while the reporter runs: print what we have.
		kprint("yolk: fault while reporting a kernel fault; raw report of the first:\n")
		rawCrash()
		poweroff(ExitKernelFault)
	}
	if recordCrash(t, cr2) {
		return
	}
	kprint("\n")
	rawCrash()
	poweroff(ExitKernelFault)
}

func printRegs(r *amd64.Frame) {
	regs := [...]struct {
		name string
		v    uint64
	}{
		{"rip", r.RIP}, {"rsp", r.RSP}, {"rflags", r.RFLAGS}, {"cs", r.CS}, {"ss", r.SS},
		{"rax", r.RAX}, {"rbx", r.RBX}, {"rcx", r.RCX}, {"rdx", r.RDX},
		{"rsi", r.RSI}, {"rdi", r.RDI}, {"rbp", r.RBP}, {"r8", r.R8},
		{"r9", r.R9}, {"r10", r.R10}, {"r11", r.R11}, {"r12", r.R12},
		{"r13", r.R13}, {"r14", r.R14}, {"r15", r.R15},
	}
	for i, x := range regs {
		kprint(" ")
		kprint(x.name)
		kprint("=")
		kprintHex(x.v)
		if i%4 == 3 {
			kprint("\n")
		}
	}
	kprint("\n")
}

// printCode prints the bytes at rip if they are mapped.
func printCode(rip uint64) {
	var code [16]byte
	n := readKernel(rip, code[:])
	kprint(" code:")
	for _, b := range code[:n] {
		const digits = "0123456789abcdef"
		consoleWrite([]byte{' ', digits[b>>4], digits[b&15]})
	}
	kprint("\n")
}

// readKernel copies mapped kernel memory at va into b, stopping at the
// first unmapped byte, and returns the count.
func readKernel(va uint64, b []byte) int {
	if kernelAS.PT.Root == 0 {
		return 0
	}
	for i := range b {
		if _, ok := kernelAS.PT.Lookup(va + uint64(i)); !ok {
			return i
		}
		b[i] = *(*byte)(ptr(uintptr(va) + uintptr(i)))
	}
	return len(b)
}

// nestedFault runs on the emergency stack when the trap handler itself
// faulted: a kernel bug. sp points at vector, error code, RIP, CS,
// RFLAGS, RSP, SS.
func nestedFault(sp uintptr) {
	f := (*[7]uint64)(ptr(sp))
	kprint("\nyolk: fault inside the trap handler: ")
	kprint(amd64.VectorName(f[0]))
	kprint(" error ")
	kprintHex(f[1])
	kprint(" rip ")
	kprintHex(f[2])
	kprint(" rsp ")
	kprintHex(f[5])
	kprint(" cr2 ")
	kprintHex(amd64.ReadCR2())
	kprint("\n")
	printCode(f[2])
	poweroff(ExitKernelFault)
}

// outOfMemory ends the machine when the kernel's own runtime needs a page
// and none is left.
func outOfMemory() {
	free, total, _ := frames.Stats()
	kprint("\nyolk: out of memory: the kernel needs a page and none of ")
	kprintDec(int64(total >> (20 - amd64.PageShift)))
	kprint(" MiB is free (")
	kprintDec(int64(free))
	kprint(" frames); give the VM more memory (-m)\n")
	poweroff(ExitNoMemory)
}

// bootSyscallTSC and bootSyscallN are the TSC ticks the kernel spent in
// each of its runtime's system calls before main, and their counts (for
// bootstats).
var (
	bootSyscallTSC [512]uint64
	bootSyscallN   [512]uint64
)

// BootSyscalls returns the runtime's system calls before main that took
// the most time, longest first (at most n): name, count and microseconds.
func BootSyscalls(n int) (names []string, counts, us []int64) {
	var done [len(bootSyscallTSC)]bool
	for range n {
		best := -1
		for nr, c := range bootSyscallTSC {
			if !done[nr] && c > 0 && (best < 0 || c > bootSyscallTSC[best]) {
				best = nr
			}
		}
		if best < 0 {
			break
		}
		done[best] = true
		names = append(names, sysno.Name(uintptr(best)))
		counts = append(counts, int64(bootSyscallN[best]))
		us = append(us, tscToNs(bootSyscallTSC[best])/1000)
	}
	return names, counts, us
}

// trapCounts counts traps by vector (VecSyscall included), for bootstats.
var trapCounts [amd64.VecSyscall + 1]uint64

// TrapCounts returns how many syscalls (the SYSCALL entry's fast answers
// included), page faults and timer interrupts the kernel has taken, and
// how long the CPU has idled (ns).
func TrapCounts() (syscalls, pageFaults, ticks uint64, idleNs int64) {
	for c := range sched.first() {
		idleNs += sched.T[c].RunNs
	}
	for c := range kcpus {
		syscalls += kcpus[c].unlockedCalls
	}
	return syscalls + trapCounts[amd64.VecSyscall] + amd64.FastSyscalls(), trapCounts[amd64.VecPageFault], trapCounts[amd64.VecTimer], idleNs
}
