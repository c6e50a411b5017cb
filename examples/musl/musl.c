/* musl: a C program linked against musl as a true static-PIE (ET_DYN, no
 * PT_INTERP, no DT_NEEDED), using musl.specs in this directory: Debian's
 * musl-gcc wrapper makes a dynamic PIE from -static-pie. Tests musl's
 * self-relocating start-up (rcrt1.o) and its syscall usage. */
#include <stdio.h>

int main(void)
{
	printf("hello from musl\n");
	return 0;
}
