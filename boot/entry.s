#include "textflag.h"

// Physical address the kernel's ELF headers are loaded at (the Makefile
// links with -T KernelVirtBase+0x201000, so headers sit at 0x200000).
#define KERNEL_PHYS 0x200000
#define KERNEL_VIRT_HI 0xffffffff
#define MSR_EFER 0xc0000080
#define MSR_FS_BASE 0xc0000100

// Only instruction forms that encode the same in 32-bit and 64-bit mode
// appear before the far return to long<>: no Q-suffixed instructions, no
// R8-R15, no sym(SB) memory operands. `MOVL $sym(SB), BX` assembles to a
// 6-byte RIP-relative LEA, so in 32-bit mode it yields the displacement
// from the next instruction; getPC supplies that instruction's address.

// func pvhEntry()
TEXT ·pvhEntry(SB),NOSPLIT|NOFRAME,$0
	// RDTSC first: boot timing counts from here.
	RDTSC
	MOVL	AX, DI
	MOVL	DX, CX
	CLI
	MOVL	BX, SI			// hvm_start_info, kept in ESI
	// A scratch stack for the CALLs below: the top of the page that holds
	// the ELF headers, which nothing reads after loading.
	MOVL	$(KERNEL_PHYS+0x1000), SP
	PUSHQ	CX			// entry TSC, high then low word
	PUSHQ	DI

	// BP = bootTables rounded up to a page.
	CALL	getPC<>(SB)
	MOVL	$·bootTables(SB), BX
	ADDL	$6, AX
	ADDL	BX, AX
	ADDL	$4095, AX
	ANDL	$~4095, AX
	MOVL	AX, BP

	// Zero PML4 (BP), PDPT low (BP+0x1000), PDPT high (BP+0x2000),
	// PD (BP+0x3000) and the GDT page (BP+0x4000).
	MOVL	BP, DI
	XORL	AX, AX
	MOVL	$(5*4096/4), CX
	CLD
	REP;	STOSL

	// PD: 512 2-MiB pages mapping physical [0, 1 GiB).
	LEAL	0x3000(BP), DI
	MOVL	$0x83, AX		// P | W | PS
	MOVL	$512, CX
fillpd:
	MOVL	AX, (DI)
	ADDL	$0x200000, AX
	ADDL	$8, DI
	SUBL	$1, CX
	JNE	fillpd

	LEAL	0x3000(BP), AX
	ORL	$3, AX			// P | W
	MOVL	AX, 0x1000(BP)		// PDPT low[0]: VA 0 -> PD
	MOVL	AX, (0x2000+510*8)(BP)	// PDPT high[510]: VA 0xffffffff80000000 -> PD
	LEAL	0x1000(BP), AX
	ORL	$3, AX
	MOVL	AX, (BP)		// PML4[0]: identity
	MOVL	AX, (273*8)(BP)		// PML4[273]: direct map at 0xffff888000000000
	LEAL	0x2000(BP), AX
	ORL	$3, AX
	MOVL	AX, (511*8)(BP)		// PML4[511]: kernel image

	// Long mode (Intel SDM Vol. 3A 9.8.5): CR4.PAE, CR3, EFER.LME (and
	// NXE), then CR0.PG.
	MOVL	CR4, AX
	ORL	$0x20, AX
	MOVL	AX, CR4
	MOVL	BP, AX
	MOVL	AX, CR3
	MOVL	$MSR_EFER, CX
	RDMSR
	ORL	$0x900, AX		// LME | NXE
	WRMSR
	MOVL	CR0, AX
	ORL	$0x80000001, AX		// PG | PE
	MOVL	AX, CR0

	// A GDT with a 64-bit code segment, built at run time because its
	// link-time address is virtual: null, code 0x08, data 0x10.
	LEAL	0x4000(BP), DI
	MOVL	$0x00209a00, 12(DI)
	MOVL	$0x00009200, 20(DI)
	MOVL	$23, 32(DI)		// pseudo-descriptor at DI+32: limit
	MOVL	DI, 34(DI)		// base
	LGDT	32(DI)

	// Far return into long<> at its physical address.
	CALL	getPC<>(SB)
	MOVL	$long<>(SB), BX
	ADDL	$6, AX
	ADDL	BX, AX
	PUSHQ	$0x08
	PUSHQ	AX
	RETFL

// getPC returns in AX the address of the instruction after the CALL.
TEXT getPC<>(SB),NOSPLIT|NOFRAME,$0
	POPQ	AX
	JMP	AX

// long<> runs in 64-bit mode at its physical address; jump to the
// kernel's virtual address through an absolute pointer.
TEXT long<>(SB),NOSPLIT|NOFRAME,$0
	MOVQ	highPtr<>(SB), AX
	JMP	AX

DATA	highPtr<>+0(SB)/8, $high<>(SB)
GLOBL	highPtr<>(SB), RODATA, $8

TEXT high<>(SB),NOSPLIT|NOFRAME,$0
	MOVL	$0x10, AX
	MOVW	AX, DS
	MOVW	AX, ES
	MOVW	AX, SS
	// Entry TSC from the scratch stack (still identity mapped).
	MOVL	SP, BX
	MOVL	0(BX), AX
	MOVL	4(BX), DX
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ·entryTSC(SB)
	MOVL	SI, SI			// zero-extend hvm_start_info

	// SSE before any Go code: the ABI wrappers clear X15 (Intel SDM Vol.
	// 3A 13.1.4: CR0.EM=0, CR0.MP=1, CR0.NE=1, CR4.OSFXSR|OSXMMEXCPT).
	MOVQ	CR0, AX
	ANDQ	$~0xc, AX		// EM, TS
	ORQ	$0x22, AX		// MP, NE
	MOVQ	AX, CR0
	MOVQ	CR4, AX
	ORQ	$0x600, AX
	MOVQ	AX, CR4

	// The boot g and TLS: Go code finds g at -8(FS).
	LEAQ	·bootStack(SB), AX
	MOVQ	AX, ·bootG+0(SB)	// stack.lo
	ADDQ	$2048, AX
	MOVQ	AX, ·bootG+16(SB)	// stackguard0
	MOVQ	AX, ·bootG+24(SB)	// stackguard1
	LEAQ	·bootStack+(64<<10)(SB), SP
	MOVQ	SP, ·bootG+8(SB)	// stack.hi
	LEAQ	·bootG(SB), AX
	MOVQ	AX, ·bootTLS+0(SB)
	LEAQ	·bootTLS+8(SB), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$MSR_FS_BASE, CX
	WRMSR

	SUBQ	$16, SP
	MOVQ	SI, 0(SP)
	CALL	·early(SB)
	// early never returns.
	HLT

// func rt0PC() uintptr
TEXT ·rt0PC(SB),NOSPLIT,$0-8
	LEAQ	_rt0_amd64_linux(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// func EntryPC() uintptr
TEXT ·EntryPC(SB),NOSPLIT,$0-8
	LEAQ	·pvhEntry(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
