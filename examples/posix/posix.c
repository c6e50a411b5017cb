/* posix: pipes, timers and interrupted waits, and the read-only root, as a
 * program sees them on Linux. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t alarms;
static void onalrm(int s) { (void)s; alarms++; }

int main(void)
{
	int p[2];
	char buf[16] = {0};
	if (pipe(p) != 0)
		return 1;
	write(p[1], "ping", 4);
	read(p[0], buf, sizeof buf - 1);
	printf("pipe: %s\n", buf);
	close(p[1]);
	printf("read at EOF: %zd\n", read(p[0], buf, sizeof buf));
	close(p[0]);

	signal(SIGPIPE, SIG_IGN);
	pipe(p);
	close(p[0]);
	errno = 0;
	ssize_t w = write(p[1], "x", 1);
	printf("write without reader: %zd %s\n", w, strerror(errno));

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = onalrm;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { .it_value = { .tv_usec = 50000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	pause();
	printf("pause returned after %d alarm(s): %s\n", alarms, strerror(errno));

	setitimer(ITIMER_REAL, &it, NULL);
	struct timespec req = { .tv_sec = 5 }, rem = {0};
	int r = nanosleep(&req, &rem);
	printf("nanosleep: %d %s, %s left\n", r, strerror(errno), rem.tv_sec >= 4 ? "most" : "little");

	printf("mkdir: %s\n", mkdir("/newdir", 0755) == 0 ? "created" : strerror(errno));
	printf("wait: %s\n", wait(NULL) < 0 ? strerror(errno) : "child?");
	return 0;
}
