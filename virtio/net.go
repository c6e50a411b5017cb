package virtio

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// DeviceNet is the virtio device ID of a network card (§5.1).
const DeviceNet = 1

// Network device features (§5.1.3).
const (
	FeatureNetMAC    = 1 << 5  // VIRTIO_NET_F_MAC: the configuration holds the MAC address
	FeatureNetStatus = 1 << 16 // VIRTIO_NET_F_STATUS: the configuration holds the link status
)

// netHdrLen is the size of struct virtio_net_hdr with VERSION_1 (§5.1.6:
// num_buffers is always present): 12 bytes before every frame, both ways.
const netHdrLen = 12

// MaxFrame is the longest Ethernet frame (without FCS) Net carries: a
// 1500-byte MTU plus the 14-byte header (no VLAN tag, no offloads).
const MaxFrame = 1514

// netQueueMax caps both queues: 256 pages of receive buffers (1 MiB),
// 256 frames in flight to the device.
const netQueueMax = 256

// Net drives a virtio network card (§5.1) with one receive and one
// transmit queue and no offloads: every frame is one DMA page holding
// the 12-byte header (all zero: no checksum or segmentation offload)
// and the frame. Receive buffers are posted once and reposted as they
// come back; transmit pages are taken from a free list and returned as
// the device finishes with them. Every page is allocated by NewNet.
//
// Receive does not wait; WaitReceive does, on the card's interrupt when
// the kernel wired one (SetInterrupt), which is asked for only while a
// receiver waits (the queue's NO_INTERRUPT hint is set otherwise, so a
// busy receiver is not interrupted for every frame). The transmit queue
// never interrupts: Send reclaims finished buffers itself. Send and
// Receive may run concurrently with each other and with themselves.
type Net struct {
	t   Transport
	mac [6]byte

	rxMu    sync.Mutex
	rx      *Queue
	rxPages []Page // by descriptor id
	rxErr   error

	txMu     sync.Mutex
	tx       *Queue
	txFree   []Page
	txByID   []Page // pages in flight, by descriptor id
	txErr    error
	txWait   func() // pause when every transmit buffer is in flight
	dropped  atomic.Uint64
	received atomic.Uint64
	sent     atomic.Uint64

	irq <-chan struct{} // a value after each interrupt; nil: none wired
}

// NetStats counts frames.
type NetStats struct {
	Received, Sent uint64
	// Dropped counts received buffers that held no valid frame (shorter
	// than the header, longer than the buffer, shorter than an Ethernet
	// header).
	Dropped uint64
}

// NewNet initialises the network device behind t: negotiates the MAC
// feature, sets up both queues and posts every receive buffer. wait is
// the pause Send takes while the device holds all transmit buffers.
func NewNet(t Transport, a Allocator, wait func()) (*Net, error) {
	f, err := Start(t, FeatureNetMAC)
	if err != nil {
		return nil, err
	}
	n := &Net{t: t, txWait: wait}
	if f&FeatureNetMAC != 0 {
		c, ok := t.(interface{ Config8(uintptr) uint8 })
		if ok {
			for i := range n.mac {
				n.mac[i] = c.Config8(uintptr(i))
			}
		}
	}
	if n.mac == [6]byte{} {
		// QEMU's default for its first card; locally administered.
		n.mac = [6]byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	}
	queue := func(i int) (*Queue, error) {
		max := t.QueueMax(i)
		if max < 2 {
			return nil, fmt.Errorf("virtio: %v has no queue %d", t, i)
		}
		size := uint16(netQueueMax)
		for size > max {
			size >>= 1
		}
		return NewQueue(size, a)
	}
	fail := func(err error) (*Net, error) {
		t.SetStatus(StatusFailed)
		return nil, err
	}
	if n.rx, err = queue(0); err != nil {
		return fail(err)
	}
	if n.tx, err = queue(1); err != nil {
		return fail(err)
	}
	n.rxPages = make([]Page, n.rx.Size)
	for n.rx.Free() > 0 {
		p, err := a.AllocPage()
		if err != nil {
			return fail(err)
		}
		id, _ := n.rx.Add(p.Phys, PageSize, true)
		n.rxPages[id] = p
	}
	n.txByID = make([]Page, n.tx.Size)
	for i := 0; i < int(n.tx.Size); i++ {
		p, err := a.AllocPage()
		if err != nil {
			return fail(err)
		}
		n.txFree = append(n.txFree, p)
	}
	t.EnableQueue(0, n.rx)
	t.EnableQueue(1, n.tx)
	n.tx.SetInterrupts(false)
	n.rx.SetInterrupts(false)
	Ready(t)
	t.Notify(0)
	return n, nil
}

// SetInterrupt gives the driver the card's interrupt: irq receives a
// value after the card interrupted (a buffered channel of one, so wake-ups
// coalesce). Call it before the first WaitReceive.
func (n *Net) SetInterrupt(irq <-chan struct{}) { n.irq = irq }

