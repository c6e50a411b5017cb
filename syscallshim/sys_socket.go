package syscallshim

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strings"

	"golang.org/x/sys/unix"

	"yolk/vfs"
)

// Socket system calls (socket.go, unixsock.go; the stack is package net).

// sockTypeFlags are the flags socket(2) and accept4(2) take with the type.
const sockTypeFlags = unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC

// Socket implements Linux syscall socket(2): AF_INET and AF_INET6
// (SOCK_STREAM, SOCK_DGRAM, ICMP echo sockets, and for root SOCK_RAW of
// one IP protocol: EPERM otherwise, as without CAP_NET_RAW), AF_UNIX
// (SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET), AF_NETLINK (NETLINK_ROUTE).
// Others are EAFNOSUPPORT (AF_PACKET ...).
func sysSocket(t *Thread, a Args) (uint64, error) {
	family, typ, proto := int(a[0]), int(a[1])&^sockTypeFlags, int(a[2])
	flags := int(a[1]) & sockTypeFlags
	if int(a[1])&^(sockTypeFlags|0xf) != 0 {
		return 0, unix.EINVAL
	}
	so := t.p.sys.newSocket(family, typ)
	switch family {
	case unix.AF_INET, unix.AF_INET6:
		st, err := t.p.sys.netStack()
		if err != nil {
			return 0, unix.ENETDOWN
		}
		if typ == unix.SOCK_RAW && t.creds().euid != 0 {
			return 0, unix.EPERM
		}
		s, err := st.NewSocket(family, typ, proto, so.changed)
		if err != nil {
			return 0, err
		}
		so.inet = s
	case unix.AF_UNIX:
		if typ != unix.SOCK_STREAM && typ != unix.SOCK_DGRAM && typ != unix.SOCK_SEQPACKET {
			return 0, unix.ESOCKTNOSUPPORT
		}
		if proto != 0 {
			return 0, unix.EPROTONOSUPPORT
		}
		so.un = t.p.sys.newUnixSock(typ, t.p.pid)
		so.un.owner.Store(so)
	case unix.AF_NETLINK:
		if typ != unix.SOCK_RAW && typ != unix.SOCK_DGRAM {
			return 0, unix.ESOCKTNOSUPPORT
		}
		if proto != unix.NETLINK_ROUTE {
			return 0, unix.EPROTONOSUPPORT
		}
		so.nl = &nlSock{pid: uint32(t.p.pid)}
	default:
		return 0, unix.EAFNOSUPPORT
	}
	n, err := t.p.files.installNew(sockFile(so, flags&unix.SOCK_NONBLOCK != 0), flags&unix.SOCK_CLOEXEC != 0)
	return uint64(n), err
}

// Socketpair implements Linux syscall socketpair(2) for AF_UNIX.
func sysSocketpair(t *Thread, a Args) (uint64, error) {
	family, typ, proto := int(a[0]), int(a[1])&^sockTypeFlags, int(a[2])
	flags := int(a[1]) & sockTypeFlags
	switch {
	case family == unix.AF_INET || family == unix.AF_INET6:
		return 0, unix.EOPNOTSUPP
	case family != unix.AF_UNIX:
		return 0, unix.EAFNOSUPPORT
	case typ != unix.SOCK_STREAM && typ != unix.SOCK_DGRAM && typ != unix.SOCK_SEQPACKET:
		return 0, unix.ESOCKTNOSUPPORT
	case proto != 0:
		return 0, unix.EPROTONOSUPPORT
	}
	s := t.p.sys
	x, y := s.newSocket(family, typ), s.newSocket(family, typ)
	x.un, y.un = s.newUnixSock(typ, t.p.pid), s.newUnixSock(typ, t.p.pid)
	x.un.owner.Store(x)
	y.un.owner.Store(y)
	unixPair(x.un, y.un)
	nb, cloexec := flags&unix.SOCK_NONBLOCK != 0, flags&unix.SOCK_CLOEXEC != 0
	fy := sockFile(y, nb)
	n0, err := t.p.files.installNew(sockFile(x, nb), cloexec)
	if err != nil {
		fy.DecRef()
		return 0, err
	}
	n1, err := t.p.files.installNew(fy, cloexec)
	if err != nil {
		t.p.files.close(uint64(n0))
		return 0, err
	}
	var b [8]byte
	binary.LittleEndian.PutUint32(b[:], uint32(n0))
	binary.LittleEndian.PutUint32(b[4:], uint32(n1))
	if err := t.copyOut(a[3], b[:]); err != nil {
		t.p.files.close(uint64(n0))
		t.p.files.close(uint64(n1))
		return 0, err
	}
	return 0, nil
}

