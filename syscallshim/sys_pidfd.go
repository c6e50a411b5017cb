package syscallshim

import (
	"golang.org/x/sys/unix"
)

// Process file descriptors (pidfd_open(2), pidfd_send_signal(2),
// CLONE_PIDFD, waitid(P_PIDFD)): a descriptor that names a process and
// becomes readable when it exits. Go's os/exec uses them when they work.

// pidfd is an open process file descriptor.
type pidfd struct {
	p *Process
}

func (f *pidfd) Read([]byte) (int, error)         { return 0, unix.EINVAL }
func (f *pidfd) Write([]byte) (int, error)        { return 0, unix.EINVAL }
func (f *pidfd) Pread([]byte, int64) (int, error) { return 0, unix.EINVAL }
func (f *pidfd) Seek(int64, int) (int64, error)   { return 0, unix.ESPIPE }
func (f *pidfd) Close() error                     { return nil }
func (f *pidfd) Stat() stat {
	// An anonymous inode, as Linux's "anon_inode:[pidfd]".
	return stat{dev: 0xd, ino: uint64(f.p.pid), mode: 0o600, nlink: 1, blksize: 4096}
}

// poll: readable once the process has exited (zombie or reaped).
func (f *pidfd) poll() uint32 {
	s := f.p.sys
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.p.state != procLive {
		return unix.EPOLLIN
	}
	return 0
}

func (f *pidfd) generation() uint64 {
	if f.poll() != 0 {
		return 1
	}
	return 0
}

// pidfdNonblock is PIDFD_NONBLOCK (O_NONBLOCK).
const pidfdNonblock = unix.O_NONBLOCK

// openPidfd installs a pidfd for p (close-on-exec, as Linux makes them).
func (t *Thread) openPidfd(p *Process, flags uint64) (int, error) {
	return t.p.files.installNew(newStreamFile(&pidfd{p: p}, unix.O_RDWR|int(flags&pidfdNonblock)), true)
}

// sysPidfdOpen implements pidfd_open(2) for a live process's leader.
func sysPidfdOpen(t *Thread, a Args) (uint64, error) {
	pid, flags := int32(a[0]), a[1]
	if flags&^pidfdNonblock != 0 || pid <= 0 {
		return 0, unix.EINVAL
	}
	s := t.p.sys
	s.mu.Lock()
	p, ok := s.procs[pid]
	live := ok && p.state == procLive
	s.mu.Unlock()
	if !live {
		return 0, unix.ESRCH
	}
	n, err := t.openPidfd(p, flags)
	return uint64(n), err
}

// pidfdAt returns the process named by descriptor n.
func (t *Thread) pidfdAt(n uint64) (*Process, error) {
	d, err := t.file(n)
	if err != nil {
		return nil, err
	}
	f, ok := streamOf(d).(*pidfd)
	if !ok {
		return nil, unix.EBADF
	}
	return f.p, nil
}

// sysPidfdSendSignal implements pidfd_send_signal(2) without a siginfo
// argument (a non-NULL one is EINVAL here) and without flags.
func sysPidfdSendSignal(t *Thread, a Args) (uint64, error) {
	p, err := t.pidfdAt(a[0])
	if err != nil {
		return 0, err
	}
	sig := int(a[1])
	if sig < 0 || sig > 64 || a[2] != 0 || a[3] != 0 {
		return 0, unix.EINVAL
	}
	s := t.p.sys
	s.mu.Lock()
	live := p.state == procLive
	s.mu.Unlock()
	if !live {
		return 0, unix.ESRCH
	}
	if p == t.p {
		t.signalSelf(sig, sigInfo{code: siUser, pid: t.p.pid})
	} else {
		p.signal(sig, sigInfo{code: siUser, pid: t.p.pid})
	}
	return 0, nil
}
