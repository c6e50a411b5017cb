package kernel

import (
	"sync/atomic"

	"yolk/amd64"
)

// The sampling profiler (-append profile[=HZ], qemu/run --profile FILE).
// The timer interrupt takes a sample at a fixed rate while a program
// thread runs: in user mode, its RIP and the return addresses found by
// following its frame pointers (mm.UserStack: through the page tables,
// never at the program's addresses, so it cannot fault); in the kernel on
// its behalf, the same walk from where the program trapped, marked with
// why it is in the kernel (a system call and its number, a page fault).
// The idle thread and kernel threads that run no program's system call
// are not sampled: the profile is the program's time.
//
// "On its behalf" is exact: enterUser records the goroutine that called
// EnterUser (the g at the thread's FS base - 8, where the Go runtime keeps
// it on linux/amd64), and a kernel-mode sample counts for the program only
// while that thread still runs that goroutine, which has not gone back to
// the program since it trapped.
//
// Samples go into a ring that ProfileStart allocates; the trap path only
// stores numbers into it (no allocation, no pointer writes), and
// ProfileDrain (a goroutine) takes them out.

// ProfDepth is the most frames a sample keeps of the program's stack,
// ProfKDepth of the kernel's.
const (
	ProfDepth  = 48
	ProfKDepth = 32
)

// Sample kinds: where the program's thread was.
const (
	ProfUser    = iota // running the program
	ProfSyscall        // in the kernel for system call Nr
	ProfFault          // in the kernel for a page fault the trap path left to a goroutine
	ProfTrap           // in the kernel for another exception
)

// profSample is one sample.
type profSample struct {
	as   uint64 // the *mm.AddressSpace (identifies the process)
	kind uint32
	n    uint32
	kn   uint32
	nr   uint64
	pc   [ProfDepth]uint64
	kpc  [ProfKDepth]uint64 // a kernel-mode sample's kernel frames
}

const profRingSize = 1024 // 10 s at 100 Hz between drains

type profRing struct {
	head    atomic.Uint64 // samples written (trap path)
	tail    atomic.Uint64 // samples taken (ProfileDrain)
	dropped atomic.Uint64 // samples lost to a full ring
	s       [profRingSize]profSample
}

var (
	prof       *profRing            // nil: not profiling
	profPeriod int64                // ns between samples
	profNext   [amd64.MaxCPUs]int64 // monotonic ns of each CPU's next sample
	profStart  int64                // monotonic ns profiling started
	profCost   int64                // ns spent in profTick, all told
	profTicks  int64                // profTick calls
)

// ProfileStart starts sampling at hz samples a second.
func ProfileStart(hz int) {
	if prof != nil || hz <= 0 {
		return
	}
	r := new(profRing)
	// The runtime's fresh memory is backed on first touch, which the
	// trap handler must never cause: touch every page now.
	for i := range r.s {
		r.s[i].n = 0
	}
	profPeriod = int64(1e9 / hz)
	profStart = nanotime()
	for c := range profNext {
		profNext[c] = profStart + profPeriod
	}
	f := kernelLock()
	prof = r
	sched.changed() // rearm the timer with the sampling deadline
	kernelUnlock(f)
}

// ProfilePeriod is the time between samples in ns (0: not profiling).
func ProfilePeriod() int64 {
	if prof == nil {
		return 0
	}
	return profPeriod
}

// ProfileCost reports the sampler's own cost so far: the time spent in
// the timer interrupt taking samples, how many interrupts that was, and
// the time since profiling started (all in ns of the monotonic clock).
func ProfileCost() (tickNs, ticks, sinceNs int64) {
	f := kernelLock()
	tickNs, ticks = profCost, profTicks
	kernelUnlock(f)
	return tickNs, ticks, nanotime() - profStart
}

// ProfilePending reports whether samples wait for ProfileDrain.
func ProfilePending() bool {
	r := prof
	return r != nil && r.head.Load() != r.tail.Load()
}

