// processes: checks of fork, exec, wait, copy-on-write, signals between
// processes and thread limits, one per argument (tests/processes_test.go
// runs each under yolk and compares the output with Linux's).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void die(const char *what) {
	printf("FAIL %s: %s\n", what, strerror(errno));
	exit(1);
}

// userFrames reads yolk's count of frames held by program memory; -1
// where the file does not exist (Linux).
static long userFrames(void) {
	FILE *f = fopen("/proc/yolk/frames", "r");
	long n = -1;
	if (!f)
		return -1;
	if (fscanf(f, "user %ld", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

// fork1000: a thousand children one after another, each exiting with
// i % 256; every status is seen, and memory comes back.
static int fork1000(void) {
	// Warm up: the parent's own stack and heap pages that fork, wait and
	// the count's stdio touch are there before the first count.
	for (int i = 0; i < 3; i++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		waitpid(pid, 0, 0);
		userFrames();
	}
	long before = userFrames();
	for (int i = 0; i < 1000; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0)
			_exit(i % 256);
		int st;
		if (waitpid(pid, &st, 0) != pid)
			die("waitpid");
		if (!WIFEXITED(st) || WEXITSTATUS(st) != i % 256) {
			printf("FAIL child %d: status %#x\n", i, st);
			return 1;
		}
	}
	long after = userFrames();
	printf("1000 children reaped\n");
	if (before != after) {
		printf("FAIL frames before %ld, after %ld\n", before, after);
		return 1;
	}
	printf("frames back\n");
	return 0;
}

// cow: parent and child each write a 64 MiB buffer after fork and each
// sees only its own data; forking does not copy the buffer.
static int cow(void) {
	const size_t n = 64 << 20;
	unsigned char *b = mmap(0, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED)
		die("mmap");
	memset(b, 'a', n);
	long before = userFrames();
	int p[2];
	if (pipe(p) < 0)
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(p[0]);
		long forked = userFrames();
		char c = (before < 0 || forked - before < 4096) ? 'y' : 'n'; // < 16 MiB more
		write(p[1], &c, 1);
		memset(b, 'c', n);
		for (size_t i = 0; i < n; i += 4096)
			if (b[i] != 'c')
				_exit(2);
		_exit(0);
	}
	close(p[1]);
	char c;
	if (read(p[0], &c, 1) != 1)
		die("read");
	memset(b, 'p', n);
	int st;
	if (waitpid(pid, &st, 0) != pid)
		die("waitpid");
	for (size_t i = 0; i < n; i += 4096)
		if (b[i] != 'p') {
			printf("FAIL parent sees %c at %zu\n", b[i], i);
			return 1;
		}
	printf("child status %d\n", WEXITSTATUS(st));
	printf("fork shared the pages: %c\n", c);
	return 0;
}

// The munmap race: one thread writes 1 MiB to a pipe nobody reads yet,
// another unmaps the buffer meanwhile; the write ends short or with
// EFAULT, and the kernel lives.
static char *raceBuf;
static const size_t raceLen = 1 << 20;
static ssize_t raceRet;
static int raceErr;

static void *writer(void *arg) {
	int fd = *(int *)arg;
	raceRet = write(fd, raceBuf, raceLen);
	raceErr = errno;
	return 0;
}

static void *vwriter(void *arg) {
	int fd = *(int *)arg;
	struct iovec v[2] = {{raceBuf, raceLen / 2}, {raceBuf + raceLen / 2, raceLen / 2}};
	raceRet = writev(fd, v, 2);
	raceErr = errno;
	return 0;
}

static int munmapRace(int vec) {
	int p[2];
	if (pipe(p) < 0)
		die("pipe");
	raceBuf = mmap(0, raceLen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(raceBuf, 'x', raceLen);
	pthread_t th;
	pthread_create(&th, 0, vec ? vwriter : writer, &p[1]);
	usleep(100 * 1000); // the writer fills the pipe and blocks
	if (munmap(raceBuf, raceLen) < 0)
		die("munmap");
	// Drain the pipe until the writer is done.
	char buf[65536];
	size_t total = 0;
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	for (int idle = 0; idle < 50;) {
		ssize_t r = read(p[0], buf, sizeof buf);
		if (r > 0) {
			total += r;
			idle = 0;
		} else {
			usleep(10 * 1000);
			idle++;
		}
	}
	pthread_join(th, 0);
	if (raceRet == (ssize_t)raceLen) {
		printf("FAIL the whole buffer was written after munmap\n");
		return 1;
	}
	if (raceRet < 0 && raceErr != EFAULT) {
		printf("FAIL write: %s\n", strerror(raceErr));
		return 1;
	}
	if (raceRet >= 0 && (size_t)raceRet != total) {
		printf("FAIL wrote %zd, read %zu\n", raceRet, total);
		return 1;
	}
	printf("%s ended short or with EFAULT\n", vec ? "writev" : "write");
	return 0;
}

// A blocked read whose buffer is unmapped meanwhile fails with EFAULT
// (the data is read into the kernel first).
static char *readBuf;
static void *reader(void *arg) {
	int fd = *(int *)arg;
	raceRet = read(fd, readBuf, 4096);
	raceErr = errno;
	return 0;
}

static int readRace(void) {
	int p[2];
	if (pipe(p) < 0)
		die("pipe");
	readBuf = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pthread_t th;
	pthread_create(&th, 0, reader, &p[0]);
	usleep(100 * 1000);
	munmap(readBuf, 4096);
	write(p[1], "data", 4);
	pthread_join(th, 0);
	if (raceRet != -1 || raceErr != EFAULT) {
		printf("FAIL read = %zd (%s)\n", raceRet, strerror(raceErr));
		return 1;
	}
	printf("read into an unmapped buffer: EFAULT\n");
	return 0;
}

// setgid while another thread waits on a condition variable: glibc makes
// every thread change its IDs with a signal, which must interrupt the
// waiting thread's futex wait.
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready;

static void *waiter(void *arg) {
	pthread_mutex_lock(&mu);
	while (!ready)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return 0;
}

static int setgidThreads(void) {
	pthread_t th;
	pthread_create(&th, 0, waiter, 0);
	usleep(50 * 1000);
	if (setgid(0) < 0)
		die("setgid");
	if (setresuid(0, 0, 0) < 0)
		die("setresuid");
	printf("setgid returned\n");
	pthread_mutex_lock(&mu);
	ready = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(th, 0);
	printf("waiter joined\n");
	return 0;
}

// kill: SIGTERM to a child blocked reading a pipe ends it with status 143
// as a shell reports it.
static int killChild(void) {
	int p[2];
	if (pipe(p) < 0)
		die("pipe");
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(p[1]);
		read(p[0], &c, 1);
		_exit(0);
	}
	usleep(100 * 1000);
	if (kill(pid, SIGTERM) < 0)
		die("kill");
	int st;
	if (waitpid(pid, &st, 0) != pid)
		die("waitpid");
	if (!WIFSIGNALED(st)) {
		printf("FAIL status %#x\n", st);
		return 1;
	}
	printf("status %d\n", 128 + WTERMSIG(st));
	return 0;
}

// threads: create threads until pthread_create fails; it says EAGAIN.
static void *sleeper(void *arg) {
	pthread_mutex_lock(&mu);
	while (!ready)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return 0;
}

static int threadLimit(void) {
	static pthread_t ts[100000];
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 10);
	int n = 0, err = 0;
	for (; n < 100000; n++) {
		err = pthread_create(&ts[n], &attr, sleeper, 0);
		if (err)
			break;
	}
	printf("pthread_create: %s after %s threads\n", strerror(err), n >= 1000 ? "more than 1000" : "too few");
	pthread_mutex_lock(&mu);
	ready = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < n; i++)
		pthread_join(ts[i], 0);
	printf("joined\n");
	return 0;
}

