// fsops: checks of the writable file tree, one per argument
// (tests/files_test.go runs each under yolk; the output is Linux's):
// sqlite databases, record locks between processes, and file operations.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int check(int rc, sqlite3 *db, const char *what) {
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
		printf("FAIL %s: %s\n", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		exit(1);
	}
	return rc;
}

// sqliteCreate makes a table of 10,000 rows in one transaction.
static int sqliteCreate(const char *path) {
	sqlite3 *db;
	check(sqlite3_open(path, &db), 0, "open");
	check(sqlite3_exec(db, "create table t(i integer, s text)", 0, 0, 0), db, "create");
	check(sqlite3_exec(db, "begin", 0, 0, 0), db, "begin");
	sqlite3_stmt *st;
	check(sqlite3_prepare_v2(db, "insert into t values(?, ?)", -1, &st, 0), db, "prepare");
	for (int i = 1; i <= 10000; i++) {
		char s[32];
		snprintf(s, sizeof s, "row %d", i);
		sqlite3_bind_int(st, 1, i);
		sqlite3_bind_text(st, 2, s, -1, SQLITE_TRANSIENT);
		check(sqlite3_step(st), db, "insert");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	check(sqlite3_exec(db, "commit", 0, 0, 0), db, "commit");
	check(sqlite3_close(db), 0, "close");
	printf("created 10000 rows\n");
	return 0;
}

static int printSum(void *arg, int n, char **v, char **names) {
	printf("sum %s count %s\n", v[0], v[1]);
	return 0;
}

// sqliteSum reads the table back, read-only when ro is set.
static int sqliteSum(const char *path, int ro) {
	sqlite3 *db;
	int flags = ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	check(sqlite3_open_v2(path, &db, flags, 0), 0, "open");
	check(sqlite3_exec(db, "select sum(i), count(*) from t", printSum, 0, 0), db, "select");
	check(sqlite3_close(db), 0, "close");
	return 0;
}

// lockContend: two processes each add 1 to a counter in a file 200 times
// under F_SETLKW; the total is exact only if the locks serialize them.
static int addUnderLock(const char *path, int times) {
	int fd = open(path, O_RDWR);
	if (fd < 0)
		return 1;
	for (int i = 0; i < times; i++) {
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
		if (fcntl(fd, F_SETLKW, &fl) < 0) {
			printf("FAIL F_SETLKW: %s\n", strerror(errno));
			return 1;
		}
		char buf[32] = {0};
		pread(fd, buf, sizeof buf - 1, 0);
		int v = atoi(buf);
		if (i % 16 == 0)
			usleep(1000); // let the other process try meanwhile
		int n = snprintf(buf, sizeof buf, "%d\n", v + 1);
		pwrite(fd, buf, n, 0);
		fl.l_type = F_UNLCK;
		fcntl(fd, F_SETLK, &fl);
	}
	close(fd);
	return 0;
}

static int lockContend(const char *path) {
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	write(fd, "0\n", 2);
	close(fd);
	pid_t pid = fork();
	if (pid == 0)
		_exit(addUnderLock(path, 200));
	int r = addUnderLock(path, 200);
	int st;
	waitpid(pid, &st, 0);
	char buf[32] = {0};
	fd = open(path, O_RDONLY);
	read(fd, buf, sizeof buf - 1);
	close(fd);
	printf("counter %d (child %d, parent %d)\n", atoi(buf), WEXITSTATUS(st), r);

	// F_GETLK sees the other process's lock; F_SETLK fails at once.
	fd = open(path, O_RDWR);
	int p[2];
	pipe(p);
	pid = fork();
	if (pid == 0) {
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 10, .l_len = 5};
		fcntl(fd, F_SETLK, &fl);
		write(p[1], "x", 1);
		pause();
		_exit(0);
	}
	char c;
	read(p[0], &c, 1);
	struct flock q = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 100};
	fcntl(fd, F_GETLK, &q);
	printf("F_GETLK: type %s start %ld len %ld pid is the child: %s\n",
	       q.l_type == F_WRLCK ? "F_WRLCK" : "other", (long)q.l_start, (long)q.l_len, q.l_pid == pid ? "yes" : "no");
	struct flock w = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 12, .l_len = 1};
	printf("F_SETLK over it: %s\n", fcntl(fd, F_SETLK, &w) < 0 ? strerror(errno) : "locked");
	printf("flock LOCK_EX|LOCK_NB: %s\n", flock(fd, LOCK_EX | LOCK_NB) < 0 ? strerror(errno) : "locked");
	kill(pid, SIGKILL);
	waitpid(pid, 0, 0);
	printf("after the child died, F_SETLK: %s\n", fcntl(fd, F_SETLK, &w) < 0 ? strerror(errno) : "locked");
	return 0;
}

