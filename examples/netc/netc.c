// netc exercises sockets from C, as servers written against the BSD
// socket API use them:
//
//   netc echo PORT MIN an echo server on PORT (IPv4): a non-blocking
//                      listener and connections driven by one epoll
//                      instance (edge-triggered), echoing everything
//                      back; it exits after a connection that echoed at
//                      least MIN bytes ends, printing its count
//   netc send ADDR PORT N  connect to ADDR:PORT (IPv4), write N bytes
//                      (byte i is i*7 mod 256), close and exit at once:
//                      what was written must still reach the peer
//   netc resolve NAME...  each NAME's IPv4 addresses by getaddrinfo, sorted
//                      (glibc's or musl's resolver: /etc/hosts, then DNS)
//   netc unix          AF_UNIX between two processes: data and a file
//                      descriptor (SCM_RIGHTS) over a socketpair and
//                      over a named socket in /tmp, then what a peer
//                      that vanishes leaves (ECONNRESET, EPIPE, SIGPIPE),
//                      over AF_UNIX and TCP on 127.0.0.1
//
// The unix mode's output is the same on Linux (the test compares).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what) {
	printf("netc: %s: %s\n", what, strerror(errno));
	exit(1);
}

// ---- echo ----

struct conn {
	int fd;
	char buf[64 << 10];
	size_t off, len; // pending bytes buf[off:len] not yet written back
	int eof;
	long long echoed;
};

// pump moves what fd has to the peer until either side would block;
// it returns 1 when the connection is done (EOF seen and all written).
static int pump(struct conn *c) {
	for (;;) {
		while (c->off < c->len) {
			ssize_t n = write(c->fd, c->buf + c->off, c->len - c->off);
			if (n < 0) {
				if (errno == EAGAIN)
					return 0; // EPOLLOUT brings us back
				if (errno == EINTR)
					continue;
				die("write");
			}
			c->off += n;
			c->echoed += n;
		}
		c->off = c->len = 0;
		if (c->eof)
			return 1;
		ssize_t n = read(c->fd, c->buf, sizeof c->buf);
		if (n < 0) {
			if (errno == EAGAIN)
				return 0; // EPOLLIN brings us back
			if (errno == EINTR)
				continue;
			die("read");
		}
		if (n == 0)
			c->eof = 1;
		c->len = n;
	}
}

static int echo(int port, long long min) {
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ls < 0)
		die("socket");
	int one = 1;
	if (setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
		die("setsockopt");
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0)
		die("bind");
	if (listen(ls, 128) < 0)
		die("listen");
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev) < 0)
		die("epoll_ctl");
	printf("echo: listening on %d\n", port);
	fflush(stdout);
	for (;;) {
		struct epoll_event evs[16];
		int n = epoll_wait(ep, evs, 16, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c == NULL) {
				for (;;) {
					int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
					if (fd < 0) {
						if (errno == EAGAIN)
							break;
						die("accept4");
					}
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					c = calloc(1, sizeof *c);
					c->fd = fd;
					struct epoll_event cev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
					if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev) < 0)
						die("epoll_ctl add");
				}
				continue;
			}
			if (pump(c)) {
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				if (c->echoed >= min) {
					// Before exiting (which ends the VM), let the
					// client take everything: send our FIN and wait
					// for its close.
					if (shutdown(c->fd, SHUT_WR) < 0)
						die("shutdown");
					fcntl(c->fd, F_SETFL, 0);
					char b[64];
					ssize_t k;
					while ((k = read(c->fd, b, sizeof b)) > 0)
						;
					printf("echo: a connection of %lld bytes, then %s\n", c->echoed, k == 0 ? "end of file" : strerror(errno));
					return 0;
				}
				close(c->fd);
				free(c);
			}
		}
	}
}

// ---- unix ----

// sendfd sends msg with fd attached (SCM_RIGHTS).
static void sendfd(int s, const char *msg, int fd) {
	struct iovec iov = {.iov_base = (void *)msg, .iov_len = strlen(msg)};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	if (sendmsg(s, &m, 0) != (ssize_t)strlen(msg))
		die("sendmsg");
}

