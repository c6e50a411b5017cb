package syscallshim

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"yolk/initrd"
)

// File is an open file description. Pipes, sockets and writable files
// will implement it too; methods a kind does not support return the
// errno Linux gives for that kind.
type File interface {
	Read(b []byte) (int, error)
	Write(b []byte) (int, error)
	Pread(b []byte, off int64) (int, error)
	Seek(off int64, whence int) (int64, error)
	Stat() stat
	Close() error
}

// stat is the kernel's view of a file's metadata, turned into struct
// stat or struct statx by the handlers.
type stat struct {
	dev, ino, rdev  uint64
	mode, nlink     uint32
	uid, gid        uint32
	size            int64
	blksize, blocks int64
	mtime           int64
}

// fd is one descriptor: a file plus its close-on-exec flag.
type fd struct {
	f       File
	cloexec bool
	flags   uint32       // O_ACCMODE | O_APPEND | O_NONBLOCK ... as opened
	node    *initrd.Node // the file's node, for fchdir and *at lookups
}

// fileRefs counts the descriptors, in every process, that refer to each
// open file: the last close closes it (a pipe end then counts one user
// less, so that readers see end of file only when every writer in every
// process is gone).
type fileRefs struct {
	mu sync.Mutex
	n  map[File]int
}

func (r *fileRefs) inc(f File) {
	r.mu.Lock()
	if r.n == nil {
		r.n = map[File]int{}
	}
	r.n[f]++
	r.mu.Unlock()
}

// dec drops one reference and closes f when it was the last.
func (r *fileRefs) dec(f File) error {
	r.mu.Lock()
	r.n[f]--
	last := r.n[f] <= 0
	if last {
		delete(r.n, f)
	}
	r.mu.Unlock()
	if last {
		return f.Close()
	}
	return nil
}

// fdTable is a descriptor table, shared by the processes created with
// CLONE_FILES (and by the threads of one process).
type fdTable struct {
	refs  *fileRefs
	users int // processes using the table (guarded by mu)
	mu    sync.Mutex
	fds   []*fd
}

const maxFDs = 1024

// newFDTable returns the first process's table: fds 0-2 are the separate
// standard streams when the machine has them and no terminal, else the
// console (a terminal).
func newFDTable(s *System) *fdTable {
	t := &fdTable{refs: &s.files, users: 1}
	if std := newStdStreams(s.m); std != nil {
		for i, d := range std {
			t.installAt(d, i)
		}
		return t
	}
	for i := 0; i < 3; i++ {
		t.install(&fd{f: s.con, flags: unix.O_RDWR}, i)
	}
	return t
}

