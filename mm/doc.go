// Package mm is a Linux process's address space: its mappings (VMAs), its
// page tables and the frames behind them, the page-fault handler, fork's
// copy-on-write and the copy layer through which the kernel reads and
// writes program memory.
//
// An AddressSpace has two kinds of callers. Goroutines (system calls, the
// ELF loader) call Map, Unmap, Protect, Fork, CopyIn and the rest; they
// take the space's mutex and may allocate. The trap handler calls
// FaultFast with interrupts off and no Go runtime context: it does not
// allocate, lock or write Go pointers, and it resolves only the common
// faults (demand-zero and copy-on-write of private anonymous memory),
// leaving everything else to Fault from a goroutine (FaultSlow).
//
// The two sides exclude each other with one atomic word (state): a
// goroutine holding the mutex spins until it can set it to stBusy, the
// fast path only tries to set it to stFast and gives up (FaultSlow) when
// it cannot. On one CPU the fast path never sees a goroutine half-way
// through a change; on several it waits for nobody.
//
// References: Intel SDM Vol. 3A chapter 4 (4-level paging, table 4-19 for
// the bits of a page-table entry, 4.10 for TLB invalidation); the Linux
// man pages mmap(2), munmap(2), mprotect(2), mremap(2), madvise(2) and
// fork(2) for the semantics and errnos.
package mm
