package syscallshim

import (
	"sync/atomic"

	"golang.org/x/sys/unix"

	"yolk/amd64"
)

// Fast system calls. A thread's Context lists calls whose result cannot
// change until the shim says so (amd64.FastCalls); the kernel's SYSCALL
// entry answers those itself, with SYSRET, and never wakes the thread's
// goroutine. The answers come from dispatch, so they are exactly what the
// slow path gives.
//
// Whatever could change an answer, or needs the next call to come here,
// withdraws the list first (withdrawFast: a signal sent, credentials
// changed, a parent's exit reparenting the process, execve resetting the
// Context); the thread publishes it again before it re-enters the
// program. publishFast turns the list on before it reads the answers, so
// a withdrawal racing with it either comes after (and wins) or is seen.

// fastCallNrs are the calls answered from the list: the thread's and
// process's identity, which glibc, Go and shells ask for often.
var fastCallNrs = [amd64.MaxFastCalls]uint64{
	unix.SYS_GETPID, unix.SYS_GETPPID, unix.SYS_GETTID,
	unix.SYS_GETUID, unix.SYS_GETEUID, unix.SYS_GETGID, unix.SYS_GETEGID,
}

// publishFast lists the fast calls' answers in the thread's Context
// unless they are listed already, or every call must come to the shim
// (tracing, debug output).
func (t *Thread) publishFast() {
	f := &t.ctx.Fast
	if t.p.cfg.Debug || t.p.sys.trace.On || atomic.LoadUint64(&f.N) != 0 {
		return
	}
	atomic.StoreUint64(&f.N, uint64(len(fastCallNrs)))
	for i, nr := range fastCallNrs {
		f.Nr[i] = nr
		f.Ret[i] = t.dispatch(nr, Args{})
	}
	// clock_gettime's clocks are the Machine's, which the kernel reads
	// the same way (Monotonic, Realtime).
	f.Clock = 1
}

// withdrawFast makes every call of the thread come to the shim until it
// publishes the list again.
func (t *Thread) withdrawFast() { atomic.StoreUint64(&t.ctx.Fast.N, 0) }