// recvfd receives a message into buf and returns the descriptor that
// came with it (-1 if none).
static int recvfd(int s, char *buf, size_t n) {
	struct iovec iov = {.iov_base = buf, .iov_len = n - 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
	ssize_t k = recvmsg(s, &m, 0);
	if (k < 0)
		die("recvmsg");
	buf[k] = 0;
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	if (c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof fd);
	return fd;
}

static void readall(int fd, const char *what) {
	char b[256];
	size_t got = 0;
	ssize_t k;
	while ((k = read(fd, b + got, sizeof b - 1 - got)) > 0)
		got += k;
	b[got] = 0;
	printf("%s: read %zu bytes through the passed descriptor: %s", what, got, b);
}

static void reap(const char *what) {
	int st;
	if (wait(&st) < 0)
		die("wait");
	if (WIFSIGNALED(st))
		printf("%s: child killed by signal %d\n", what, WTERMSIG(st));
	else
		printf("%s: child exited %d\n", what, WEXITSTATUS(st));
}

static const char *errname(int e) {
	switch (e) {
	case 0: return "ok";
	case ECONNRESET: return "ECONNRESET";
	case EPIPE: return "EPIPE";
	case EAGAIN: return "EAGAIN";
	case ENOTCONN: return "ENOTCONN";
	}
	return strerror(e);
}

// result prints what a read or write returned.
static void result(const char *what, ssize_t n) {
	if (n < 0)
		printf("%s: -1 %s\n", what, errname(errno));
	else
		printf("%s: %zd\n", what, n);
}

static void pair_rights(void) {
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		die("socketpair");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(sv[0]);
		int p[2];
		if (pipe(p) < 0)
			die("pipe");
		sendfd(sv[1], "a pipe for you", p[0]);
		close(p[0]);
		if (write(p[1], "hello through a pipe\n", 21) != 21)
			die("write pipe");
		close(p[1]);
		char b[64];
		ssize_t k = read(sv[1], b, sizeof b - 1);
		b[k > 0 ? k : 0] = 0;
		printf("socketpair child: parent says \"%s\"\n", b);
		_exit(0);
	}
	close(sv[1]);
	char b[64];
	int fd = recvfd(sv[0], b, sizeof b);
	printf("socketpair parent: \"%s\" with %s\n", b, fd >= 0 ? "a descriptor" : "no descriptor");
	if (fd >= 0) {
		readall(fd, "socketpair parent");
		close(fd);
	}
	if (write(sv[0], "thanks", 6) != 6)
		die("write");
	reap("socketpair");
	close(sv[0]);
}

static void named_rights(void) {
	const char *path = "/tmp/netc.sock";
	unlink(path);
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	strcpy(a.sun_path, path);
	if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0)
		die("bind");
	if (listen(ls, 4) < 0)
		die("listen");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(ls);
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(s, (struct sockaddr *)&a, sizeof a) < 0)
			die("connect");
		int f = open("/tmp/netc.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (f < 0)
			die("open");
		if (write(f, "a file written by the child\n", 28) != 28)
			die("write file");
		sendfd(s, "a file for you", f);
		close(f);
		char b[64];
		ssize_t k = read(s, b, sizeof b - 1);
		b[k > 0 ? k : 0] = 0;
		printf("named child: server says \"%s\"\n", b);
		_exit(0);
	}
	int s = accept(ls, NULL, NULL);
	if (s < 0)
		die("accept");
	char b[64];
	int fd = recvfd(s, b, sizeof b);
	printf("named server: \"%s\" with %s\n", b, fd >= 0 ? "a descriptor" : "no descriptor");
	if (fd >= 0) {
		lseek(fd, 0, SEEK_SET); // the description is shared: the child's offset is at the end
		readall(fd, "named server");
		close(fd);
	}
	if (write(s, "bye", 3) != 3)
		die("write");
	reap("named");
	close(s);
	close(ls);
	unlink(path);
}

