#include "textflag.h"
#include "go_asm.h"

// apEntry is where the trampoline (smp.go) jumps in 64-bit mode, on its
// own page tables, with interrupts off, RSP at the CPU's trap stack and
// RDI at its CPU block. It loads the kernel's page tables, enables SSE as
// boot/entry.s does (Intel SDM Vol. 3A 13.1.4), points GS at the CPU
// block and FS at its trap g, and calls apStart, which never returns.
TEXT ·apEntry(SB),NOSPLIT|NOFRAME,$0
	MOVQ	·apCR3(SB), AX
	MOVQ	AX, CR3
	MOVQ	CR0, AX
	ANDQ	$~0xc, AX		// EM, TS
	ORQ	$0x22, AX		// MP, NE
	MOVQ	AX, CR0
	MOVQ	CR4, AX
	ORQ	$0x600, AX		// OSFXSR, OSXMMEXCPT
	MOVQ	AX, CR4
	MOVL	$const_MSR_GS_BASE, CX
	MOVQ	DI, AX
	MOVQ	DI, DX
	SHRQ	$32, DX
	WRMSR
	MOVL	$const_MSR_KERNEL_GS_BASE, CX
	XORL	AX, AX
	XORL	DX, DX
	WRMSR
	MOVQ	CPU_trapFSBase(DI), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$const_MSR_FS_BASE, CX
	WRMSR
	CALL	·apStart(SB)
	JMP	·Halt(SB)

// func apEntryPC() uint64
TEXT ·apEntryPC(SB),NOSPLIT,$0-8
	LEAQ	·apEntry(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
