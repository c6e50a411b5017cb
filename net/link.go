package net

import (
	"runtime"
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// Device is a network card that carries Ethernet frames (without FCS):
// virtio.Net, or a test's fake.
type Device interface {
	MAC() [6]byte
	// SendParts sends one frame given in pieces; it may wait for room.
	SendParts(parts ...[]byte) error
	// Receive hands each frame that has arrived to deliver (valid only
	// during the call) and returns how many buffers it took; it does not
	// wait.
	Receive(deliver func(frame []byte)) (int, error)
	// WaitReceive returns when a frame may have arrived (spurious
	// wake-ups are allowed) or stop is closed.
	WaitReceive(stop <-chan struct{})
}

// MTU is the link's IP MTU: Ethernet's 1500 (QEMU's user network and
// virtio-net without offloads carry nothing larger).
const MTU = 1500

// Link is a gVisor link endpoint (stack.LinkEndpoint) over a Device: it
// adds and strips the Ethernet header, and a goroutine hands received
// frames to the stack, sleeping in the device's WaitReceive (the card's
// interrupt) whenever none are left.
type Link struct {
	dev  Device
	addr tcpip.LinkAddress

	mu         sync.Mutex
	dispatcher stack.NetworkDispatcher
	done       chan struct{}
	stopped    chan struct{}

	// Counters (Stats).
	rxFrames, rxDropped, txFrames, txErrors atomic.Uint64
}

// LinkStats counts the link's frames.
type LinkStats struct {
	RxFrames  uint64 // frames handed to the stack
	RxDropped uint64 // frames dropped by the link: shorter than an Ethernet header, or for another host
	TxFrames  uint64
	TxErrors  uint64
}

var _ stack.LinkEndpoint = (*Link)(nil)

// NewLink returns a link endpoint over dev.
func NewLink(dev Device) *Link {
	mac := dev.MAC()
	return &Link{dev: dev, addr: tcpip.LinkAddress(mac[:])}
}

// Stats returns the link's counters.
func (l *Link) Stats() LinkStats {
	return LinkStats{RxFrames: l.rxFrames.Load(), RxDropped: l.rxDropped.Load(), TxFrames: l.txFrames.Load(), TxErrors: l.txErrors.Load()}
}

func (l *Link) MTU() uint32                    { return MTU }
func (l *Link) SetMTU(uint32)                  {}
func (l *Link) MaxHeaderLength() uint16        { return header.EthernetMinimumSize }
func (l *Link) LinkAddress() tcpip.LinkAddress { return l.addr }
func (l *Link) SetLinkAddress(a tcpip.LinkAddress) {
	l.mu.Lock()
	l.addr = a
	l.mu.Unlock()
}
func (l *Link) Capabilities() stack.LinkEndpointCapabilities {
	return stack.CapabilityResolutionRequired
}
func (l *Link) ARPHardwareType() header.ARPHardwareType { return header.ARPHardwareEther }
func (l *Link) SetOnCloseAction(func())                 {}

// Attach starts (dispatcher != nil) or stops (nil) the receive loop.
func (l *Link) Attach(d stack.NetworkDispatcher) {
	l.mu.Lock()
	old := l.dispatcher
	l.dispatcher = d
	if old == nil && d != nil {
		l.done, l.stopped = make(chan struct{}), make(chan struct{})
		go l.receiveLoop(l.done, l.stopped)
	}
	if old != nil && d == nil {
		// Not waiting here: the stack calls this with the NIC locked,
		// and a frame being delivered may be waiting for that lock.
		close(l.done)
	}
	l.mu.Unlock()
}

func (l *Link) IsAttached() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dispatcher != nil
}

// Wait returns at once: the stack calls it with its own lock held, and
// the receive loop may be waiting for that lock to deliver a frame.
// Stack.Close waits for the loop (waitStopped) after the stack lets go.
func (l *Link) Wait() {}

// waitStopped waits for the receive loop to end after Attach(nil).
func (l *Link) waitStopped() {
	l.mu.Lock()
	stopped := l.stopped
	l.mu.Unlock()
	if stopped != nil {
		<-stopped
	}
}
func (l *Link) Close() {}

// AddHeader pushes the Ethernet header.
func (l *Link) AddHeader(pkt *stack.PacketBuffer) {
	eth := header.Ethernet(pkt.LinkHeader().Push(header.EthernetMinimumSize))
	eth.Encode(&header.EthernetFields{
		SrcAddr: pkt.EgressRoute.LocalLinkAddress,
		DstAddr: pkt.EgressRoute.RemoteLinkAddress,
		Type:    pkt.NetworkProtocolNumber,
	})
}

// ParseHeader consumes the Ethernet header.
func (l *Link) ParseHeader(pkt *stack.PacketBuffer) bool {
	_, ok := pkt.LinkHeader().Consume(header.EthernetMinimumSize)
	return ok
}

// WritePackets sends each packet as one frame.
func (l *Link) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	n := 0
	for _, pkt := range pkts.AsSlice() {
		if err := l.dev.SendParts(pkt.AsSlices()...); err != nil {
			l.txErrors.Add(1)
			if n == 0 {
				return 0, &tcpip.ErrAborted{}
			}
			break
		}
		l.txFrames.Add(1)
		n++
	}
	return n, nil
}

// receiveLoop delivers frames until done closes, waiting for the
// device when it has none. After a long burst it yields, so a stream of
// frames does not starve the goroutines that consume them.
func (l *Link) receiveLoop(done, stopped chan struct{}) {
	defer close(stopped)
	burst := 0
	for {
		select {
		case <-done:
			return
		default:
		}
		n, err := l.dev.Receive(l.deliver)
		if err != nil {
			return // the device is broken: the driver keeps failing
		}
		if n > 0 {
			if burst += n; burst >= 256 {
				burst = 0
				runtime.Gosched()
			}
			continue
		}
		burst = 0
		l.dev.WaitReceive(done)
	}
}

// deliver hands one received frame to the stack. Anything the link can
// reject is dropped and counted here; the stack validates the rest (and
// counts what it drops in its own statistics).
func (l *Link) deliver(frame []byte) {
	l.mu.Lock()
	d := l.dispatcher
	l.mu.Unlock()
	if d == nil || !l.accept(frame) {
		l.rxDropped.Add(1)
		return
	}
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{
		Payload: buffer.MakeWithData(append([]byte(nil), frame...)),
	})
	defer pkt.DecRef()
	if !l.ParseHeader(pkt) {
		l.rxDropped.Add(1)
		return
	}
	eth := header.Ethernet(pkt.LinkHeader().Slice())
	switch dst := eth.DestinationAddress(); {
	case dst == header.EthernetBroadcastAddress:
		pkt.PktType = tcpip.PacketBroadcast
	case header.IsMulticastEthernetAddress(dst):
		pkt.PktType = tcpip.PacketMulticast
	default:
		pkt.PktType = tcpip.PacketHost
	}
	l.rxFrames.Add(1)
	d.DeliverNetworkPacket(eth.Type(), pkt)
}

// accept reports whether the link takes a frame: long enough for an
// Ethernet header, no longer than the MTU allows, and addressed to this
// card, to everyone, or to a multicast group.
func (l *Link) accept(frame []byte) bool {
	if len(frame) < header.EthernetMinimumSize || len(frame) > header.EthernetMinimumSize+MTU {
		return false
	}
	dst := tcpip.LinkAddress(frame[:6])
	return dst == l.addr || dst == header.EthernetBroadcastAddress || header.IsMulticastEthernetAddress(dst)
}
