package kernel

import (
	"fmt"
	"sync"
	"time"

	"yolk/virtio"
)

// Host directories: QEMU's virtio-9p devices (qemu/run -v adds them with
// mount tags share0, share1 ...), on PCI bus 0 (q35: virtio-pci) or in
// microvm's virtio-mmio slots. The driver polls, as the console does.

// Share is one virtio-9p device: its mount tag and the transport that
// carries its 9P messages (vfs/p9fs.New takes it).
type Share struct {
	Tag       string
	Transport *virtio.P9
}

var (
	sharesOnce sync.Once
	shares     []Share
)

// Shares finds and starts the virtio-9p devices, once; a device that
// fails to start is reported and left out.
func Shares() []Share {
	sharesOnce.Do(func() {
		for _, t := range findP9() {
			// The interrupt before the device starts: MSI-X must be on
			// before NewP9 gives the queue its vector.
			irq, irqErr := wireInterrupt(t, "virtio-9p")
			p, err := virtio.NewP9(t, dmaAlloc{}, func() { time.Sleep(100 * time.Microsecond) })
			if err != nil {
				fmt.Printf("yolk: %v\n", err)
				continue
			}
			if irqErr != nil {
				fmt.Printf("yolk: %v: %v is polled\n", irqErr, p)
			} else {
				p.SetInterrupt(irq)
			}
			shares = append(shares, Share{Tag: p.Tag(), Transport: p})
		}
	})
	return shares
}

// findP9 returns the transports of the 9P devices.
func findP9() []virtio.Transport {
	ts, errs := findVirtio(virtio.DeviceP9, "virtio 9p device")
	for _, err := range errs {
		fmt.Printf("yolk: %v\n", err)
	}
	return ts
}
