package syscallshim

import (
	"encoding/binary"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// POSIX per-process timers (timer_create(2), timer_settime(2),
// timer_gettime(2), timer_getoverrun(2), timer_delete(2)) on the clocks
// the kernel keeps: CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME and
// CLOCK_TAI. An expiry sends the signal sigevent names to the process
// (SIGEV_SIGNAL), to one of its threads (SIGEV_THREAD_ID, as glibc's
// SIGEV_THREAD uses), or nothing (SIGEV_NONE), with si_code SI_TIMER,
// the timer's ID, its overrun and sigev_value. A periodic timer that
// fell behind counts the expirations it missed as the overrun of the
// next signal. The CPU-time clocks are ENOTSUP (logged): Go's runtime
// then profiles with setitimer(ITIMER_PROF), which yolk has. Timers are
// the process's: not inherited by fork, deleted by execve and exit.

const (
	sigevSignal   = 0
	sigevNone     = 1
	sigevThreadID = 4
	siTimer       = -2 // si_code of a timer's signal
	// maxPosixTimers bounds a process's timers (EAGAIN past it), as
	// RLIMIT_SIGPENDING bounds Linux's.
	maxPosixTimers = 4096
	// minRearm is the least time between two expiries of a periodic
	// timer: shorter intervals count the ones in between as overruns
	// (Linux gets there by re-arming when the signal is delivered).
	minRearm = 100_000
)

// posixTimer is one timer. Its deadline is on the monotonic clock (an
// absolute CLOCK_REALTIME time is converted when armed).
type posixTimer struct {
	p      *Process
	id     int32
	clock  uint64
	notify int32
	signo  int
	tid    int32  // SIGEV_THREAD_ID's thread
	value  uint64 // sigev_value

	mu       sync.Mutex
	timer    *time.Timer
	deadline int64 // monotonic ns; 0: disarmed
	interval int64
	overrun  int32 // of the last signal sent
	gen      int
}

// posixTimers are a process's timers, under Process.mu.
type posixTimers struct {
	byID map[int32]*posixTimer
	next int32
}

// sysTimerCreate implements timer_create(2).
func sysTimerCreate(t *Thread, a Args) (uint64, error) {
	clock := a[0]
	switch clock {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_BOOTTIME, unix.CLOCK_TAI:
	case unix.CLOCK_PROCESS_CPUTIME_ID, unix.CLOCK_THREAD_CPUTIME_ID:
		t.logOnce("timer_create-cpu", "timer_create on a CPU-time clock is not supported (setitimer ITIMER_PROF is): ENOTSUP")
		return 0, unix.ENOTSUP
	default:
		return 0, unix.EINVAL
	}
	pt := &posixTimer{p: t.p, clock: clock, notify: sigevSignal, signo: int(unix.SIGALRM)}
	if a[1] != 0 {
		b, err := t.copyIn(a[1], 64)
		if err != nil {
			return 0, err
		}
		le := binary.LittleEndian
		pt.value = le.Uint64(b)
		pt.signo, pt.notify, pt.tid = int(int32(le.Uint32(b[8:]))), int32(le.Uint32(b[12:])), int32(le.Uint32(b[16:]))
		switch pt.notify {
		case sigevNone:
		case sigevSignal, sigevThreadID:
			if pt.signo < 1 || pt.signo > 64 {
				return 0, unix.EINVAL
			}
			if pt.notify == sigevThreadID && !t.p.hasThread(pt.tid) {
				return 0, unix.EINVAL
			}
		default:
			return 0, unix.EINVAL // SIGEV_THREAD is the C library's, never the kernel's
		}
	}
	p := t.p
	p.mu.Lock()
	if p.ptimers.byID == nil {
		p.ptimers.byID = map[int32]*posixTimer{}
	}
	if len(p.ptimers.byID) >= maxPosixTimers {
		p.mu.Unlock()
		return 0, unix.EAGAIN
	}
	for p.ptimers.byID[p.ptimers.next] != nil {
		p.ptimers.next = (p.ptimers.next + 1) & 0x7fffffff
	}
	pt.id = p.ptimers.next
	p.ptimers.next = (p.ptimers.next + 1) & 0x7fffffff
	p.ptimers.byID[pt.id] = pt
	p.mu.Unlock()
	if a[1] == 0 {
		pt.value = uint64(pt.id) // sigev_value.sival_int is the ID, as Linux
	}
	if err := t.put32(a[2], uint32(pt.id)); err != nil {
		p.deleteTimer(pt.id)
		return 0, err
	}
	return 0, nil
}

// hasThread reports whether tid is one of p's threads.
func (p *Process) hasThread(tid int32) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.threads[tid] != nil
}

// posixTimer returns p's timer id (EINVAL for none).
func (p *Process) posixTimer(id uint64) (*posixTimer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pt := p.ptimers.byID[int32(id)]; pt != nil && id <= 0x7fffffff {
		return pt, nil
	}
	return nil, unix.EINVAL
}

// now is the timer's clock, in ns.
func (pt *posixTimer) now() int64 {
	if pt.clock == unix.CLOCK_REALTIME || pt.clock == unix.CLOCK_TAI {
		return pt.p.m.Realtime()
	}
	return pt.p.m.Monotonic()
}

