// fastpath: checks of the system calls yolk answers without its syscall
// shim, one per argument (tests/processes_test.go runs each under yolk
// and compares the output with Linux's): reads and writes of /dev/zero
// and /dev/null, and programs' own FS and GS base (FSGSBASE).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <asm/prctl.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
	printf("FAIL %s: %s\n", what, strerror(errno));
	exit(1);
}

// devices: read and write on /dev/zero and /dev/null, which yolk answers
// in its trap handler once a descriptor has been used (the first call
// lists it), give Linux's results whatever becomes of the descriptor:
// access modes, a buffer that cannot be stored to, long reads, a dup2
// over it, a close by another thread while it reads, a close, a fork.
static int devFD = -1;
static volatile long devZeros;
static void *devReader(void *arg) {
	char c = 0;
	for (;;) {
		long r = read(devFD, &c, 1);
		if (r != 1 || c != 0) {
			long next = read(devFD, &c, 1);
			printf("reader thread: after zeros, %ld '%c', then %ld\n", r, r == 1 ? c : '-', next);
			return 0;
		}
		devZeros++;
	}
}

static int devChecks(void) {
	int z = open("/dev/zero", O_RDONLY), nul = open("/dev/null", O_RDWR), zw = open("/dev/zero", O_WRONLY);
	static char buf[8192];
	void *volatile unmapped = (void *)16;
	for (int i = 0; i < 3; i++) { // the same calls again, listed the second time
		memset(buf, 'x', sizeof buf);
		long a = read(z, buf, 100), b = read(nul, buf + 200, 100), c = write(nul, buf, 5),
		     d = write(nul, unmapped, 7), e = write(zw, buf, 3), f = read(z, buf, 0);
		errno = 0;
		long g = read(zw, buf, 1);
		int ge = errno;
		errno = 0;
		long h = write(z, buf, 1);
		int he = errno;
		int zeros = 0;
		for (int k = 0; k < 100; k++)
			zeros += buf[k] == 0;
		printf("round %d: read zero %ld (%d zeros, then '%c'), null %ld ('%c'); write null %ld, unmapped %ld, "
		       "zero %ld; read 0 bytes %ld; read write-only %ld %s; write read-only %ld %s\n",
		       i, a, zeros, buf[100], b, buf[200], c, d, e, f, g, strerror(ge), h, strerror(he));
	}
	memset(buf, 'x', sizeof buf);
	long big = read(z, buf, sizeof buf);
	int zeros = 0;
	for (int k = 0; k < (int)sizeof buf; k++)
		zeros += buf[k] == 0;
	printf("read %ld bytes: %d zeros\n", big, zeros);
	char *page = mmap(0, 8192, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	errno = 0;
	long r = read(z, page, 10);
	printf("into a read-only page: %ld %s\n", r, strerror(errno));
	mprotect(page + 4096, 4096, PROT_READ | PROT_WRITE);
	page[4096] = 'x';
	r = read(z, page + 4096 - 5, 10);
	printf("read-only then writable: %ld %s\n", r, r < 0 ? strerror(errno) : "");
	munmap(page, 8192);
	errno = 0;
	r = read(z, page + 4096, 10);
	printf("unmapped: %ld %s\n", r, strerror(errno));

	int p[2];
	if (pipe(p) < 0)
		die("pipe");
	write(p[1], "hi", 2);
	dup2(p[0], z);
	memset(buf, 0, 8);
	r = read(z, buf, 10);
	printf("dup2 of a pipe over it: %ld %s\n", r, buf);
	close(z);
	errno = 0;
	r = read(z, buf, 1);
	printf("closed: %ld %s\n", r, strerror(errno));

	pid_t c = fork();
	if (c == 0) {
		memset(buf, 'x', 4);
		long a = read(nul, buf, 4), b = write(nul, buf, 4);
		close(nul);
		errno = 0;
		long d = write(nul, buf, 4);
		_exit(a == 0 && b == 4 && d == -1 && errno == EBADF ? 0 : 1);
	}
	int st;
	waitpid(c, &st, 0);
	printf("child: %s; parent's still open: %ld\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "right" : "wrong",
	       (long)write(nul, buf, 4));

	// Another thread reads zeros until this one puts a pipe holding 'Z'
	// at the descriptor, then closes it.
	devFD = open("/dev/zero", O_RDONLY);
	pthread_t th;
	pthread_create(&th, 0, devReader, 0);
	while (devZeros < 1000)
		sched_yield();
	int q[2];
	if (pipe(q) < 0)
		die("pipe");
	write(q[1], "Z", 1);
	dup2(q[0], devFD);
	close(q[1]);
	pthread_join(th, 0);
	return 0;
}

// fsgsbase: where AT_HWCAP2 has HWCAP2_FSGSBASE (bit 1), a program sets
// its own FS and GS base with WRFSBASE and WRGSBASE, as on Linux 5.9 and
// later: each thread keeps its own across system calls the kernel
// answers at once, in its trap handler and in Go, across sleeps, thread
// switches and a signal handler, and a forked child inherits it.
static long rdgs(void) { long v; asm volatile("rdgsbase %0" : "=r"(v)); return v; }
static void wrgs(long v) { asm volatile("wrgsbase %0" : : "r"(v) : "memory"); }
static long gsWord(void) { long v; asm volatile("movq %%gs:0, %0" : "=r"(v)); return v; }
static long rawSyscall(long nr, long a, long b, long c) {
	long r;
	asm volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
}
static long gsSeen;
static void onGSSignal(int sig) { gsSeen = rdgs(); }

static int gsKept(long *mine, int zero) {
	struct timespec ts, nap = {0, 200000};
	char c;
	int ok = 1;
	wrgs((long)mine);
	for (int i = 0; i < 300; i++) {
		rawSyscall(SYS_getppid, 0, 0, 0);
		rawSyscall(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&ts, 0);
		rawSyscall(SYS_read, zero, (long)&c, 1);
		rawSyscall(SYS_sched_yield, 0, 0, 0);
		if (i % 50 == 0)
			rawSyscall(SYS_nanosleep, (long)&nap, 0, 0);
		if (rdgs() != (long)mine || gsWord() != mine[0])
			ok = 0;
	}
	return ok;
}

static void *gsThread(void *arg) {
	long *mine = arg;
	mine[1] = gsKept(mine, (int)mine[2]);
	return 0;
}

static int fsgsbaseChecks(void) {
	if (!(getauxval(AT_HWCAP2) & 2)) {
		printf("no HWCAP2_FSGSBASE\n");
		return 0;
	}
	int zero = open("/dev/zero", O_RDONLY);
	static long words[3][3] = {{111}, {222}, {333}};
	pthread_t th[2];
	for (int i = 0; i < 2; i++) {
		words[i + 1][2] = zero;
		pthread_create(&th[i], 0, gsThread, words[i + 1]);
	}
	int ok = gsKept(words[0], zero);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], 0);
	printf("GS base kept by three threads: %s %s %s\n", ok ? "yes" : "no", words[1][1] ? "yes" : "no",
	       words[2][1] ? "yes" : "no");
	signal(SIGUSR1, onGSSignal);
	raise(SIGUSR1);
	printf("in a signal handler: %s\n", gsSeen == (long)words[0] ? "the same" : "another");
	pid_t c = fork();
	if (c == 0)
		_exit(rdgs() == (long)words[0] && gsWord() == 111 ? 0 : 1);
	int st;
	waitpid(c, &st, 0);
	printf("forked child inherits it: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no");

	// FS base: the thread pointer, so no C library call until it is back.
	static long fsArea[2] = {444};
	struct timespec ts;
	long tp, fs, word;
	asm volatile("rdfsbase %0" : "=r"(tp));
	asm volatile("wrfsbase %0" : : "r"(fsArea) : "memory");
	rawSyscall(SYS_getppid, 0, 0, 0);
	rawSyscall(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&ts, 0);
	rawSyscall(SYS_sched_yield, 0, 0, 0);
	asm volatile("rdfsbase %0" : "=r"(fs));
	asm volatile("movq %%fs:0, %0" : "=r"(word));
	asm volatile("wrfsbase %0" : : "r"(tp) : "memory");
	printf("FS base kept: %s\n", fs == (long)fsArea && word == 444 ? "yes" : "no");

	// arch_prctl sets and reports GS base as WRGSBASE and RDGSBASE do.
	static long gsArea[1] = {555};
	long old = rdgs(), got = 0;
	long set = syscall(SYS_arch_prctl, ARCH_SET_GS, (long)gsArea);
	rawSyscall(SYS_getppid, 0, 0, 0);
	long seen = rdgs();
	syscall(SYS_arch_prctl, ARCH_GET_GS, (long)&got);
	syscall(SYS_arch_prctl, ARCH_SET_GS, old);
	printf("arch_prctl ARCH_SET_GS: %ld, GS base then %s, ARCH_GET_GS %s\n", set,
	       seen == (long)gsArea ? "it" : "another", got == (long)gsArea ? "it" : "another");
	return 0;
}

int main(int argc, char **argv) {
	setvbuf(stdout, 0, _IOLBF, 0);
	const char *what = argc > 1 ? argv[1] : "";
	if (!strcmp(what, "devices"))
		return devChecks();
	if (!strcmp(what, "fsgsbase"))
		return fsgsbaseChecks();
	printf("usage: fastpath devices|fsgsbase\n");
	return 2;
}
