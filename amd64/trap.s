#include "textflag.h"
#include "go_asm.h"

// SAVE_GPRS stores every general register but RAX into the Context at AX.
#define SAVE_GPRS \
	MOVQ	BX, (Context_Regs+Frame_RBX)(AX); \
	MOVQ	CX, (Context_Regs+Frame_RCX)(AX); \
	MOVQ	DX, (Context_Regs+Frame_RDX)(AX); \
	MOVQ	SI, (Context_Regs+Frame_RSI)(AX); \
	MOVQ	DI, (Context_Regs+Frame_RDI)(AX); \
	MOVQ	BP, (Context_Regs+Frame_RBP)(AX); \
	MOVQ	R8, (Context_Regs+Frame_R8)(AX); \
	MOVQ	R9, (Context_Regs+Frame_R9)(AX); \
	MOVQ	R10, (Context_Regs+Frame_R10)(AX); \
	MOVQ	R11, (Context_Regs+Frame_R11)(AX); \
	MOVQ	R12, (Context_Regs+Frame_R12)(AX); \
	MOVQ	R13, (Context_Regs+Frame_R13)(AX); \
	MOVQ	R14, (Context_Regs+Frame_R14)(AX); \
	MOVQ	R15, (Context_Regs+Frame_R15)(AX)

// LOAD_GPRS loads every general register but RSI and RSP from the
// Context at SI (SAVE_GPRS's other half; SI goes last, by the caller).
#define LOAD_GPRS \
	MOVQ	(Context_Regs+Frame_RAX)(SI), AX; \
	MOVQ	(Context_Regs+Frame_RBX)(SI), BX; \
	MOVQ	(Context_Regs+Frame_RCX)(SI), CX; \
	MOVQ	(Context_Regs+Frame_RDX)(SI), DX; \
	MOVQ	(Context_Regs+Frame_RDI)(SI), DI; \
	MOVQ	(Context_Regs+Frame_RBP)(SI), BP; \
	MOVQ	(Context_Regs+Frame_R8)(SI), R8; \
	MOVQ	(Context_Regs+Frame_R9)(SI), R9; \
	MOVQ	(Context_Regs+Frame_R10)(SI), R10; \
	MOVQ	(Context_Regs+Frame_R11)(SI), R11; \
	MOVQ	(Context_Regs+Frame_R12)(SI), R12; \
	MOVQ	(Context_Regs+Frame_R13)(SI), R13; \
	MOVQ	(Context_Regs+Frame_R14)(SI), R14; \
	MOVQ	(Context_Regs+Frame_R15)(SI), R15

// SAVE_XMM stores XMM0-15 and MXCSR where FXSAVE and XSAVE keep them,
// at byte 160 and byte 24 of the legacy region at off(base): all of the
// vector state the kernel's own Go code uses (legacy SSE only, never
// x87, MMX or VEX forms, so it leaves every other register of the vector
// unit as the program left it; see xsave.go).
#define SAVE_XMM(off, base) \
	MOVUPS	X0, (off+160)(base); \
	MOVUPS	X1, (off+176)(base); \
	MOVUPS	X2, (off+192)(base); \
	MOVUPS	X3, (off+208)(base); \
	MOVUPS	X4, (off+224)(base); \
	MOVUPS	X5, (off+240)(base); \
	MOVUPS	X6, (off+256)(base); \
	MOVUPS	X7, (off+272)(base); \
	MOVUPS	X8, (off+288)(base); \
	MOVUPS	X9, (off+304)(base); \
	MOVUPS	X10, (off+320)(base); \
	MOVUPS	X11, (off+336)(base); \
	MOVUPS	X12, (off+352)(base); \
	MOVUPS	X13, (off+368)(base); \
	MOVUPS	X14, (off+384)(base); \
	MOVUPS	X15, (off+400)(base); \
	STMXCSR	(off+24)(base)

// LOAD_XMM is SAVE_XMM's other half.
#define LOAD_XMM(off, base) \
	MOVUPS	(off+160)(base), X0; \
	MOVUPS	(off+176)(base), X1; \
	MOVUPS	(off+192)(base), X2; \
	MOVUPS	(off+208)(base), X3; \
	MOVUPS	(off+224)(base), X4; \
	MOVUPS	(off+240)(base), X5; \
	MOVUPS	(off+256)(base), X6; \
	MOVUPS	(off+272)(base), X7; \
	MOVUPS	(off+288)(base), X8; \
	MOVUPS	(off+304)(base), X9; \
	MOVUPS	(off+320)(base), X10; \
	MOVUPS	(off+336)(base), X11; \
	MOVUPS	(off+352)(base), X12; \
	MOVUPS	(off+368)(base), X13; \
	MOVUPS	(off+384)(base), X14; \
	MOVUPS	(off+400)(base), X15; \
	LDMXCSR	(off+24)(base)

