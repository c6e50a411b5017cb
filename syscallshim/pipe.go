package syscallshim

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"yolk/vfs"
)

// pipe is a pipe(2): a 64 KiB buffer between a read end and a write end.
// Reads block until data or end of file (no writer left); writes block
// while the buffer is full, and fail with EPIPE (and SIGPIPE) once no
// reader is left. Readiness changes go through the process notifier.
type pipe struct {
	events *notifier
	fifo   vfs.Inode // the FIFO this pipe serves, if it is one
	// writerOpens counts the write opens of a FIFO: a reader's open
	// waits for one (the writer may have come and gone already).
	writerOpens int
	fifos       *fifoTable // where it is registered while open
	mu          sync.Mutex
	buf         pipeRing
	readers     int
	writers     int
	seq         uint64 // bumped on every change, for edge-triggered epoll
	// held: a splice has peeked at buf and not yet consumed what it
	// wrote; readers wait (see pipeEnd.peek).
	held bool
}

// pipeBuf is PIPE_BUF: writes of at most this many bytes are atomic.
const pipeBuf = 4096

const pipeSize = 64 << 10

// pipeEnd is one end of a pipe as an open file description.
type pipeEnd struct {
	pipe     *pipe
	write    bool
	nonblock atomic.Bool // O_NONBLOCK, settable with fcntl(F_SETFL)
}

func (e *pipeEnd) setNonblock(on bool) { e.nonblock.Store(on) }

func (e *pipeEnd) generation() uint64 {
	e.pipe.mu.Lock()
	defer e.pipe.mu.Unlock()
	return e.pipe.seq
}

func (e *pipeEnd) Read(b []byte) (int, error) { return e.read(b, nil) }

// waitOn blocks until wake closes or, when t is not nil, a signal would
// interrupt t's wait (reported true).
func waitOn(wake <-chan struct{}, t *Thread) bool {
	if t == nil {
		<-wake
		return false
	}
	for {
		select {
		case <-wake:
			return false
		case <-t.sig.wake:
			if t.interrupting() {
				return true
			}
		}
	}
}

// read reads what the pipe holds, waiting for data or end of file; a
// signal for t ends the wait with EINTR.
func (e *pipeEnd) read(b []byte, t *Thread) (int, error) {
	if e.write {
		return 0, unix.EBADF
	}
	pp := e.pipe
	var wake <-chan struct{} // see writeOpt
	for {
		pp.mu.Lock()
		// held: a splice is moving the bytes there are; wait for it,
		// even when non-blocking (Linux's readers wait for the pipe's
		// mutex).
		held := pp.held
		if pp.buf.Len() > 0 && !held {
			n := pp.buf.read(b)
			pp.seq++
			pp.mu.Unlock()
			pp.events.notify()
			return n, nil
		}
		eof := pp.writers == 0 && !held
		pp.mu.Unlock()
		if eof || len(b) == 0 && !held {
			return 0, nil
		}
		if e.nonblock.Load() && !held {
			return 0, unix.EAGAIN
		}
		if wake == nil {
			wake = pp.events.wait()
			continue
		}
		if waitOn(wake, t) {
			return 0, unix.EINTR
		}
		wake = nil
	}
}

func (e *pipeEnd) Write(b []byte) (int, error) { return e.writeT(b, nil) }

// writeT writes all of b, waiting for room; a signal for t ends the wait
// with what was written so far, or EINTR.
func (e *pipeEnd) writeT(b []byte, t *Thread) (int, error) {
	return e.writeOpt(b, t, e.nonblock.Load())
}

