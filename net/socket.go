package net

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// Socket is one AF_INET or AF_INET6 socket: a netstack transport
// endpoint with its wait queue. Its methods never block: they return
// EAGAIN where a blocking socket would wait, and the caller waits for
// the notify function given at creation, which runs whenever the
// socket's readiness may have changed. Errors are unix.Errno values.
type Socket struct {
	st     *Stack
	Family int // unix.AF_INET or unix.AF_INET6
	Type   int // unix.SOCK_STREAM, SOCK_DGRAM or SOCK_RAW
	Proto  int // unix.IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6
	ep     tcpip.Endpoint
	wq     *waiter.Queue
	entry  waiter.Entry
	gen    atomic.Uint64 // readiness changes, for edge-triggered epoll
	closed atomic.Bool
}

// NewSocket implements socket(2) for the Internet families: SOCK_STREAM
// (TCP) and SOCK_DGRAM (UDP, or ICMP echo "ping" sockets with
// IPPROTO_ICMP/ICMPV6).
func (st *Stack) NewSocket(family, typ, proto int, notify func()) (*Socket, error) {
	var netProto tcpip.NetworkProtocolNumber
	switch family {
	case unix.AF_INET:
		netProto = ipv4.ProtocolNumber
	case unix.AF_INET6:
		netProto = ipv6.ProtocolNumber
	default:
		return nil, unix.EAFNOSUPPORT
	}
	var tp tcpip.TransportProtocolNumber
	switch {
	case typ == unix.SOCK_STREAM && (proto == 0 || proto == unix.IPPROTO_TCP):
		tp, proto = tcp.ProtocolNumber, unix.IPPROTO_TCP
	case typ == unix.SOCK_DGRAM && (proto == 0 || proto == unix.IPPROTO_UDP):
		tp, proto = udp.ProtocolNumber, unix.IPPROTO_UDP
	case typ == unix.SOCK_DGRAM && family == unix.AF_INET && proto == unix.IPPROTO_ICMP:
		tp = icmp.ProtocolNumber4
	case typ == unix.SOCK_DGRAM && family == unix.AF_INET6 && proto == unix.IPPROTO_ICMPV6:
		tp = icmp.ProtocolNumber6
	case typ == unix.SOCK_RAW && proto > 0 && proto <= 255:
		// A raw socket of one IP protocol: it receives that protocol's
		// packets (with the IPv4 header, as Linux) and sends payloads
		// the stack puts a header on; IPPROTO_RAW sends whole packets
		// (IP_HDRINCL) and receives nothing.
		wq := &waiter.Queue{}
		ep, err := st.s.NewRawEndpoint(tcpip.TransportProtocolNumber(proto), netProto, wq, proto != unix.IPPROTO_RAW)
		if err != nil {
			return nil, Errno(err)
		}
		return st.wrap(family, typ, proto, ep, wq, notify), nil
	case typ == unix.SOCK_STREAM || typ == unix.SOCK_DGRAM || typ == unix.SOCK_RAW:
		return nil, unix.EPROTONOSUPPORT
	default:
		return nil, unix.ESOCKTNOSUPPORT
	}
	wq := &waiter.Queue{}
	ep, err := st.s.NewEndpoint(tp, netProto, wq)
	if err != nil {
		return nil, Errno(err)
	}
	return st.wrap(family, typ, proto, ep, wq, notify), nil
}

func (st *Stack) wrap(family, typ, proto int, ep tcpip.Endpoint, wq *waiter.Queue, notify func()) *Socket {
	s := &Socket{st: st, Family: family, Type: typ, Proto: proto, ep: ep, wq: wq}
	s.entry = waiter.NewFunctionEntry(waiter.EventIn|waiter.EventOut|waiter.EventErr|waiter.EventHUp|waiter.EventRdHUp, func(waiter.EventMask) {
		s.gen.Add(1)
		if notify != nil {
			notify()
		}
	})
	wq.EventRegister(&s.entry)
	if typ == unix.SOCK_STREAM {
		// What Linux sets: SO_KEEPALIVE off, Nagle on.
		ep.SocketOptions().SetDelayOption(true)
	}
	return s
}

