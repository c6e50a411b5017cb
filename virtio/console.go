package virtio

import (
	"fmt"
	"sync"
)

// DeviceConsole is the virtio device ID of a console (§5.3).
const DeviceConsole = 3

// MaxConsoleDepth caps the data queues' size: at most 128 pages in
// flight each way.
const MaxConsoleDepth = 128

// ctlQueue is the control queues' size: control messages are a few a
// session (port added, ready, opened), and each descriptor owns a page.
const ctlQueue = 8

// Console drives one port of a virtio console with MULTIPORT (§5.3.6):
// the port's receive and transmit queues carry the bytes, the control
// queues announce the port and open it. (Port 0, a "virtconsole", would
// need no control queue, but QEMU drops its output when the host side is
// slow; other ports are throttled instead.) Every descriptor owns one DMA
// page for good, so no memory is allocated after NewConsole. Send and
// Receive may run concurrently with each other, not with themselves.
type Console struct {
	t        Transport
	port     uint32
	txMu     sync.Mutex
	rx, tx   *Queue
	rxPages  []Page // by descriptor id
	txPages  []Page
	crx, ctx *Queue // control queues
	cPages   []Page // control buffers: crx by descriptor id, then one for ctx
	rxBroken error
	txBroken error
}

// FeatureMultiport is VIRTIO_CONSOLE_F_MULTIPORT.
const FeatureMultiport = 1 << 1

// Control events (§5.3.6.2).
const (
	ctlDeviceReady = 0
	ctlPortAdd     = 1
	ctlPortReady   = 3
	ctlPortOpen    = 6
)

// portQueues returns the receive and transmit queue numbers of a port.
func portQueues(port uint32) (rx, tx int) {
	if port == 0 {
		return 0, 1
	}
	return int(2*port + 2), int(2*port + 3)
}

// NewConsole initialises the device behind t and opens port, waiting
// (by polling, up to about a second of tries) for the device to add it.
// depth (a power of two, at most MaxConsoleDepth) is how many pages each
// data queue keeps in flight: the console holds 2*depth+ctlQueue+13 DMA
// pages (with the rings) for good.
func NewConsole(t Transport, a Allocator, port uint32, depth uint16, sleep func()) (*Console, error) {
	if depth == 0 || depth > MaxConsoleDepth || depth&(depth-1) != 0 {
		return nil, fmt.Errorf("virtio: bad console depth %d", depth)
	}
	f, err := Start(t, FeatureMultiport)
	if err != nil {
		return nil, err
	}
	if f&FeatureMultiport == 0 {
		t.SetStatus(StatusFailed)
		return nil, fmt.Errorf("virtio: %v does not offer MULTIPORT", t)
	}
	c := &Console{t: t, port: port}
	rxq, txq := portQueues(port)
	queues := map[int]**Queue{2: &c.crx, 3: &c.ctx, rxq: &c.rx, txq: &c.tx}
	for i := 0; i <= txq; i++ {
		max := t.QueueMax(i)
		if max == 0 {
			t.SetStatus(StatusFailed)
			return nil, fmt.Errorf("virtio: %v has no queue %d", t, i)
		}
		size := depth
		if i == 2 || i == 3 {
			size = ctlQueue
		}
		for size > max {
			size >>= 1
		}
		if queues[i] == nil {
			continue // another port's queue: left off
		}
		q, err := NewQueue(size, a)
		if err != nil {
			return nil, err
		}
		*queues[i] = q
		n := int(size)
		if i == 2 {
			n = int(size) + 1
		} else if i == 3 {
			n = 0
		}
		for j := 0; j < n; j++ {
			p, err := a.AllocPage()
			if err != nil {
				return nil, err
			}
			switch i {
			case rxq:
				c.rxPages = append(c.rxPages, p)
			case txq:
				c.txPages = append(c.txPages, p)
			default:
				c.cPages = append(c.cPages, p)
			}
		}
		t.EnableQueue(i, q)
	}
	for _, r := range []struct {
		q     *Queue
		pages []Page
	}{{c.rx, c.rxPages}, {c.crx, c.cPages}} {
		for {
			id, ok := r.q.PeekFree()
			if !ok {
				break
			}
			r.q.Add(r.pages[id].Phys, PageSize, true)
		}
	}
	Ready(t)
	c.rx.Publish()
	c.crx.Publish()
	t.Notify(rxq)
	t.Notify(2)
	if err := c.control(0, ctlDeviceReady, 1, sleep); err != nil {
		return nil, err
	}
	added := false
	for try := 0; try < 1000 && !added; try++ {
		id, n, ok, err := c.crx.Used()
		if err != nil {
			return nil, fmt.Errorf("%v, control queue: %v", c, err)
		}
		if !ok {
			sleep()
			continue
		}
		if n >= 8 {
			b := c.cPages[id].Buf
			added = le32(b) == port && le16(b[4:]) == ctlPortAdd
		}
		c.crx.Add(c.cPages[id].Phys, PageSize, true)
		c.crx.Publish()
		t.Notify(2)
	}
	if !added {
		return nil, fmt.Errorf("%v: the device never added port %d (is there a virtserialport with nr=%d?)", c, port, port)
	}
	if err := c.control(port, ctlPortReady, 1, sleep); err != nil {
		return nil, err
	}
	if err := c.control(port, ctlPortOpen, 1, sleep); err != nil {
		return nil, err
	}
	return c, nil
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }

