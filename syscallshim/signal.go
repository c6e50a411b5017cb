package syscallshim

import (
	"encoding/binary"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"yolk/amd64"
	"yolk/linux/abi"
)

// Signal delivery, as Linux does it on x86-64 (arch/x86/kernel/signal.c):
// a pending, unblocked signal with a handler is delivered when the thread
// next returns to the program, by pushing an rt_sigframe (return address
// = sa_restorer, struct ucontext, struct siginfo, and the FXSAVE image)
// on its stack or its alternate stack and entering the handler;
// rt_sigreturn restores what the frame holds. Signals sent to a thread
// that is running the program (preempted in it, or running on another
// CPU, which an IPI interrupts) make it come
// back first (Machine kick). Sleeps, pause and sigsuspend end with EINTR;
// other blocking calls take the signal when they return. The frame
// layout is linux/abi's, which the kernel uses for its own runtime too.

const (
	sigDFL = 0
	sigIGN = 1

	siTkill = -6 // si_code of tkill/tgkill
	siUser  = 0  // si_code of kill
)

// sigInfo is what a pending signal carries into its siginfo_t.
type sigInfo struct {
	code  int32
	addr  uint64 // si_addr for faults
	pid   int32
	trap  uint64 // for the sigcontext of a fault: vector, error code, cr2
	err   uint64
	cr2   uint64
	fault bool
	// status is si_status of a SIGCHLD: the child's exit status or signal.
	status int32
	// A POSIX timer's: si_timerid, si_overrun, si_value (code siTimer).
	timerID, overrun int32
	value            uint64
}

// sigState is a thread's pending signals.
type sigState struct {
	mu      sync.Mutex
	pending uint64 // bit sig-1
	info    [65]sigInfo
	wake    chan struct{} // a signal arrived: interruptible waits end
	// restore, when set, is the mask the next signal frame saves instead
	// of the current one (rt_sigsuspend's temporary mask must not stay).
	restore    uint64
	hasRestore bool
}

func sigBit(sig int) uint64 { return 1 << uint(sig-1) }

// kicker is implemented by machines that can make a thread running the
// program return to the kernel (kernel.Machine).
type kicker interface{ Kick(ctx *amd64.Context) }

// sendSignal makes sig pending on thread target and, if target is another
// thread, makes it come back from the program to take it.
func (t *Thread) sendSignal(target *Thread, sig int, info sigInfo) {
	target.sig.mu.Lock()
	target.sig.pending |= sigBit(sig)
	target.sig.info[sig] = info
	target.sig.mu.Unlock()
	target.withdrawFast() // its next system call takes the signal
	select {
	case target.sig.wake <- struct{}{}:
	default:
	}
	if target != t {
		if k, ok := t.p.m.(kicker); ok {
			k.Kick(target.ctx)
		}
	}
}

// action returns sig's sigaction.
func (t *Thread) action(sig int) abi.Sigaction {
	t.p.mu.Lock()
	a := t.p.sigact[sig]
	t.p.mu.Unlock()
	return abi.DecodeSigaction(&a)
}

// defaultIgnored: signals whose default action is to do nothing (stop
// signals too: there is no job control).
func defaultIgnored(sig int) bool {
	switch unix.Signal(sig) {
	case unix.SIGCHLD, unix.SIGURG, unix.SIGWINCH, unix.SIGCONT, unix.SIGSTOP, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU:
		return true
	}
	return sig >= 32 && false
}

// takeSignals delivers pending unblocked signals before the thread
// re-enters the program. It reports false when a signal ended the
// program.
func (t *Thread) takeSignals() bool {
	for !t.exited {
		t.sig.mu.Lock()
		ready := t.sig.pending &^ t.mask()
		if ready == 0 {
			t.sig.mu.Unlock()
			return true
		}
		sig := 1
		for ready&1 == 0 {
			ready >>= 1
			sig++
		}
		t.sig.pending &^= sigBit(sig)
		info := t.sig.info[sig]
		t.sig.mu.Unlock()
		handler := t.action(sig).Handler
		switch {
		case sig == int(unix.SIGKILL) || handler == sigDFL:
			if defaultIgnored(sig) && sig != int(unix.SIGKILL) {
				continue
			}
			if sig == int(unix.SIGKILL) && t.endedByExec() {
				t.exited = true // only this thread ends: execve goes on
				return false
			}
			t.killedBy(sig)
			return false
		case handler == sigIGN:
			continue
		}
		if !t.setupFrame(sig, info) {
			t.p.printf("yolk: %s[%d]: cannot push the frame for signal %s: killed by SIGSEGV\n", t.p.comm, t.tid, unix.SignalName(unix.Signal(sig)))
			t.die(int(unix.SIGSEGV))
			return false
		}
		return true // one frame per entry; the rest after it returns
	}
	return false
}

