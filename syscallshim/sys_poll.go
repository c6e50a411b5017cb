package syscallshim

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"yolk/vfs"
)

// Readiness. A pollable file reports its state with poll; whenever a
// file's state changes it calls Process.notify, which wakes every waiter
// (epoll_wait and blocking reads) to look again. With few files per
// program this is simpler than per-file wait queues and as correct.

type pollable interface {
	poll() uint32 // EPOLLIN | EPOLLOUT | EPOLLHUP ... currently true
}

type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed at the next notify.
func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

func (n *notifier) notify() {
	n.mu.Lock() // no defer: every pipe read and write comes here
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
	n.mu.Unlock()
}

func (c *console) poll() uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fill()
	if len(c.pending) > 0 || c.eof {
		return unix.EPOLLIN | unix.EPOLLOUT
	}
	return unix.EPOLLOUT
}

// readiness is a file's poll(2) state: pollable files say; regular files
// and directories are always ready, as on Linux.
func readiness(s stream) uint32 {
	if p, ok := s.(pollable); ok {
		return p.poll()
	}
	return unix.POLLIN | unix.POLLOUT | 0x40 | 0x100 // POLLRDNORM, POLLWRNORM
}

// fileReadiness is readiness for any open file: the shim's own kinds
// say, files of the file systems are always ready.
func fileReadiness(f *vfs.File) uint32 {
	if s := streamOf(f); s != nil {
		return readiness(s)
	}
	return uint32(f.Readiness(vfs.EventIn|vfs.EventOut)) | 0x40 | 0x100
}

// watchesConsole reports whether f's readiness can change without a
// notify (console input is polled), so waiters must look again.
func watchesConsole(f *vfs.File) bool {
	switch streamOf(f).(type) {
	case *console, *stdStream:
		return true
	}
	return false
}

// eventfd is an eventfd(2) counter.
type eventfd struct {
	p         *Process
	mu        sync.Mutex
	count     uint64
	nonblock  atomic.Bool // O_NONBLOCK, settable with fcntl(F_SETFL)
	semaphore bool
	seq       uint64 // bumped on every change, for edge-triggered epoll
}

func (e *eventfd) setNonblock(on bool) { e.nonblock.Store(on) }

func (e *eventfd) generation() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.seq
}

// generationer is implemented by pollable files that count their state
// changes: an edge-triggered epoll entry reports a file again when it
// changed, even if its readiness bits look the same.
type generationer interface{ generation() uint64 }

// nonblocker is implemented by files whose O_NONBLOCK fcntl can change.
type nonblocker interface{ setNonblock(bool) }

func (e *eventfd) poll() uint32 {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := uint32(0)
	if e.count > 0 {
		r |= unix.EPOLLIN
	}
	if e.count < 1<<64-2 {
		r |= unix.EPOLLOUT
	}
	return r
}

func (e *eventfd) Read(b []byte) (int, error) {
	if len(b) < 8 {
		return 0, unix.EINVAL
	}
	for {
		wake := e.p.events.wait()
		e.mu.Lock()
		if e.count > 0 {
			v := e.count
			if e.semaphore {
				v = 1
			}
			e.count -= v
			e.seq++
			e.mu.Unlock()
			binary.LittleEndian.PutUint64(b, v)
			e.p.events.notify()
			return 8, nil
		}
		e.mu.Unlock()
		if e.nonblock.Load() {
			return 0, unix.EAGAIN
		}
		<-wake
	}
}

func (e *eventfd) Write(b []byte) (int, error) {
	if len(b) < 8 {
		return 0, unix.EINVAL
	}
	v := binary.LittleEndian.Uint64(b)
	if v == 1<<64-1 {
		return 0, unix.EINVAL
	}
	for {
		wake := e.p.events.wait()
		e.mu.Lock()
		if e.count+v >= e.count && e.count+v < 1<<64-1 {
			e.count += v
			e.seq++
			e.mu.Unlock()
			e.p.events.notify()
			return 8, nil
		}
		e.mu.Unlock()
		if e.nonblock.Load() {
			return 0, unix.EAGAIN
		}
		<-wake
	}
}

