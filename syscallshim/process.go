package syscallshim

import (
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"yolk/amd64"
	"yolk/initrd"
	"yolk/linux/sysno"
)

// Config describes the program to run.
type Config struct {
	Machine Machine
	Root    *initrd.FS // the cpio root, or nil when the initrd was the program itself
	Path    string     // the program's path: AT_EXECFN, /proc/self/exe
	Argv    []string
	Envp    []string
	Strace  bool // print each syscall in strace's format
	Debug   bool // print each syscall request in the Unikraft shim's format
	// MemInfo reports total and free memory in bytes, for sysinfo.
	MemInfo func() (total, free uint64)
}

// Process is a running program: its threads share the address space,
// file descriptors, working directory, signal actions and program break.
type Process struct {
	m    Machine
	cfg  Config
	comm string // command name for reports: basename of Path, 15 bytes
	pid  int32

	mu         sync.Mutex // guards everything below and the memory layout
	files      *fdTable
	cwd        string
	brkStart   uint64
	brk        uint64
	brkMax     uint64
	sigact     [65][32]byte
	threads    map[int32]*Thread
	nextTid    int32
	rlimits    map[int][2]uint64
	umask      uint32
	tio        [36]byte // console termios set by the program
	tioSet     bool
	threadName string
	startNs    int64
	imageStart uint64 // the program's ELF mappings, for /proc/self/maps
	imageEnd   uint64
	rootSize   uint64 // bytes of file data in the root, for statfs
	loggedOps  map[string]bool

	futex  futexTable
	itimer itimer
	events notifier // readiness changes of pollable files
	syms   *symtab

	unsupported [(sysno.Max + 64) / 64]uint64
	exitOnce    sync.Once
	done        chan int
	stopped     chan struct{} // closed when the program exits
}

// Thread is one program thread: a goroutine running the program through
// Machine.Enter, with its own registers and FS base in ctx.
type Thread struct {
	p          *Process
	ctx        *amd64.Context
	tid        int32
	clearTID   uint64 // set_tid_address / CLONE_CHILD_CLEARTID
	robustList uint64
	sigmask    uint64
	altstack   [3]uint64
	exited     bool
	sig        sigState
	restart    bool   // the last syscall ended with EINTR and may be restarted
	restartNr  uint64 // its number (read is 0)
}

// restartable lists the calls Linux restarts after a SA_RESTART handler
// (-ERESTARTSYS) among those yolk interrupts: reads of the console. Sleeps,
// pause and sigsuspend always return EINTR, as on Linux.
func restartable(nr uint64) bool {
	return nr == unix.SYS_READ || nr == unix.SYS_READV
}

// vecKick mirrors kernel.VecKick: Enter returned because another thread
// wants this one back (to take a signal).
const vecKick = amd64.VecSyscall + 1

// Wait blocks until the program exits and returns its exit status.
func (p *Process) Wait() int { return <-p.done }

// exit ends the program with status (exit_group, last thread's exit, or a
// fatal signal).
func (p *Process) exit(status int) {
	p.exitOnce.Do(func() {
		if p.stopped != nil {
			close(p.stopped)
		}
		p.done <- status & 0xff
	})
}

// newThread registers a thread with the given registers.
func (p *Process) newThread(ctx *amd64.Context) *Thread {
	p.mu.Lock()
	defer p.mu.Unlock()
	tid := p.nextTid
	p.nextTid++
	t := &Thread{p: p, ctx: ctx, tid: tid}
	t.sig.wake = make(chan struct{}, 1)
	p.threads[tid] = t
	return t
}

// run is a thread's life: enter the program, serve its syscalls, until it
// exits or faults.
func (t *Thread) run() {
	for !t.exited && t.takeSignals() {
		v := t.p.m.Enter(t.ctx)
		if v == vecKick {
			continue // another thread sent a signal
		}
		if v != amd64.VecSyscall {
			t.fault(v)
			continue
		}
		r := &t.ctx.Regs
		a := Args{r.RDI, r.RSI, r.RDX, r.R10, r.R8, r.R9}
		nr := r.RAX
		r.RAX = t.syscall(nr, a)
		t.restart = int64(r.RAX) == -int64(unix.EINTR) && restartable(nr)
		t.restartNr = nr // a SA_RESTART handler makes it run again
	}
}

// Args are a syscall's six arguments (RDI, RSI, RDX, R10, R8, R9).
type Args [6]uint64

// syscall runs one syscall with tracing around it.
func (t *Thread) syscall(nr uint64, a Args) uint64 {
	p := t.p
	if p.cfg.Debug {
		p.printf("Binary system call request \"%s\" (%d) at ip:%#x (arg0=%#x, arg1=%#x, arg2=%#x, arg3=%#x, arg4=%#x, arg5=%#x)\n",
			sysno.Name(uintptr(nr)), nr, t.ctx.Regs.RIP-2, a[0], a[1], a[2], a[3], a[4], a[5])
	}
	var pre string
	if p.cfg.Strace {
		pre = t.traceEnter(nr, a)
	}
	ret := t.dispatch(nr, a)
	if p.cfg.Strace {
		t.traceExit(nr, a, pre, ret)
	}
	return ret
}

// result converts a handler's outcome to the raw return value: the one
// place an error becomes -errno.
func result(v uint64, err error) uint64 {
	if err == nil {
		return v
	}
	e, ok := err.(unix.Errno)
	if !ok {
		e = unix.EIO
	}
	return uint64(-int64(e))
}

// nosys answers ENOSYS and logs the first call of each number.
func (t *Thread) nosys(nr uint64) (uint64, error) {
	p := t.p
	p.mu.Lock()
	first := nr < uint64(len(p.unsupported)*64) && p.unsupported[nr/64]&(1<<(nr%64)) == 0
	if first {
		p.unsupported[nr/64] |= 1 << (nr % 64)
	}
	p.mu.Unlock()
	if first {
		if p.cfg.Debug {
			p.printf("syscall \"%s\" is not available\n", sysno.Name(uintptr(nr)))
		} else {
			p.printf("yolk: %s[%d]: syscall %s (%d) is not supported: ENOSYS, at ip %#x\n",
				p.comm, t.tid, sysno.Format(uintptr(nr)), nr, t.ctx.Regs.RIP-2)
		}
	}
	return 0, unix.ENOSYS
}

func (p *Process) printf(format string, args ...any) {
	p.m.ConsoleWrite([]byte(fmt.Sprintf(format, args...)))
}