// trapCommon is where every vector stub jumps, on IST1 or IST2 with
// interrupts disabled. The stack holds: vector, error code, RIP, CS,
// RFLAGS, RSP, SS.
//
// GS base is this CPU's block (CPU) in ring 0 and the program's own in
// ring 3: an entry from ring 3 (the CS the CPU pushed says so) exchanges
// them with SWAPGS before anything else, and every return to ring 3
// exchanges them back last. (An NMI or machine check between that last
// SWAPGS and the SYSRET or IRETQ would see the program's GS in ring 0;
// both are fatal here anyway.)
TEXT ·trapCommon(SB),NOSPLIT|NOFRAME,$0
	TESTQ	$3, 24(SP)
	JEQ	fromKernel
	SWAPGS
fromKernel:
	CMPQ	CPU_trapDepth(GS), $0
	JNE	nestedFault
	PUSHQ	AX
	MOVQ	CPU_current(GS), AX
	SAVE_GPRS
	POPQ	BX
	MOVQ	BX, (Context_Regs+Frame_RAX)(AX)
	POPQ	BX
	MOVQ	BX, (Context_Regs+Frame_Vector)(AX)
	POPQ	BX
	MOVQ	BX, (Context_Regs+Frame_ErrorCode)(AX)
	POPQ	BX
	MOVQ	BX, (Context_Regs+Frame_RIP)(AX)
	POPQ	BX
	MOVQ	BX, (Context_Regs+Frame_CS)(AX)
	POPQ	BX
	MOVQ	BX, (Context_Regs+Frame_RFLAGS)(AX)
	POPQ	BX
	MOVQ	BX, (Context_Regs+Frame_RSP)(AX)
	POPQ	BX
	MOVQ	BX, (Context_Regs+Frame_SS)(AX)
	JMP	saved<>(SB)

nestedFault:
	CMPQ	CPU_inNested(GS), $0
	JNE	faultDead		// a fault while reporting a fault
	MOVQ	$1, CPU_inNested(GS)
	MOVQ	AX, CPU_nestedRAX(GS)
	MOVQ	SP, CPU_nestedSP(GS)
	MOVQ	CPU_emergencyTop(GS), SP
	JMP	callNested<>(SB)
faultDead:
	JMP	dead<>(SB)

// syscallEntry is programmed into MSR_LSTAR. SYSCALL put the return RIP in
// RCX and RFLAGS in R11, masked IF through MSR_FMASK, and did not switch
// stacks: RSP is still the caller's, which may be a ring-3 stack with a
// red zone below it, so nothing is pushed until the stack is switched.
// CS and SS are not saved by SYSCALL; the Go handler fills them in.
//
// The kernel's own runtime makes its system calls with SYSCALL too, so
// the entry first tells the rings apart, before touching memory: RCX,
// the return RIP, is in the upper half for the kernel's code and in the
// lower half for a program's (ring 3 can run nothing else). A program's
// GS base is its own, so SWAPGS brings this CPU's block.
TEXT ·syscallEntry(SB),NOSPLIT|NOFRAME,$0
	BTQ	$63, CX
	JCS	fromKernelSys
	SWAPGS
fromKernelSys:
	CMPQ	CPU_trapDepth(GS), $0
	JNE	nestedSyscall
	MOVQ	AX, CPU_scratch(GS)
	MOVQ	CPU_current(GS), AX
	// A ring-3 caller (the current Context is a program's) asking for
	// a call listed in Context.Fast gets its answer in RAX at once.
	// RCX and R11 still hold the return RIP and RFLAGS for SYSRET;
	// RBX and RDX are spilled to the CPU block, never to the caller's
	// stack.
	CMPQ	(Context_Regs+Frame_CS)(AX), $const_UserCS
	JNE	slowSyscall
	MOVQ	BX, CPU_scratch2(GS)
	MOVQ	DX, CPU_scratch3(GS)
	MOVQ	CPU_scratch(GS), BX
	MOVQ	(Context_Fast+FastCalls_N)(AX), DX
	CMPQ	DX, $const_MaxFastCalls
	JHI	notFast
	CMPQ	BX, $255
	JHI	notFast
	BTQ	BX, (Context_Fast+FastCalls_Mask)(AX) // bit BX of Mask's 256
	JCC	notFast
