package syscallshim

import (
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"yolk/vfs"
)

// AF_UNIX sockets (unix(7)): SOCK_STREAM, SOCK_SEQPACKET and SOCK_DGRAM,
// unnamed (socketpair), bound to a path (a socket file made in the VFS;
// the name table maps its inode to the socket) or to an abstract name
// (a leading NUL byte). Data waits in the reader's queue, bounded at
// unixQueueMax bytes; SCM_RIGHTS descriptors travel with the bytes they
// were sent with. A connection is complete when connect returns: the
// listener's accept queue holds the server's end.

const unixQueueMax = 256 << 10

// unixMsg is one write: a datagram, a record, or a piece of a stream.
type unixMsg struct {
	data  []byte
	from  string      // the sender's name (datagrams)
	files []*vfs.File // SCM_RIGHTS, one reference each
	cred  ucred       // the sender's credentials, or those it sent (SCM_CREDENTIALS)
}

// ucred is struct ucred: what SCM_CREDENTIALS carries.
type ucred struct {
	pid      int32
	uid, gid uint32
}

// unixQueue is what one socket has to read.
type unixQueue struct {
	mu       sync.Mutex
	msgs     []unixMsg
	bytes    int
	eof      bool // the writer shut down or closed: reads end
	noReader bool // the reader closed: writes fail with EPIPE
	reset    bool // the peer closed with data unread: the next empty read fails with ECONNRESET, once
}

type unixSock struct {
	sys   *System
	typ   int
	seq   atomic.Uint64
	owner atomic.Pointer[socket] // the socket it is, for epoll's watchers (nil until accepted)

	mu        sync.Mutex
	name      string // bound name: a path, or "\x00..." (abstract); "" unnamed
	key       any    // the name table's key while bound
	listening bool
	backlog   int
	pending   []*unixSock // connected server ends not yet accepted
	peer      *unixSock   // connected peer, or a datagram socket's default destination
	rx        *unixQueue
	shutRd    bool
	shutWr    bool
	closed    bool
	pid       int32 // the creator, for SO_PEERCRED
	passcred  bool  // SO_PASSCRED: recvmsg adds SCM_CREDENTIALS
}

func (s *System) newUnixSock(typ int, pid int32) *unixSock {
	return &unixSock{sys: s, typ: typ, rx: &unixQueue{}, pid: pid}
}

func (u *unixSock) generation() uint64 { return u.seq.Load() }

// passingCreds reports SO_PASSCRED.
func (u *unixSock) passingCreds() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.passcred
}

// changed bumps the generation of u and its peer and wakes waiters.
func (u *unixSock) changed(others ...*unixSock) {
	u.seq.Add(1)
	for _, o := range others {
		if o != nil {
			o.seq.Add(1)
		}
	}
	u.sys.events.notify()
	for _, o := range append(others, u) {
		if o == nil {
			continue
		}
		if so := o.owner.Load(); so != nil {
			so.wmu.Lock()
			for _, e := range so.watchers {
				e.markReady()
			}
			so.wmu.Unlock()
		}
	}
}

// unixPair connects two new sockets (socketpair(2)).
func unixPair(a, b *unixSock) {
	a.peer, b.peer = b, a
}

func (u *unixSock) poll() uint32 {
	u.mu.Lock()
	defer u.mu.Unlock()
	var r uint32
	if u.listening {
		if len(u.pending) > 0 {
			r |= unix.EPOLLIN
		}
		return r
	}
	u.rx.mu.Lock()
	if len(u.rx.msgs) > 0 || u.rx.eof || u.shutRd {
		r |= unix.EPOLLIN
	}
	if u.rx.reset {
		r |= unix.EPOLLERR
	}
	if u.rx.eof || u.shutRd {
		r |= unix.EPOLLRDHUP
	}
	u.rx.mu.Unlock()
	p := u.peer
	switch {
	case p != nil:
		q := p.rx
		q.mu.Lock()
		if q.noReader {
			r |= unix.EPOLLOUT
			if u.typ != unix.SOCK_DGRAM {
				r |= unix.EPOLLHUP
			}
		} else if q.bytes < unixQueueMax && !u.shutWr {
			r |= unix.EPOLLOUT
		}
		q.mu.Unlock()
	case u.typ == unix.SOCK_DGRAM:
		r |= unix.EPOLLOUT
	}
	if u.shutWr && (u.shutRd || u.rx.eof) {
		r |= unix.EPOLLHUP
	}
	return r
}

