package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestPortsAndNetwork(t *testing.T) {
	parse := func(args ...string) (*options, error) { return parseArgs(args, nil, nil) }
	o, err := parse("-p", "8080:80", "-p1053:53/udp", "-p", "2222:22/tcp", "prog")
	if err != nil {
		t.Fatal(err)
	}
	want := []portFwd{{8080, 80, false}, {1053, 53, true}, {2222, 22, false}}
	if !reflect.DeepEqual(o.ports, want) || o.network != "user" {
		t.Fatalf("ports %+v network %q", o.ports, o.network)
	}
	s := &setup{o: o}
	a := strings.Join(s.netArgs(), " ")
	for _, w := range []string{"-netdev user,id=n0,hostfwd=tcp::8080-:80,hostfwd=udp::1053-:53,hostfwd=tcp::2222-:22", "-device virtio-net-device,netdev=n0", "virtio-mmio.force-legacy=false"} {
		if !strings.Contains(a, w) {
			t.Errorf("microvm args %q lack %q", a, w)
		}
	}
	o.machine = "q35"
	if a := strings.Join(s.netArgs(), " "); !strings.Contains(a, "virtio-net-pci,disable-legacy=on,romfile=,netdev=n0") {
		t.Errorf("q35 args %q", a)
	}
	o, _ = parse("prog")
	if a := (&setup{o: o}).netArgs(); !reflect.DeepEqual(a, []string{"-nic", "none"}) {
		t.Errorf("no network: %q", a)
	}
	if o, _ := parse("-n", "user", "prog"); o.network != "user" || len(o.ports) != 0 {
		t.Errorf("-n user: %+v", o)
	}
	for _, bad := range []string{"80", "0:80", "80:65536", "a:b", "80:80/sctp", "80:80/", ":80", "80:"} {
		if _, err := parse("-p", bad, "prog"); err == nil {
			t.Errorf("-p %s accepted", bad)
		}
	}
	for _, bad := range [][]string{{"-n", "tap"}, {"-n", "tap="}, {"-n", "tap=a,b"}, {"-n", "tap=0123456789abcdef"}, {"-n", "tap=t0", "-p", "80:80"}, {"-n", "none", "-p", "80:80"}} {
		if _, err := parse(append(bad, "prog")...); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	o, err = parse("-n", "tap=yolk0", "prog")
	if err != nil {
		t.Fatal(err)
	}
	if a := strings.Join((&setup{o: o}).netArgs(), " "); !strings.Contains(a, "-netdev tap,id=n0,ifname=yolk0,script=no,downscript=no -global virtio-mmio.force-legacy=false -device virtio-net-device,netdev=n0") {
		t.Errorf("tap args %q", a)
	}
}
