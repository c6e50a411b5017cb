// Package amd64 holds yolk's x86-64 CPU support: control registers and
// MSRs, port I/O, the GDT/TSS/IDT, 4-level page tables, and the trap path
// that every entry into the kernel takes (exceptions, interrupts and the
// SYSCALL instruction, from ring 0 or ring 3).
//
// # Trap model
//
// Every kernel entry saves the complete register state of the running
// thread into the [Context] that [SetCurrent] last named (general
// registers, the hardware interrupt frame, and the vector state the
// kernel's code uses: XMM0-15 and MXCSR, into the FXSAVE image of a
// kernel thread or the XSAVE area of a program, whose other components
// stay in the CPU until another program's are loaded; see xsave.go), switches
// to a dedicated trap stack, points FS at a private TLS block whose g covers
// that stack, and calls the handler installed with [SetTrapHandler]. When
// the handler returns, the trap path resumes whatever Context is current
// then, with IRETQ (SYSRET into a program after a system call). Switching
// threads is therefore just naming another
// Context before returning: there is no separate context-switch routine.
//
// The handler runs with interrupts disabled and without a Go M or P, so it
// must not allocate, must not write pointers into the heap or globals
// (write barriers need a P), must not panic and must not make system calls.
// It may call ordinary (non-nosplit) Go functions: the trap g's stack bounds
// make their stack checks pass. A fault while the handler runs is a kernel
// bug: the entry path sees the nesting, moves to an emergency stack and
// calls the handler installed with [SetNestedHandler].
//
// References: Intel SDM Vol. 3A ch. 6 (interrupt and exception handling,
// IST), ch. 5.8.8 (SYSCALL/SYSRET), ch. 4.5 (4-level paging); Vol. 1
// ch. 10.5 (FXSAVE) and ch. 13 (XSAVE); AMD APM Vol. 2 ch. 8 and 11.5.
package amd64