// Close releases the endpoint (a TCP connection closes or, with
// SO_LINGER of 0, resets).
func (s *Socket) Close() {
	if s.closed.Swap(true) {
		return
	}
	s.wq.EventUnregister(&s.entry)
	s.ep.Close()
}

// Generation counts readiness changes.
func (s *Socket) Generation() uint64 { return s.gen.Load() }

// Readiness returns the socket's poll(2) events (EPOLLIN, EPOLLOUT,
// EPOLLERR, EPOLLHUP, EPOLLRDHUP).
func (s *Socket) Readiness() uint32 {
	m := s.ep.Readiness(waiter.EventIn | waiter.EventOut | waiter.EventErr | waiter.EventHUp | waiter.EventRdHUp)
	return m.ToLinux()
}

// fullAddress converts a socket address for the endpoint: the
// unspecified address is "any" (empty), and an IPv4 address given to an
// AF_INET6 socket stays v4-mapped (the endpoint maps it).
func (s *Socket) fullAddress(a netip.AddrPort) (tcpip.FullAddress, error) {
	ip := a.Addr()
	switch {
	case s.Family == unix.AF_INET && !ip.Is4():
		return tcpip.FullAddress{}, unix.EAFNOSUPPORT
	case s.Family == unix.AF_INET6 && ip.Is4():
		ip = netip.AddrFrom16(ip.As16())
	}
	fa := tcpip.FullAddress{Port: a.Port()}
	if !ip.IsUnspecified() {
		fa.Addr = tcpip.AddrFromSlice(ip.AsSlice())
	}
	return fa, nil
}

// addrPort converts an endpoint's address for this socket's family
// (IPv4 on an AF_INET6 socket becomes v4-mapped).
func (s *Socket) addrPort(fa tcpip.FullAddress) netip.AddrPort {
	ip, _ := netip.AddrFromSlice(fa.Addr.AsSlice())
	if !ip.IsValid() {
		if s.Family == unix.AF_INET {
			ip = netip.IPv4Unspecified()
		} else {
			ip = netip.IPv6Unspecified()
		}
	}
	if s.Family == unix.AF_INET6 && ip.Is4() {
		ip = netip.AddrFrom16(ip.As16())
	}
	return netip.AddrPortFrom(ip, fa.Port)
}

// Bind implements bind(2).
func (s *Socket) Bind(a netip.AddrPort) error {
	fa, err := s.fullAddress(a)
	if err != nil {
		return err
	}
	return Errno(s.ep.Bind(fa))
}

// Listen implements listen(2).
func (s *Socket) Listen(backlog int) error {
	if s.Type != unix.SOCK_STREAM {
		return unix.EOPNOTSUPP
	}
	backlog = min(max(backlog, 0), 4096)
	return Errno(s.ep.Listen(backlog))
}

// Accept takes a connection off a listening socket's queue (EAGAIN when
// it is empty) and returns it as a socket of the same family.
func (s *Socket) Accept(notify func()) (*Socket, netip.AddrPort, error) {
	var peer tcpip.FullAddress
	ep, wq, err := s.ep.Accept(&peer)
	if err != nil {
		return nil, netip.AddrPort{}, Errno(err)
	}
	c := s.st.wrap(s.Family, s.Type, s.Proto, ep, wq, notify)
	return c, c.addrPort(peer), nil
}

// Connect implements connect(2) without waiting: a TCP connection that
// has started returns EINPROGRESS, and the caller waits for the socket
// to become writable and reads the outcome with ConnectResult.
func (s *Socket) Connect(a netip.AddrPort) error {
	fa, err := s.fullAddress(a)
	if err != nil {
		return err
	}
	if s.Messages() && !a.Addr().IsValid() {
		return Errno(s.ep.Disconnect()) // AF_UNSPEC
	}
	return Errno(s.ep.Connect(fa))
}

