/* bench: micro-benchmarks of what a program asks the kernel for.
 *
 *   bench [-n N] [NAME...]   run the named benchmarks (default: all but the
 *                            console one), N scales the iteration counts
 *   bench --exit             exit at once (the execve benchmark's target)
 *
 * Prints one line per benchmark, "bench NAME NS_PER_OP CYCLES_PER_OP",
 * for cmd/bench to compare the same binary under yolk and under a Linux
 * VM. CYCLES_PER_OP is rdtsc's count: meaningful on KVM, where the guest
 * reads the real TSC; under TCG cmd/bench shows the nanoseconds only. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

static const char *self; /* argv[0]: what the execve benchmark runs */

static long long now(void)
{
	struct timespec ts;
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts); /* no vDSO: same path everywhere */
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* A measurement: start() before the loop, report() after it. */
static long long t0;
static unsigned long long c0;

static void start(void)
{
	t0 = now();
	c0 = __rdtsc();
}

static void report(const char *name, long ops)
{
	unsigned long long c = __rdtsc() - c0;
	long long ns = now() - t0;
	printf("bench %s %.1f %.0f\n", name, (double)ns / ops, (double)c / ops);
	fflush(stdout);
}

static void b_getppid(const char *name, long n)
{
	start();
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	report(name, n);
}

static void b_clock_gettime(const char *name, long n)
{
	struct timespec ts;
	start();
	for (long i = 0; i < n; i++)
		syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	report(name, n);
}

/* 1,000,000 calls whatever -n says: the vDSO's loop is cheap, and the
 * issue's measure is a loop of a million. */
static void b_clock_gettime_vdso(const char *name, long n)
{
	struct timespec ts;
	(void)n;
	n = 1000000;
	start();
	for (long i = 0; i < n; i++)
		clock_gettime(CLOCK_MONOTONIC, &ts); /* the vDSO, where there is one */
	report(name, n);
}

static void b_read_zero(const char *name, long n)
{
	int fd = open("/dev/zero", O_RDONLY);
	char c;
	if (fd < 0)
		die("open /dev/zero");
	start();
	for (long i = 0; i < n; i++)
		if (read(fd, &c, 1) != 1)
			die("read /dev/zero");
	report(name, n);
	close(fd);
}

/* One byte written to a pipe; the pipe is drained every 4096 writes
 * (outside nothing: the drain is part of the cost, 1/4096 of it). */
static void b_write_pipe(const char *name, long n)
{
	int p[2];
	char buf[4096], c = 'x';
	if (pipe(p) < 0)
		die("pipe");
	start();
	for (long i = 0; i < n; i++) {
		if (write(p[1], &c, 1) != 1)
			die("write pipe");
		if (i % 4096 == 4095 && read(p[0], buf, sizeof buf) != sizeof buf)
			die("drain pipe");
	}
	report(name, n);
	close(p[0]);
	close(p[1]);
}

static void b_mmap(const char *name, long n)
{
	n = n / 10 + 1;
	start();
	for (long i = 0; i < n; i++) {
		void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			die("mmap");
		*(volatile char *)p = 1;
		munmap(p, 4096);
	}
	report(name, n);
}

static void b_page_fault(const char *name, long n)
{
	long pages = 4096; /* 16 MiB of first touches, whatever n is */
	char *mem = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	start();
	for (long i = 0; i < pages; i++)
		mem[i * 4096] = 1;
	report(name, pages);
	munmap(mem, pages * 4096);
}

static void b_fork(const char *name, long n)
{
	n = n / 100 + 1;
	start();
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0)
			_exit(0);
		if (waitpid(pid, NULL, 0) != pid)
			die("waitpid");
	}
	report(name, n);
}

static void b_execve(const char *name, long n)
{
	n = n / 200 + 1;
	start();
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			execl(self, self, "--exit", (char *)NULL);
			_exit(127);
		}
		int st;
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			die("execve child");
	}
	report(name, n);
}

/* 16 MiB through a pipe in 64 KiB writes, from a child to its parent. */
static void b_pipe_throughput(const char *name, long n)
{
	static char buf[64 << 10];
	const long total = 16 << 20;
	int p[2];
	if (pipe(p) < 0)
		die("pipe");
	start();
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(p[0]);
		memset(buf, 'x', sizeof buf);
		for (long sent = 0; sent < total;) {
			ssize_t w = write(p[1], buf, sizeof buf);
			if (w <= 0)
				_exit(1);
			sent += w;
		}
		_exit(0);
	}
	close(p[1]);
	long got = 0;
	ssize_t r;
	while ((r = read(p[0], buf, sizeof buf)) > 0)
		got += r;
	waitpid(pid, NULL, 0);
	if (got != total)
		die("pipe throughput: short");
	report(name, 1);
	close(p[0]);
}

/* Context switch: two threads hand a token back and forth through a
 * futex; each round trip is two switches, reported per switch. */
static atomic_int token;
static long rounds;

