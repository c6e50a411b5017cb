package syscallshim

import (
	"bytes"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"yolk/vfs"
)

// Streams is implemented by machines whose console carries the program's
// standard streams separately (kernel.Machine with the virtio console):
// stdin with an end, stdout and stderr apart, and whether the runner has
// a terminal. Without it (or when StreamsOn is false) fds 0-2 are the
// serial console, a terminal.
type Streams interface {
	StreamsOn() bool
	// Terminal: fds 0-2 are a terminal (line discipline, ioctls).
	Terminal() bool
	// StreamWrite writes to fd 1 or 2: EPIPE when the host closed it.
	StreamWrite(fd int, b []byte) (int, error)
	// StreamRead takes stdin bytes without waiting; eof: no more come.
	StreamRead(b []byte) (n int, eof bool)
	StreamReadable() bool
	// StreamWait sleeps until stdin may be readable, or timeout.
	StreamWait(timeout time.Duration)
	// Winsize is the host terminal's size and a number that changes
	// with it.
	Winsize() (rows, cols uint16, seq uint32)
}

// machineStreams returns m's separate streams, or nil.
func machineStreams(m Machine) Streams {
	if s, ok := m.(Streams); ok && s.StreamsOn() {
		return s
	}
	return nil
}

// newStdStreams returns fds 0-2 as plain streams (no terminal), or nil
// when the program gets a terminal.
func newStdStreams(m Machine) []*vfs.File {
	s := machineStreams(m)
	if s == nil || s.Terminal() {
		return nil
	}
	return []*vfs.File{
		newStreamFile(&stdStream{s: s, fd: 0}, unix.O_RDONLY),
		newStreamFile(&stdStream{s: s, fd: 1}, unix.O_WRONLY),
		newStreamFile(&stdStream{s: s, fd: 2}, unix.O_WRONLY),
	}
}

// stdStream is fd 0, 1 or 2 without a terminal: like a pipe to the
// runner. Bytes pass unchanged; stdin ends when the runner's does.
type stdStream struct {
	s        Streams
	fd       int
	nonblock atomic.Bool
}

// interruptibleReader is a file whose blocking read a signal ends.
type interruptibleReader interface {
	read(b []byte, interrupted func() bool) (int, error)
}

func (f *stdStream) Read(b []byte) (int, error) { return f.read(b, func() bool { return false }) }

func (f *stdStream) read(b []byte, interrupted func() bool) (int, error) {
	if f.fd != 0 {
		return 0, unix.EBADF
	}
	if len(b) == 0 {
		return 0, nil
	}
	for {
		n, eof := f.s.StreamRead(b)
		if n > 0 || eof {
			return n, nil
		}
		if f.nonblock.Load() {
			return 0, unix.EAGAIN
		}
		if interrupted() {
			return 0, unix.EINTR
		}
		f.s.StreamWait(20 * time.Millisecond)
	}
}

func (f *stdStream) Write(b []byte) (int, error) {
	if f.fd == 0 {
		return 0, unix.EBADF
	}
	return f.s.StreamWrite(f.fd, b)
}

func (f *stdStream) setNonblock(on bool)              { f.nonblock.Store(on) }
func (f *stdStream) Pread([]byte, int64) (int, error) { return 0, unix.ESPIPE }
func (f *stdStream) Seek(int64, int) (int64, error)   { return 0, unix.ESPIPE }
func (f *stdStream) Close() error                     { return nil }
func (f *stdStream) Stat() stat {
	// A pipe, as docker run -i gives.
	return stat{dev: 0xc, ino: uint64(0x20000 + f.fd), mode: unix.S_IFIFO | 0o600, nlink: 1, blksize: 4096}
}

func (f *stdStream) poll() uint32 {
	if f.fd != 0 {
		return unix.EPOLLOUT
	}
	if f.s.StreamReadable() {
		return unix.EPOLLIN
	}
	return 0
}

// The console's side of a virtio terminal (c.s set): input from the
// stdin stream, output to stdout with the termios output processing.

// rawRead takes input that has arrived, without waiting.
func (c *console) rawRead(b []byte) int {
	if c.s == nil {
		return c.m.ConsoleRead(b)
	}
	n, eof := c.s.StreamRead(b)
	if eof && len(c.pending) == 0 && len(c.line) == 0 {
		c.eof = true // a terminal fed from a file: its end is ^D
	}
	return n
}

// output writes terminal output: on the serial console as it always was
// (the kernel adds \r), on a virtio terminal with OPOST|ONLCR applied.
func (c *console) output(b []byte) {
	if c.s == nil {
		c.m.ConsoleWrite(b)
		return
	}
	oflag := uint32(c.tio[4]) | uint32(c.tio[5])<<8
	if oflag&unix.OPOST != 0 && oflag&unix.ONLCR != 0 && bytes.IndexByte(b, '\n') >= 0 {
		b = bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
	}
	c.s.StreamWrite(1, b)
}

// winsize is the terminal's size: the host's, or 24x80.
func (c *console) winsize() (rows, cols uint16) {
	if c.s != nil {
		if r, k, _ := c.s.Winsize(); r > 0 && k > 0 {
			return r, k
		}
	}
	return 24, 80
}

// checkWinch sends SIGWINCH when the host terminal's size changed.
func (c *console) checkWinch() {
	if c.s == nil || c.sys == nil {
		return
	}
	if _, _, seq := c.s.Winsize(); seq != c.winSeq {
		c.winSeq = seq
		c.sys.signalGroup(c.foreground(), int(unix.SIGWINCH), sigInfo{code: 0x80})
	}
}
