package main

import (
	"errors"
	"fmt"

	"yolk/kernel"
	ynet "yolk/net"
)

// startNet makes the network stack for the program when the machine has
// a virtio-net card (qemu/run -p adds one): loopback and an Ethernet
// interface configured from the command line's net words (QEMU user
// networking's addresses by default). Without a card it returns no stack
// and the configuration: the syscall shim makes a loopback-only stack at
// the program's first Internet socket, so that the 30-40 ms gVisor's stack
// takes to make under TCG are not spent on every boot. Errors are
// reported; the program then runs with loopback only.
func startNet(opts kernel.Options) (*ynet.Stack, *ynet.Config) {
	cfg, err := ynet.ParseConfig(opts.Net)
	if err != nil {
		fmt.Printf("yolk: %v; using the defaults\n", err)
		cfg = ynet.DefaultConfig()
	}
	var dev ynet.Device
	if !cfg.Off {
		switch d, err := kernel.NetDevice(); {
		case err == nil:
			dev = d
		case !errors.Is(err, kernel.ErrNoNetDevice):
			fmt.Printf("yolk: %v\n", err)
		}
	}
	if dev == nil {
		return nil, &cfg
	}
	st, err := ynet.New(cfg, dev)
	if err != nil {
		fmt.Printf("yolk: %v\n", err)
		return nil, &cfg
	}
	return st, &cfg
}
