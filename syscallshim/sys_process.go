package syscallshim

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// Processes: fork, vfork, clone without CLONE_THREAD, wait, process
// groups and sessions (fork(2), clone(2), wait4(2), waitid(2),
// setpgid(2), setsid(2)). execve is in exec.go.

func sysFork(t *Thread, a Args) (uint64, error) {
	return t.clone(cloneArgs{flags: uint64(unix.SIGCHLD)})
}

func sysVfork(t *Thread, a Args) (uint64, error) {
	return t.clone(cloneArgs{flags: unix.CLONE_VM | unix.CLONE_VFORK | uint64(unix.SIGCHLD)})
}

// sysClone3 implements clone3(2) through clone: struct clone_args'
// stack is the lowest address of the child's stack, and exit_signal a
// field of its own. set_tid and cgroup are not supported (EINVAL).
func sysClone3(t *Thread, a Args) (uint64, error) {
	size := a[1]
	if size < 64 || size > 4096 {
		return 0, unix.EINVAL
	}
	b, err := t.copyIn(a[0], size)
	if err != nil {
		return 0, err
	}
	f := func(i int) uint64 { return binary.LittleEndian.Uint64(b[8*i:]) }
	flags, pidfd, ctid, ptid, exitSig, stack, stackSize, tls := f(0), f(1), f(2), f(3), f(4), f(5), f(6), f(7)
	for _, c := range b[64:] {
		if c != 0 { // set_tid, set_tid_size, cgroup and later fields
			return 0, unix.EINVAL
		}
	}
	if flags&0xff != 0 || exitSig > 64 || (stack == 0) != (stackSize == 0) {
		return 0, unix.EINVAL
	}
	sp := uint64(0)
	if stack != 0 {
		sp = stack + stackSize
	}
	return t.clone(cloneArgs{flags: flags | exitSig, stack: sp, ptid: ptid, ctid: ctid, tls: tls, pidfd: pidfd, clone3: true})
}

// cloneProcess creates a child process: fork(2) copies the address space
// (copy-on-write) and the descriptor table; CLONE_VM shares the memory
// (vfork and posix_spawn, which also set CLONE_VFORK: the caller waits
// until the child execs or exits), CLONE_FILES the table. Working
// directory, umask, signal actions and limits are copied (CLONE_FS and
// CLONE_SIGHAND between processes are treated as copies: programs using
// them share nothing they later change).
func (t *Thread) cloneProcess(ca cloneArgs) (uint64, error) {
	p, s := t.p, t.p.sys
	flags := ca.flags
	p.mu.Lock()
	mem, files := p.mem, p.files
	p.mu.Unlock()
	var cmem *memory
	if flags&unix.CLONE_VM != 0 {
		cmem = mem.share()
	} else {
		m, err := mem.fork()
		if err != nil {
			return 0, unix.ENOMEM
		}
		cmem = m
	}
	var cfiles *fdTable
	if flags&unix.CLONE_FILES != 0 {
		cfiles = files.share()
	} else {
		cfiles = files.fork()
	}

	s.mu.Lock()
	pid, ok := s.newIDLocked()
	if !ok {
		s.mu.Unlock()
		cmem.release(t.p.m)
		cfiles.release(s)
		return 0, unix.EAGAIN
	}
	c := &Process{
		sys: s, m: p.m, cfg: p.cfg, pid: pid,
		parent: p, children: map[*Process]struct{}{},
		pgid: p.pgid, sid: p.sid,
		exitSignal: int(flags & 0xff),
		mem:        cmem, files: cfiles,
		threads: map[int32]*Thread{},
		events:  p.events,
	}
	if flags&unix.CLONE_PARENT != 0 && p.parent != nil {
		c.parent = p.parent
	}
	c.parent.children[c] = struct{}{}
	s.procs[pid] = c
	if flags&unix.CLONE_VFORK != 0 {
		c.vforkDone = make(chan struct{})
	}
	done := c.vforkDone
	s.mu.Unlock()

	p.mu.Lock()
	c.cwd, c.umask, c.comm, c.exe, c.argv = p.cwd, p.umask, p.comm, p.exe, p.argv
	c.sigact = p.sigact
	c.cred = p.cred
	c.cred.groups = append([]uint32(nil), p.cred.groups...)
	c.rlimits = make(map[int][2]uint64, len(p.rlimits))
	for k, v := range p.rlimits {
		c.rlimits[k] = v
	}
	c.threadName = p.threadName
	p.mu.Unlock()
	c.startNs = p.m.Monotonic()

	if flags&unix.CLONE_PIDFD != 0 {
		// The parent's descriptor for the child: at pidfd for clone3, at
		// parent_tid for clone.
		n, err := t.openPidfd(c, 0)
		where := ca.ptid
		if ca.clone3 {
			where = ca.pidfd
		}
		if err == nil {
			err = t.put32(where, uint32(n))
		}
		if err != nil {
			s.mu.Lock()
			delete(c.parent.children, c)
			delete(s.procs, pid)
			s.starting--
			s.mu.Unlock()
			cmem.release(t.p.m)
			cfiles.release(s)
			return 0, err
		}
	}
	ct := c.newThread(t.childContext(ca), pid)
	ct.setMask(t.mask())
	ct.altstack = t.altstack
	ct.keepCaps = t.keepCaps
	if err := t.cloneTIDs(ct, ca); err != nil {
		// Nothing ran yet: the child ends before its first instruction.
		ct.exited = true
	}
	go ct.run()
	if done != nil {
		<-done // vfork: the parent sleeps until the child lets go of the memory
	}
	return uint64(pid), nil
}

