package syscallshim

import (
	"encoding/binary"
	"sync"
	"time"

	"golang.org/x/sys/unix"
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
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
}

func (c *console) poll() uint32 { return unix.EPOLLOUT }

// eventfd is an eventfd(2) counter.
type eventfd struct {
	p         *Process
	mu        sync.Mutex
	count     uint64
	nonblock  bool
	semaphore bool
}

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
			e.mu.Unlock()
			binary.LittleEndian.PutUint64(b, v)
			e.p.events.notify()
			return 8, nil
		}
		e.mu.Unlock()
		if e.nonblock {
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
			e.mu.Unlock()
			e.p.events.notify()
			return 8, nil
		}
		e.mu.Unlock()
		if e.nonblock {
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
	e := &eventfd{p: t.p, count: uint64(uint32(a[0])), nonblock: flags&unix.EFD_NONBLOCK != 0, semaphore: flags&unix.EFD_SEMAPHORE != 0}
	fl := uint32(unix.O_RDWR)
	if e.nonblock {
		fl |= unix.O_NONBLOCK
	}
	n, err := t.p.files.install(&fd{f: e, flags: fl, cloexec: flags&unix.EFD_CLOEXEC != 0}, 0)
	return uint64(n), err
}

// epoll is an epoll instance: level-triggered readiness of its interest
// list. EPOLLET and EPOLLONESHOT are honoured as far as reporting goes:
// an edge-triggered entry is reported once per change of its readiness.
type epoll struct {
	mu       sync.Mutex
	interest map[int32]*epollEntry
}

type epollEntry struct {
	f      File
	events uint32
	data   uint64
	last   uint32 // readiness last reported (for EPOLLET)
	off    bool   // EPOLLONESHOT fired
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
	ep := &epoll{interest: map[int32]*epollEntry{}}
	n, err := t.p.files.install(&fd{f: ep, flags: unix.O_RDWR, cloexec: cloexec}, 0)
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
	ep, ok := d.f.(*epoll)
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
	if _, ok := d.f.(pollable); !ok {
		return 0, unix.EPERM // regular files and directories cannot be polled
	}
	if d.f == File(ep) {
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
		ep.interest[fdn] = &epollEntry{f: d.f, events: events, data: data}
	case unix.EPOLL_CTL_MOD:
		if e == nil {
			return 0, unix.ENOENT
		}
		e.events, e.data, e.last, e.off = events, data, 0, false
	case unix.EPOLL_CTL_DEL:
		if e == nil {
			return 0, unix.ENOENT
		}
		delete(ep.interest, fdn)
	default:
		return 0, unix.EINVAL
	}
	t.p.events.notify()
	return 0, nil
}

// collect returns up to max ready events, encoded as struct epoll_event.
func (ep *epoll) collect(max int) []byte {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	var out []byte
	for _, e := range ep.interest {
		if len(out)/12 >= max {
			break
		}
		if e.off {
			continue
		}
		ready := e.f.(pollable).poll()
		r := ready & (e.events | unix.EPOLLERR | unix.EPOLLHUP)
		if e.events&unix.EPOLLET != 0 {
			fresh := r &^ e.last
			e.last = r
			r = fresh
		}
		if r == 0 {
			continue
		}
		if e.events&unix.EPOLLONESHOT != 0 {
			e.off = true
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
	if _, err := t.bytes(events, 12*max, true); err != nil {
		return 0, err
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
		select {
		case <-wake:
		case <-timer:
			return 0, nil
		}
	}
}

func sysEpollWait(t *Thread, a Args) (uint64, error) {
	return t.epollWait(a[0], a[1], a[2], int32(a[3]))
}

// sysEpollPwait ignores the signal mask argument: signals are not
// delivered, so no wait can be interrupted by one.
func sysEpollPwait(t *Thread, a Args) (uint64, error) {
	return t.epollWait(a[0], a[1], a[2], int32(a[3]))
}