// spawn: posix_spawn (CLONE_VM|CLONE_VFORK in glibc) and system().
static int spawn(void) {
	pid_t pid;
	char *argv[] = {"echo", "spawned", 0};
	int err = posix_spawn(&pid, "/bin/echo", 0, 0, argv, environ);
	if (err) {
		errno = err;
		die("posix_spawn");
	}
	int st;
	waitpid(pid, &st, 0);
	fflush(stdout);
	int r = system("echo hi from system; exit 7");
	printf("system: %d\n", WEXITSTATUS(r));
	return 0;
}

// exec: execve of a missing program is ENOENT, of a file without execute
// permission EACCES; of a program, the program.
static int execs(void) {
	char *argv[] = {"echo", "exec'd", 0};
	if (execve("/nope", argv, environ) < 0)
		printf("missing: %s\n", strerror(errno));
	if (execve("/etc/data", argv, environ) < 0)
		printf("not executable: %s\n", strerror(errno));
	fflush(stdout);
	execve("/bin/echo", argv, environ);
	die("execve");
	return 1;
}

// exe: /proc/self/exe is the program file's absolute name, symlinks
// resolved, however it was run (a relative name, fexecve, a symlink);
// comm is the name given (the file's own name for fexecve).
static int exeChild(void) {
	char exe[256] = "", comm[64] = "";
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n < 0)
		die("readlink /proc/self/exe");
	exe[n] = 0;
	int fd = open("/proc/self/comm", O_RDONLY);
	if (fd < 0 || read(fd, comm, sizeof comm - 1) < 0)
		die("/proc/self/comm");
	comm[strcspn(comm, "\n")] = 0;
	printf("exe=%s comm=%s\n", exe, comm);
	return 0;
}