// Wait statuses and siginfo codes for children (wait(2), sigaction(2)).
const (
	cldExited = 1
	cldKilled = 2
)

func cldCode(sig int) int32 {
	if sig != 0 {
		return cldKilled
	}
	return cldExited
}

// childStatus is si_status: the exit status or the signal.
func childStatus(code, sig int) int32 {
	if sig != 0 {
		return int32(sig)
	}
	return int32(code)
}

// waitSelect says which children a wait accepts: any (pid -1), one PID,
// or a process group.
type waitSelect struct {
	any  bool
	pid  int32
	pgid int32
}

func (w waitSelect) match(c *Process) bool {
	switch {
	case w.any:
		return true
	case w.pid != 0:
		return c.pid == w.pid
	}
	return c.pgid == w.pgid
}

// waitChild waits for a child matching sel to become a zombie and
// returns it; reap removes it (WNOWAIT leaves it). With nohang it returns
// nil at once when a matching child is still running. ECHILD when no
// child matches; EINTR when a signal interrupts the wait.
func (t *Thread) waitChild(sel waitSelect, nohang, reap bool) (*Process, error) {
	p, s := t.p, t.p.sys
	for {
		wake := p.childEvent.wait()
		s.mu.Lock()
		found := false
		for c := range p.children {
			if !sel.match(c) {
				continue
			}
			found = true
			if c.state == procZombie {
				if reap {
					delete(p.children, c)
					delete(s.procs, c.pid)
				}
				s.mu.Unlock()
				if reap {
					ct := c.times().add(c.childTimes())
					p.mu.Lock()
					p.child = p.child.add(ct)
					p.mu.Unlock()
				}
				return c, nil
			}
		}
		s.mu.Unlock()
		if !found {
			return nil, unix.ECHILD
		}
		if nohang {
			return nil, nil
		}
		if waitOn(wake, t) {
			return nil, unix.EINTR
		}
	}
}

// sysWait4 implements wait4(2) for exited and killed children
// (WUNTRACED and WCONTINUED are accepted; there are no stopped
// children). The rusage holds the child's user CPU time, with its
// reaped children's (see getrusage).
func sysWait4(t *Thread, a Args) (uint64, error) {
	pid, statusp, options, rusage := int32(a[0]), a[1], a[2], a[3]
	const known = unix.WNOHANG | unix.WUNTRACED | unix.WCONTINUED | unix.WALL | unix.WCLONE | unix.WNOTHREAD
	if options&^known != 0 {
		return 0, unix.EINVAL
	}
	var sel waitSelect
	switch {
	case pid == -1:
		sel.any = true
	case pid > 0:
		sel.pid = pid
	case pid == 0:
		sel.pgid = t.p.pgrp()
	default:
		sel.pgid = -pid
	}
	c, err := t.waitChild(sel, options&unix.WNOHANG != 0, true)
	if err != nil || c == nil {
		return 0, err
	}
	if statusp != 0 {
		if err := t.put32(statusp, c.waitStatus); err != nil {
			return 0, err
		}
	}
	if rusage != 0 {
		if err := t.putRusage(rusage, c.times().add(c.childTimes())); err != nil {
			return 0, err
		}
	}
	return uint64(c.pid), nil
}

// waitid(2) id types and options.
const (
	pAll   = 0
	pPID   = 1
	pPGID  = 2
	pPIDFD = 3
)

