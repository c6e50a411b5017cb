// avx: a program built for x86-64-v3 (AVX2, -march=x86-64-v3) using the
// whole vector unit, one check per argument (tests/avx_test.go runs each
// under yolk; each prints what it prints on Linux on the same CPU).
//
//   avx threads   four threads of AVX2 arithmetic held in YMM registers,
//                 preempting each other, each checked against scalar code
//   avx ifunc     the memcpy and strlen glibc picked (its IFUNC choice,
//                 named from /proc/self/exe's symbol table) and whether
//                 glibc found AVX2 usable
//   avx signal    a handler that uses every YMM register interrupts code
//                 holding values in all of them: they are intact after it
//   avx syscalls  three threads each hold their own values in YMM0-15, the
//                 x87 stack and MXCSR across system calls of every kind the
//                 kernel has (answered at its entry, in its trap handler, by
//                 its Go code, and ones that switch threads): all intact
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <immintrin.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/platform/x86.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

// YMM_LOAD_IN loads YMM0-15 from the 16x8 words at %[in];
// YMM_STORE_OUT stores them to %[out] (inline assembly text).
#define YMM_LOAD_IN \
	"vmovdqu 0(%[in]), %%ymm0\n vmovdqu 32(%[in]), %%ymm1\n vmovdqu 64(%[in]), %%ymm2\n" \
	"vmovdqu 96(%[in]), %%ymm3\n vmovdqu 128(%[in]), %%ymm4\n vmovdqu 160(%[in]), %%ymm5\n" \
	"vmovdqu 192(%[in]), %%ymm6\n vmovdqu 224(%[in]), %%ymm7\n vmovdqu 256(%[in]), %%ymm8\n" \
	"vmovdqu 288(%[in]), %%ymm9\n vmovdqu 320(%[in]), %%ymm10\n vmovdqu 352(%[in]), %%ymm11\n" \
	"vmovdqu 384(%[in]), %%ymm12\n vmovdqu 416(%[in]), %%ymm13\n vmovdqu 448(%[in]), %%ymm14\n" \
	"vmovdqu 480(%[in]), %%ymm15\n"
#define YMM_STORE_OUT \
	"vmovdqu %%ymm0, 0(%[out])\n vmovdqu %%ymm1, 32(%[out])\n vmovdqu %%ymm2, 64(%[out])\n" \
	"vmovdqu %%ymm3, 96(%[out])\n vmovdqu %%ymm4, 128(%[out])\n vmovdqu %%ymm5, 160(%[out])\n" \
	"vmovdqu %%ymm6, 192(%[out])\n vmovdqu %%ymm7, 224(%[out])\n vmovdqu %%ymm8, 256(%[out])\n" \
	"vmovdqu %%ymm9, 288(%[out])\n vmovdqu %%ymm10, 320(%[out])\n vmovdqu %%ymm11, 352(%[out])\n" \
	"vmovdqu %%ymm12, 384(%[out])\n vmovdqu %%ymm13, 416(%[out])\n vmovdqu %%ymm14, 448(%[out])\n" \
	"vmovdqu %%ymm15, 480(%[out])\n"


// threads: each lane of a 256-bit accumulator runs its own sequence; the
// loop keeps it in a YMM register, so a context switch that lost the upper
// halves shows as a wrong lane.
enum { rounds = 2000000, nthreads = 4 };

static uint64_t scalarLane(uint64_t seed, uint64_t step) {
	uint64_t a = seed;
	for (long n = 0; n < rounds; n++) {
		a += step;
		a ^= a >> 7;
	}
	return a;
}

static void *work(void *arg) {
	long id = (long)arg;
	uint64_t seed[4], step[4];
	for (int l = 0; l < 4; l++) {
		seed[l] = 0x9e3779b97f4a7c15ull * (uint64_t)(id * 4 + l + 1);
		step[l] = (uint64_t)(id * 4 + l) * 2 + 1;
	}
	__m256i a = _mm256_loadu_si256((const __m256i *)seed);
	__m256i s = _mm256_loadu_si256((const __m256i *)step);
	for (long n = 0; n < rounds; n++) {
		a = _mm256_add_epi64(a, s);
		a = _mm256_xor_si256(a, _mm256_srli_epi64(a, 7));
	}
	uint64_t got[4];
	_mm256_storeu_si256((__m256i *)got, a);
	int ok = 1;
	for (int l = 0; l < 4; l++)
		ok &= got[l] == scalarLane(seed[l], step[l]);
	return (void *)(long)ok;
}

// runThreads runs fn on n threads (argument: the index) and prints each
// one's verdict, good for a non-zero result.
static int runThreads(int n, void *(*fn)(void *), const char *good, const char *bad) {
	pthread_t th[n];
	for (long i = 0; i < n; i++)
		pthread_create(&th[i], 0, fn, (void *)i);
	for (int i = 0; i < n; i++) {
		void *ok;
		pthread_join(th[i], &ok);
		printf("thread %d: %s\n", i, ok ? good : bad);
	}
	return 0;
}