static void runExe(int how) {
	char *argv[] = {"processes", "exe-child", 0};
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		if (how == 0) {
			if (chdir("/bin") < 0)
				die("chdir");
			execve("../processes", argv, environ);
		} else if (how == 1) {
			int fd = open("/processes", O_RDONLY | O_CLOEXEC);
			fexecve(fd, argv, environ);
		} else {
			execve("/tmp/p", argv, environ);
		}
		die("exec");
	}
	int st;
	waitpid(pid, &st, 0);
}

static int exe(void) {
	if (symlink("/processes", "/tmp/p") < 0)
		die("symlink");
	for (int how = 0; how < 3; how++)
		runExe(how);
	return 0;
}

// exec-threads: execve from a process whose other threads are busy
// (spinning, or blocked in a read) ends only those threads: the new
// program runs and the process exits with its status, not SIGKILL.
static void *spin(void *arg) {
	for (;;)
		if (arg == (void *)1)
			pause();
	return 0;
}

static int execThreads(void) {
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		pthread_t th;
		for (long i = 0; i < 8; i++)
			pthread_create(&th, 0, spin, (void *)(i % 2));
		usleep(20 * 1000);
		char *argv[] = {"sh", "-c", "echo exec from threads; exit 5", 0};
		execve("/bin/sh", argv, environ);
		die("execve");
	}
	int st;
	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st))
		printf("killed by signal %d\n", WTERMSIG(st));
	else
		printf("status %d\n", WEXITSTATUS(st));
	return 0;
}

