package syscallshim

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"yolk/amd64"
	"yolk/vfs"
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
//
// The kernel's trap handler also answers, while the list is on, reads
// and writes of the descriptors noteFastFD lists (/dev/zero and
// /dev/null), for as long as the descriptor table stays as it was.

// fastCallNrs are the calls answered from the list: the thread's and
// process's identity, which glibc, Go and shells ask for often.
var fastCallNrs = [amd64.MaxFastCalls]uint64{
	unix.SYS_GETPID, unix.SYS_GETPPID, unix.SYS_GETTID,
	unix.SYS_GETUID, unix.SYS_GETEUID, unix.SYS_GETGID, unix.SYS_GETEGID,
}

// fastCallMask is FastCalls.Mask for fastCallNrs.
var fastCallMask = func() (m [4]uint64) {
	for _, nr := range fastCallNrs {
		m[nr/64] |= 1 << (nr % 64)
	}
	return m
}()

// publishFast lists the fast calls' answers in the thread's Context
// unless they are listed already, or every call must come to the shim
// (tracing, debug output).
func (t *Thread) publishFast() {
	f := &t.ctx.Fast
	if t.p.cfg.Debug || t.p.sys.trace.On || atomic.LoadUint64(&f.N) != 0 {
		return
	}
	atomic.StoreUint64(&f.N, uint64(len(fastCallNrs)))
	f.Mask = fastCallMask
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

// noteFastFD lists descriptor n, whose file the call in progress took
// (f), for the kernel to answer the thread's next reads and writes of it
// itself, if f is /dev/zero or /dev/null (amd64.FastCalls.FD). The list
// is tied to the descriptor table's generation: any change of the table
// withdraws it all, and the next call here lists again.
func (t *Thread) noteFastFD(n uint64, f *vfs.File) {
	if n >= amd64.MaxFastFDs {
		return
	}
	dv, ok := streamOf(f).(*device)
	if !ok || dv.rdev != rdevNull && dv.rdev != rdevZero {
		return
	}
	var k uint8
	switch f.Flags() & unix.O_ACCMODE {
	case unix.O_RDONLY:
		k = fastRead(dv)
	case unix.O_WRONLY:
		k = amd64.FastFDSink
	case unix.O_RDWR:
		k = fastRead(dv) | amd64.FastFDSink
	}
	if f.Flags()&unix.O_PATH != 0 {
		return
	}
	tab := t.p.files
	tab.mu.Lock()
	same := n < uint64(len(tab.fds)) && tab.fds[n] != nil && tab.fds[n].f == f
	gen := tab.gen.Load()
	tab.mu.Unlock()
	if !same {
		return
	}
	fc := &t.ctx.Fast
	if addr := uint64(uintptr(unsafe.Pointer(&tab.gen))); fc.Files != addr || fc.FilesGen != gen {
		// Another table, or this one changed: start over. The thread
		// keeps the table alive while its Context names it.
		fc.Files = 0
		clear(fc.FD[:])
		t.fastFiles = tab
		fc.FilesGen = gen
		fc.Files = addr
	}
	fc.FD[n] = k
}

// fastRead is the FastCalls.FD bit for reads of device dv.
func fastRead(dv *device) uint8 {
	if dv.rdev == rdevZero {
		return amd64.FastFDZero
	}
	return amd64.FastFDEOF
}