// sysWaitid implements waitid(2) for WEXITED (with WNOHANG and WNOWAIT),
// by PID, group or pidfd;
// WSTOPPED and WCONTINUED find nothing: there is no job control stop.
func sysWaitid(t *Thread, a Args) (uint64, error) {
	idtype, id, infop, options := a[0], int32(a[1]), a[2], a[3]
	const known = unix.WNOHANG | unix.WEXITED | unix.WSTOPPED | unix.WCONTINUED | unix.WNOWAIT |
		unix.WALL | unix.WCLONE | unix.WNOTHREAD
	if options&^known != 0 || options&(unix.WEXITED|unix.WSTOPPED|unix.WCONTINUED) == 0 {
		return 0, unix.EINVAL
	}
	var sel waitSelect
	switch idtype {
	case pAll:
		sel.any = true
	case pPID:
		if id <= 0 {
			return 0, unix.EINVAL
		}
		sel.pid = id
	case pPGID:
		sel.pgid = id
		if id == 0 {
			sel.pgid = t.p.pgrp()
		}
	case pPIDFD:
		p, err := t.pidfdAt(uint64(id))
		if err != nil {
			return 0, err
		}
		sel.pid = p.pid
	default:
		return 0, unix.EINVAL
	}
	if options&unix.WEXITED == 0 {
		return 0, unix.ECHILD
	}
	c, err := t.waitChild(sel, options&unix.WNOHANG != 0, options&unix.WNOWAIT == 0)
	if err != nil {
		return 0, err
	}
	if infop == 0 {
		return 0, nil
	}
	var b [128]byte
	if c != nil {
		binary.LittleEndian.PutUint32(b[0:], uint32(unix.SIGCHLD))
		st := c.waitStatus
		code, status := int32(cldExited), int32(st>>8&0xff)
		if st&0x7f != 0 {
			code, status = cldKilled, int32(st&0x7f)
		}
		binary.LittleEndian.PutUint32(b[8:], uint32(code))
		binary.LittleEndian.PutUint32(b[16:], uint32(c.pid))
		binary.LittleEndian.PutUint32(b[24:], uint32(status))
	}
	return 0, t.copyOut(infop, b[:])
}

// pgrp returns the process's group.
func (p *Process) pgrp() int32 {
	p.sys.mu.Lock()
	defer p.sys.mu.Unlock()
	return p.pgid
}

func sysGetppid(t *Thread, a Args) (uint64, error) {
	s := t.p.sys
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.p.parent == nil {
		return 0, nil
	}
	return uint64(t.p.parent.pid), nil
}

// lookupProcess returns the live or zombie process pid (s.mu held); 0 is
// the caller.
func (t *Thread) lookupProcessLocked(pid int32) (*Process, bool) {
	if pid == 0 {
		return t.p, true
	}
	p, ok := t.p.sys.procs[pid]
	return p, ok
}

// sysSetpgid implements setpgid(2): a process may move itself or a child
// into a new group (its own PID) or an existing group of its session.
func sysSetpgid(t *Thread, a Args) (uint64, error) {
	pid, pgid := int32(a[0]), int32(a[1])
	if pgid < 0 {
		return 0, unix.EINVAL
	}
	s := t.p.sys
	s.mu.Lock()
	defer s.mu.Unlock()
	target, ok := t.lookupProcessLocked(pid)
	if !ok || (target != t.p && target.parent != t.p) {
		return 0, unix.ESRCH
	}
	if target.sid != t.p.sid || target.pid == target.sid {
		return 0, unix.EPERM // another session, or a session leader
	}
	if pgid == 0 {
		pgid = target.pid
	}
	if pgid != target.pid {
		exists := false
		for _, q := range s.procs {
			if q.pgid == pgid && q.sid == t.p.sid && q.state == procLive {
				exists = true
				break
			}
		}
		if !exists {
			return 0, unix.EPERM
		}
	}
	target.pgid = pgid
	return 0, nil
}

// processID answers getpgid(2) and getsid(2): field of process pid (0:
// the caller).
func (t *Thread) processID(pid int32, field func(p *Process) int32) (uint64, error) {
	s := t.p.sys
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := t.lookupProcessLocked(pid)
	if !ok {
		return 0, unix.ESRCH
	}
	return uint64(field(p)), nil
}

func sysGetpgid(t *Thread, a Args) (uint64, error) {
	return t.processID(int32(a[0]), func(p *Process) int32 { return p.pgid })
}

func sysGetpgrp(t *Thread, a Args) (uint64, error) { return uint64(t.p.pgrp()), nil }

func sysGetsid(t *Thread, a Args) (uint64, error) {
	return t.processID(int32(a[0]), func(p *Process) int32 { return p.sid })
}

// sysSetsid implements setsid(2): a process that does not lead a group
// starts a new session and group of its own (with no terminal).
func sysSetsid(t *Thread, a Args) (uint64, error) {
	s := t.p.sys
	s.mu.Lock()
	defer s.mu.Unlock()
	p := t.p
	for _, q := range s.procs {
		if q.pgid == p.pid && q.state == procLive {
			return 0, unix.EPERM // it leads a group (or one has its number)
		}
	}
	p.sid, p.pgid = p.pid, p.pid
	return uint64(p.pid), nil
}

