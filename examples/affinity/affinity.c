/* What a program sees of the CPUs: how many there are (glibc's
 * get_nprocs reads /sys/devices/system/cpu/online, sysconf and
 * sched_getaffinity), and whether sched_setaffinity keeps a thread on the
 * CPU it names: one thread pinned to each CPU works and yields many
 * times, asking sched_getcpu (the vDSO) and getcpu (the system call)
 * where it runs; every answer must be its CPU. A mask with no CPU the
 * machine has is EINVAL. Prints one line per check and exits 0 when all
 * pass. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#define ROUNDS 200

struct pinned {
	int cpu;
	int err;            /* pthread_setaffinity_np's result */
	int vdso_ok, sys_ok; /* answers naming the CPU */
	int other;          /* a wrong answer, or -1 */
};

static void *run(void *arg)
{
	struct pinned *p = arg;
	cpu_set_t set;
	volatile unsigned long sink = 0;

	CPU_ZERO(&set);
	CPU_SET(p->cpu, &set);
	p->err = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
	p->other = -1;
	for (int i = 0; i < ROUNDS && p->err == 0; i++) {
		for (int k = 0; k < 20000; k++)
			sink += k;
		int c = sched_getcpu();
		if (c == p->cpu)
			p->vdso_ok++;
		else
			p->other = c;
		unsigned cpu = 999, node = 999;
		if (syscall(SYS_getcpu, &cpu, &node, NULL) == 0 && (int)cpu == p->cpu && node == 0)
			p->sys_ok++;
		else
			p->other = (int)cpu;
		sched_yield();
	}
	return NULL;
}

int main(void)
{
	int fails = 0;
	int n = get_nprocs();
	long conf = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof set, &set) != 0) {
		printf("sched_getaffinity: %s\n", strerror(errno));
		return 1;
	}
	printf("affinity: %d CPUs online (get_nprocs), sysconf %ld, %d in the mask\n", n, conf, CPU_COUNT(&set));
	if (conf != n || CPU_COUNT(&set) != n)
		fails++;

	struct pinned p[64];
	pthread_t th[64];
	if (n > 64)
		n = 64;
	for (int c = 0; c < n; c++) {
		memset(&p[c], 0, sizeof p[c]);
		p[c].cpu = c;
		pthread_create(&th[c], NULL, run, &p[c]);
	}
	for (int c = 0; c < n; c++) {
		pthread_join(th[c], NULL);
		printf("affinity: thread pinned to CPU %d: setaffinity %d, sched_getcpu right %d of %d, getcpu right %d of %d",
		       c, p[c].err, p[c].vdso_ok, ROUNDS, p[c].sys_ok, ROUNDS);
		if (p[c].other >= 0)
			printf(" (saw CPU %d)", p[c].other);
		printf("\n");
		if (p[c].err != 0 || p[c].vdso_ok != ROUNDS || p[c].sys_ok != ROUNDS)
			fails++;
	}

	/* The main thread moves to the last CPU and back to any. */
	CPU_ZERO(&set);
	CPU_SET(n - 1, &set);
	int moved = sched_setaffinity(0, sizeof set, &set) == 0 && sched_getcpu() == n - 1;
	cpu_set_t got;
	int same = sched_getaffinity(0, sizeof got, &got) == 0 && CPU_EQUAL(&got, &set);
	printf("affinity: main thread on CPU %d: %s, mask read back: %s\n", n - 1, moved ? "yes" : "no", same ? "yes" : "no");
	if (!moved || !same)
		fails++;

	/* No CPU the machine has: EINVAL, and the mask stays. */
	CPU_ZERO(&set);
	CPU_SET(n, &set);
	errno = 0;
	int r = sched_setaffinity(0, sizeof set, &set);
	printf("affinity: mask of CPU %d only: %d %s\n", n, r, r == 0 ? "accepted" : strerror(errno));
	if (r != -1 || errno != EINVAL)
		fails++;

	printf("affinity: %s\n", fails ? "FAILED" : "all passed");
	return fails != 0;
}
