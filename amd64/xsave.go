package amd64

import (
	"sync/atomic"
	"unsafe"
)

// Extended processor state for programs (Intel SDM Vol. 1 ch. 13, AMD
// APM Vol. 2 11.5). Programs get every user state component the CPU
// offers among x87, SSE, AVX and AVX-512 (opmask, ZMM_Hi256, Hi16_ZMM),
// saved and restored per thread with XSAVEOPT (XSAVE where it is missing)
// in the standard format, the one Linux signal frames carry. PKRU is left
// out (it needs CR4.PKE and the pkey system calls), and so are AMX tiles
// (Linux hands them out only on arch_prctl request).
//
// The kernel's own Go code never uses AVX: CR4.OSXSAVE is set at boot with
// XCR0 holding only x87 and SSE, so when the runtime reads XCR0 while it
// starts (internal/cpu, x/sys/cpu) it finds AVX off for good; only then
// does EnableProgramXState turn the rest on. Kernel threads therefore keep
// FXSAVE images, and only program Contexts carry an XSAVE area.
//
// Nor does the kernel's code touch x87, MMX or the upper halves of the
// vector registers: Go on amd64 compiles to legacy SSE, which leaves bits
// 255 and up of YMM and ZMM as they were. So a trap saves only XMM0-15
// and MXCSR (into the FXSAVE image's place for them, in either kind of
// area), and the rest of a program's state stays in the CPU while the
// kernel runs: the CPU block's fpuOwner names the program Context it
// belongs to, and that Context's FPULive the CPU. resume
// (trap.s) saves that state whole, into its owner's area, only when it
// loads another program's; UnloadFPU does it for Go code that reads or
// changes a program's saved state; ForgetFPU drops it for a Context that
// is going away. Linux defers its FPU work the same way (the state is
// restored on the return to user mode, and saved only on a switch). With
// several CPUs, a Context whose state one CPU holds must be unloaded
// there before another CPU resumes it.

// XCR0 state-component bits (Intel SDM Vol. 1 13.1).
const (
	XFeatureX87      = 1 << 0
	XFeatureSSE      = 1 << 1
	XFeatureAVX      = 1 << 2
	XFeatureOpmask   = 1 << 5
	XFeatureZMMHi256 = 1 << 6
	XFeatureHi16ZMM  = 1 << 7

	xfeaturesAVX512 = XFeatureOpmask | XFeatureZMMHi256 | XFeatureHi16ZMM
)

// XSAVE area layout (standard format): the legacy FXSAVE region, then the
// 64-byte header whose first word is XSTATE_BV and second XCOMP_BV.
const (
	XSaveHeader   = 512
	XSaveMinBytes = 576
)

var (
	xsaveOn   bool   // program Contexts get an XSAVE area
	xsaveOpt  uint8  // 1: XSAVEOPT is there (trap.s)
	xfeatures uint64 // XCR0 for programs
	xsaveSize uint64 // bytes of a standard-format area for xfeatures
)

// InitXSave sets CR4.OSXSAVE, with XCR0 holding x87 and SSE only, where
// the CPU has XSAVE (CPUID.1:ECX[26]). Boot code calls it before the Go
// runtime starts.
func InitXSave() {
	if _, _, ecx, _ := CPUID(1, 0); ecx&(1<<26) == 0 {
		return
	}
	WriteCR4(ReadCR4() | CR4_OSXSAVE)
	XSETBV(XFeatureX87 | XFeatureSSE)
}

// EnableProgramXState turns on, in XCR0, every state component programs
// may use (see above) and sizes the XSAVE areas NewContext gives them.
// The kernel calls it once its runtime has started and before the first
// program runs.
func EnableProgramXState() {
	if ReadCR4()&CR4_OSXSAVE == 0 {
		return
	}
	lo, _, _, hi := CPUID(0xd, 0)
	offered := uint64(hi)<<32 | uint64(lo)
	x := uint64(XFeatureX87 | XFeatureSSE)
	if offered&XFeatureAVX != 0 {
		x |= XFeatureAVX
		if offered&xfeaturesAVX512 == xfeaturesAVX512 {
			x |= xfeaturesAVX512
		}
	}
	XSETBV(x)
	_, size, _, _ := CPUID(0xd, 0) // EBX: the area's size for XCR0 as set
	if size > maxXSaveSize && x&xfeaturesAVX512 != 0 {
		x &^= xfeaturesAVX512
		XSETBV(x)
		_, size, _, _ = CPUID(0xd, 0)
	}
	if size > maxXSaveSize {
		XSETBV(XFeatureX87 | XFeatureSSE)
		return // FXSAVE images, as without XSAVE
	}
	if eax, _, _, _ := CPUID(0xd, 1); eax&1 != 0 {
		xsaveOpt = 1
	}
	xfeatures, xsaveSize, xsaveOn = x, uint64(max(size, XSaveMinBytes)), true
}

// XFeatures returns the state components programs have (XCR0), or 0 when
// they have only what FXSAVE holds.
func XFeatures() uint64 {
	if !xsaveOn {
		return 0
	}
	return xfeatures
}

// XStateSize returns the size of a program's XSAVE area, or 0 when
// programs have FXSAVE images only.
func XStateSize() int {
	if !xsaveOn {
		return 0
	}
	return int(xsaveSize)
}

// contextX is a program Context with its XSAVE area: a *Context into it
// keeps the area alive. Context is its first field, so a Context with an
// XArea is always the head of a contextX. It holds no pointers: the Go
// allocator then puts no header before it, and a Context needs 16-byte
// alignment (FXSAVE).
type contextX struct {
	Context
	area [maxXSaveSize + 63]byte // the area is its 64-byte aligned part
}

