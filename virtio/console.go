package virtio

import (
	"fmt"
	"sync"
)

// DeviceConsole is the virtio device ID of a console (§5.3).
const DeviceConsole = 3

// maxQueue caps the queues' size: 128 pages in flight each way.
const maxQueue = 128

// Console drives port 0 of a virtio console without MULTIPORT: queue 0
// receives, queue 1 transmits (§5.3.2). Every descriptor owns one DMA
// page for good, so no memory is allocated after NewConsole. Send and
// Receive may run concurrently with each other, not with themselves.
type Console struct {
	t        Transport
	txMu     sync.Mutex
	rx, tx   *Queue
	rxPages  []Page // by descriptor id
	txPages  []Page
	rxBroken error
	txBroken error
}

// NewConsole initialises the device behind t.
func NewConsole(t Transport, a Allocator) (*Console, error) {
	if _, err := Start(t, 0); err != nil {
		return nil, err
	}
	c := &Console{t: t}
	queues := [2]**Queue{&c.rx, &c.tx}
	pages := [2]*[]Page{&c.rxPages, &c.txPages}
	for i := range queues {
		max := t.QueueMax(i)
		if max == 0 {
			t.SetStatus(StatusFailed)
			return nil, fmt.Errorf("virtio: %v has no queue %d", t, i)
		}
		size := uint16(maxQueue)
		for size > max {
			size >>= 1
		}
		q, err := NewQueue(size, a)
		if err != nil {
			return nil, err
		}
		*queues[i] = q
		for j := 0; j < int(size); j++ {
			p, err := a.AllocPage()
			if err != nil {
				return nil, err
			}
			*pages[i] = append(*pages[i], p)
		}
		t.EnableQueue(i, q)
	}
	for {
		id, ok := c.rx.PeekFree()
		if !ok {
			break
		}
		c.rx.Add(c.rxPages[id].Phys, PageSize, true)
	}
	Ready(t)
	c.rx.Publish()
	t.Notify(0)
	return c, nil
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
func (c *Console) Send(parts ...[]byte) (int, error) {
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
		c.t.Notify(1)
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
		c.t.Notify(0)
	}
	return total, nil
}
