package amd64

import "unsafe"

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

// InitTrapStacks makes this processor the boot CPU (CPU 0): it prepares
// its trap stacks and trap g, points GS base at its block, and returns
// the FS base to use while running on the trap stack (early boot code
// runs there too).
func InitTrapStacks() uint64 {
	c := &cpus[0]
	c.prepare(0, entryStack[:], trapStack[:], emergencyStack[:])
	c.setGSBase()
	return c.trapFSBase
}

// TrapFSBase is the FS base that makes compiled Go code run on this
// CPU's trap stack (see InitTrapStacks).
func TrapFSBase() uint64 { return This().trapFSBase }

// SetCurrent names the Context the trap path saves into and resumes from.
func SetCurrent(c *Context) { This().current = c.addr() }

// Current returns the Context named by SetCurrent.
func Current() *Context { return This().Current() }

// Current returns the Context named by SetCurrent on CPU c.
func (c *CPU) Current() *Context {
	return (*Context)(unsafe.Pointer(*(*unsafe.Pointer)(unsafe.Pointer(&c.current))))
}

// dispatch is called by trap.s on the trap stack.
func dispatch() { trapHandler() }

// nested is called by trap.s on the emergency stack.
func nested() { nestedHandler(uintptr(This().nestedSP)) }

// FastSyscalls returns how many system calls the SYSCALL entry has
// answered from Context.Fast without running the trap handler.
func FastSyscalls() uint64 {
	n := uint64(0)
	for i := range cpus {
		n += cpus[i].fastSyscalls
	}
	return n
}

// Defined in trap.s.
func trapCommon()
func syscallEntry()
func resume()
func unloadFPU(c uintptr)

// Resume leaves the current trap by resuming Current(). It never returns.
// Boot code uses it to start the first thread.
func Resume() {
	This().trapDepth = 1
	resume()
}

// syscallEntryPC is the address programmed into MSR_LSTAR (trap.s). It
// is taken in assembly: a Go func value of an assembly function points at
// an ABI wrapper, not at the code itself.
func syscallEntryPC() uint64

// defaultMXCSR is the MXCSR the kernel's Go code runs with: all
// exceptions masked, round to nearest (trap.s).
var defaultMXCSR uint32 = 0x1f80
