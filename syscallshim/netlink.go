package syscallshim

import (
	"encoding/binary"
	"sync"

	"golang.org/x/sys/unix"

	ynet "yolk/net"
)

// A minimal NETLINK_ROUTE (rtnetlink(7)): dumps of the links
// (RTM_GETLINK) and addresses (RTM_GETADDR) of the network stack, and an
// empty route dump (RTM_GETROUTE), so that Go's net.Interfaces and
// net.InterfaceAddrs and glibc's getifaddrs answer. Every other request
// gets an NLMSG_ERROR of EOPNOTSUPP. Replies wait in the socket until
// read; nothing is ever multicast.

// nlSock is an AF_NETLINK socket.
type nlSock struct {
	pid   uint32 // the port ID getsockname reports and replies carry
	mu    sync.Mutex
	queue [][]byte // reply datagrams
	seq   uint64
}

const (
	nlmsgHdrLen = 16
	nlmDone     = unix.NLMSG_DONE
	nlmError    = unix.NLMSG_ERROR
)

func nlAlign(n int) int { return (n + 3) &^ 3 }

// nlMsg appends one netlink message of type typ with payload.
func nlMsg(b []byte, typ, flags uint16, seq, pid uint32, payload []byte) []byte {
	le := binary.LittleEndian
	b = le.AppendUint32(b, uint32(nlmsgHdrLen+len(payload)))
	b = le.AppendUint16(b, typ)
	b = le.AppendUint16(b, flags)
	b = le.AppendUint32(b, seq)
	b = le.AppendUint32(b, pid)
	b = append(b, payload...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// rtAttr appends one route attribute.
func rtAttr(b []byte, typ uint16, v []byte) []byte {
	le := binary.LittleEndian
	b = le.AppendUint16(b, uint16(4+len(v)))
	b = le.AppendUint16(b, typ)
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// handle answers one request datagram (possibly several messages).
func (n *nlSock) handle(st *ynet.Stack, req []byte) {
	le := binary.LittleEndian
	var out []byte
	for len(req) >= nlmsgHdrLen {
		l := int(le.Uint32(req))
		if l < nlmsgHdrLen || l > len(req) {
			break
		}
		typ, flags, seq := le.Uint16(req[4:]), le.Uint16(req[6:]), le.Uint32(req[8:])
		var ifs []ynet.Interface
		if st != nil {
			ifs = st.Interfaces()
		}
		multi := uint16(unix.NLM_F_MULTI)
		switch {
		case typ == unix.RTM_GETLINK && flags&unix.NLM_F_DUMP == unix.NLM_F_DUMP:
			for _, it := range ifs {
				p := make([]byte, 16)
				p[0] = unix.AF_UNSPEC
				typ := uint16(unix.ARPHRD_ETHER)
				fl := uint32(unix.IFF_UP | unix.IFF_RUNNING)
				if it.Loopback {
					typ, fl = unix.ARPHRD_LOOPBACK, fl|unix.IFF_LOOPBACK
				} else {
					fl |= unix.IFF_BROADCAST | unix.IFF_MULTICAST
				}
				le.PutUint16(p[2:], typ)
				le.PutUint32(p[4:], uint32(it.Index))
				le.PutUint32(p[8:], fl)
				p = rtAttr(p, unix.IFLA_IFNAME, append([]byte(it.Name), 0))
				p = rtAttr(p, unix.IFLA_MTU, le.AppendUint32(nil, uint32(it.MTU)))
				hw := it.HWAddr
				if hw == nil {
					hw = make([]byte, 6)
				}
				p = rtAttr(p, unix.IFLA_ADDRESS, hw)
				out = nlMsg(out, unix.RTM_NEWLINK, multi, seq, n.pid, p)
			}
			out = nlMsg(out, nlmDone, multi, seq, n.pid, make([]byte, 4))
		case typ == unix.RTM_GETADDR && flags&unix.NLM_F_DUMP == unix.NLM_F_DUMP:
			for _, it := range ifs {
				for _, a := range it.Addrs {
					p := make([]byte, 8)
					p[0] = unix.AF_INET
					if a.Addr().Is6() {
						p[0] = unix.AF_INET6
					}
					p[1] = byte(a.Bits())
					if it.Loopback {
						p[3] = unix.RT_SCOPE_HOST
					}
					le.PutUint32(p[4:], uint32(it.Index))
					p = rtAttr(p, unix.IFA_ADDRESS, a.Addr().AsSlice())
					if a.Addr().Is4() {
						p = rtAttr(p, unix.IFA_LOCAL, a.Addr().AsSlice())
						p = rtAttr(p, unix.IFA_LABEL, append([]byte(it.Name), 0))
					}
					out = nlMsg(out, unix.RTM_NEWADDR, multi, seq, n.pid, p)
				}
			}
			out = nlMsg(out, nlmDone, multi, seq, n.pid, make([]byte, 4))
		case typ == unix.RTM_GETROUTE && flags&unix.NLM_F_DUMP == unix.NLM_F_DUMP:
			out = nlMsg(out, nlmDone, multi, seq, n.pid, make([]byte, 4))
		default:
			// NLMSG_ERROR: the errno (negative) and the request's header.
			errno := -int32(unix.EOPNOTSUPP)
			p := le.AppendUint32(nil, uint32(errno))
			p = append(p, req[:nlmsgHdrLen]...)
			out = nlMsg(out, nlmError, 0, seq, n.pid, p)
		}
		req = req[min(nlAlign(l), len(req)):]
	}
	if len(out) > 0 {
		n.mu.Lock()
		n.queue = append(n.queue, out)
		n.seq++
		n.mu.Unlock()
	}
}

// recv takes the next reply datagram (EAGAIN if none), truncated to b.
func (n *nlSock) recv(b []byte, peek bool) (int, int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.queue) == 0 {
		return 0, 0, unix.EAGAIN
	}
	d := n.queue[0]
	if !peek {
		n.queue = n.queue[1:]
		n.seq++
	}
	return copy(b, d), len(d), nil
}

func (n *nlSock) poll() uint32 {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.queue) > 0 {
		return unix.EPOLLIN | unix.EPOLLOUT
	}
	return unix.EPOLLOUT
}

func (n *nlSock) generation() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.seq
}