// writeOpt is writeT, not waiting when nonblock (O_NONBLOCK, or splice's
// SPLICE_F_NONBLOCK).
func (e *pipeEnd) writeOpt(b []byte, t *Thread, nonblock bool) (int, error) {
	if !e.write {
		return 0, unix.EBADF
	}
	pp := e.pipe
	done := 0
	// wake is the channel the next notify closes, taken only once a look
	// at the pipe says this call may have to sleep, and followed by
	// another look: a notify between the two is then not lost, and a
	// call that never sleeps makes no channel (the notify after it closes
	// none).
	var wake <-chan struct{}
	for {
		pp.mu.Lock()
		if pp.readers == 0 {
			pp.mu.Unlock()
			return done, errPipe
		}
		room := pipeSize - pp.buf.Len()
		if len(b) <= pipeBuf && room < len(b) {
			room = 0 // a small write goes in whole or not at all
		}
		if room > 0 {
			n := min(room, len(b)-done)
			pp.buf.write(b[done : done+n])
			done += n
			pp.seq++
		}
		pp.mu.Unlock()
		if room > 0 {
			pp.events.notify()
		}
		if done == len(b) {
			return done, nil
		}
		if nonblock {
			if done > 0 {
				return done, nil
			}
			return 0, unix.EAGAIN
		}
		if wake == nil {
			wake = pp.events.wait()
			continue
		}
		if waitOn(wake, t) {
			if done > 0 {
				return done, nil
			}
			return 0, unix.EINTR
		}
		wake = nil
	}
}

// errPipe is EPIPE from a write with no reader; the handler also raises
// SIGPIPE, as Linux does.
var errPipe = unix.EPIPE

func (e *pipeEnd) poll() uint32 {
	pp := e.pipe
	pp.mu.Lock()
	defer pp.mu.Unlock()
	var r uint32
	if e.write {
		if pp.buf.Len() < pipeSize {
			r |= unix.EPOLLOUT
		}
		if pp.readers == 0 {
			r |= unix.EPOLLERR
		}
		return r
	}
	if pp.buf.Len() > 0 {
		r |= unix.EPOLLIN
	}
	if pp.writers == 0 {
		r |= unix.EPOLLHUP
	}
	return r
}

// buffered returns how many bytes wait to be read (FIONREAD).
func (e *pipeEnd) buffered() int {
	e.pipe.mu.Lock()
	defer e.pipe.mu.Unlock()
	return e.pipe.buf.Len()
}

func (e *pipeEnd) Close() error {
	pp := e.pipe
	pp.mu.Lock()
	if e.write {
		pp.writers--
	} else {
		pp.readers--
	}
	pp.seq++
	gone := pp.readers == 0 && pp.writers == 0
	pp.mu.Unlock()
	if gone && pp.fifos != nil {
		pp.fifos.mu.Lock()
		if pp.fifos.pipes[pp.fifo] == pp {
			delete(pp.fifos.pipes, pp.fifo)
		}
		pp.fifos.mu.Unlock()
	}
	pp.events.notify()
	return nil
}

func (e *pipeEnd) Stat() stat {
	pp := e.pipe
	pp.mu.Lock()
	defer pp.mu.Unlock()
	return stat{dev: 0xc, ino: 0x1000, mode: unix.S_IFIFO | 0o600, nlink: 1, size: int64(pp.buf.Len()), blksize: 4096}
}

func sysPipe(t *Thread, a Args) (uint64, error) { return t.pipe(a[0], 0) }

func sysPipe2(t *Thread, a Args) (uint64, error) {
	if a[1]&^(unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_DIRECT) != 0 {
		return 0, unix.EINVAL
	}
	return t.pipe(a[0], a[1])
}

func (t *Thread) pipe(fdsp, flags uint64) (uint64, error) {
	pp := &pipe{events: t.p.events, readers: 1, writers: 1}
	nb := flags&unix.O_NONBLOCK != 0
	cloexec := flags&unix.O_CLOEXEC != 0
	fl := uint32(flags & unix.O_NONBLOCK)
	re, we := &pipeEnd{pipe: pp}, &pipeEnd{pipe: pp, write: true}
	re.nonblock.Store(nb)
	we.nonblock.Store(nb)
	r, err := t.p.files.installNew(newStreamFile(re, unix.O_RDONLY|int(fl)), cloexec)
	if err != nil {
		we.Close()
		return 0, err
	}
	w, err := t.p.files.installNew(newStreamFile(we, unix.O_WRONLY|int(fl)), cloexec)
	if err != nil {
		t.p.files.close(uint64(r))
		return 0, err
	}
	var b [8]byte
	b[0], b[1], b[2], b[3] = byte(r), byte(r>>8), byte(r>>16), byte(r>>24)
	b[4], b[5], b[6], b[7] = byte(w), byte(w>>8), byte(w>>16), byte(w>>24)
	if err := t.copyOut(fdsp, b[:]); err != nil {
		t.p.files.close(uint64(r))
		t.p.files.close(uint64(w))
		return 0, err
	}
	return 0, nil
}