// control sends one control message and waits for the device to take it.
func (c *Console) control(id uint32, event, value uint16, sleep func()) error {
	p := c.cPages[len(c.cPages)-1]
	b := p.Buf
	b[0], b[1], b[2], b[3] = byte(id), byte(id>>8), byte(id>>16), byte(id>>24)
	b[4], b[5], b[6], b[7] = byte(event), byte(event>>8), byte(value), byte(value>>8)
	c.ctx.Add(p.Phys, 8, false)
	c.ctx.Publish()
	c.t.Notify(3)
	for try := 0; try < 1000; try++ {
		_, _, ok, err := c.ctx.Used()
		if err != nil {
			return fmt.Errorf("%v, control queue: %v", c, err)
		}
		if ok {
			return nil
		}
		sleep()
	}
	return fmt.Errorf("%v: the device did not take control message %d", c, event)
}

func (c *Console) String() string { return "virtio console on " + c.t.String() }

// reclaim takes back transmit pages the device is done with (txMu held).
func (c *Console) reclaim() error {
	if c.txBroken != nil {
		return c.txBroken
	}
	for {
		_, _, ok, err := c.tx.Used()
		if err != nil {
			c.txBroken = fmt.Errorf("%v, transmit queue: %v", c, err)
			return c.txBroken
		}
		if !ok {
			return nil
		}
	}
}

// Send packs the bytes of parts, in order, into free transmit pages and
// hands them to the device with one notification. It returns how many
// bytes it took: fewer than given (maybe 0) when the pages ran out.
func (c *Console) Send(in ...[]byte) (int, error) {
	var local [4][]byte
	parts := append(local[:0], in...) // the caller's slice stays as it was
	c.txMu.Lock()
	defer c.txMu.Unlock()
	if err := c.reclaim(); err != nil {
		return 0, err
	}
	total, added := 0, false
	for len(parts) > 0 {
		id, ok := c.tx.PeekFree()
		if !ok {
			break
		}
		buf := c.txPages[id].Buf
		n := 0
		for len(parts) > 0 && n < len(buf) {
			k := copy(buf[n:], parts[0])
			n += k
			parts[0] = parts[0][k:]
			if len(parts[0]) == 0 {
				parts = parts[1:]
			}
		}
		if n == 0 {
			continue
		}
		c.tx.Add(c.txPages[id].Phys, uint32(n), false)
		total += n
		added = true
	}
	if added {
		c.tx.Publish()
		_, txq := portQueues(c.port)
		c.t.Notify(txq)
	}
	return total, nil
}

// InFlight is how many transmit pages the device still holds.
func (c *Console) InFlight() (int, error) {
	c.txMu.Lock()
	defer c.txMu.Unlock()
	if err := c.reclaim(); err != nil {
		return 0, err
	}
	return int(c.tx.Size) - c.tx.Free(), nil
}

// Receive passes each buffer the device filled to fn, then gives the
// pages back to the device. It returns the number of bytes received.
func (c *Console) Receive(fn func([]byte)) (int, error) {
	if c.rxBroken != nil {
		return 0, c.rxBroken
	}
	total, n := 0, 0
	for {
		id, length, ok, err := c.rx.Used()
		if err != nil {
			c.rxBroken = fmt.Errorf("%v, receive queue: %v", c, err)
			return total, c.rxBroken
		}
		if !ok {
			break
		}
		if length > PageSize {
			c.rxBroken = fmt.Errorf("%v, receive queue: device wrote %d bytes into a %d-byte buffer", c, length, PageSize)
			return total, c.rxBroken
		}
		fn(c.rxPages[id].Buf[:length])
		total += int(length)
		c.rx.Add(c.rxPages[id].Phys, PageSize, true)
		n++
	}
	if n > 0 {
		c.rx.Publish()
		rxq, _ := portQueues(c.port)
		c.t.Notify(rxq)
	}
	return total, nil
}