// cputime: a busy loop's CPU time is most of its wall time and never
// more (one CPU); a sleep costs almost none; getrusage agrees with the
// clock, and wait4 reports a child's time.
static long ns(clockid_t c) {
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void busy(long ms) {
	long end = ns(CLOCK_MONOTONIC) + ms * 1000000L;
	while (ns(CLOCK_MONOTONIC) < end)
		for (volatile int i = 0; i < 10000; i++)
			;
}

static volatile int profs;
static void onProf(int sig) { profs++; }

static int cputime(void) {
	long w0 = ns(CLOCK_MONOTONIC), c0 = ns(CLOCK_PROCESS_CPUTIME_ID);
	busy(300);
	// The CPU-time span inside the wall-time one: a host that stalls the
	// VM between the two reads must not put CPU time outside it.
	long c1 = ns(CLOCK_PROCESS_CPUTIME_ID), w1 = ns(CLOCK_MONOTONIC);
	printf("busy: CPU time over half the wall time, not above it: %s\n",
	       c1 - c0 > (w1 - w0) / 2 && c1 - c0 <= (w1 - w0) + 1000000 ? "yes" : "no");
	// A host that deschedules the VM's CPU while the program runs
	// counts that time as the program's (a guest cannot tell), so a
	// busy host can push one sleep's cost past the bound: up to three
	// tries; a sleep that costs CPU time fails all three.
	long c2 = c1;
	for (int try = 0; try < 3; try++) {
		c1 = ns(CLOCK_PROCESS_CPUTIME_ID);
		usleep(300 * 1000);
		c2 = ns(CLOCK_PROCESS_CPUTIME_ID);
		if (c2 - c1 < 30000000)
			break;
	}
	printf("sleep: under a tenth of it: %s\n", c2 - c1 < 30000000 ? "yes" : "no");
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	long ru_ns = ru.ru_utime.tv_sec * 1000000000L + ru.ru_utime.tv_usec * 1000L;
	long c3 = ns(CLOCK_PROCESS_CPUTIME_ID);
	// Between the two clock readings: under TCG, translating code that
	// runs the first time counts as the program's time.
	printf("getrusage's user time is most of the clock's: %s\n", ru_ns <= c3 + 1000000 && ru_ns > c2 / 2 ? "yes" : "no");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		busy(100);
		_exit(0);
	}
	int st;
	wait4(pid, &st, 0, &ru);
	printf("child's time in wait4: %s\n", ru.ru_utime.tv_sec * 1000000L + ru.ru_utime.tv_usec > 50000 ? "yes" : "no");
	getrusage(RUSAGE_CHILDREN, &ru);
	printf("and in RUSAGE_CHILDREN: %s\n", ru.ru_utime.tv_sec * 1000000L + ru.ru_utime.tv_usec > 50000 ? "yes" : "no");
	// System time: 300 ms of opening and closing /dev/null, calls the
	// kernel's Go code answers, is mostly system time, and user and
	// system time together stay within the wall time.
	struct rusage r0, r1;
	getrusage(RUSAGE_SELF, &r0);
	long s0 = ns(CLOCK_MONOTONIC);
	while (ns(CLOCK_MONOTONIC) - s0 < 300000000L)
		close(open("/dev/null", O_RDONLY));
	long s1 = ns(CLOCK_MONOTONIC);
	getrusage(RUSAGE_SELF, &r1);
	long sys = (r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) * 1000000000L + (r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) * 1000L;
	long usr = (r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) * 1000000000L + (r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) * 1000L;
	printf("open and close: system time over a third of the wall time: %s; user and system within it: %s\n",
	       sys > (s1 - s0) / 3 ? "yes" : "no", sys + usr <= s1 - s0 + 2000000 ? "yes" : "no");
	struct tms tm;
	times(&tm);
	printf("and in times: %s\n", tm.tms_stime > 0 ? "yes" : "no");
	// ITIMER_PROF every 10 ms of CPU time: a 300 ms busy loop takes
	// several SIGPROFs; a 300 ms sleep none.
	signal(SIGPROF, onProf);
	struct itimerval it = {{0, 10000}, {0, 10000}};
	setitimer(ITIMER_PROF, &it, 0);
	busy(300);
	int busyProfs = profs;
	usleep(300 * 1000);
	int sleepProfs = profs - busyProfs;
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_PROF, &off, 0);
	printf("SIGPROF while busy: several: %s; while asleep: %s\n", busyProfs >= 5 ? "yes" : "no", sleepProfs <= 1 ? "none" : "some");
	return 0;
}

// timers: a periodic CLOCK_MONOTONIC timer (timer_create) signals with
// SI_TIMER and its sigev_value; a thread-directed one reaches its thread.
static volatile int ticks, badInfo;
static void onTimer(int sig, siginfo_t *si, void *uc) {
	if (si->si_code != SI_TIMER || si->si_value.sival_int != 42)
		badInfo = 1;
	ticks++;
}

static int timers(void) {
	struct sigaction sa = {.sa_sigaction = onTimer, .sa_flags = SA_SIGINFO};
	sigaction(SIGRTMIN, &sa, 0);
	struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN, .sigev_value.sival_int = 42};
	timer_t tm;
	if (timer_create(CLOCK_MONOTONIC, &sev, &tm) < 0)
		die("timer_create");
	struct itimerspec its = {{0, 10000000}, {0, 10000000}};
	timer_settime(tm, 0, &its, 0);
	while (ticks < 5)
		pause();
	struct itimerspec left;
	timer_gettime(tm, &left);
	timer_delete(tm);
	printf("timer: 5 ticks, siginfo right: %s, interval kept: %s\n", badInfo ? "no" : "yes",
	       left.it_interval.tv_nsec == 10000000 ? "yes" : "no");
	return 0;
}

// bigmap: reserving, protecting and unmapping 64 GiB costs what is
// mapped, not the size: a thread ticking every 10 ms never waits long; the
// 48 TiB MAP_FIXED_NOREPLACE at an impossible address fails at once.
static volatile int ticking = 1;
static long maxGapMs;

