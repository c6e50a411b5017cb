// Package kernel is yolk's runtime host: it brings the machine up from
// the boot package's hand-over (memory map, frame allocator, page tables,
// GDT/IDT/TSS and SYSCALL, TSC clock, LAPIC timer), then serves the
// Linux system calls of the kernel's own Go runtime and runs the Linux
// program's threads in ring 3 (EnterUser).
//
// # Runtime system calls
//
// The stock linux/amd64 Go runtime runs on top of this package as if on
// Linux. Its syscalls arrive in the trap handler (runtimeSyscall) and are
// answered there, without an M or a P:
//
//   - mmap, munmap, mprotect, madvise: anonymous memory in the kernel's
//     window [RuntimeLo, RuntimeHi) of the upper half, on real 4-level page
//     tables. PROT_NONE reservations (the runtime reserves ~1 GiB it never
//     touches) cost no RAM; pages are backed zeroed on first touch, as
//     Linux does. Hints outside the window are not honoured (Linux may also
//     ignore hints; the runtime then takes what it is given), which keeps
//     the lower half for the program. MADV_DONTNEED/FREE free frames (the
//     range then reads as zeros, Linux's semantics); huge-page and
//     read-ahead advice is accepted without effect, which advice permits.
//   - clone: a real kernel thread sharing everything; the runtime needs
//     threads that really run (runtime.main hands its P to a new M during
//     init and waits for it). exit ends the thread, exit_group powers off
//     with the status.
//   - futex WAIT (relative timeout) and WAKE; nanosleep; sched_yield: the
//     scheduler (sched.go) blocks and wakes threads; the LAPIC timer wakes
//     sleepers and preempts every 10 ms.
//   - epoll_create1, epoll_ctl, epoll_pwait, eventfd2, read and write on
//     eventfds: what the netpoller uses for timers and wake-ups; eventfds
//     are the only pollable files.
//   - clock_gettime: REALTIME from the RTC at boot plus the TSC, MONOTONIC
//     (and BOOTTIME, RAW, COARSE) from the TSC (rate from the hypervisor
//     leaf, else calibrated against the PIT);
//     per-thread and process CPU time from the scheduler's accounting.
//   - write to fds 1 and 2: the serial console. fcntl F_GETFD/F_GETFL on
//     0-2 succeed (otherwise the runtime reopens them on /dev/null).
//   - rt_sigaction, rt_sigprocmask, sigaltstack: recorded and read back.
//     tgkill/tkill mark a signal pending on a thread, and the trap handler
//     delivers it when it resumes that thread, with Linux's signal frame
//     on the thread's alternate stack (ksignal.go); rt_sigreturn restores
//     it. This is the runtime's asynchronous preemption (SIGURG), which
//     lets it stop a goroutine in a loop without calls.
//   - sched_getaffinity: the machine's CPUs. arch_prctl SET_FS/GET_FS: the thread's
//     FS base. getpid/gettid/getuid...: 1, the thread ID, 0. prlimit64:
//     fixed limits. getrandom: RDRAND where present. prctl(PR_SET_VMA):
//     EINVAL, as on Linux without CONFIG_ANON_VMA_NAME.
//   - openat/open: ENOENT (the runtime probes /sys and /proc; the kernel
//     has no files of its own).
//
// Anything else is ENOSYS, logged once with its name.
//
// # Running a Linux program
//
// The program runs in ring 3 on the kernel's threads (user.go). A
// goroutine calls EnterUser(ctx) — a system call with a private number,
// so the runtime treats it as blocking and keeps its other goroutines
// running — and the trap handler switches that thread to the program's
// registers and FS base. The thread keeps two contexts: the program's
// (the caller's ctx, which the trap path saves into while the program
// runs) and the kernel's at the EnterUser call (the thread's own). A
// SYSCALL from ring 3, a fault the kernel cannot resolve or a kick
// (KickUser, for signals) resumes the kernel context, so EnterUser
// returns the vector and the goroutine handles it in ordinary Go
// (package syscallshim). Timer interrupts and the page faults
// mm.FaultFast resolves (demand-zero, copy-on-write) are handled without
// leaving the trap handler; Machine.Enter resolves the rest with mm.Fault.
//
// Each process's address space (package mm) has its own top-level table
// (UserLo..UserHi below, the kernel's entries above); CR3 follows the
// thread entering user mode. Program pages carry the user bit at every
// level, the kernel's never do, and SMEP and SMAP stop the kernel from
// executing or touching program pages: the kernel reaches them only
// through mm's copy layer and the direct map. The frame allocator is
// shared by the trap handler and goroutines (userPhys), which hold it with
// interrupts off; programs cannot take the last kernelReserveFrames.
//
// # Memory and exits
//
// A page the runtime needs when no frame is left ends the machine with
// "yolk: out of memory" and ExitNoMemory; a fault the kernel cannot
// resolve prints a crash report (crash.go) and ExitKernelFault.
package kernel
