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
// that is running the program (on one CPU: preempted in it) make it come
// back first (Machine kick). A thread blocked in a system call takes the
// signal when the call returns: calls are not interrupted (no EINTR).

const (
	sigDFL = 0
	sigIGN = 1

	saSiginfo   = 0x4
	saOnstack   = 0x08000000
	saRestart   = 0x10000000
	saNodefer   = 0x40000000
	saResethand = 0x80000000
	saRestorer  = 0x04000000

	ucontextSize = 304 // kernel struct ucontext on x86-64
	siginfoSize  = 128
	fpstateSize  = 512 // FXSAVE format (no XSAVE state)
	mxcsrMask    = 0xffbf

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

// action returns the sigaction fields for sig.
func (p *Process) action(sig int) (handler, flags, restorer, mask uint64) {
	p.mu.Lock()
	a := p.sigact[sig]
	p.mu.Unlock()
	le := binary.LittleEndian
	return le.Uint64(a[0:]), le.Uint64(a[8:]), le.Uint64(a[16:]), le.Uint64(a[24:])
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
		ready := t.sig.pending &^ t.sigmask
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
		handler, _, _, _ := t.p.action(sig)
		switch {
		case sig == int(unix.SIGKILL) || handler == sigDFL:
			if defaultIgnored(sig) && sig != int(unix.SIGKILL) {
				continue
			}
			t.killedBy(sig)
			return false
		case handler == sigIGN:
			continue
		}
		if !t.setupFrame(sig, info) {
			t.p.printf("yolk: %s[%d]: cannot push the frame for signal %s: killed by SIGSEGV\n", t.p.comm, t.tid, unix.SignalName(unix.Signal(sig)))
			t.exited = true
			t.p.exit(128 + int(unix.SIGSEGV))
			return false
		}
		return true // one frame per entry; the rest after it returns
	}
	return false
}

// killedBy ends the program by signal sig's default action.
func (t *Thread) killedBy(sig int) {
	t.exited = true
	t.p.exit(128 + sig)
}