static long nowMs(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *ticker(void *arg) {
	long last = nowMs();
	while (ticking) {
		usleep(10 * 1000);
		long t = nowMs();
		if (t - last > maxGapMs)
			maxGapMs = t - last;
		last = t;
	}
	return 0;
}

static int bigmap(void) {
	void *p = mmap((void *)-1, 48ul << 40, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	printf("48 TiB at -1: %s\n", p == MAP_FAILED ? "failed" : "mapped");
	pthread_t th;
	pthread_create(&th, 0, ticker, 0);
	for (int round = 0; round < 5; round++) {
		const size_t n = 64ul << 30;
		char *b = mmap(0, n, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (b == MAP_FAILED)
			die("mmap 64 GiB");
		if (mprotect(b, n, PROT_READ | PROT_WRITE) < 0)
			die("mprotect 64 GiB");
		for (size_t off = 0; off < n; off += n / 8)
			b[off] = 1;
		if (mprotect(b, n, PROT_READ) < 0)
			die("mprotect");
		if (munmap(b, n) < 0)
			die("munmap 64 GiB");
	}
	ticking = 0;
	pthread_join(th, 0);
	printf("ticks kept coming: %s\n", maxGapMs < 500 ? "yes" : "no");
	return 0;
}

// identity: getpid, getppid, gettid and getuid, which yolk answers in its
// SYSCALL entry from a list the process's goroutine keeps (fast system
// calls), stay right when they change. Raw syscall() calls, so no libc
// cache answers instead: a forked child and a new thread see their own
// IDs; a grandchild spinning on getppid sees its parent exit; a thread
// spinning on getuid sees setuid (glibc's, which every thread follows)
// from another thread; a thread spinning on getpid takes a signal.
static volatile int gotSignal;
static void onSignal(int sig) { gotSignal = sig; }

static void *ownTid(void *arg) {
	*(long *)arg = syscall(SYS_gettid);
	return 0;
}

static void *spinOnGetuid(void *arg) {
	long uid;
	while ((uid = syscall(SYS_getuid)) == 0)
		;
	*(long *)arg = uid;
	return 0;
}

static void *spinOnGetpid(void *arg) {
	while (!gotSignal)
		syscall(SYS_getpid);
	return 0;
}

static int identity(void) {
	long me = syscall(SYS_getpid);
	int fd[2];
	if (pipe(fd) < 0)
		die("pipe");
	pid_t c = fork();
	if (c < 0)
		die("fork");
	if (c == 0) {
		long ids[3] = {syscall(SYS_getpid), syscall(SYS_getppid), syscall(SYS_gettid)};
		write(fd[1], ids, sizeof ids);
		_exit(0);
	}
	long ids[3];
	if (read(fd[0], ids, sizeof ids) != sizeof ids)
		die("read");
	waitpid(c, 0, 0);
	printf("child: own pid %s, parent's pid as ppid %s, tid = pid %s\n",
	       ids[0] == c ? "yes" : "no", ids[1] == me ? "yes" : "no", ids[2] == c ? "yes" : "no");

	long tid = 0;
	pthread_t th;
	pthread_create(&th, 0, ownTid, &tid);
	pthread_join(th, 0);
	printf("thread: own tid %s\n", tid > 0 && tid != syscall(SYS_gettid) ? "yes" : "no");

	// The grandchild's parent exits once the grandchild is spinning; on
	// Linux the subreaper adopts it, under yolk init (this process).
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	pid_t mid = fork();
	if (mid < 0)
		die("fork");
	if (mid == 0) {
		pid_t g = fork();
		if (g == 0) {
			long parent = syscall(SYS_getppid);
			write(fd[1], "x", 1);
			while (syscall(SYS_getppid) == parent)
				;
			_exit(syscall(SYS_getppid) == me ? 0 : 1);
		}
		char b;
		read(fd[0], &b, 1);
		_exit(0);
	}
	waitpid(mid, 0, 0);
	int st;
	pid_t w = wait(&st);
	printf("grandchild adopted: %s\n", w > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no");

	c = fork();
	if (c == 0) {
		long uid = 0;
		pthread_create(&th, 0, spinOnGetuid, &uid);
		if (setuid(1000) < 0)
			die("setuid");
		pthread_join(th, 0);
		printf("thread saw uid %ld\n", uid);
		_exit(0);
	}
	waitpid(c, 0, 0);

	signal(SIGUSR1, onSignal);
	pthread_create(&th, 0, spinOnGetpid, 0);
	pthread_kill(th, SIGUSR1);
	pthread_join(th, 0);
	printf("signal %d taken while spinning on getpid\n", gotSignal);
	return 0;
}

// clock: raw clock_gettime, which yolk answers in its trap handler when
// the result can be stored as the program's own store would be, gives
// the same results as ever where it cannot: into a page not yet backed, a
// copy-on-write page after fork (the parent's copy keeps its value), a
// read-only page and an unmapped address (EFAULT), an unknown clock
// (EINVAL); and the time it gives agrees with the vDSO's and goes on.
static long rawClock(long id, void *ts) { return syscall(SYS_clock_gettime, id, ts); }

static int clockChecks(void) {
	struct timespec a, b, v;
	rawClock(CLOCK_MONOTONIC, &a);
	clock_gettime(CLOCK_MONOTONIC, &v); // the vDSO
	rawClock(CLOCK_MONOTONIC, &b);
	long long na = a.tv_sec * 1000000000LL + a.tv_nsec, nb = b.tv_sec * 1000000000LL + b.tv_nsec,
		  nv = v.tv_sec * 1000000000LL + v.tv_nsec;
	printf("monotonic: ordered with the vDSO %s\n", na <= nv && nv <= nb && a.tv_nsec < 1000000000 ? "yes" : "no");
	struct timespec *fresh = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long r = rawClock(CLOCK_REALTIME, fresh);
	printf("into an unbacked page: %ld, year > 2000 %s\n", r, fresh->tv_sec > 946684800 ? "yes" : "no");
	fresh->tv_sec = 7;
	pid_t c = fork();
	if (c == 0) {
		r = rawClock(CLOCK_MONOTONIC, fresh);
		_exit(r == 0 && fresh->tv_sec != 7 ? 0 : 1);
	}
	int st;
	waitpid(c, &st, 0);
	printf("child's copy-on-write page: %s, parent's still 7: %s\n",
	       WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "written" : "not written", fresh->tv_sec == 7 ? "yes" : "no");
	mprotect(fresh, 4096, PROT_READ);
	errno = 0;
	r = rawClock(CLOCK_MONOTONIC, fresh);
	printf("read-only page: %ld %s\n", r, strerror(errno));
	munmap(fresh, 4096);
	errno = 0;
	r = rawClock(CLOCK_MONOTONIC, fresh);
	printf("unmapped: %ld %s\n", r, strerror(errno));
	errno = 0;
	r = rawClock(12345, &a);
	printf("unknown clock: %ld %s\n", r, strerror(errno));
	return 0;
}

int main(int argc, char **argv) {
	setvbuf(stdout, 0, _IOLBF, 0);
	const char *what = argc > 1 ? argv[1] : "";
	if (!strcmp(what, "fork1000"))
		return fork1000();
	if (!strcmp(what, "timers"))
		return timers();
	if (!strcmp(what, "cputime"))
		return cputime();
	if (!strcmp(what, "exec-threads"))
		return execThreads();
	if (!strcmp(what, "exe"))
		return exe();
	if (!strcmp(what, "exe-child"))
		return exeChild();
	if (!strcmp(what, "cow"))
		return cow();
	if (!strcmp(what, "munmap-race"))
		return munmapRace(0) | munmapRace(1);
	if (!strcmp(what, "read-race"))
		return readRace();
	if (!strcmp(what, "setgid"))
		return setgidThreads();
	if (!strcmp(what, "kill"))
		return killChild();
	if (!strcmp(what, "threads"))
		return threadLimit();
	if (!strcmp(what, "spawn"))
		return spawn();
	if (!strcmp(what, "exec"))
		return execs();
	if (!strcmp(what, "bigmap"))
		return bigmap();
	if (!strcmp(what, "identity"))
		return identity();
	if (!strcmp(what, "clock"))
		return clockChecks();
	printf("usage: processes fork1000|cow|munmap-race|read-race|setgid|kill|threads|spawn|exec|bigmap|identity|clock\n");
	return 2;
}