func (e *eventfd) Pread([]byte, int64) (int, error) { return 0, unix.ESPIPE }
func (e *eventfd) Seek(int64, int) (int64, error)   { return 0, unix.ESPIPE }
func (e *eventfd) Close() error                     { return nil }
func (e *eventfd) Stat() stat {
	return stat{dev: 0xd, ino: 1, mode: 0o600, nlink: 1, blksize: 4096}
}

func sysEventfd2(t *Thread, a Args) (uint64, error) {
	flags := a[1]
	if flags&^(unix.EFD_CLOEXEC|unix.EFD_NONBLOCK|unix.EFD_SEMAPHORE) != 0 {
		return 0, unix.EINVAL
	}
	e := &eventfd{p: t.p, count: uint64(uint32(a[0])), semaphore: flags&unix.EFD_SEMAPHORE != 0}
	e.nonblock.Store(flags&unix.EFD_NONBLOCK != 0)
	fl := uint32(unix.O_RDWR)
	if e.nonblock.Load() {
		fl |= unix.O_NONBLOCK
	}
	n, err := t.p.files.installNew(newStreamFile(e, int(fl)), flags&unix.EFD_CLOEXEC != 0)
	return uint64(n), err
}

// epoll is an epoll instance: level-triggered readiness of its interest
// list. EPOLLET and EPOLLONESHOT are honoured as far as reporting goes:
// an edge-triggered entry is reported once per change of its readiness.
//
// Sockets tell the instances watching them when their readiness may have
// changed (socket.watch), so epoll_wait looks only at those entries (the
// ready list) and at entries of other kinds of files (unhooked), not at
// every socket: with thousands of connections a wake-up costs what
// changed. A level-triggered entry that was reported stays on the ready
// list to be looked at again, as on Linux.
type epoll struct {
	mu       sync.Mutex
	interest map[int32]*epollEntry
	unhooked map[*epollEntry]struct{} // files that do not tell: looked at on every collect

	readyMu sync.Mutex // a leaf lock: socket notifications take it
	ready   map[*epollEntry]struct{}
}

type epollEntry struct {
	f       *vfs.File
	events  uint32
	data    uint64
	last    uint32 // readiness last reported (for EPOLLET)
	lastGen uint64 // the file's generation then
	off     bool   // EPOLLONESHOT fired

	ep      *epoll
	so      *socket // the socket it watches (nil: unhooked)
	removed bool    // EPOLL_CTL_DEL done (ep.mu)
}

// markReady puts e on its instance's ready list.
func (e *epollEntry) markReady() {
	ep := e.ep
	ep.readyMu.Lock()
	ep.ready[e] = struct{}{}
	ep.readyMu.Unlock()
}

func (ep *epoll) Read([]byte) (int, error)         { return 0, unix.EINVAL }
func (ep *epoll) Write([]byte) (int, error)        { return 0, unix.EINVAL }
func (ep *epoll) Pread([]byte, int64) (int, error) { return 0, unix.ESPIPE }
func (ep *epoll) Seek(int64, int) (int64, error)   { return 0, unix.ESPIPE }
func (ep *epoll) Close() error                     { return nil }
func (ep *epoll) Stat() stat {
	return stat{dev: 0xd, ino: 2, mode: 0o600, nlink: 1, blksize: 4096}
}

func (t *Thread) newEpoll(cloexec bool) (uint64, error) {
	ep := &epoll{interest: map[int32]*epollEntry{}, unhooked: map[*epollEntry]struct{}{}, ready: map[*epollEntry]struct{}{}}
	n, err := t.p.files.installNew(newStreamFile(ep, unix.O_RDWR), cloexec)
	return uint64(n), err
}

func sysEpollCreate1(t *Thread, a Args) (uint64, error) {
	if a[0]&^unix.EPOLL_CLOEXEC != 0 {
		return 0, unix.EINVAL
	}
	return t.newEpoll(a[0]&unix.EPOLL_CLOEXEC != 0)
}

func sysEpollCreate(t *Thread, a Args) (uint64, error) {
	if int32(a[0]) <= 0 {
		return 0, unix.EINVAL
	}
	return t.newEpoll(false)
}

func (t *Thread) epollAt(n uint64) (*epoll, error) {
	d, err := t.p.files.get(n)
	if err != nil {
		return nil, err
	}
	ep, ok := streamOf(d.f).(*epoll)
	if !ok {
		return nil, unix.EINVAL
	}
	return ep, nil
}

