/* Three threads each open and close a file, then a child process runs
 * and is waited for: strace -f's test program (file and process calls
 * from several threads, [pid N] prefixes). The output is the same
 * whatever the order the threads ran in. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static void *worker(void *arg) {
	char path[32];
	snprintf(path, sizeof path, "/tmp/thread-%ld", (long)arg);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		write(fd, "x", 1);
		close(fd);
	}
	return NULL;
}

int main(void) {
	pthread_t t[3];
	for (long i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 3; i++) {
		char path[32];
		snprintf(path, sizeof path, "/tmp/thread-%d", i);
		printf("%s: %s\n", path, access(path, F_OK) == 0 ? "made" : "missing");
	}
	pid_t pid = fork();
	if (pid == 0)
		_exit(7);
	int st;
	waitpid(pid, &st, 0);
	printf("child exited with %d\n", WEXITSTATUS(st));
	return 0;
}
