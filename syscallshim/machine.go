package syscallshim

import (
	"yolk/amd64"
	"yolk/mm"
)

// Machine is what the shim needs from the kernel. The kernel's
// implementation is kernel.Machine; tests use a fake.
type Machine interface {
	// Enter runs the program from ctx in address space as until it
	// traps back and returns the vector (amd64.VecSyscall or a CPU
	// exception the address space could not resolve).
	Enter(ctx *amd64.Context, as *mm.AddressSpace) uint64
	// NewAddressSpace returns an empty program address space (the
	// kernel's half shared), or ENOMEM.
	NewAddressSpace() (*mm.AddressSpace, error)
	// SharedMemory returns anonymous shared memory of size bytes for
	// MAP_SHARED|MAP_ANONYMOUS, with one reference for the caller.
	SharedMemory(size uint64) mm.Backing
	// Phys is the physical memory program pages come from (the page
	// cache of mapped files keeps its frames there).
	Phys() mm.Phys
	// Console is the serial console: program output, trace output and
	// (by polling) input.
	ConsoleWrite(b []byte)
	ConsoleRead(b []byte) int // non-blocking: 0 when nothing is waiting
	// Monotonic and Realtime are the clocks in nanoseconds.
	Monotonic() int64
	Realtime() int64
	// Random fills b with random bytes.
	Random(b []byte)
	// VDSO returns the vDSO image (vdso.Image) and its data page, shared
	// by every process and kept by the machine (Map takes its own
	// references); nil, nil for no vDSO.
	VDSO() (image, vvar mm.Backing)
}