func sysEpollCtl(t *Thread, a Args) (uint64, error) {
	ep, err := t.epollAt(a[0])
	if err != nil {
		return 0, err
	}
	d, err := t.p.files.get(a[2])
	if err != nil {
		return 0, err
	}
	if _, ok := streamOf(d.f).(pollable); !ok {
		return 0, unix.EPERM // regular files and directories cannot be polled
	}
	if streamOf(d.f) == stream(ep) {
		return 0, unix.EINVAL
	}
	fdn := int32(a[2])
	var events uint32
	var data uint64
	if a[1] != unix.EPOLL_CTL_DEL {
		b, err := t.copyIn(a[3], 12)
		if err != nil {
			return 0, err
		}
		events, data = binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint64(b[4:])
	}
	ep.mu.Lock()
	defer ep.mu.Unlock()
	e := ep.interest[fdn]
	switch a[1] {
	case unix.EPOLL_CTL_ADD:
		if e != nil {
			return 0, unix.EEXIST
		}
		e = &epollEntry{f: d.f, events: events, data: data, ep: ep}
		ep.interest[fdn] = e
		if so, ok := streamOf(d.f).(*socket); ok && so.watch(e) {
			e.so = so
		} else {
			ep.unhooked[e] = struct{}{}
		}
		e.markReady()
	case unix.EPOLL_CTL_MOD:
		if e == nil {
			return 0, unix.ENOENT
		}
		e.events, e.data, e.last, e.lastGen, e.off = events, data, 0, 0, false
		e.markReady()
	case unix.EPOLL_CTL_DEL:
		if e == nil {
			return 0, unix.ENOENT
		}
		delete(ep.interest, fdn)
		delete(ep.unhooked, e)
		e.removed = true
		if e.so != nil {
			e.so.unwatch(e)
		}
	default:
		return 0, unix.EINVAL
	}
	t.p.events.notify()
	return 0, nil
}

// collect returns up to max ready events, encoded as struct epoll_event.
// It looks at the entries on the ready list and the unhooked ones.
func (ep *epoll) collect(max int) []byte {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	ep.readyMu.Lock()
	cands := ep.ready
	ep.ready = make(map[*epollEntry]struct{}, len(cands))
	ep.readyMu.Unlock()
	for e := range ep.unhooked {
		cands[e] = struct{}{}
	}
	var out []byte
	for e := range cands {
		if e.removed {
			continue
		}
		if len(out)/12 >= max {
			if e.so != nil {
				e.markReady() // not looked at: next time
			}
			continue
		}
		if e.off {
			continue
		}
		ready := fileReadiness(e.f)
		r := ready & (e.events | unix.EPOLLERR | unix.EPOLLHUP)
		et := e.events&unix.EPOLLET != 0
		if et {
			// Edge-triggered: report what became ready, or anything
			// ready when the file changed since the last report.
			changed := false
			if g, ok := streamOf(e.f).(generationer); ok {
				gen := g.generation()
				changed, e.lastGen = gen != e.lastGen, gen
			}
			fresh := r &^ e.last
			e.last = r
			if !changed {
				r = fresh
			}
		}
		if r == 0 {
			continue
		}
		if e.events&unix.EPOLLONESHOT != 0 {
			e.off = true
		} else if !et && e.so != nil {
			e.markReady() // level-triggered: look again next time
		}
		var b [12]byte
		binary.LittleEndian.PutUint32(b[:], r)
		binary.LittleEndian.PutUint64(b[4:], e.data)
		out = append(out, b[:]...)
	}
	return out
}

func (t *Thread) epollWait(epfd, events, max uint64, timeoutMs int32) (uint64, error) {
	ep, err := t.epollAt(epfd)
	if err != nil {
		return 0, err
	}
	if int32(max) <= 0 || max > 1<<20 {
		return 0, unix.EINVAL
	}
	if !userRange(events, 12*max) {
		return 0, unix.EFAULT // access_ok; the copy itself may still fault
	}
	var timer <-chan time.Time
	if timeoutMs > 0 {
		tm := time.NewTimer(time.Duration(timeoutMs) * time.Millisecond)
		defer tm.Stop()
		timer = tm.C
	}
	for {
		wake := t.p.events.wait()
		if out := ep.collect(int(max)); len(out) > 0 {
			return uint64(len(out) / 12), t.copyOut(events, out)
		}
		if timeoutMs == 0 {
			return 0, nil
		}
		switch t.waitEvents(wake, timer, ep.hasConsole()) {
		case waitTimeout:
			return 0, nil
		case waitSignal:
			return 0, unix.EINTR
		}
	}
}

