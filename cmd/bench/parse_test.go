package main

import (
	"strings"
	"testing"
)

func TestParseOutput(t *testing.T) {
	in := "[    2.7] random: crng init done\r\n" +
		"benchinit: ready\r\n" +
		"benchinit: the clock stayed coarse\r\n" +
		"bench getppid 1086.8 2815\r\n" +
		"[  3.1] some kernel noisebench gzip 957491454 2485752048\n" +
		"bench sqlite 193330778\n" +
		"benchfail gobench status:256\n" +
		"benchinit: done\n"
	o, err := ParseOutput(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if !o.Ready || !o.Done || !o.Coarse {
		t.Errorf("ready %v done %v, want both", o.Ready, o.Done)
	}
	want := map[string]Sample{
		"getppid": {1086.8, 2815},
		"gzip":    {957491454, 2485752048},
		"sqlite":  {193330778, 0},
	}
	if len(o.Samples) != len(want) {
		t.Errorf("samples %v, want %v", o.Samples, want)
	}
	for k, w := range want {
		if g := o.Samples[k]; g != w {
			t.Errorf("%s = %+v, want %+v", k, g, w)
		}
	}
	if len(o.Fails) != 1 || o.Fails[0] != "gobench: status:256" {
		t.Errorf("fails %q", o.Fails)
	}
}

func TestParseOutputErrors(t *testing.T) {
	for _, in := range []string{
		"bench getppid\n",
		"bench getppid x 1\n",
		"bench getppid -5\n",
		"bench getppid 1 2 3\n",
		"bench getppid 1 zz\n",
		"bench a 1\nbench a 2\n",
		"benchfail\n",
	} {
		if _, err := ParseOutput(strings.NewReader(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestParseOutputUnfinished(t *testing.T) {
	o, err := ParseOutput(strings.NewReader("benchinit: ready\nbench a 1 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !o.Ready || o.Done {
		t.Errorf("ready %v done %v, want ready only", o.Ready, o.Done)
	}
}
