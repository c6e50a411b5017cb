package syscallshim

import (
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"yolk/vfs"
)

// Descriptors and open files. A descriptor names a vfs.File (the open
// file description: offset, status flags, reference count), shared by dup
// and fork; files of the file systems come from the VFS (namespace.go),
// the shim's own kinds (the console, plain streams, pipes, eventfds,
// epoll instances, pidfds, devices) are streams adapted by streamImpl.

// stream is one of the shim's own kinds of file: no offset, metadata of
// its own, closed when the last description referring to it goes.
type stream interface {
	Read(b []byte) (int, error)
	Write(b []byte) (int, error)
	Stat() stat
	Close() error
}

// stat is a stream's metadata, turned into vfs.Stat.
type stat struct {
	dev, ino, rdev  uint64
	mode, nlink     uint32
	uid, gid        uint32
	size            int64
	blksize, blocks int64
	mtime           int64
}

func (s stat) vfs() vfs.Stat {
	t := unix.NsecToTimespec(s.mtime)
	return vfs.Stat{
		Dev: s.dev, Ino: s.ino, Rdev: s.rdev, Mode: s.mode, Nlink: s.nlink,
		UID: s.uid, GID: s.gid, Size: s.size, Blksize: s.blksize, Blocks: s.blocks,
		Atime: t, Mtime: t, Ctime: t, Btime: t,
	}
}

// streamImpl adapts a stream to vfs.FileImpl: reads and writes ignore
// offsets, lseek is ESPIPE (seekable devices say 0), readiness is the
// stream's poll.
type streamImpl struct {
	vfs.FileBase
	s        stream
	seekable bool // lseek succeeds and stays at 0 (devices)
}

func (x *streamImpl) Read(dst []byte, _ int64) (int, error) { return x.s.Read(dst) }

func (x *streamImpl) Write(src []byte, _ int64, _ bool) (int, int64, error) {
	n, err := x.s.Write(src)
	return n, 0, err
}

func (x *streamImpl) Lseek(cur, off int64, whence int) (int64, error) {
	if x.seekable {
		return 0, nil
	}
	return 0, unix.ESPIPE
}

func (x *streamImpl) Stat() (vfs.Stat, error) { return x.s.Stat().vfs(), nil }

func (x *streamImpl) Readiness(m vfs.EventMask) vfs.EventMask {
	return vfs.EventMask(readiness(x.s)) & (m | vfs.EventAlways)
}

func (x *streamImpl) Release() { x.s.Close() }

// newStreamFile returns an open file description for s with open(2)
// flags (the access mode and O_NONBLOCK).
func newStreamFile(s stream, flags int) *vfs.File {
	_, seekable := s.(*device)
	return vfs.NewFile(&streamImpl{s: s, seekable: seekable}, flags, vfs.Path{}, vfs.Cred{})
}

// streamOf returns the stream behind f, or nil for a file of a file
// system.
func streamOf(f *vfs.File) stream {
	if x, ok := f.Impl().(*streamImpl); ok {
		return x.s
	}
	return nil
}

// fd is one descriptor: an open file description plus the descriptor's
// own close-on-exec flag.
type fd struct {
	f       *vfs.File
	cloexec bool
}

// fdTable is a descriptor table, shared by the processes created with
// CLONE_FILES (and by the threads of one process). Each descriptor holds
// one reference to its file; the last reference anywhere closes it (so a
// pipe reader sees end of file only when every writer in every process is
// gone).
type fdTable struct {
	users int // processes using the table (guarded by mu)
	limit int // descriptors are below this: RLIMIT_NOFILE's soft limit
	mu    sync.Mutex
	fds   []*fd
	// gen changes (under mu) with every change of fds and when the
	// table is released: the kernel's answers to reads and writes of
	// the descriptors a thread listed (fastcalls.go) hold only while it
	// is the generation they were listed at.
	gen atomic.Uint64
}

// maxFDs is the most descriptors a table can have (Linux's nr_open is
// 1,048,576; RLIMIT_NOFILE's hard limit here); defaultNOFILE is the soft
// limit programs start with.
const (
	maxFDs        = 65536
	defaultNOFILE = 1024
)

