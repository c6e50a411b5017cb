package syscallshim

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Socket system calls on the host: AF_INET/AF_INET6 over a loopback-only
// network stack (Config.Net nil), AF_UNIX pairs and names.

func sockaddrIn(ip [4]byte, port uint16) []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint16(b, unix.AF_INET)
	binary.BigEndian.PutUint16(b[2:], port)
	copy(b[4:], ip[:])
	return b
}

func sockaddrUn(name string) []byte {
	b := binary.LittleEndian.AppendUint16(nil, unix.AF_UNIX)
	return append(b, name...)
}

// sockname returns the port getsockname reports.
func (e *hdEnv) sockPort(fd uint64) uint16 {
	e.t.Helper()
	e.m.put(0x3100, []byte{128, 0, 0, 0})
	e.want(0, unix.SYS_GETSOCKNAME, fd, hdAt(0x3000), hdAt(0x3100))
	if n := e.m.u32(hdAt(0x3100)); n != 16 {
		e.t.Fatalf("getsockname length %d", n)
	}
	return binary.BigEndian.Uint16(e.m.load(hdAt(0x3002), 2))
}

func TestSocketTCPLoopback(t *testing.T) {
	e := newHdEnv(t, nil)
	lo := [4]byte{127, 0, 0, 1}
	l := e.ok(unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_STREAM, 0)
	e.want(0, unix.SYS_SETSOCKOPT, l, unix.SOL_SOCKET, unix.SO_REUSEADDR, e.m.put(0x10, []byte{1, 0, 0, 0}), 4)
	e.want(0, unix.SYS_BIND, l, e.m.put(0x20, sockaddrIn(lo, 0)), 16)
	e.want(0, unix.SYS_LISTEN, l, 16)
	port := e.sockPort(l)
	if port == 0 {
		t.Fatal("no port bound")
	}
	c := e.ok(unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	e.want(hdErr(unix.EINPROGRESS), unix.SYS_CONNECT, c, e.m.put(0x40, sockaddrIn(lo, port)), 16)
	e.m.put(0x3100, []byte{16, 0, 0, 0})
	a := e.ok(unix.SYS_ACCEPT4, l, hdAt(0x3000), hdAt(0x3100), unix.SOCK_CLOEXEC)
	if ip := e.m.load(hdAt(0x3004), 4); [4]byte(ip) != lo {
		t.Fatalf("peer %v", ip)
	}
	// The connecting socket becomes writable; SO_ERROR is 0.
	if n, rev := e.poll([]hdPollfd{{fd: int32(c), events: unix.POLLOUT}}, 5000); n != 1 || rev[0]&unix.POLLOUT == 0 {
		t.Fatalf("poll = %d %#x", n, rev)
	}
	e.m.put(0x3200, []byte{4, 0, 0, 0})
	e.want(0, unix.SYS_GETSOCKOPT, c, unix.SOL_SOCKET, unix.SO_ERROR, e.m.put(0x3300, []byte{9, 9, 9, 9}), hdAt(0x3200))
	e.bytesAt(hdAt(0x3300), []byte{0, 0, 0, 0})
	e.want(0, unix.SYS_SETSOCKOPT, c, unix.IPPROTO_TCP, unix.TCP_NODELAY, e.m.put(0x10, []byte{1, 0, 0, 0}), 4)

	e.write(c, "hello over tcp")
	// MSG_PEEK leaves the data; a read takes it.
	if n, _ := e.poll([]hdPollfd{{fd: int32(a), events: unix.POLLIN}}, 5000); n != 1 {
		t.Fatal("accepted socket not readable")
	}
	e.want(5, unix.SYS_RECVFROM, a, hdAt(0x2000), 5, unix.MSG_PEEK, 0, 0)
	e.bytesAt(hdAt(0x2000), []byte("hello"))
	e.read(a, 64, "hello over tcp")
	e.want(hdErr(unix.EAGAIN), unix.SYS_RECVFROM, a, hdAt(0x2000), 5, unix.MSG_DONTWAIT, 0, 0)
	e.want(hdErr(unix.EAGAIN), unix.SYS_READ, c, hdAt(0x2000), 5)

	// A blocking read wakes when the peer writes (another thread).
	th2 := e.newThread()
	buf := e.m.put(0x1000, []byte("late"))
	go func() {
		time.Sleep(50 * time.Millisecond)
		th2.dispatch(unix.SYS_WRITE, hdArgs([]uint64{c, buf, 4}))
	}()
	e.read(a, 64, "late")

	// getpeername, shutdown: the reader sees end of file.
	e.m.put(0x3100, []byte{16, 0, 0, 0})
	e.want(0, unix.SYS_GETPEERNAME, c, hdAt(0x3000), hdAt(0x3100))
	if p := binary.BigEndian.Uint16(e.m.load(hdAt(0x3002), 2)); p != port {
		t.Fatalf("peer port %d, want %d", p, port)
	}
	e.want(0, unix.SYS_SHUTDOWN, c, unix.SHUT_WR)
	e.read(a, 64, "")
	// Closing both ends; writing after the peer is gone is EPIPE (or
	// ECONNRESET) with SIGPIPE unless MSG_NOSIGNAL.
	e.want(0, unix.SYS_CLOSE, c)
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := e.call(unix.SYS_SENDTO, a, e.m.put(0x1000, []byte("x")), 1, unix.MSG_NOSIGNAL, 0, 0)
		if r == hdErr(unix.EPIPE) || r == hdErr(unix.ECONNRESET) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("send to a closed peer = %s", hdShow(r))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if e.th.sig.pending != 0 {
		t.Fatalf("MSG_NOSIGNAL raised %#x", e.th.sig.pending)
	}
	e.want(0, unix.SYS_CLOSE, a)
	e.want(0, unix.SYS_CLOSE, l)
	// Connecting to a port nobody listens on is refused.
	c = e.ok(unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_STREAM, 0)
	e.want(hdErr(unix.ECONNREFUSED), unix.SYS_CONNECT, c, e.m.put(0x40, sockaddrIn(lo, port)), 16)
	// Not a socket.
	e.want(hdErr(unix.ENOTSOCK), unix.SYS_LISTEN, 0, 1)
	e.want(hdErr(unix.EAFNOSUPPORT), unix.SYS_SOCKET, unix.AF_PACKET, unix.SOCK_RAW, 0)
}

func TestSocketUDPAndEpoll(t *testing.T) {
	e := newHdEnv(t, nil)
	lo := [4]byte{127, 0, 0, 1}
	u1 := e.ok(unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_DGRAM, 0)
	u2 := e.ok(unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_DGRAM, 0)
	e.want(0, unix.SYS_BIND, u1, e.m.put(0x20, sockaddrIn(lo, 0)), 16)
	port := e.sockPort(u1)
	ep := e.ok(unix.SYS_EPOLL_CREATE1, 0)
	e.want(0, unix.SYS_EPOLL_CTL, ep, unix.EPOLL_CTL_ADD, u1, e.m.put(0x600, []byte{unix.EPOLLIN, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0}))
	e.want(0, unix.SYS_EPOLL_WAIT, ep, hdAt(0x700), 4, 0)
	th2 := e.newThread()
	msg := e.m.put(0x1000, []byte("datagram!"))
	to := e.m.put(0x40, sockaddrIn(lo, port))
	go func() {
		time.Sleep(50 * time.Millisecond)
		th2.dispatch(unix.SYS_SENDTO, hdArgs([]uint64{u2, msg, 9, 0, to, 16}))
	}()
	e.want(1, unix.SYS_EPOLL_WAIT, ep, hdAt(0x700), 4, 5000)
	if ev, data := e.epollEvent(hdAt(0x700), 0); ev != unix.EPOLLIN || data != 7 {
		t.Fatalf("epoll event %#x data %d", ev, data)
	}
	// MSG_TRUNC gives the whole length; the address is the sender's.
	e.m.put(0x3100, []byte{16, 0, 0, 0})
	e.want(9, unix.SYS_RECVFROM, u1, hdAt(0x2000), 4, unix.MSG_TRUNC, hdAt(0x3000), hdAt(0x3100))
	e.bytesAt(hdAt(0x2000), []byte("data"))
	e.bytesAt(hdAt(0x3004), lo[:])
}

func TestSocketUnixPair(t *testing.T) {
	e := newHdEnv(t, nil)
	e.pipe(0) // fds 3 and 4, passed below
	e.want(0, unix.SYS_SOCKETPAIR, unix.AF_UNIX, unix.SOCK_STREAM, 0, hdAt(0x10))
	a, b := uint64(e.m.u32(hdAt(0x10))), uint64(e.m.u32(hdAt(0x14)))
	e.write(a, "ping")
	e.read(b, 64, "ping")
	e.write(b, "pong")
	e.read(a, 2, "po")
	e.read(a, 2, "ng")

	// SCM_RIGHTS: pass a pipe's read end over the pair.
	iov := e.m.u64s(0x400, e.m.put(0x1000, []byte("fd!")), 3)
	cmsg := make([]byte, 24)
	binary.LittleEndian.PutUint64(cmsg, 20)
	binary.LittleEndian.PutUint32(cmsg[8:], unix.SOL_SOCKET)
	binary.LittleEndian.PutUint32(cmsg[12:], unix.SCM_RIGHTS)
	binary.LittleEndian.PutUint32(cmsg[16:], uint32(hdR))
	ctl := e.m.put(0x500, cmsg)
	msg := e.m.u64s(0x100, 0, 0, iov, 1, ctl, 24, 0)
	e.want(3, unix.SYS_SENDMSG, a, msg, 0)
	e.want(0, unix.SYS_CLOSE, hdR)
	riov := e.m.u64s(0x440, hdAt(0x2000), 64)
	rctl := e.m.fill(0x580, 64, 0)
	rmsg := e.m.u64s(0x200, 0, 0, riov, 1, rctl, 64, 0)
	e.want(3, unix.SYS_RECVMSG, b, rmsg, 0)
	e.bytesAt(hdAt(0x2000), []byte("fd!"))
	if l := e.m.u64(hdAt(0x200 + 40)); l != 20 {
		t.Fatalf("controllen %d", l)
	}
	newfd := uint64(e.m.u32(rctl + 16))
	e.write(hdW, "through the passed fd")
	e.read(newfd, 64, "through the passed fd")

	// The peer closes: end of file, then EPIPE and SIGPIPE on write.
	e.want(0, unix.SYS_CLOSE, b)
	e.read(a, 64, "")
	e.want(hdErr(unix.EPIPE), unix.SYS_WRITE, a, e.m.put(0x1000, []byte("x")), 1)
	if e.th.sig.pending != 1<<(unix.SIGPIPE-1) {
		t.Fatalf("pending %#x, want SIGPIPE", e.th.sig.pending)
	}

	// Datagram pairs keep message boundaries.
	e.want(0, unix.SYS_SOCKETPAIR, unix.AF_UNIX, unix.SOCK_DGRAM, 0, hdAt(0x10))
	a, b = uint64(e.m.u32(hdAt(0x10))), uint64(e.m.u32(hdAt(0x14)))
	e.write(a, "one")
	e.write(a, "two")
	e.read(b, 64, "one")
	// recvfrom names no sender for an unnamed socket: length 0, as Linux.
	e.m.put(0x3100, []byte{110, 0, 0, 0})
	e.want(3, unix.SYS_RECVFROM, b, hdAt(0x2000), 64, 0, hdAt(0x3000), hdAt(0x3100))
	if n := e.m.u32(hdAt(0x3100)); n != 0 {
		t.Errorf("recvfrom's address length %d for an unnamed sender, want 0", n)
	}
	e.want(hdErr(unix.EOPNOTSUPP), unix.SYS_SOCKETPAIR, unix.AF_INET, unix.SOCK_STREAM, 0, hdAt(0x10))
}

func TestSocketUnixNamed(t *testing.T) {
	e := newHdEnv(t, nil)
	for _, name := range []string{"/tmp/yolk.sock", "\x00yolk-abstract"} {
		l := e.ok(unix.SYS_SOCKET, unix.AF_UNIX, unix.SOCK_STREAM, 0)
		sa := sockaddrUn(name)
		e.want(0, unix.SYS_BIND, l, e.m.put(0x20, sa), uint64(len(sa)))
		e.want(0, unix.SYS_LISTEN, l, 4)
		c := e.ok(unix.SYS_SOCKET, unix.AF_UNIX, unix.SOCK_STREAM, 0)
		e.want(0, unix.SYS_CONNECT, c, e.m.put(0x20, sa), uint64(len(sa)))
		s := e.ok(unix.SYS_ACCEPT, l, 0, 0)
		e.write(c, "hi "+name)
		e.read(s, 64, "hi "+name)
		// getpeername on the client gives the listener's name.
		e.m.put(0x3100, []byte{110, 0, 0, 0})
		e.want(0, unix.SYS_GETPEERNAME, c, hdAt(0x3000), hdAt(0x3100))
		e.bytesAt(hdAt(0x3002), []byte(name))
		s2 := e.ok(unix.SYS_SOCKET, unix.AF_UNIX, unix.SOCK_STREAM, 0)
		e.want(hdErr(unix.EADDRINUSE), unix.SYS_BIND, s2, e.m.put(0x20, sa), uint64(len(sa)))
		for _, fd := range []uint64{c, s, s2, l} {
			e.want(0, unix.SYS_CLOSE, fd)
		}
	}
	c := e.ok(unix.SYS_SOCKET, unix.AF_UNIX, unix.SOCK_STREAM, 0)
	sa := sockaddrUn("\x00nobody")
	e.want(hdErr(unix.ECONNREFUSED), unix.SYS_CONNECT, c, e.m.put(0x20, sa), uint64(len(sa)))
	sa = sockaddrUn("/tmp/missing.sock")
	e.want(hdErr(unix.ENOENT), unix.SYS_CONNECT, c, e.m.put(0x20, sa), uint64(len(sa)))
}

func TestSocketNetlinkRoute(t *testing.T) {
	e := newHdEnv(t, nil)
	s := e.ok(unix.SYS_SOCKET, unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	e.want(0, unix.SYS_BIND, s, e.m.put(0x20, nlSockaddr(0)), 12)
	for _, c := range []struct {
		typ  uint16
		want []string // what the dump holds
	}{
		{unix.RTM_GETLINK, []string{"lo\x00"}},
		{unix.RTM_GETADDR, []string{"\x7f\x00\x00\x01", string(make([]byte, 15)) + "\x01"}},
	} {
		req := nlMsg(nil, c.typ, unix.NLM_F_REQUEST|unix.NLM_F_DUMP, 1, 0, make([]byte, 16))
		e.want(uint64(len(req)), unix.SYS_SENDTO, s, e.m.put(0x100, req), uint64(len(req)), 0, e.m.put(0x20, nlSockaddr(0)), 12)
		n := e.ok(unix.SYS_RECVFROM, s, hdAt(0x2000), 4096, 0, 0, 0)
		b := e.m.load(hdAt(0x2000), n)
		for _, w := range c.want {
			if !strings.Contains(string(b), w) {
				t.Errorf("type %d: dump lacks %q", c.typ, w)
			}
		}
		// The last message is NLMSG_DONE.
		var last uint16
		for len(b) >= 16 {
			l := binary.LittleEndian.Uint32(b)
			last = binary.LittleEndian.Uint16(b[4:])
			b = b[(l+3)&^3:]
		}
		if last != unix.NLMSG_DONE {
			t.Errorf("type %d: last message %d", c.typ, last)
		}
	}
	e.want(hdErr(unix.EAGAIN), unix.SYS_RECVFROM, s, hdAt(0x2000), 4096, unix.MSG_DONTWAIT, 0, 0)
	e.want(hdErr(unix.EPROTONOSUPPORT), unix.SYS_SOCKET, unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_AUDIT)
}

// TestSocketMmsg: sendmmsg sends each message of the vector and stores
// its length; recvmmsg with MSG_WAITFORONE takes what is queued and
// stops without waiting after the first; with a timeout, it waits for
// more until the timeout and writes back the time left.
func TestSocketMmsg(t *testing.T) {
	e := newHdEnv(t, nil)
	e.want(0, unix.SYS_SOCKETPAIR, unix.AF_UNIX, unix.SOCK_DGRAM, 0, hdAt(0x10))
	a, b := uint64(e.m.u32(hdAt(0x10))), uint64(e.m.u32(hdAt(0x14)))
	iov1 := e.m.u64s(0x400, e.m.put(0x1000, []byte("one")), 3)
	iov2 := e.m.u64s(0x420, e.m.put(0x1100, []byte("three")), 5)
	vec := e.m.u64s(0x100, 0, 0, iov1, 1, 0, 0, 0, 0, 0, 0, iov2, 1, 0, 0, 0, 0)
	e.want(2, unix.SYS_SENDMMSG, a, vec, 2, 0)
	if l1, l2 := e.m.u32(vec+56), e.m.u32(vec+64+56); l1 != 3 || l2 != 5 {
		t.Fatalf("sendmmsg msg_len %d and %d, want 3 and 5", l1, l2)
	}
	r1 := e.m.u64s(0x440, hdAt(0x2000), 64)
	r2 := e.m.u64s(0x460, hdAt(0x2100), 64)
	r3 := e.m.u64s(0x480, hdAt(0x2200), 64)
	rvec := e.m.u64s(0x200, 0, 0, r1, 1, 0, 0, 0, 0, 0, 0, r2, 1, 0, 0, 0, 0, 0, 0, r3, 1, 0, 0, 0, 0)
	e.want(2, unix.SYS_RECVMMSG, b, rvec, 3, unix.MSG_WAITFORONE, 0)
	if l1, l2 := e.m.u32(rvec+56), e.m.u32(rvec+64+56); l1 != 3 || l2 != 5 {
		t.Fatalf("recvmmsg msg_len %d and %d, want 3 and 5", l1, l2)
	}
	e.bytesAt(hdAt(0x2000), []byte("one"))
	e.bytesAt(hdAt(0x2100), []byte("three"))
	// A timeout: two queued, the wait for the third ends after 30 ms
	// and the time left is written back (by the test machine's clock,
	// which steps on each reading).
	e.want(2, unix.SYS_SENDMMSG, a, vec, 2, 0)
	ts := e.m.u64s(0x600, 0, 30_000_000)
	start := time.Now()
	e.want(2, unix.SYS_RECVMMSG, b, rvec, 3, 0, ts)
	if el := time.Since(start); el < 30*time.Millisecond {
		t.Errorf("recvmmsg returned after %v, before its 30 ms timeout", el)
	}
	if sec, nsec := e.m.u64(ts), e.m.u64(ts+8); sec != 0 || nsec >= 30_000_000 {
		t.Errorf("time left %d.%09d, want less than the 0.03 s given", sec, nsec)
	}
	// A long timeout and two queued with MSG_WAITFORONE: time is left.
	e.want(2, unix.SYS_SENDMMSG, a, vec, 2, 0)
	e.m.u64s(0x600, 10, 0)
	e.want(2, unix.SYS_RECVMMSG, b, rvec, 3, unix.MSG_WAITFORONE, ts)
	if sec := e.m.u64(ts); sec != 9 && sec != 10 {
		t.Errorf("time left %d s of 10", sec)
	}
	e.m.u64s(0x600, 0, 1_000_000_000)
	e.want(hdErr(unix.EINVAL), unix.SYS_RECVMMSG, b, rvec, 3, 0, ts)
	// Nothing queued: the first receive reports the error.
	e.want(hdErr(unix.EAGAIN), unix.SYS_RECVMMSG, b, rvec, 3, unix.MSG_DONTWAIT, 0)
}

// TestSocketUnixCredentials: with SO_PASSCRED, recvmsg gives the sender's
// credentials (SCM_CREDENTIALS before SCM_RIGHTS) and echoes
// MSG_CMSG_CLOEXEC; a sender may send its own credentials, and only
// those unless it is root; a stream does not mix two senders' bytes.
func TestSocketUnixCredentials(t *testing.T) {
	le := binary.LittleEndian
	for _, typ := range []uint64{unix.SOCK_STREAM, unix.SOCK_DGRAM} {
		e := newHdEnv(t, nil)
		e.want(0, unix.SYS_SOCKETPAIR, unix.AF_UNIX, typ, 0, hdAt(0x10))
		a, b := uint64(e.m.u32(hdAt(0x10))), uint64(e.m.u32(hdAt(0x14)))
		e.want(0, unix.SYS_SETSOCKOPT, b, unix.SOL_SOCKET, unix.SO_PASSCRED, e.m.put(0x20, []byte{1, 0, 0, 0}), 4)
		e.m.put(0x30, []byte{4, 0, 0, 0})
		e.want(0, unix.SYS_GETSOCKOPT, b, unix.SOL_SOCKET, unix.SO_PASSCRED, hdAt(0x24), hdAt(0x30))
		if v := e.m.u32(hdAt(0x24)); v != 1 {
			t.Fatalf("SO_PASSCRED reads %d after setting it", v)
		}
		recv := func(wantData string) []byte {
			t.Helper()
			riov := e.m.u64s(0x440, hdAt(0x2000), 64)
			rctl := e.m.fill(0x580, 64, 0)
			rmsg := e.m.u64s(0x200, 0, 0, riov, 1, rctl, 64, 0)
			e.want(uint64(len(wantData)), unix.SYS_RECVMSG, b, rmsg, unix.MSG_CMSG_CLOEXEC)
			e.bytesAt(hdAt(0x2000), []byte(wantData))
			if f := e.m.u32(hdAt(0x200 + 48)); f != unix.MSG_CMSG_CLOEXEC {
				t.Errorf("msg_flags %#x, want MSG_CMSG_CLOEXEC", f)
			}
			return e.m.load(rctl, e.m.u64(hdAt(0x200+40)))
		}
		credMsg := func(pid int32, uid, gid uint32) []byte {
			c := make([]byte, 32)
			le.PutUint64(c, 28)
			le.PutUint32(c[8:], unix.SOL_SOCKET)
			le.PutUint32(c[12:], unix.SCM_CREDENTIALS)
			le.PutUint32(c[16:], uint32(pid))
			le.PutUint32(c[20:], uid)
			le.PutUint32(c[24:], gid)
			return c
		}
		// The sender's own credentials, sent by no one in particular.
		e.write(a, "one")
		want := credMsg(e.p.pid, 0, 0)
		if got := recv("one"); !bytes.Equal(got, want[:28]) && !bytes.Equal(got, want) {
			t.Errorf("control %x, want %x", got, want)
		}
		// Root may send any credentials.
		send := func(c []byte) uint64 {
			iov := e.m.u64s(0x400, e.m.put(0x1000, []byte("two")), 3)
			msg := e.m.u64s(0x100, 0, 0, iov, 1, e.m.put(0x500, c), uint64(len(c)), 0)
			return e.call(unix.SYS_SENDMSG, a, msg, 0)
		}
		if got := send(credMsg(77, 1000, 100)); got != 3 {
			t.Fatalf("sendmsg with other credentials as root = %s", hdShow(got))
		}
		if got := recv("two"); !bytes.Equal(got[:28], credMsg(77, 1000, 100)[:28]) {
			t.Errorf("control %x, want the credentials sent", got)
		}
		// Not root (the saved ID stays 0, to come back): only its own.
		e.want(0, unix.SYS_SETRESUID, 1000, 1000, 0)
		if got := send(credMsg(77, 1000, 0)); got != hdErr(unix.EPERM) {
			t.Errorf("sendmsg with another PID, not root = %s, want EPERM", hdShow(got))
		}
		if got := send(credMsg(e.p.pid, 5, 0)); got != hdErr(unix.EPERM) {
			t.Errorf("sendmsg as uid 5, not root = %s, want EPERM", hdShow(got))
		}
		if got := send(credMsg(e.p.pid, 1000, 0)); got != 3 {
			t.Errorf("sendmsg with its own credentials = %s", hdShow(got))
		}
		recv("two")
		if typ == unix.SOCK_STREAM {
			// Two senders' bytes arrive in two reads.
			e.write(a, "uid1000")
			if send(credMsg(e.p.pid, 1000, 0)) != 3 {
				t.Fatal("sendmsg")
			}
			e.want(0, unix.SYS_SETRESUID, 0, 0, 0) // back through the saved ID
			e.write(a, "root")
			recv("uid1000two")
			if got := recv("root"); le.Uint32(got[20:]) != 0 {
				t.Errorf("uid %d in the second read, want 0", le.Uint32(got[20:]))
			}
		}
	}
}

// TestSocketEpollReadyList: an epoll instance watching 500 socket pairs
// (and a pipe, which epoll looks at every time) reports exactly the
// sockets that became readable, level-triggered ones again until they
// are drained, edge-triggered ones once per change; and looks only at
// what changed (the watchers tell it).
func TestSocketEpollReadyList(t *testing.T) {
	e := newHdEnv(t, nil)
	ep := e.ok(unix.SYS_EPOLL_CREATE1, 0)
	const pairs = 500
	var ends [pairs][2]uint64
	for i := range ends {
		e.want(0, unix.SYS_SOCKETPAIR, unix.AF_UNIX, unix.SOCK_STREAM, 0, hdAt(0x10))
		ends[i] = [2]uint64{uint64(e.m.u32(hdAt(0x10))), uint64(e.m.u32(hdAt(0x14)))}
		ev := uint32(unix.EPOLLIN)
		if i%2 == 1 {
			ev |= unix.EPOLLET
		}
		if r := e.epollCtl(ep, unix.EPOLL_CTL_ADD, ends[i][1], ev, uint64(i)); r != 0 {
			t.Fatalf("epoll_ctl = %s", hdShow(r))
		}
	}
	e.want(0, unix.SYS_PIPE2, hdAt(0x20), 0)
	if r := e.epollCtl(ep, unix.EPOLL_CTL_ADD, uint64(e.m.u32(hdAt(0x20))), unix.EPOLLIN, 9999); r != 0 {
		t.Fatalf("epoll_ctl pipe = %s", hdShow(r))
	}
	evs := hdAt(0x1000)
	e.want(0, unix.SYS_EPOLL_WAIT, ep, evs, 64, 0)
	buf := e.m.put(0x3000, []byte("x"))
	for _, i := range []int{7, 8, 300} { // 7 is edge-triggered
		e.want(1, unix.SYS_WRITE, ends[i][0], buf, 1)
	}
	got := func() map[uint64]bool {
		n := e.ok(unix.SYS_EPOLL_WAIT, ep, evs, 64, 0)
		m := map[uint64]bool{}
		for k := uint64(0); k < n; k++ {
			ev, d := e.epollEvent(evs, int(k))
			want := uint32(unix.EPOLLIN)
			if d == 400 {
				want |= unix.EPOLLHUP // the peer closed
			}
			if ev != want {
				t.Errorf("event %#x for %d, want %#x", ev, d, want)
			}
			m[d] = true
		}
		return m
	}
	if m := got(); len(m) != 3 || !m[7] || !m[8] || !m[300] {
		t.Fatalf("first wait reported %v, want 7, 8, 300", m)
	}
	// Level-triggered 8 and 300 again; edge-triggered 7 not.
	if m := got(); len(m) != 2 || !m[8] || !m[300] {
		t.Fatalf("second wait reported %v, want 8, 300", m)
	}
	e.want(1, unix.SYS_READ, ends[8][1], hdAt(0x3100), 16)
	if m := got(); len(m) != 1 || !m[300] {
		t.Fatalf("after draining 8: %v, want 300", m)
	}
	// More data for 7: a new edge.
	e.want(1, unix.SYS_WRITE, ends[7][0], buf, 1)
	if m := got(); len(m) != 2 || !m[7] || !m[300] {
		t.Fatalf("after writing to 7 again: %v, want 7, 300", m)
	}
	// A removed entry is not reported; a closed peer is (EPOLLIN for end
	// of file, and EPOLLHUP).
	if r := e.epollCtl(ep, unix.EPOLL_CTL_DEL, ends[300][1], 0, 0); r != 0 {
		t.Fatalf("epoll_ctl del = %s", hdShow(r))
	}
	e.want(0, unix.SYS_CLOSE, ends[400][0])
	if m := got(); len(m) != 1 || !m[400] {
		t.Fatalf("after removing 300 and closing 400's peer: %v, want 400", m)
	}
}

// TestSocketChangedMarksBeforeNotice: a socket's readiness change puts
// its epoll entries on their ready lists before it wakes the waiters, so
// an epoll_wait woken by it finds the entry. With the watchers' lock
// held, the notice must not come; once it is released, the notice comes
// with the entry ready.
func TestSocketChangedMarksBeforeNotice(t *testing.T) {
	e := newHdEnv(t, nil)
	e.want(0, unix.SYS_SOCKETPAIR, unix.AF_UNIX, unix.SOCK_STREAM, 0, hdAt(0x10))
	fd := uint64(e.m.u32(hdAt(0x10)))
	epfd := e.ok(unix.SYS_EPOLL_CREATE1, 0)
	if r := e.epollCtl(epfd, unix.EPOLL_CTL_ADD, fd, unix.EPOLLIN|unix.EPOLLET, 7); r != 0 {
		t.Fatalf("epoll_ctl: %s", hdShow(r))
	}
	so, err := e.th.socketAt(fd)
	if err != nil {
		t.Fatal(err)
	}
	ep, err := e.th.epollAt(epfd)
	if err != nil {
		t.Fatal(err)
	}
	ep.collect(8) // empty the ready list the ADD filled
	so.wmu.Lock()
	wake := so.events.wait()
	done := make(chan struct{})
	go func() { so.changed(); close(done) }()
	select {
	case <-wake:
		so.wmu.Unlock()
		t.Fatal("waiters were told before the epoll entries were marked ready")
	case <-time.After(50 * time.Millisecond):
	}
	so.wmu.Unlock()
	<-wake
	ep.readyMu.Lock()
	n := len(ep.ready)
	ep.readyMu.Unlock()
	<-done
	if n != 1 {
		t.Fatalf("%d entries on the ready list when the notice came, want 1", n)
	}
}
