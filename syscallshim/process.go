package syscallshim

import (
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"yolk/amd64"
	"yolk/initrd"
	"yolk/linux/abi"
	"yolk/linux/sysno"
	ynet "yolk/net"
	"yolk/strace"
	"yolk/vfs"
)

// Config describes the first program to run and what every process
// shares.
type Config struct {
	Machine Machine
	Root    *initrd.FS // the cpio root
	// RootFS, when set instead of Root, is the read-only filesystem of
	// the root (a host directory), under the same writable layer.
	RootFS vfs.Filesystem
	Path   string // the first program's path: AT_EXECFN, /proc/self/exe
	Argv   []string
	Envp   []string
	Strace bool           // print each syscall in strace's format
	Trace  strace.Options // strace's options (strace=OPTS); Strace alone means the defaults
	Debug  bool           // print each syscall request in the Unikraft shim's format
	// MemInfo reports total and free memory in bytes, for sysinfo.
	MemInfo func() (total, free uint64)
	// MaxThreads bounds the program threads of all processes together
	// (clone then fails with EAGAIN); 0 means no bound.
	MaxThreads int
	// Mounts are filesystems to mount at boot (host directories), in
	// order; Cwd is the first program's working directory ("" is /).
	Mounts []Mount
	Cwd    string
	// Share attaches the virtio-9p share with a tag, for mount(2) of
	// type "9p"; nil when the machine has none.
	Share func(tag string) (vfs.Filesystem, error)
	// Net is the network stack for AF_INET and AF_INET6 sockets; nil
	// means one with loopback only, made at the first such socket (with
	// NetConfig when set, whose DNS /etc/resolv.conf then names).
	Net       *ynet.Stack
	NetConfig *ynet.Config
}

// Mount is a filesystem the first program finds mounted at Path (made
// if missing).
type Mount struct {
	Path     string
	FS       vfs.Filesystem
	Source   string
	ReadOnly bool
}

// System is every process of one machine: the process and thread tables
// and what processes share (the console, the root, readiness changes).
// Its lock guards the tables and every process's place in the tree
// (parent, children, process group, session, zombie state).
type System struct {
	m   Machine
	cfg Config

	mu       sync.Mutex
	procs    map[int32]*Process // live and zombie processes, by PID
	threads  map[int32]*Thread  // live threads, by TID
	lastID   int32              // PIDs and TIDs share one number space, as on Linux
	forks    int64              // threads and processes made (/proc/stat's processes)
	starting int                // IDs handed out whose thread is not registered yet
	init     *Process

	sharedFutex futexTable[sharedFutexKey] // futexes in MAP_SHARED mappings (sysFutex)

	con   *console
	vfs   *vfs.VFS  // the file tree (namespace.go)
	fifos fifoTable // open FIFOs
	locks lockTable // file locks

	prof       *profiler      // the sampling profiler's drain (profile.go), or nil
	trace      strace.Options // what to trace and how (traceopts.go)
	traceStats strace.Stats
	traceMu    sync.Mutex
	traceLast  int64 // monotonic ns of the last line, for -r

	filemaps fileMaps // the pages of mapped files (filemap.go)

	tmpfsBytes int64    // the size limit of each tmpfs
	events     notifier // readiness changes of pollable files

	sockets socketState // the network stack, AF_UNIX names (socket.go)

	logMu       sync.Mutex
	unsupported [(sysno.Max + 64) / 64]uint64
	loggedOps   map[string]bool

	doneOnce sync.Once
	done     chan int      // PID 1's status
	stopped  chan struct{} // closed when PID 1 is gone
}

// maxPID bounds the number of live processes and threads together
// (Linux's default pid_max is 32768; the kernel's thread limit is lower,
// see README.md).
const maxPID = 1 << 22

// newIDLocked returns an unused PID/TID for a new thread (s.mu held),
// or false when the thread limit is reached (clone's EAGAIN).
func (s *System) newIDLocked() (int32, bool) {
	if len(s.procs)+len(s.threads) >= maxPID/2 || s.cfg.MaxThreads > 0 && s.starting+len(s.threads) >= s.cfg.MaxThreads {
		return 0, false
	}
	s.starting++ // until newThread registers it
	s.forks++
	for {
		s.lastID++
		if s.lastID >= maxPID {
			s.lastID = 2 // PID 1 is init's for good
		}
		_, p := s.procs[s.lastID]
		_, t := s.threads[s.lastID]
		if !p && !t {
			return s.lastID, true
		}
	}
}

// procState is where a process is in its life.
type procState uint8