// readSockaddr decodes a struct sockaddr of n bytes at va.
func (t *Thread) readSockaddr(va, n uint64) (*sockAddr, error) {
	if n < 2 || n > 128 {
		return nil, unix.EINVAL
	}
	b, err := t.copyIn(va, n)
	if err != nil {
		return nil, err
	}
	return decodeSockaddr(b)
}

// decodeSockaddr decodes sockaddr_in, sockaddr_in6, sockaddr_un or an
// AF_UNSPEC address.
func decodeSockaddr(b []byte) (*sockAddr, error) {
	if len(b) < 2 {
		return nil, unix.EINVAL
	}
	a := &sockAddr{family: int(binary.LittleEndian.Uint16(b))}
	switch a.family {
	case unix.AF_UNSPEC:
	case unix.AF_INET:
		if len(b) < 16 {
			return nil, unix.EINVAL
		}
		a.inet = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), binary.BigEndian.Uint16(b[2:]))
	case unix.AF_INET6:
		if len(b) < 24 {
			return nil, unix.EINVAL
		}
		a.inet = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[8:24])), binary.BigEndian.Uint16(b[2:]))
	case unix.AF_NETLINK:
		if len(b) < 12 {
			return nil, unix.EINVAL
		}
	case unix.AF_UNIX:
		p := b[2:]
		if len(p) > 108 {
			return nil, unix.EINVAL
		}
		if len(p) > 0 && p[0] != 0 {
			if i := strings.IndexByte(string(p), 0); i >= 0 {
				p = p[:i]
			}
		}
		a.unix = string(p)
	default:
		return nil, unix.EAFNOSUPPORT
	}
	return a, nil
}

// encodeSockaddr encodes a socket address of family.
func encodeSockaddr(family int, a *sockAddr) []byte {
	le := binary.LittleEndian
	switch family {
	case unix.AF_INET:
		b := make([]byte, 16)
		le.PutUint16(b, unix.AF_INET)
		binary.BigEndian.PutUint16(b[2:], a.inet.Port())
		ip := a.inet.Addr().Unmap()
		if ip.Is4() {
			v := ip.As4()
			copy(b[4:], v[:])
		}
		return b
	case unix.AF_INET6:
		b := make([]byte, 28)
		le.PutUint16(b, unix.AF_INET6)
		binary.BigEndian.PutUint16(b[2:], a.inet.Port())
		if a.inet.Addr().IsValid() {
			v := a.inet.Addr().As16()
			copy(b[8:], v[:])
		}
		return b
	case unix.AF_NETLINK:
		return nlSockaddr(0)
	case unix.AF_UNIX:
		b := make([]byte, 2, 2+len(a.unix)+1)
		le.PutUint16(b, unix.AF_UNIX)
		b = append(b, a.unix...)
		if a.unix != "" && a.unix[0] != 0 {
			b = append(b, 0)
		}
		return b
	}
	return nil
}

// writeSockaddr stores an address for getsockname, accept, recvfrom:
// at most *lenp bytes of it at va, and its full length in *lenp.
func (t *Thread) writeSockaddr(va, lenp uint64, b []byte) error {
	if va == 0 || lenp == 0 {
		return nil
	}
	n, err := t.get32(lenp)
	if err != nil {
		return err
	}
	if int32(n) < 0 {
		return unix.EINVAL
	}
	if err := t.copyOut(va, b[:min(int(n), len(b))]); err != nil {
		return err
	}
	return t.put32(lenp, uint32(len(b)))
}

// Bind implements Linux syscall bind(2).
func sysBind(t *Thread, a Args) (uint64, error) {
	so, err := t.socketAt(a[0])
	if err != nil {
		return 0, err
	}
	if so.nl != nil {
		return t.netlinkCall(so, unix.SYS_BIND, a)
	}
	sa, err := t.readSockaddr(a[1], a[2])
	if err != nil {
		return 0, err
	}
	if so.un != nil {
		if sa.family != unix.AF_UNIX {
			return 0, unix.EINVAL
		}
		return 0, so.un.bind(t, sa.unix)
	}
	if sa.family != so.family && !(so.family == unix.AF_INET && sa.family == unix.AF_UNSPEC && a[2] >= 16) {
		return 0, unix.EAFNOSUPPORT
	}
	return 0, so.inet.Bind(sa.inet)
}

