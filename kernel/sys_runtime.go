package kernel

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"yolk/amd64"
	"yolk/linux/abi"
	"yolk/linux/sysno"
)

// runtimeSyscall serves a system call made by the kernel's own Go runtime
// (ring 0). The set is the one the runtime uses on linux/amd64; the
// package documentation lists each with why its answer is right.
// It reports whether the scheduler should run another thread because the
// caller blocked, exited or yielded; a blocked caller's result is set
// when it is woken.
func runtimeSyscall(t *Thread) bool {
	r := &t.Regs
	a0, a1, a2, a3, a4 := r.RDI, r.RSI, r.RDX, r.R10, r.R8
	var ret uint64
	resched := false
	switch nr := r.RAX; nr {
	case unix.SYS_READ:
		ret = sysRead(a0, a1, a2)
	case unix.SYS_WRITE:
		ret = sysWrite(a0, a1, a2)
	case unix.SYS_OPENAT, unix.SYS_OPEN:
		// The kernel's runtime probes /sys and /proc files; the kernel
		// has no file system of its own.
		ret = errnoRet(unix.ENOENT)
	case unix.SYS_CLOSE:
		ret = sysClose(a0)
	case unix.SYS_MMAP:
		ret = sysMmap(a0, a1, a2, a3, a4, r.R9)
	case unix.SYS_MUNMAP:
		ret = errnoOr(kernelAS.Unmap(a0, a1), 0)
	case unix.SYS_MPROTECT:
		ret = errnoOr(kernelAS.Protect(a0, a1, uint32(a2)), 0)
	case unix.SYS_MADVISE:
		ret = sysMadvise(a0, a1, a2)
	case unix.SYS_RT_SIGACTION:
		ret = sysRtSigaction(a0, a1, a2, a3)
	case unix.SYS_RT_SIGPROCMASK:
		ret = sysRtSigprocmask(t, a0, a1, a2, a3)
	case unix.SYS_SIGALTSTACK:
		ret = sysSigaltstack(t, a0, a1)
	case unix.SYS_CLONE:
		ret = sysClone(t, a0, a1, a4)
	case unix.SYS_EXIT:
		sched.Exit(sched.Cur(cpuIndex()))
		return true
	case unix.SYS_EXIT_GROUP:
		exitGroup(int(a0))
	case unix.SYS_FUTEX:
		ret, resched = sysFutex(a0, a1, a2, a3)
	case unix.SYS_NANOSLEEP:
		ret, resched = sysNanosleep(a0)
	case unix.SYS_SCHED_YIELD:
		resched = true
	case unix.SYS_SCHED_GETAFFINITY:
		ret = sysSchedGetaffinity(a1, a2)
	case unix.SYS_GETPID:
		ret = 1
	case unix.SYS_GETTID:
		ret = uint64(t.Tid)
	case unix.SYS_GETUID, unix.SYS_GETEUID, unix.SYS_GETGID, unix.SYS_GETEGID:
		ret = 0
	case unix.SYS_CLOCK_GETTIME:
		ret = sysClockGettime(t, a0, a1)
	case unix.SYS_PRLIMIT64:
		ret = sysPrlimit(a1, a2, a3)
	case unix.SYS_FCNTL:
		ret = sysFcntl(a0, a1)
	case unix.SYS_EPOLL_CREATE1:
		ret = sysEpollCreate()
	case unix.SYS_EPOLL_CTL:
		ret = sysEpollCtl(a0, a1, a2, a3)
	case unix.SYS_EPOLL_PWAIT, unix.SYS_EPOLL_WAIT:
		ret, resched = sysEpollWait(a0, a1, a2, a3)
	case unix.SYS_EVENTFD2:
		ret = sysEventfd(a0)
	case unix.SYS_GETRANDOM:
		ret = sysGetrandom(a0, a1)
	case unix.SYS_ARCH_PRCTL:
		ret = sysArchPrctl(t, a0, a1)
	case unix.SYS_PRCTL:
		// PR_SET_VMA names mappings; Linux without CONFIG_ANON_VMA_NAME
		// answers EINVAL, which the runtime expects and ignores.
		ret = errnoRet(unix.EINVAL)
		if a0 != unix.PR_SET_VMA {
			ret = unsupported(nr, r.RIP)
		}
	case unix.SYS_TGKILL:
		ret = sysTkill(a1, a2)
		if a0 != 1 {
			ret = errnoRet(unix.ESRCH)
		}
	case unix.SYS_TKILL:
		ret = sysTkill(a0, a1)
	case unix.SYS_RT_SIGRETURN:
		if !sigreturn(t) {
			kernelFault(t, r.RSP) // a corrupt frame: the runtime is broken
		}
		return false // every register comes from the frame
	case sysEnterUser:
		ret = enterUser(t, a0, a1)
		if ret == 0 {
			return false // t now resumes in ring 3
		}
	case sysConsoleRead:
		ret = consoleRead(a0, a1)
	case sysKickUser:
		ret = kickUser(a0)
	case sysForgetUser:
		ret = forgetUser(a0, a1)
	case sysDMAPage, sysMapMMIO:
		ret = deviceCall(nr, a0, a1)
	default:
		ret = unsupported(nr, r.RIP)
	}
	r.RAX = ret
	return resched
}

