// Package net is yolk's TCP/IP stack: gVisor's netstack (pkg/tcpip, the
// module gvisor.dev/gvisor pinned in go.mod) with IPv4, IPv6, ARP, TCP,
// UDP and ICMP, a loopback interface (127.0.0.1/8, ::1) and, when the
// machine has a network card, an Ethernet interface over it (Link)
// configured statically (Config; QEMU user networking's addresses by
// default). Socket wraps one transport endpoint with errno results for
// the system-call layer (syscallshim).
//
// References: RFC 791/8200 (IP), 793/9293 (TCP), 768 (UDP), 826 (ARP),
// 4861 (NDP); socket(7), ip(7), ipv6(7), tcp(7), udp(7) for the options.
package net

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/loopback"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/raw"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

// Config is the static configuration of the Ethernet interface.
type Config struct {
	Addr     netip.Prefix // IPv4 address and subnet
	Gateway  netip.Addr
	DNS      netip.Addr
	Addr6    netip.Prefix // IPv6 address and prefix (invalid: none)
	Gateway6 netip.Addr
	Off      bool // net=off: no Ethernet interface even with a card
}

// DefaultConfig is QEMU user networking's ("slirp"): the guest is
// 10.0.2.15/24, the host 10.0.2.2, its DNS forwarder 10.0.2.3; IPv6
// fec0::/64 with the host at fec0::2.
func DefaultConfig() Config {
	return Config{
		Addr:     netip.MustParsePrefix("10.0.2.15/24"),
		Gateway:  netip.MustParseAddr("10.0.2.2"),
		DNS:      netip.MustParseAddr("10.0.2.3"),
		Addr6:    netip.MustParsePrefix("fec0::15/64"),
		Gateway6: netip.MustParseAddr("fec0::2"),
	}
}

// ParseConfig reads the kernel command line's network words over the
// defaults: net=off, net.ip=ADDR/PREFIX, net.gw=ADDR, net.dns=ADDR,
// net.ip6=ADDR/PREFIX (or "none"), net.gw6=ADDR.
func ParseConfig(words []string) (Config, error) {
	c := DefaultConfig()
	for _, w := range words {
		k, v, _ := strings.Cut(w, "=")
		var err error
		switch k {
		case "net":
			switch v {
			case "off", "none":
				c.Off = true
			case "on", "static":
			default:
				err = fmt.Errorf("want off or static")
			}
		case "net.ip":
			c.Addr, err = netip.ParsePrefix(v)
			if err == nil && !c.Addr.Addr().Is4() {
				err = fmt.Errorf("not an IPv4 address")
			}
		case "net.gw":
			c.Gateway, err = netip.ParseAddr(v)
		case "net.dns":
			c.DNS, err = netip.ParseAddr(v)
		case "net.ip6":
			if v == "none" {
				c.Addr6 = netip.Prefix{}
			} else {
				c.Addr6, err = netip.ParsePrefix(v)
			}
		case "net.gw6":
			c.Gateway6, err = netip.ParseAddr(v)
		default:
			err = fmt.Errorf("unknown option")
		}
		if err != nil {
			return c, fmt.Errorf("net: %s: %v", w, err)
		}
	}
	return c, nil
}

// NIC numbers.
const (
	nicLoopback tcpip.NICID = 1
	nicEthernet tcpip.NICID = 2
)

// Stack is the network stack of one machine.
type Stack struct {
	s    *stack.Stack
	cfg  Config
	link *Link // nil without a card
}

