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
			p, err := virtio.NewP9(t, dmaAlloc{}, func() { time.Sleep(100 * time.Microsecond) })
			if err != nil {
				fmt.Printf("yolk: %v\n", err)
				continue
			}
			shares = append(shares, Share{Tag: p.Tag(), Transport: p})
		}
	})
	return shares
}

// findP9 returns the transports of the 9P devices.
func findP9() []virtio.Transport {
	var ts []virtio.Transport
	for dev := uint8(0); dev < 32; dev++ {
		c := pciConfig{dev: dev}
		id := c.Read32(0)
		if uint16(id) != virtio.PCIVendor || virtio.PCIDeviceID(uint16(id>>16)) != virtio.DeviceP9 {
			continue
		}
		t, err := virtio.NewPCI(fmt.Sprintf("00:%02x.0", dev), c, mapRegs)
		if err != nil {
			fmt.Printf("yolk: %v\n", err)
			continue
		}
		ts = append(ts, t)
	}
	if len(ts) > 0 {
		return ts
	}
	r, err := mapRegs(microvmVirtioBase, microvmVirtioSlots*virtio.MMIOSize)
	if err != nil {
		return nil
	}
	base := r.(mmioRegs)
	for i := 0; i < microvmVirtioSlots; i++ {
		slot := base + mmioRegs(i*virtio.MMIOSize)
		id, version, ok := virtio.ProbeMMIO(slot)
		if !ok || id != virtio.DeviceP9 {
			continue
		}
		phys := uint64(microvmVirtioBase + i*virtio.MMIOSize)
		if version != 2 {
			fmt.Printf("yolk: the virtio 9p device at %#x is legacy (version %d): give QEMU -global virtio-mmio.force-legacy=false\n", phys, version)
			continue
		}
		ts = append(ts, &virtio.MMIO{R: slot, Phys: phys})
	}
	return ts
}