// exitGroup ends the kernel's Go runtime: the machine powers off with
// status as the run's exit status.
func exitGroup(status int) {
	if exitHook != nil {
		exitHook(status)
	}
	poweroff(status)
}

// exitHook, when set, runs before an exit_group powers off (for boot
// statistics and flushing).
var exitHook func(int)

// DebugLog enables the kernel's debug messages (-append debug).
var DebugLog bool

var unsupportedSeen [(sysno.Max + 64) / 64]uint64

// unsupported answers ENOSYS and logs the first call of each number.
func unsupported(nr, rip uint64) uint64 {
	if nr <= uint64(sysno.Max) && unsupportedSeen[nr/64]&(1<<(nr%64)) == 0 {
		unsupportedSeen[nr/64] |= 1 << (nr % 64)
		kprint("yolk: runtime syscall ")
		kprint(sysno.Name(uintptr(nr)))
		kprint(" (")
		kprintDec(int64(nr))
		kprint(") not supported: ENOSYS, at ")
		kprintHex(rip)
		kprint("\n")
	}
	return errnoRet(unix.ENOSYS)
}

func errnoOr(e unix.Errno, ok uint64) uint64 {
	if e != 0 {
		return errnoRet(e)
	}
	return ok
}

// kmem returns the kernel memory [va, va+n) after backing it, or false if
// it is not mapped with the access asked for.
func kmem(va, n uint64, write bool) ([]byte, bool) {
	if n == 0 {
		return nil, true
	}
	if n > 1<<30 || !kernelAS.Ensure(va, n, write) {
		return nil, false
	}
	return unsafeBytes(va, n), true
}

func copyOut(va uint64, b []byte) bool {
	dst, ok := kmem(va, uint64(len(b)), true)
	if ok {
		copy(dst, b)
	}
	return ok
}

func put64(va, v uint64) bool {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return copyOut(va, b[:])
}

func get64(va uint64) (uint64, bool) {
	b, ok := kmem(va, 8, false)
	if !ok {
		return 0, false
	}
	return binary.LittleEndian.Uint64(b), true
}

// timespecNs reads a struct timespec.
func timespecNs(va uint64) (int64, bool) {
	b, ok := kmem(va, 16, false)
	if !ok {
		return 0, false
	}
	sec, nsec := int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return -1, true
	}
	if sec > (1<<62)/1_000_000_000 {
		sec = (1 << 62) / 1_000_000_000
	}
	return sec*1e9 + nsec, true
}

func putTimespec(va uint64, ns int64) bool {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], uint64(ns/1e9))
	binary.LittleEndian.PutUint64(b[8:], uint64(ns%1e9))
	return copyOut(va, b[:])
}

func sysMmap(addr, length, prot, flags, fd, off uint64) uint64 {
	if flags&unix.MAP_ANONYMOUS == 0 || int32(fd) != -1 {
		return errnoRet(unix.ENODEV) // the kernel has no files to map
	}
	if flags&(unix.MAP_PRIVATE|unix.MAP_SHARED) == 0 {
		return errnoRet(unix.EINVAL)
	}
	if flags&unix.MAP_FIXED_NOREPLACE != 0 {
		if _, ok := kernelAS.Lookup(addr); ok || !kernelAS.free(addr, addr+pageUp(length)) {
			return errnoRet(unix.EEXIST)
		}
	}
	a, e := kernelAS.Map(addr, length, uint32(prot), flags&unix.MAP_FIXED != 0)
	return errnoOr(e, a)
}

