package syscallshim

import (
	"golang.org/x/sys/unix"

	"yolk/vfs"
)

// splice(2) and tee(2) move data between a pipe and another file through
// a kernel buffer (Linux moves page references; the result a program sees
// is the same). Data leaves its source only once the destination took
// it: a pipe's bytes are read without being consumed, then consumed by
// what was written; a pipe destination is filled no further than the
// room it had, so what was read from a file or socket always fits.

// spliceMax bounds one call, as a short count permits.
const spliceMax = 1 << 20

// peek returns a copy of up to max bytes the pipe holds without consuming
// them, waiting for some unless nonblock (EAGAIN); nil at end of file. A
// signal for t ends the wait with EINTR. With hold (splice), the pipe's
// other readers wait until consume says how much of it went: they must
// not take the same bytes meanwhile (Linux holds the pipe's mutex).
func (e *pipeEnd) peek(max int, t *Thread, nonblock, hold bool) ([]byte, error) {
	pp := e.pipe
	for {
		wake := pp.events.wait()
		pp.mu.Lock()
		if pp.buf.Len() > 0 && !pp.held {
			b := make([]byte, min(max, pp.buf.Len()))
			pp.buf.peek(b)
			pp.held = hold
			pp.mu.Unlock()
			return b, nil
		}
		if pp.held {
			// Another splice holds the bytes: wait for its consume,
			// even when nonblock (a short wait, as for a mutex).
			pp.mu.Unlock()
			if waitOn(wake, t) {
				return nil, unix.EINTR
			}
			continue
		}
		eof := pp.writers == 0
		pp.mu.Unlock()
		if eof {
			return nil, nil
		}
		if nonblock {
			return nil, unix.EAGAIN
		}
		if waitOn(wake, t) {
			return nil, unix.EINTR
		}
	}
}

// consume drops the first n bytes the pipe holds (after a holding peek;
// n may be 0) and lets its other readers go on.
func (e *pipeEnd) consume(n int) {
	pp := e.pipe
	pp.mu.Lock()
	pp.buf.drop(min(n, pp.buf.Len()))
	pp.held = false
	pp.seq++
	pp.mu.Unlock()
	pp.events.notify()
}

// room waits until the pipe can take a byte and returns how many it can
// take, EAGAIN if it cannot and nonblock, EPIPE without a reader.
func (e *pipeEnd) room(t *Thread, nonblock bool) (int, error) {
	pp := e.pipe
	for {
		wake := pp.events.wait()
		pp.mu.Lock()
		readers, n := pp.readers, pipeSize-pp.buf.Len()
		pp.mu.Unlock()
		switch {
		case readers == 0:
			return 0, errPipe
		case n > 0:
			return n, nil
		case nonblock:
			return 0, unix.EAGAIN
		}
		if waitOn(wake, t) {
			return 0, unix.EINTR
		}
	}
}

// pipeOf returns f's pipe end if f is the given end (write or not) of a
// pipe or FIFO.
func pipeOf(f *vfs.File, write bool) *pipeEnd {
	if e, ok := streamOf(f).(*pipeEnd); ok && e.write == write {
		return e
	}
	return nil
}

// spliceOffset reads an offset argument (loffArg) for a file that is not
// a pipe; a pipe with an offset is ESPIPE.
func (t *Thread) spliceOffset(va uint64, isPipe bool) (int64, error) {
	if va != 0 && isPipe {
		return 0, unix.ESPIPE
	}
	return t.loffArg(va)
}

