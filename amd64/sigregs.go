package amd64

import "yolk/linux/abi"

// SigRegs returns the registers a signal frame saves, with the given
// segment selectors.
func (f *Frame) SigRegs(cs, ss uint16) abi.SigRegs {
	return abi.SigRegs{
		R8: f.R8, R9: f.R9, R10: f.R10, R11: f.R11, R12: f.R12, R13: f.R13, R14: f.R14, R15: f.R15,
		RDI: f.RDI, RSI: f.RSI, RBP: f.RBP, RBX: f.RBX, RDX: f.RDX, RAX: f.RAX, RCX: f.RCX,
		RSP: f.RSP, RIP: f.RIP, RFLAGS: f.RFLAGS, CS: cs, SS: ss,
	}
}

// SetSigRegs loads the general registers, RSP, RIP and RFLAGS that
// rt_sigreturn restores; the caller sanitises RFLAGS and the selectors.
func (f *Frame) SetSigRegs(r *abi.SigRegs) {
	f.R8, f.R9, f.R10, f.R11, f.R12, f.R13, f.R14, f.R15 = r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15
	f.RDI, f.RSI, f.RBP, f.RBX, f.RDX, f.RAX, f.RCX = r.RDI, r.RSI, r.RBP, r.RBX, r.RDX, r.RAX, r.RCX
	f.RSP, f.RIP, f.RFLAGS = r.RSP, r.RIP, r.RFLAGS
}