func sysMadvise(addr, length, advice uint64) uint64 {
	switch advice {
	case unix.MADV_DONTNEED, unix.MADV_FREE:
		return errnoOr(kernelAS.Discard(addr, length), 0)
	case unix.MADV_HUGEPAGE, unix.MADV_NOHUGEPAGE, unix.MADV_COLLAPSE, unix.MADV_WILLNEED:
		// Advice about huge pages and read-ahead: yolk uses 4 KiB pages
		// only, which these hints permit, so they are accepted and have
		// no effect.
		return 0
	}
	return errnoRet(unix.EINVAL)
}

// Signal actions of the kernel's runtime; delivery is in ksignal.go.
var sigactions [65][32]byte

func sysRtSigaction(sig, act, oact, size uint64) uint64 {
	if size != 8 || sig < 1 || sig > 64 || ((sig == uint64(unix.SIGKILL) || sig == uint64(unix.SIGSTOP)) && act != 0) {
		return errnoRet(unix.EINVAL)
	}
	old := sigactions[sig]
	if act != 0 {
		b, ok := kmem(act, 32, false)
		if !ok {
			return errnoRet(unix.EFAULT)
		}
		copy(sigactions[sig][:], b)
	}
	if oact != 0 && !copyOut(oact, old[:]) {
		return errnoRet(unix.EFAULT)
	}
	return 0
}

func sysRtSigprocmask(t *Thread, how, set, oset, size uint64) uint64 {
	if size != 8 {
		return errnoRet(unix.EINVAL)
	}
	old := t.SigMask
	if set != 0 {
		v, ok := get64(set)
		if !ok {
			return errnoRet(unix.EFAULT)
		}
		m, ok := abi.ApplySigmask(t.SigMask, int(how), v)
		if !ok {
			return errnoRet(unix.EINVAL)
		}
		t.SigMask = m
	}
	if oset != 0 && !put64(oset, old) {
		return errnoRet(unix.EFAULT)
	}
	return 0
}

func sysSigaltstack(t *Thread, ss, oss uint64) uint64 {
	old := t.AltStack
	if ss != 0 {
		b, ok := kmem(ss, 24, false)
		if !ok {
			return errnoRet(unix.EFAULT)
		}
		for i := range t.AltStack {
			t.AltStack[i] = binary.LittleEndian.Uint64(b[8*i:])
		}
	}
	if oss != 0 {
		var b [24]byte
		for i, v := range old {
			binary.LittleEndian.PutUint64(b[8*i:], v)
		}
		if old[0] == 0 {
			binary.LittleEndian.PutUint64(b[8:], abi.SS_DISABLE)
		}
		if !copyOut(oss, b[:]) {
			return errnoRet(unix.EFAULT)
		}
	}
	return 0
}

// sysClone creates a thread sharing everything with its parent, as the
// runtime's newosproc asks (CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|
// CLONE_SYSVSEM|CLONE_THREAD, plus CLONE_SETTLS). The child resumes
// after the syscall instruction with RAX=0 on the given stack.
func sysClone(t *Thread, flags, stack, tls uint64) uint64 {
	enableProgramXState()
	const need = unix.CLONE_VM | unix.CLONE_THREAD | unix.CLONE_SIGHAND
	if flags&need != need {
		return errnoRet(unix.EINVAL) // processes need fork, not here
	}
	i, ok := sched.Spawn()
	if !ok {
		return errnoRet(unix.EAGAIN)
	}
	c := &sched.T[i]
	c.Context = t.Context
	c.Regs.RAX = 0
	if stack != 0 {
		c.Regs.RSP = stack
	}
	if flags&unix.CLONE_SETTLS != 0 {
		c.FSBase = tls
	}
	c.SigMask = t.SigMask
	c.State = Runnable
	return uint64(c.Tid)
}