// misc: memfd_create, copy_file_range, the descriptor limit, O_TMPFILE
// and a FIFO between two processes.
static int misc(const char *dir) {
	int m = memfd_create("buf", MFD_CLOEXEC);
	write(m, "hello memfd", 11);
	char b[32] = {0};
	pread(m, b, sizeof b - 1, 6);
	struct stat st;
	fstat(m, &st);
	printf("memfd: %s, size %ld\n", b, (long)st.st_size);

	char src[256], dst[256];
	snprintf(src, sizeof src, "%s/src", dir);
	snprintf(dst, sizeof dst, "%s/dst", dir);
	int in = open(src, O_RDWR | O_CREAT | O_TRUNC, 0644);
	write(in, "0123456789", 10);
	int out = open(dst, O_RDWR | O_CREAT | O_TRUNC, 0644);
	loff_t off = 2;
	ssize_t n = copy_file_range(in, &off, out, 0, 5, 0);
	memset(b, 0, sizeof b);
	pread(out, b, sizeof b - 1, 0);
	printf("copy_file_range: %zd bytes, %s, in offset now %ld\n", n, b, (long)off);

	// splice a file into a pipe, tee it into a second pipe, splice the
	// first into a socket; sendfile from the file into the socket.
	int p[2], q[2], sv[2];
	pipe(p);
	pipe(q);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	loff_t soff = 0;
	ssize_t sn = splice(in, &soff, p[1], 0, 4, 0);
	ssize_t tn = tee(p[0], q[1], 100, 0);
	ssize_t un = splice(p[0], 0, sv[0], 0, 100, 0);
	char viaSock[8] = {0}, viaTee[8] = {0}, viaSend[8] = {0};
	read(sv[1], viaSock, 4);
	read(q[0], viaTee, 4);
	off_t sfoff = 6;
	ssize_t fn = sendfile(sv[0], in, &sfoff, 4);
	read(sv[1], viaSend, 4);
	printf("splice: %zd and %zd bytes (%s), tee: %zd (%s), sendfile: %zd (%s), in offset now %ld\n",
	       sn, un, viaSock, tn, viaTee, fn, viaSend, (long)soff);

	int tf = open(dir, O_TMPFILE | O_RDWR, 0600);
	printf("O_TMPFILE: %s\n", tf >= 0 ? "open" : strerror(errno));

	char fifo[256];
	snprintf(fifo, sizeof fifo, "%s/fifo", dir);
	mkfifo(fifo, 0644);
	if (fork() == 0) {
		int w = open(fifo, O_WRONLY);
		write(w, "through the fifo", 16);
		_exit(0);
	}
	int r = open(fifo, O_RDONLY);
	memset(b, 0, sizeof b);
	int got = 0;
	while (got < 16) {
		ssize_t k = read(r, b + got, 16 - got);
		if (k <= 0)
			break;
		got += k;
	}
	wait(0);
	printf("fifo: %s\n", b);

	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	printf("RLIMIT_NOFILE soft <= hard: %s\n", rl.rlim_cur <= rl.rlim_max ? "yes" : "no");
	rl.rlim_cur = 8;
	setrlimit(RLIMIT_NOFILE, &rl);
	int last = -1, err = 0;
	for (int i = 0; i < 20; i++) {
		int fd = dup(0);
		if (fd < 0) {
			err = errno;
			break;
		}
		last = fd;
	}
	printf("dup until %s, last fd %d\n", strerror(err), last);

	return 0;
}

int main(int argc, char **argv) {
	setvbuf(stdout, 0, _IOLBF, 0);
	if (argc < 3) {
		printf("usage: fsops sqlite-create|sqlite-sum|sqlite-ro|lock FILE\n");
		return 2;
	}
	if (!strcmp(argv[1], "sqlite-create"))
		return sqliteCreate(argv[2]);
	if (!strcmp(argv[1], "sqlite-sum"))
		return sqliteSum(argv[2], 0);
	if (!strcmp(argv[1], "sqlite-ro"))
		return sqliteSum(argv[2], 1);
	if (!strcmp(argv[1], "lock"))
		return lockContend(argv[2]);
	if (!strcmp(argv[1], "misc"))
		return misc(argv[2]);
	printf("unknown check %s\n", argv[1]);
	return 2;
}
