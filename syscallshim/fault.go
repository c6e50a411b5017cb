package syscallshim

import (
	"bytes"

	"yolk/amd64"
	"yolk/kernel/report"
)

// fault ends the program after a CPU exception the kernel could not
// resolve: a report in Linux's shape, then exit status 128+signal.
func (t *Thread) fault(vector uint64) {
	r := &t.ctx.Regs
	if vector == amd64.VecPageFault && r.ErrorCode&kernelOOM != 0 {
		t.p.printf("yolk: out of memory: killed %s[%d] (needed a page at %#x)\n", t.p.comm, t.tid, t.ctx.FaultAddr)
		t.exited = true
		t.p.exit(128 + 9) // SIGKILL, like Linux's OOM killer
		return
	}
	f := report.Fault{
		Vector: vector, ErrorCode: r.ErrorCode, CR2: t.ctx.FaultAddr,
		Regs: report.Regs{
			RAX: r.RAX, RBX: r.RBX, RCX: r.RCX, RDX: r.RDX, RSI: r.RSI, RDI: r.RDI,
			RBP: r.RBP, RSP: r.RSP, R8: r.R8, R9: r.R9, R10: r.R10, R11: r.R11,
			R12: r.R12, R13: r.R13, R14: r.R14, R15: r.R15, RIP: r.RIP,
			RFLAGS: r.RFLAGS, CS: r.CS, SS: r.SS, FSBase: t.ctx.FSBase,
		},
	}
	var code [16]byte
	n := 0
	for ; n < len(code); n++ {
		b, ok := t.p.m.Bytes(r.RIP+uint64(n), 1, false)
		if !ok {
			break
		}
		code[n] = b[0]
	}
	f.Code = code[:n]
	sig, name := report.Signal(vector)
	var buf bytes.Buffer
	report.Segfault(&buf, t.p.comm, int(t.tid), f, t.p.syms.lookup, name)
	t.p.m.ConsoleWrite(buf.Bytes())
	if vector == amd64.VecDoubleFault {
		sig = 11
	}
	t.exited = true
	t.p.exit(128 + sig)
}

// kernelOOM mirrors kernel.ErrOutOfMemory (the shim does not import the
// kernel).
const kernelOOM = 1 << 32
