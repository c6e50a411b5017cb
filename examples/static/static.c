/* static: a glibc static non-PIE program (ET_EXEC linked at 0x400000).
 * Tests loading an executable at its fixed link address. */
#include <stdio.h>

int main(void)
{
	printf("hello from a static binary\n");
	return 0;
}
