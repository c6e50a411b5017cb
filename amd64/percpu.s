#include "textflag.h"
#include "go_asm.h"

// func This() *CPU
// GS base is the running CPU's block in ring 0, whose first word is its
// own address.
TEXT ·This(SB),NOSPLIT,$0-8
	MOVQ	CPU_self(GS), AX
	MOVQ	AX, ret+0(FP)
	RET
