/*
 * prog: a small static test program for the elfload tests, with
 * initialized data, a large bss, TLS and read-only data.
 */
#include <stdio.h>
#include <string.h>

static char big[3 << 20];	/* bss spanning many pages */
int counter = 42;		/* .data */
__thread int tls = 7;		/* .tdata */
__thread char tbss[64];		/* .tbss */
const char msg[] = "hello from prog";	/* .rodata */

int main(int argc, char **argv) {
	big[argc] = 1;
	tbss[1] = (char)argc;
	printf("%s %d %d %d %zu\n", msg, counter, tls, big[1] + tbss[1],
	       strlen(argv[0]));
	return 0;
}
