package main

import (
	"fmt"
	"strconv"
	"strings"
)

// portFwd is one -p HOSTPORT:GUESTPORT[/udp]: QEMU user networking
// forwards the host's port (on all addresses) to the guest's 10.0.2.15.
type portFwd struct {
	host, guest int
	udp         bool
}

// addPort parses HOSTPORT:GUESTPORT[/tcp|/udp].
func (o *options) addPort(v string) error {
	bad := func() error { return usagef("-p wants HOSTPORT:GUESTPORT[/udp], got '%s'", v) }
	spec, proto, hasProto := strings.Cut(v, "/")
	if hasProto && proto != "tcp" && proto != "udp" {
		return bad()
	}
	hs, gs, ok := strings.Cut(spec, ":")
	if !ok {
		return bad()
	}
	port := func(s string) (int, bool) {
		n, err := strconv.Atoi(s)
		return n, err == nil && n >= 1 && n <= 65535 && strings.TrimLeft(s, "0123456789") == ""
	}
	h, ok1 := port(hs)
	g, ok2 := port(gs)
	if !ok1 || !ok2 {
		return bad()
	}
	o.ports = append(o.ports, portFwd{host: h, guest: g, udp: proto == "udp"})
	if o.network == "" {
		o.network = "user"
	}
	return nil
}

// setNetwork parses -n user|none|tap=IFNAME.
func (o *options) setNetwork(v string) error {
	name, isTap := strings.CutPrefix(v, "tap=")
	switch {
	case isTap && (name == "" || len(name) > 15 || strings.ContainsAny(name, ",/ \t")):
		return usagef("-n tap= wants a network interface name (at most 15 characters, no comma, slash or blank), got '%s'", name)
	case !isTap && v != "user" && v != "none":
		return usagef("-n wants user, none or tap=IFNAME, got '%s'", v)
	}
	o.network = v
	return nil
}

// checkNetwork reports options that contradict each other: -p forwards
// through QEMU user networking, which a tap device replaces.
func (o *options) checkNetwork() error {
	if len(o.ports) > 0 && o.network != "user" {
		return usagef("-p forwards ports through user networking; with -n %s reach the guest at its own address", o.network)
	}
	return nil
}

// netArgs are QEMU's arguments for the network: none unless -n or -p
// asked for one, else a virtio-net card on the machine's virtio
// transport behind QEMU user networking (the guest is 10.0.2.15, the
// host 10.0.2.2, DNS 10.0.2.3) with a hostfwd rule per -p, or behind the
// host's tap device IFNAME (-n tap=IFNAME: made beforehand, e.g. `ip
// tuntap add IFNAME mode tap user USER`; QEMU runs no scripts; the guest
// takes its address from the kernel's net.* options).
func (s *setup) netArgs() []string {
	netdev := "user,id=n0"
	if tap, ok := strings.CutPrefix(s.o.network, "tap="); ok {
		netdev = "tap,id=n0,ifname=" + tap + ",script=no,downscript=no"
	} else if s.o.network != "user" {
		return []string{"-nic", "none"}
	}
	for _, p := range s.o.ports {
		proto := "tcp"
		if p.udp {
			proto = "udp"
		}
		netdev += fmt.Sprintf(",hostfwd=%s::%d-:%d", proto, p.host, p.guest)
	}
	dev := "virtio-net-pci,disable-legacy=on,romfile=,netdev=n0"
	a := []string{"-netdev", netdev}
	if s.o.machine == "microvm" {
		dev = "virtio-net-device,netdev=n0"
		if len(s.o.volumes) == 0 {
			a = append(a, "-global", "virtio-mmio.force-legacy=false")
		}
	}
	return append(a, "-device", dev)
}
