package amd64

import (
	"testing"
	"unsafe"
)

// withXSave pretends programs have an XSAVE area of size bytes.
func withXSave(t *testing.T, size uint64) {
	on, sz := xsaveOn, xsaveSize
	xsaveOn, xsaveSize = true, size
	t.Cleanup(func() { xsaveOn, xsaveSize = on, sz })
}

func TestNewContextXState(t *testing.T) {
	withXSave(t, 832)
	for range 20 {
		c := NewContext()
		if uintptr(unsafe.Pointer(c))%16 != 0 {
			t.Fatalf("Context at %p: FXSAVE needs 16-byte alignment", c)
		}
		x := c.XState()
		if c.XArea%64 != 0 || len(x) != 832 || uint64(uintptr(unsafe.Pointer(&x[0]))) != c.XArea {
			t.Fatalf("XArea %#x, area %d bytes at %p", c.XArea, len(x), &x[0])
		}
		if x[24] != 0x80 || x[25] != 0x1f || x[512] != 0 {
			t.Fatalf("new area: MXCSR % x, XSTATE_BV %#x", x[24:26], x[512])
		}
	}
}

func TestContextCopyAndReset(t *testing.T) {
	withXSave(t, 832)
	a, b := NewContext(), NewContext()
	a.Regs.RAX = 42
	a.XState()[600] = 9
	area := b.XArea
	b.CopyFrom(a)
	if b.XArea != area || b.Regs.RAX != 42 || b.XState()[600] != 9 {
		t.Fatalf("CopyFrom: XArea %#x (own %#x), RAX %d, AVX byte %d", b.XArea, area, b.Regs.RAX, b.XState()[600])
	}
	b.XState()[600] = 1
	if a.XState()[600] != 9 {
		t.Fatal("the copy shares the source's area")
	}
	b.Reset()
	if b.XArea != area || b.Regs.RAX != 0 || b.XState()[600] != 0 {
		t.Fatalf("Reset: XArea %#x, RAX %d, AVX byte %d", b.XArea, b.Regs.RAX, b.XState()[600])
	}
	// A plain Context (no area) copied into one with an area: the legacy
	// part, with x87 and SSE marked present.
	var p Context
	p.FX.InitFX()
	p.FX[160] = 7
	b.CopyFrom(&p)
	if b.XArea != area || b.XState()[160] != 7 || b.XState()[XSaveHeader] != 3 {
		t.Fatal("CopyFrom a plain Context")
	}
}
