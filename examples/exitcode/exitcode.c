/* exitcode: exits with the status given as argv[1] (atoi; 0 without one).
 * Tests that the program's exit status reaches the host unchanged, through
 * the kernel's final report and qemu/run, for the whole 0-255 range. */
#include <stdlib.h>

int main(int argc, char **argv)
{
	return argc > 1 ? atoi(argv[1]) : 0;
}