// ConnectResult returns (and clears) the socket's pending error: the
// outcome of a connection attempt once the socket is writable, or
// SO_ERROR.
func (s *Socket) ConnectResult() error { return Errno(s.ep.LastError()) }

// Messages reports whether the socket sends and receives whole messages
// with addresses (SOCK_DGRAM, SOCK_RAW), not a stream.
func (s *Socket) Messages() bool { return s.Type == unix.SOCK_DGRAM || s.Type == unix.SOCK_RAW }

// Listening reports whether listen(2) has made the socket passive.
func (s *Socket) Listening() bool {
	return s.Type == unix.SOCK_STREAM && tcp.EndpointState(s.ep.State()) == tcp.StateListen
}

// Recv reads into b: for a stream, what has arrived (0 at end of file);
// for a datagram socket, one datagram, truncated to b (total is its
// whole length).
func (s *Socket) Recv(b []byte, peek bool) (n int, from netip.AddrPort, total int, err error) {
	var dst io.Writer
	switch {
	case len(b) > 0:
		w := tcpip.SliceWriter(b)
		dst = &tcpip.LimitedWriter{W: &w, N: int64(len(b))}
	case s.Messages():
		// An empty buffer takes a datagram whole, as Linux's does (the
		// netstack calls a writer that takes nothing a bad buffer).
		dst = io.Discard
	default:
		return 0, netip.AddrPort{}, 0, nil // a stream reads nothing into nothing
	}
	res, terr := s.ep.Read(dst, tcpip.ReadOptions{Peek: peek, NeedRemoteAddr: s.Messages()})
	if len(b) == 0 {
		res.Count = 0
	}
	switch terr.(type) {
	case nil:
	case *tcpip.ErrClosedForReceive:
		return 0, netip.AddrPort{}, 0, nil
	default:
		return 0, netip.AddrPort{}, 0, Errno(terr)
	}
	if s.Messages() {
		from = s.addrPort(res.RemoteAddr)
	}
	return res.Count, from, res.Total, nil
}

// Send writes b (to a, for an unconnected datagram socket); a stream
// takes what fits in its send buffer (EAGAIN if nothing does). EPIPE
// means the sending side is shut down: the caller raises SIGPIPE.
func (s *Socket) Send(b []byte, to *netip.AddrPort) (int, error) {
	var opts tcpip.WriteOptions
	if to != nil {
		fa, err := s.fullAddress(*to)
		if err != nil {
			return 0, err
		}
		opts.To = &fa
	}
	n, err := s.ep.Write(bytes.NewReader(b), opts)
	if err != nil {
		return int(n), Errno(err)
	}
	return int(n), nil
}

// Shutdown implements shutdown(2) (SHUT_RD, SHUT_WR, SHUT_RDWR).
func (s *Socket) Shutdown(how int) error {
	var f tcpip.ShutdownFlags
	switch how {
	case unix.SHUT_RD:
		f = tcpip.ShutdownRead
	case unix.SHUT_WR:
		f = tcpip.ShutdownWrite
	case unix.SHUT_RDWR:
		f = tcpip.ShutdownRead | tcpip.ShutdownWrite
	default:
		return unix.EINVAL
	}
	return Errno(s.ep.Shutdown(f))
}

// LocalAddr implements getsockname(2).
func (s *Socket) LocalAddr() (netip.AddrPort, error) {
	fa, err := s.ep.GetLocalAddress()
	if err != nil {
		return netip.AddrPort{}, Errno(err)
	}
	return s.addrPort(fa), nil
}

// RemoteAddr implements getpeername(2).
func (s *Socket) RemoteAddr() (netip.AddrPort, error) {
	fa, err := s.ep.GetRemoteAddress()
	if err != nil {
		return netip.AddrPort{}, Errno(err)
	}
	return s.addrPort(fa), nil
}

// Buffered returns the bytes waiting to be read (FIONREAD).
func (s *Socket) Buffered() int {
	n, err := s.ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption)
	if err != nil {
		return 0
	}
	return n
}

// Linux option numbers absent from x/sys/unix under these names.
const (
	soDomain   = 39 // SO_DOMAIN
	soProtocol = 38 // SO_PROTOCOL
)

