package amd64

import "unsafe"

//go:generate go run gen_vectors.go

// vectorTable holds the entry stub address of every vector (vectors_gen.s).
var vectorTable [256]uintptr

// tss is the 64-bit task-state segment (Intel SDM Vol. 3A 8.7, figure
// 8-11). Only the stack pointers matter in long mode. The hardware layout
// is packed (RSP0 at offset 4), so it is kept as bytes.
type tss [104]byte

const (
	tssRSP0  = 4
	tssIST1  = 36
	tssIOMap = 102
)

func (t *tss) put64(off int, v uint64) {
	for i := 0; i < 8; i++ {
		t[off+i] = byte(v >> (8 * i))
	}
}

type gate struct {
	offLo    uint16
	sel      uint16
	ist      uint8
	attr     uint8
	offMid   uint16
	offHi    uint32
	reserved uint32
}

// The IDT is the same on every CPU; each has its own GDT and TSS (in
// its CPU block: the TSS holds the CPU's stacks, and a TSS descriptor
// is marked busy once loaded, so it cannot be shared).
var (
	idt     [256]gate
	idtDesc [10]byte
)

// Descriptor values (Intel SDM Vol. 3A 3.4.5): present, DPL, S=1,
// type, L=1 for code.
const (
	descKernelCode = 0x00209a0000000000
	descKernelData = 0x0000920000000000
	descUserData   = 0x0000f20000000000
	descUserCode   = 0x0020fa0000000000
)

// Interrupt-stack-table slots.
const (
	istEntry     = 1
	istEmergency = 2
)

func pseudoDescriptor(d *[10]byte, base uintptr, limit int) {
	d[0], d[1] = byte(limit), byte(limit>>8)
	for i := 0; i < 8; i++ {
		d[2+i] = byte(base >> (8 * i))
	}
}

// InitCPU loads this CPU's GDT and TSS and the IDT, and programs
// SYSCALL. It runs once on each CPU, on its trap stack, after
// InitTrapStacks (the boot CPU) or StartCPU (the others) pointed GS base
// at the CPU's block.
func InitCPU() {
	c := This()
	gdt := &c.gdt
	gdt[1] = descKernelCode
	gdt[2] = descKernelData
	gdt[4] = descUserData
	gdt[5] = descUserCode
	base := uint64(uintptr(unsafe.Pointer(&c.tss)))
	limit := uint64(unsafe.Sizeof(c.tss) - 1)
	// 64-bit available TSS descriptor, two slots (Intel SDM Vol. 3A 8.2.3).
	gdt[6] = limit&0xffff | (base&0xffffff)<<16 | 0x89<<40 | (limit>>16&0xf)<<48 | (base>>24&0xff)<<56
	gdt[7] = base >> 32

	pseudoDescriptor(&c.gdtDesc, uintptr(unsafe.Pointer(gdt)), int(unsafe.Sizeof(*gdt))-1)
	lgdt(uintptr(unsafe.Pointer(&c.gdtDesc)), KernelCS)
	ltr(TSSSel)

	if c.Index == 0 {
		initIDT()
	}
	lidt(uintptr(unsafe.Pointer(&idtDesc)))

	WriteMSR(MSR_EFER, ReadMSR(MSR_EFER)|EFER_SCE|EFER_NXE)
	WriteMSR(MSR_STAR, uint64(0x18)<<48|uint64(KernelCS)<<32)
	WriteMSR(MSR_LSTAR, syscallEntryPC())
	WriteMSR(MSR_FMASK, RFLAGS_IF|RFLAGS_TF|RFLAGS_DF|RFLAGS_AC|RFLAGS_NT)
	if HasRDTSCP() || HasRDPID() {
		// The CPU's number (NUMA node 0 in bits 12 and up), which
		// programs read with RDPID or RDTSCP (the vDSO's getcpu), as
		// Linux sets it.
		WriteMSR(MSR_TSC_AUX, uint64(c.Index))
	}
	c.online = true
}

// initIDT fills the IDT (once, on the boot CPU).
func initIDT() {
	for v := range idt {
		ist := uint8(istEntry)
		switch v {
		case VecDoubleFault, VecNMI, VecMachineCheck:
			ist = istEmergency
		}
		dpl := uint8(0)
		if v == VecBreakpoint || v == VecOverflow {
			dpl = 3 // INT3 and INTO work from ring 3, as on Linux
		}
		pc := vectorTable[v]
		idt[v] = gate{
			offLo: uint16(pc), sel: KernelCS, ist: ist,
			attr:   0x8e | dpl<<5, // present, 64-bit interrupt gate (IF cleared)
			offMid: uint16(pc >> 16), offHi: uint32(pc >> 32),
		}
	}
	pseudoDescriptor(&idtDesc, uintptr(unsafe.Pointer(&idt)), int(unsafe.Sizeof(idt))-1)
}

// InitFPU enables SSE (CR0.MP|NE, CR4.OSFXSR|OSXMMEXCPT, Intel SDM Vol. 3A
// 13.1.4). XSAVE and AVX are InitXSave's and EnableProgramXState's.
func InitFPU() {
	cr0 := ReadCR0()
	cr0 &^= CR0_EM | CR0_TS
	cr0 |= CR0_MP | CR0_NE | CR0_WP
	WriteCR0(cr0)
	cr4 := ReadCR4() | CR4_OSFXSR | CR4_OSXMMEXCPT
	// SMEP and SMAP (Intel SDM Vol. 3A 4.6.1), where the CPU has them
	// (CPUID.7.0:EBX[7] and [20]): the kernel faults instead of executing
	// or touching a user page. The kernel reaches program memory only
	// through mm's copy layer (the direct map), so a stray access to a
	// program address is a loud kernel fault, not a silent read. The
	// kernel never runs with RFLAGS.AC set (SYSCALL clears it through
	// MSR_FMASK; other entries resume the kernel's own flags).
	if max, _, _, _ := CPUID(0, 0); max >= 7 {
		_, ebx, _, _ := CPUID(7, 0)
		if ebx&(1<<7) != 0 {
			cr4 |= CR4_SMEP
		}
		if ebx&(1<<20) != 0 {
			cr4 |= CR4_SMAP
		}
		// RDFSBASE, WRFSBASE, RDGSBASE and WRGSBASE (CPUID.7.0:EBX[0],
		// Intel SDM Vol. 3A 2.5): the trap path moves FS base without
		// WRMSR, which under TCG ends the translation block, twice a
		// system call. Ring 3 may use them too, as on Linux (5.9 and
		// later, AT_HWCAP2's HWCAP2_FSGSBASE): so every entry from ring
		// 3 saves the program's FS and GS base and every return loads
		// them (trap.s). Every CPU decides alike.
		if ebx&1 != 0 {
			cr4 |= CR4_FSGSBASE
			fsgsbase = 1
		}
	}
	WriteCR4(cr4)
}

// fsgsbase is 1 once CR4.FSGSBASE is set (trap.s tests it).
var fsgsbase uint8

// FSGSBase reports whether programs may read and write their FS and GS
// base themselves (RDFSBASE and the like): AT_HWCAP2's HWCAP2_FSGSBASE.
func FSGSBase() bool { return fsgsbase != 0 }
