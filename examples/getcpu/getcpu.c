/* The Unikraft tutorial's missing-syscall program: it calls getcpu(2)
 * through syscall(2) and prints what it returned. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	unsigned int cpu = 99, node = 99;
	long ret;

	printf("Here we are in the binary, calling getcpu\n");
	ret = syscall(SYS_getcpu, &cpu, &node, NULL);
	printf("Getcpu returned: %ld\n", ret == 0 ? (long)cpu : ret);
	return 0;
}