// SetOption implements setsockopt(2) for the options servers and
// clients set: SOL_SOCKET SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE,
// SO_BROADCAST, SO_RCVBUF, SO_SNDBUF, SO_LINGER; IPPROTO_TCP
// TCP_NODELAY, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT; IPPROTO_IPV6
// IPV6_V6ONLY; IPPROTO_IP IP_RECVERR, IPPROTO_IPV6 IPV6_RECVERR; the
// packet options of setIPOption. Others are ENOPROTOOPT.
func (s *Socket) SetOption(level, name int, val []byte) error {
	if level == unix.SOL_SOCKET && name == unix.SO_LINGER {
		if len(val) < 8 {
			return unix.EINVAL
		}
		le := binary.LittleEndian
		s.ep.SocketOptions().SetLinger(tcpip.LingerOption{
			Enabled: le.Uint32(val) != 0,
			Timeout: time.Duration(int32(le.Uint32(val[4:]))) * time.Second,
		})
		return nil
	}
	if len(val) < 4 {
		return unix.EINVAL
	}
	v := int(int32(binary.LittleEndian.Uint32(val)))
	so := s.ep.SocketOptions()
	switch {
	case level == unix.SOL_SOCKET && name == unix.SO_REUSEADDR:
		so.SetReuseAddress(v != 0)
	case level == unix.SOL_SOCKET && name == unix.SO_REUSEPORT:
		so.SetReusePort(v != 0)
	case level == unix.SOL_SOCKET && name == unix.SO_KEEPALIVE:
		so.SetKeepAlive(v != 0)
	case level == unix.SOL_SOCKET && name == unix.SO_BROADCAST:
		so.SetBroadcast(v != 0)
	case level == unix.SOL_SOCKET && name == unix.SO_RCVBUF:
		so.SetReceiveBufferSize(int64(max(v, 0))*2, true) // Linux doubles it
	case level == unix.SOL_SOCKET && name == unix.SO_SNDBUF:
		so.SetSendBufferSize(int64(max(v, 0))*2, true)
	case level == unix.IPPROTO_TCP && s.Proto == unix.IPPROTO_TCP:
		switch name {
		case unix.TCP_NODELAY:
			so.SetDelayOption(v == 0)
		case unix.TCP_KEEPIDLE:
			if v < 1 {
				return unix.EINVAL
			}
			o := tcpip.KeepaliveIdleOption(time.Duration(v) * time.Second)
			return Errno(s.ep.SetSockOpt(&o))
		case unix.TCP_KEEPINTVL:
			if v < 1 {
				return unix.EINVAL
			}
			o := tcpip.KeepaliveIntervalOption(time.Duration(v) * time.Second)
			return Errno(s.ep.SetSockOpt(&o))
		case unix.TCP_KEEPCNT:
			if v < 1 {
				return unix.EINVAL
			}
			return Errno(s.ep.SetSockOptInt(tcpip.KeepaliveCountOption, v))
		default:
			return unix.ENOPROTOOPT
		}
	case level == unix.IPPROTO_IPV6 && name == unix.IPV6_V6ONLY:
		if s.Family != unix.AF_INET6 {
			return unix.ENOPROTOOPT
		}
		so.SetV6Only(v != 0)
	case level == unix.IPPROTO_IP && name == unix.IP_RECVERR:
		// ICMP errors go to the socket's error queue (read with
		// MSG_ERRQUEUE, see RecvErr) and readiness shows EPOLLERR;
		// glibc's resolver sets it on its UDP socket.
		so.SetIPv4RecvError(v != 0)
	case level == unix.IPPROTO_IPV6 && name == unix.IPV6_RECVERR:
		if s.Family != unix.AF_INET6 {
			return unix.ENOPROTOOPT
		}
		so.SetIPv6RecvError(v != 0)
	case level == unix.IPPROTO_IP || level == unix.IPPROTO_IPV6:
		return s.setIPOption(level, name, v, len(val))
	default:
		return unix.ENOPROTOOPT
	}
	return nil
}

