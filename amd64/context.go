package amd64

import "unsafe"

// Segment selectors. The order is the one SYSRET needs (Intel SDM Vol. 3A
// 5.8.8): STAR[63:48]=0x18 makes SYSRET load CS=0x28|3 and SS=0x20|3.
const (
	KernelCS = 0x08
	KernelDS = 0x10
	UserDS   = 0x20 | 3
	UserCS   = 0x28 | 3
	TSSSel   = 0x30
)

// Vector numbers (Intel SDM Vol. 3A table 6-1), plus the kernel's own.
const (
	VecDivide       = 0
	VecDebug        = 1
	VecNMI          = 2
	VecBreakpoint   = 3
	VecOverflow     = 4
	VecBound        = 5
	VecInvalidOp    = 6
	VecDeviceNA     = 7
	VecDoubleFault  = 8
	VecInvalidTSS   = 10
	VecSegmentNP    = 11
	VecStackFault   = 12
	VecGP           = 13
	VecPageFault    = 14
	VecFPU          = 16
	VecAlignment    = 17
	VecMachineCheck = 18
	VecSIMD         = 19
	VecVirt         = 20
	VecCP           = 21

	// VecTimer is the local APIC timer interrupt.
	VecTimer = 32
	// VecSpurious is the local APIC spurious-interrupt vector.
	VecSpurious = 255
	// VecSyscall marks a frame saved by the SYSCALL entry.
	VecSyscall = 256
)

var vectorNames = [...]string{
	VecDivide: "#DE divide error", VecDebug: "#DB debug", VecNMI: "NMI",
	VecBreakpoint: "#BP breakpoint", VecOverflow: "#OF overflow",
	VecBound: "#BR bound range", VecInvalidOp: "#UD invalid opcode",
	VecDeviceNA: "#NM device not available", VecDoubleFault: "#DF double fault",
	9: "coprocessor segment overrun", VecInvalidTSS: "#TS invalid TSS",
	VecSegmentNP: "#NP segment not present", VecStackFault: "#SS stack fault",
	VecGP: "#GP general protection", VecPageFault: "#PF page fault",
	15: "reserved", VecFPU: "#MF x87 error", VecAlignment: "#AC alignment check",
	VecMachineCheck: "#MC machine check", VecSIMD: "#XM SIMD exception",
	VecVirt: "#VE virtualization", VecCP: "#CP control protection",
}

// VectorName names an exception vector ("#PF page fault"), or "interrupt".
func VectorName(v uint64) string {
	switch {
	case v < uint64(len(vectorNames)) && vectorNames[v] != "":
		return vectorNames[v]
	case v < 32:
		return "reserved exception"
	case v == VecSyscall:
		return "syscall"
	}
	return "interrupt"
}

// HasErrorCode reports whether the CPU pushes an error code for vector v.
func HasErrorCode(v int) bool {
	switch v {
	case VecDoubleFault, VecInvalidTSS, VecSegmentNP, VecStackFault, VecGP,
		VecPageFault, VecAlignment, VecCP, 29, 30:
		return true
	}
	return false
}

// Frame is the register state saved on every kernel entry. The last five
// fields are the hardware interrupt frame in the order IRETQ pops it.
// trap.s addresses the fields through go_asm.h.
type Frame struct {
	R15, R14, R13, R12, R11, R10, R9, R8 uint64
	RBP, RDI, RSI, RDX, RCX, RBX, RAX    uint64

	Vector    uint64
	ErrorCode uint64

	RIP, CS, RFLAGS, RSP, SS uint64
}

// User reports whether the frame was saved from ring 3.
func (f *Frame) User() bool { return f.CS&3 == 3 }

// FXArea is an FXSAVE image (Intel SDM Vol. 1 10.5.1). FXSAVE needs it
// 16-byte aligned; Context keeps it first and sized to a multiple of 16.
type FXArea [512]byte

