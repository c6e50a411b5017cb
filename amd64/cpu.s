#include "textflag.h"

// func Inb(port uint16) uint8
// Clobbers DX, AX.
TEXT ·Inb(SB),NOSPLIT,$0-9
	MOVW	port+0(FP), DX
	XORQ	AX, AX
	INB
	MOVB	AX, ret+8(FP)
	RET

// func Outb(port uint16, val uint8)
// Clobbers DX, AX.
TEXT ·Outb(SB),NOSPLIT,$0-3
	MOVW	port+0(FP), DX
	MOVB	val+2(FP), AX
	OUTB
	RET

// func Inw(port uint16) uint16
TEXT ·Inw(SB),NOSPLIT,$0-10
	MOVW	port+0(FP), DX
	XORQ	AX, AX
	INW
	MOVW	AX, ret+8(FP)
	RET

// func Outw(port uint16, val uint16)
TEXT ·Outw(SB),NOSPLIT,$0-4
	MOVW	port+0(FP), DX
	MOVW	val+2(FP), AX
	OUTW
	RET

// func Outl(port uint16, val uint32)
TEXT ·Outl(SB),NOSPLIT,$0-8
	MOVW	port+0(FP), DX
	MOVL	val+4(FP), AX
	OUTL
	RET

// func ReadMSR(msr uint32) uint64
// Clobbers AX, CX, DX.
TEXT ·ReadMSR(SB),NOSPLIT,$0-16
	MOVL	msr+0(FP), CX
	RDMSR
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+8(FP)
	RET

// func WriteMSR(msr uint32, val uint64)
// Clobbers AX, CX, DX.
TEXT ·WriteMSR(SB),NOSPLIT,$0-16
	MOVL	msr+0(FP), CX
	MOVQ	val+8(FP), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	WRMSR
	RET

// func ReadCR0() uint64
TEXT ·ReadCR0(SB),NOSPLIT,$0-8
	MOVQ	CR0, AX
	MOVQ	AX, ret+0(FP)
	RET

// func WriteCR0(val uint64)
TEXT ·WriteCR0(SB),NOSPLIT,$0-8
	MOVQ	val+0(FP), AX
	MOVQ	AX, CR0
	RET

// func ReadCR2() uint64
TEXT ·ReadCR2(SB),NOSPLIT,$0-8
	MOVQ	CR2, AX
	MOVQ	AX, ret+0(FP)
	RET

// func ReadCR3() uint64
TEXT ·ReadCR3(SB),NOSPLIT,$0-8
	MOVQ	CR3, AX
	MOVQ	AX, ret+0(FP)
	RET

// func WriteCR3(val uint64)
TEXT ·WriteCR3(SB),NOSPLIT,$0-8
	MOVQ	val+0(FP), AX
	MOVQ	AX, CR3
	RET

// func WriteCR8(val uint64)
// CR8 is the local APIC's task priority (TPR bits 7:4), Intel SDM Vol. 3A
// 10.8.6.1.
TEXT ·WriteCR8(SB),NOSPLIT,$0-8
	MOVQ	val+0(FP), AX
	MOVQ	AX, CR8
	RET

// func ReadCR4() uint64
TEXT ·ReadCR4(SB),NOSPLIT,$0-8
	MOVQ	CR4, AX
	MOVQ	AX, ret+0(FP)
	RET

// func WriteCR4(val uint64)
TEXT ·WriteCR4(SB),NOSPLIT,$0-8
	MOVQ	val+0(FP), AX
	MOVQ	AX, CR4
	RET

// func XSETBV(val uint64)
// Clobbers AX, CX, DX.
TEXT ·XSETBV(SB),NOSPLIT,$0-8
	MOVQ	val+0(FP), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	XORL	CX, CX
	BYTE	$0x0f; BYTE $0x01; BYTE $0xd1	// XSETBV
	RET

// func CPUID(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
// Clobbers AX, BX, CX, DX.
TEXT ·CPUID(SB),NOSPLIT,$0-24
	MOVL	leaf+0(FP), AX
	MOVL	sub+4(FP), CX
	CPUID
	MOVL	AX, eax+8(FP)
	MOVL	BX, ebx+12(FP)
	MOVL	CX, ecx+16(FP)
	MOVL	DX, edx+20(FP)
	RET