// fork returns a copy for a child process: the same open files under the
// same numbers.
func (t *fdTable) fork() *fdTable {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := &fdTable{refs: t.refs, users: 1, fds: make([]*fd, len(t.fds))}
	for i, d := range t.fds {
		if d != nil {
			dc := *d
			c.fds[i] = &dc
			t.refs.inc(d.f)
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
	t.mu.Unlock()
	for _, d := range fds {
		if d != nil {
			t.refs.dec(d.f)
		}
	}
}

// closeOnExec closes the descriptors marked close-on-exec.
func (t *fdTable) closeOnExec() {
	t.mu.Lock()
	var closing []File
	for i, d := range t.fds {
		if d != nil && d.cloexec {
			closing = append(closing, d.f)
			t.fds[i] = nil
		}
	}
	t.mu.Unlock()
	for _, f := range closing {
		t.refs.dec(f)
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

// install puts d at the lowest free descriptor >= min.
func (t *fdTable) install(d *fd, min int) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := min; i < maxFDs; i++ {
		if i >= len(t.fds) {
			t.fds = append(t.fds, make([]*fd, i+1-len(t.fds))...)
		}
		if t.fds[i] == nil {
			t.fds[i] = d
			t.refs.inc(d.f)
			return i, nil
		}
	}
	return 0, unix.EMFILE
}

// installAt replaces descriptor n (dup2), closing what it held.
func (t *fdTable) installAt(d *fd, n int) error {
	if n < 0 || n >= maxFDs {
		return unix.EBADF
	}
	t.mu.Lock()
	if n >= len(t.fds) {
		t.fds = append(t.fds, make([]*fd, n+1-len(t.fds))...)
	}
	old := t.fds[n]
	t.fds[n] = d
	t.refs.inc(d.f)
	t.mu.Unlock()
	if old != nil {
		t.refs.dec(old.f)
	}
	return nil
}

// close removes descriptor n and, when no descriptor anywhere refers to
// the same open file any more, closes the file.
func (t *fdTable) close(n uint64) error {
	t.mu.Lock()
	if n >= uint64(len(t.fds)) || t.fds[n] == nil {
		t.mu.Unlock()
		return unix.EBADF
	}
	f := t.fds[n].f
	t.fds[n] = nil
	t.mu.Unlock()
	return t.refs.dec(f)
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

// regular is an open initrd file: read-only, shared data.
type regular struct {
	mu   sync.Mutex
	node *initrd.Node
	pos  int64
}

func (f *regular) Read(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, _ := f.pread(b, f.pos)
	f.pos += int64(n)
	return n, nil
}

func (f *regular) pread(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, unix.EINVAL
	}
	if off >= int64(len(f.node.Data)) {
		return 0, nil
	}
	return copy(b, f.node.Data[off:]), nil
}

func (f *regular) Pread(b []byte, off int64) (int, error) { return f.pread(b, off) }
func (f *regular) Write([]byte) (int, error)              { return 0, unix.EBADF }
func (f *regular) Close() error                           { return nil }
func (f *regular) Stat() stat                             { return nodeStat(f.node) }

func (f *regular) Seek(off int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var base int64
	switch whence {
	case unix.SEEK_SET:
	case unix.SEEK_CUR:
		base = f.pos
	case unix.SEEK_END:
		base = int64(len(f.node.Data))
	case unix.SEEK_DATA:
		if off >= int64(len(f.node.Data)) {
			return 0, unix.ENXIO
		}
	case unix.SEEK_HOLE:
		if off >= int64(len(f.node.Data)) {
			return 0, unix.ENXIO
		}
		off, base = int64(len(f.node.Data)), 0
	default:
		return 0, unix.EINVAL
	}
	if base+off < 0 {
		return 0, unix.EINVAL
	}
	f.pos = base + off
	return f.pos, nil
}

// directory is an open initrd directory (getdents64 reads it).
type directory struct {
	node *initrd.Node
	mu   sync.Mutex
	pos  int // getdents64 position: entries already returned
}

func (d *directory) Read([]byte) (int, error)         { return 0, unix.EISDIR }
func (d *directory) Write([]byte) (int, error)        { return 0, unix.EBADF }
func (d *directory) Pread([]byte, int64) (int, error) { return 0, unix.EISDIR }
func (d *directory) Seek(int64, int) (int64, error)   { return 0, nil }
func (d *directory) Close() error                     { return nil }
func (d *directory) Stat() stat                       { return nodeStat(d.node) }

// other is an open special file from the initrd (a device node or a
// symlink opened with O_PATH): only stat works.
type other struct{ node *initrd.Node }

func (o *other) Read([]byte) (int, error)         { return 0, unix.ENXIO }
func (o *other) Write([]byte) (int, error)        { return 0, unix.ENXIO }
func (o *other) Pread([]byte, int64) (int, error) { return 0, unix.ENXIO }
func (o *other) Seek(int64, int) (int64, error)   { return 0, unix.ESPIPE }
func (o *other) Close() error                     { return nil }
func (o *other) Stat() stat                       { return nodeStat(o.node) }

// rootDev is st_dev for initrd files.
const rootDev = 0x1

func nodeStat(n *initrd.Node) stat {
	nl := n.Nlink
	if nl == 0 {
		nl = 1
	}
	return stat{
		dev: rootDev, ino: n.Ino, rdev: n.Rdev, mode: n.Mode, nlink: nl,
		uid: n.UID, gid: n.GID, size: n.Size, blksize: 4096,
		blocks: (n.Size + 511) / 512, mtime: n.Mtime,
	}
}
