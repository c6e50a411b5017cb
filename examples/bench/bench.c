/* bench: micro-benchmarks of what a program asks the kernel for. Prints
 * one line per benchmark, "bench NAME NS_PER_OP", for scripts/bench to
 * compare the same binary natively and under yolk. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long now(void)
{
	struct timespec ts;
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts); /* no vDSO: same path everywhere */
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void report(const char *name, long long ns, long n)
{
	printf("bench %s %.1f\n", name, (double)ns / n);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000;
	long long t;

	t = now();
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	report("getppid", now() - t, n);

	t = now();
	for (long i = 0; i < n; i++) {
		struct timespec ts;
		syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	}
	report("clock_gettime", now() - t, n);

	t = now();
	for (long i = 0; i < n; i++) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts); /* the vDSO, natively and under yolk */
	}
	report("clock_gettime_vdso", now() - t, n);

	long m = n / 10 + 1;
	t = now();
	for (long i = 0; i < m; i++) {
		void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		*(volatile char *)p = 1;
		munmap(p, 4096);
	}
	report("mmap+touch+munmap", now() - t, m);

	long pages = 4096; /* 16 MiB of first touches */
	char *mem = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	t = now();
	for (long i = 0; i < pages; i++)
		mem[i * 4096] = 1;
	report("page-fault", now() - t, pages);

	/* Console throughput: 1 MiB to stderr in 64 KiB writes (stdout
	 * carries the results). */
	static char buf[1 << 20];
	memset(buf, 'x', sizeof buf);
	for (size_t i = 79; i < sizeof buf; i += 80)
		buf[i] = '\n';
	int reps = 4;
	t = now();
	for (int r = 0; r < reps; r++)
		for (size_t off = 0; off < sizeof buf;) {
			ssize_t w = write(2, buf + off, 64 << 10);
			if (w <= 0)
				return 1;
			off += w;
		}
	report("stderr-write-1MiB", now() - t, reps);
	return 0;
}
