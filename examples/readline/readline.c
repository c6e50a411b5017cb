/* readline: reads a line from the console with stdio, as an interactive
 * program does, and greets it; "wait" then sleeps until a signal (^C)
 * ends it. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	char buf[100];
	printf("name? ");
	fflush(stdout);
	if (!fgets(buf, sizeof buf, stdin)) {
		printf("EOF\n");
		return 1;
	}
	buf[strcspn(buf, "\n")] = 0;
	printf("hello, %s\n", buf);
	if (!strcmp(buf, "wait")) {
		fflush(stdout);
		sleep(60);
		printf("not interrupted\n");
	}
	return 0;
}
