package net

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand"
	"net/netip"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// wire is a fake card: what one end sends, the other receives.
type wire struct {
	mac   [6]byte
	peer  *wire
	mu    sync.Mutex
	in    [][]byte
	ready chan struct{} // a value when in gains frames
}

func (w *wire) signal() {
	select {
	case w.ready <- struct{}{}:
	default:
	}
}

func (w *wire) WaitReceive(stop <-chan struct{}) {
	select {
	case <-w.ready:
	case <-stop:
	}
}

func (w *wire) MAC() [6]byte { return w.mac }

func (w *wire) SendParts(parts ...[]byte) error {
	f := bytes.Join(parts, nil)
	w.peer.mu.Lock()
	w.peer.in = append(w.peer.in, f)
	w.peer.mu.Unlock()
	w.peer.signal()
	return nil
}

func (w *wire) Receive(deliver func([]byte)) (int, error) {
	w.mu.Lock()
	in := w.in
	w.in = nil
	w.mu.Unlock()
	for _, f := range in {
		deliver(f)
	}
	return len(in), nil
}

func (w *wire) inject(f []byte) {
	w.mu.Lock()
	w.in = append(w.in, f)
	w.mu.Unlock()
	w.signal()
}

// pair returns two stacks on one wire: the guest 10.0.2.15 and a "host"
// at 10.0.2.2.
func pair(t testing.TB) (guest, host *Stack, gw *wire) {
	a := &wire{mac: [6]byte{0x52, 0x54, 0, 0x12, 0x34, 0x56}, ready: make(chan struct{}, 1)}
	b := &wire{mac: [6]byte{0x52, 0x55, 10, 0, 2, 2}, peer: a, ready: make(chan struct{}, 1)}
	a.peer = b
	var err error
	guest, err = New(DefaultConfig(), a)
	if err != nil {
		t.Fatal(err)
	}
	hc := DefaultConfig()
	hc.Addr = netip.MustParsePrefix("10.0.2.2/24")
	hc.Gateway = netip.Addr{}
	hc.Addr6 = netip.MustParsePrefix("fec0::2/64")
	hc.Gateway6 = netip.Addr{}
	host, err = New(hc, b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { guest.Close(); host.Close() })
	return guest, host, a
}

// waiter is a notify function with a channel.
type waiterCh chan struct{}

func (w waiterCh) notify() {
	select {
	case w <- struct{}{}:
	default:
	}
}

// retry calls f until it stops returning EAGAIN/EINPROGRESS/EALREADY or
// the deadline passes.
func retry(t *testing.T, ch waiterCh, f func() error) error {
	deadline := time.After(10 * time.Second)
	for {
		err := f()
		if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EINPROGRESS) && !errors.Is(err, unix.EALREADY) {
			return err
		}
		select {
		case <-ch:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatal("timed out")
		}
	}
}

func tcpExchange(t *testing.T, server, client *Stack, family int, listen, dial netip.AddrPort) {
	ch := make(waiterCh, 1)
	l, err := server.NewSocket(family, unix.SOCK_STREAM, 0, ch.notify)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Bind(listen); err != nil {
		t.Fatal("bind", err)
	}
	if err := l.Listen(8); err != nil || !l.Listening() {
		t.Fatal("listen", err)
	}
	la, _ := l.LocalAddr()
	dial = netip.AddrPortFrom(dial.Addr(), la.Port())
	c, err := client.NewSocket(family, unix.SOCK_STREAM, 0, ch.notify)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Connect(dial); err != unix.EINPROGRESS {
		t.Fatal("connect", err)
	}
	var a *Socket
	if err := retry(t, ch, func() (err error) { a, _, err = l.Accept(ch.notify); return }); err != nil {
		t.Fatal("accept", err)
	}
	defer a.Close()
	retry(t, ch, func() error {
		if c.Readiness()&unix.EPOLLOUT == 0 {
			return unix.EAGAIN
		}
		return nil
	})
	if err := c.ConnectResult(); err != nil {
		t.Fatal("connect result", err)
	}
	if peer, _ := c.RemoteAddr(); peer != dial {
		t.Fatalf("peer %v, want %v", peer, dial)
	}
	msg := bytes.Repeat([]byte("yolk"), 50000) // 200 KB: many segments, window updates
	go func() {
		for off := 0; off < len(msg); {
			n, err := c.Send(msg[off:], nil)
			if err == unix.EAGAIN {
				time.Sleep(time.Millisecond)
				continue
			}
			if err != nil {
				t.Error("send", err)
				return
			}
			off += n
		}
		c.Shutdown(unix.SHUT_WR)
	}()
	var got []byte
	buf := make([]byte, 8192)
	for {
		var n int
		err := retry(t, ch, func() (err error) { n, _, _, err = a.Recv(buf, false); return })
		if err != nil {
			t.Fatal("recv", err)
		}
		if n == 0 {
			break
		}
		got = append(got, buf[:n]...)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("got %d bytes, want %d", len(got), len(msg))
	}
}

