package abi

import "encoding/binary"

// The x86-64 signal frame (arch/x86/include/uapi/asm/sigcontext.h,
// include/uapi/asm-generic/ucontext.h, arch/x86/kernel/signal_64.c):
// below the FP state, aligned so that the handler starts with RSP+8
// 16-byte aligned, lie the return address (sa_restorer), a struct
// ucontext and a struct siginfo. These functions only compute and encode;
// they never allocate, so the kernel's trap handler uses them too.

// sigaction flags.
const (
	SA_NOCLDSTOP = 0x1
	SA_NOCLDWAIT = 0x2
	SA_SIGINFO   = 0x4
	SA_RESTORER  = 0x04000000
	SA_ONSTACK   = 0x08000000
	SA_RESTART   = 0x10000000
	SA_NODEFER   = 0x40000000
	SA_RESETHAND = 0x80000000
)

// Frame sizes: struct ucontext, struct siginfo, the FXSAVE image.
const (
	UcontextSize = 304
	SiginfoSize  = 128
	FPStateSize  = 512
	// SigframeSize is the return address, ucontext and siginfo.
	SigframeSize = 8 + UcontextSize + SiginfoSize
	// RedZone is what the frame leaves below the interrupted RSP.
	RedZone = 128
	// MXCSRMask keeps the MXCSR bits FXRSTOR accepts.
	MXCSRMask = 0xffbf
)

// SigRegs are the registers a signal frame saves (struct sigcontext's
// general part).
type SigRegs struct {
	R8, R9, R10, R11, R12, R13, R14, R15 uint64
	RDI, RSI, RBP, RBX, RDX, RAX, RCX    uint64
	RSP, RIP, RFLAGS                     uint64
	CS, SS                               uint16
	Err, Trapno, CR2                     uint64
}

// Sigaction is struct sigaction as rt_sigaction passes it (32 bytes).
type Sigaction struct{ Handler, Flags, Restorer, Mask uint64 }

// DecodeSigaction decodes a 32-byte kernel sigaction.
func DecodeSigaction(b *[32]byte) Sigaction {
	le := binary.LittleEndian
	return Sigaction{le.Uint64(b[0:]), le.Uint64(b[8:]), le.Uint64(b[16:]), le.Uint64(b[24:])}
}

// FrameAddrs places a signal frame for a thread at sp with alternate
// stack alt (ss_sp, ss_flags, ss_size) and fpSize bytes of FP state
// (FrameFPSize): it returns the address of the FP state, of the frame
// (where the handler's RSP points) and whether the frame is on the
// alternate stack.
func FrameAddrs(sp uint64, alt [3]uint64, onstack bool, fpSize int) (fp, frame uint64, onAlt bool) {
	altOn := uint32(alt[1])&SS_DISABLE == 0 && alt[2] != 0
	inAlt := altOn && sp > alt[0] && sp <= alt[0]+alt[2]
	if onstack && altOn && !inAlt {
		sp = alt[0] + alt[2]
		inAlt = true
	} else {
		sp -= RedZone
	}
	fp = (sp - uint64(fpSize)) &^ 63
	frame = ((fp - SigframeSize) &^ 15) - 8
	return fp, frame, inAlt
}

// PutSigframe encodes the frame at frame: return address restorer, the
// ucontext (alternate stack alt, registers r, FP state at fp, saved mask)
// and the siginfo (signo, code, and addr: si_addr for faults, si_pid
// otherwise).
func PutSigframe(b *[SigframeSize]byte, restorer uint64, r *SigRegs, fp, mask uint64, alt [3]uint64, onAlt bool, signo, code int32, addr uint64) {
	*b = [SigframeSize]byte{}
	le := binary.LittleEndian
	le.PutUint64(b[0:], restorer)
	uc := b[8:]
	le.PutUint64(uc[0:], 0x6) // UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS
	stackFlags := uint64(SS_DISABLE)
	if uint32(alt[1])&SS_DISABLE == 0 && alt[2] != 0 {
		stackFlags = 0
		if onAlt {
			stackFlags = SS_ONSTACK
		}
	}
	le.PutUint64(uc[16:], alt[0])
	le.PutUint64(uc[24:], stackFlags)
	le.PutUint64(uc[32:], alt[2])
	mc := uc[40:]
	for i, v := range [...]uint64{r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15,
		r.RDI, r.RSI, r.RBP, r.RBX, r.RDX, r.RAX, r.RCX, r.RSP, r.RIP, r.RFLAGS} {
		le.PutUint64(mc[8*i:], v)
	}
	le.PutUint16(mc[144:], r.CS)
	le.PutUint16(mc[150:], r.SS)
	le.PutUint64(mc[152:], r.Err)
	le.PutUint64(mc[160:], r.Trapno)
	le.PutUint64(mc[168:], mask) // oldmask
	le.PutUint64(mc[176:], r.CR2)
	le.PutUint64(mc[184:], fp)
	le.PutUint64(uc[296:], mask) // uc_sigmask
	si := b[8+UcontextSize:]
	le.PutUint32(si[0:], uint32(signo))
	le.PutUint32(si[8:], uint32(code))
	le.PutUint64(si[16:], addr)
}

// ReadUcontext decodes the registers, FP state address and signal mask
// that rt_sigreturn restores from a ucontext.
func ReadUcontext(uc *[UcontextSize]byte) (r SigRegs, fp, mask uint64) {
	le := binary.LittleEndian
	mc := uc[40:]
	v := func(i int) uint64 { return le.Uint64(mc[8*i:]) }
	r = SigRegs{
		R8: v(0), R9: v(1), R10: v(2), R11: v(3), R12: v(4), R13: v(5), R14: v(6), R15: v(7),
		RDI: v(8), RSI: v(9), RBP: v(10), RBX: v(11), RDX: v(12), RAX: v(13), RCX: v(14),
		RSP: v(15), RIP: v(16), RFLAGS: v(17),
	}
	return r, le.Uint64(mc[184:]), le.Uint64(uc[296:])
}

// SanitizeFPState clears the MXCSR bits that would make FXRSTOR fault.
func SanitizeFPState(fx *[FPStateSize]byte) {
	m := binary.LittleEndian.Uint32(fx[24:]) & MXCSRMask
	binary.LittleEndian.PutUint32(fx[24:], m)
}

// PutSiginfoWord stores v at byte off of the frame's siginfo (its union's
// fields past si_pid/si_addr: si_value of a timer, si_status of SIGCHLD).
func PutSiginfoWord(b *[SigframeSize]byte, off int, v uint64) {
	binary.LittleEndian.PutUint64(b[8+UcontextSize+off:], v)
}