// func RDTSC() uint64
// Clobbers AX, DX.
TEXT ·RDTSC(SB),NOSPLIT,$0-8
	RDTSC
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET

// func RDRAND() (val uint64, ok bool)
// Clobbers AX, BX.
TEXT ·RDRAND(SB),NOSPLIT,$0-9
	XORQ	AX, AX
	BYTE	$0x48; BYTE $0x0f; BYTE $0xc7; BYTE $0xf0	// RDRAND RAX
	SETCS	BX
	MOVQ	AX, val+0(FP)
	MOVB	BX, ok+8(FP)
	RET

// func INVLPG(va uintptr)
TEXT ·INVLPG(SB),NOSPLIT,$0-8
	MOVQ	va+0(FP), AX
	INVLPG	(AX)
	RET

// func Halt()
TEXT ·Halt(SB),NOSPLIT|NOFRAME,$0
	CLI
halt:
	HLT
	JMP	halt

// func lgdt(ptr uintptr, sel uint16)
// Reloads CS with a far return (Intel SDM Vol. 3A 3.4.3: CS cannot be
// written with MOV) and the data segments with sel+8. Clobbers AX, BX.
TEXT ·lgdt(SB),NOSPLIT,$0-10
	MOVQ	ptr+0(FP), AX
	LGDT	(AX)
	MOVWQZX	sel+8(FP), BX
	LEAQ	8(BX), AX
	MOVW	AX, DS
	MOVW	AX, ES
	MOVW	AX, SS
	// FS and GS are left alone: writing their selectors can clear the
	// FS base (in MSR_FS_BASE) that Go code finds g through.
	LEAQ	reloaded<>(SB), AX
	PUSHQ	BX
	PUSHQ	AX
	RETFQ

TEXT reloaded<>(SB),NOSPLIT|NOFRAME,$0
	RET

// func lidt(ptr uintptr)
TEXT ·lidt(SB),NOSPLIT,$0-8
	MOVQ	ptr+0(FP), AX
	LIDT	(AX)
	RET

// func ltr(sel uint16)
TEXT ·ltr(SB),NOSPLIT,$0-2
	MOVW	sel+0(FP), AX
	LTR	AX
	RET

// func IdleLoop()
TEXT ·IdleLoop(SB),NOSPLIT|NOFRAME,$0
idle:
	STI
	HLT
	JMP	idle

// func ImageBounds() (etext, erodata, end uint64)
TEXT ·ImageBounds(SB),NOSPLIT,$0-24
	LEAQ	runtime·etext(SB), AX
	MOVQ	AX, etext+0(FP)
	LEAQ	runtime·epclntab(SB), AX
	MOVQ	AX, erodata+8(FP)
	LEAQ	runtime·end(SB), AX
	MOVQ	AX, end+16(FP)
	RET

// func IdlePC() uint64
TEXT ·IdlePC(SB),NOSPLIT,$0-8
	LEAQ	·IdleLoop(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// func UD2()
TEXT ·UD2(SB),NOSPLIT,$0
	UD2
	RET

// func IRQSave() (flags uint64)
// Returns RFLAGS and clears IF: a critical section against interrupt
// handlers on this CPU (the kernel's own code runs in ring 0).
TEXT ·IRQSave(SB),NOSPLIT,$0-8
	PUSHFQ
	POPQ AX
	CLI
	MOVQ AX, flags+0(FP)
	RET

// func IRQRestore(flags uint64)
// Sets IF again if flags (from IRQSave) had it.
TEXT ·IRQRestore(SB),NOSPLIT,$0-8
	MOVQ flags+0(FP), AX
	BTQ $9, AX // RFLAGS.IF
	JCC done
	STI
done:
	RET

// func Pause()
// A spin-wait hint (PAUSE).
TEXT ·Pause(SB),NOSPLIT,$0
	PAUSE
	RET
