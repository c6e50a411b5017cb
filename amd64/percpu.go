package amd64

import "unsafe"

// MaxCPUs bounds the processors yolk runs on; the rest are left halted.
const MaxCPUs = 16

// CPU is one processor's trap state. The trap path (trap.s) reaches the
// running CPU's through GS base, which holds the CPU's address while the
// CPU runs in ring 0: GS:0 is that address again, so Go code finds it
// with one load (This). A program's GS base is its own while it runs in
// ring 3; every entry from ring 3 and every return to it exchanges the
// two with SWAPGS (Intel SDM Vol. 3A 5.8.8, MSR_KERNEL_GS_BASE), and the
// kernel's own code never changes GS. trap.s addresses the fields
// through go_asm.h; it holds no Go pointers (the trap path cannot run
// write barriers).
type CPU struct {
	self         uintptr // this CPU's address (GS:0)
	current      uintptr // *Context of the running thread
	trapDepth    uint64  // 1 while the trap handler runs
	scratch      uint64  // RAX spill slot for the SYSCALL entry
	scratch2     uint64  // RBX and RDX spill slots for its fast path
	scratch3     uint64
	trapStackTop uintptr
	trapFSBase   uint64 // FS base for the trap handler: trapTLS+8
	emergencyTop uintptr
	emergFSBase  uint64
	nestedSP     uint64 // stack pointer at a nested fault
	nestedRAX    uint64
	inNested     uint64 // set once a nested fault is being reported
	fastSyscalls uint64 // system calls answered from Context.Fast
	// fpuOwner is the program Context (with an XSAVE area) whose vector
	// state beyond XMM0-15 and MXCSR this CPU's registers hold, or 0
	// (trap.s, xsave.go).
	fpuOwner uintptr

	// Index is the CPU's number, 0 for the boot processor; APICID its
	// local APIC's ID.
	Index  uint64
	APICID uint64

	// trapG imitates the head of the runtime's g (stack.lo, stack.hi,
	// stackguard0, stackguard1), the only part compiled Go code reads
	// in its prologue stack check. trapTLS[0] holds its address, and FS
	// points at trapTLS+8 because Go on linux/amd64 reads g from -8(FS).
	// The emergency stack has its own g, so that nested-fault reporting
	// passes the prologue stack checks there too.
	trapG    [4]uintptr
	trapTLS  [2]uintptr
	emergG   [4]uintptr
	emergTLS [2]uintptr

	tss     tss
	gdt     [8]uint64
	gdtDesc [10]byte
	online  bool
	_       [5]byte
}

// cpus are the processors' blocks; cpus[0] is the boot processor's.
var cpus [MaxCPUs]CPU

// Stacks of the boot processor's trap path. They live in the kernel
// image's bss, so they are mapped before the first trap and never
// demand-paged. The other processors' come from PrepareCPU's caller.
var (
	// entryStack is IST1: every vector lands here, but only the entry
	// code uses it, to copy the hardware frame into the current Context.
	entryStack [EntryStackSize]byte
	// trapStack is where the Go trap handler runs.
	trapStack [TrapStackSize]byte
	// emergencyStack is IST2 (#DF, NMI, #MC) and where nested faults are
	// reported from.
	emergencyStack [EmergencyStackSize]byte
)

// Sizes of each CPU's trap-path stacks.
const (
	EntryStackSize     = 4096
	TrapStackSize      = 64 << 10
	EmergencyStackSize = 16 << 10
)

// This returns the running CPU's block. Only meaningful where the caller
// cannot move to another CPU: in the trap handler, or with interrupts
// off (percpu.s).
func This() *CPU

// CPUByIndex returns CPU i's block.
func CPUByIndex(i int) *CPU { return &cpus[i] }

// Online reports whether the CPU has started (InitCPU ran on it).
func (c *CPU) Online() bool { return c.online }

// prepare fills c's stacks and fake gs (see CPU) for CPU i.
func (c *CPU) prepare(i int, entry, trap, emerg []byte) {
	c.self = uintptr(unsafe.Pointer(c))
	c.Index = uint64(i)
	c.trapFSBase, c.trapStackTop = fakeG(&c.trapG, &c.trapTLS, trap)
	c.emergFSBase, c.emergencyTop = fakeG(&c.emergG, &c.emergTLS, emerg)
	c.tss.put64(tssIST1+8*(istEntry-1), uint64((uintptr(unsafe.Pointer(&entry[0]))+uintptr(len(entry)))&^15))
	c.tss.put64(tssIST1+8*(istEmergency-1), uint64(c.emergencyTop))
	c.tss.put64(tssRSP0, uint64(c.trapStackTop))
	// I/O map base beyond the segment limit: no I/O bitmap, so ring 3
	// gets no ports.
	c.tss[tssIOMap], c.tss[tssIOMap+1] = byte(len(c.tss)), 0
}

// PrepareCPU readies CPU i (i > 0) to start: its trap path uses the
// stacks given (at least the sizes above, mapped and backed, kept alive
// by the caller for good). Call it before the CPU runs StartCPU.
func PrepareCPU(i int, entry, trap, emerg []byte) *CPU {
	c := &cpus[i]
	c.prepare(i, entry, trap, emerg)
	return c
}

// setGSBase points GS base at c: from now on this processor is c.
func (c *CPU) setGSBase() {
	WriteMSR(MSR_GS_BASE, uint64(c.self))
	WriteMSR(MSR_KERNEL_GS_BASE, 0) // the programs' until they set one
}

// fakeG makes g describe stack and tls point at g, and returns the FS
// base that makes compiled Go code find g (at -8(FS)) and the stack's
// 16-byte aligned top.
func fakeG(g *[4]uintptr, tls *[2]uintptr, stack []byte) (fsBase uint64, top uintptr) {
	lo := uintptr(unsafe.Pointer(&stack[0]))
	hi := lo + uintptr(len(stack))
	g[0], g[1] = lo, hi
	g[2], g[3] = lo+stackGuard, lo+stackGuard
	tls[0] = uintptr(unsafe.Pointer(g))
	return uint64(uintptr(unsafe.Pointer(&tls[1]))), hi &^ 15
}

// TrapFSBase is the FS base that makes compiled Go code run on this
// CPU's trap stack.
func (c *CPU) TrapFSBase() uint64 { return c.trapFSBase }