func (ep *epoll) hasConsole() bool {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	for _, e := range ep.interest {
		if watchesConsole(e.f) {
			return true
		}
	}
	return false
}

// How a wait for readiness ended.
type waitEnd int

const (
	waitAgain   waitEnd = iota // something may have changed: look again
	waitTimeout                // the timer fired
	waitSignal                 // a signal for the thread interrupts the call (EINTR)
)

// waitEvents waits for a readiness change, the timer, a signal for t, or
// — when console input matters — a short interval.
func (t *Thread) waitEvents(wake <-chan struct{}, timer <-chan time.Time, console bool) waitEnd {
	var tick <-chan time.Time
	if console {
		tm := time.NewTimer(consolePollNs)
		defer tm.Stop()
		tick = tm.C
	}
	for {
		select {
		case <-wake:
		case <-tick:
		case <-timer:
			return waitTimeout
		case <-t.sig.wake:
			if !t.interrupting() {
				continue
			}
			return waitSignal
		}
		return waitAgain
	}
}

// pollFd is one entry of poll's array.
type pollFd struct {
	fd      int32
	events  uint16
	revents uint16
}

// doPoll waits until one of fds is ready or timeout (ns, <0 forever, 0
// no wait) passes, filling revents; it returns how many are ready, or
// EINTR when a signal for the thread interrupts the wait.
func (t *Thread) doPoll(fds []pollFd, timeout int64) (int, error) {
	var timer <-chan time.Time
	if timeout > 0 {
		tm := time.NewTimer(time.Duration(timeout))
		defer tm.Stop()
		timer = tm.C
	}
	for {
		wake := t.p.events.wait()
		n, console := 0, false
		for i := range fds {
			f := &fds[i]
			f.revents = 0
			if f.fd < 0 {
				continue
			}
			d, err := t.p.files.get(uint64(f.fd))
			if err != nil {
				f.revents = unix.POLLNVAL
				n++
				continue
			}
			console = console || watchesConsole(d.f)
			r := uint16(fileReadiness(d.f))
			f.revents = r & (f.events | unix.POLLERR | unix.POLLHUP | unix.POLLNVAL)
			if f.revents != 0 {
				n++
			}
		}
		if n > 0 || timeout == 0 {
			return n, nil
		}
		switch t.waitEvents(wake, timer, console) {
		case waitTimeout:
			return 0, nil
		case waitSignal:
			return 0, unix.EINTR
		}
	}
}

func (t *Thread) poll(fdsp, nfds uint64, timeout int64) (uint64, error) {
	if nfds > maxFDs {
		return 0, unix.EINVAL
	}
	b, err := t.copyIn(fdsp, 8*nfds)
	if err != nil {
		return 0, err
	}
	fds := make([]pollFd, nfds)
	for i := range fds {
		fds[i] = pollFd{fd: int32(binary.LittleEndian.Uint32(b[8*i:])), events: binary.LittleEndian.Uint16(b[8*i+4:])}
	}
	n, err := t.doPoll(fds, timeout)
	if err != nil {
		return 0, err
	}
	for i := range fds {
		binary.LittleEndian.PutUint16(b[8*i+6:], fds[i].revents)
	}
	return uint64(n), t.copyOut(fdsp, b)
}

// sysPoll implements poll(2) over every kind of descriptor.
func sysPoll(t *Thread, a Args) (uint64, error) {
	timeout := int64(int32(a[2]))
	if timeout > 0 {
		timeout *= 1e6
	}
	return t.poll(a[0], a[1], timeout)
}