// size returns the table's limit.
func (t *fdTable) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.limit
}

// setLimit changes the table's size limit (setrlimit RLIMIT_NOFILE);
// descriptors already above it stay open, as on Linux.
func (t *fdTable) setLimit(n int) {
	t.mu.Lock()
	t.limit = min(max(n, 0), maxFDs)
	t.mu.Unlock()
}

// newFDTable returns the first process's table: fds 0-2 are the separate
// standard streams when the machine has them and no terminal, else the
// console (a terminal).
func newFDTable(s *System) *fdTable {
	t := &fdTable{users: 1, limit: defaultNOFILE}
	std := newStdStreams(s.m)
	for i := 0; i < 3; i++ {
		f := newStreamFile(s.con, unix.O_RDWR)
		if std != nil {
			f = std[i]
		}
		t.install(f, false, i)
		f.DecRef()
	}
	return t
}

// fork returns a copy for a child process: the same open files under the
// same numbers.
func (t *fdTable) fork() *fdTable {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := &fdTable{users: 1, limit: t.limit, fds: make([]*fd, len(t.fds))}
	for i, d := range t.fds {
		if d != nil {
			dc := *d
			c.fds[i] = &dc
			d.f.IncRef()
		}
	}
	return c
}

// share adds a user (CLONE_FILES).
func (t *fdTable) share() *fdTable {
	t.mu.Lock()
	t.users++
	t.mu.Unlock()
	return t
}

// release drops a user; the last one closes every descriptor.
func (t *fdTable) release(*System) {
	t.mu.Lock()
	t.users--
	if t.users > 0 {
		t.mu.Unlock()
		return
	}
	fds := t.fds
	t.fds = nil
	t.gen.Add(1)
	t.mu.Unlock()
	for _, d := range fds {
		if d != nil {
			d.f.DecRef()
		}
	}
}

// closeOnExec closes the descriptors marked close-on-exec.
func (t *fdTable) closeOnExec() {
	t.mu.Lock()
	var closing []*vfs.File
	for i, d := range t.fds {
		if d != nil && d.cloexec {
			closing = append(closing, d.f)
			t.fds[i] = nil
		}
	}
	t.gen.Add(1)
	t.mu.Unlock()
	for _, f := range closing {
		f.DecRef()
	}
}

func (t *fdTable) get(n uint64) (*fd, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n >= uint64(len(t.fds)) || t.fds[n] == nil {
		return nil, unix.EBADF
	}
	return t.fds[n], nil
}

// file returns descriptor n's file.
func (t *fdTable) file(n uint64) (*vfs.File, error) {
	d, err := t.get(n)
	if err != nil {
		return nil, err
	}
	return d.f, nil
}

// fileRef returns descriptor n's file with a reference taken, under the
// table's lock so that a close cannot release it in between.
func (t *fdTable) fileRef(n uint64) (*vfs.File, error) {
	t.mu.Lock() // no defer: every call taking a descriptor comes here
	if n >= uint64(len(t.fds)) || t.fds[n] == nil {
		t.mu.Unlock()
		return nil, unix.EBADF
	}
	f := t.fds[n].f
	f.IncRef()
	t.mu.Unlock()
	return f, nil
}

// install puts f at the lowest free descriptor >= min, taking a reference.
func (t *fdTable) install(f *vfs.File, cloexec bool, min int) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := min; i < t.limit; i++ {
		if i >= len(t.fds) {
			t.fds = append(t.fds, make([]*fd, i+1-len(t.fds))...)
		}
		if t.fds[i] == nil {
			t.fds[i] = &fd{f: f, cloexec: cloexec}
			t.gen.Add(1)
			f.IncRef()
			return i, nil
		}
	}
	return 0, unix.EMFILE
}

