/* vdso: the clock functions through the vDSO. Checks that it is there
 * (AT_SYSINFO_EHDR, /proc/self/maps), that a loop of clock_gettime calls
 * is monotonic and agrees with the clock_gettime system call, and prints
 * the cost of a call each way. Built for glibc and musl (static-PIE).
 * Usage: vdso [N [M]]   (N loop iterations, default 100000; M system
 * calls to compare with, default N/10+1) */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int failed;

#define CHECK(cond, ...)                                   \
	do {                                                   \
		if (!(cond)) {                                     \
			printf("vdso: FAIL " __VA_ARGS__);             \
			printf("\n");                                  \
			failed = 1;                                    \
		}                                                  \
	} while (0)

static long long ns(struct timespec ts) { return ts.tv_sec * 1000000000LL + ts.tv_nsec; }

static long long sys_clock(clockid_t c) {
	struct timespec ts;
	syscall(SYS_clock_gettime, c, &ts);
	return ns(ts);
}

static long long lib_clock(clockid_t c) {
	struct timespec ts;
	clock_gettime(c, &ts);
	return ns(ts);
}

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 100000;
	unsigned long ehdr = getauxval(AT_SYSINFO_EHDR);
	CHECK(ehdr != 0, "no AT_SYSINFO_EHDR");
	CHECK(ehdr == 0 || memcmp((void *)ehdr, "\177ELF", 4) == 0, "AT_SYSINFO_EHDR is not an ELF image");

	/* Agreement: the library's value lies between two system calls'
	 * (allowing 20 us: the two clocks are the same computation). */
	static const clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW,
	                                   CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME};
	for (unsigned i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
		long long a = sys_clock(clocks[i]), v = lib_clock(clocks[i]), b = sys_clock(clocks[i]);
		CHECK(v >= a - 20000 && v <= b + 20000, "clock %d: %lld not within [%lld, %lld]", clocks[i], v, a, b);
	}
	struct timeval tv;
	long long a = sys_clock(CLOCK_REALTIME) / 1000;
	gettimeofday(&tv, NULL);
	long long b = sys_clock(CLOCK_REALTIME) / 1000, v = tv.tv_sec * 1000000LL + tv.tv_usec;
	CHECK(v >= a - 20 && v <= b + 20, "gettimeofday %lld not within [%lld, %lld]", v, a, b);
	time_t t0 = time(NULL);
	CHECK(t0 >= a / 1000000 && t0 <= b / 1000000 + 1, "time %lld", (long long)t0);
	struct timespec res;
	CHECK(clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0, "clock_getres");
	unsigned cpu = 99, node = 99;
	/* The CPU running the thread: one of the machine's, node 0. */
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	CHECK(syscall(SYS_getcpu, &cpu, &node, NULL) == 0 && cpu < ncpu && node == 0, "getcpu: cpu %u node %u of %ld CPUs", cpu, node, ncpu);
	int here = sched_getcpu();
	CHECK(here >= 0 && here < ncpu, "sched_getcpu %d of %ld CPUs", here, ncpu);
	struct timespec cpu0;
	CHECK(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0) == 0, "CPU-time clock (the fallback)");
	CHECK(clock_gettime(12345, &cpu0) == -1, "an unknown clock succeeds");

	/* The loop: monotonic, and timed against the system call. */
	long long start = lib_clock(CLOCK_MONOTONIC), prev = start, backwards = 0;
	for (long i = 0; i < n; i++) {
		long long now = lib_clock(CLOCK_MONOTONIC);
		if (now < prev)
			backwards++;
		prev = now;
	}
	long long lib_ns = prev - start;
	CHECK(backwards == 0, "the monotonic clock went backwards %lld times", backwards);
	long m = argc > 2 ? atol(argv[2]) : n / 10 + 1;
	start = lib_clock(CLOCK_MONOTONIC);
	for (long i = 0; i < m; i++)
		sys_clock(CLOCK_MONOTONIC);
	long long sys_ns = lib_clock(CLOCK_MONOTONIC) - start;
	printf("vdso: clock_gettime %.1f ns/call, system call %.1f ns/call\n", (double)lib_ns / n, (double)sys_ns / m);

	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int seen = 0;
	while (f && fgets(line, sizeof line, f)) {
		if (strstr(line, "[vdso]") || strstr(line, "[vvar]")) {
			fputs(line, stdout);
			seen++;
		}
	}
	CHECK(seen == 2, "/proc/self/maps shows %d of [vdso] and [vvar]", seen);
	if (!failed)
		printf("vdso: OK\n");
	return failed;
}
