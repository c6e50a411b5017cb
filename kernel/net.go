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
// virtio-mmio slots. Its interrupt (irq.go) wakes the network stack's
// receive goroutine (net.Link, through virtio.Net.WaitReceive); without
// one (a machine the routing does not know) the driver looks every 2 ms.

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
		irq, err := wireInterrupt(t, "virtio-net")
		if err != nil {
			fmt.Printf("yolk: %v: the network card is polled\n", err)
		}
		netDev, netErr = virtio.NewNet(t, dmaAlloc{}, wait)
		if netErr == nil && irq != nil {
			netDev.SetInterrupt(irq)
		}
	})
	return netDev, netErr
}

// findNet returns the transport of the first network card.
func findNet() (virtio.Transport, error) {
	return findOneVirtio(virtio.DeviceNet, "virtio-net device", ErrNoNetDevice)
}
