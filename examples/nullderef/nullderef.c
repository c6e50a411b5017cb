/* nullderef: prints "about to crash", then writes through a NULL pointer.
 * Tests the user page fault report ("segfault at 0 ... error 6") and the
 * exit status 139 (128 + SIGSEGV). */
#include <stdio.h>

int main(void)
{
	printf("about to crash\n");
	fflush(stdout);
	*(volatile int *)0 = 42;
	printf("still alive\n");
	return 0;
}