// close is the last close of the socket: the peer reads end of file and
// its writes fail; connections never accepted are closed too.
func (u *unixSock) close() {
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return
	}
	u.closed = true
	pending := u.pending
	u.pending = nil
	peer := u.peer
	key := u.key
	u.mu.Unlock()
	if key != nil {
		ss := &u.sys.sockets
		ss.mu.Lock()
		if ss.names[key] == u {
			delete(ss.names, key)
		}
		ss.mu.Unlock()
	}
	u.rx.mu.Lock()
	u.rx.noReader = true
	unread := len(u.rx.msgs) > 0
	msgs := u.rx.msgs
	u.rx.msgs, u.rx.bytes = nil, 0
	u.rx.mu.Unlock()
	for _, m := range msgs {
		for _, f := range m.files {
			f.DecRef()
		}
	}
	if peer != nil && u.typ != unix.SOCK_DGRAM {
		peer.rx.mu.Lock()
		peer.rx.eof = true
		// Linux (unix_release_sock): closing with data unread resets
		// the connection; the peer's next read that finds nothing
		// fails with ECONNRESET.
		peer.rx.reset = peer.rx.reset || unread
		peer.rx.mu.Unlock()
	}
	for _, p := range pending {
		p.close()
	}
	u.changed(peer)
}

// lookupName returns the socket bound to name.
func (t *Thread) lookupUnix(name string) (*unixSock, error) {
	key, err := t.unixKey(name, false)
	if err != nil {
		return nil, err
	}
	ss := &t.p.sys.sockets
	ss.mu.Lock()
	defer ss.mu.Unlock()
	u := ss.names[key]
	if u == nil {
		return nil, unix.ECONNREFUSED
	}
	return u, nil
}

// unixKey returns the name table's key for name: the string itself for
// an abstract name, the inode of the socket file for a path (made first
// when create is set: EADDRINUSE if the path exists).
func (t *Thread) unixKey(name string, create bool) (any, error) {
	if name == "" {
		return nil, unix.EINVAL
	}
	if name[0] == 0 {
		return name, nil
	}
	at, err := t.at(atFDCWD)
	if err != nil {
		return nil, err
	}
	v := t.p.sys.vfs
	if create {
		if err := v.Mknodat(t.vctx(), at, name, unix.S_IFSOCK|0o777, 0); err != nil {
			if err == unix.EEXIST {
				return nil, unix.EADDRINUSE
			}
			return nil, err
		}
	}
	p, err := v.Lookup(t.vctx(), at, name, 0)
	if err != nil {
		return nil, err
	}
	ino := p.Inode()
	if ino.Stat().Mode&unix.S_IFMT != unix.S_IFSOCK {
		return nil, unix.ECONNREFUSED
	}
	return ino, nil
}

var autobindSeq atomic.Uint32

// bind implements bind(2): "" autobinds an abstract name, as Linux does
// for an address of just the family.
func (u *unixSock) bind(t *Thread, name string) error {
	u.mu.Lock()
	bound := u.name != ""
	u.mu.Unlock()
	if bound {
		return unix.EINVAL
	}
	if name == "" {
		name = fmt.Sprintf("\x00%05x", autobindSeq.Add(1)&0xfffff)
	}
	key, err := t.unixKey(name, true)
	if err != nil {
		return err
	}
	ss := &t.p.sys.sockets
	ss.mu.Lock()
	if ss.names == nil {
		ss.names = map[any]*unixSock{}
	}
	if ss.names[key] != nil {
		ss.mu.Unlock()
		return unix.EADDRINUSE
	}
	ss.names[key] = u
	ss.mu.Unlock()
	u.mu.Lock()
	u.name, u.key = name, key
	u.mu.Unlock()
	return nil
}