// endedByExec reports whether another thread of the process is in execve,
// ending this one.
func (t *Thread) endedByExec() bool {
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	return t.p.execer != nil && t.p.execer != t
}

// killedBy ends the program by signal sig's default action.
func (t *Thread) killedBy(sig int) { t.die(sig) }

// setupFrame pushes an rt_sigframe for sig and points the thread at the
// handler. It reports false if the stack cannot take the frame.
func (t *Thread) setupFrame(sig int, info sigInfo) bool {
	act := t.action(sig)
	if act.Flags&abi.SA_RESTORER == 0 {
		return false // x86-64 signal return needs sa_restorer
	}
	r := &t.ctx.Regs
	if t.restart && act.Flags&abi.SA_RESTART != 0 {
		// The handler returns to the syscall instruction, which runs the
		// interrupted call again (Linux's -ERESTARTSYS).
		r.RIP -= 2
		r.RAX = t.restartNr
	}
	t.restart = false
	area := t.ctx.XState()
	fpSize := abi.FrameFPSize(len(area))
	fp, frame, onAlt := abi.FrameAddrs(r.RSP, t.altstack, act.Flags&abi.SA_ONSTACK != 0, fpSize)
	saved := t.mask()
	if t.sig.hasRestore {
		saved, t.sig.hasRestore = t.sig.restore, false
	}
	regs := r.SigRegs(amd64.UserCS, amd64.UserDS)
	addr := uint64(info.pid)
	if info.fault {
		regs.Err, regs.Trapno, regs.CR2 = info.err, info.trap, info.cr2
		addr = info.addr
	}
	var b [abi.SigframeSize]byte
	if info.code == siTimer {
		addr = uint64(uint32(info.timerID)) | uint64(uint32(info.overrun))<<32
	}
	abi.PutSigframe(&b, act.Restorer, &regs, fp, saved, t.altstack, onAlt, int32(sig), info.code, addr)
	switch {
	case info.code == siTimer:
		abi.PutSiginfoWord(&b, 24, info.value) // si_value
	case sig == int(unix.SIGCHLD) && info.code > 0:
		abi.PutSiginfoWord(&b, 24, uint64(uint32(info.status))) // si_status
	}
	fpstate := t.ctx.FX[:]
	if area != nil {
		// The whole XSAVE area, as Linux saves it (UC_FP_XSTATE).
		b[8] |= abi.UC_FP_XSTATE // uc_flags, the ucontext's first word
		fpstate = make([]byte, fpSize)
		abi.PutXStateFrame(fpstate, area, amd64.XFeatures())
	}
	if t.copyOut(frame, b[:]) != nil || t.copyOut(fp, fpstate) != nil {
		return false
	}
	r.RSP, r.RIP = frame, act.Handler
	r.RDI, r.RSI, r.RDX, r.RAX = uint64(sig), frame+8+abi.UcontextSize, frame+8, 0
	r.RFLAGS &^= amd64.RFLAGS_DF | amd64.RFLAGS_TF
	t.setMask(t.mask() | act.Mask)
	if act.Flags&abi.SA_NODEFER == 0 {
		t.setMask(t.mask() | sigBit(sig))
	}
	t.setMask(t.mask() &^ (sigBit(int(unix.SIGKILL)) | sigBit(int(unix.SIGSTOP))))
	if act.Flags&abi.SA_RESETHAND != 0 {
		t.p.mu.Lock()
		t.p.sigact[sig] = [32]byte{}
		t.p.mu.Unlock()
	}
	return true
}