// Context is one thread's CPU state while it is not running: where the trap
// path saves it and where it resumes it from.
type Context struct {
	FX     FXArea
	Regs   Frame
	FSBase uint64
	// GSBase is a program's GS base in ring 3. Where the CPU lets ring 3
	// change FS and GS base itself (FSGSBase), every entry from ring 3
	// saves both and every return loads both; without it a program
	// cannot change them, and its GS base stays 0.
	GSBase uint64
	_      uint64
	// FaultAddr is CR2 for a page fault that ended a user-mode run. It
	// also keeps the size a multiple of 16.
	FaultAddr uint64
	// Fast lists system calls the SYSCALL entry answers itself while
	// this Context runs in ring 3.
	Fast FastCalls
	// FXUnsaved is set when the last entry did not save FX: a SYSCALL
	// from the kernel's own Go code, whose callers keep nothing in vector
	// registers (Go's ABIInternal keeps only X15, always zero). Resuming
	// such a Context restores no FX image but gives the vector unit the
	// state Go expects: MXCSR at its default and X15 zero. Go never
	// uses x87 or MMX on amd64, so their state is left as it is.
	FXUnsaved uint64
	// XArea is the address of the Context's XSAVE area (64-byte
	// aligned, XStateSize bytes), or 0: FX holds its vector state. Only
	// program Contexts have one (NewContext); whoever makes it keeps it
	// alive and mapped.
	XArea uint64
	// UserNs is the CPU time a program Context has run in user mode
	// (with the traps the kernel answers there: page faults it resolves,
	// fast system calls, timer interrupts), added at each return to the
	// EnterUser caller.
	UserNs int64
	// CPUAlarm, when not 0, is a UserNs the thread is not to run past in
	// user mode without coming back to the EnterUser caller (VecKick):
	// the CPU-time timers (setitimer ITIMER_PROF and ITIMER_VIRTUAL) are
	// checked there.
	CPUAlarm int64
	// FPULive is, for a program Context, 1 + the index of the CPU whose
	// registers hold the part of its vector state the trap path does not
	// save on every trap (see xsave.go), or 0 when its XSAVE area holds
	// all of it. trap.s keeps it; Go code reads it (UnloadFPU).
	FPULive uint64
	// SysNs is the CPU time the kernel has spent for a program Context
	// between its returns to the EnterUser caller and its next entry
	// (the system calls and faults Go code handles): the running time of
	// the kernel thread in between, when the same thread enters again
	// and did not sleep meanwhile (a call that waits counts nothing).
	SysNs int64
	// Affinity is the set of CPUs (bit c for CPU c) a program Context
	// may run on in user mode, 0 for any (sched_setaffinity): the
	// kernel's scheduler runs a thread in user mode with it only on
	// those. Written atomically.
	Affinity uint64
	// LastCPU is 1 + the CPU that last resumed a program Context in
	// user mode, 0 before any did (getcpu). With Affinity it keeps the size a
	// multiple of 16.
	LastCPU uint64
}

// FastCalls are system calls whose result the SYSCALL entry (trap.s)
// returns to a ring-3 caller at once, with SYSRET, without saving its
// state or running any Go code: a getpid costs a few instructions
// instead of a round trip through the kernel's Go code. Whoever
// fills it (the syscall shim) keeps it true: an answer that would change
// is withdrawn first, by storing 0 in N (atomically: another thread may
// withdraw it), and a call that has to run in Go for another reason (a
// pending signal, tracing) is never answered here.
type FastCalls struct {
	// N is how many of the pairs below hold; 0 turns the fast path off.
	N uint64
	// Nr[i] is a system call number whose result is Ret[i].
	Nr  [MaxFastCalls]uint64
	Ret [MaxFastCalls]uint64
	// Mask has bit n set for every Nr[i] = n (all below 256): the
	// entry looks through Nr only for those, and sends every other
	// call on at once.
	Mask [4]uint64
	// Clock, when set with N, lets the kernel's trap handler answer
	// clock_gettime for the clocks it keeps itself, storing the result
	// where a store would not fault (the kernel decides which; the
	// shim says only that nothing stands in the way).
	Clock uint64
	// Files, when not 0, is the address of a descriptor table's
	// generation, a uint64 its owner changes (atomically) with every
	// change of the table, and FilesGen the generation FD was filled
	// at. While the two agree (and N is set), FD[n] says how the
	// kernel's trap handler may answer read and write on descriptor n
	// itself (FastFD bits; 0: not at all). The table and its
	// generation must stay alive while Files names them.
	Files    uint64
	FilesGen uint64
	FD       [MaxFastFDs]uint8
}

// MaxFastCalls is how many system calls a FastCalls holds.
const MaxFastCalls = 7

// MaxFastFDs is how many descriptors (0 to MaxFastFDs-1) FastCalls.FD
// covers.
const MaxFastFDs = 64

// FastCalls.FD bits: what a descriptor's file answers whatever the
// program's state, as /dev/zero and /dev/null do.
const (
	FastFDZero uint8 = 1 << iota // read fills the buffer with zeros (/dev/zero opened for reading)
	FastFDEOF                    // read returns 0 (/dev/null opened for reading)
	FastFDSink                   // write takes the whole count (/dev/null or /dev/zero opened for writing)
)

// InitFX gives fx the state a new Linux process starts with: x87 control
// word 0x37f and MXCSR 0x1f80, everything else zero.
func (fx *FXArea) InitFX() {
	*fx = FXArea{}
	fx[0], fx[1] = 0x7f, 0x03                         // FCW
	fx[24], fx[25], fx[26], fx[27] = 0x80, 0x1f, 0, 0 // MXCSR
	fx[28], fx[29] = 0xff, 0xff                       // MXCSR_MASK: all bits writable
}

// addr is a Context's address as trap.s sees it.
func (c *Context) addr() uintptr { return uintptr(unsafe.Pointer(c)) }
