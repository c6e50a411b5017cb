package syscallshim

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	ynet "yolk/net"
	"yolk/vfs"
)

// Sockets (socket(7)). A socket is one of the shim's own kinds of file
// (a stream adapted by streamImpl): AF_INET and AF_INET6 sockets are
// endpoints of the network stack (package net, gVisor's netstack),
// AF_UNIX sockets live here (unixsock.go). Both report readiness changes
// to the system's notifier, which wakes blocked calls, poll, select and
// epoll. The stack's calls never block; blocking is done here, where a
// signal can interrupt it (EINTR) and SO_RCVTIMEO/SO_SNDTIMEO bound it.

// socketState is what the system keeps for sockets: the network stack
// (Config.Net, or one with loopback only, made at the first Internet
// socket: creating gVisor's stack costs 30-40 ms of a boot under TCG) and the names AF_UNIX sockets are bound to.
type socketState struct {
	once  sync.Once
	stack *ynet.Stack
	err   error

	mu    sync.Mutex
	names map[any]*unixSock // vfs.Inode or abstract name (string) -> bound socket
	ino   atomic.Uint64     // socket inode numbers
}

// netStack returns the system's network stack.
func (s *System) netStack() (*ynet.Stack, error) {
	ss := &s.sockets
	ss.once.Do(func() {
		if s.cfg.Net != nil {
			ss.stack = s.cfg.Net
			return
		}
		cfg := ynet.DefaultConfig()
		if s.cfg.NetConfig != nil {
			cfg = *s.cfg.NetConfig
		}
		ss.stack, ss.err = ynet.New(cfg, nil)
	})
	return ss.stack, ss.err
}

// socket is an open socket of any family.
type socket struct {
	events   *notifier
	family   int
	typ      int // SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET
	ino      uint64
	nonblock atomic.Bool
	rcvTimeo atomic.Int64 // SO_RCVTIMEO, ns (0: none)
	sndTimeo atomic.Int64 // SO_SNDTIMEO

	inet *ynet.Socket // AF_INET, AF_INET6
	un   *unixSock    // AF_UNIX
	nl   *nlSock      // AF_NETLINK (netlink.go)
	sys  *System

	wmu      sync.Mutex
	watchers []*epollEntry // epoll entries told of readiness changes
}

// watch makes e hear of this socket's readiness changes (Internet and
// AF_UNIX sockets; false for others, which epoll looks at every time).
func (so *socket) watch(e *epollEntry) bool {
	if so.inet == nil && so.un == nil {
		return false
	}
	so.wmu.Lock()
	so.watchers = append(so.watchers, e)
	so.wmu.Unlock()
	return true
}

func (so *socket) unwatch(e *epollEntry) {
	so.wmu.Lock()
	defer so.wmu.Unlock()
	for i, w := range so.watchers {
		if w == e {
			so.watchers = append(so.watchers[:i], so.watchers[i+1:]...)
			return
		}
	}
}

// changed tells whoever waits that the socket's readiness may have
// changed: the epoll entries watching it, then blocked calls, poll,
// select and epoll_wait (the system's notifier). In that order: an
// epoll_wait woken by the notifier looks at the ready list at once, and
// if the entries were marked after the notice it found none, slept again
// and heard of the change only at the next notice (a Go HTTP server's
// request, whose data had arrived, waited until the client gave up and
// sent its FIN: about one connection in a thousand).
func (so *socket) changed() {
	so.wmu.Lock()
	for _, e := range so.watchers {
		e.markReady()
	}
	so.wmu.Unlock()
	so.events.notify()
}

func (s *System) newSocket(family, typ int) *socket {
	return &socket{events: &s.events, family: family, typ: typ, ino: s.sockets.ino.Add(1), sys: s}
}

// sockFile returns the open file description of a socket.
func sockFile(so *socket, nonblock bool) *vfs.File {
	so.nonblock.Store(nonblock)
	fl := unix.O_RDWR
	if nonblock {
		fl |= unix.O_NONBLOCK
	}
	return newStreamFile(so, fl)
}

// socketAt returns descriptor n's socket: EBADF or ENOTSOCK otherwise.
func (t *Thread) socketAt(n uint64) (*socket, error) {
	f, err := t.file(n)
	if err != nil {
		return nil, err
	}
	so, ok := streamOf(f).(*socket)
	if !ok {
		return nil, unix.ENOTSOCK
	}
	return so, nil
}

func (so *socket) setNonblock(on bool) { so.nonblock.Store(on) }

func (so *socket) generation() uint64 {
	switch {
	case so.inet != nil:
		return so.inet.Generation()
	case so.nl != nil:
		return so.nl.generation()
	}
	return so.un.generation()
}

func (so *socket) poll() uint32 {
	switch {
	case so.inet != nil:
		return so.inet.Readiness()
	case so.nl != nil:
		return so.nl.poll()
	}
	return so.un.poll()
}

func (so *socket) Stat() stat {
	return stat{dev: 0x8, ino: so.ino, mode: unix.S_IFSOCK | 0o777, nlink: 1, blksize: 4096}
}

func (so *socket) Close() error {
	switch {
	case so.inet != nil:
		so.inet.Close()
	case so.un != nil:
		so.un.close()
	}
	so.changed()
	return nil
}

func (so *socket) Read(b []byte) (int, error) {
	n, _, err := so.recv(nil, b, 0)
	return n, err
}