// nlSockaddr is struct sockaddr_nl of the kernel's side (pid 0) or of
// the socket (its port ID).
func nlSockaddr(pid uint32) []byte {
	b := make([]byte, 12)
	binary.LittleEndian.PutUint16(b, unix.AF_NETLINK)
	binary.LittleEndian.PutUint32(b[4:], pid)
	return b
}

// netlinkCall serves the socket calls on an AF_NETLINK socket other than
// the sends and receives (socket.go's send and recv take those).
func (t *Thread) netlinkCall(so *socket, nr uint64, a Args) (v uint64, err error) {
	n := so.nl
	switch nr {
	case unix.SYS_BIND, unix.SYS_CONNECT, unix.SYS_SHUTDOWN:
		return 0, nil
	case unix.SYS_LISTEN, unix.SYS_ACCEPT, unix.SYS_ACCEPT4:
		return 0, unix.EOPNOTSUPP
	case unix.SYS_GETSOCKNAME:
		return 0, t.writeSockaddr(a[1], a[2], nlSockaddr(n.pid))
	case unix.SYS_GETPEERNAME:
		return 0, t.writeSockaddr(a[1], a[2], nlSockaddr(0))
	case unix.SYS_SETSOCKOPT:
		return 0, nil // SO_RCVBUF, NETLINK_EXT_ACK ... : nothing to tune
	case unix.SYS_GETSOCKOPT:
		switch {
		case a[1] == unix.SOL_SOCKET && a[2] == unix.SO_TYPE:
			v = unix.SOCK_RAW
		case a[1] == unix.SOL_SOCKET && a[2] == unix.SO_DOMAIN:
			v = unix.AF_NETLINK
		case a[1] == unix.SOL_SOCKET && a[2] == unix.SO_PROTOCOL:
			v = unix.NETLINK_ROUTE
		case a[1] == unix.SOL_SOCKET && (a[2] == unix.SO_RCVBUF || a[2] == unix.SO_SNDBUF):
			v = 212992
		case a[1] == unix.SOL_SOCKET && a[2] == unix.SO_ERROR:
		default:
			return 0, unix.ENOPROTOOPT
		}
		if err := t.put32(a[3], uint32(v)); err != nil {
			return 0, err
		}
		return 0, t.put32(a[4], 4)
	}
	return 0, unix.EOPNOTSUPP
}
