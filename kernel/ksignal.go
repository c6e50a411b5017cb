package kernel

import (
	"golang.org/x/sys/unix"

	"yolk/amd64"
	"yolk/linux/abi"
)

// Signals for the kernel's own Go runtime. The runtime preempts a
// goroutine that runs too long by sending its M a SIGURG (tgkill); its
// handler then makes the goroutine call asyncPreempt. The trap handler
// delivers such signals the way Linux does, with the same rt_sigframe
// (linux/abi), when it resumes the target thread in ring 0, and
// rt_sigreturn restores the frame. Everything here runs in the trap
// handler: no allocation.

const siTkill = -6 // si_code of tkill/tgkill

func sigBit(sig uint64) uint64 { return 1 << (sig - 1) }

// sysTkill marks sig pending for the thread with ID tid.
func sysTkill(tid, sig uint64) uint64 {
	if sig > 64 {
		return errnoRet(unix.EINVAL)
	}
	for i := 1; i < sched.top; i++ {
		t := &sched.T[i]
		if t.State != Free && uint64(t.Tid) == tid {
			if sig != 0 {
				t.SigPend |= sigBit(sig)
			}
			return 0
		}
	}
	return errnoRet(unix.ESRCH)
}

// deliverSignal makes thread t, about to resume in ring 0, run the
// handler of its lowest pending unblocked signal first.
func deliverSignal(t *Thread) {
	ready := t.SigPend &^ t.SigMask
	if ready == 0 || t.inUser {
		return
	}
	sig := uint64(1)
	for ready&1 == 0 {
		ready >>= 1
		sig++
	}
	t.SigPend &^= sigBit(sig)
	act := abi.DecodeSigaction(&sigactions[sig])
	if act.Handler <= 1 || act.Flags&abi.SA_RESTORER == 0 {
		return // default or ignored: nothing the kernel's runtime asked for
	}
	r := &t.Regs
	fp, frame, onAlt := abi.FrameAddrs(r.RSP, t.AltStack, act.Flags&abi.SA_ONSTACK != 0, abi.FPStateSize)
	fpb, ok1 := kmem(fp, abi.FPStateSize, true)
	fb, ok2 := kmem(frame, abi.SigframeSize, true)
	if !ok1 || !ok2 {
		kprint("yolk: cannot push a signal frame for the kernel's runtime; dropped\n")
		return
	}
	regs := r.SigRegs(amd64.KernelCS, amd64.KernelDS)
	abi.PutSigframe((*[abi.SigframeSize]byte)(fb), act.Restorer, &regs, fp, t.SigMask, t.AltStack, onAlt, int32(sig), siTkill, 1)
	if t.FXUnsaved != 0 {
		// Entered by a system call, which saves no vector state: the
		// handler's frame gets the clean state resume would give.
		t.FX.InitFX()
		t.FXUnsaved = 0
	}
	copy(fpb, t.FX[:])
	r.RSP, r.RIP = frame, act.Handler
	r.RDI, r.RSI, r.RDX, r.RAX = sig, frame+8+abi.UcontextSize, frame+8, 0
	r.RFLAGS &^= amd64.RFLAGS_DF | amd64.RFLAGS_TF
	t.SigMask |= act.Mask
	if act.Flags&abi.SA_NODEFER == 0 {
		t.SigMask |= sigBit(sig)
	}
}

// sigreturn restores the state deliverSignal saved; false when the frame
// is unreadable.
func sigreturn(t *Thread) bool {
	r := &t.Regs
	ub, ok := kmem(r.RSP, abi.UcontextSize, false)
	if !ok {
		return false
	}
	regs, fp, mask := abi.ReadUcontext((*[abi.UcontextSize]byte)(ub))
	if fp != 0 {
		fb, ok := kmem(fp, abi.FPStateSize, false)
		if !ok {
			return false
		}
		copy(t.FX[:], fb)
		abi.SanitizeFPState((*[abi.FPStateSize]byte)(&t.FX))
		t.FXUnsaved = 0 // resume restores the frame's state
	}
	r.SetSigRegs(&regs)
	// Ring 0 keeps interrupts on and IOPL as it was.
	r.RFLAGS = regs.RFLAGS&^(amd64.RFLAGS_IOPL|amd64.RFLAGS_NT) | amd64.RFLAGS_IF | 2
	r.CS, r.SS = amd64.KernelCS, amd64.KernelDS
	if !amd64.Canonical(r.RIP) || !amd64.Canonical(r.RSP) {
		return false
	}
	t.SigMask = mask &^ (sigBit(uint64(unix.SIGKILL)) | sigBit(uint64(unix.SIGSTOP)))
	return true
}