const (
	procLive   procState = iota
	procZombie           // exited, waiting for its parent to reap it
)

// Process is a thread group: threads sharing a PID, signal actions and
// (usually) memory, files and working directory. The pieces clone(2) can
// share between processes (memory, the descriptor table) are objects of
// their own.
type Process struct {
	sys *System
	m   Machine
	cfg *Config
	pid int32

	// The tree, guarded by sys.mu.
	parent     *Process
	children   map[*Process]struct{}
	pgid, sid  int32
	state      procState
	waitStatus uint32        // wait(2) status once a zombie
	exitSignal int           // sent to the parent at exit (SIGCHLD, or 0)
	childEvent notifier      // a child changed state (wait4 waits on it)
	vforkDone  chan struct{} // closed at exec or exit when created by vfork

	mu         sync.Mutex // guards everything below
	mem        *memory
	files      *fdTable
	cwd        vfs.Path // the zero Path is the root
	umask      uint32
	comm       string   // command name: basename of the program, 15 bytes
	exe        string   // the program's path (/proc/self/exe)
	argv       []string // for /proc/self/cmdline
	sigact     [65][32]byte
	threads    map[int32]*Thread
	cred       creds
	rlimits    map[int][2]uint64
	threadName string
	startNs    int64
	exiting    bool    // a group exit is under way: no thread enters the program again
	execer     *Thread // the thread in execve ending the others (they end alone, not the process)
	exitCode   int     // exit status, or
	termSig    int     // the signal that ended the process

	itimer itimer

	// CPU time (as the kernel measures it per thread in
	// amd64.Context.UserNs and SysNs): of the threads that have exited,
	// and of the children reaped, with what they had reaped
	// (RUSAGE_CHILDREN).
	dead, child cpuTime
	cpuTimers   cpuTimers   // ITIMER_VIRTUAL and ITIMER_PROF (cputimer.go)
	ptimers     posixTimers // timer_create's (posixtimer.go)
	events      *notifier   // the system's
}

// Thread is one program thread: a goroutine running the program through
// Machine.Enter, with its own registers and FS base in ctx.
type Thread struct {
	p          *Process
	ctx        *amd64.Context
	tid        int32
	clearTID   uint64 // set_tid_address / CLONE_CHILD_CLEARTID
	robustList uint64
	sigmask    atomic.Uint64 // blocked signals: written by the thread, read by senders
	altstack   [3]uint64
	exited     bool
	sig        sigState
	restart    bool   // the last syscall ended with EINTR and may be restarted
	restartNr  uint64 // its number (read is 0)
	keepCaps   bool   // prctl PR_SET_KEEPCAPS (per thread, as Linux's securebits)

	// recvDeadline, when not 0, bounds the socket waits of the call in
	// progress (monotonic ns): recvmmsg's timeout.
	recvDeadline int64

	// ioScratch is the bounce buffer of the thread's small reads and
	// writes (ioBuffer): one system call at a time uses it.
	ioScratch [smallIO]byte

	// borrowed are the files the system call in progress took from the
	// descriptor table (Thread.file), each with a reference dropped when
	// the call ends: a close by another thread meanwhile does not
	// release a file in use.
	borrowed  []*vfs.File
	borrowBuf [4]*vfs.File

	// fastFiles is the descriptor table whose generation the Context's
	// fast list names (Fast.Files): kept alive here while it does.
	fastFiles *fdTable
}

func (t *Thread) mask() uint64     { return t.sigmask.Load() }
func (t *Thread) setMask(m uint64) { t.sigmask.Store(m) }

// restartable lists the calls Linux restarts after a SA_RESTART handler
// (-ERESTARTSYS) among those yolk interrupts: reads of the console. Sleeps,
// pause and sigsuspend always return EINTR, as on Linux.
func restartable(nr uint64) bool {
	return nr == unix.SYS_READ || nr == unix.SYS_READV
}

// vecKick mirrors kernel.VecKick: Enter returned because another thread
// wants this one back (to take a signal).
const vecKick = amd64.VecSyscall + 1

// Wait blocks until PID 1 exits and returns its status for the machine:
// its exit status, or 128+N when signal N ended it.
func (s *System) Wait() int { return <-s.done }

// newThread registers a thread of p with the given registers and TID.
func (p *Process) newThread(ctx *amd64.Context, tid int32) *Thread {
	t := &Thread{p: p, ctx: ctx, tid: tid}
	t.sig.wake = make(chan struct{}, 1)
	p.mu.Lock()
	p.threads[tid] = t
	p.mu.Unlock()
	p.sys.mu.Lock()
	p.sys.threads[tid] = t
	if p.sys.starting > 0 {
		p.sys.starting--
	}
	p.sys.mu.Unlock()
	return t
}

