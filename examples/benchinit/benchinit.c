/* benchinit: the /init of the benchmark's initramfs, the same binary under
 * yolk and under a Linux VM (cmd/bench boots both).
 *
 * It prints "benchinit: ready" first (cmd/bench times boot to that line),
 * waits for a fine-grained clock, then runs the jobs in /jobs (or in the
 * file its first argument names: qemu/run's ARG, Linux's words after
 * "--" on the kernel command line), one a line:
 *
 *   NAME PROG [ARG...] [>PATH]
 *
 * Each job is fork+execve'd with stdout redirected to PATH when given and
 * waited for; the time from fork to the end of the wait (CLOCK_MONOTONIC)
 * is printed as "bench NAME NS CYCLES", after "benchstart NAME" before
 * the fork (the host's mark for its own measure, QEMU's CPU time). NAME
 * "-" runs the job untimed, its output passing through (examples/bench
 * prints its own lines). A job
 * that fails prints "benchfail NAME STATUS". At the end it prints
 * "benchinit: done" and calls reboot(RB_AUTOBOOT), which with QEMU's
 * -no-reboot ends the VM; where reboot is not a system call (yolk) it
 * exits instead, which powers yolk off. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

static long long now(void)
{
	struct timespec ts;
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Linux's initramfs has no /dev, /proc or /tmp contents; yolk has its own.
 * Mount only what is missing, so both see the same files. */
static void mounts(void)
{
	if (access("/dev/null", F_OK) != 0) {
		mkdir("/dev", 0755);
		mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	}
	if (access("/proc/self", F_OK) != 0) {
		mkdir("/proc", 0555);
		mount("proc", "/proc", "proc", 0, NULL);
	}
	mkdir("/tmp", 01777);
}

/* Linux starts on a jiffies clock (4 ms steps) and switches to the TSC
 * about a second into the boot; the first jobs could run before that.
 * Wait, at most 10 s, until the clock moves in steps under 100 us, so
 * the micro-benchmarks' clock is fine-grained on both sides. */
static void fine_clock(void)
{
	long long start = now(), last = start;
	while (last - start < 10000000000LL) {
		long long t = now();
		if (t != last && t - last < 100000)
			return;
		last = t;
	}
	printf("benchinit: the clock stayed coarse\n");
}

static void run(char *line)
{
	char *argv[64], *out = NULL;
	int argc = 0;
	for (char *w = strtok(line, " \t\n"); w && argc < 63; w = strtok(NULL, " \t\n")) {
		if (w[0] == '>')
			out = w + 1;
		else
			argv[argc++] = w;
	}
	argv[argc] = NULL;
	if (argc < 2)
		return;
	const char *name = argv[0];
	/* The host reads QEMU's CPU time when this line arrives and again
	 * at the job's "bench" line (cmd/bench's jobCPU). */
	if (strcmp(name, "-") != 0)
		printf("benchstart %s\n", name);
	fflush(stdout);
	long long t = now();
	unsigned long long c = __rdtsc();
	pid_t pid = fork();
	if (pid < 0) {
		printf("benchfail %s fork:%d\n", name, errno);
		return;
	}
	if (pid == 0) {
		if (out) {
			int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd < 0 || dup2(fd, 1) < 0)
				_exit(126);
			close(fd);
		}
		execv(argv[1], argv + 1);
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid) {
		printf("benchfail %s wait:%d\n", name, errno);
		return;
	}
	c = __rdtsc() - c;
	t = now() - t;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		printf("benchfail %s status:%d\n", name, st);
	else if (strcmp(name, "-") != 0)
		printf("bench %s %lld %llu\n", name, t, c);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	printf("benchinit: ready\n");
	fflush(stdout);
	mounts();
	const char *jobs = argc > 1 ? argv[1] : "/jobs";
	FILE *f = fopen(jobs, "r");
	if (!f && argc > 1)
		printf("benchfail %s open:%d\n", jobs, errno);
	if (f) {
		fine_clock();
		char line[1024];
		while (fgets(line, sizeof line, f))
			if (line[0] != '#')
				run(line);
		fclose(f);
	}
	printf("benchinit: done\n");
	fflush(stdout);
	sync();
	reboot(RB_AUTOBOOT);
	return 0;
}
