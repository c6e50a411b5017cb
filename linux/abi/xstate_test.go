package abi

import (
	"encoding/binary"
	"testing"
)

func TestXStateFrameRoundTrip(t *testing.T) {
	const size, xfeat = 832, 7 // x87, SSE, AVX
	le := binary.LittleEndian
	area := make([]byte, size)
	for i := range area {
		area[i] = byte(i * 7)
	}
	le.PutUint32(area[24:], 0x1f80)
	clear(area[512:576])
	le.PutUint64(area[512:], 4) // AVX only in XSTATE_BV
	b := make([]byte, XStateFrameSize(size))
	PutXStateFrame(b, area, xfeat)
	if !XStateInFrame(b, size) || le.Uint32(b[size:]) != FP_XSTATE_MAGIC2 {
		t.Fatal("frame lacks its magic numbers")
	}
	if got := le.Uint64(b[512:]); got != 7 {
		t.Errorf("frame XSTATE_BV = %#x, want 0x7 (x87 and SSE always set)", got)
	}
	if got := le.Uint64(b[472:]); got != xfeat {
		t.Errorf("sw xfeatures = %#x, want %#x", got, xfeat)
	}
	// A handler corrupts the header and MXCSR's reserved bits.
	le.PutUint64(b[512:], 0xff)       // components beyond XCR0
	le.PutUint64(b[520:], 1<<63)      // compacted
	b[560] = 1                        // reserved
	le.PutUint32(b[24:], 0xffff_ffff) // MXCSR
	got := make([]byte, size)
	ReadXStateFrame(got, b, xfeat)
	if bv := le.Uint64(got[512:]); bv != 7 {
		t.Errorf("restored XSTATE_BV = %#x, want 0x7", bv)
	}
	for i := 520; i < 576; i++ {
		if got[i] != 0 {
			t.Fatalf("header byte %d = %#x, want 0 (XRSTOR faults otherwise)", i, got[i])
		}
	}
	if m := le.Uint32(got[24:]); m != MXCSRMask {
		t.Errorf("MXCSR = %#x, want %#x", m, MXCSRMask)
	}
	for i := 576; i < size; i++ {
		if got[i] != area[i] {
			t.Fatalf("AVX byte %d = %#x, want %#x", i, got[i], area[i])
		}
	}
}

func TestXStateFrameLegacy(t *testing.T) {
	const size = 832
	le := binary.LittleEndian
	fx := make([]byte, FPStateSize) // an FXSAVE image: no magic
	fx[160] = 0xaa                  // XMM0
	area := make([]byte, size)
	for i := range area {
		area[i] = 0x55
	}
	ReadXStateFrame(area, fx, 7)
	if area[160] != 0xaa {
		t.Error("XMM0 not restored from the legacy image")
	}
	if bv := le.Uint64(area[512:]); bv != 3 {
		t.Errorf("XSTATE_BV = %#x, want 0x3: AVX to its initial state", bv)
	}
	// A frame claiming the extended state without MAGIC2 is legacy too.
	b := make([]byte, XStateFrameSize(size))
	PutXStateFrame(b, area, 7)
	le.PutUint32(b[size:], 0)
	ReadXStateFrame(area, b, 7)
	if bv := le.Uint64(area[512:]); bv != 3 {
		t.Errorf("without MAGIC2: XSTATE_BV = %#x, want 0x3", bv)
	}
}

func TestMinSigStackSize(t *testing.T) {
	if got := MinSigStackSize(0); got%16 != 0 || got < SigframeSize+FPStateSize {
		t.Errorf("MinSigStackSize(0) = %d", got)
	}
	if got := MinSigStackSize(2688); got < SigframeSize+2688+4 || got%16 != 0 {
		t.Errorf("MinSigStackSize(2688) = %d", got)
	}
}
