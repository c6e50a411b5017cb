/* kernelwrite: prints "writing to the kernel", then writes to the kernel
 * image at 0xffffffff80200000. The page is present but supervisor-only, so
 * the program must die with SIGSEGV (status 139) and never print
 * "kernel write succeeded". */
#include <stdio.h>

int main(void)
{
	printf("writing to the kernel\n");
	fflush(stdout);
	*(volatile unsigned long *)0xffffffff80200000UL = 0xdeadbeef;
	printf("kernel write succeeded\n");
	return 0;
}
