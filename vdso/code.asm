# yolk's vDSO functions, in GNU as (AT&T) syntax for x86-64. gen.go
# assembles this file with `as --64` and wraps the .text in the ELF image
# itself; the code must need no relocation (gen.go refuses one).
#
# gen.go defines with --defsym:
#   VV_SEQ, VV_TSC_BASE, VV_NS_BASE, VV_MULT, VV_SHIFT, VV_WALL_OFFSET,
#   VV_GETCPU
#       the offsets of vdso.VVar's fields;
#   GETCPU_RDTSCP, GETCPU_RDPID  the values of VV_GETCPU;
#   TEXT_TO_VVAR  the vvar page's address minus this .text's (negative:
#       the page is mapped just below the image).
#
# The functions follow the SysV ABI: arguments in %rdi, %rsi, %rdx, result
# in %rax; they use only caller-saved registers and 16 bytes of stack.

	.text

SYS_clock_gettime = 228
SYS_clock_getres = 229
SYS_getcpu = 309
NS_PER_SEC = 1000000000

# Clocks answered here (the others trap, as CPU-time clocks must):
# REALTIME 0, MONOTONIC 1, MONOTONIC_RAW 4, REALTIME_COARSE 5,
# MONOTONIC_COARSE 6, BOOTTIME 7. The kernel's own clock_gettime gives
# the same values for these (its clock has no NTP slewing and no suspend,
# and the coarse clocks are simply the precise ones).
MAX_FAST = 7
FAST_CLOCKS = (1 << 0) | (1 << 1) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7)
REAL_CLOCKS = (1 << 0) | (1 << 5)

text_start:

# now: %rax = CLOCK_MONOTONIC in ns, %r8 = the realtime offset, read
# consistently under the vvar page's sequence lock. Clobbers %rcx, %rdx,
# %r9, %r10; keeps %rdi and %rsi.
now:
	leaq	text_start+TEXT_TO_VVAR(%rip), %r9
1:	movl	VV_SEQ(%r9), %r10d
	testl	$1, %r10d		# odd: the kernel is writing
	jnz	2f
	# x86 keeps loads in order (SDM vol. 3 §9.2.2), so the parameters
	# below are read after the sequence; LFENCE keeps RDTSC from running
	# ahead of them, so that two calls never go backwards.
	lfence
	rdtsc
	shlq	$32, %rdx
	orq	%rdx, %rax		# %rax = TSC
	subq	VV_TSC_BASE(%r9), %rax
	movl	VV_SHIFT(%r9), %ecx
	mulq	VV_MULT(%r9)		# %rdx:%rax = ticks * mult
	shrdq	%cl, %rdx, %rax		# >> shift (at most 63)
	addq	VV_NS_BASE(%r9), %rax
	movq	VV_WALL_OFFSET(%r9), %r8
	cmpl	VV_SEQ(%r9), %r10d	# changed under us: read again
	jne	1b
	ret
2:	pause
	jmp	1b

# split: %rax (signed ns) -> %rax seconds, %rdx ns in [0, 1e9), floored
# as a timespec wants. Clobbers %rcx. A time at or after 0 (always, but
# for a realtime clock set before 1970) is divided by multiplying with
# 2^84/1e9 as compilers do (a 128-bit IDIV is a helper call under TCG).
split:
	testq	%rax, %rax
	js	2f
	movq	%rax, %rcx
	shrq	$9, %rax
	movabsq	$19342813113834067, %rdx	# ceil(2^84 / 1e9)
	mulq	%rdx
	shrq	$11, %rdx		# seconds: (ns >> 9) * m >> 75
	movq	%rdx, %rax
	imulq	$NS_PER_SEC, %rdx, %rdx
	subq	%rdx, %rcx
	movq	%rcx, %rdx
	ret
2:	movl	$NS_PER_SEC, %ecx
	cqto
	idivq	%rcx
	testq	%rdx, %rdx
	jns	3f
	addq	%rcx, %rdx
	decq	%rax
3:	ret

