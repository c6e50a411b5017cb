package syscallshim

import (
	"golang.org/x/sys/unix"

	"yolk/amd64"
)

// Machine is what the shim needs from the kernel. The kernel's
// implementation is kernel.Machine; tests use a fake.
type Machine interface {
	// Enter runs the program from ctx until it traps back and returns
	// the vector (amd64.VecSyscall or a CPU exception).
	Enter(ctx *amd64.Context) uint64
	// Map, Unmap, Protect and Discard change the program's address space
	// (mmap, munmap, mprotect and madvise(MADV_DONTNEED) semantics).
	Map(addr, length uint64, prot uint32, fixed bool) (uint64, unix.Errno)
	Unmap(addr, length uint64) unix.Errno
	Protect(addr, length uint64, prot uint32) unix.Errno
	Discard(addr, length uint64) unix.Errno
	// Bytes returns the program's memory [va, va+n) if it is all mapped
	// with the access asked for.
	Bytes(va, n uint64, write bool) ([]byte, bool)
	// Console is the serial console: program output, trace output and
	// (by polling) input.
	ConsoleWrite(b []byte)
	ConsoleRead(b []byte) int // non-blocking: 0 when nothing is waiting
	// Monotonic and Realtime are the clocks in nanoseconds.
	Monotonic() int64
	Realtime() int64
	// Random fills b with random bytes.
	Random(b []byte)
}