static void unix_vanish(void) {
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		die("socketpair");
	char b[16];
	if (write(sv[0], "unread", 6) != 6)
		die("write");
	close(sv[1]); // closed with data unread
	result("unix read after the peer closed with unread data", read(sv[0], b, sizeof b));
	result("unix read again", read(sv[0], b, sizeof b));
	signal(SIGPIPE, SIG_IGN);
	result("unix write, SIGPIPE ignored", write(sv[0], "x", 1));
	signal(SIGPIPE, SIG_DFL);
	result("unix send MSG_NOSIGNAL", send(sv[0], "x", 1, MSG_NOSIGNAL));
	pid_t pid = fork();
	if (pid == 0) {
		write(sv[0], "x", 1);
		_exit(0); // not reached: SIGPIPE kills
	}
	reap("unix write, SIGPIPE default");
	close(sv[0]);
}

static void tcp_vanish(void) {
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4) < 0)
		die("tcp listen");
	getsockname(ls, (struct sockaddr *)&a, &al);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&a, sizeof a) < 0)
		die("tcp connect");
	int s = accept(ls, NULL, NULL);
	if (s < 0)
		die("tcp accept");
	if (write(c, "unread", 6) != 6)
		die("tcp write");
	usleep(100000);
	close(s); // closed with data unread: a reset
	struct pollfd p = {.fd = c, .events = POLLIN};
	poll(&p, 1, 5000);
	printf("tcp poll after the reset:%s%s%s\n", p.revents & POLLIN ? " POLLIN" : "", p.revents & POLLERR ? " POLLERR" : "", p.revents & POLLHUP ? " POLLHUP" : "");
	char b[16];
	result("tcp read after the peer reset", read(c, b, sizeof b));
	result("tcp read again", read(c, b, sizeof b));
	result("tcp send MSG_NOSIGNAL", send(c, "x", 1, MSG_NOSIGNAL));
	close(c);
	close(ls);
}

static int sendexit(const char *addr, int port, long long n) {
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (s < 0 || inet_pton(AF_INET, addr, &a.sin_addr) != 1)
		die("socket");
	if (connect(s, (struct sockaddr *)&a, sizeof a) < 0)
		die("connect");
	static unsigned char b[64 << 10];
	for (long long off = 0; off < n;) {
		size_t k = n - off < (long long)sizeof b ? (size_t)(n - off) : sizeof b;
		for (size_t i = 0; i < k; i++)
			b[i] = (unsigned char)((off + i) * 7);
		ssize_t w = write(s, b, k);
		if (w < 0)
			die("write");
		off += w;
	}
	close(s);
	printf("send: %lld bytes written, exiting\n", n);
	return 0;
}

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int resolve(int n, char **names) {
	int status = 0;
	for (int i = 0; i < n; i++) {
		struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
		int e = getaddrinfo(names[i], NULL, &hints, &res);
		if (e != 0) {
			printf("%s: %s\n", names[i], gai_strerror(e));
			status = 1;
			continue;
		}
		char *addrs[64];
		int k = 0;
		for (struct addrinfo *r = res; r != NULL && k < 64; r = r->ai_next) {
			char b[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &((struct sockaddr_in *)r->ai_addr)->sin_addr, b, sizeof b);
			addrs[k++] = strdup(b);
		}
		freeaddrinfo(res);
		qsort(addrs, k, sizeof addrs[0], cmpstr);
		printf("%s:", names[i]);
		for (int j = 0; j < k; j++)
			if (j == 0 || strcmp(addrs[j], addrs[j - 1]) != 0)
				printf(" %s", addrs[j]);
		printf("\n");
	}
	return status;
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && strcmp(argv[1], "echo") == 0)
		return echo(atoi(argv[2]), atoll(argv[3]));
	if (argc == 5 && strcmp(argv[1], "send") == 0)
		return sendexit(argv[2], atoi(argv[3]), atoll(argv[4]));
	if (argc >= 3 && strcmp(argv[1], "resolve") == 0)
		return resolve(argc - 2, argv + 2);
	if (argc == 2 && strcmp(argv[1], "unix") == 0) {
		pair_rights();
		named_rights();
		unix_vanish();
		tcp_vanish();
		printf("unix: done\n");
		return 0;
	}
	fprintf(stderr, "usage: netc echo PORT MIN | netc send ADDR PORT N | netc resolve NAME... | netc unix\n");
	return 2;
}
