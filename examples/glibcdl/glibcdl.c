/* glibcdl: what glibc loads with dlopen behind ordinary calls, and an
 * explicit dlopen. It prints what each call gave, then the objects that
 * were loaded after start (dl_iterate_phdr), so that the output shows
 * the modules were found:
 *   - getpwnam of a name /etc/passwd lacks: NSS goes on to the services
 *     after "files" in /etc/nsswitch.conf (libnss_systemd.so.2 on Debian);
 *   - getaddrinfo of localhost (/etc/hosts; "files" is inside libc);
 *   - iconv from UTF-8 to ISO-8859-15: a gconv module (ISO8859-15.so);
 *   - pthread_exit: glibc's unwinder, libgcc_s.so.1;
 *   - with an argument, dlopen(argv[1]) by name, found by the search path
 *     (zlibVersion looked up in it).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <iconv.h>
#include <link.h>
#include <netdb.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int count;
static char seen[64][256];

static int collect(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	const char *name = info->dlpi_name;
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	if (count < 64 && (strstr(name, "libnss_") || strstr(name, "gconv/") ||
			   strstr(name, "libgcc_s") || strstr(name, "libz.")))
		snprintf(seen[count++], sizeof seen[0], "%s", base);
	return 0;
}

static int cmp(const void *a, const void *b) { return strcmp(a, b); }

static void *thread(void *arg)
{
	(void)arg;
	pthread_exit((void *)42);
}

int main(int argc, char **argv)
{
	struct passwd *pw = getpwnam("root");
	printf("getpwnam(root): %s uid %d home %s\n", pw ? "found" : "not found", pw ? (int)pw->pw_uid : -1, pw ? pw->pw_dir : "-");
	pw = getpwnam("yolk-no-such-user");
	printf("getpwnam(yolk-no-such-user): %s\n", pw ? "found" : "not found");

	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
	int e = getaddrinfo("localhost", "80", &hints, &res);
	if (e == 0) {
		char buf[64];
		struct sockaddr_in *sin = (struct sockaddr_in *)res->ai_addr;
		printf("getaddrinfo(localhost): %s port %d\n", inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf), ntohs(sin->sin_port));
		freeaddrinfo(res);
	} else {
		printf("getaddrinfo(localhost): %s\n", gai_strerror(e));
	}

	iconv_t cd = iconv_open("ISO-8859-15", "UTF-8");
	if (cd == (iconv_t)-1) {
		perror("iconv_open(ISO-8859-15, UTF-8)");
	} else {
		char in[] = "\xe2\x82\xac 5", out[16] = {0};
		char *ip = in, *op = out;
		size_t il = strlen(in), ol = sizeof out;
		size_t n = iconv(cd, &ip, &il, &op, &ol);
		printf("iconv UTF-8 -> ISO-8859-15: %s:", n == (size_t)-1 ? "failed" : "ok");
		for (char *p = out; p < op; p++)
			printf(" %02x", (unsigned char)*p);
		printf("\n");
		iconv_close(cd);
	}

	pthread_t t;
	void *ret = NULL;
	if (pthread_create(&t, NULL, thread, NULL) == 0 && pthread_join(t, &ret) == 0)
		printf("pthread_exit: %ld\n", (long)ret);

	if (argc > 1) {
		void *z = dlopen(argv[1], RTLD_NOW);
		const char *(*zv)(void) = z ? (const char *(*)(void))dlsym(z, "zlibVersion") : NULL;
		printf("dlopen(%s): %s\n", argv[1], zv ? "zlibVersion found" : dlerror());
	}

	dl_iterate_phdr(collect, NULL);
	qsort(seen, count, sizeof seen[0], cmp);
	printf("loaded after start:");
	for (int i = 0; i < count; i++)
		printf(" %s", seen[i]);
	printf("\n");
	return 0;
}
