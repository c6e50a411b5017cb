/* sharepages: two processes running the same dynamically linked program
 * share its libraries' pages. The first touches every page of every
 * library it has mapped, prints its own memory (smaps_rollup), then runs
 * a second copy of itself, which does the same while the first is alive
 * and prints its own; then, with the second still alive (it waits for
 * the first to close its stdin), the first prints again. "own" is what
 * the process alone holds (Private_Clean + Private_Dirty, the USS).
 */
#define _GNU_SOURCE
#include <link.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static volatile unsigned char sink;

static int touch(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	if (info->dlpi_name == NULL || info->dlpi_name[0] == '\0')
		return 0; /* the program itself */
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_R))
			continue;
		uintptr_t a = (info->dlpi_addr + ph->p_vaddr) & ~(uintptr_t)4095;
		uintptr_t end = info->dlpi_addr + ph->p_vaddr + ph->p_filesz;
		for (; a < end; a += 4096)
			sink += *(volatile unsigned char *)a;
	}
	return 0;
}

static long field(const char *text, const char *name)
{
	const char *p = strstr(text, name);
	return p ? strtol(p + strlen(name), NULL, 10) : -1;
}

static void report(const char *who)
{
	static char buf[8192];
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = 0;
	long rss = field(buf, "\nRss:"), pss = field(buf, "\nPss:"), file = field(buf, "\nPss_File:");
	long own = field(buf, "\nPrivate_Clean:") + field(buf, "\nPrivate_Dirty:");
	long shared = field(buf, "\nShared_Clean:") + field(buf, "\nShared_Dirty:");
	printf("%s: rss %ld kB, pss %ld kB (file %ld kB), own %ld kB, shared %ld kB\n", who, rss, pss, file, own, shared);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	dl_iterate_phdr(touch, NULL);
	char c;
	if (argc > 1) {
		report("second");
		/* Tell the first (fd 3), then wait for it to be done (fd 0). */
		if (write(3, "x", 1) != 1 || read(0, &c, 1) != 0)
			return 1;
		return 0;
	}
	report("first");
	int in[2], done[2];
	if (pipe(in) || pipe(done))
		return 1;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, done[1], 3);
	posix_spawn_file_actions_addclose(&fa, in[1]);
	posix_spawn_file_actions_addclose(&fa, done[0]);
	pid_t pid;
	char *args[] = {argv[0], "second", NULL};
	if (posix_spawn(&pid, "/proc/self/exe", &fa, NULL, args, environ) != 0) {
		perror("posix_spawn");
		return 1;
	}
	close(in[0]);
	close(done[1]);
	if (read(done[0], &c, 1) != 1)
		return 1;
	report("first, the second alive");
	close(in[1]);
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