// sysRtSigreturn restores the state saved by setupFrame. It sets every
// register itself, so its "return value" is the restored RAX.
func sysRtSigreturn(t *Thread, a Args) (uint64, error) {
	r := &t.ctx.Regs
	ucAddr := r.RSP // the handler's ret popped the return address
	b, err := t.copyIn(ucAddr, abi.UcontextSize)
	if err != nil {
		t.forceSegv(ucAddr)
		return r.RAX, nil
	}
	regs, fp, mask := abi.ReadUcontext((*[abi.UcontextSize]byte)(b))
	var fx amd64.FXArea
	area := t.ctx.XState()
	var xstate []byte
	if fp != 0 {
		b, err := t.copyIn(fp, abi.FPStateSize)
		if err == nil && area != nil && abi.XStateInFrame(b, len(area)) {
			b, err = t.copyIn(fp, uint64(abi.XStateFrameSize(len(area))))
		}
		if err != nil {
			t.forceSegv(fp)
			return r.RAX, nil
		}
		copy(fx[:], b)
		abi.SanitizeFPState((*[abi.FPStateSize]byte)(&fx))
		xstate = b
	} else {
		fx.InitFX()
		xstate = fx[:]
	}
	r.SetSigRegs(&regs) // the kernel sanitises RFLAGS on entry
	t.ctx.FX = fx
	if area != nil {
		abi.ReadXStateFrame(area, xstate, amd64.XFeatures())
	}
	t.setMask(mask &^ (sigBit(int(unix.SIGKILL)) | sigBit(int(unix.SIGSTOP))))
	return r.RAX, nil
}

// forceSegv kills the program for a frame it cannot use, as Linux's
// force_sigsegv does.
func (t *Thread) forceSegv(addr uint64) {
	t.p.printf("yolk: %s[%d]: bad signal frame at %#x: killed by SIGSEGV\n", t.p.comm, t.tid, addr)
	t.die(int(unix.SIGSEGV))
}

// interrupting reports whether a pending signal would interrupt a wait:
// it is unblocked and not ignored.
func (t *Thread) interrupting() bool {
	t.sig.mu.Lock()
	ready := t.sig.pending &^ t.mask()
	t.sig.mu.Unlock()
	for sig := 1; ready != 0; sig, ready = sig+1, ready>>1 {
		if ready&1 == 0 {
			continue
		}
		h := t.action(sig).Handler
		if h == sigIGN || (h == sigDFL && defaultIgnored(sig)) {
			continue
		}
		return true
	}
	return false
}

// waitSignal blocks until a signal would interrupt the wait, or done
// closes (nil: never), and reports whether a signal ended it.
func (t *Thread) waitSignal(done <-chan time.Time) bool {
	for !t.interrupting() {
		select {
		case <-t.sig.wake:
		case <-done:
			return t.interrupting()
		}
	}
	return true
}

// sysPause implements pause(2): it returns EINTR once a signal is caught.
func sysPause(t *Thread, a Args) (uint64, error) {
	t.waitSignal(nil)
	return 0, unix.EINTR
}

// sysRtSigsuspend implements rt_sigsuspend(2): wait with a temporary mask
// until a signal is caught; the handler's frame saves the old mask, so
// rt_sigreturn restores it.
func sysRtSigsuspend(t *Thread, a Args) (uint64, error) {
	if a[1] != 8 {
		return 0, unix.EINVAL
	}
	m, err := t.get64(a[0])
	if err != nil {
		return 0, err
	}
	old := t.mask()
	t.setMask(m &^ (sigBit(int(unix.SIGKILL)) | sigBit(int(unix.SIGSTOP))))
	t.waitSignal(nil)
	t.sig.restore, t.sig.hasRestore = old, true
	return 0, unix.EINTR
}

// itimer is the process's ITIMER_REAL (alarm, setitimer): it sends
// SIGALRM to the process when it expires, then every interval.
type itimer struct {
	mu       sync.Mutex
	timer    *time.Timer
	deadline time.Time
	interval time.Duration
	gen      int
}

// arm sets the timer to fire after value and then every interval (0:
// once); value 0 disarms. It returns what was left and the old interval.
func (p *Process) armItimer(t *Thread, value, interval time.Duration) (time.Duration, time.Duration) {
	it := &p.itimer
	it.mu.Lock()
	defer it.mu.Unlock()
	var left time.Duration
	if it.timer != nil {
		it.timer.Stop()
		if d := time.Until(it.deadline); d > 0 {
			left = d
		}
	}
	oldInterval := it.interval
	it.timer, it.interval = nil, interval
	it.gen++
	if value > 0 {
		gen := it.gen
		it.deadline = time.Now().Add(value)
		it.timer = time.AfterFunc(value, func() { p.itimerFired(gen) })
	}
	return left, oldInterval
}

// itimerStop disarms the timer (the process exits).
func (p *Process) itimerStop() {
	it := &p.itimer
	it.mu.Lock()
	if it.timer != nil {
		it.timer.Stop()
		it.timer = nil
	}
	it.gen++
	it.mu.Unlock()
}