// ProfileDrain calls fn for each sample taken since the last call, oldest
// first, and returns how many were lost to a full ring in all. fn gets the
// address space the sample's program runs in, its kind (ProfUser ...),
// the system call number for ProfSyscall, the program's frames and, for a
// sample in the kernel, the kernel's (both leaf first); it must not keep
// pcs or kpcs.
func ProfileDrain(fn func(as uintptr, kind int, nr uint64, pcs, kpcs []uint64)) (dropped uint64) {
	r := prof
	if r == nil {
		return 0
	}
	head := r.head.Load()
	for i := r.tail.Load(); i < head; i++ {
		s := &r.s[i%profRingSize]
		fn(uintptr(s.as), int(s.kind), s.nr, s.pc[:s.n], s.kpc[:s.kn])
	}
	r.tail.Store(head)
	return r.dropped.Load()
}

// profTick runs on the timer interrupt when a sample is due, before the
// scheduler switches threads: it samples the thread that was running.
// Each CPU samples its own thread on its own timer (another CPU's
// registers are not saved while it runs), so a second of two busy CPUs
// gives twice the samples: CPU time, as Linux's profiler counts it.
func profTick(now int64) {
	profTicks++
	profTake(now)
	profCost += nanotime() - now
}

// profTake is profTick's work (no defer on the trap path).
func profTake(now int64) {
	c := cpuIndex()
	profNext[c] += profPeriod
	if profNext[c] <= now {
		profNext[c] = now + profPeriod
	}
	r := prof
	if sched.Cur(c) < sched.first() {
		return // idle
	}
	t := sched.Current(c)
	kind, nr := uint32(ProfUser), uint64(0)
	if !t.inUser {
		if t.userCtx == 0 || t.userG == 0 || curG(t) != t.userG {
			return // the kernel's own work
		}
		// The program's Context may be gone by now (a thread that
		// exited, its page released: reading it here faulted in the
		// trap handler), so only what leaveUser kept.
		switch t.leftVector {
		case amd64.VecSyscall:
			kind, nr = ProfSyscall, t.leftRAX
		case amd64.VecPageFault:
			kind = ProfFault
		default:
			kind = ProfTrap
		}
	}
	head := r.head.Load()
	if head-r.tail.Load() >= profRingSize {
		r.dropped.Add(1)
		return
	}
	s := &r.s[head%profRingSize]
	s.as, s.kind, s.nr = t.userAS, kind, nr
	s.kn = 0
	if t.inUser {
		u := t.user()
		s.n = uint32(t.as().UserStack(u.Regs.RIP, u.Regs.RBP, s.pc[:]))
	} else {
		s.kn = uint32(kernelStack(&t.Regs, t.userG, s.kpc[:]))
		// The address space is alive: it is freed only after
		// ForgetUser, which clears userG first.
		s.n = uint32(t.as().UserStack(t.leftRIP, t.leftRBP, s.pc[:]))
	}
	r.head.Store(head + 1)
}

// kernelStack stores in pcs where the kernel was when r was saved, and
// the return addresses found by following its frame pointers, and returns
// how many. g is the goroutine r's thread runs: the walk stays on its
// stack, between the saved RSP and the stack's top (runtime.g starts
// with stack.lo and stack.hi), in 8-byte-aligned frames that go up, so a
// register that is not a frame pointer ends the walk instead of sending
// it somewhere unmapped.
func kernelStack(r *amd64.Frame, g uint64, pcs []uint64) int {
	if len(pcs) == 0 || g < kernelHalf {
		return 0
	}
	pcs[0] = r.RIP
	n := 1
	hi := *(*uint64)(ptr(uintptr(g + 8)))
	for fp := r.RBP; n < len(pcs) && fp >= r.RSP && fp&7 == 0 && fp+16 <= hi; n++ {
		pcs[n] = *(*uint64)(ptr(uintptr(fp + 8)))
		next := *(*uint64)(ptr(uintptr(fp)))
		if next <= fp {
			return n + 1
		}
		fp = next
	}
	return n
}

// curG is the goroutine kernel thread t runs: the Go runtime keeps it at
// FS base - 8 (its TLS slot on linux/amd64). 0 when t has no TLS yet.
func curG(t *Thread) uint64 {
	if t.FSBase < kernelHalf+8 {
		return 0
	}
	return *(*uint64)(ptr(uintptr(t.FSBase - 8)))
}

// kernelHalf is where the kernel's (upper) half of the address space begins.
const kernelHalf = 0xffff800000000000