// Drain waits, at most timeout, until no TCP connection still has data
// or a FIN its peer has not acknowledged (FIN-WAIT-1, CLOSING, LAST-ACK),
// and returns how many still had. It is for the end: the program has
// exited and its sockets are closed; Linux goes on sending what a
// program wrote after it exits, but the machine powering off would drop
// it.
func (st *Stack) Drain(timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for {
		n := 0
		for _, e := range st.s.RegisteredEndpoints() {
			ep, ok := e.(*tcp.Endpoint)
			if !ok {
				continue
			}
			switch tcp.EndpointState(ep.State()) {
			case tcp.StateFinWait1, tcp.StateClosing, tcp.StateLastAck:
				n++
			}
		}
		if n == 0 || time.Now().After(deadline) {
			return n
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// New returns a stack with a loopback interface and, when dev is not nil
// and cfg is not Off, an Ethernet interface over dev.
func New(cfg Config, dev Device) (*Stack, error) {
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, ipv6.NewProtocol, arp.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4, icmp.NewProtocol6},
		RawFactory:         raw.EndpointFactory{},
		HandleLocal:        true,
	})
	st := &Stack{s: s, cfg: cfg}
	sack := tcpip.TCPSACKEnabled(true)
	if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, &sack); err != nil {
		return nil, fmt.Errorf("net: SACK: %v", err)
	}
	// Linux's defaults: 4 KiB minimum, 128 KiB default, 4 MiB (send) and
	// 6 MiB (receive) maximum, moderated by the stack.
	sndBuf := tcpip.TCPSendBufferSizeRangeOption{Min: 4096, Default: 128 << 10, Max: 4 << 20}
	rcvBuf := tcpip.TCPReceiveBufferSizeRangeOption{Min: 4096, Default: 128 << 10, Max: 6 << 20}
	s.SetTransportProtocolOption(tcp.ProtocolNumber, &sndBuf)
	s.SetTransportProtocolOption(tcp.ProtocolNumber, &rcvBuf)
	moderate := tcpip.TCPModerateReceiveBufferOption(true)
	s.SetTransportProtocolOption(tcp.ProtocolNumber, &moderate)

	if err := s.CreateNIC(nicLoopback, loopback.New()); err != nil {
		return nil, fmt.Errorf("net: loopback: %v", err)
	}
	routes := []tcpip.Route{
		{Destination: mustSubnet("127.0.0.0/8"), NIC: nicLoopback},
		{Destination: mustSubnet("::1/128"), NIC: nicLoopback},
	}
	for _, a := range []string{"127.0.0.1/8", "::1/128"} {
		if err := st.addAddress(nicLoopback, netip.MustParsePrefix(a)); err != nil {
			return nil, err
		}
	}
	if dev != nil && !cfg.Off {
		st.link = NewLink(dev)
		if err := s.CreateNIC(nicEthernet, st.link); err != nil {
			return nil, fmt.Errorf("net: ethernet: %v", err)
		}
		if err := st.addAddress(nicEthernet, cfg.Addr); err != nil {
			return nil, err
		}
		routes = append(routes, tcpip.Route{Destination: prefixSubnet(cfg.Addr.Masked()), NIC: nicEthernet})
		if cfg.Gateway.IsValid() {
			routes = append(routes, tcpip.Route{Destination: mustSubnet("0.0.0.0/0"), Gateway: addr(cfg.Gateway), NIC: nicEthernet})
		}
		if cfg.Addr6.IsValid() {
			if err := st.addAddress(nicEthernet, cfg.Addr6); err != nil {
				return nil, err
			}
			routes = append(routes, tcpip.Route{Destination: prefixSubnet(cfg.Addr6.Masked()), NIC: nicEthernet})
			if cfg.Gateway6.IsValid() {
				routes = append(routes, tcpip.Route{Destination: mustSubnet("::/0"), Gateway: addr(cfg.Gateway6), NIC: nicEthernet})
			}
		}
	}
	s.SetRouteTable(routes)
	return st, nil
}

// Config returns the configuration the stack was made with.
func (st *Stack) Config() Config { return st.cfg }

// HasEthernet reports whether the stack has an interface on a card.
func (st *Stack) HasEthernet() bool { return st.link != nil }

// LinkStats returns the Ethernet link's counters (zero without one).
func (st *Stack) LinkStats() LinkStats {
	if st.link == nil {
		return LinkStats{}
	}
	return st.link.Stats()
}

// Close stops the stack and its receive loop.
func (st *Stack) Close() {
	st.s.Close()
	st.s.Wait()
	if st.link != nil {
		st.link.waitStopped()
	}
}

func (st *Stack) addAddress(nic tcpip.NICID, p netip.Prefix) error {
	proto := ipv4.ProtocolNumber
	if p.Addr().Is6() {
		proto = ipv6.ProtocolNumber
	}
	pa := tcpip.ProtocolAddress{Protocol: proto, AddressWithPrefix: tcpip.AddressWithPrefix{Address: addr(p.Addr()), PrefixLen: p.Bits()}}
	if err := st.s.AddProtocolAddress(nic, pa, stack.AddressProperties{}); err != nil {
		return fmt.Errorf("net: address %v: %v", p, err)
	}
	return nil
}

func addr(a netip.Addr) tcpip.Address { return tcpip.AddrFromSlice(a.AsSlice()) }

func prefixSubnet(p netip.Prefix) tcpip.Subnet {
	s, err := tcpip.NewSubnet(addr(p.Addr()), tcpip.MaskFromBytes(maskBytes(p)))
	if err != nil {
		panic(err)
	}
	return s
}

func mustSubnet(s string) tcpip.Subnet { return prefixSubnet(netip.MustParsePrefix(s).Masked()) }

func maskBytes(p netip.Prefix) []byte {
	m := make([]byte, p.Addr().BitLen()/8)
	for i := 0; i < p.Bits(); i++ {
		m[i/8] |= 0x80 >> (i % 8)
	}
	return m
}

// Interface is one network interface as netlink describes it.
type Interface struct {
	Index    int
	Name     string
	MTU      int
	HWAddr   []byte // nil for loopback
	Loopback bool
	Addrs    []netip.Prefix
}

// Interfaces lists the stack's interfaces: lo (index 1) and, with a
// card, eth0 (index 2).
func (st *Stack) Interfaces() []Interface {
	ifs := []Interface{{Index: int(nicLoopback), Name: "lo", MTU: 65536, Loopback: true,
		Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")}}}
	if st.link != nil {
		e := Interface{Index: int(nicEthernet), Name: "eth0", MTU: MTU, HWAddr: []byte(st.link.LinkAddress()), Addrs: []netip.Prefix{st.cfg.Addr}}
		if st.cfg.Addr6.IsValid() {
			e.Addrs = append(e.Addrs, st.cfg.Addr6)
		}
		ifs = append(ifs, e)
	}
	return ifs
}
