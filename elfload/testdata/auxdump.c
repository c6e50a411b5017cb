/*
 * auxdump: print the initial process stack as the kernel built it.
 *
 * Build static (gcc -O2 -fpie -static-pie auxdump.c, or -static -no-pie).
 * Output uses only write(2) and exit; one record per line:
 *
 *   sp <hex>                      initial stack pointer (address of argc)
 *   argc <dec>
 *   argv <i> <off> <hex bytes>    off = address of the string - sp (decimal)
 *   envc <dec>
 *   envp <i> <off> <hex bytes>
 *   auxv <key dec> <value hex>    every auxv entry in order, AT_NULL last
 *   execfn <off> <hex bytes>      AT_EXECFN string
 *   random <off> <hex bytes>      AT_RANDOM's 16 bytes
 *   platform <off> <hex bytes>    AT_PLATFORM string
 *   end
 *
 * Strings are printed as hex so that any byte survives. The sp is
 * computed from argv: the x86-64 ABI puts argc at the initial %rsp and
 * argv right above it, and glibc's _start passes that argv to main.
 */
#include <unistd.h>

static char buf[4096];
static int n;

static void flush(void) {
	int off = 0;
	while (off < n) {
		ssize_t w = write(1, buf + off, n - off);
		if (w <= 0)
			_exit(2);
		off += w;
	}
	n = 0;
}

static void put(const char *s) {
	while (*s) {
		if (n == sizeof buf)
			flush();
		buf[n++] = *s++;
	}
}

static void puthex(unsigned long v) {
	char t[19];
	int i = 18;
	t[i] = 0;
	do {
		t[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	t[--i] = 'x';
	t[--i] = '0';
	put(t + i);
}

static void putdec(long v) {
	char t[24];
	int i = 23;
	int neg = v < 0;
	unsigned long u = neg ? -(unsigned long)v : (unsigned long)v;
	t[i] = 0;
	do {
		t[--i] = '0' + u % 10;
		u /= 10;
	} while (u);
	if (neg)
		t[--i] = '-';
	put(t + i);
}

static void putbytes(const unsigned char *p, unsigned long len) {
	char t[3];
	t[2] = 0;
	if (len == 0) {
		put("-");
		return;
	}
	for (unsigned long i = 0; i < len; i++) {
		t[0] = "0123456789abcdef"[p[i] >> 4];
		t[1] = "0123456789abcdef"[p[i] & 15];
		put(t);
	}
}

static unsigned long slen(const char *s) {
	unsigned long l = 0;
	while (s[l])
		l++;
	return l;
}

static void putstr(const char *tag, long idx, unsigned long sp, const char *s) {
	put(tag);
	put(" ");
	if (idx >= 0) {
		putdec(idx);
		put(" ");
	}
	putdec((long)((unsigned long)s - sp));
	put(" ");
	putbytes((const unsigned char *)s, slen(s));
	put("\n");
}

int main(int argc, char **argv) {
	unsigned long sp = (unsigned long)argv - sizeof(long);
	long kargc = *(long *)sp;
	char **envp = argv + kargc + 1;
	long envc = 0;
	unsigned long *auxv;
	const char *execfn = 0, *platform = 0;
	const unsigned char *rnd = 0;

	(void)argc;
	put("sp ");
	puthex(sp);
	put("\nargc ");
	putdec(kargc);
	put("\n");
	for (long i = 0; i < kargc; i++)
		putstr("argv", i, sp, argv[i]);
	while (envp[envc])
		envc++;
	put("envc ");
	putdec(envc);
	put("\n");
	for (long i = 0; i < envc; i++)
		putstr("envp", i, sp, envp[i]);
	auxv = (unsigned long *)(envp + envc + 1);
	for (;; auxv += 2) {
		put("auxv ");
		putdec((long)auxv[0]);
		put(" ");
		puthex(auxv[1]);
		put("\n");
		if (auxv[0] == 31)
			execfn = (const char *)auxv[1];
		else if (auxv[0] == 15)
			platform = (const char *)auxv[1];
		else if (auxv[0] == 25)
			rnd = (const unsigned char *)auxv[1];
		if (auxv[0] == 0)
			break;
	}
	if (execfn)
		putstr("execfn", -1, sp, execfn);
	if (rnd) {
		put("random ");
		putdec((long)((unsigned long)rnd - sp));
		put(" ");
		putbytes(rnd, 16);
		put("\n");
	}
	if (platform)
		putstr("platform", -1, sp, platform);
	put("end\n");
	flush();
	return 0;
}
