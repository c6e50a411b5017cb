package amd64

import "unsafe"

// Stacks used by the trap path. They live in the kernel image's bss, so
// they are mapped before the first trap and never demand-paged.
var (
	// entryStack is IST1: every vector lands here, but only the entry
	// code uses it, to copy the hardware frame into the current Context.
	entryStack [4096]byte
	// trapStack is where the Go trap handler runs.
	trapStack [64 << 10]byte
	// emergencyStack is IST2 (#DF, NMI, #MC) and where nested faults are
	// reported from.
	emergencyStack [16 << 10]byte
)

// State shared with trap.s. Single CPU: a per-CPU block reached through
// GS will replace these globals when yolk runs on several vCPUs.
var (
	current      uintptr // *Context of the running thread
	trapDepth    uint64  // 1 while the trap handler runs
	scratch      uint64  // RAX spill slot for the SYSCALL entry
	scratch2     uint64  // RBX and RDX spill slots for its fast path
	scratch3     uint64
	fastSyscalls uint64          // system calls answered from Context.Fast
	defaultMXCSR uint32 = 0x1f80 // all exceptions masked, round to nearest
	trapStackTop uintptr
	emergencyTop uintptr
	trapFSBase   uint64 // FS base for the trap handler: trapTLS+8
	nestedSP     uint64 // stack pointer at a nested fault
	nestedRAX    uint64
)

// trapG imitates the head of the runtime's g (stack.lo, stack.hi,
// stackguard0, stackguard1), the only part compiled Go code reads in its
// prologue stack check. trapTLS[0] holds its address, and FS points at
// trapTLS+8 because Go on linux/amd64 reads g from -8(FS).
var (
	trapG   [4]uintptr
	trapTLS [2]uintptr
	// The emergency stack has its own g, so that nested-fault reporting
	// passes the prologue stack checks there too.
	emergG      [4]uintptr
	emergTLS    [2]uintptr
	emergFSBase uint64
	inNested    uint64 // set once a nested fault is being reported
)

// stackGuard is how far above the stack's low end the guard sits, like the
// runtime's StackGuard: room for nosplit chains below the check.
const stackGuard = 2048

var (
	trapHandler   func()
	nestedHandler func(sp uintptr)
)

// SetTrapHandler installs h as the function every trap calls, on the trap
// stack with interrupts disabled. h finds the trap in Current().Regs.
func SetTrapHandler(h func()) { trapHandler = h }

// SetNestedHandler installs h for faults taken while the trap handler
// runs. sp points at the vector number the entry stub pushed, followed by
// the error code and the hardware frame. h must not return.
func SetNestedHandler(h func(sp uintptr)) { nestedHandler = h }

// InitTrapStacks prepares the trap stacks and the trap g, and returns the
// FS base to use while running on the trap stack (early boot code runs
// there too).
func InitTrapStacks() uint64 {
	trapFSBase, trapStackTop = fakeG(&trapG, &trapTLS, trapStack[:])
	emergFSBase, emergencyTop = fakeG(&emergG, &emergTLS, emergencyStack[:])
	return trapFSBase
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

// TrapFSBase is the FS base that makes compiled Go code run on the trap
// stack (see InitTrapStacks).
func TrapFSBase() uint64 { return trapFSBase }

// SetCurrent names the Context the trap path saves into and resumes from.
func SetCurrent(c *Context) { current = c.addr() }

// Current returns the Context named by SetCurrent.
func Current() *Context {
	return (*Context)(unsafe.Pointer(*(*unsafe.Pointer)(unsafe.Pointer(&current))))
}

// dispatch is called by trap.s on the trap stack.
func dispatch() { trapHandler() }

// nested is called by trap.s on the emergency stack.
func nested() { nestedHandler(uintptr(nestedSP)) }

// FastSyscalls returns how many system calls the SYSCALL entry has
// answered from Context.Fast without running the trap handler.
func FastSyscalls() uint64 { return fastSyscalls }

// Defined in trap.s.
func trapCommon()
func syscallEntry()
func resume()

// Resume leaves the current trap by resuming Current(). It never returns.
// Boot code uses it to start the first thread.
func Resume() {
	trapDepth = 1
	resume()
}

// syscallEntryPC is the address programmed into MSR_LSTAR (trap.s). It
// is taken in assembly: a Go func value of an assembly function points at
// an ABI wrapper, not at the code itself.
func syscallEntryPC() uint64
