/* args: prints argc, each argv[i] as "argv[i]=..." on its own line, and
 * YOLK_TEST from the environment. Tests the initial stack the kernel builds
 * from its command line (init=, -- args, env.NAME=value). */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	const char *v = getenv("YOLK_TEST");

	printf("argc=%d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d]=%s\n", i, argv[i]);
	printf("YOLK_TEST=%s\n", v ? v : "(unset)");
	return 0;
}