fastLoop:
	DECQ	DX
	JLT	notFast
	CMPQ	(Context_Fast+FastCalls_Nr)(AX)(DX*8), BX
	JNE	fastLoop
	MOVQ	(Context_Fast+FastCalls_Ret)(AX)(DX*8), AX
	MOVQ	CPU_scratch2(GS), BX
	MOVQ	CPU_scratch3(GS), DX
	INCQ	CPU_fastSyscalls(GS)
	SWAPGS
	// SYSRETQ (REX.W 0F 07): RIP from RCX, RFLAGS from R11, CS and SS
	// from STAR (Intel SDM Vol. 3A 5.8.8). RCX is the caller's own
	// return address, canonical: programs live below UserHi.
	BYTE	$0x48; BYTE $0x0f; BYTE $0x07
notFast:
	MOVQ	CPU_scratch2(GS), BX
	MOVQ	CPU_scratch3(GS), DX
slowSyscall:
	SAVE_GPRS
	MOVQ	SP, (Context_Regs+Frame_RSP)(AX)
	MOVQ	CX, (Context_Regs+Frame_RIP)(AX)
	MOVQ	R11, (Context_Regs+Frame_RFLAGS)(AX)
	MOVQ	CPU_scratch(GS), BX
	MOVQ	BX, (Context_Regs+Frame_RAX)(AX)
	MOVQ	$const_VecSyscall, (Context_Regs+Frame_Vector)(AX)
	MOVQ	$0, (Context_Regs+Frame_ErrorCode)(AX)
	CMPQ	(Context_Regs+Frame_CS)(AX), $const_UserCS
	JNE	kernelCaller
	JMP	saved<>(SB)
kernelCaller:
	// The kernel's own Go code called: it keeps nothing in vector
	// registers across a system call, so FX is not saved (see
	// Context.FXUnsaved).
	MOVQ	$1, Context_FXUnsaved(AX)
	JMP	handle<>(SB)

nestedSyscall:
	// The trap handler executed SYSCALL: a kernel bug. Report it like a
	// fault with vector VecSyscall and RIP in RCX.
	CMPQ	CPU_inNested(GS), $0
	JNE	syscallDead
	MOVQ	$1, CPU_inNested(GS)
	MOVQ	AX, CPU_nestedRAX(GS)
	MOVQ	CPU_emergencyTop(GS), SP
	PUSHQ	$0		// SS
	PUSHQ	$0		// RSP
	PUSHQ	R11		// RFLAGS
	PUSHQ	$const_KernelCS
	PUSHQ	CX		// RIP
	PUSHQ	$0		// error code
	PUSHQ	$const_VecSyscall
	MOVQ	SP, CPU_nestedSP(GS)
	JMP	callNested<>(SB)
syscallDead:
	JMP	dead<>(SB)

// saved: the Context at AX holds the general registers and the frame;
// now its vector state. The kernel's own code (entered from ring 0) uses
// only XMM0-15 and MXCSR, so those are all it saves. A program with an
// XSAVE area gets the same into the area's legacy region, and the rest of
// its vector state (x87, the upper halves of the YMM and ZMM registers,
// opmasks) stays in the CPU, which the kernel does not change: the CPU
// block's fpuOwner names it, and resume saves it whole only when another
// program's state is to be loaded (or unloadFPU, when Go code reads or
// changes it; see xsave.go). Under TCG a full XSAVE or XRSTOR costs about
// a microsecond; the XMM registers a few dozen ordinary loads and stores.
TEXT saved<>(SB),NOSPLIT|NOFRAME,$0
	MOVQ	$0, Context_FXUnsaved(AX)
	// With CR4.FSGSBASE a program may have changed its FS and GS base
	// itself: save both (its GS base is in MSR_KERNEL_GS_BASE since the
	// entry's SWAPGS; interrupts are off while the pair of SWAPGS below
	// borrows it). Without it they are what the kernel last loaded.
	CMPB	·fsgsbase(SB), $0
	JEQ	vector
	CMPQ	(Context_Regs+Frame_CS)(AX), $const_UserCS
	JNE	vector
	RDFSBASEQ	BX
	MOVQ	BX, Context_FSBase(AX)
	SWAPGS
	RDGSBASEQ	BX
	SWAPGS
	MOVQ	BX, Context_GSBase(AX)
vector:
	MOVQ	Context_XArea(AX), BX
	TESTQ	BX, BX
	JNE	xsave
	CMPQ	(Context_Regs+Frame_CS)(AX), $const_UserCS
	JEQ	fxProgram
	SAVE_XMM(Context_FX, AX)
	JMP	handle<>(SB)