func (u *unixSock) listen(backlog int) error {
	if u.typ == unix.SOCK_DGRAM {
		return unix.EOPNOTSUPP
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.name == "" || u.peer != nil {
		return unix.EINVAL
	}
	u.listening = true
	u.backlog = min(max(backlog, 1), 4096)
	return nil
}

// connect implements connect(2): a stream or seqpacket socket joins the
// listener's accept queue (waiting while it is full unless
// non-blocking); a datagram socket takes a default destination.
func (u *unixSock) connect(t *Thread, so *socket, name string) error {
	l, err := t.lookupUnix(name)
	if err != nil {
		return err
	}
	if l.typ != u.typ {
		return unix.EPROTOTYPE
	}
	if u.typ == unix.SOCK_DGRAM {
		u.mu.Lock()
		u.peer = l
		u.mu.Unlock()
		u.changed()
		return nil
	}
	u.mu.Lock()
	switch {
	case u.listening:
		u.mu.Unlock()
		return unix.EINVAL
	case u.peer != nil:
		u.mu.Unlock()
		return unix.EISCONN
	}
	u.mu.Unlock()
	return so.block(t, false, 0, func() error {
		l.mu.Lock()
		defer l.mu.Unlock()
		if !l.listening || l.closed {
			return unix.ECONNREFUSED
		}
		if len(l.pending) >= l.backlog {
			return unix.EAGAIN
		}
		srv := l.sys.newUnixSock(u.typ, l.pid)
		srv.name = l.name
		u.mu.Lock()
		u.peer, srv.peer = srv, u
		u.mu.Unlock()
		l.pending = append(l.pending, srv)
		l.changed(u)
		return nil
	})
}

// accept takes a connection off the queue (EAGAIN when empty).
func (u *unixSock) accept() (*unixSock, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.listening {
		return nil, unix.EINVAL
	}
	if len(u.pending) == 0 {
		return nil, unix.EAGAIN
	}
	c := u.pending[0]
	u.pending = u.pending[1:]
	return c, nil
}

func (u *unixSock) shutdown(how int) error {
	u.mu.Lock()
	if u.peer == nil && u.typ != unix.SOCK_DGRAM {
		u.mu.Unlock()
		return unix.ENOTCONN
	}
	peer := u.peer
	if how == unix.SHUT_RD || how == unix.SHUT_RDWR {
		u.shutRd = true
	}
	if how == unix.SHUT_WR || how == unix.SHUT_RDWR {
		u.shutWr = true
	}
	wr := u.shutWr
	u.mu.Unlock()
	if wr && peer != nil && u.typ != unix.SOCK_DGRAM {
		peer.rx.mu.Lock()
		peer.rx.eof = true
		peer.rx.mu.Unlock()
	}
	u.changed(peer)
	return nil
}

// peerName returns the connected peer's name; ENOTCONN without one.
func (u *unixSock) peerName() (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.peer == nil {
		return "", unix.ENOTCONN
	}
	u.peer.mu.Lock()
	defer u.peer.mu.Unlock()
	return u.peer.name, nil
}

func (u *unixSock) localName() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.name
}