// pollInterval is how often WaitReceive looks at a card without an
// interrupt.
const pollInterval = 2 * time.Millisecond

// WaitReceive returns when a frame may have arrived (Receive may find
// none: wake-ups can be spurious) or when stop is closed. With an
// interrupt it turns the receive queue's interrupt on, looks once more
// (a frame used before that would raise none), and sleeps until the
// interrupt; without one it sleeps pollInterval.
func (n *Net) WaitReceive(stop <-chan struct{}) {
	if n.irq == nil {
		t := time.NewTimer(pollInterval)
		defer t.Stop()
		select {
		case <-t.C:
		case <-stop:
		}
		return
	}
	n.rxMu.Lock()
	n.rx.SetInterrupts(true)
	pending := n.rx.Pending() || n.rxErr != nil
	n.rxMu.Unlock()
	if !pending {
		select {
		case <-n.irq:
		case <-stop:
		}
	}
	n.rxMu.Lock()
	n.rx.SetInterrupts(false)
	n.rxMu.Unlock()
}

// MAC is the card's Ethernet address.
func (n *Net) MAC() [6]byte { return n.mac }

func (n *Net) String() string { return fmt.Sprintf("virtio-net %x on %v", n.mac, n.t) }

// Stats returns the frame counters.
func (n *Net) Stats() NetStats {
	return NetStats{Received: n.received.Load(), Sent: n.sent.Load(), Dropped: n.dropped.Load()}
}

// ErrFrameSize is Send's error for a frame longer than MaxFrame or
// shorter than an Ethernet header.
var ErrFrameSize = errors.New("virtio: frame size out of range")

// Send queues one Ethernet frame (without FCS) for transmission. It
// waits while the device holds every transmit buffer.
func (n *Net) Send(frame []byte) error {
	return n.SendParts(frame)
}

// SendParts queues one frame given in pieces (headers, then payload),
// copied into one transmit page.
func (n *Net) SendParts(parts ...[]byte) error {
	size := 0
	for _, p := range parts {
		size += len(p)
	}
	if size < 14 || size > MaxFrame {
		return ErrFrameSize
	}
	n.txMu.Lock()
	defer n.txMu.Unlock()
	for {
		if n.txErr != nil {
			return n.txErr
		}
		n.reclaimTx()
		if len(n.txFree) > 0 {
			break
		}
		n.txMu.Unlock()
		n.txWait()
		n.txMu.Lock()
	}
	p := n.txFree[len(n.txFree)-1]
	n.txFree = n.txFree[:len(n.txFree)-1]
	clear(p.Buf[:netHdrLen])
	off := netHdrLen
	for _, part := range parts {
		off += copy(p.Buf[off:], part)
	}
	id, ok := n.tx.Add(p.Phys, uint32(off), false)
	if !ok {
		n.txFree = append(n.txFree, p) // free pages equal free descriptors: not reached
		return fmt.Errorf("%v: no free transmit descriptor", n)
	}
	n.txByID[id] = p
	n.tx.Publish()
	n.t.Notify(1)
	n.sent.Add(1)
	return nil
}

// reclaimTx returns the pages the device has sent (txMu held).
func (n *Net) reclaimTx() {
	for {
		id, _, ok, err := n.tx.Used()
		if err != nil {
			n.txErr = fmt.Errorf("%v: transmit queue: %v", n, err)
			return
		}
		if !ok {
			return
		}
		n.txFree = append(n.txFree, n.txByID[id])
		n.txByID[id] = Page{}
	}
}

// Receive hands each frame the device has received to deliver (the
// slice is valid only during the call) and reposts its buffer; it
// returns how many buffers came back. A buffer holding no valid frame is
// counted in Stats().Dropped and reposted. A device that breaks the
// ring's rules is an error, for this and every later call.
func (n *Net) Receive(deliver func(frame []byte)) (int, error) {
	n.rxMu.Lock()
	defer n.rxMu.Unlock()
	if n.rxErr != nil {
		return 0, n.rxErr
	}
	count := 0
	for {
		id, length, ok, err := n.rx.Used()
		if err != nil {
			n.rxErr = fmt.Errorf("%v: receive queue: %v", n, err)
			return count, n.rxErr
		}
		if !ok {
			break
		}
		count++
		p := n.rxPages[id]
		if length < netHdrLen+14 || length > PageSize {
			n.dropped.Add(1)
		} else {
			n.received.Add(1)
			deliver(p.Buf[netHdrLen:length])
		}
		nid, _ := n.rx.Add(p.Phys, PageSize, true)
		n.rxPages[nid] = p
	}
	if count > 0 {
		n.rx.Publish()
		n.t.Notify(0)
	}
	return count, nil
}