// Splice implements Linux syscall splice(2): one side a pipe, the other a
// pipe, regular file or socket. SPLICE_F_NONBLOCK makes the pipe side not
// wait; a socket or file side waits as its own flags say. SPLICE_F_MOVE
// and SPLICE_F_MORE are hints.
func sysSplice(t *Thread, a Args) (uint64, error) {
	in, out, err := t.openInOut(a[0], a[2])
	if err != nil {
		return 0, err
	}
	const known = unix.SPLICE_F_MOVE | unix.SPLICE_F_NONBLOCK | unix.SPLICE_F_MORE | unix.SPLICE_F_GIFT
	if a[5]&^known != 0 {
		return 0, unix.EINVAL
	}
	nonblock := a[5]&unix.SPLICE_F_NONBLOCK != 0
	rp, wp := pipeOf(in, false), pipeOf(out, true)
	switch {
	case rp == nil && wp == nil:
		return 0, unix.EINVAL
	case rp != nil && wp != nil && rp.pipe == wp.pipe:
		return 0, unix.EINVAL
	case out.Flags()&unix.O_APPEND != 0 && wp == nil:
		return 0, unix.EINVAL
	}
	inOff, err := t.spliceOffset(a[1], rp != nil)
	if err != nil {
		return 0, err
	}
	outOff, err := t.spliceOffset(a[3], wp != nil)
	if err != nil {
		return 0, err
	}
	n := int(min(a[4], spliceMax))
	if n == 0 {
		return 0, nil
	}
	var w int
	if rp != nil {
		b, err := rp.peek(n, t, nonblock || rp.nonblock.Load(), true)
		if err != nil || len(b) == 0 {
			return 0, err
		}
		w, err = t.spliceWrite(out, wp, b, outOff, nonblock)
		rp.consume(w)
		if w == 0 {
			return 0, err
		}
	} else {
		room, err := wp.room(t, nonblock || wp.nonblock.Load())
		if err != nil {
			if err == errPipe {
				t.sendSignal(t, int(unix.SIGPIPE), sigInfo{code: siUser, pid: t.p.pid})
			}
			return 0, err
		}
		buf := make([]byte, min(n, room))
		var got int
		switch {
		case streamOf(in) != nil:
			got, err = t.read(in, buf)
		case inOff >= 0:
			got, err = in.Pread(buf, inOff)
		default:
			got, err = in.Read(buf)
		}
		if err != nil || got == 0 {
			return 0, err
		}
		if w, err = wp.writeOpt(buf[:got], t, false); w < got {
			// Only another writer filling the room could do this.
			t.logOnce("splice-short", "splice: a pipe filled by another writer dropped data read from a file or socket")
		}
		if w == 0 {
			return 0, err
		}
	}
	if a[1] != 0 {
		t.put64(a[1], uint64(inOff+int64(w)))
	}
	if a[3] != 0 {
		t.put64(a[3], uint64(outOff+int64(w)))
	}
	return uint64(w), nil
}

// spliceWrite writes b, read from a pipe, to out: another pipe (wp) not
// waiting for room when nonblock, a file at off (-1: its position), or a
// socket as its own flags say.
func (t *Thread) spliceWrite(out *vfs.File, wp *pipeEnd, b []byte, off int64, nonblock bool) (int, error) {
	switch {
	case wp != nil:
		n, err := wp.writeOpt(b, t, nonblock || wp.nonblock.Load())
		if err == errPipe {
			t.sendSignal(t, int(unix.SIGPIPE), sigInfo{code: siUser, pid: t.p.pid})
		}
		return n, err
	case streamOf(out) != nil:
		n, err := t.write(out, b)
		return int(n), err
	case off >= 0:
		n, err := out.Pwrite(b, off)
		if n > 0 {
			t.p.sys.afterWrite(out, off, b[:n])
		}
		return n, err
	}
	n, err := t.write(out, b)
	return int(n), err
}

// Tee implements Linux syscall tee(2): it copies what one pipe holds into
// another without consuming it.
func sysTee(t *Thread, a Args) (uint64, error) {
	in, out, err := t.openInOut(a[0], a[1])
	if err != nil {
		return 0, err
	}
	if a[3]&^uint64(unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK|unix.SPLICE_F_MORE|unix.SPLICE_F_GIFT) != 0 {
		return 0, unix.EINVAL
	}
	rp, wp := pipeOf(in, false), pipeOf(out, true)
	if rp == nil || wp == nil || rp.pipe == wp.pipe {
		return 0, unix.EINVAL
	}
	n := int(min(a[2], spliceMax))
	if n == 0 {
		return 0, nil
	}
	nonblock := a[3]&unix.SPLICE_F_NONBLOCK != 0
	b, err := rp.peek(n, t, nonblock || rp.nonblock.Load(), false)
	if err != nil || len(b) == 0 {
		return 0, err
	}
	w, err := wp.writeOpt(b, t, nonblock || wp.nonblock.Load())
	if w == 0 {
		if err == errPipe {
			t.sendSignal(t, int(unix.SIGPIPE), sigInfo{code: siUser, pid: t.p.pid})
		}
		return 0, err
	}
	return uint64(w), nil
}