// send implements sending on an AF_UNIX socket: a stream takes what fits
// (all of it when blocking), a datagram or record goes whole or waits.
func (u *unixSock) send(t *Thread, so *socket, b []byte, flags int, to *sockAddr, files []*vfs.File, cred *ucred) (int, error) {
	if cred == nil { // what every message carries, as Linux's scm_send
		c := t.creds()
		cred = &ucred{pid: t.p.pid, uid: c.ruid, gid: c.rgid}
	}
	dropFiles := func() {
		for _, f := range files {
			f.DecRef()
		}
	}
	u.mu.Lock()
	peer, shut, from := u.peer, u.shutWr, u.name
	u.mu.Unlock()
	if u.typ != unix.SOCK_DGRAM && to != nil && to.unix != "" {
		dropFiles()
		if peer != nil {
			return 0, unix.EISCONN
		}
		return 0, unix.EOPNOTSUPP
	}
	if shut {
		dropFiles()
		return 0, unix.EPIPE
	}
	if u.typ == unix.SOCK_DGRAM && to != nil && to.unix != "" {
		var err error
		if peer, err = t.lookupUnix(to.unix); err != nil {
			dropFiles()
			return 0, err
		}
		if peer.typ != unix.SOCK_DGRAM {
			dropFiles()
			return 0, unix.EPROTOTYPE
		}
	}
	if peer == nil {
		dropFiles()
		if u.typ == unix.SOCK_DGRAM {
			return 0, unix.EDESTADDRREQ
		}
		return 0, unix.ENOTCONN
	}
	if u.typ != unix.SOCK_STREAM && len(b) > unixQueueMax {
		dropFiles()
		return 0, unix.EMSGSIZE
	}
	q := peer.rx
	done := 0
	dontwait := flags&unix.MSG_DONTWAIT != 0
	for {
		err := so.block(t, dontwait, so.sndTimeo.Load(), func() error {
			q.mu.Lock()
			defer q.mu.Unlock()
			if q.noReader {
				if u.typ == unix.SOCK_DGRAM {
					return unix.ECONNREFUSED
				}
				return unix.EPIPE
			}
			room := unixQueueMax - q.bytes
			if u.typ != unix.SOCK_STREAM {
				if room < len(b) && q.bytes > 0 {
					return unix.EAGAIN
				}
				room = len(b)
			}
			n := min(room, len(b)-done)
			if n <= 0 && len(b) > 0 {
				return unix.EAGAIN
			}
			if n == 0 && u.typ == unix.SOCK_STREAM && len(files) == 0 {
				return nil // nothing to queue
			}
			m := unixMsg{data: append([]byte(nil), b[done:done+n]...), from: from, files: files, cred: *cred}
			files = nil
			q.msgs = append(q.msgs, m)
			q.bytes += n
			done += n
			return nil
		})
		if err == nil {
			peer.changed(u)
		}
		if err != nil || done == len(b) || dontwait || so.nonblock.Load() {
			dropFiles()
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
	}
}

// recv implements receiving: a stream reads across writes up to len(b)
// (stopping before a write that carries descriptors, so they arrive with
// their own bytes), a datagram or record reads one, truncated. It
// returns the sender's name for datagrams and the whole length of what
// was read (for MSG_TRUNC). Descriptors go to *files when it is not nil,
// else they are closed.
func (u *unixSock) recv(t *Thread, so *socket, b []byte, flags int, files *[]*vfs.File, cred *ucred) (int, *sockAddr, int, error) {
	u.mu.Lock()
	connected := u.peer != nil || u.typ == unix.SOCK_DGRAM
	shutRd, passcred := u.shutRd, u.passcred
	u.mu.Unlock()
	if !connected {
		return 0, nil, 0, unix.ENOTCONN
	}
	q := u.rx
	peek := flags&unix.MSG_PEEK != 0
	var n, total int
	var from *sockAddr
	var got []*vfs.File
	err := so.block(t, flags&unix.MSG_DONTWAIT != 0, so.rcvTimeo.Load(), func() error {
		q.mu.Lock()
		defer q.mu.Unlock()
		if len(q.msgs) == 0 {
			if q.reset && !peek {
				q.reset = false
				return unix.ECONNRESET
			}
			if q.eof || shutRd {
				return nil
			}
			return unix.EAGAIN
		}
		if u.typ != unix.SOCK_STREAM {
			m := q.msgs[0]
			n = copy(b, m.data)
			total = len(m.data)
			if m.from != "" { // an unnamed sender has no address: length 0, as Linux
				from = &sockAddr{family: unix.AF_UNIX, unix: m.from}
			}
			if cred != nil {
				*cred = m.cred
			}
			if !peek {
				q.msgs = q.msgs[1:]
				q.bytes -= len(m.data)
				got = m.files
			}
			return nil
		}
		i := 0
		for n < len(b) && i < len(q.msgs) {
			m := &q.msgs[i]
			if i > 0 && (len(m.files) > 0 || passcred && m.cred != q.msgs[0].cred) {
				break // descriptors come with their own bytes; writers' credentials are not mixed
			}
			if i == 0 && cred != nil {
				*cred = m.cred
			}
			c := copy(b[n:], m.data)
			n += c
			if peek {
				i++
				continue
			}
			got = append(got, m.files...)
			m.files = nil
			m.data = m.data[c:]
			q.bytes -= c
			if len(m.data) > 0 {
				break
			}
			i++
		}
		if !peek {
			q.msgs = q.msgs[i:]
		}
		total = n
		return nil
	})
	if err != nil {
		return 0, nil, 0, err
	}
	if !peek {
		u.mu.Lock()
		peer := u.peer
		u.mu.Unlock()
		u.changed(peer)
	}
	if files != nil {
		*files = got
	} else {
		for _, f := range got {
			f.DecRef()
		}
	}
	return n, from, total, nil
}

// buffered returns the bytes waiting to be read (FIONREAD).
func (u *unixSock) buffered() int {
	u.rx.mu.Lock()
	defer u.rx.mu.Unlock()
	if u.typ != unix.SOCK_STREAM && len(u.rx.msgs) > 0 {
		return len(u.rx.msgs[0].data)
	}
	return u.rx.bytes
}
