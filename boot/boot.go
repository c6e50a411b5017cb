// Package boot is yolk's entry point: the PVH entry that QEMU jumps to in
// 32-bit protected mode, the switch to long mode with early page tables,
// and the hand-over to the kernel package.
//
// QEMU (and any PVH loader) enters at the physical address in the ELF's
// XEN_ELFNOTE_PHYS32_ENTRY note (added after linking by scripts/pvhnote),
// with paging off, flat 32-bit segments, interrupts off, and EBX holding
// the physical address of struct hvm_start_info.
//
// The kernel is linked in the higher half, at KernelVirtBase + its physical
// load address, so that the whole lower half of the address space stays
// free for the Linux program (which expects 0x400000, 0x555555554000 and
// 0x7ffffffff000 to be its own). The early page tables map the first GiB
// of physical memory three times: at 0 (so the switch can happen while
// running at physical addresses), at KernelVirtBase (where the image is
// linked) and at the direct-map base. The kernel replaces them with its
// own tables before the Go runtime starts.
//
// References: Xen docs/misc/pvh.pandoc and xen/include/public/arch-x86/
// hvm/start_info.h (the PVH boot protocol); Intel SDM Vol. 3A 9.8.5
// (initializing IA-32e mode).
package boot

import "yolk/kernel"

// KernelVirtBase is where physical address 0 appears in the kernel's
// image mapping. The Makefile links with -T KernelVirtBase+0x201000.
const KernelVirtBase = 0xffffffff80000000

// Early state, filled by entry.s before any Go runs.
var (
	bootTables [6 * 4096]byte // 5 page-aligned pages: PML4, 2 PDPTs, PD, GDT
	bootStack  [64 << 10]byte
	bootG      [4]uintptr // the head of a runtime g: stack bounds for the prologue check
	bootTLS    [2]uintptr // FS points at bootTLS[1]; bootTLS[0] holds &bootG
)

// Defined in entry.s.
func pvhEntry()
func rt0PC() uintptr

// EntryPC returns the virtual address of the PVH entry point. Being
// called from Go also keeps pvhEntry in the link.
func EntryPC() uintptr

// early is called by entry.s in 64-bit mode on bootStack with the physical
// address of hvm_start_info. It never returns: kernel.Start resumes the
// first thread at the Go runtime's Linux entry point.
func early(startInfo uint64) {
	kernel.Start(kernel.BootParams{
		StartInfo:      startInfo,
		KernelVirtBase: KernelVirtBase,
		RuntimeEntry:   rt0PC(),
		EntryTSC:       entryTSC,
	})
}

// entryTSC is the time-stamp counter read by the first instruction.
var entryTSC uint64
