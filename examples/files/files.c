/* files: file system calls over a cpio root.
 *   files FILE DIR [STATPATH...]
 * reads FILE and prints its content between "--- FILE (N bytes)" and
 * "--- end" lines, lists DIR with opendir/readdir (names sorted with qsort,
 * without "." and "..", each as "entry NAME"), then stat()s FILE, DIR and
 * every STATPATH and prints "stat PATH: size=N regular=yes|no dir=yes|no"
 * (or "stat PATH: error ENAME"). Tests open/read/close, getdents64,
 * stat/newfstatat and their error paths. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void statpath(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		printf("stat %s: error %s\n", path,
		       errno == ENOENT ? "ENOENT" : strerror(errno));
		return;
	}
	printf("stat %s: size=%lld regular=%s dir=%s\n", path,
	       (long long)st.st_size, S_ISREG(st.st_mode) ? "yes" : "no",
	       S_ISDIR(st.st_mode) ? "yes" : "no");
}

int main(int argc, char **argv)
{
	char buf[4096], **names = NULL;
	size_t n = 0, cap = 0, total = 0;
	struct dirent *de;
	ssize_t r;
	DIR *d;
	int fd;

	if (argc < 3) {
		fprintf(stderr, "usage: files FILE DIR [STATPATH...]\n");
		return 2;
	}

	fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		printf("open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	/* Read it all first so that the byte count heads the content. */
	char *content = NULL;
	while ((r = read(fd, buf, sizeof buf)) > 0) {
		content = realloc(content, total + r);
		memcpy(content + total, buf, r);
		total += r;
	}
	if (r < 0) {
		printf("read %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	close(fd);
	printf("--- %s (%zu bytes)\n", argv[1], total);
	fwrite(content, 1, total, stdout);
	if (total > 0 && content[total - 1] != '\n')
		putchar('\n');
	printf("--- end\n");

	d = opendir(argv[2]);
	if (d == NULL) {
		printf("opendir %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			names = realloc(names, cap * sizeof *names);
		}
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp);
	printf("dir %s: %zu entries\n", argv[2], n);
	for (size_t i = 0; i < n; i++)
		printf("entry %s\n", names[i]);

	statpath(argv[1]);
	statpath(argv[2]);
	for (int i = 3; i < argc; i++)
		statpath(argv[i]);
	return 0;
}