// Listen implements Linux syscall listen(2).
func sysListen(t *Thread, a Args) (uint64, error) {
	so, err := t.socketAt(a[0])
	if err != nil {
		return 0, err
	}
	if so.nl != nil {
		return t.netlinkCall(so, unix.SYS_LISTEN, a)
	}
	backlog := int(int32(a[1]))
	if so.un != nil {
		return 0, so.un.listen(backlog)
	}
	return 0, so.inet.Listen(backlog)
}

// Accept implements Linux syscall accept(2).
func sysAccept(t *Thread, a Args) (uint64, error) { return t.accept(a[0], a[1], a[2], 0) }

// Accept4 implements Linux syscall accept4(2).
func sysAccept4(t *Thread, a Args) (uint64, error) { return t.accept(a[0], a[1], a[2], int(a[3])) }

func (t *Thread) accept(fd, addrp, lenp uint64, flags int) (uint64, error) {
	if flags&^sockTypeFlags != 0 {
		return 0, unix.EINVAL
	}
	so, err := t.socketAt(fd)
	if err != nil {
		return 0, err
	}
	if so.nl != nil {
		return 0, unix.EOPNOTSUPP
	}
	c := t.p.sys.newSocket(so.family, so.typ)
	var peer sockAddr
	if so.un != nil {
		err = so.block(t, false, so.rcvTimeo.Load(), func() error {
			u, err := so.un.accept()
			c.un = u
			if u != nil {
				u.owner.Store(c)
			}
			return err
		})
		if err == nil {
			peer.unix, _ = c.un.peerName()
		}
	} else {
		if !so.inet.Listening() {
			return 0, unix.EINVAL
		}
		err = so.block(t, false, so.rcvTimeo.Load(), func() error {
			s, p, err := so.inet.Accept(c.changed)
			c.inet, peer.inet = s, p
			return err
		})
	}
	if err != nil {
		return 0, err
	}
	n, err := t.p.files.installNew(sockFile(c, flags&unix.SOCK_NONBLOCK != 0), flags&unix.SOCK_CLOEXEC != 0)
	if err != nil {
		return 0, err
	}
	if err := t.writeSockaddr(addrp, lenp, encodeSockaddr(so.family, &peer)); err != nil {
		return 0, err // Linux too keeps the new descriptor then
	}
	return uint64(n), nil
}

// Connect implements Linux syscall connect(2): a blocking TCP connect
// waits for the handshake's outcome; a non-blocking one returns
// EINPROGRESS and reports the outcome through writability and SO_ERROR.
func sysConnect(t *Thread, a Args) (uint64, error) {
	so, err := t.socketAt(a[0])
	if err != nil {
		return 0, err
	}
	if so.nl != nil {
		return t.netlinkCall(so, unix.SYS_CONNECT, a)
	}
	sa, err := t.readSockaddr(a[1], a[2])
	if err != nil {
		return 0, err
	}
	if so.un != nil {
		if sa.family != unix.AF_UNIX {
			if sa.family == unix.AF_UNSPEC && so.typ == unix.SOCK_DGRAM {
				so.un.mu.Lock()
				so.un.peer = nil
				so.un.mu.Unlock()
				return 0, nil
			}
			return 0, unix.EINVAL
		}
		return 0, so.un.connect(t, so, sa.unix)
	}
	switch {
	case sa.family == unix.AF_UNSPEC:
		sa.inet = netip.AddrPort{}
	case sa.family != so.family:
		return 0, unix.EAFNOSUPPORT
	}
	err = so.inet.Connect(sa.inet)
	if err != unix.EINPROGRESS || so.nonblock.Load() {
		return 0, err
	}
	err = so.block(t, false, so.sndTimeo.Load(), func() error {
		if so.inet.Readiness()&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) == 0 {
			return unix.EAGAIN
		}
		return nil
	})
	if err == unix.EAGAIN {
		return 0, unix.EINPROGRESS // SO_SNDTIMEO ran out
	}
	if err != nil {
		return 0, err
	}
	return 0, so.inet.ConnectResult()
}

// Shutdown implements Linux syscall shutdown(2).
func sysShutdown(t *Thread, a Args) (uint64, error) {
	so, err := t.socketAt(a[0])
	if err != nil {
		return 0, err
	}
	if so.nl != nil {
		return t.netlinkCall(so, unix.SYS_SHUTDOWN, a)
	}
	how := int(a[1])
	if how < unix.SHUT_RD || how > unix.SHUT_RDWR {
		return 0, unix.EINVAL
	}
	if so.un != nil {
		return 0, so.un.shutdown(how)
	}
	return 0, so.inet.Shutdown(how)
}

