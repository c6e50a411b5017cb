package syscallshim

import (
	"bytes"

	"golang.org/x/sys/unix"

	"yolk/amd64"
	"yolk/kernel/report"
)

// fault ends the program after a CPU exception the kernel could not
// resolve: a report in Linux's shape, then exit status 128+signal.
func (t *Thread) fault(vector uint64) {
	r := &t.ctx.Regs
	if vector == amd64.VecPageFault && r.ErrorCode&kernelOOM != 0 {
		t.p.printf("yolk: out of memory: killed %s[%d] (needed a page at %#x)\n", t.p.comm, t.tid, t.ctx.FaultAddr)
		t.die(int(unix.SIGKILL)) // like Linux's OOM killer
		return
	}
	if vector == amd64.VecPageFault && r.ErrorCode&kernelBus != 0 {
		// A file mapping past the end of its file: SIGBUS, and no
		// report (Linux prints none for it either).
		if !t.catch(int(unix.SIGBUS), vector) {
			t.die(int(unix.SIGBUS))
		}
		return
	}
	f := report.Fault{
		Vector: vector, ErrorCode: r.ErrorCode, CR2: t.ctx.FaultAddr,
		Regs: report.FrameRegs(r, t.ctx.FSBase),
	}
	sig, _ := report.Signal(vector)
	if t.catch(sig, vector) {
		return // the program's handler runs next
	}
	var code [16]byte
	n, _ := t.as().CopyIn(r.RIP, code[:])
	f.Code = code[:n]
	_, name := report.Signal(vector)
	var buf bytes.Buffer
	report.Segfault(&buf, t.p.comm, int(t.tid), f, t.p.memory().syms.lookup, name)
	t.p.m.ConsoleWrite(buf.Bytes())
	if vector == amd64.VecDoubleFault {
		sig = 11
	}
	t.die(sig)
}

// kernelOOM and kernelBus mirror kernel.ErrOutOfMemory and kernel.ErrBus
// (the shim does not import the kernel).
const (
	kernelOOM = 1 << 32
	kernelBus = 1 << 34
)

// catch delivers a fault's signal to the program's handler when it has
// one and does not block the signal (Linux then kills, as for SIG_DFL).
func (t *Thread) catch(sig int, vector uint64) bool {
	handler := t.action(sig).Handler
	if handler == sigDFL || handler == sigIGN || t.mask()&sigBit(sig) != 0 {
		return false
	}
	r := &t.ctx.Regs
	info := sigInfo{fault: true, trap: vector, err: r.ErrorCode &^ (kernelOOM | kernelBus), cr2: t.ctx.FaultAddr}
	switch vector {
	case amd64.VecPageFault:
		info.addr = t.ctx.FaultAddr
		switch {
		case sig == int(unix.SIGBUS):
			info.code = 2 // BUS_ADRERR
		case r.ErrorCode&1 != 0:
			info.code = 2 // SEGV_ACCERR
		default:
			info.code = 1 // SEGV_MAPERR
		}
	case amd64.VecGP, amd64.VecStackFault, amd64.VecSegmentNP:
		info.code = 0x80 // SI_KERNEL, as Linux reports #GP
	case amd64.VecInvalidOp:
		info.addr, info.code = r.RIP, 2 // ILL_ILLOPN
	case amd64.VecDivide:
		info.addr, info.code = r.RIP, 1 // FPE_INTDIV
	case amd64.VecBreakpoint, amd64.VecDebug:
		info.code = 0x80 // SI_KERNEL
	default:
		info.addr = r.RIP
	}
	if !t.setupFrame(sig, info) {
		// As Linux's force_sigsegv: a handler that cannot run is SIGSEGV.
		t.p.printf("yolk: %s[%d]: cannot push the frame for signal %s: killed by SIGSEGV\n", t.p.comm, t.tid, unix.SignalName(unix.Signal(sig)))
		t.die(int(unix.SIGSEGV))
	}
	return true
}
