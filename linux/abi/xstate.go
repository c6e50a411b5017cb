package abi

import "encoding/binary"

// Extended state in signal frames (arch/x86/include/uapi/asm/sigcontext.h,
// arch/x86/kernel/fpu/signal.c): where the kernel saves state with XSAVE,
// a frame's FP state is the whole XSAVE area in the standard format, the
// software bytes at the end of its legacy part (struct _fpx_sw_bytes) say
// so and how big it is, and FP_XSTATE_MAGIC2 follows it; uc_flags carries
// UC_FP_XSTATE.
const (
	FP_XSTATE_MAGIC1      = 0x46505853
	FP_XSTATE_MAGIC2      = 0x46505845
	FP_XSTATE_MAGIC2_SIZE = 4
	UC_FP_XSTATE          = 0x1

	fxSwBytes   = 464 // struct _fpx_sw_bytes in the legacy region
	xsaveHeader = 512 // XSTATE_BV, XCOMP_BV, reserved: 64 bytes
	xfeatFPSSE  = 3   // x87 and SSE
)

// XStateFrameSize is the size of a signal frame's FP state for an XSAVE
// area of areaSize bytes: the area and MAGIC2.
func XStateFrameSize(areaSize int) int { return areaSize + FP_XSTATE_MAGIC2_SIZE }

// FrameFPSize is the FP state size of frames for areaSize (0: FXSAVE
// images only).
func FrameFPSize(areaSize int) int {
	if areaSize == 0 {
		return FPStateSize
	}
	return XStateFrameSize(areaSize)
}

// MinSigStackSize is AT_MINSIGSTKSZ for an XSAVE area of areaSize bytes
// (0: FXSAVE only), computed as Linux's init_sigframe_size: the frame,
// the FP state, their worst-case alignment padding, rounded up to 16.
func MinSigStackSize(areaSize int) uint64 {
	n := SigframeSize + 15 + FrameFPSize(areaSize) + 63
	return uint64(n+15) &^ 15
}

// PutXStateFrame encodes a frame's FP state into b (XStateFrameSize
// bytes) from area, an XSAVE area in the standard format holding
// xfeatures: as Linux writes it, XSTATE_BV always includes x87 and SSE,
// whose legacy region is always valid.
func PutXStateFrame(b, area []byte, xfeatures uint64) {
	le := binary.LittleEndian
	n := len(area)
	copy(b, area)
	clear(b[fxSwBytes:xsaveHeader])
	le.PutUint32(b[fxSwBytes:], FP_XSTATE_MAGIC1)
	le.PutUint32(b[fxSwBytes+4:], uint32(XStateFrameSize(n)))
	le.PutUint64(b[fxSwBytes+8:], xfeatures)
	le.PutUint32(b[fxSwBytes+16:], uint32(n))
	le.PutUint64(b[xsaveHeader:], le.Uint64(b[xsaveHeader:])|xfeatFPSSE)
	le.PutUint32(b[n:], FP_XSTATE_MAGIC2)
}

// XStateInFrame reports whether a frame's FP state, whose first
// FPStateSize bytes are legacy, says it holds an XSAVE area of areaSize
// bytes (the software bytes match); the caller then reads
// XStateFrameSize(areaSize) bytes and checks MAGIC2 with ReadXStateFrame.
func XStateInFrame(legacy []byte, areaSize int) bool {
	le := binary.LittleEndian
	return le.Uint32(legacy[fxSwBytes:]) == FP_XSTATE_MAGIC1 &&
		le.Uint32(legacy[fxSwBytes+4:]) == uint32(XStateFrameSize(areaSize)) &&
		le.Uint32(legacy[fxSwBytes+16:]) == uint32(areaSize)
}

// ReadXStateFrame fills area (an XSAVE area holding xfeatures) from a
// frame's FP state b, made safe for XRSTOR (Intel SDM Vol. 1 13.8.1:
// XSTATE_BV within XCR0, XCOMP_BV and the reserved header bytes zero,
// MXCSR's reserved bits clear). b is either XStateFrameSize(len(area))
// bytes ending in MAGIC2, restored whole, or a legacy FXSAVE image
// (FPStateSize bytes, or a frame without MAGIC2), which restores x87 and
// SSE and puts every other component in its initial state, as Linux
// does.
func ReadXStateFrame(area, b []byte, xfeatures uint64) {
	le := binary.LittleEndian
	n := len(area)
	full := len(b) >= XStateFrameSize(n) && XStateInFrame(b, n) && le.Uint32(b[n:]) == FP_XSTATE_MAGIC2
	if full {
		copy(area, b[:n])
	} else {
		copy(area, b[:FPStateSize])
		le.PutUint64(area[xsaveHeader:], xfeatFPSSE)
	}
	SanitizeFPState((*[FPStateSize]byte)(area))
	bv := le.Uint64(area[xsaveHeader:]) & xfeatures
	clear(area[xsaveHeader : xsaveHeader+64])
	le.PutUint64(area[xsaveHeader:], bv)
}