// sysTimerSettime implements timer_settime(2): TIMER_ABSTIME, a zero
// value disarms; the old setting is written when asked.
func sysTimerSettime(t *Thread, a Args) (uint64, error) {
	pt, err := t.p.posixTimer(a[0])
	if err != nil {
		return 0, err
	}
	if a[1]&^unix.TIMER_ABSTIME != 0 {
		return 0, unix.EINVAL
	}
	if a[2] == 0 {
		return 0, unix.EFAULT
	}
	interval, err := t.timespec(a[2])
	if err != nil {
		return 0, err
	}
	value, err := t.timespec(a[2] + 16)
	if err != nil {
		return 0, err
	}
	pt.mu.Lock()
	oldLeft, oldInterval := pt.left(), pt.interval
	pt.arm(value, interval, a[1]&unix.TIMER_ABSTIME != 0)
	pt.mu.Unlock()
	if a[3] != 0 {
		return 0, t.putItimerspec(a[3], oldInterval, oldLeft)
	}
	return 0, nil
}

// sysTimerGettime implements timer_gettime(2).
func sysTimerGettime(t *Thread, a Args) (uint64, error) {
	pt, err := t.p.posixTimer(a[0])
	if err != nil {
		return 0, err
	}
	pt.mu.Lock()
	left, interval := pt.left(), pt.interval
	pt.mu.Unlock()
	return 0, t.putItimerspec(a[1], interval, left)
}

// sysTimerGetoverrun implements timer_getoverrun(2).
func sysTimerGetoverrun(t *Thread, a Args) (uint64, error) {
	pt, err := t.p.posixTimer(a[0])
	if err != nil {
		return 0, err
	}
	pt.mu.Lock()
	defer pt.mu.Unlock()
	return uint64(pt.overrun), nil
}

// sysTimerDelete implements timer_delete(2).
func sysTimerDelete(t *Thread, a Args) (uint64, error) {
	if _, err := t.p.posixTimer(a[0]); err != nil {
		return 0, err
	}
	t.p.deleteTimer(int32(a[0]))
	return 0, nil
}

func (t *Thread) putItimerspec(va uint64, interval, value int64) error {
	var b [32]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(interval/1e9))
	binary.LittleEndian.PutUint64(b[8:], uint64(interval%1e9))
	binary.LittleEndian.PutUint64(b[16:], uint64(value/1e9))
	binary.LittleEndian.PutUint64(b[24:], uint64(value%1e9))
	return t.copyOut(va, b[:])
}

// left is the time to the next expiry (0: disarmed); pt.mu held.
func (pt *posixTimer) left() int64 {
	if pt.deadline == 0 {
		return 0
	}
	return max(pt.deadline-pt.p.m.Monotonic(), 1)
}

// arm sets the timer (pt.mu held): value 0 disarms.
func (pt *posixTimer) arm(value, interval int64, abs bool) {
	if pt.timer != nil {
		pt.timer.Stop()
		pt.timer = nil
	}
	pt.gen++
	pt.deadline, pt.interval, pt.overrun = 0, 0, 0
	if value == 0 {
		return
	}
	mono := pt.p.m.Monotonic()
	if abs {
		value -= pt.now() // to a relative time on the timer's clock
	}
	pt.deadline, pt.interval = mono+max(value, 1), interval
	pt.schedule(mono)
}

// schedule starts the Go timer for the deadline (pt.mu held).
func (pt *posixTimer) schedule(mono int64) {
	gen := pt.gen
	pt.timer = time.AfterFunc(time.Duration(max(pt.deadline-mono, 0)), func() { pt.fire(gen) })
}

// fire runs when the deadline passes: it signals, and re-arms a periodic
// timer past now, counting the expirations it missed.
func (pt *posixTimer) fire(gen int) {
	pt.mu.Lock()
	if gen != pt.gen || pt.deadline == 0 {
		pt.mu.Unlock()
		return
	}
	mono := pt.p.m.Monotonic()
	pt.overrun = 0
	if pt.interval > 0 {
		// The next expiry past now and at least minRearm away (a 1 ns
		// interval must not keep the kernel firing), the ones skipped
		// counted as overruns.
		k := (mono+minRearm-pt.deadline)/pt.interval + 1
		pt.overrun = int32(min(k-1, 1<<31-1))
		pt.deadline += k * pt.interval
		pt.schedule(mono)
	} else {
		pt.deadline, pt.timer = 0, nil
	}
	info := sigInfo{code: siTimer, timerID: pt.id, overrun: pt.overrun, value: pt.value}
	notify, signo, tid := pt.notify, pt.signo, pt.tid
	pt.mu.Unlock()
	p := pt.p
	switch notify {
	case sigevSignal:
		p.signalProcess(signo, info)
	case sigevThreadID:
		p.mu.Lock()
		th := p.threads[tid]
		p.mu.Unlock()
		if th != nil {
			th.sendSignal(th, signo, info)
		}
	}
}

// deleteTimer disarms and removes timer id.
func (p *Process) deleteTimer(id int32) {
	p.mu.Lock()
	pt := p.ptimers.byID[id]
	delete(p.ptimers.byID, id)
	p.mu.Unlock()
	if pt != nil {
		pt.mu.Lock()
		pt.arm(0, 0, false)
		pt.mu.Unlock()
	}
}

// deleteTimers removes every timer (execve, exit).
func (p *Process) deleteTimers() {
	p.mu.Lock()
	var ids []int32
	for id := range p.ptimers.byID {
		ids = append(ids, id)
	}
	p.mu.Unlock()
	for _, id := range ids {
		p.deleteTimer(id)
	}
}