fxProgram:
	// A program without an XSAVE area (the CPU has no XSAVE): its
	// whole FXSAVE image, every time.
	FXSAVE64	Context_FX(AX)
	LDMXCSR	·defaultMXCSR(SB)
	JMP	handle<>(SB)
xsave:
	// The program is this CPU's fpuOwner since resume loaded it.
	SAVE_XMM(0, BX)
	// The kernel's code runs with the MXCSR it expects (exceptions
	// masked), not the program's.
	LDMXCSR	·defaultMXCSR(SB)
	JMP	handle<>(SB)

// handle runs the Go trap handler on the trap stack, then resumes
// whichever Context it made current.
TEXT handle<>(SB),NOSPLIT|NOFRAME,$0
	MOVQ	$1, CPU_trapDepth(GS)
	MOVQ	CPU_trapStackTop(GS), SP
	// FS base -> trap TLS, so Go finds the trap g (clobbers AX, CX, DX).
	MOVQ	CPU_trapFSBase(GS), AX
	CMPB	·fsgsbase(SB), $0
	JEQ	handleMSR
	WRFSBASEQ	AX
	CALL	·dispatch(SB)
	JMP	·resume(SB)
handleMSR:
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$const_MSR_FS_BASE, CX
	WRMSR
	CALL	·dispatch(SB)
	JMP	·resume(SB)

TEXT callNested<>(SB),NOSPLIT|NOFRAME,$0
	MOVQ	CPU_emergFSBase(GS), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$const_MSR_FS_BASE, CX
	WRMSR
	CALL	·nested(SB)
	JMP	·Halt(SB)

// func resume()
// Restores the Context named by CPU.current and returns into it with IRETQ,
// to ring 0 or ring 3 alike, or with SYSRET to ring 3 after a system
// call. Runs with interrupts disabled; the IRETQ frame is built on the
// trap stack.
TEXT ·resume(SB),NOSPLIT|NOFRAME,$0
	MOVQ	CPU_current(GS), SI
	CMPQ	Context_FXUnsaved(SI), $0
	JNE	cleanFX
	MOVQ	Context_XArea(SI), BX
	TESTQ	BX, BX
	JNE	xrstor
	CMPQ	(Context_Regs+Frame_CS)(SI), $const_UserCS
	JEQ	fxrstor
	LOAD_XMM(Context_FX, SI)
	JMP	fsBase
fxrstor:
	FXRSTOR64	Context_FX(SI)
	JMP	fsBase
xrstor:
	CMPQ	CPU_fpuOwner(GS), SI
	JNE	switchX
	// The CPU still holds the rest of this program's vector state.
	LOAD_XMM(0, BX)
	JMP	fsBase
switchX:
	// Another program's state (or none) is in the CPU: save it whole
	// into its own area, then load this one's.
	MOVQ	CPU_fpuOwner(GS), DI
	TESTQ	DI, DI
	JEQ	loadX
	MOVQ	$0, Context_FPULive(DI)
	MOVQ	Context_XArea(DI), DI
	LOAD_XMM(0, DI)
	MOVL	$-1, AX
	MOVL	$-1, DX
	CMPB	·xsaveOpt(SB), $0
	JEQ	plainXSave
	XSAVEOPT64	(DI)
	JMP	loadX
plainXSave:
	XSAVE64	(DI)
loadX:
	MOVL	$-1, AX
	MOVL	$-1, DX
	XRSTOR64	(BX)
	MOVQ	SI, CPU_fpuOwner(GS)
	MOVQ	CPU_Index(GS), AX
	INCQ	AX
	MOVQ	AX, Context_FPULive(SI)
	JMP	fsBase
cleanFX:
	LDMXCSR	·defaultMXCSR(SB)
	XORPS	X15, X15
fsBase:
	MOVQ	Context_FSBase(SI), AX
	CMPB	·fsgsbase(SB), $0
	JEQ	fsMSR
	WRFSBASEQ	AX
	JMP	fsDone
fsMSR:
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$const_MSR_FS_BASE, CX
	WRMSR