// signal sends a process-directed signal to p (kill(2), SIGCHLD).
func (p *Process) signal(sig int, info sigInfo) {
	if sig == 0 {
		return
	}
	p.signalProcess(sig, info)
}

// sysKill implements kill(2): to a process, the caller's group (0), a
// group (-pgid) or every process but init and the caller (-1).
func sysKill(t *Thread, a Args) (uint64, error) {
	pid, sig := int32(a[0]), int(a[1])
	if sig < 0 || sig > 64 {
		return 0, unix.EINVAL
	}
	s := t.p.sys
	s.mu.Lock()
	var targets []*Process
	switch {
	case pid > 0:
		if q, ok := s.procs[pid]; ok {
			targets = append(targets, q)
		}
	case pid == -1:
		for _, q := range s.procs {
			if q != s.init && q != t.p {
				targets = append(targets, q)
			}
		}
	default:
		g := -pid
		if pid == 0 {
			g = t.p.pgid
		}
		for _, q := range s.procs {
			if q.pgid == g {
				targets = append(targets, q)
			}
		}
	}
	s.mu.Unlock()
	if len(targets) == 0 {
		return 0, unix.ESRCH
	}
	info := sigInfo{code: siUser, pid: t.p.pid}
	for _, q := range targets {
		if q == t.p {
			t.signalSelf(sig, info)
		} else {
			q.signal(sig, info)
		}
	}
	return 0, nil
}

// signalSelf sends a process-directed signal to the caller's own
// process: to the calling thread when it does not block it (so that
// raise-style kill is delivered before kill returns), else to another.
func (t *Thread) signalSelf(sig int, info sigInfo) {
	if sig == 0 {
		return
	}
	if t.mask()&sigBit(sig) == 0 {
		t.sendSignal(t, sig, info)
		return
	}
	t.p.signalProcess(sig, info)
}

// sysTgkill implements tgkill(2) for a thread of any process.
func sysTgkill(t *Thread, a Args) (uint64, error) {
	tgid, tid, sig := int32(a[0]), int32(a[1]), int(a[2])
	if tgid <= 0 || tid <= 0 || sig < 0 || sig > 64 {
		return 0, unix.EINVAL
	}
	return t.threadKill(tid, tgid, sig)
}

// sysTkill implements tkill(2).
func sysTkill(t *Thread, a Args) (uint64, error) {
	tid, sig := int32(a[0]), int(a[1])
	if tid <= 0 || sig < 0 || sig > 64 {
		return 0, unix.EINVAL
	}
	return t.threadKill(tid, 0, sig)
}

func (t *Thread) threadKill(tid, tgid int32, sig int) (uint64, error) {
	s := t.p.sys
	s.mu.Lock()
	target, ok := s.threads[tid]
	s.mu.Unlock()
	if !ok || (tgid != 0 && target.p.pid != tgid) {
		return 0, unix.ESRCH
	}
	if sig != 0 {
		t.sendSignal(target, sig, sigInfo{code: siTkill, pid: t.p.pid})
	}
	return 0, nil
}

// unshareKnown are the flags unshare(2) takes.
const unshareKnown = unix.CLONE_FILES | unix.CLONE_FS | unix.CLONE_SYSVSEM | unix.CLONE_THREAD |
	unix.CLONE_SIGHAND | unix.CLONE_VM | unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
	unix.CLONE_NEWNET | unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWCGROUP | unix.CLONE_NEWTIME

// sysUnshare implements unshare(2) without namespaces: CLONE_FILES gives a
// single-threaded process its own copy of a descriptor table it shares
// with another process; CLONE_FS and CLONE_SYSVSEM hold already (a
// process's working directory and umask are its own, and there are no
// System V semaphore undo lists); CLONE_THREAD, CLONE_SIGHAND and
// CLONE_VM are EINVAL in a multi-threaded process, as on Linux. The
// namespace flags are EINVAL, logged once.
func sysUnshare(t *Thread, a Args) (uint64, error) {
	flags := a[0]
	if flags&^unshareKnown != 0 {
		return 0, unix.EINVAL
	}
	const namespaces = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET |
		unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWCGROUP | unix.CLONE_NEWTIME
	if flags&namespaces != 0 {
		return t.nosysArg("unshare of namespaces", flags&namespaces)
	}
	p := t.p
	p.mu.Lock()
	threads, files := len(p.threads), p.files
	p.mu.Unlock()
	if threads > 1 && flags&(unix.CLONE_THREAD|unix.CLONE_SIGHAND|unix.CLONE_VM|unix.CLONE_FILES) != 0 {
		// Linux gives the calling thread its own table; yolk's belongs to
		// the process.
		return 0, unix.EINVAL
	}
	if flags&unix.CLONE_FILES != 0 {
		p.unshareFiles(files)
	}
	return 0, nil
}