// Getsockname implements Linux syscall getsockname(2).
func sysGetsockname(t *Thread, a Args) (uint64, error) {
	so, err := t.socketAt(a[0])
	if err != nil {
		return 0, err
	}
	if so.nl != nil {
		return t.netlinkCall(so, unix.SYS_GETSOCKNAME, a)
	}
	var sa sockAddr
	if so.un != nil {
		sa.unix = so.un.localName()
	} else if sa.inet, err = so.inet.LocalAddr(); err != nil {
		return 0, err
	}
	return 0, t.writeSockaddr(a[1], a[2], encodeSockaddr(so.family, &sa))
}

// Getpeername implements Linux syscall getpeername(2).
func sysGetpeername(t *Thread, a Args) (uint64, error) {
	so, err := t.socketAt(a[0])
	if err != nil {
		return 0, err
	}
	if so.nl != nil {
		return t.netlinkCall(so, unix.SYS_GETPEERNAME, a)
	}
	var sa sockAddr
	if so.un != nil {
		if sa.unix, err = so.un.peerName(); err != nil {
			return 0, err
		}
	} else if sa.inet, err = so.inet.RemoteAddr(); err != nil {
		return 0, err
	}
	return 0, t.writeSockaddr(a[1], a[2], encodeSockaddr(so.family, &sa))
}

// maxSockIO bounds one socket transfer's kernel buffer; a stream moves
// more in several steps.
const maxSockIO = 256 << 10

// sendFlags are the send(2) flags honoured; others are ignored as Linux
// ignores unknown ones (MSG_MORE, MSG_EOR: hints).
const sendFlagNoSignal = unix.MSG_NOSIGNAL

