package amd64

import "encoding/binary"

// Starting the other processors (application processors, APs). An AP
// leaves INIT/SIPI in real mode at the page the SIPI names
// (Intel SDM Vol. 3A 9.4.4 and 10.6.1): the trampoline built here goes
// from there straight to long mode (PAE, EFER.LME and CR0.PG|PE in one
// step, then a far jump to a 64-bit code segment; Intel SDM Vol. 3A
// 9.8.5 describes the usual route through protected mode, which the
// direct one shortens), on page tables below 1 MiB that map the
// trampoline where it is and share the kernel's upper half, then jumps
// to apEntry in the kernel image with the CPU's trap stack and block.

// TrampolinePhys is the page the trampoline is copied to; the SIPI's
// vector is its page number.
const TrampolinePhys = 0x8000

// Offsets in the trampoline page.
const (
	tramp64   = 0x60  // 64-bit code
	trampGDT  = 0x100 // null, 64-bit code (0x08), data (0x10)
	trampGDTR = 0x120 // limit, 32-bit base
)

// Trampoline returns the trampoline page's contents for an AP that is
// to enable paging with the root table at pml4 (below 4 GiB: it is
// loaded in real mode) and jump to entry with RSP at stack and RDI at
// cpu.
func Trampoline(pml4 uint32, entry, stack, cpu uint64) [PageSize]byte {
	var p [PageSize]byte
	le := binary.LittleEndian
	var code []byte
	emit := func(b ...byte) int { code = append(code, b...); return len(code) }
	emit(0xfa)                                                 // cli
	emit(0x8c, 0xc8)                                           // mov ax, cs
	emit(0x8e, 0xd8)                                           // mov ds, ax
	emit(0x66, 0x0f, 0x01, 0x16, trampGDTR&0xff, trampGDTR>>8) // lgdt o32 [trampGDTR]
	emit(0x66, 0xb8, 0xa0, 0, 0, 0)                            // mov eax, CR4.PAE|PGE
	emit(0x0f, 0x22, 0xe0)                                     // mov cr4, eax
	cr3 := emit(0x66, 0xb8)                                    // mov eax, pml4
	emit(0, 0, 0, 0)
	emit(0x0f, 0x22, 0xd8)                // mov cr3, eax
	emit(0x66, 0xb9, 0x80, 0, 0, 0xc0)    // mov ecx, MSR_EFER
	emit(0x0f, 0x32)                      // rdmsr
	emit(0x66, 0x0d, 0x01, 0x09, 0, 0)    // or eax, EFER.SCE|LME|NXE
	emit(0x0f, 0x30)                      // wrmsr
	emit(0x66, 0xb8, 0x23, 0, 0x01, 0x80) // mov eax, CR0.PE|MP|NE|WP|PG
	emit(0x0f, 0x22, 0xc0)                // mov cr0, eax: long mode, compatibility
	far := emit(0x66, 0xea)               // jmp far 0x08:tramp64
	emit(0, 0, 0, 0, KernelCS, 0)
	copy(p[:], code)
	le.PutUint32(p[cr3:], pml4)
	le.PutUint32(p[far:], TrampolinePhys+tramp64)
	c64 := []byte{
		0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, // mov rax, entry
		0x48, 0xbc, 0, 0, 0, 0, 0, 0, 0, 0, // mov rsp, stack
		0x48, 0xbf, 0, 0, 0, 0, 0, 0, 0, 0, // mov rdi, cpu
		0xff, 0xe0, // jmp rax
	}
	copy(p[tramp64:], c64)
	le.PutUint64(p[tramp64+2:], entry)
	le.PutUint64(p[tramp64+12:], stack)
	le.PutUint64(p[tramp64+22:], cpu)
	le.PutUint64(p[trampGDT+8:], descKernelCode)
	le.PutUint64(p[trampGDT+16:], 0x00cf92000000ffff) // flat data
	le.PutUint16(p[trampGDTR:], 23)
	le.PutUint32(p[trampGDTR+2:], TrampolinePhys+trampGDT)
	return p
}

var (
	apCR3     uint64 // the kernel's root table, loaded by apEntry
	apCR4     uint64 // the boot CPU's CR4
	apHandler func()
)

// SetAPStart sets what every AP does once in long mode: load root (the
// kernel's page tables), become its CPU (InitCPU, InitFPU, the boot
// CPU's XSAVE features) and call h, which must not return.
func SetAPStart(root uint64, h func()) { apCR3, apCR4, apHandler = root, ReadCR4(), h }

// APStart returns what Trampoline's caller passes for CPU c: apEntry's
// address, the trap stack's top and the CPU block's address.
func APStart(c *CPU) (entry, stack, cpu uint64) {
	return apEntryPC(), uint64(c.trapStackTop), uint64(c.self)
}

// apStart runs on the AP's trap stack with its GS and FS set (smp.s).
func apStart() {
	InitCPU()
	InitFPU()
	if apCR4&CR4_OSXSAVE != 0 {
		WriteCR4(ReadCR4() | CR4_OSXSAVE)
		if xsaveOn {
			XSETBV(xfeatures)
		} else {
			XSETBV(XFeatureX87 | XFeatureSSE)
		}
	}
	apHandler()
	Halt()
}

// Defined in smp.s.
func apEntry()
func apEntryPC() uint64
