/* faults: raises the CPU exception named by argv[1] in the program:
 * pf (NULL write), ud (ud2), de (integer divide by zero), gp (hlt, a
 * privileged instruction), bp (int3). Each ends the program as on Linux:
 * a report and status 128+signal. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "pf";
	printf("raising %s\n", what);
	fflush(stdout);
	if (!strcmp(what, "pf"))
		*(int *volatile)0 = 1;
	else if (!strcmp(what, "ud"))
		__asm__ volatile("ud2");
	else if (!strcmp(what, "de"))
		__asm__ volatile("xor %%ecx, %%ecx; div %%ecx" ::: "eax", "ecx", "edx");
	else if (!strcmp(what, "gp"))
		__asm__ volatile("hlt");
	else if (!strcmp(what, "bp"))
		__asm__ volatile("int3");
	printf("still alive\n");
	return 0;
}