func (so *socket) Write(b []byte) (int, error) { return so.send(nil, b, 0, nil, nil, &ucred{}) }

// errTimedOut marks a wait that SO_RCVTIMEO or SO_SNDTIMEO ended: the
// call returns EAGAIN, as Linux does.
var errTimedOut = unix.EAGAIN

// block runs op until it stops returning EAGAIN, waiting for readiness
// changes in between unless the socket or the call is non-blocking. A
// signal for t ends the wait with EINTR; timeout (ns, 0 for none) or
// t's recvDeadline with EAGAIN.
func (so *socket) block(t *Thread, dontwait bool, timeout int64, op func() error) error {
	var timer <-chan time.Time
	for {
		wake := so.events.wait()
		err := op()
		if err != unix.EAGAIN || dontwait || so.nonblock.Load() {
			return err
		}
		if t != nil && t.recvDeadline != 0 && timer == nil {
			left := t.recvDeadline - t.p.m.Monotonic()
			if left <= 0 {
				return errTimedOut
			}
			if timeout == 0 || left < timeout {
				timeout = left
			}
		}
		if timeout > 0 && timer == nil {
			tm := time.NewTimer(time.Duration(timeout))
			defer tm.Stop()
			timer = tm.C
		}
		var sig <-chan struct{}
		if t != nil {
			sig = t.sig.wake
		}
	wait:
		select {
		case <-wake:
		case <-timer:
			return errTimedOut
		case <-sig:
			if !t.interrupting() {
				goto wait
			}
			return unix.EINTR
		}
	}
}

// sockAddr is a decoded socket address: an Internet address and port,
// or an AF_UNIX name (a path, or an abstract name starting with NUL;
// empty for an unnamed socket).
type sockAddr struct {
	family int
	inet   netip.AddrPort
	unix   string
	total  int // a received datagram's whole length (MSG_TRUNC)
}

// recv receives into b with recv(2) flags (MSG_PEEK, MSG_DONTWAIT,
// MSG_WAITALL, MSG_TRUNC) and returns the sender's address for datagram
// sockets.
func (so *socket) recv(t *Thread, b []byte, flags int) (int, *sockAddr, error) {
	if so.un != nil {
		n, from, _, err := so.un.recv(t, so, b, flags, nil, nil)
		return n, from, err
	}
	if so.nl != nil {
		var n, total int
		err := so.block(t, flags&unix.MSG_DONTWAIT != 0, so.rcvTimeo.Load(), func() (err error) {
			n, total, err = so.nl.recv(b, flags&unix.MSG_PEEK != 0)
			return err
		})
		return n, &sockAddr{family: unix.AF_NETLINK, total: total}, err
	}
	var n int
	var from *sockAddr
	dontwait := flags&unix.MSG_DONTWAIT != 0
	peek := flags&unix.MSG_PEEK != 0
	err := so.block(t, dontwait, so.rcvTimeo.Load(), func() error {
		m, src, total, err := so.inet.Recv(b, peek)
		if err != nil {
			return err
		}
		n = m
		if so.inet.Messages() {
			from = &sockAddr{family: so.family, inet: src, total: total}
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	// MSG_WAITALL on a stream: keep reading until b is full, end of file
	// or an error.
	if flags&unix.MSG_WAITALL != 0 && so.typ == unix.SOCK_STREAM && !peek {
		for n > 0 && n < len(b) {
			var m int
			err := so.block(t, dontwait, so.rcvTimeo.Load(), func() error {
				var err error
				m, _, _, err = so.inet.Recv(b[n:], false)
				return err
			})
			if err != nil || m == 0 {
				break
			}
			n += m
		}
	}
	return n, from, nil
}

// send sends b (to to, if given) with send(2) flags (MSG_DONTWAIT,
// MSG_NOSIGNAL is the caller's); a blocking stream socket sends it all
// unless a signal or timeout interrupts it (then what was sent counts).
// files are SCM_RIGHTS descriptors for AF_UNIX, cred SCM_CREDENTIALS (nil:
// the sender's own).
func (so *socket) send(t *Thread, b []byte, flags int, to *sockAddr, files []*vfs.File, cred *ucred) (int, error) {
	if so.un != nil {
		return so.un.send(t, so, b, flags, to, files, cred)
	}
	if so.nl != nil {
		st, _ := so.sys.netStack()
		so.nl.handle(st, b)
		so.changed()
		return len(b), nil
	}
	if len(files) > 0 {
		return 0, unix.EOPNOTSUPP
	}
	var dst *netip.AddrPort
	if to != nil {
		if to.family != so.family && !(so.family == unix.AF_INET6 && to.family == unix.AF_INET) {
			return 0, unix.EAFNOSUPPORT
		}
		dst = &to.inet
	}
	done := 0
	dontwait := flags&unix.MSG_DONTWAIT != 0
	for {
		var n int
		err := so.block(t, dontwait, so.sndTimeo.Load(), func() error {
			var err error
			n, err = so.inet.Send(b[done:], dst)
			if err == nil && n == 0 && len(b) > done {
				return unix.EAGAIN
			}
			return err
		})
		done += n
		if err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		if done >= len(b) || so.typ != unix.SOCK_STREAM || dontwait || so.nonblock.Load() {
			return done, nil
		}
	}
}