// nextExpiry is the first time deadline+k*interval (k >= 1) that is at
// least minRearm after now.
func nextExpiry(deadline time.Time, interval time.Duration, now time.Time) time.Time {
	next := deadline.Add(interval)
	if early := now.Add(minRearm).Sub(next); early > 0 {
		next = next.Add((early/interval + 1) * interval)
	}
	return next
}

func (p *Process) itimerFired(gen int) {
	it := &p.itimer
	it.mu.Lock()
	if gen != it.gen {
		it.mu.Unlock()
		return
	}
	if it.interval > 0 {
		// The next expiry on the interval's grid, and at least minRearm
		// from now: a 1 µs interval cannot keep the kernel firing
		// (expiries in between are lost, as pending SIGALRMs merge).
		it.deadline = nextExpiry(it.deadline, it.interval, time.Now())
		it.timer = time.AfterFunc(time.Until(it.deadline), func() { p.itimerFired(gen) })
	} else {
		it.timer = nil
	}
	it.mu.Unlock()
	p.signalProcess(int(unix.SIGALRM), sigInfo{code: 0x80}) // SI_KERNEL
}

// signalProcess sends a process-directed signal from the kernel (a timer,
// the terminal): to the first thread that does not block it.
func (p *Process) signalProcess(sig int, info sigInfo) {
	p.mu.Lock()
	var target *Thread
	for _, th := range p.threads {
		if th.mask()&sigBit(sig) == 0 && (target == nil || th.tid < target.tid) {
			target = th
		}
	}
	if target == nil {
		for _, th := range p.threads {
			if target == nil || th.tid < target.tid {
				target = th
			}
		}
	}
	p.mu.Unlock()
	if target != nil {
		(&Thread{p: p}).sendSignal(target, sig, info)
	}
}

// sysAlarm implements alarm(2).
func sysAlarm(t *Thread, a Args) (uint64, error) {
	left, _ := t.p.armItimer(t, time.Duration(a[0])*time.Second, 0)
	secs := uint64((left + time.Second - 1) / time.Second)
	if left > 0 && secs == 0 {
		secs = 1
	}
	return secs, nil
}

func timeval(b []byte) time.Duration {
	return time.Duration(binary.LittleEndian.Uint64(b))*time.Second + time.Duration(binary.LittleEndian.Uint64(b[8:]))*time.Microsecond
}

func putTimeval(b []byte, d time.Duration) {
	binary.LittleEndian.PutUint64(b, uint64(d/time.Second))
	binary.LittleEndian.PutUint64(b[8:], uint64(d%time.Second/time.Microsecond))
}

// sysSetitimer implements setitimer(2): ITIMER_REAL on the monotonic
// clock, ITIMER_VIRTUAL and ITIMER_PROF on the process's CPU time
// (cputimer.go).
func sysSetitimer(t *Thread, a Args) (uint64, error) {
	if a[0] > unix.ITIMER_PROF {
		return 0, unix.EINVAL
	}
	var value, interval time.Duration
	if a[1] != 0 {
		b, err := t.copyIn(a[1], 32)
		if err != nil {
			return 0, err
		}
		interval, value = timeval(b[0:]), timeval(b[16:])
	}
	var left, oldInterval time.Duration
	if a[0] == unix.ITIMER_REAL {
		left, oldInterval = t.p.armItimer(t, value, interval)
	} else {
		left, oldInterval = t.p.setCPUTimer(int(a[0])-unix.ITIMER_VIRTUAL, value, interval)
	}
	if a[2] != 0 {
		var b [32]byte
		putTimeval(b[0:], oldInterval)
		putTimeval(b[16:], left)
		return 0, t.copyOut(a[2], b[:])
	}
	return 0, nil
}

func sysGetitimer(t *Thread, a Args) (uint64, error) {
	if a[0] == unix.ITIMER_VIRTUAL || a[0] == unix.ITIMER_PROF {
		left, interval := t.p.getCPUTimer(int(a[0]) - unix.ITIMER_VIRTUAL)
		var b [32]byte
		putTimeval(b[0:], interval)
		putTimeval(b[16:], left)
		return 0, t.copyOut(a[1], b[:])
	}
	if a[0] != unix.ITIMER_REAL {
		return 0, unix.EINVAL
	}
	it := &t.p.itimer
	it.mu.Lock()
	var left time.Duration
	if it.timer != nil {
		left = max(time.Until(it.deadline), 0)
	}
	var b [32]byte
	putTimeval(b[0:], it.interval)
	putTimeval(b[16:], left)
	it.mu.Unlock()
	return 0, t.copyOut(a[1], b[:])
}