// setupFrame pushes an rt_sigframe for sig and points the thread at the
// handler. It reports false if the stack cannot take the frame.
func (t *Thread) setupFrame(sig int, info sigInfo) bool {
	handler, flags, restorer, mask := t.p.action(sig)
	if flags&saRestorer == 0 {
		return false // x86-64 signal return needs sa_restorer
	}
	r := &t.ctx.Regs
	le := binary.LittleEndian
	sp := r.RSP
	altSP, altFlags, altSize := t.altstack[0], uint32(t.altstack[1]), t.altstack[2]
	altOn := altFlags&abi.SS_DISABLE == 0 && altSize != 0
	onAlt := altOn && sp > altSP && sp <= altSP+altSize
	if flags&saOnstack != 0 && altOn && !onAlt {
		sp = altSP + altSize
	} else {
		sp -= 128 // the red zone
	}
	sp = (sp - fpstateSize) &^ 63
	fpAddr := sp
	frame := ((sp - (8 + ucontextSize + siginfoSize)) &^ 15) - 8
	ucAddr := frame + 8
	infoAddr := ucAddr + ucontextSize

	var b [8 + ucontextSize + siginfoSize]byte
	le.PutUint64(b[0:], restorer)
	uc := b[8:]
	// uc_flags: UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS, as Linux sets.
	le.PutUint64(uc[0:], 0x6)
	stackFlags := uint64(abi.SS_DISABLE)
	if altOn {
		stackFlags = 0
		if onAlt {
			stackFlags = abi.SS_ONSTACK
		}
	}
	le.PutUint64(uc[16:], altSP)
	le.PutUint64(uc[24:], stackFlags)
	le.PutUint64(uc[32:], altSize)
	mc := uc[40:]
	for i, v := range []uint64{r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15,
		r.RDI, r.RSI, r.RBP, r.RBX, r.RDX, r.RAX, r.RCX, r.RSP, r.RIP, r.RFLAGS} {
		le.PutUint64(mc[8*i:], v)
	}
	le.PutUint16(mc[144:], uint16(amd64.UserCS))
	le.PutUint16(mc[150:], uint16(amd64.UserDS))
	if info.fault {
		le.PutUint64(mc[152:], info.err)
		le.PutUint64(mc[160:], info.trap)
		le.PutUint64(mc[176:], info.cr2)
	}
	saved := t.sigmask
	if t.sig.hasRestore {
		saved, t.sig.hasRestore = t.sig.restore, false
	}
	le.PutUint64(mc[168:], saved) // oldmask
	le.PutUint64(mc[184:], fpAddr)
	le.PutUint64(uc[296:], saved) // uc_sigmask
	si := b[8+ucontextSize:]
	le.PutUint32(si[0:], uint32(sig))
	le.PutUint32(si[8:], uint32(info.code))
	if info.fault {
		le.PutUint64(si[16:], info.addr)
	} else {
		le.PutUint32(si[16:], uint32(info.pid))
	}
	if t.copyOut(frame, b[:]) != nil || t.copyOut(fpAddr, t.ctx.FX[:]) != nil {
		return false
	}
	r.RSP = frame
	r.RIP = handler
	r.RDI = uint64(sig)
	r.RSI = infoAddr
	r.RDX = ucAddr
	r.RAX = 0
	r.RFLAGS &^= amd64.RFLAGS_DF | amd64.RFLAGS_TF
	t.sigmask |= mask
	if flags&saNodefer == 0 {
		t.sigmask |= sigBit(sig)
	}
	t.sigmask &^= sigBit(int(unix.SIGKILL)) | sigBit(int(unix.SIGSTOP))
	if flags&saResethand != 0 {
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
	uc, err := t.copyIn(ucAddr, ucontextSize)
	if err != nil {
		t.forceSegv(ucAddr)
		return r.RAX, nil
	}
	le := binary.LittleEndian
	mc := uc[40:]
	regs := make([]uint64, 18)
	for i := range regs {
		regs[i] = le.Uint64(mc[8*i:])
	}
	fpAddr := le.Uint64(mc[184:])
	var fx amd64.FXArea
	if fpAddr != 0 {
		b, err := t.copyIn(fpAddr, fpstateSize)
		if err != nil {
			t.forceSegv(fpAddr)
			return r.RAX, nil
		}
		copy(fx[:], b)
		// Reserved MXCSR bits would make FXRSTOR fault: clear them.
		m := le.Uint32(fx[24:]) & mxcsrMask
		le.PutUint32(fx[24:], m)
	} else {
		fx.InitFX()
	}
	r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15 = regs[0], regs[1], regs[2], regs[3], regs[4], regs[5], regs[6], regs[7]
	r.RDI, r.RSI, r.RBP, r.RBX, r.RDX, r.RAX, r.RCX, r.RSP = regs[8], regs[9], regs[10], regs[11], regs[12], regs[13], regs[14], regs[15]
	r.RIP, r.RFLAGS = regs[16], regs[17] // the kernel keeps IF and IOPL its own
	t.ctx.FX = fx
	t.sigmask = le.Uint64(uc[296:]) &^ (sigBit(int(unix.SIGKILL)) | sigBit(int(unix.SIGSTOP)))
	return r.RAX, nil
}

// forceSegv kills the program for a frame it cannot use, as Linux's
// force_sigsegv does.
func (t *Thread) forceSegv(addr uint64) {
	t.p.printf("yolk: %s[%d]: bad signal frame at %#x: killed by SIGSEGV\n", t.p.comm, t.tid, addr)
	t.exited = true
	t.p.exit(128 + int(unix.SIGSEGV))
}

// interrupting reports whether a pending signal would interrupt a wait:
// it is unblocked and not ignored.
func (t *Thread) interrupting() bool {
	t.sig.mu.Lock()
	ready := t.sig.pending &^ t.sigmask
	t.sig.mu.Unlock()
	for sig := 1; ready != 0; sig, ready = sig+1, ready>>1 {
		if ready&1 == 0 {
			continue
		}
		h, _, _, _ := t.p.action(sig)
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
	old := t.sigmask
	t.sigmask = m &^ (sigBit(int(unix.SIGKILL)) | sigBit(int(unix.SIGSTOP)))
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

func (p *Process) itimerFired(gen int) {
	it := &p.itimer
	it.mu.Lock()
	if gen != it.gen {
		it.mu.Unlock()
		return
	}
	if it.interval > 0 {
		it.deadline = time.Now().Add(it.interval)
		it.timer = time.AfterFunc(it.interval, func() { p.itimerFired(gen) })
	} else {
		it.timer = nil
	}
	it.mu.Unlock()
	// A process-directed signal: the first thread that does not block it.
	p.mu.Lock()
	var target *Thread
	for _, th := range p.threads {
		if target == nil || th.tid < target.tid {
			if th.sigmask&sigBit(int(unix.SIGALRM)) == 0 {
				target = th
			}
		}
	}
	if target == nil {
		for _, th := range p.threads {
			target = th
			break
		}
	}
	p.mu.Unlock()
	if target != nil {
		(&Thread{p: p}).sendSignal(target, int(unix.SIGALRM), sigInfo{code: 0x80}) // SI_KERNEL
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

// sysSetitimer implements setitimer(2) for ITIMER_REAL; the CPU-time
// timers (ITIMER_VIRTUAL, ITIMER_PROF) are EINVAL: there is no per-process
// CPU accounting yet.
func sysSetitimer(t *Thread, a Args) (uint64, error) {
	if a[0] != unix.ITIMER_REAL {
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
	left, oldInterval := t.p.armItimer(t, value, interval)
	if a[2] != 0 {
		var b [32]byte
		putTimeval(b[0:], oldInterval)
		putTimeval(b[16:], left)
		return 0, t.copyOut(a[2], b[:])
	}
	return 0, nil
}

func sysGetitimer(t *Thread, a Args) (uint64, error) {
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