// sendSeq sends the program's buffers seq on so (to, if set) and raises
// SIGPIPE on EPIPE from a stream unless MSG_NOSIGNAL.
func (t *Thread) sendSeq(so *socket, seq ioseq, flags int, to *sockAddr, files []*vfs.File, cred *ucred) (uint64, error) {
	total := min(seq.total, maxRW)
	if so.typ != unix.SOCK_STREAM && total > maxSockIO {
		for _, f := range files {
			f.DecRef()
		}
		return 0, unix.EMSGSIZE
	}
	done := uint64(0)
	buf := make([]byte, min(total, maxSockIO))
	for {
		c := buf[:min(total-done, uint64(len(buf)))]
		got, cerr := seq.copyIn(done, c)
		if cerr != nil && got == 0 && len(c) > 0 {
			if done > 0 {
				return done, nil
			}
			return 0, cerr
		}
		n, err := so.send(t, c[:got], flags, to, files, cred)
		files = nil
		done += uint64(n)
		if err != nil {
			if err == unix.EPIPE && so.typ != unix.SOCK_DGRAM && flags&sendFlagNoSignal == 0 {
				t.sendSignal(t, int(unix.SIGPIPE), sigInfo{code: siUser, pid: t.p.pid})
			}
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		if n < got || done >= total || cerr != nil {
			return done, nil
		}
	}
}

// recvSeq receives into the program's buffers seq; it returns the count
// (the whole datagram's length with MSG_TRUNC), the sender and whether
// the datagram was truncated.
func (t *Thread) recvSeq(so *socket, seq ioseq, flags int, files *[]*vfs.File, cred *ucred) (uint64, *sockAddr, bool, error) {
	buf := make([]byte, min(seq.total, maxSockIO))
	var n, total int
	var from *sockAddr
	var err error
	if flags&unix.MSG_ERRQUEUE != 0 {
		// The error queue (IP_RECVERR): empty is EAGAIN, as on Linux;
		// reading a queued error is not implemented.
		if so.inet == nil || !so.inet.HasQueuedError() {
			return 0, nil, false, unix.EAGAIN
		}
		t.logOnce("recvmsg MSG_ERRQUEUE", "recvmsg reading a queued socket error (MSG_ERRQUEUE) is not supported: EOPNOTSUPP")
		return 0, nil, false, unix.EOPNOTSUPP
	}
	if so.un != nil {
		n, from, total, err = so.un.recv(t, so, buf, flags, files, cred)
	} else {
		n, from, err = so.recv(t, buf, flags)
		total = n
		if from != nil {
			total = from.total
		}
	}
	if err != nil {
		return 0, nil, false, err
	}
	if _, err := seq.copyOut(0, buf[:n]); err != nil {
		return 0, nil, false, err
	}
	trunc := so.typ != unix.SOCK_STREAM && total > n
	if trunc && flags&unix.MSG_TRUNC != 0 {
		return uint64(total), from, trunc, nil
	}
	return uint64(n), from, trunc, nil
}

// Sendto implements Linux syscall sendto(2).
func sysSendto(t *Thread, a Args) (uint64, error) {
	so, err := t.socketAt(a[0])
	if err != nil {
		return 0, err
	}
	var to *sockAddr
	if a[4] != 0 && a[5] != 0 {
		if to, err = t.readSockaddr(a[4], a[5]); err != nil {
			return 0, err
		}
	}
	return t.sendSeq(so, t.single(a[1], a[2]), int(a[3]), to, nil, nil)
}

// Recvfrom implements Linux syscall recvfrom(2).
func sysRecvfrom(t *Thread, a Args) (uint64, error) {
	so, err := t.socketAt(a[0])
	if err != nil {
		return 0, err
	}
	n, from, _, err := t.recvSeq(so, t.single(a[1], a[2]), int(a[3]), nil, nil)
	if err != nil {
		return 0, err
	}
	if from != nil {
		if err := t.writeSockaddr(a[4], a[5], encodeSockaddr(so.family, from)); err != nil {
			return 0, err
		}
	} else if a[4] != 0 && a[5] != 0 {
		if err := t.put32(a[5], 0); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// msghdr is struct msghdr.
type msghdr struct {
	name       uint64
	namelen    uint32
	iov        uint64
	iovlen     uint64
	control    uint64
	controllen uint64
	flags      uint32
}

const msghdrSize = 56

func (t *Thread) readMsghdr(va uint64) (msghdr, error) {
	b, err := t.copyIn(va, msghdrSize)
	if err != nil {
		return msghdr{}, err
	}
	le := binary.LittleEndian
	return msghdr{
		name: le.Uint64(b[0:]), namelen: le.Uint32(b[8:]), iov: le.Uint64(b[16:]), iovlen: le.Uint64(b[24:]),
		control: le.Uint64(b[32:]), controllen: le.Uint64(b[40:]), flags: le.Uint32(b[48:]),
	}, nil
}

// scmControl reads a control buffer: the SCM_RIGHTS descriptors, one
// reference each, and SCM_CREDENTIALS, which must be the caller's own
// (its PID, and one of its real, effective or saved user and group IDs)
// unless it is root: EPERM otherwise, as Linux. Other control messages
// are ignored.
func (t *Thread) scmControl(va, n uint64) ([]*vfs.File, *ucred, error) {
	if va == 0 || n == 0 {
		return nil, nil, nil
	}
	if n > 64<<10 {
		return nil, nil, unix.EINVAL
	}
	b, err := t.copyIn(va, n)
	if err != nil {
		return nil, nil, err
	}
	var files []*vfs.File
	var cred *ucred
	fail := func(err error) ([]*vfs.File, *ucred, error) {
		for _, f := range files {
			f.DecRef()
		}
		return nil, nil, err
	}
	le := binary.LittleEndian
	for len(b) >= 16 {
		l := le.Uint64(b)
		if l < 16 || l > uint64(len(b)) {
			return fail(unix.EINVAL)
		}
		level, typ := le.Uint32(b[8:]), le.Uint32(b[12:])
		if level == unix.SOL_SOCKET && typ == unix.SCM_CREDENTIALS {
			if l < 16+12 {
				return fail(unix.EINVAL)
			}
			c := ucred{pid: int32(le.Uint32(b[16:])), uid: le.Uint32(b[20:]), gid: le.Uint32(b[24:])}
			me := t.creds()
			if me.euid != 0 && (c.pid != t.p.pid || c.uid != me.ruid && c.uid != me.euid && c.uid != me.suid ||
				c.gid != me.rgid && c.gid != me.egid && c.gid != me.sgid) {
				return fail(unix.EPERM)
			}
			cred = &c
		}
		if level == unix.SOL_SOCKET && typ == unix.SCM_RIGHTS {
			for p := b[16:l]; len(p) >= 4; p = p[4:] {
				f, err := t.file(uint64(le.Uint32(p)))
				if err != nil {
					return fail(err)
				}
				f.IncRef()
				files = append(files, f)
			}
		}
		adv := (l + 7) &^ 7
		if adv >= uint64(len(b)) {
			break
		}
		b = b[adv:]
	}
	if len(files) > 253 { // SCM_MAX_FD
		return fail(unix.EINVAL)
	}
	return files, cred, nil
}

// Sendmsg implements Linux syscall sendmsg(2): the name, the iovecs,
// SCM_RIGHTS and SCM_CREDENTIALS (AF_UNIX); other control messages are
// ignored.
func sysSendmsg(t *Thread, a Args) (uint64, error) {
	so, err := t.socketAt(a[0])
	if err != nil {
		return 0, err
	}
	return t.sendmsg(so, a[1], int(a[2]))
}

func (t *Thread) sendmsg(so *socket, va uint64, flags int) (uint64, error) {
	m, err := t.readMsghdr(va)
	if err != nil {
		return 0, err
	}
	var to *sockAddr
	if m.name != 0 && m.namelen != 0 {
		if to, err = t.readSockaddr(m.name, uint64(m.namelen)); err != nil {
			return 0, err
		}
	}
	seq, err := t.iovecs(m.iov, m.iovlen)
	if err != nil {
		return 0, err
	}
	files, cred, err := t.scmControl(m.control, m.controllen)
	if err != nil {
		return 0, err
	}
	if len(files) > 0 && so.un == nil {
		for _, f := range files {
			f.DecRef()
		}
		return 0, unix.EINVAL
	}
	return t.sendSeq(so, seq, flags, to, files, cred)
}

// Recvmsg implements Linux syscall recvmsg(2): the name, the iovecs,
// MSG_TRUNC, and for AF_UNIX SCM_CREDENTIALS (with SO_PASSCRED) then
// SCM_RIGHTS (MSG_CTRUNC when the control buffer is too small; the
// descriptors that do not fit are closed).
func sysRecvmsg(t *Thread, a Args) (uint64, error) {
	so, err := t.socketAt(a[0])
	if err != nil {
		return 0, err
	}
	return t.recvmsg(so, a[1], int(a[2]))
}

func (t *Thread) recvmsg(so *socket, va uint64, flags int) (uint64, error) {
	m, err := t.readMsghdr(va)
	if err != nil {
		return 0, err
	}
	seq, err := t.iovecs(m.iov, m.iovlen)
	if err != nil {
		return 0, err
	}
	var files []*vfs.File
	var cred ucred
	n, from, trunc, err := t.recvSeq(so, seq, flags, &files, &cred)
	if err != nil {
		return 0, err
	}
	le := binary.LittleEndian
	outFlags := uint32(flags & unix.MSG_CMSG_CLOEXEC) // echoed, as Linux
	if trunc {
		outFlags |= unix.MSG_TRUNC
	}
	namelen := uint32(0)
	if m.name != 0 && from != nil {
		b := encodeSockaddr(so.family, from)
		if err := t.copyOut(m.name, b[:min(int(m.namelen), len(b))]); err != nil {
			return 0, err
		}
		namelen = uint32(len(b))
	}
	controllen := uint64(0)
	if so.un != nil && so.un.passingCreds() {
		// SCM_CREDENTIALS first, as Linux's scm_recv.
		c := make([]byte, 32)
		le.PutUint64(c, 16+12)
		le.PutUint32(c[8:], unix.SOL_SOCKET)
		le.PutUint32(c[12:], unix.SCM_CREDENTIALS)
		le.PutUint32(c[16:], uint32(cred.pid))
		le.PutUint32(c[20:], cred.uid)
		le.PutUint32(c[24:], cred.gid)
		if m.controllen < 16+12 {
			outFlags |= unix.MSG_CTRUNC
		} else {
			c = c[:min(uint64(len(c)), m.controllen)]
			if err := t.copyOut(m.control, c); err != nil {
				return 0, err
			}
			controllen = uint64(len(c))
		}
	}
	if len(files) > 0 {
		room := 0
		if m.controllen >= controllen+16 {
			room = int(m.controllen-controllen-16) / 4
		}
		if room < len(files) {
			outFlags |= unix.MSG_CTRUNC
		}
		var fds []byte
		for i, f := range files {
			if i < room {
				fd, err := t.p.files.install(f, flags&unix.MSG_CMSG_CLOEXEC != 0, 0)
				if err == nil {
					fds = le.AppendUint32(fds, uint32(fd))
				} else {
					outFlags |= unix.MSG_CTRUNC
				}
			}
			f.DecRef()
		}
		if len(fds) > 0 {
			c := make([]byte, 16, 16+len(fds))
			le.PutUint64(c, uint64(16+len(fds)))
			le.PutUint32(c[8:], unix.SOL_SOCKET)
			le.PutUint32(c[12:], unix.SCM_RIGHTS)
			c = append(c, fds...)
			if err := t.copyOut(m.control+controllen, c); err != nil {
				return 0, err
			}
			controllen += uint64(len(c))
		}
	}
	var hdr [4]byte
	le.PutUint32(hdr[:], namelen)
	if err := t.copyOut(va+8, hdr[:]); err != nil {
		return 0, err
	}
	var cl [8]byte
	le.PutUint64(cl[:], controllen)
	if err := t.copyOut(va+40, cl[:]); err != nil {
		return 0, err
	}
	le.PutUint32(hdr[:], outFlags)
	if err := t.copyOut(va+48, hdr[:]); err != nil {
		return 0, err
	}
	return n, nil
}

// mmsghdrSize is struct mmsghdr: a msghdr and the count, padded.
const mmsghdrSize = 64

// Sendmmsg implements Linux syscall sendmmsg(2) as sendmsg in a loop.
func sysSendmmsg(t *Thread, a Args) (uint64, error) {
	so, err := t.socketAt(a[0])
	if err != nil {
		return 0, err
	}
	return t.eachMmsghdr(a[1], a[2], func(va, i uint64) (uint64, error) {
		return t.sendmsg(so, va, int(a[3]))
	})
}

// eachMmsghdr runs one message call per struct mmsghdr of the vector at
// vec (at most 1024, as Linux's UIO_MAXIOV), storing each result's
// length in msg_len. It returns how many went through: an error after
// the first is left for the next call, as Linux does.
func (t *Thread) eachMmsghdr(vec, vlen uint64, one func(va, i uint64) (uint64, error)) (uint64, error) {
	vlen = min(vlen, 1024)
	for i := uint64(0); i < vlen; i++ {
		va := vec + i*mmsghdrSize
		n, err := one(va, i)
		if err == nil {
			err = t.put32(va+msghdrSize, uint32(n))
		}
		if err != nil {
			if i > 0 {
				return i, nil
			}
			return 0, err
		}
	}
	return vlen, nil
}

// errMmsgDone ends a recvmmsg vector early (after a message).
var errMmsgDone = errors.New("recvmmsg: timeout passed")

// Recvmmsg implements Linux syscall recvmmsg(2) as recvmsg in a loop.
// With MSG_WAITFORONE only the first receive waits. The timeout is
// checked after each message, as Linux does, and the time left is
// written back; where Linux would then wait on for the next message
// without bound (recvmmsg(2), BUGS), the wait here ends with the timeout
// and the call returns what it has. The first receive waits as recvmsg
// does (SO_RCVTIMEO), as on Linux.
func sysRecvmmsg(t *Thread, a Args) (uint64, error) {
	so, err := t.socketAt(a[0])
	if err != nil {
		return 0, err
	}
	flags := int(a[3])
	waitOne := flags&unix.MSG_WAITFORONE != 0
	flags &^= unix.MSG_WAITFORONE
	var end int64
	if a[4] != 0 {
		d, err := t.timespec(a[4])
		if err != nil {
			return 0, err
		}
		end = t.p.m.Monotonic() + d
	}
	n, err := t.eachMmsghdr(a[1], a[2], func(va, i uint64) (uint64, error) {
		f := flags
		if i > 0 {
			if waitOne {
				f |= unix.MSG_DONTWAIT
			}
			if end != 0 {
				if t.p.m.Monotonic() >= end {
					return 0, errMmsgDone
				}
				t.recvDeadline = end
				defer func() { t.recvDeadline = 0 }()
			}
		}
		return t.recvmsg(so, va, f)
	})
	if err == nil && n > 0 && end != 0 {
		err = t.putTimespec(a[4], max(end-t.p.m.Monotonic(), 0))
	}
	return n, err
}

// Setsockopt implements Linux syscall setsockopt(2): SO_RCVTIMEO and
// SO_SNDTIMEO for every socket, the Internet options of net.Socket's
// SetOption, and for AF_UNIX SO_PASSCRED, and SO_SNDBUF, SO_RCVBUF,
// SO_REUSEADDR, SO_KEEPALIVE (accepted with no effect: an AF_UNIX queue
// has one size; the others mean nothing there). Others are ENOPROTOOPT.
func sysSetsockopt(t *Thread, a Args) (uint64, error) {
	so, err := t.socketAt(a[0])
	if err != nil {
		return 0, err
	}
	if so.nl != nil {
		return t.netlinkCall(so, unix.SYS_SETSOCKOPT, a)
	}
	level, name, optlen := int(a[1]), int(a[2]), a[4]
	if int32(optlen) < 0 || optlen > 4096 {
		return 0, unix.EINVAL
	}
	val, err := t.copyIn(a[3], optlen)
	if err != nil {
		return 0, err
	}
	if level == unix.SOL_SOCKET && (name == unix.SO_RCVTIMEO || name == unix.SO_SNDTIMEO) {
		if len(val) < 16 {
			return 0, unix.EINVAL
		}
		sec, usec := int64(binary.LittleEndian.Uint64(val)), int64(binary.LittleEndian.Uint64(val[8:]))
		if usec < 0 || usec >= 1e6 {
			return 0, unix.EDOM
		}
		ns := max(sec, 0)*1e9 + usec*1e3
		if name == unix.SO_RCVTIMEO {
			so.rcvTimeo.Store(ns)
		} else {
			so.sndTimeo.Store(ns)
		}
		return 0, nil
	}
	if so.inet != nil {
		return 0, so.inet.SetOption(level, name, val)
	}
	if level == unix.SOL_SOCKET {
		switch name {
		case unix.SO_PASSCRED:
			if len(val) < 4 {
				return 0, unix.EINVAL
			}
			so.un.mu.Lock()
			so.un.passcred = binary.LittleEndian.Uint32(val) != 0
			so.un.mu.Unlock()
			return 0, nil
		case unix.SO_SNDBUF, unix.SO_RCVBUF, unix.SO_REUSEADDR, unix.SO_KEEPALIVE:
			if len(val) < 4 {
				return 0, unix.EINVAL
			}
			return 0, nil
		}
	}
	return 0, unix.ENOPROTOOPT
}

// Getsockopt implements Linux syscall getsockopt(2) for what
// setsockopt sets, plus SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ERROR,
// SO_ACCEPTCONN and (AF_UNIX) SO_PEERCRED.
func sysGetsockopt(t *Thread, a Args) (uint64, error) {
	so, err := t.socketAt(a[0])
	if err != nil {
		return 0, err
	}
	if so.nl != nil {
		return t.netlinkCall(so, unix.SYS_GETSOCKOPT, a)
	}
	level, name := int(a[1]), int(a[2])
	le := binary.LittleEndian
	i32 := func(v int) []byte { return le.AppendUint32(nil, uint32(int32(v))) }
	var val []byte
	switch {
	case level == unix.SOL_SOCKET && (name == unix.SO_RCVTIMEO || name == unix.SO_SNDTIMEO):
		ns := so.rcvTimeo.Load()
		if name == unix.SO_SNDTIMEO {
			ns = so.sndTimeo.Load()
		}
		val = le.AppendUint64(le.AppendUint64(nil, uint64(ns/1e9)), uint64(ns%1e9/1e3))
	case so.inet != nil:
		if val, err = so.inet.Option(level, name); err != nil {
			return 0, err
		}
	case level != unix.SOL_SOCKET:
		return 0, unix.ENOPROTOOPT
	case name == unix.SO_TYPE:
		val = i32(so.typ)
	case name == unix.SO_DOMAIN:
		val = i32(unix.AF_UNIX)
	case name == unix.SO_PROTOCOL, name == unix.SO_ERROR:
		val = i32(0)
	case name == unix.SO_ACCEPTCONN:
		so.un.mu.Lock()
		l := so.un.listening
		so.un.mu.Unlock()
		val = i32(map[bool]int{false: 0, true: 1}[l])
	case name == unix.SO_SNDBUF, name == unix.SO_RCVBUF:
		val = i32(unixQueueMax)
	case name == unix.SO_PASSCRED:
		val = i32(map[bool]int{false: 0, true: 1}[so.un.passingCreds()])
	case name == unix.SO_PEERCRED:
		so.un.mu.Lock()
		p := so.un.peer
		so.un.mu.Unlock()
		if p == nil {
			return 0, unix.ENOTCONN
		}
		val = le.AppendUint32(le.AppendUint32(le.AppendUint32(nil, uint32(p.pid)), 0), 0)
	default:
		return 0, unix.ENOPROTOOPT
	}
	n, err := t.get32(a[4])
	if err != nil {
		return 0, err
	}
	if int32(n) < 0 {
		return 0, unix.EINVAL
	}
	if err := t.copyOut(a[3], val[:min(int(n), len(val))]); err != nil {
		return 0, err
	}
	return 0, t.put32(a[4], uint32(min(int(n), len(val))))
}

// buffered returns the bytes a read would take now (FIONREAD).
func (so *socket) buffered() int {
	if so.un != nil {
		return so.un.buffered()
	}
	return so.inet.Buffered()
}