// installAt replaces descriptor n (dup2), closing what it held.
func (t *fdTable) installAt(f *vfs.File, cloexec bool, n int) error {
	t.mu.Lock()
	if n < 0 || n >= t.limit {
		t.mu.Unlock()
		return unix.EBADF
	}
	if n >= len(t.fds) {
		t.fds = append(t.fds, make([]*fd, n+1-len(t.fds))...)
	}
	old := t.fds[n]
	t.fds[n] = &fd{f: f, cloexec: cloexec}
	t.gen.Add(1)
	f.IncRef()
	t.mu.Unlock()
	if old != nil {
		old.f.DecRef()
	}
	return nil
}

// close removes descriptor n; the file closes when no descriptor anywhere
// refers to it any more.
func (t *fdTable) close(n uint64) error {
	t.mu.Lock()
	if n >= uint64(len(t.fds)) || t.fds[n] == nil {
		t.mu.Unlock()
		return unix.EBADF
	}
	f := t.fds[n].f
	t.fds[n] = nil
	t.gen.Add(1)
	t.mu.Unlock()
	f.DecRef()
	return nil
}

// installNew installs a new file (one reference, which the table takes
// over) and returns its descriptor; on failure the file is dropped.
func (t *fdTable) installNew(f *vfs.File, cloexec bool) (int, error) {
	n, err := t.install(f, cloexec, 0)
	f.DecRef()
	return n, err
}

// console is the serial console: fds 0, 1 and 2, with the line
// discipline of tty.go. Input comes from the machine (kernel.Machine:
// the UART's receive interrupt fills a ring; ConsoleWait sleeps until it
// does).
type console struct {
	m       Machine
	sys     *System
	s       Streams // a virtio terminal (stdio.go), or nil: the serial console
	winSeq  uint32  // the host terminal size last signalled (SIGWINCH)
	mu      sync.Mutex
	fg      int32 // the foreground process group (tcsetpgrp)
	tio     [termiosSize]byte
	pending []byte // input ready for read
	line    []byte // canonical mode: the line being edited
	eof     bool   // canonical mode: ^D at the start of a line
}

// consolePollNs is how often a reader waiting for console input looks
// when the machine cannot say when input arrives.
const consolePollNs = 2 * time.Millisecond

// consoleWaiter is implemented by machines whose console input comes by
// interrupt (kernel.Machine): ConsoleWait returns when input may have
// arrived, or after timeout.
type consoleWaiter interface {
	ConsoleWait(timeout time.Duration)
}

// wait blocks until input may have arrived (or a short while passes, so
// that a caller can look for signals).
func (c *console) wait() {
	if c.s != nil {
		c.s.StreamWait(20 * time.Millisecond)
		return
	}
	if w, ok := c.m.(consoleWaiter); ok {
		w.ConsoleWait(20 * time.Millisecond)
		return
	}
	time.Sleep(consolePollNs)
}

// Read reads console input (Thread.read passes the reading thread's
// signal check instead, so that a signal ends the wait with EINTR).
func (c *console) Read(b []byte) (int, error) {
	return c.read(b, func() bool { return false })
}

// read waits for input until interrupted() says a signal should end the
// wait (EINTR): the caller then takes the signal, as ^C must stop a
// program blocked on the terminal.
func (c *console) read(b []byte, interrupted func() bool) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	for {
		c.mu.Lock()
		c.fill()
		if len(c.pending) > 0 {
			n := copy(b, c.pending)
			c.pending = c.pending[n:]
			c.mu.Unlock()
			return n, nil
		}
		if c.eof {
			c.eof = false
			c.mu.Unlock()
			return 0, nil
		}
		c.mu.Unlock()
		if interrupted() {
			return 0, unix.EINTR
		}
		c.wait()
	}
}

func (c *console) Write(b []byte) (int, error) {
	c.output(b)
	return len(b), nil
}

func (c *console) Pread([]byte, int64) (int, error) { return 0, unix.ESPIPE }
func (c *console) Seek(int64, int) (int64, error)   { return 0, unix.ESPIPE }
func (c *console) Close() error                     { return nil }
func (c *console) Stat() stat {
	// /dev/ttyS0: character device 4:64.
	return stat{dev: 5, ino: 3, rdev: unix.Mkdev(4, 64), mode: unix.S_IFCHR | 0o620, nlink: 1, blksize: 1024}
}
