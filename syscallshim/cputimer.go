package syscallshim

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// The CPU-time interval timers, setitimer's ITIMER_VIRTUAL (SIGVTALRM)
// and ITIMER_PROF (SIGPROF): they run down with the process's CPU time
// (Process.cpuNs: user-mode time; yolk does not account system time, so
// PROF counts what VIRTUAL does). A thread running the program is sent
// back to the kernel when its share could reach the earliest deadline
// (amd64.Context.CPUAlarm, which the kernel's timer checks), and every
// return checks the timers; an expired one signals the thread that used
// the time, as Linux's does in practice (or the process when that thread
// blocks the signal). Go's runtime profiler uses ITIMER_PROF.

// cpuTimer is one of them: a deadline in process CPU time (0: disarmed)
// and the interval it is re-armed with.
type cpuTimer struct {
	deadline int64
	interval int64
}

// cpuTimers are a process's two, under Process.mu; on says whether either
// is armed, read without the lock on every return from the program.
type cpuTimers struct {
	t  [2]cpuTimer // ITIMER_VIRTUAL, ITIMER_PROF
	on atomic.Bool
}

// cpuTimerSignal is each timer's signal.
var cpuTimerSignal = [2]int{int(unix.SIGVTALRM), int(unix.SIGPROF)}

// setCPUTimer arms timer which (0 VIRTUAL, 1 PROF) to expire after value
// of CPU time and then every interval; value 0 disarms. It returns what
// was left and the old interval.
func (p *Process) setCPUTimer(which int, value, interval time.Duration) (left, oldInterval time.Duration) {
	now := p.cpuNs()
	p.mu.Lock()
	defer p.mu.Unlock()
	ct := &p.cpuTimers.t[which]
	if ct.deadline != 0 {
		left = time.Duration(max(ct.deadline-now, 1000)) // an expired, unsignalled timer has 1 µs left
	}
	oldInterval = time.Duration(ct.interval)
	ct.deadline, ct.interval = 0, int64(interval)
	if value > 0 {
		ct.deadline = now + int64(value)
	}
	p.cpuTimers.on.Store(p.cpuTimers.t[0].deadline != 0 || p.cpuTimers.t[1].deadline != 0)
	return left, oldInterval
}

// getCPUTimer returns what is left of timer which and its interval.
func (p *Process) getCPUTimer(which int) (left, interval time.Duration) {
	now := p.cpuNs()
	p.mu.Lock()
	defer p.mu.Unlock()
	ct := p.cpuTimers.t[which]
	if ct.deadline != 0 {
		left = time.Duration(max(ct.deadline-now, 1000))
	}
	return left, time.Duration(ct.interval)
}

// cpuAlarm sets t's Context to come back when the process's CPU time may
// reach the earliest deadline (0: no timer armed), before t enters the
// program.
func (t *Thread) cpuAlarm() {
	if !t.p.cpuTimers.on.Load() {
		t.ctx.CPUAlarm = 0
		return
	}
	p := t.p
	now := p.cpuNs()
	p.mu.Lock()
	next := int64(0)
	for _, ct := range p.cpuTimers.t {
		if ct.deadline != 0 && (next == 0 || ct.deadline < next) {
			next = ct.deadline
		}
	}
	p.mu.Unlock()
	if next == 0 {
		t.ctx.CPUAlarm = 0
		return
	}
	// Were t alone to run, it reaches the deadline after next-now more.
	t.ctx.CPUAlarm = t.cpuNs() + max(next-now, 1000)
}

// checkCPUTimers signals the timers that have expired, after t came back
// from the program, and re-arms the periodic ones.
func (t *Thread) checkCPUTimers() {
	p := t.p
	if !p.cpuTimers.on.Load() {
		return
	}
	now := p.cpuNs()
	var fired [2]bool
	p.mu.Lock()
	for i := range p.cpuTimers.t {
		ct := &p.cpuTimers.t[i]
		if ct.deadline == 0 || now < ct.deadline {
			continue
		}
		fired[i] = true
		if ct.interval == 0 {
			ct.deadline = 0
			continue
		}
		// One signal however many intervals passed, as Linux's.
		for ct.deadline <= now {
			ct.deadline += ct.interval
		}
	}
	p.cpuTimers.on.Store(p.cpuTimers.t[0].deadline != 0 || p.cpuTimers.t[1].deadline != 0)
	p.mu.Unlock()
	for i, f := range fired {
		if !f {
			continue
		}
		sig := cpuTimerSignal[i]
		if t.mask()&sigBit(sig) == 0 {
			t.sendSignal(t, sig, sigInfo{code: 0x80}) // SI_KERNEL
		} else {
			p.signalProcess(sig, sigInfo{code: 0x80})
		}
	}
}
