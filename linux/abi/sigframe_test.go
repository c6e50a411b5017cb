package abi

import (
	"encoding/binary"
	"testing"
)

func TestFrameAddrs(t *testing.T) {
	// On the thread's stack: below the red zone, FP state 64-aligned,
	// frame+8 16-byte aligned (the ABI's state at function entry).
	fp, frame, onAlt := FrameAddrs(0x7fffffffe000, [3]uint64{0, SS_DISABLE, 0}, true, FPStateSize)
	if onAlt || fp != (0x7fffffffe000-RedZone-FPStateSize)&^63 || (frame+8)%16 != 0 || frame+SigframeSize > fp {
		t.Errorf("stack frame: fp %#x frame %#x onAlt %v", fp, frame, onAlt)
	}
	// SA_ONSTACK with an alternate stack: at its top, no red zone.
	alt := [3]uint64{0x10000, 0, 0x8000}
	fp, frame, onAlt = FrameAddrs(0x7fffffffe000, alt, true, FPStateSize)
	if !onAlt || fp != (0x18000-FPStateSize)&^63 || frame < 0x10000 {
		t.Errorf("alt frame: fp %#x frame %#x onAlt %v", fp, frame, onAlt)
	}
	// Already on the alternate stack: stay there, below the red zone.
	fp, _, onAlt = FrameAddrs(0x14000, alt, true, FPStateSize)
	if !onAlt || fp != (0x14000-RedZone-FPStateSize)&^63 {
		t.Errorf("nested alt frame: fp %#x onAlt %v", fp, onAlt)
	}
	// Without SA_ONSTACK the alternate stack is not used.
	if _, _, onAlt = FrameAddrs(0x7fffffffe000, alt, false, FPStateSize); onAlt {
		t.Error("used the alternate stack without SA_ONSTACK")
	}
}

func TestSigframeRoundTrip(t *testing.T) {
	r := SigRegs{R8: 8, R15: 15, RDI: 100, RAX: 42, RSP: 0x7000, RIP: 0x401000, RFLAGS: 0x246, CS: 0x2b, SS: 0x23, Err: 6, Trapno: 14, CR2: 0x10}
	var b [SigframeSize]byte
	PutSigframe(&b, 0x401234, &r, 0x9000, 1<<9, [3]uint64{0x10000, 0, 0x8000}, true, 11, 1, 0x10)
	le := binary.LittleEndian
	if le.Uint64(b[0:]) != 0x401234 {
		t.Error("return address is not sa_restorer")
	}
	var uc [UcontextSize]byte
	copy(uc[:], b[8:])
	got, fp, mask := ReadUcontext(&uc)
	got.CS, got.SS, got.Err, got.Trapno, got.CR2 = r.CS, r.SS, r.Err, r.Trapno, r.CR2
	if got != r || fp != 0x9000 || mask != 1<<9 {
		t.Errorf("ReadUcontext = %+v fp %#x mask %#x", got, fp, mask)
	}
	mc := b[8+40:]
	if le.Uint16(mc[144:]) != 0x2b || le.Uint64(mc[160:]) != 14 || le.Uint64(mc[176:]) != 0x10 {
		t.Error("cs, trapno or cr2 misplaced in sigcontext")
	}
	if le.Uint64(b[8+24:]) != SS_ONSTACK {
		t.Error("uc_stack.ss_flags should say SS_ONSTACK")
	}
	si := b[8+UcontextSize:]
	if le.Uint32(si[0:]) != 11 || le.Uint32(si[8:]) != 1 || le.Uint64(si[16:]) != 0x10 {
		t.Error("siginfo fields misplaced")
	}
}

func TestSanitizeFPState(t *testing.T) {
	var fx [FPStateSize]byte
	binary.LittleEndian.PutUint32(fx[24:], 0xffffffff)
	SanitizeFPState(&fx)
	if got := binary.LittleEndian.Uint32(fx[24:]); got != MXCSRMask {
		t.Errorf("MXCSR %#x, want %#x", got, MXCSRMask)
	}
}