func sysFutex(addr, op, val, timeout uint64) (uint64, bool) {
	switch op &^ (abi.FUTEX_PRIVATE_FLAG | abi.FUTEX_CLOCK_REALTIME) {
	case abi.FUTEX_WAIT:
		b, ok := kmem(addr, 4, false)
		if !ok || addr&3 != 0 {
			return errnoRet(unix.EFAULT), false
		}
		if binary.LittleEndian.Uint32(b) != uint32(val) {
			return errnoRet(unix.EAGAIN), false
		}
		deadline := int64(0)
		if timeout != 0 {
			d, ok := timespecNs(timeout)
			if !ok {
				return errnoRet(unix.EFAULT), false
			}
			if d < 0 {
				return errnoRet(unix.EINVAL), false
			}
			deadline = nanotime() + d
		}
		c := cpuIndex()
		sched.Current(c).futex = addr
		sched.Block(sched.Cur(c), waitFutex, deadline)
		return 0, true
	case abi.FUTEX_WAKE:
		return uint64(sched.FutexWake(addr, int(int32(val)))), false
	}
	return unsupported(unix.SYS_FUTEX, sched.Current(cpuIndex()).Regs.RIP), false
}

func sysNanosleep(req uint64) (uint64, bool) {
	d, ok := timespecNs(req)
	if !ok {
		return errnoRet(unix.EFAULT), false
	}
	if d < 0 {
		return errnoRet(unix.EINVAL), false
	}
	if d == 0 {
		return 0, true // like sched_yield
	}
	sched.Block(sched.Cur(cpuIndex()), waitSleep, nanotime()+d)
	return 0, true
}

// sysSchedGetaffinity reports the machine's CPUs (NumCPUs), which the
// runtime takes for its NumCPU (its GOMAXPROCS is in its environment:
// RuntimeProcs).
func sysSchedGetaffinity(size, mask uint64) uint64 {
	if size < 8 {
		return errnoRet(unix.EINVAL)
	}
	if !put64(mask, 1<<NumCPUs()-1) {
		return errnoRet(unix.EFAULT)
	}
	return 8
}

func sysClockGettime(t *Thread, clk, ts uint64) uint64 {
	var ns int64
	switch clk {
	case unix.CLOCK_REALTIME, unix.CLOCK_REALTIME_COARSE:
		ns = walltime()
	case unix.CLOCK_MONOTONIC, unix.CLOCK_MONOTONIC_RAW, unix.CLOCK_MONOTONIC_COARSE, unix.CLOCK_BOOTTIME:
		ns = nanotime()
	case unix.CLOCK_THREAD_CPUTIME_ID:
		ns = t.RunNs + nanotime() - t.sliceStart
	case unix.CLOCK_PROCESS_CPUTIME_ID:
		for i := 1; i < sched.top; i++ {
			ns += sched.T[i].RunNs
		}
		ns += nanotime() - t.sliceStart
	default:
		return errnoRet(unix.EINVAL)
	}
	if !putTimespec(ts, ns) {
		return errnoRet(unix.EFAULT)
	}
	return 0
}

// sysPrlimit reports fixed limits; they cannot be changed.
func sysPrlimit(res, newp, oldp uint64) uint64 {
	if newp != 0 {
		return errnoRet(unix.EPERM)
	}
	cur, max := uint64(unix.RLIM_INFINITY), uint64(unix.RLIM_INFINITY)
	switch res {
	case unix.RLIMIT_NOFILE:
		cur, max = maxKFiles, maxKFiles
	case unix.RLIMIT_STACK:
		cur = 8 << 20
	}
	if oldp != 0 && (!put64(oldp, cur) || !put64(oldp+8, max)) {
		return errnoRet(unix.EFAULT)
	}
	return 0
}

func sysGetrandom(buf, n uint64) uint64 {
	b, ok := kmem(buf, n, true)
	if !ok {
		return errnoRet(unix.EFAULT)
	}
	for i := 0; i < len(b); i += 8 {
		v := randomWord()
		for j := 0; j < 8 && i+j < len(b); j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return n
}

func sysArchPrctl(t *Thread, code, addr uint64) uint64 {
	switch code {
	case abi.ARCH_SET_FS:
		if !amd64.Canonical(addr) {
			return errnoRet(unix.EPERM)
		}
		t.FSBase = addr // loaded by the trap path on resume
		return 0
	case abi.ARCH_GET_FS:
		if !put64(addr, t.FSBase) {
			return errnoRet(unix.EFAULT)
		}
		return 0
	}
	return errnoRet(unix.EINVAL)
}