// sysPpoll implements ppoll(2); the signal-mask argument is ignored (a
// signal interrupts the wait with EINTR as for poll).
func sysPpoll(t *Thread, a Args) (uint64, error) {
	timeout := int64(-1)
	if a[2] != 0 {
		ns, err := t.timespec(a[2])
		if err != nil {
			return 0, err
		}
		timeout = ns
	}
	return t.poll(a[0], a[1], timeout)
}

// selectFds implements select(2) and pselect6(2) on top of doPoll.
func (t *Thread) selectFds(nfds int, rp, wp, ep uint64, timeout int64) (uint64, error) {
	if nfds < 0 || nfds > maxFDs {
		return 0, unix.EINVAL
	}
	words := uint64((nfds + 63) / 64)
	sets := [3][]uint64{}
	for k, p := range []uint64{rp, wp, ep} {
		if p == 0 {
			continue
		}
		b, err := t.copyIn(p, 8*words)
		if err != nil {
			return 0, err
		}
		sets[k] = make([]uint64, words)
		for i := range sets[k] {
			sets[k][i] = binary.LittleEndian.Uint64(b[8*i:])
		}
	}
	bit := func(set []uint64, fd int) bool { return set != nil && set[fd/64]&(1<<(fd%64)) != 0 }
	var fds []pollFd
	for fd := 0; fd < nfds; fd++ {
		var ev uint16
		if bit(sets[0], fd) {
			ev |= unix.POLLIN
		}
		if bit(sets[1], fd) {
			ev |= unix.POLLOUT
		}
		if bit(sets[2], fd) {
			ev |= unix.POLLPRI
		}
		if ev != 0 {
			fds = append(fds, pollFd{fd: int32(fd), events: ev})
		}
	}
	for _, f := range fds {
		if _, err := t.p.files.get(uint64(f.fd)); err != nil {
			return 0, unix.EBADF
		}
	}
	if _, err := t.doPoll(fds, timeout); err != nil {
		return 0, err
	}
	var out [3][]uint64
	for k := range out {
		if sets[k] != nil {
			out[k] = make([]uint64, words)
		}
	}
	n := 0
	for _, f := range fds {
		for k, m := range []uint16{unix.POLLIN | unix.POLLHUP | unix.POLLERR, unix.POLLOUT | unix.POLLERR, unix.POLLPRI} {
			if out[k] != nil && f.events&m&^(unix.POLLHUP|unix.POLLERR) != 0 && f.revents&m != 0 {
				out[k][f.fd/64] |= 1 << (f.fd % 64)
				n++
			}
		}
	}
	for k, p := range []uint64{rp, wp, ep} {
		if p == 0 {
			continue
		}
		b := make([]byte, 8*words)
		for i, w := range out[k] {
			binary.LittleEndian.PutUint64(b[8*i:], w)
		}
		if err := t.copyOut(p, b); err != nil {
			return 0, err
		}
	}
	return uint64(n), nil
}

// sysSelect implements select(2); the remaining time is not written back
// (Linux does; programs may not rely on it portably).
func sysSelect(t *Thread, a Args) (uint64, error) {
	timeout := int64(-1)
	if a[4] != 0 {
		b, err := t.copyIn(a[4], 16)
		if err != nil {
			return 0, err
		}
		sec, usec := int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint64(b[8:]))
		if sec < 0 || usec < 0 {
			return 0, unix.EINVAL
		}
		timeout = sec*1e9 + usec*1e3
	}
	return t.selectFds(int(int32(a[0])), a[1], a[2], a[3], timeout)
}

// sysPselect6 implements pselect6(2); the signal mask is ignored.
func sysPselect6(t *Thread, a Args) (uint64, error) {
	timeout := int64(-1)
	if a[4] != 0 {
		ns, err := t.timespec(a[4])
		if err != nil {
			return 0, err
		}
		timeout = ns
	}
	return t.selectFds(int(int32(a[0])), a[1], a[2], a[3], timeout)
}

func sysEpollWait(t *Thread, a Args) (uint64, error) {
	return t.epollWait(a[0], a[1], a[2], int32(a[3]))
}

// sysEpollPwait ignores the signal-mask argument; signals do not
// interrupt the wait (they are taken when it ends).
func sysEpollPwait(t *Thread, a Args) (uint64, error) {
	return t.epollWait(a[0], a[1], a[2], int32(a[3]))
}