// defaultTTL is the TTL and hop limit packets get by default (Linux's
// net.ipv4.ip_default_ttl and net.ipv6.conf.all.hop_limit).
const defaultTTL = 64

// setIPOption sets the IPPROTO_IP and IPPROTO_IPV6 options programs set
// on packets: IP_TTL, IP_TOS, IP_MULTICAST_TTL, IP_MULTICAST_LOOP,
// IPV6_UNICAST_HOPS, IPV6_TCLASS, IPV6_MULTICAST_HOPS,
// IPV6_MULTICAST_LOOP, with Linux's ranges (-1: the default). The IPv6
// ones are ENOPROTOOPT on an IPv4 socket, as on Linux.
func (s *Socket) setIPOption(level, name, v, size int) error {
	if level == unix.IPPROTO_IPV6 && s.Family != unix.AF_INET6 {
		return unix.ENOPROTOOPT
	}
	so := s.ep.SocketOptions()
	inRange := func(lo, hi int) bool { return v >= lo && v <= hi }
	switch {
	case level == unix.IPPROTO_IP && name == unix.IP_TTL:
		if v == -1 {
			v = tcpip.UseDefaultIPv4TTL
		} else if !inRange(1, 255) {
			return unix.EINVAL
		}
		return Errno(s.ep.SetSockOptInt(tcpip.IPv4TTLOption, v))
	case level == unix.IPPROTO_IP && name == unix.IP_TOS:
		return Errno(s.ep.SetSockOptInt(tcpip.IPv4TOSOption, v&0xff))
	case level == unix.IPPROTO_IP && name == unix.IP_MULTICAST_TTL:
		if v == -1 {
			v = 1
		} else if !inRange(0, 255) {
			return unix.EINVAL
		}
		return Errno(s.ep.SetSockOptInt(tcpip.MulticastTTLOption, v))
	case level == unix.IPPROTO_IP && name == unix.IP_MULTICAST_LOOP,
		level == unix.IPPROTO_IPV6 && name == unix.IPV6_MULTICAST_LOOP:
		so.SetMulticastLoop(v != 0)
	case level == unix.IPPROTO_IPV6 && name == unix.IPV6_UNICAST_HOPS:
		if !inRange(-1, 255) {
			return unix.EINVAL
		}
		return Errno(s.ep.SetSockOptInt(tcpip.IPv6HopLimitOption, v))
	case level == unix.IPPROTO_IPV6 && name == unix.IPV6_MULTICAST_HOPS:
		if v == -1 {
			v = 1
		} else if !inRange(0, 255) {
			return unix.EINVAL
		}
		return Errno(s.ep.SetSockOptInt(tcpip.MulticastTTLOption, v))
	case level == unix.IPPROTO_IPV6 && name == unix.IPV6_TCLASS:
		if v == -1 {
			v = 0
		} else if !inRange(0, 255) {
			return unix.EINVAL
		}
		return Errno(s.ep.SetSockOptInt(tcpip.IPv6TrafficClassOption, v))
	default:
		return unix.ENOPROTOOPT
	}
	return nil
}

