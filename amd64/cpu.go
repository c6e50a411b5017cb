package amd64

// Model-specific registers (Intel SDM Vol. 4).
const (
	MSR_EFER           = 0xc0000080
	MSR_STAR           = 0xc0000081
	MSR_LSTAR          = 0xc0000082
	MSR_FMASK          = 0xc0000084
	MSR_FS_BASE        = 0xc0000100
	MSR_GS_BASE        = 0xc0000101
	MSR_KERNEL_GS_BASE = 0xc0000102
	MSR_TSC_AUX        = 0xc0000103
	MSR_APIC_BASE      = 0x1b
	MSR_TSC_DEADLINE   = 0x6e0

	EFER_SCE = 1 << 0
	EFER_LME = 1 << 8
	EFER_NXE = 1 << 11
)

// Control register bits.
const (
	CR0_PE = 1 << 0
	CR0_MP = 1 << 1
	CR0_EM = 1 << 2
	CR0_TS = 1 << 3
	CR0_NE = 1 << 5
	CR0_WP = 1 << 16
	CR0_PG = 1 << 31

	CR4_PAE        = 1 << 5
	CR4_PGE        = 1 << 7
	CR4_OSFXSR     = 1 << 9
	CR4_OSXMMEXCPT = 1 << 10
	CR4_FSGSBASE   = 1 << 16
	CR4_OSXSAVE    = 1 << 18
	CR4_SMEP       = 1 << 20
	CR4_SMAP       = 1 << 21
)

// RFLAGS bits.
const (
	RFLAGS_CF   = 1 << 0
	RFLAGS_TF   = 1 << 8
	RFLAGS_IF   = 1 << 9
	RFLAGS_DF   = 1 << 10
	RFLAGS_IOPL = 3 << 12
	RFLAGS_NT   = 1 << 14
	RFLAGS_RF   = 1 << 16
	RFLAGS_AC   = 1 << 18
	RFLAGS_ID   = 1 << 21
)

// The functions below are defined in cpu.s. Each states there what it
// clobbers.

// Inb reads a byte from an I/O port.
func Inb(port uint16) uint8

// Outb writes a byte to an I/O port.
func Outb(port uint16, val uint8)

// Inw reads a 16-bit word from an I/O port.
func Inw(port uint16) uint16

// Outw writes a 16-bit word to an I/O port.
func Outw(port uint16, val uint16)

// Outl writes a 32-bit word to an I/O port.
func Outl(port uint16, val uint32)

// ReadMSR returns the model-specific register msr.
func ReadMSR(msr uint32) uint64

// WriteMSR sets the model-specific register msr.
func WriteMSR(msr uint32, val uint64)

// ReadCR0 returns CR0.
func ReadCR0() uint64

// WriteCR0 sets CR0.
func WriteCR0(val uint64)

// ReadCR2 returns CR2, the faulting linear address of the last page fault.
func ReadCR2() uint64

// ReadCR3 returns CR3.
func ReadCR3() uint64

// WriteCR3 sets CR3, flushing non-global TLB entries.
func WriteCR3(val uint64)

// WriteCR8 sets the task priority: interrupts whose vector's upper four
// bits are at most val stay pending in the local APIC.
func WriteCR8(val uint64)

// ReadCR4 returns CR4.
func ReadCR4() uint64

// WriteCR4 sets CR4.
func WriteCR4(val uint64)

// XSETBV sets extended control register 0 (XCR0).
func XSETBV(val uint64)

// CPUID executes CPUID with EAX=leaf and ECX=sub.
func CPUID(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// RDTSC returns the time-stamp counter.
func RDTSC() uint64

// RDRAND returns a hardware random value; ok is false when the CPU had
// none ready (or has no RDRAND: callers check CPUID first).
func RDRAND() (val uint64, ok bool)

// INVLPG drops the TLB entry for the page containing va.
func INVLPG(va uintptr)

// IRQSave clears RFLAGS.IF and returns the previous RFLAGS; IRQRestore
// sets IF again if it was set. Defined in cpu.s.
func IRQSave() (flags uint64)

// IRQRestore undoes IRQSave. Defined in cpu.s.
func IRQRestore(flags uint64)

// Halt executes CLI; HLT forever.
func Halt()

// lgdt loads the GDT register from the 10-byte pseudo-descriptor at ptr,
// reloads CS with sel (a far return) and DS/ES/SS with sel+8.
func lgdt(ptr uintptr, sel uint16)

// lidt loads the IDT register from the 10-byte pseudo-descriptor at ptr.
func lidt(ptr uintptr)

// ltr loads the task register with sel.
func ltr(sel uint16)

// HasFeature reports whether CPUID leaf 1 has bit in ECX (ecx=true) or EDX.
func HasFeature(ecx bool, bit uint) bool {
	_, _, c, d := CPUID(1, 0)
	if ecx {
		return c&(1<<bit) != 0
	}
	return d&(1<<bit) != 0
}

// HasRDTSCP reports whether the CPU has RDTSCP (CPUID 0x80000001 EDX
// bit 27), which reads IA32_TSC_AUX with the TSC.
func HasRDTSCP() bool {
	if max, _, _, _ := CPUID(0x80000000, 0); max < 0x80000001 {
		return false
	}
	_, _, _, d := CPUID(0x80000001, 0)
	return d&(1<<27) != 0
}

// HasRDPID reports whether the CPU has RDPID (CPUID 7 ECX bit 22), which
// reads IA32_TSC_AUX alone.
func HasRDPID() bool {
	if max, _, _, _ := CPUID(0, 0); max < 7 {
		return false
	}
	_, _, c, _ := CPUID(7, 0)
	return c&(1<<22) != 0
}

// IdleLoop enables interrupts and halts until one arrives, forever. It
// is the idle thread's code (cpu.s).
func IdleLoop()

// IdlePC is IdleLoop's address, for starting the idle thread (cpu.s).
func IdlePC() uint64

// ImageBounds returns linker-defined addresses of the kernel image: the
// end of text, the end of the read-only data (the writable segment starts
// at the next page), and the end of bss.
func ImageBounds() (etext, erodata, end uint64)

// UD2 executes an undefined instruction (for testing fault reports).
func UD2()

// Pause is the spin-wait hint PAUSE (cpu.s).
func Pause()
