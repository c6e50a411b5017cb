package kernel

import (
	"errors"
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
	return findOneVirtio(virtio.DeviceNet, "virtio-net device", ErrNoNetDevice)
}