fsDone:
	MOVQ	CPU_trapStackTop(GS), SP
	// SYSRET returns to ring 3 for less than IRETQ when it gives the
	// same state: CS and SS the user selectors, RCX and R11 the RIP and
	// RFLAGS it loads (as SYSCALL left them, unless the kernel changed
	// the registers), RF clear (SYSRET clears it) and RIP in the lower
	// half (Intel's SYSRET faults in ring 0 on a non-canonical RIP).
	CMPQ	(Context_Regs+Frame_CS)(SI), $const_UserCS
	JNE	iret
	CMPQ	(Context_Regs+Frame_SS)(SI), $const_UserDS
	JNE	iret
	MOVQ	(Context_Regs+Frame_RIP)(SI), AX
	CMPQ	AX, (Context_Regs+Frame_RCX)(SI)
	JNE	iret
	SHRQ	$47, AX
	JNE	iret
	MOVQ	(Context_Regs+Frame_RFLAGS)(SI), AX
	CMPQ	AX, (Context_Regs+Frame_R11)(SI)
	JNE	iret
	TESTQ	$const_RFLAGS_RF, AX
	JNE	iret
	MOVQ	$0, CPU_trapDepth(GS)
	LOAD_GPRS
	CMPB	·fsgsbase(SB), $0
	JNE	sysretGS
	// The program's stack from here on: interrupts stay off until
	// SYSRET loads RFLAGS.
	MOVQ	(Context_Regs+Frame_RSP)(SI), SP
	MOVQ	(Context_Regs+Frame_RSI)(SI), SI
	SWAPGS
	BYTE	$0x48; BYTE $0x0f; BYTE $0x07 // SYSRETQ
sysretGS:
	// The program's own GS base goes in after the last SWAPGS, which
	// leaves the CPU block in MSR_KERNEL_GS_BASE; its RSP and RSI wait
	// on the trap stack meanwhile, as no register is free.
	PUSHQ	(Context_Regs+Frame_RSP)(SI)
	PUSHQ	(Context_Regs+Frame_RSI)(SI)
	MOVQ	Context_GSBase(SI), SI
	SWAPGS
	WRGSBASEQ	SI
	POPQ	SI
	POPQ	SP
	BYTE	$0x48; BYTE $0x0f; BYTE $0x07 // SYSRETQ
iret:
	PUSHQ	(Context_Regs+Frame_SS)(SI)
	PUSHQ	(Context_Regs+Frame_RSP)(SI)
	PUSHQ	(Context_Regs+Frame_RFLAGS)(SI)
	PUSHQ	(Context_Regs+Frame_CS)(SI)
	PUSHQ	(Context_Regs+Frame_RIP)(SI)
	MOVQ	$0, CPU_trapDepth(GS)
	TESTQ	$3, (Context_Regs+Frame_CS)(SI)
	JEQ	iretKernel
	LOAD_GPRS
	CMPB	·fsgsbase(SB), $0
	JNE	iretGS
	MOVQ	(Context_Regs+Frame_RSI)(SI), SI
	SWAPGS
	IRETQ
iretGS:
	// As for SYSRET: the program's GS base after the last SWAPGS.
	PUSHQ	(Context_Regs+Frame_RSI)(SI)
	MOVQ	Context_GSBase(SI), SI
	SWAPGS
	WRGSBASEQ	SI
	POPQ	SI
	IRETQ
iretKernel:
	LOAD_GPRS
	MOVQ	(Context_Regs+Frame_RSI)(SI), SI
	IRETQ

// func syscallEntryPC() uint64
TEXT ·syscallEntryPC(SB),NOSPLIT,$0-8
	LEAQ	·syscallEntry(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// dead<> ends the machine when even fault reporting faults: status 112
// to isa-debug-exit (where QEMU has one), then halt for good.
TEXT dead<>(SB),NOSPLIT|NOFRAME,$0
	MOVL	$0xf4, DX
	MOVL	$112, AX
	OUTL
	JMP	·Halt(SB)

// func unloadFPU(c uintptr)
// If this CPU holds the vector state of the program Context at c (it is
// fpuOwner), saves it whole into c's XSAVE area and forgets it, so that
// the area says everything and changes made to it take effect at the
// next resume. Interrupts are off meanwhile: the trap path also moves the
// state. The caller's own XMM registers are Go's to lose across a call;
// X15 (zero) and MXCSR (the default) are put back as Go expects them.
TEXT ·unloadFPU(SB),NOSPLIT,$0-8
	MOVQ	c+0(FP), SI
	PUSHFQ
	CLI
	CMPQ	CPU_fpuOwner(GS), SI
	JNE	notOwner
	MOVQ	$0, CPU_fpuOwner(GS)
	MOVQ	$0, Context_FPULive(SI)
	MOVQ	Context_XArea(SI), BX
	LOAD_XMM(0, BX)
	MOVL	$-1, AX
	MOVL	$-1, DX
	XSAVE64	(BX)
	LDMXCSR	·defaultMXCSR(SB)
	XORPS	X15, X15
notOwner:
	POPFQ
	RET