# int __vdso_clock_gettime(clockid_t clk, struct timespec *ts)
	.globl	__vdso_clock_gettime
	.type	__vdso_clock_gettime, @function
__vdso_clock_gettime:
	cmpl	$MAX_FAST, %edi		# unsigned: CPU-time clock ids are negative
	ja	9f
	movl	$FAST_CLOCKS, %eax
	btl	%edi, %eax
	jnc	9f
	call	now
	movl	$REAL_CLOCKS, %ecx
	btl	%edi, %ecx
	jnc	1f
	addq	%r8, %rax
1:	call	split
	movq	%rax, (%rsi)
	movq	%rdx, 8(%rsi)
	xorl	%eax, %eax
	ret
9:	movl	$SYS_clock_gettime, %eax
	syscall
	ret
	.size	__vdso_clock_gettime, . - __vdso_clock_gettime

# int __vdso_gettimeofday(struct timeval *tv, struct timezone *tz)
	.globl	__vdso_gettimeofday
	.type	__vdso_gettimeofday, @function
__vdso_gettimeofday:
	testq	%rdi, %rdi
	jz	1f
	call	now
	addq	%r8, %rax
	call	split
	movq	%rax, (%rdi)
	movq	%rdx, %rax
	movl	$1000, %ecx
	xorl	%edx, %edx
	divq	%rcx			# ns -> us
	movq	%rax, 8(%rdi)
1:	testq	%rsi, %rsi
	jz	2f
	movq	$0, (%rsi)		# UTC: tz_minuteswest 0, tz_dsttime 0
2:	xorl	%eax, %eax
	ret
	.size	__vdso_gettimeofday, . - __vdso_gettimeofday

# time_t __vdso_time(time_t *t)
	.globl	__vdso_time
	.type	__vdso_time, @function
__vdso_time:
	call	now
	addq	%r8, %rax
	call	split
	testq	%rdi, %rdi
	jz	1f
	movq	%rax, (%rdi)
1:	ret
	.size	__vdso_time, . - __vdso_time

# int __vdso_getcpu(unsigned *cpu, unsigned *node, void *cache): the CPU
# from IA32_TSC_AUX (CPU number, node << 12, as Linux sets it) through
# RDPID or RDTSCP, as the vvar page says the CPU has them, else the
# system call.
	.globl	__vdso_getcpu
	.type	__vdso_getcpu, @function
__vdso_getcpu:
	leaq	text_start+TEXT_TO_VVAR(%rip), %r9
	movl	VV_GETCPU(%r9), %eax
	cmpl	$GETCPU_RDPID, %eax
	je	3f
	cmpl	$GETCPU_RDTSCP, %eax
	jne	9f
	rdtscp				# TSC_AUX in %ecx (%edx:%eax the TSC)
	jmp	4f
3:	rdpid	%rcx
4:	testq	%rdi, %rdi
	jz	1f
	movl	%ecx, %eax
	andl	$0xfff, %eax
	movl	%eax, (%rdi)
1:	testq	%rsi, %rsi
	jz	2f
	shrl	$12, %ecx
	movl	%ecx, (%rsi)
2:	xorl	%eax, %eax
	ret
9:	movl	$SYS_getcpu, %eax
	syscall
	ret
	.size	__vdso_getcpu, . - __vdso_getcpu

# int __vdso_clock_getres(clockid_t clk, struct timespec *res): 1 ns, as
# the kernel's clock_getres says.
	.globl	__vdso_clock_getres
	.type	__vdso_clock_getres, @function
__vdso_clock_getres:
	cmpl	$MAX_FAST, %edi
	ja	9f
	movl	$FAST_CLOCKS, %eax
	btl	%edi, %eax
	jnc	9f
	testq	%rsi, %rsi
	jz	1f
	movq	$0, (%rsi)
	movq	$1, 8(%rsi)
1:	xorl	%eax, %eax
	ret
9:	movl	$SYS_clock_getres, %eax
	syscall
	ret
	.size	__vdso_clock_getres, . - __vdso_clock_getres
