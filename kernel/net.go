package kernel

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"yolk/virtio"
)

// The network card: QEMU's virtio-net (qemu/run -p adds one with user
// networking), on PCI bus 0 (q35: virtio-pci) or in one of microvm's
// virtio-mmio slots. No interrupt is wired to the driver: the receive
// side is polled by the network stack's link endpoint (net.Link), which
// backs off to sleeping when no frame comes, so an idle card costs no
// CPU.

var (
	netOnce sync.Once
	netDev  *virtio.Net
	netErr  error
)

// ErrNoNetDevice is NetDevice's error on a machine without a card.
var ErrNoNetDevice = errors.New("no virtio-net device (PCI bus 0, microvm's virtio-mmio slots)")

// NetDevice finds and starts the first virtio-net card, once.
func NetDevice() (*virtio.Net, error) {
	netOnce.Do(func() {
		t, err := findNet()
		if err != nil {
			netErr = err
			return
		}
		wait := func() {
			runtime.Gosched()
			time.Sleep(50 * time.Microsecond)
		}
		netDev, netErr = virtio.NewNet(t, dmaAlloc{}, wait)
	})
	return netDev, netErr
}

// findNet returns the transport of the first network card.
func findNet() (virtio.Transport, error) {
	for dev := uint8(0); dev < 32; dev++ {
		c := pciConfig{dev: dev}
		id := c.Read32(0)
		if uint16(id) != virtio.PCIVendor || virtio.PCIDeviceID(uint16(id>>16)) != virtio.DeviceNet {
			continue
		}
		return virtio.NewPCI(fmt.Sprintf("00:%02x.0", dev), c, mapRegs)
	}
	r, err := mapRegs(microvmVirtioBase, microvmVirtioSlots*virtio.MMIOSize)
	if err != nil {
		return nil, err
	}
	base := r.(mmioRegs)
	for i := 0; i < microvmVirtioSlots; i++ {
		slot := base + mmioRegs(i*virtio.MMIOSize)
		id, version, ok := virtio.ProbeMMIO(slot)
		if !ok || id != virtio.DeviceNet {
			continue
		}
		phys := uint64(microvmVirtioBase + i*virtio.MMIOSize)
		if version != 2 {
			return nil, fmt.Errorf("the virtio-net device at %#x is legacy (version %d): give QEMU -global virtio-mmio.force-legacy=false", phys, version)
		}
		return &virtio.MMIO{R: slot, Phys: phys}, nil
	}
	return nil, ErrNoNetDevice
}