// maxXSaveSize bounds the XSAVE area programs get: the standard format's
// size with every component up to AVX-512's Hi16_ZMM (Intel SDM Vol. 1
// 13.4, and CPUID.0xD reports the offsets: Hi16_ZMM ends at 2688). A CPU
// that asks for more gets AVX-512 left off.
const maxXSaveSize = 2688

// NewContext returns a Context for a program thread, with an XSAVE area
// when programs have extended state, in the state a new Linux process
// starts with (InitFPU).
func NewContext() *Context {
	if !xsaveOn {
		c := new(Context)
		c.InitFPU()
		return c
	}
	c := new(contextX)
	off := -uintptr(unsafe.Pointer(&c.area[0])) & 63
	c.XArea = uint64(uintptr(unsafe.Pointer(&c.area[off])))
	c.InitFPU()
	return &c.Context
}

// XState returns c's XSAVE area, or nil when it has only FX. The area
// holds c's whole vector state, and what the caller writes into it is
// what c resumes with: the part the CPU still held is saved first
// (UnloadFPU).
func (c *Context) XState() []byte {
	if c.XArea == 0 {
		return nil
	}
	c.UnloadFPU()
	x := (*contextX)(unsafe.Pointer(c))
	off := c.XArea - uint64(uintptr(unsafe.Pointer(&x.area[0])))
	return x.area[off : off+xsaveSize : off+xsaveSize]
}

// UnloadFPU makes c's XSAVE area hold c's whole vector state. Between
// a program's traps the CPU keeps the part of it that the kernel's code
// never touches (x87, the upper halves of YMM and ZMM, opmasks; trap.s
// saves only XMM0-15 and MXCSR on each trap): when c is that program,
// this saves it, and c resumes from its area as it then is. Go code that
// reads or changes a program's vector state calls it first (XState does).
// It runs in goroutines, not in the trap handler.
//
// With several CPUs the state may be held by another CPU than the
// caller's (FPULive names it): RemoteUnload, which the kernel sets, has
// that CPU save it, and returns once it has.
func (c *Context) UnloadFPU() {
	if c.XArea == 0 || c.FPULive == 0 {
		return
	}
	fl := IRQSave() // on this CPU until the state is where it belongs
	if l := c.FPULive; l != 0 {
		if l-1 == This().Index || RemoteUnload == nil {
			unloadFPU(c.addr())
		} else {
			RemoteUnload(int(l-1), c.addr())
		}
	}
	IRQRestore(fl)
}

// UnloadFPUHere is UnloadFPU on the CPU that holds c's state, for the
// kernel's handler of a RemoteUnload request (interrupts off).
func UnloadFPUHere(c uintptr) { unloadFPU(c) }

// RemoteUnload, when set, makes CPU cpu run UnloadFPUHere(c) and waits
// for it (interrupts off). c is a Context's address.
var RemoteUnload func(cpu int, c uintptr)

// ForgetFPU is UnloadFPU for a Context that is going away: the copy of
// its state whichever CPU holds it is dropped, not saved (trap handler:
// interrupts are off already). Another CPU whose registers hold it has
// no thread of it to resume; it only no longer saves them anywhere.
func ForgetFPU(c uintptr) {
	if c == 0 {
		return
	}
	for i := range cpus {
		if cpus[i].fpuOwner == c {
			cpus[i].fpuOwner = 0
		}
	}
}

// FPState returns the vector state the trap path saves c's into: its
// XSAVE area, or its FXSAVE image.
func (c *Context) FPState() []byte {
	if x := c.XState(); x != nil {
		return x
	}
	return c.FX[:]
}

// InitFPU gives c the vector state a new Linux process starts with: x87
// control word 0x37f and MXCSR 0x1f80, every register zero, every
// extended component in its initial state (XSTATE_BV 0).
func (c *Context) InitFPU() {
	c.FX.InitFX()
	if x := c.XState(); x != nil {
		clear(x)
		copy(x, c.FX[:])
	}
}

// CopyFrom makes c's registers and vector state a copy of src's, keeping
// c's own XSAVE area and CPU time (a new thread's starts at zero, without
// an alarm).
func (c *Context) CopyFrom(src *Context) {
	// Field by field, leaving out Fast: another thread may withdraw
	// src's fast calls at any moment (an atomic store to Fast.N), and the
	// copy starts without any (its owner publishes its own).
	c.FX = src.FX
	c.Regs = src.Regs
	c.FSBase = src.FSBase
	c.GSBase = src.GSBase
	c.FaultAddr = src.FaultAddr
	c.Fast = FastCalls{}
	c.FXUnsaved = src.FXUnsaved
	c.Affinity = atomic.LoadUint64(&src.Affinity) // a new thread's mask is its parent's
	c.LastCPU = src.LastCPU
	if dst, s := c.XState(), src.XState(); dst != nil && s != nil {
		copy(dst, s)
	} else if dst != nil {
		clear(dst)
		copy(dst, src.FX[:])
		dst[XSaveHeader] = XFeatureX87 | XFeatureSSE // XSTATE_BV
	}
}

// Reset clears c to a new program's state (zero registers, InitFPU),
// keeping its XSAVE area, its CPU time and its CPU affinity (execve
// keeps the process's).
func (c *Context) Reset() {
	c.UnloadFPU() // before FPULive is cleared with the rest
	area, user, sys, aff := c.XArea, c.UserNs, c.SysNs, atomic.LoadUint64(&c.Affinity)
	*c = Context{XArea: area, UserNs: user, SysNs: sys, Affinity: aff}
	c.InitFPU()
}
