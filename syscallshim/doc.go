// Package syscallshim runs a Linux program on yolk and answers its system
// calls: the binary-compatibility layer.
//
// Each program thread is a goroutine that loops on Machine.Enter: the
// kernel switches the thread to ring 3 and returns when the program
// traps. A SYSCALL instruction lands on the kernel's LSTAR stub, comes
// back here as amd64.VecSyscall with the registers saved, and goes
// through Thread.dispatch: one switch on the Linux x86-64 syscall number
// calling one handler per syscall (sys_<area>.go). Handlers are ordinary
// Go: they may allocate and block (a futex wait parks the goroutine, not
// the CPU). Each returns (value, error); dispatch is the one place that
// turns an error into -errno. Numbers without a handler answer -ENOSYS
// and are logged once with their name and the caller's RIP.
//
// The program's memory is reached through Machine (the kernel's user
// address space, or a fake in tests): every pointer from the program is
// checked there, so a bad pointer is EFAULT, never a kernel fault.
// Faults the kernel cannot resolve (a NULL dereference, a write to the
// kernel's half, an invalid opcode) end the program with a Linux-shaped
// report and status 128+signal.
//
// support.go lists every syscall's support level; README.md's table is
// generated from it (go generate).
//
// References: the Linux man-pages (section 2), arch/x86/entry/syscalls/
// syscall_64.tbl, include/uapi; Unikraft's syscall shim (the design this
// follows, in Go and with the program isolated in ring 3).
package syscallshim
