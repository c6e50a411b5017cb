package main

import (
	"errors"
	"fmt"

	"yolk/kernel"
	ynet "yolk/net"
)

// startNet makes the network stack for the program: loopback always, and
// an Ethernet interface when the machine has a virtio-net card (qemu/run
// -p adds one), configured from the command line's net words (QEMU user
// networking's addresses by default). Errors are reported; the program
// then runs with loopback only.
func startNet(opts kernel.Options) *ynet.Stack {
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
	st, err := ynet.New(cfg, dev)
	if err != nil {
		fmt.Printf("yolk: %v\n", err)
		if st, err = ynet.New(cfg, nil); err != nil {
			return nil
		}
	}
	return st
}