static int threads(void) { return runThreads(nthreads, work, "every lane right", "WRONG"); }

// symbolAt names the function at addr from the executable's symbol table
// (static-PIE: symbol values are relative to the load bias).
static const char *symbolAt(const void *addr) {
	static char name[128];
	FILE *f = fopen("/proc/self/exe", "rb");
	if (!f)
		return "(no /proc/self/exe)";
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	char *b = malloc(n);
	rewind(f);
	if (fread(b, 1, n, f) != (size_t)n)
		return "(short read)";
	fclose(f);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)b;
	Elf64_Shdr *sh = (Elf64_Shdr *)(b + eh->e_shoff);
	uintptr_t bias = 0;
	strcpy(name, "(not found)");
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < eh->e_shnum; i++) {
			if (sh[i].sh_type != SHT_SYMTAB)
				continue;
			Elf64_Sym *sym = (Elf64_Sym *)(b + sh[i].sh_offset);
			const char *str = b + sh[sh[i].sh_link].sh_offset;
			for (size_t k = 0; k < sh[i].sh_size / sizeof *sym; k++) {
				const char *s = str + sym[k].st_name;
				if (pass == 0 && !strcmp(s, "symbolAt"))
					bias = (uintptr_t)symbolAt - sym[k].st_value;
				// The first name glibc gives the code (memcpy's variants are
				// aliases of memmove's): the one with the lowest table index
				// that is a global or local function.
				if (pass == 1 && ELF64_ST_TYPE(sym[k].st_info) == STT_FUNC &&
				    sym[k].st_value + bias == (uintptr_t)addr && !strncmp(s, "__", 2)) {
					snprintf(name, sizeof name, "%s", s);
					free(b);
					return name;
				}
			}
		}
	free(b);
	return name;
}

// cpuinfoHas reports whether /proc/cpuinfo's flags line lists flag.
static int cpuinfoHas(const char *flag) {
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	int found = 0;
	while (f && !found && fgets(line, sizeof line, f)) {
		if (strncmp(line, "flags", 5))
			continue;
		for (char *w = strtok(strchr(line, ':') + 1, " \n"); w; w = strtok(0, " \n"))
			found |= !strcmp(w, flag);
	}
	if (f)
		fclose(f);
	return found;
}

static int ifunc(void) {
	// Through volatile pointers: the compiler may not inline or resolve
	// the calls itself; in a static-PIE they are the GOT's IRELATIVE
	// results, the implementations glibc's resolvers chose.
	void *(*volatile cpy)(void *, const void *, size_t) = memcpy;
	size_t (*volatile len)(const char *) = strlen;
	printf("glibc: AVX2 %s\n", CPU_FEATURE_ACTIVE(AVX2) ? "usable" : "not usable");
	printf("memcpy: %s\n", symbolAt((void *)cpy));
	printf("strlen: %s\n", symbolAt((void *)len));
	printf("AT_MINSIGSTKSZ >= 1024: %s\n", getauxval(AT_MINSIGSTKSZ) >= 1024 ? "yes" : "no");
	// CPUID with XGETBV (what gcc's check reads) and /proc/cpuinfo agree.
	__builtin_cpu_init();
	printf("avx2: cpu %s, /proc/cpuinfo %s\n", __builtin_cpu_supports("avx2") ? "yes" : "no",
	       cpuinfoHas("avx2") ? "yes" : "no");
	return 0;
}

