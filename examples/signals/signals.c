/* signals: handlers run as on Linux. raise() reaches a handler; a NULL
 * write reaches a SA_SIGINFO handler on an alternate stack, which
 * siglongjmps out; floating point survives; abort() ends the program with
 * SIGABRT (status 134). */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sigjmp_buf jb;
static volatile sig_atomic_t got;

static void onusr1(int s) { got = s; }

static void onsegv(int s, siginfo_t *si, void *uc)
{
	(void)uc;
	printf("signal %d (code %d) at %p\n", s, si->si_code, si->si_addr);
	siglongjmp(jb, 1);
}

int main(void)
{
	signal(SIGUSR1, onusr1);
	raise(SIGUSR1);
	printf("SIGUSR1 handler ran: %d\n", got);

	stack_t ss = { .ss_sp = malloc(65536), .ss_size = 65536 };
	sigaltstack(&ss, NULL);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = onsegv;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigaction(SIGSEGV, &sa, NULL);
	int *volatile bad = (int *)0x10;
	if (sigsetjmp(jb, 1) == 0)
		*bad = 1;
	printf("recovered from SIGSEGV\n");

	double x = 1.5;
	for (int i = 0; i < 3; i++)
		x *= 2.25;
	printf("floating point intact: %.4f\n", x);
	fflush(stdout);
	abort();
}
