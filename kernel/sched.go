package kernel

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"yolk/amd64"
)

// ThreadState is where a thread is in its life.
type ThreadState uint8

const (
	Free ThreadState = iota
	Runnable
	Blocked
)

// waitKind says what a blocked thread waits for, and so what its system
// call returns when a deadline passes.
type waitKind uint8

const (
	waitNone waitKind = iota
	waitFutex
	waitSleep
	waitEpoll
)

// Thread is a kernel thread: one of the Go runtime's Ms (created by its
// clone calls) or the idle thread. Its Context is where the trap path
// saves and resumes it; it must stay the first field (FXSAVE alignment).
type Thread struct {
	amd64.Context

	State    ThreadState
	wait     waitKind
	Tid      int32
	futex    uint64 // address waited on
	deadline int64  // monotonic ns when the wait times out; 0 = never
	epfd     int32  // epoll_pwait: instance, events buffer, capacity
	evbuf    uint64
	evmax    int32

	SigMask  uint64
	SigPend  uint64    // signals sent by tgkill, delivered on resume
	AltStack [3]uint64 // stack_t: ss_sp, ss_flags|pad, ss_size

	RunNs      int64 // time spent running
	sliceStart int64 // when it last started to run

	// While the thread runs a Linux program (EnterUser), the trap path
	// saves into and resumes from the EnterUser caller's Context at
	// userCtx; Context keeps the kernel's state at the call.
	inUser  bool
	kick    bool // KickUser: leave user mode before resuming it
	userCtx uint64
	userAS  uint64 // the *mm.AddressSpace the program runs in (kept alive by EnterUser's caller)
	cr3     uint64 // its root
	userG   uint64 // the goroutine that called EnterUser (the profiler's curG)
	// enterUser found the Context at ctxChecked backed when the kernel's
	// space had released pages ctxReleased times.
	ctxChecked, ctxReleased uint64
	// leaveUser's copy of the vector, RAX, RIP and RBP the program left with.
	leftVector, leftRAX, leftRIP, leftRBP uint64
	// userRun is the thread's running time (cpuNs) when it entered user
	// mode: leaveUser adds what it ran since to the program's Context.
	userRun int64
	// leftCtx and leftRun are the Context and running time (cpuNs) of
	// the last leaveUser: when the thread enters the same Context again
	// without having slept (Block clears leftCtx), the time between goes
	// to its SysNs.
	leftCtx uint64
	leftRun int64
	// oncpu is 1 + the CPU running the thread, 0 when none is: no other
	// CPU may pick it then (its state is saved by the one running it).
	// affinity is the CPUs the thread may run on while inUser (its
	// program Context's Affinity when it entered; 0: any).
	affinity uint64
	oncpu    uint8
	_        [15]byte // keeps the size a multiple of 16
}

// allowed reports whether thread t may run on CPU c: a thread running a
// program only on the CPUs of the program thread's affinity mask.
func (t *Thread) allowed(c int) bool {
	return !t.inUser || t.affinity == 0 || t.affinity&(1<<c) != 0
}

// The trap path FXSAVEs into Thread.Context, which needs 16-byte
// alignment: Thread's size must stay a multiple of 16 (this fails to
// compile otherwise; adjust the padding at the end of Thread).
var _ [0]struct{} = [unsafe.Sizeof(Thread{}) % 16]struct{}{}

// maxThreads bounds the kernel's threads (the runtime's Ms): every
// program thread needs one while it runs or sits in a blocking system
// call, so this is what bounds program threads (see MaxProgramThreads).
// The table is not in the image: 4096 slots would be 4.2 MiB of bss,
// more than a quarter of a 16 MiB machine. Its memory is put behind it a
// page at a time as Spawn first reaches a slot (Scheduler.back), so a
// machine pays for the most threads it ever had at once; the scheduler's
// scans stop at the highest slot used, so unused slots cost no time.
const maxThreads = 4096

// MaxProgramThreads is how many program threads may exist at once, in
// all processes: the rest of the slots stay for the runtime's own threads
// (sysmon, GC workers, the template thread and spares), so that program
// threads can never make the runtime's clone fail.
const MaxProgramThreads = maxThreads - 96

// Scheduler is the run queue the CPUs share: each runs, round-robin,
// the runnable threads no other CPU runs, and its idle thread (slot c for
// CPU c) only when there is none. The kernel holds it under the kernel
// lock (lock.go). It holds no pointers and never allocates, so the trap
// handler can use it.
type Scheduler struct {
	// T is the thread table. Only slots [0, backed) have memory behind
	// them; Spawn backs more through back, which makes the first n bytes
	// of the table usable (zeroed) or says that memory ran out.
	T      *[maxThreads]Thread
	backed int
	back   func(n uintptr) bool
	cur    [amd64.MaxCPUs]int // the thread each CPU runs
	// nidle is how many slots idle threads take: one per CPU (at least
	// one; 0 stands for 1). Other threads take the slots above.
	nidle   int
	top     int // slots [0, top) have been used: scans stop there
	nextTid int32
	// dirty has bit c set when what CPU c's timer must be armed for may
	// have changed (a thread blocked with a deadline, woke, appeared or
	// went away, or a new slice started).
	dirty uint64
}

// SetCPUs reserves the idle slots of n CPUs; call it before Spawn.
func (s *Scheduler) SetCPUs(n int) {
	s.nidle = n
	for c := range n {
		s.cur[c] = c
	}
}

func (s *Scheduler) first() int { return max(s.nidle, 1) }