static void futex_wait(atomic_int *f, int v)
{
	syscall(SYS_futex, f, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void futex_wake(atomic_int *f)
{
	syscall(SYS_futex, f, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *pong(void *arg)
{
	for (long i = 0; i < rounds; i++) {
		while (atomic_load(&token) != 1)
			futex_wait(&token, 0);
		atomic_store(&token, 0);
		futex_wake(&token);
	}
	return arg;
}

static void b_futex(const char *name, long n)
{
	pthread_t t;
	rounds = n / 4 + 1;
	atomic_store(&token, 0);
	if (pthread_create(&t, NULL, pong, NULL))
		die("pthread_create");
	start();
	for (long i = 0; i < rounds; i++) {
		atomic_store(&token, 1);
		futex_wake(&token);
		while (atomic_load(&token) != 0)
			futex_wait(&token, 1);
	}
	report(name, 2 * rounds);
	pthread_join(t, NULL);
}

/* Console throughput: 1 MiB to stderr in 64 KiB writes, four times. Not
 * in the default set: yolk's console is virtio, the Linux VM's a UART. */
static void b_stderr(const char *name, long n)
{
	static char buf[1 << 20];
	memset(buf, 'x', sizeof buf);
	for (size_t i = 79; i < sizeof buf; i += 80)
		buf[i] = '\n';
	int reps = 4;
	start();
	for (int r = 0; r < reps; r++)
		for (size_t off = 0; off < sizeof buf;) {
			ssize_t w = write(2, buf + off, 64 << 10);
			if (w <= 0)
				die("write stderr");
			off += w;
		}
	report(name, reps);
}

/* What sqlite asks for most (speedtest1: 21,000 newfstatat, two in three
 * for a file that is not there, 28,000 fcntl locks, 7,000 pread64), on a
 * file in /tmp. Not in the default set. */
static int tmpfile_fd(void)
{
	int fd = open("/tmp/bench-file", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("open /tmp/bench-file");
	char buf[8192] = {1};
	if (write(fd, buf, sizeof buf) != sizeof buf)
		die("write /tmp/bench-file");
	return fd;
}

static void b_stat(const char *name, long n)
{
	struct stat st;
	close(tmpfile_fd());
	start();
	for (long i = 0; i < n; i++)
		if (stat("/tmp/bench-file", &st) != 0)
			die("stat");
	report(name, n);
}

static void b_stat_missing(const char *name, long n)
{
	struct stat st;
	start();
	for (long i = 0; i < n; i++)
		if (stat("/tmp/bench-file-journal", &st) == 0)
			die("stat of a missing file");
	report(name, n);
}

static void b_fcntl_lock(const char *name, long n)
{
	int fd = tmpfile_fd();
	struct flock lk = {.l_whence = SEEK_SET, .l_start = 1 << 30, .l_len = 1};
	start();
	for (long i = 0; i < n; i++) {
		lk.l_type = i & 1 ? F_UNLCK : F_RDLCK;
		if (fcntl(fd, F_SETLK, &lk) != 0)
			die("fcntl F_SETLK");
	}
	report(name, n);
	close(fd);
}

static void b_pread(const char *name, long n)
{
	int fd = tmpfile_fd();
	char buf[4096];
	start();
	for (long i = 0; i < n; i++)
		if (pread(fd, buf, sizeof buf, (i & 1) * 4096) != sizeof buf)
			die("pread");
	report(name, n);
	close(fd);
}

static const struct {
	const char *name;
	void (*run)(const char *name, long n);
	int optional; /* only when named */
} benches[] = {
	{"getppid", b_getppid},
	{"clock_gettime", b_clock_gettime},
	{"clock_gettime_vdso", b_clock_gettime_vdso},
	{"read-zero", b_read_zero},
	{"write-pipe", b_write_pipe},
	{"page-fault", b_page_fault},
	{"mmap+touch+munmap", b_mmap},
	{"fork+exit+wait", b_fork},
	{"fork+execve+wait", b_execve},
	{"pipe-16MiB", b_pipe_throughput},
	{"futex-switch", b_futex},
	{"stderr-write-1MiB", b_stderr, 1},
	{"stat", b_stat, 1},
	{"stat-missing", b_stat_missing, 1},
	{"fcntl-lock", b_fcntl_lock, 1},
	{"pread-4KiB", b_pread, 1},
};

int main(int argc, char **argv)
{
	long n = 20000;
	int i = 1, nb = sizeof benches / sizeof benches[0];

	self = argv[0];
	if (argc > 1 && !strcmp(argv[1], "--exit"))
		return 0;
	if (argc > 2 && !strcmp(argv[1], "-n")) {
		n = atol(argv[2]);
		i = 3;
	} else if (argc > 1 && argv[1][0] >= '0' && argv[1][0] <= '9') {
		n = atol(argv[1]); /* the older form: bench N */
		i = 2;
	}
	if (i == argc) {
		for (int b = 0; b < nb; b++)
			if (!benches[b].optional)
				benches[b].run(benches[b].name, n);
		return 0;
	}
	for (; i < argc; i++) {
		int b;
		for (b = 0; b < nb && strcmp(benches[b].name, argv[i]); b++)
			;
		if (b == nb) {
			fprintf(stderr, "bench: no benchmark named %s\n", argv[i]);
			return 2;
		}
		benches[b].run(benches[b].name, n);
	}
	return 0;
}
