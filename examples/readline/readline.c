/* readline: reads a line from the console with stdio, as an interactive
 * program does, and greets it; "wait" then sleeps until a signal (^C)
 * ends it. With the argument "restart", ^C runs a SA_RESTART handler and
 * the read goes on. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t caught;
static void onint(int s) { caught = s; }

int main(int argc, char **argv)
{
	char buf[100];
	if (argc > 1 && !strcmp(argv[1], "restart")) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = onint;
		sa.sa_flags = SA_RESTART;
		sigaction(SIGINT, &sa, NULL);
	}
	printf("name? ");
	fflush(stdout);
	if (!fgets(buf, sizeof buf, stdin)) {
		printf("EOF\n");
		return 1;
	}
	buf[strcspn(buf, "\n")] = 0;
	printf("hello, %s\n", buf);
	if (caught)
		printf("read went on after signal %d\n", caught);
	if (!strcmp(buf, "wait")) {
		fflush(stdout);
		sleep(60);
		printf("not interrupted\n");
	}
	return 0;
}