func TestTCPOverLink(t *testing.T) {
	guest, host, _ := pair(t)
	tcpExchange(t, host, guest, unix.AF_INET, netip.MustParseAddrPort("0.0.0.0:0"), netip.MustParseAddrPort("10.0.2.2:0"))
	tcpExchange(t, guest, host, unix.AF_INET6, netip.MustParseAddrPort("[::]:0"), netip.MustParseAddrPort("[fec0::15]:0"))
	// An IPv4 client reaches a dual-stack IPv6 listener.
	tcpExchange(t, guest, host, unix.AF_INET6, netip.MustParseAddrPort("[::]:0"), netip.MustParseAddrPort("[::ffff:10.0.2.15]:0"))
	if s := guest.LinkStats(); s.RxFrames == 0 || s.TxFrames == 0 {
		t.Fatalf("link stats %+v", s)
	}
}

func TestLoopback(t *testing.T) {
	st, err := New(DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tcpExchange(t, st, st, unix.AF_INET, netip.MustParseAddrPort("127.0.0.1:0"), netip.MustParseAddrPort("127.0.0.1:0"))
	tcpExchange(t, st, st, unix.AF_INET6, netip.MustParseAddrPort("[::1]:0"), netip.MustParseAddrPort("[::1]:0"))

	// UDP, with a truncated datagram and MSG_PEEK.
	ch := make(waiterCh, 1)
	u1, _ := st.NewSocket(unix.AF_INET, unix.SOCK_DGRAM, 0, ch.notify)
	u2, _ := st.NewSocket(unix.AF_INET, unix.SOCK_DGRAM, 0, ch.notify)
	defer u1.Close()
	defer u2.Close()
	if err := u1.Bind(netip.MustParseAddrPort("127.0.0.1:0")); err != nil {
		t.Fatal(err)
	}
	a1, _ := u1.LocalAddr()
	if _, err := u2.Send([]byte("hello, datagram"), &a1); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	var n int
	var from netip.AddrPort
	var total int
	retry(t, ch, func() (err error) { n, from, total, err = u1.Recv(buf, true); return })
	a2, _ := u2.LocalAddr()
	if string(buf[:n]) != "hello" || total != 15 || from.Port() != a2.Port() {
		t.Fatalf("peek %q total %v from %v (want %v)", buf[:n], total, from, a2)
	}
	big := make([]byte, 100)
	if n, _, _, _ = u1.Recv(big, false); string(big[:n]) != "hello, datagram" {
		t.Fatalf("recv %q", big[:n])
	}
	if _, _, _, err := u1.Recv(big, false); err != unix.EAGAIN {
		t.Fatal("empty queue:", err)
	}
	// An empty buffer takes a datagram whole: count 0, its length total.
	if _, err := u2.Send([]byte("gone"), &a1); err != nil {
		t.Fatal(err)
	}
	retry(t, ch, func() (err error) { n, _, total, err = u1.Recv(nil, false); return })
	if n != 0 || total != 4 {
		t.Fatalf("recv into an empty buffer: %d of %d bytes, want 0 of 4", n, total)
	}
	if _, _, _, err := u1.Recv(big, false); err != unix.EAGAIN {
		t.Fatal("the datagram read into an empty buffer is still queued:", err)
	}

	// Refused connection, options.
	c, _ := st.NewSocket(unix.AF_INET, unix.SOCK_STREAM, 0, ch.notify)
	defer c.Close()
	err = retry(t, ch, func() error {
		err := c.Connect(netip.MustParseAddrPort("127.0.0.1:1"))
		if err == unix.EINPROGRESS || err == unix.EALREADY {
			if c.Readiness()&(unix.EPOLLOUT|unix.EPOLLERR) == 0 {
				return unix.EAGAIN
			}
			return c.ConnectResult()
		}
		return err
	})
	if err != unix.ECONNREFUSED {
		t.Fatal("connect to a closed port:", err)
	}
	one := []byte{1, 0, 0, 0}
	for _, o := range [][2]int{{unix.SOL_SOCKET, unix.SO_REUSEADDR}, {unix.SOL_SOCKET, unix.SO_KEEPALIVE}, {unix.IPPROTO_TCP, unix.TCP_NODELAY}} {
		if err := c.SetOption(o[0], o[1], one); err != nil {
			t.Fatal(o, err)
		}
		if v, err := c.Option(o[0], o[1]); err != nil || v[0] != 1 {
			t.Fatal(o, v, err)
		}
	}
	if v, _ := c.Option(unix.SOL_SOCKET, unix.SO_TYPE); v[0] != unix.SOCK_STREAM {
		t.Fatal("SO_TYPE", v)
	}
	if c.SetOption(unix.SOL_SOCKET, 12345, one) != unix.ENOPROTOOPT {
		t.Fatal("unknown option accepted")
	}
	if err := c.SetOption(unix.SOL_SOCKET, unix.SO_LINGER, []byte{1, 0, 0, 0, 0, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.NewSocket(unix.AF_INET, unix.SOCK_RAW, 0, nil); err == nil {
		t.Fatal("raw socket made")
	}
}

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]string{"net.ip=192.168.1.9/16", "net.gw=192.168.0.1", "net.dns=1.1.1.1", "net.ip6=none"})
	if err != nil || c.Addr.String() != "192.168.1.9/16" || c.Gateway.String() != "192.168.0.1" || c.DNS.String() != "1.1.1.1" || c.Addr6.IsValid() {
		t.Fatal(c, err)
	}
	for _, bad := range []string{"net.ip=10.0.2.15", "net.ip=::1/64", "net.gw=x", "net=maybe", "net.what=1"} {
		if _, err := ParseConfig([]string{bad}); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if c, _ := ParseConfig([]string{"net=off"}); !c.Off {
		t.Fatal("net=off")
	}
}

// FuzzLinkFrames feeds the guest stack arbitrary frames, plain and as
// IPv4/IPv6/ARP payloads addressed to it: none may crash it, and it must
// keep working afterwards.
func FuzzLinkFrames(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Add(make([]byte, 13), uint8(1))
	f.Add([]byte{0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 2, 2, 10, 0, 2, 15}, uint8(1))
	f.Add([]byte{0x60, 0, 0, 0, 0, 8, 17, 64}, uint8(2))
	f.Add([]byte{0, 1, 8, 0, 6, 4, 0, 1}, uint8(3))
	guest, _, gw := pair(f)
	mac := gw.MAC()
	f.Fuzz(func(t *testing.T, payload []byte, kind uint8) {
		var frame []byte
		switch kind % 4 {
		case 0:
			frame = payload
		default:
			et := [...][2]byte{{}, {0x08, 0x00}, {0x86, 0xdd}, {0x08, 0x06}}[kind%4]
			frame = append(append(append(mac[:], 0x52, 0x55, 10, 0, 2, 2), et[:]...), payload...)
		}
		guest.link.deliver(frame)
	})
}

// TestRandomFrames is the fuzz target's check on every run: 20,000
// random and truncated frames, then TCP still works.
func TestRandomFrames(t *testing.T) {
	guest, host, gw := pair(t)
	r := rand.New(rand.NewSource(1))
	mac := gw.MAC()
	for i := 0; i < 20000; i++ {
		n := r.Intn(200)
		p := make([]byte, n)
		r.Read(p)
		hdr := append(mac[:], 0x52, 0x55, 10, 0, 2, 2, 0x08, 0x00)
		switch i % 4 {
		case 1:
			p = append(append(hdr, 0x45), p...)
		case 2:
			hdr[12], hdr[13] = 0x86, 0xdd
			p = append(append(hdr, 0x60), p...)
		case 3:
			hdr[12], hdr[13] = 0x08, 0x06
			p = append(hdr, p...)
		}
		if i%7 == 0 && len(p) > 3 {
			p = p[:r.Intn(len(p))]
		}
		guest.link.deliver(p)
	}
	if s := guest.LinkStats(); s.RxDropped == 0 {
		t.Fatalf("no frame dropped: %+v", s)
	}
	tcpExchange(t, host, guest, unix.AF_INET, netip.MustParseAddrPort("0.0.0.0:0"), netip.MustParseAddrPort("10.0.2.2:0"))
}

// TestIPOptions sets and reads the packet options with Linux's ranges
// and defaults: IP_TTL 64 until set, -1 back to the default, 0 EINVAL;
// the IPv6 ones ENOPROTOOPT on an IPv4 socket.
func TestIPOptions(t *testing.T) {
	st, err := New(DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	i32 := func(v int32) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }
	get := func(s *Socket, level, name int) int {
		t.Helper()
		b, err := s.Option(level, name)
		if err != nil {
			t.Fatalf("getsockopt(%d, %d): %v", level, name, err)
		}
		return int(int32(binary.LittleEndian.Uint32(b)))
	}
	for _, typ := range []int{unix.SOCK_STREAM, unix.SOCK_DGRAM} {
		s4, err := st.NewSocket(unix.AF_INET, typ, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s4.Close()
		s6, err := st.NewSocket(unix.AF_INET6, typ, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s6.Close()
		if v := get(s4, unix.IPPROTO_IP, unix.IP_TTL); v != 64 {
			t.Errorf("default IP_TTL %d, want 64", v)
		}
		for _, c := range []struct {
			s           *Socket
			level, name int
			set         int32
			want        int   // read back
			err         error // from the set
		}{
			{s4, unix.IPPROTO_IP, unix.IP_TTL, 1, 1, nil},
			{s4, unix.IPPROTO_IP, unix.IP_TTL, -1, 64, nil},
			{s4, unix.IPPROTO_IP, unix.IP_TTL, 0, 64, unix.EINVAL},
			{s4, unix.IPPROTO_IP, unix.IP_TTL, 256, 64, unix.EINVAL},
			{s4, unix.IPPROTO_IP, unix.IP_TOS, 0x10, 0x10, nil},
			{s4, unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, 0, 0, nil},
			{s6, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, 7, 7, nil},
			{s6, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, -1, 64, nil},
			{s6, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, -2, 64, unix.EINVAL},
			{s6, unix.IPPROTO_IPV6, unix.IPV6_TCLASS, 4, 4, nil},
			{s6, unix.IPPROTO_IP, unix.IP_TTL, 9, 9, nil}, // v4-mapped traffic
		} {
			if err := c.s.SetOption(c.level, c.name, i32(c.set)); err != c.err {
				t.Errorf("setsockopt(%d, %d, %d) = %v, want %v", c.level, c.name, c.set, err, c.err)
			}
			if v := get(c.s, c.level, c.name); v != c.want {
				t.Errorf("getsockopt(%d, %d) after setting %d = %d, want %d", c.level, c.name, c.set, v, c.want)
			}
		}
		if err := s4.SetOption(unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, i32(1)); err != unix.ENOPROTOOPT {
			t.Errorf("IPV6_UNICAST_HOPS on an IPv4 socket: %v, want ENOPROTOOPT", err)
		}
	}
}

// TestRawICMP sends an ICMP echo request on a raw socket over loopback
// and reads the reply with its IPv4 header, as Linux's raw sockets give
// it; SOCK_RAW without a protocol is EPROTONOSUPPORT.
func TestRawICMP(t *testing.T) {
	st, err := New(DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ch := make(waiterCh, 1)
	s, err := st.NewSocket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP, ch.notify)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Echo request: type 8, code 0, checksum, id 0x1234, seq 1, "ping".
	req := []byte{8, 0, 0, 0, 0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g'}
	var sum uint32
	for i := 0; i < len(req); i += 2 {
		sum += uint32(req[i])<<8 | uint32(req[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(req[2:], ^uint16(sum))
	lo := netip.MustParseAddrPort("127.0.0.1:0")
	if _, err := s.Send(req, &lo); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 200)
	for {
		var n int
		var from netip.AddrPort
		err := retry(t, ch, func() (err error) { n, from, _, err = s.Recv(buf, false); return })
		if err != nil {
			t.Fatal(err)
		}
		if n < 20+8 || buf[0]>>4 != 4 || buf[9] != unix.IPPROTO_ICMP {
			t.Fatalf("received %x: want an IPv4 header and ICMP", buf[:n])
		}
		if from.Addr() != lo.Addr() {
			t.Errorf("from %v, want 127.0.0.1", from)
		}
		icmp := buf[20:n]
		if icmp[0] == 8 {
			continue // our own request, which a raw socket sees too
		}
		if icmp[0] != 0 || string(icmp[8:]) != "ping" || icmp[4] != 0x12 || icmp[5] != 0x34 {
			t.Fatalf("reply %x, want an echo reply to id 0x1234 with \"ping\"", icmp)
		}
		break
	}
	if _, err := st.NewSocket(unix.AF_INET, unix.SOCK_RAW, 0, nil); err != unix.EPROTONOSUPPORT {
		t.Errorf("SOCK_RAW, protocol 0: %v, want EPROTONOSUPPORT", err)
	}
}