// signal: YMM0-15 hold a pattern across a tgkill whose handler overwrites
// every one of them.
static void clobber(int sig) {
	(void)sig;
	__asm__ volatile(
	    "vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n"
	    "vmovdqa %%ymm0, %%ymm1\n vmovdqa %%ymm0, %%ymm2\n vmovdqa %%ymm0, %%ymm3\n"
	    "vmovdqa %%ymm0, %%ymm4\n vmovdqa %%ymm0, %%ymm5\n vmovdqa %%ymm0, %%ymm6\n"
	    "vmovdqa %%ymm0, %%ymm7\n vmovdqa %%ymm0, %%ymm8\n vmovdqa %%ymm0, %%ymm9\n"
	    "vmovdqa %%ymm0, %%ymm10\n vmovdqa %%ymm0, %%ymm11\n vmovdqa %%ymm0, %%ymm12\n"
	    "vmovdqa %%ymm0, %%ymm13\n vmovdqa %%ymm0, %%ymm14\n vmovdqa %%ymm0, %%ymm15\n" ::
		: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
		  "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

static int signalYMM(void) {
	signal(SIGUSR1, clobber);
	uint32_t in[16][8], out[16][8];
	for (int r = 0; r < 16; r++)
		for (int l = 0; l < 8; l++)
			in[r][l] = 0x01010101u * (r + 1) + l;
	long pid = getpid(), tid = syscall(SYS_gettid);
	__asm__ volatile(
	    YMM_LOAD_IN
	    "mov %[nr], %%eax\n mov %[pid], %%rdi\n mov %[tid], %%rsi\n mov %[sig], %%edx\n syscall\n"
	    YMM_STORE_OUT
	    :
	    : [in] "r"(in), [out] "r"(out), [nr] "i"(SYS_tgkill), [pid] "r"(pid), [tid] "r"(tid), [sig] "i"(SIGUSR1)
	    : "rax", "rdi", "rsi", "rdx", "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
	      "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
	int bad = 0;
	for (int r = 0; r < 16; r++)
		if (memcmp(in[r], out[r], 32))
			bad++;
	printf("YMM registers changed by the handler: %d of 16\n", bad);
	return 0;
}

// x87Differs compares three long doubles by their 10 bytes of value (the
// 6 bytes of padding after each are not the x87's).
static int x87Differs(const long double *a, const long double *b) {
	for (int i = 0; i < 3; i++)
		if (memcmp(&a[i], &b[i], 10))
			return 1;
	return 0;
}

// syscalls: the kernel keeps part of a program's vector state in the CPU
// between its traps and saves it only when another program thread runs;
// each round here makes every kind of call with the whole state held.
enum { sysThreads = 3, sysRounds = 300 };

static void *holdState(void *arg) {
	long id = (long)arg;
	uint32_t in[16][8], out[16][8];
	long double x87in[3], x87out[3];
	uint32_t mxin = (id % 2 ? 0x3f80 : 0x5f80) | (id == 2 ? 0x8000 : 0), mxout; // rounding down/up, FTZ
	for (int r = 0; r < 16; r++)
		for (int l = 0; l < 8; l++)
			in[r][l] = 0x01000193u * (uint32_t)(id * 16 + r + 1) + l;
	for (int i = 0; i < 3; i++)
		x87in[i] = (long double)(id + 1) / (i + 3); // 64-bit mantissas an SSE copy would round
	int fd = open("/dev/zero", O_RDONLY);
	struct timespec ts, nap = {0, 200000};
	char c;
	int bad = 0;
	for (int round = 0; round < sysRounds && !bad; round++) {
		memset(out, 0, sizeof out);
		memset(x87out, 0, sizeof x87out);
		__asm__ volatile(
		    YMM_LOAD_IN
		    "fldt 0(%[xin])\n fldt 16(%[xin])\n fldt 32(%[xin])\n"
		    "ldmxcsr %[mxin]\n"
		    "mov %[getppid], %%eax\n syscall\n"                          // answered at the entry
		    "mov %[cgt], %%eax\n mov $1, %%edi\n mov %[ts], %%rsi\n syscall\n" // in the trap handler
		    "mov %[read], %%eax\n mov %[fd], %%rdi\n mov %[c], %%rsi\n mov $1, %%edx\n syscall\n" // Go
		    "mov %[yield], %%eax\n syscall\n"                            // another thread runs
		    "mov %[nanosleep], %%eax\n mov %[nap], %%rdi\n xor %%esi, %%esi\n syscall\n" // all run
		    "stmxcsr %[mxout]\n"
		    "fstpt 32(%[xout])\n fstpt 16(%[xout])\n fstpt 0(%[xout])\n"
		    YMM_STORE_OUT
		    "ldmxcsr %[mxdef]\n"
		    : [mxout] "=m"(mxout)
		    : [in] "r"(in), [out] "r"(out), [xin] "r"(x87in), [xout] "r"(x87out), [mxin] "m"(mxin),
		      [mxdef] "m"((uint32_t){0x1f80}), [ts] "r"(&ts), [c] "r"(&c), [fd] "r"((long)fd),
		      [nap] "r"(&nap), [getppid] "i"(SYS_getppid), [cgt] "i"(SYS_clock_gettime),
		      [read] "i"(SYS_read), [yield] "i"(SYS_sched_yield), [nanosleep] "i"(SYS_nanosleep)
		    : "rax", "rdi", "rsi", "rdx", "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
		      "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
		bad = memcmp(in, out, sizeof in) != 0 || x87Differs(x87in, x87out) ||
		      mxout != mxin;
	}
	close(fd);
	return (void *)(long)!bad;
}

static int syscallsHold(void) { return runThreads(sysThreads, holdState, "YMM, x87 and MXCSR intact", "CHANGED"); }

int main(int argc, char **argv) {
	setvbuf(stdout, 0, _IOLBF, 0);
	const char *what = argc > 1 ? argv[1] : "";
	if (!strcmp(what, "threads"))
		return threads();
	if (!strcmp(what, "ifunc"))
		return ifunc();
	if (!strcmp(what, "signal"))
		return signalYMM();
	if (!strcmp(what, "syscalls"))
		return syscallsHold();
	printf("usage: avx threads|ifunc|signal|syscalls\n");
	return 2;
}
