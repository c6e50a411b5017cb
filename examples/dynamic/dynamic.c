/* dynamic: an ordinary dynamically linked PIE (plain gcc). The kernel has
 * no dynamic linker and must refuse it with exit status 126, naming the
 * interpreter it would need. */
#include <stdio.h>

int main(void)
{
	printf("hello from a dynamic binary\n");
	return 0;
}
