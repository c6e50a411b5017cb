// mapfile: a file written through MAP_SHARED and msync reads back through
// read(2) (and, on a host directory, on the host); pwrite shows through
// the mapping; a fork's stores are shared; a private mapping's are not;
// touching a mapping past the page that holds the end of the file raises
// SIGBUS (BUS_ADRERR), also after ftruncate shrinks the file.
//
// usage: mapfile DIR (the file is DIR/mapped.txt)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static sigjmp_buf jb;
static volatile int bus_code;
static volatile long bus_off;
static char *base;

static void on_bus(int sig, siginfo_t *si, void *uc) {
	(void)sig;
	(void)uc;
	bus_code = si->si_code;
	bus_off = (char *)si->si_addr - base;
	siglongjmp(jb, 1);
}

static void die(const char *what) {
	printf("%s: %s\n", what, strerror(errno));
	exit(1);
}

// touch reads the byte at off of the mapping and reports SIGBUS.
static void touch(const char *what, long off) {
	bus_code = 0;
	if (sigsetjmp(jb, 1) == 0) {
		volatile char c = base[off];
		printf("%s: read %d, no signal\n", what, c);
		return;
	}
	printf("%s: SIGBUS at offset %ld, si_code %s\n", what, bus_off,
	       bus_code == BUS_ADRERR ? "BUS_ADRERR" : "other");
}

static void show(int fd, off_t off, size_t n, const char *what) {
	char buf[64] = {0};
	if (pread(fd, buf, n, off) != (ssize_t)n)
		die("pread");
	printf("%s: \"%.*s\"\n", what, (int)n, buf);
}

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: mapfile DIR\n");
		return 2;
	}
	char path[256];
	snprintf(path, sizeof path, "%s/mapped.txt", argv[1]);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("open");
	if (ftruncate(fd, 6000) < 0)
		die("ftruncate");
	long pg = sysconf(_SC_PAGESIZE);
	base = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		die("mmap");
	struct sigaction sa = {0};
	sa.sa_sigaction = on_bus;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);

	// Stores through the mapping, msync, read back.
	strcpy(base, "written through MAP_SHARED");
	strcpy(base + 5000, "second page");
	if (msync(base, 3 * pg, MS_SYNC) < 0)
		die("msync");
	show(fd, 0, 26, "pread after msync");
	show(fd, 5000, 11, "pread second page");

	// A store is seen by read(2) even before msync.
	memcpy(base + 100, "no msync yet", 12);
	lseek(fd, 100, SEEK_SET);
	char buf[16] = {0};
	if (read(fd, buf, 12) != 12)
		die("read");
	printf("read without msync: \"%s\"\n", buf);

	// pwrite shows through the mapping.
	if (pwrite(fd, "PWRITE", 6, 200) != 6)
		die("pwrite");
	printf("mapping after pwrite: \"%.6s\"\n", base + 200);

	// Past the end of the file within its last page: zeros; past that
	// page: SIGBUS.
	printf("byte past the end in the last page: %d\n", base[6000]);
	touch("third page", 2 * pg + 10);

	// A child's stores are the parent's.
	pid_t pid = fork();
	if (pid == 0) {
		memcpy(base + 300, "from the child", 14);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("parent sees: \"%.14s\"\n", base + 300);
	show(fd, 300, 14, "pread of the child's store");

	// A private mapping's stores stay private.
	char *priv = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (priv == MAP_FAILED)
		die("mmap private");
	memcpy(priv, "PRIVATE", 7);
	printf("private: \"%.7s\", shared: \"%.7s\"\n", priv, base);
	munmap(priv, pg);

	// Shrinking the file takes the pages past its new end away.
	if (ftruncate(fd, 100) < 0)
		die("ftruncate");
	touch("second page after ftruncate", pg + 1);
	printf("last page after ftruncate: \"%.7s\", byte 100: %d\n", base, base[100]);

	// Grow it back a little and leave known contents.
	if (ftruncate(fd, 64) < 0)
		die("ftruncate");
	memset(base, 0, 64);
	strcpy(base, "final contents, written through MAP_SHARED\n");
	if (msync(base, pg, MS_SYNC) < 0)
		die("msync");
	if (munmap(base, 3 * pg) < 0)
		die("munmap");
	close(fd);

	fd = open(path, O_RDONLY);
	char all[128];
	ssize_t n = read(fd, all, sizeof all);
	printf("file after munmap: %zd bytes, \"%.43s\"\n", n, all);
	close(fd);
	return 0;
}
