package kernel

import (
	"unsafe"

	"yolk/amd64"
	"yolk/mm"
)

// Virtual memory layout (see README.md for the picture).
const (
	// DirectMap is where all physical memory (and the local APIC and ACPI
	// MMIO pages) is mapped: physical address p is at DirectMap+p.
	DirectMap = 0xffff888000000000
	// RuntimeLo..RuntimeHi is where the kernel's Go runtime gets memory
	// from mmap. Hints outside it are not honoured, so the lower half
	// stays the Linux program's.
	RuntimeLo = 0xffffc00000000000
	RuntimeHi = 0xffffe00000000000
	// ThreadTable is where the scheduler's thread table lives (its own
	// top-level entry, made at boot), backed page by page as it fills.
	ThreadTable = RuntimeHi

	kernelPhys = 0x200000 // physical load address of the image

	// MinMemMiB is the least RAM the kernel boots with.
	MinMemMiB = 16
)

// Exit statuses the kernel itself produces (see README.md).
const (
	ExitKernelFault = 112 // CPU exception in the kernel, or a wedged kernel
	ExitNoMemory    = 113 // less RAM than MinMemMiB
)

// BootParams is what the boot package hands over.
type BootParams struct {
	StartInfo      uint64 // physical address of hvm_start_info
	KernelVirtBase uint64 // virtual address of physical 0 in the image map
	RuntimeEntry   uintptr
	EntryTSC       uint64
}

var (
	params   BootParams
	bootInfo StartInfo
	sched    Scheduler
	frames   mm.Frames
	kernelAS AddressSpace
	physMem  directPhys

	// bootCtx catches traps taken before the first thread exists.
	bootCtx amd64.Context
	// dummyTLS is the FS base the runtime's first instructions see,
	// before its arch_prctl(ARCH_SET_FS): g reads as nil.
	dummyTLS [4]uint64

	m0Stack   [128 << 10]byte // the runtime's initial (OS) stack
	idleStack [4096]byte

	kernelStartPhys, kernelEndPhys uint64
	maxPhys                        uint64
)

// ptr turns a kernel virtual address into a pointer without tripping vet.
func ptr(va uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&va)) }

// directPhys serves page-table builders and address spaces from the frame
// allocator through the direct map.
type directPhys struct{}

func (directPhys) Alloc() (uint64, bool) {
	f, ok := frames.Alloc()
	if !ok {
		return 0, false
	}
	p := f << amd64.PageShift
	*(*[amd64.PageSize]byte)(ptr(uintptr(DirectMap + p))) = [amd64.PageSize]byte{}
	return p, true
}

func (directPhys) Table(phys uint64) *amd64.Table {
	return (*amd64.Table)(ptr(uintptr(DirectMap + phys)))
}

func (directPhys) Free(phys uint64) {
	if _, ok := frames.DecRef(phys >> amd64.PageShift); !ok {
		badFrame("freeing a free frame ", phys)
	}
}

// physBytes returns n bytes of physical memory at p through the direct map.
func physBytes(p uint64, n int) []byte {
	return unsafe.Slice((*byte)(ptr(uintptr(DirectMap+p))), n)
}

// Cmdline returns the kernel command line.
func Cmdline() string { return string(bootInfo.Cmdline[:bootInfo.CmdlineLen]) }

// Initrd returns the first boot module's contents, or nil.
func Initrd() []byte {
	if bootInfo.NModules == 0 || bootInfo.Modules[0].Size == 0 {
		return nil
	}
	m := bootInfo.Modules[0]
	return physBytes(m.Addr, int(m.Size))
}

// unsafeBytes is the kernel memory [va, va+n) as a slice; the caller has
// checked that it is mapped.
func unsafeBytes(va, n uint64) []byte { return unsafe.Slice((*byte)(ptr(uintptr(va))), n) }