// ipOption reads what setIPOption sets, the defaults as Linux reports
// them.
func (s *Socket) ipOption(level, name int) (int, error) {
	if level == unix.IPPROTO_IPV6 && s.Family != unix.AF_INET6 {
		return 0, unix.ENOPROTOOPT
	}
	get := func(o tcpip.SockOptInt) (int, error) {
		v, err := s.ep.GetSockOptInt(o)
		return v, Errno(err)
	}
	b2i := map[bool]int{false: 0, true: 1}
	switch {
	case level == unix.IPPROTO_IP && name == unix.IP_TTL:
		v, err := get(tcpip.IPv4TTLOption)
		if v == tcpip.UseDefaultIPv4TTL {
			v = defaultTTL
		}
		return v, err
	case level == unix.IPPROTO_IP && name == unix.IP_TOS:
		return get(tcpip.IPv4TOSOption)
	case level == unix.IPPROTO_IP && name == unix.IP_MULTICAST_TTL,
		level == unix.IPPROTO_IPV6 && name == unix.IPV6_MULTICAST_HOPS:
		return get(tcpip.MulticastTTLOption)
	case level == unix.IPPROTO_IP && name == unix.IP_MULTICAST_LOOP,
		level == unix.IPPROTO_IPV6 && name == unix.IPV6_MULTICAST_LOOP:
		return b2i[s.ep.SocketOptions().GetMulticastLoop()], nil
	case level == unix.IPPROTO_IPV6 && name == unix.IPV6_UNICAST_HOPS:
		v, err := get(tcpip.IPv6HopLimitOption)
		if v == tcpip.UseDefaultIPv6HopLimit {
			v = defaultTTL
		}
		return v, err
	case level == unix.IPPROTO_IPV6 && name == unix.IPV6_TCLASS:
		return get(tcpip.IPv6TrafficClassOption)
	}
	return 0, unix.ENOPROTOOPT
}

// HasQueuedError reports whether the error queue (IP_RECVERR) holds an
// error. Reading it (MSG_ERRQUEUE) is not implemented beyond that: an
// empty queue is EAGAIN, as on Linux.
func (s *Socket) HasQueuedError() bool {
	return s.ep.SocketOptions().PeekErr() != nil
}

// Option implements getsockopt(2) for the options SetOption sets plus
// SO_ERROR, SO_TYPE, SO_DOMAIN, SO_PROTOCOL and SO_ACCEPTCONN; the value
// is a 4-byte int, or struct linger for SO_LINGER.
func (s *Socket) Option(level, name int) ([]byte, error) {
	so := s.ep.SocketOptions()
	var v int
	b2i := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	switch {
	case level == unix.SOL_SOCKET && name == unix.SO_LINGER:
		l := so.GetLinger()
		var b [8]byte
		binary.LittleEndian.PutUint32(b[:], uint32(b2i(l.Enabled)))
		binary.LittleEndian.PutUint32(b[4:], uint32(l.Timeout/time.Second))
		return b[:], nil
	case level == unix.SOL_SOCKET && name == unix.SO_ERROR:
		if err := s.ep.LastError(); err != nil {
			v = int(Errno(err).(unix.Errno))
		}
	case level == unix.SOL_SOCKET && name == unix.SO_TYPE:
		v = s.Type
	case level == unix.SOL_SOCKET && name == soDomain:
		v = s.Family
	case level == unix.SOL_SOCKET && name == soProtocol:
		v = s.Proto
	case level == unix.SOL_SOCKET && name == unix.SO_ACCEPTCONN:
		v = b2i(so.GetAcceptConn())
	case level == unix.SOL_SOCKET && name == unix.SO_REUSEADDR:
		v = b2i(so.GetReuseAddress())
	case level == unix.SOL_SOCKET && name == unix.SO_REUSEPORT:
		v = b2i(so.GetReusePort())
	case level == unix.SOL_SOCKET && name == unix.SO_KEEPALIVE:
		v = b2i(so.GetKeepAlive())
	case level == unix.SOL_SOCKET && name == unix.SO_BROADCAST:
		v = b2i(so.GetBroadcast())
	case level == unix.SOL_SOCKET && name == unix.SO_RCVBUF:
		v = int(so.GetReceiveBufferSize())
	case level == unix.SOL_SOCKET && name == unix.SO_SNDBUF:
		v = int(so.GetSendBufferSize())
	case level == unix.IPPROTO_TCP && s.Proto == unix.IPPROTO_TCP:
		switch name {
		case unix.TCP_NODELAY:
			v = b2i(!so.GetDelayOption())
		case unix.TCP_KEEPIDLE:
			var o tcpip.KeepaliveIdleOption
			if err := s.ep.GetSockOpt(&o); err != nil {
				return nil, Errno(err)
			}
			v = int(time.Duration(o) / time.Second)
		case unix.TCP_KEEPINTVL:
			var o tcpip.KeepaliveIntervalOption
			if err := s.ep.GetSockOpt(&o); err != nil {
				return nil, Errno(err)
			}
			v = int(time.Duration(o) / time.Second)
		case unix.TCP_KEEPCNT:
			n, err := s.ep.GetSockOptInt(tcpip.KeepaliveCountOption)
			if err != nil {
				return nil, Errno(err)
			}
			v = n
		default:
			return nil, unix.ENOPROTOOPT
		}
	case level == unix.IPPROTO_IPV6 && name == unix.IPV6_V6ONLY && s.Family == unix.AF_INET6:
		v = b2i(so.GetV6Only())
	case level == unix.IPPROTO_IP && name == unix.IP_RECVERR:
		v = b2i(so.GetIPv4RecvError())
	case level == unix.IPPROTO_IPV6 && name == unix.IPV6_RECVERR && s.Family == unix.AF_INET6:
		v = b2i(so.GetIPv6RecvError())
	case level == unix.IPPROTO_IP || level == unix.IPPROTO_IPV6:
		var err error
		if v, err = s.ipOption(level, name); err != nil {
			return nil, err
		}
	default:
		return nil, unix.ENOPROTOOPT
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(int32(v)))
	return b[:], nil
}