// run is a thread's life: enter the program, serve its syscalls, until it
// exits, faults or the process ends.
func (t *Thread) run() {
	defer t.finish()
	for !t.exited {
		t.publishFast() // before takeSignals: a signal sent after it withdraws the list
		if !t.takeSignals() {
			break
		}
		t.cpuAlarm()
		v := t.p.m.Enter(t.ctx, t.p.memory().as)
		t.checkCPUTimers()
		if v == vecKick {
			continue // another thread sent a signal, or a CPU timer's alarm
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

// memory returns the process's address space and its bookkeeping.
func (p *Process) memory() *memory {
	p.mu.Lock() // no defer: every entry into the program comes here
	m := p.mem
	p.mu.Unlock()
	return m
}

// finish ends a thread: CLONE_CHILD_CLEARTID, then the process's end when
// it was the last thread.
func (t *Thread) finish() {
	p := t.p
	if f, ok := p.m.(Forgetter); ok {
		f.Forget(t.ctx, nil) // the Context is garbage once this goroutine ends
	}
	if t.clearTID != 0 {
		// Clear the TID word and wake a joiner (pthread_join).
		mem := p.memory()
		if t.put32(t.clearTID, 0) == nil {
			mem.futex.wake(t.clearTID, 1, ^uint32(0))
		}
	}
	p.mu.Lock()
	delete(p.threads, t.tid)
	p.dead = p.dead.add(t.times())
	last := len(p.threads) == 0
	p.mu.Unlock()
	p.sys.mu.Lock()
	delete(p.sys.threads, t.tid)
	p.sys.mu.Unlock()
	p.events.notify() // execve may wait for the other threads to go
	if last {
		p.exit()
	}
}

// groupExit ends every thread of the process: the first call decides the
// status (exit code, or the signal that ended it). The other threads are
// made to leave the program and their waits.
func (p *Process) groupExit(code, sig int, except *Thread) {
	p.mu.Lock()
	if !p.exiting {
		p.exiting, p.exitCode, p.termSig = true, code, sig
	}
	others := make([]*Thread, 0, len(p.threads))
	for _, th := range p.threads {
		if th != except {
			others = append(others, th)
		}
	}
	p.mu.Unlock()
	for _, th := range others {
		th.sendSignal(th, int(unix.SIGKILL), sigInfo{code: 0x80})
		if k, ok := p.m.(kicker); ok {
			k.Kick(th.ctx)
		}
	}
}

// die ends the calling thread's process by signal sig (its default
// action, a fault, or an exhausted resource).
func (t *Thread) die(sig int) {
	t.exited = true
	t.p.groupExit(0, sig, t)
}

// exit runs when the last thread is gone: the process releases its files
// and memory, its children go to init, and it becomes a zombie for its
// parent to reap (or is reaped at once when the parent does not wait).
func (p *Process) exit() {
	p.itimerStop()
	p.deleteTimers()
	p.mu.Lock()
	files, mem := p.files, p.mem
	p.files, p.mem = nil, nil
	code, sig := p.exitCode, p.termSig
	p.mu.Unlock()
	if files != nil {
		files.release(p.sys)
	}
	p.sys.locks.releaseOwner(p, nil)
	if mem != nil {
		p.sys.profileFlush(p.pid, mem, false)
		mem.release(p.m)
	}
	status := uint32(code&0xff) << 8
	if sig != 0 {
		status = uint32(sig & 0x7f)
	}
	s := p.sys
	s.mu.Lock()
	if p.vforkDone != nil {
		close(p.vforkDone)
		p.vforkDone = nil
	}
	p.state, p.waitStatus = procZombie, status
	for c := range p.children {
		c.parent = s.init
		if s.init != nil && s.init != p {
			s.init.children[c] = struct{}{}
		}
	}
	if len(p.children) > 0 {
		for _, th := range s.threads { // getppid changes
			if _, adopted := p.children[th.p]; adopted {
				th.withdrawFast()
			}
		}
	}
	p.children = map[*Process]struct{}{}
	parent := p.parent
	autoReap := parent == nil || parent.ignoresChildren()
	if autoReap {
		if parent != nil {
			delete(parent.children, p)
		}
		delete(s.procs, p.pid)
	}
	s.mu.Unlock()
	if s.init != nil && s.init != p {
		s.init.childEvent.notify() // adopted zombies may be waiting
	}
	p.events.notify() // pidfds of p are readable now
	if parent != nil {
		if !autoReap && p.exitSignal != 0 {
			parent.signal(p.exitSignal, sigInfo{code: cldCode(sig), pid: p.pid, status: childStatus(code, sig)})
		}
		parent.childEvent.notify()
	}
	if p == s.init {
		st := code & 0xff
		if sig != 0 {
			st = 128 + sig
		}
		s.finish(st)
	}
}

// ignoresChildren reports whether the process's children are reaped
// without a wait: SIGCHLD ignored or SA_NOCLDWAIT set (sys.mu held; the
// actions are read under p.mu).
func (p *Process) ignoresChildren() bool {
	p.mu.Lock()
	a := p.sigact[unix.SIGCHLD]
	p.mu.Unlock()
	act := abi.DecodeSigaction(&a)
	return act.Handler == sigIGN || act.Flags&abi.SA_NOCLDWAIT != 0
}

// finish ends the machine's run with status (PID 1 exited).
func (s *System) finish(status int) {
	s.doneOnce.Do(func() {
		s.traceSummary()
		s.profileFlush(0, nil, true)
		close(s.stopped)
		s.done <- status & 0xff
	})
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
	if p.sys.trace.On {
		return t.traceSyscall(nr, a)
	}
	return t.dispatch(nr, a)
}

// file returns descriptor n's file for the system call in progress,
// which holds a reference to it until it ends (as Linux's fdget): another
// thread's close only removes the descriptor.
func (t *Thread) file(n uint64) (*vfs.File, error) {
	f, err := t.p.files.fileRef(n)
	if err != nil {
		return nil, err
	}
	if t.borrowed == nil {
		t.borrowed = t.borrowBuf[:0]
	}
	t.borrowed = append(t.borrowed, f)
	return f, nil
}

// returnFiles drops the references the call took with Thread.file.
func (t *Thread) returnFiles() {
	for i, f := range t.borrowed {
		f.DecRef()
		t.borrowed[i] = nil
	}
	t.borrowed = t.borrowed[:0]
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
	s := t.p.sys
	s.logMu.Lock()
	first := nr < uint64(len(s.unsupported)*64) && s.unsupported[nr/64]&(1<<(nr%64)) == 0
	if first {
		s.unsupported[nr/64] |= 1 << (nr % 64)
	}
	s.logMu.Unlock()
	if first {
		if t.p.cfg.Debug {
			t.p.printf("syscall \"%s\" is not available\n", sysno.Name(uintptr(nr)))
		} else {
			t.p.printf("yolk: %s[%d]: syscall %s (%d) is not supported: ENOSYS, at ip %#x\n",
				t.p.name(), t.tid, sysno.Format(uintptr(nr)), nr, t.ctx.Regs.RIP-2)
		}
	}
	return 0, unix.ENOSYS
}

// exe returns the path of the program the process runs.
func (t *Thread) exe() string {
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	return t.p.exe
}

// name returns the process's command name.
// cpuNs is the CPU time t has run in user mode.
func (t *Thread) cpuNs() int64 { return atomic.LoadInt64(&t.ctx.UserNs) }

// cpuTime is CPU time in user mode and in the kernel, in nanoseconds.
type cpuTime struct{ user, sys int64 }

func (c cpuTime) add(d cpuTime) cpuTime { return cpuTime{c.user + d.user, c.sys + d.sys} }

// total is what the CPU-time clocks count: both.
func (c cpuTime) total() int64 { return c.user + c.sys }

// times is the CPU time t has run, in user mode and in the kernel.
func (t *Thread) times() cpuTime {
	return cpuTime{atomic.LoadInt64(&t.ctx.UserNs), atomic.LoadInt64(&t.ctx.SysNs)}
}

// cpuNs is the CPU time p's threads, live and exited, have run in user
// mode (what ITIMER_VIRTUAL and ITIMER_PROF count).
func (p *Process) cpuNs() int64 { return p.times().user }

// times is the CPU time p's threads, live and exited, have run.
func (p *Process) times() cpuTime {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.dead
	for _, t := range p.threads {
		c = c.add(t.times())
	}
	return c
}

// childTimes is the CPU time of p's reaped children (RUSAGE_CHILDREN).
func (p *Process) childTimes() cpuTime {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.child
}

func (p *Process) name() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.comm
}

func (p *Process) printf(format string, args ...any) {
	p.m.ConsoleWrite([]byte(fmt.Sprintf(format, args...)))
}