// Cur returns the thread CPU c runs.
func (s *Scheduler) Cur(c int) int { return s.cur[c] }

// Current returns the thread CPU c runs.
func (s *Scheduler) Current(c int) *Thread { return &s.T[s.cur[c]] }

// Running reports whether some CPU runs thread i.
func (s *Scheduler) Running(i int) bool { return s.T[i].oncpu != 0 }

// Run makes CPU c run thread i (picked for it by Pick).
func (s *Scheduler) Run(c, i int) {
	s.T[s.cur[c]].oncpu = 0
	s.cur[c] = i
	s.T[i].oncpu = uint8(c + 1)
	s.dirty |= 1 << c // a new slice
}

// changed marks every CPU's timer for re-arming.
func (s *Scheduler) changed() { s.dirty = ^uint64(0) }

// Spawn claims a free slot (never an idle thread's) and gives it a
// thread ID. It fails when every slot is taken, or when the next slot
// needs memory and none is left.
func (s *Scheduler) Spawn() (int, bool) {
	for i := s.first(); i < maxThreads; i++ {
		if i >= s.backed && !s.grow(i+1) {
			return 0, false
		}
		if s.T[i].State == Free {
			s.top = max(s.top, i+1)
			s.nextTid++
			s.T[i] = Thread{State: Blocked, Tid: s.nextTid}
			s.changed()
			return i, true
		}
	}
	return 0, false
}

// grow backs at least the first n slots, in whole pages.
func (s *Scheduler) grow(n int) bool {
	if n <= s.backed {
		return true
	}
	if s.back == nil {
		return false
	}
	const size = unsafe.Sizeof(Thread{})
	end := (uintptr(n)*size + amd64.PageSize - 1) &^ (amd64.PageSize - 1)
	if !s.back(end) {
		return false
	}
	s.backed = min(maxThreads, int(end/size))
	return true
}

// Exit frees slot i.
func (s *Scheduler) Exit(i int) { s.T[i].State = Free; s.changed() }

// Block puts thread i to sleep for kind until deadline (0: no deadline).
func (s *Scheduler) Block(i int, kind waitKind, deadline int64) {
	t := &s.T[i]
	t.State, t.wait, t.deadline = Blocked, kind, deadline
	// A kernel thread that sleeps between a program's trap and its next
	// entry may have run other goroutines: that call's time is not
	// counted as the program's system time (see leftCtx).
	t.leftCtx = 0
	s.changed()
}

// Wake makes thread i runnable with ret as its system call's result.
func (s *Scheduler) Wake(i int, ret uint64) {
	t := &s.T[i]
	t.State, t.wait, t.deadline = Runnable, waitNone, 0
	t.Regs.RAX = ret
	s.changed()
}

// Pick chooses the next thread for CPU c: the first runnable thread
// after its current one that no CPU runs and may run on c, then its
// current one (if it still may), then its idle thread.
func (s *Scheduler) Pick(c int) int {
	first, cur := s.first(), s.cur[c]
	top := max(s.top, first)
	if n := top - first; n > 0 {
		from := max(cur-first, -1)
		for k := 1; k <= n; k++ {
			i := first + (from+k)%n
			if t := &s.T[i]; i != cur && t.State == Runnable && t.oncpu == 0 && t.allowed(c) {
				return i
			}
		}
	}
	if t := &s.T[cur]; cur >= first && t.State == Runnable && t.allowed(c) {
		return cur
	}
	return c
}

// othersRunnable reports whether a thread that CPU c does not run, no
// other CPU runs either and may run on c could run.
func (s *Scheduler) othersRunnable(c int) bool {
	cur := s.cur[c]
	for i := s.first(); i < s.top; i++ {
		if t := &s.T[i]; i != cur && t.State == Runnable && t.oncpu == 0 && t.allowed(c) {
			return true
		}
	}
	return false
}

// waiting reports whether a runnable thread runs on no CPU.
func (s *Scheduler) waiting() bool {
	for i := s.first(); i < s.top; i++ {
		if s.T[i].State == Runnable && s.T[i].oncpu == 0 {
			return true
		}
	}
	return false
}

// Expire wakes the threads whose deadline is at or before now and returns
// how many it woke.
func (s *Scheduler) Expire(now int64) int {
	n := 0
	for i := s.first(); i < s.top; i++ {
		t := &s.T[i]
		if t.State != Blocked || t.deadline == 0 || t.deadline > now {
			continue
		}
		ret := uint64(0)
		if t.wait == waitFutex {
			ret = errnoRet(unix.ETIMEDOUT)
		}
		s.Wake(i, ret)
		n++
	}
	return n
}

// NextDeadline returns the earliest deadline of a blocked thread, or 0.
func (s *Scheduler) NextDeadline() int64 {
	d := int64(0)
	for i := s.first(); i < s.top; i++ {
		t := &s.T[i]
		if t.State == Blocked && t.deadline != 0 && (d == 0 || t.deadline < d) {
			d = t.deadline
		}
	}
	return d
}

// FutexWake wakes up to n threads waiting on addr and returns how many.
func (s *Scheduler) FutexWake(addr uint64, n int) int {
	woken := 0
	for i := s.first(); i < s.top && woken < n; i++ {
		t := &s.T[i]
		if t.State == Blocked && t.wait == waitFutex && t.futex == addr {
			s.Wake(i, 0)
			woken++
		}
	}
	return woken
}

// errnoRet is a system call's return value for errno e: -e.
func errnoRet(e unix.Errno) uint64 { return uint64(-int64(e)) }