// Errno converts a netstack error to the errno Linux gives (nil for nil).
func Errno(err tcpip.Error) error {
	switch err.(type) {
	case nil:
		return nil
	case *tcpip.ErrWouldBlock:
		return unix.EAGAIN
	case *tcpip.ErrConnectStarted:
		return unix.EINPROGRESS
	case *tcpip.ErrAlreadyConnecting:
		return unix.EALREADY
	case *tcpip.ErrAlreadyConnected:
		return unix.EISCONN
	case *tcpip.ErrNotConnected:
		return unix.ENOTCONN
	case *tcpip.ErrConnectionRefused:
		return unix.ECONNREFUSED
	case *tcpip.ErrConnectionReset:
		return unix.ECONNRESET
	case *tcpip.ErrConnectionAborted, *tcpip.ErrAborted:
		return unix.ECONNABORTED
	case *tcpip.ErrClosedForSend:
		return unix.EPIPE
	case *tcpip.ErrClosedForReceive:
		return unix.ESHUTDOWN
	case *tcpip.ErrTimeout:
		return unix.ETIMEDOUT
	case *tcpip.ErrPortInUse, *tcpip.ErrDuplicateAddress:
		return unix.EADDRINUSE
	case *tcpip.ErrBadLocalAddress:
		return unix.EADDRNOTAVAIL
	case *tcpip.ErrNoPortAvailable:
		return unix.EAGAIN // Linux: no ephemeral port left
	case *tcpip.ErrAlreadyBound, *tcpip.ErrInvalidEndpointState, *tcpip.ErrInvalidOptionValue:
		return unix.EINVAL
	case *tcpip.ErrNetworkUnreachable, *tcpip.ErrNoNet:
		return unix.ENETUNREACH
	case *tcpip.ErrHostUnreachable:
		return unix.EHOSTUNREACH
	case *tcpip.ErrHostDown:
		return unix.EHOSTDOWN
	case *tcpip.ErrDestinationRequired:
		return unix.EDESTADDRREQ
	case *tcpip.ErrMessageTooLong:
		return unix.EMSGSIZE
	case *tcpip.ErrNoBufferSpace:
		return unix.ENOBUFS
	case *tcpip.ErrBroadcastDisabled, *tcpip.ErrNotPermitted:
		return unix.EACCES
	case *tcpip.ErrAddressFamilyNotSupported:
		return unix.EAFNOSUPPORT
	case *tcpip.ErrNotSupported, *tcpip.ErrQueueSizeNotSupported:
		return unix.EOPNOTSUPP
	case *tcpip.ErrUnknownProtocolOption:
		return unix.ENOPROTOOPT
	case *tcpip.ErrBadAddress, *tcpip.ErrBadBuffer:
		return unix.EFAULT
	case *tcpip.ErrUnknownProtocol:
		return unix.EPROTONOSUPPORT
	}
	return unix.EINVAL
}
