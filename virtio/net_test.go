package virtio

import (
	"bytes"
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"
)

// netDevice is a device model of a virtio network card: Notify(1) takes
// every available transmit buffer into sent; inject fills the next
// receive buffer.
type netDevice struct {
	mem      *memory
	q        [2]*Queue
	status   uint8
	seen     [2]uint16
	mac      [6]byte
	sent     [][]byte
	badID    bool
	holdTx   bool // keep transmit buffers (a slow device)
	notifies int
}

func (d *netDevice) DeviceFeatures() uint64   { return FeatureVersion1 | FeatureNetMAC }
func (d *netDevice) SetDriverFeatures(uint64) {}
func (d *netDevice) Status() uint8            { return d.status }
func (d *netDevice) SetStatus(s uint8)        { d.status = s }
func (d *netDevice) QueueMax(i int) uint16 {
	if i < 2 {
		return 64
	}
	return 0
}
func (d *netDevice) EnableQueue(i int, q *Queue) { d.q[i] = q }
func (d *netDevice) String() string              { return "net model" }
func (d *netDevice) Config8(off uintptr) uint8 {
	if off < 6 {
		return d.mac[off]
	}
	return 0
}

// take returns the next available buffer of queue i.
func (d *netDevice) take(i int) (head uint16, buf []byte, ok bool) {
	le := binary.LittleEndian
	q := d.q[i]
	if le.Uint16(q.avail[2:]) == d.seen[i] {
		return 0, nil, false
	}
	head = le.Uint16(q.avail[4+2*int(d.seen[i]%q.Size):])
	d.seen[i]++
	desc := q.desc[16*int(head):]
	return head, d.mem.pages[le.Uint64(desc)][:le.Uint32(desc[8:])], true
}

func (d *netDevice) used(i int, head uint16, n uint32) {
	le := binary.LittleEndian
	q := d.q[i]
	if d.badID {
		head = q.Size + 1
	}
	u := q.used[4+8*int(le.Uint16(q.used[2:])%q.Size):]
	le.PutUint32(u, uint32(head))
	le.PutUint32(u[4:], n)
	le.PutUint16(q.used[2:], le.Uint16(q.used[2:])+1)
}

func (d *netDevice) Notify(i int) {
	d.notifies++
	if i != 1 || d.holdTx {
		return
	}
	for {
		head, buf, ok := d.take(1)
		if !ok {
			return
		}
		d.sent = append(d.sent, append([]byte(nil), buf...))
		d.used(1, head, 0)
	}
}

// inject writes raw (header included) into the next receive buffer;
// length is what the device claims it wrote.
func (d *netDevice) inject(raw []byte, length uint32) bool {
	head, buf, ok := d.take(0)
	if !ok {
		return false
	}
	copy(buf, raw)
	d.used(0, head, length)
	return true
}

func frame(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }

func TestNetSendReceive(t *testing.T) {
	mem := &memory{}
	d := &netDevice{mem: mem, mac: [6]byte{2, 0, 0, 0, 0, 9}}
	n, err := NewNet(d, mem, func() {})
	if err != nil {
		t.Fatal(err)
	}
	if n.MAC() != d.mac || d.status&StatusDriverOK == 0 {
		t.Fatalf("mac %x status %#x", n.MAC(), d.status)
	}
	for _, size := range []int{14, 60, 1514} {
		if err := n.Send(frame(size, byte(size))); err != nil {
			t.Fatal(err)
		}
		got := d.sent[len(d.sent)-1]
		if len(got) != netHdrLen+size || !bytes.Equal(got[:netHdrLen], make([]byte, netHdrLen)) || got[netHdrLen] != byte(size) {
			t.Fatalf("sent %d bytes, device saw %d", size, len(got))
		}
	}
	for _, size := range []int{13, 1515} {
		if n.Send(frame(size, 1)) != ErrFrameSize {
			t.Fatalf("frame of %d bytes accepted", size)
		}
	}
	if err := n.SendParts(frame(14, 1), frame(100, 2)); err != nil || len(d.sent[len(d.sent)-1]) != netHdrLen+114 {
		t.Fatal("SendParts", err)
	}
	// Receive: good frames, then buffers the driver must drop.
	good := append(make([]byte, netHdrLen), frame(60, 7)...)
	for i := 0; i < 200; i++ { // more than the queue: buffers are reposted
		if !d.inject(good, uint32(len(good))) {
			t.Fatalf("no receive buffer at %d", i)
		}
		var got [][]byte
		if k, err := n.Receive(func(f []byte) { got = append(got, append([]byte(nil), f...)) }); k != 1 || err != nil {
			t.Fatal(k, err)
		}
		if len(got) != 1 || !bytes.Equal(got[0], good[netHdrLen:]) {
			t.Fatalf("received %x", got)
		}
	}
	d.inject(good, 5)           // shorter than the header
	d.inject(good, PageSize+1)  // longer than the buffer
	d.inject(good, netHdrLen+3) // no Ethernet header
	if k, _ := n.Receive(func([]byte) { t.Fatal("bad frame delivered") }); k != 3 {
		t.Fatalf("reaped %d", k)
	}
	if s := n.Stats(); s.Dropped != 3 || s.Received != 200 || s.Sent != 4 {
		t.Fatalf("stats %+v", s)
	}
	if n.rx.Free() != 0 {
		t.Fatalf("%d receive buffers not posted", n.rx.Free())
	}
	// A device that holds transmit buffers: Send waits, then goes on.
	d.holdTx = true
	waits := 0
	n.txWait = func() {
		waits++
		d.holdTx = false
		d.Notify(1)
	}
	for i := 0; i < int(n.tx.Size)+1; i++ {
		if err := n.Send(frame(60, 1)); err != nil {
			t.Fatal(err)
		}
	}
	if waits != 1 {
		t.Fatalf("%d waits", waits)
	}
	// A broken ring is an error for good.
	d.badID = true
	d.inject(good, uint32(len(good)))
	if _, err := n.Receive(func([]byte) {}); err == nil {
		t.Fatal("bad descriptor id accepted")
	}
	if _, err := n.Receive(func([]byte) {}); err == nil {
		t.Fatal("broken receive queue keeps working")
	}
}

// FuzzNetReceive feeds the driver arbitrary buffers and claimed lengths:
// it must never deliver more than the buffer or panic.
func FuzzNetReceive(f *testing.F) {
	f.Add([]byte{}, uint32(0))
	f.Add(make([]byte, 100), uint32(100))
	f.Add(make([]byte, 10), uint32(1<<31))
	f.Fuzz(func(t *testing.T, raw []byte, length uint32) {
		mem := &memory{}
		d := &netDevice{mem: mem}
		n, err := NewNet(d, mem, func() {})
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) > PageSize {
			raw = raw[:PageSize]
		}
		d.inject(raw, length)
		n.Receive(func(fr []byte) {
			if len(fr) < 14 || len(fr) > PageSize-netHdrLen {
				t.Fatalf("delivered %d bytes", len(fr))
			}
		})
	})
}

// TestNetWaitReceive checks the interrupt protocol: both queues ask for
// no interrupt while nobody waits, the receive queue asks for one while
// WaitReceive sleeps, and a buffer used before the wait (which would
// raise no interrupt) ends it at once.
func TestNetWaitReceive(t *testing.T) {
	mem := &memory{}
	d := &netDevice{mem: mem}
	n, err := NewNet(d, mem, func() {})
	if err != nil {
		t.Fatal(err)
	}
	flags := func(i int) uint32 { return atomic.LoadUint32(word(d.q[i].avail)) & 0xffff }
	if flags(0) != availNoInterrupt || flags(1) != availNoInterrupt {
		t.Fatalf("avail flags rx %d tx %d, want NO_INTERRUPT on both", flags(0), flags(1))
	}
	irq := make(chan struct{}, 1)
	n.SetInterrupt(irq)
	good := append(make([]byte, netHdrLen), frame(60, 7)...)
	d.inject(good, uint32(len(good)))
	n.WaitReceive(nil) // a used buffer: returns without an interrupt
	if k, _ := n.Receive(func([]byte) {}); k != 1 {
		t.Fatalf("received %d", k)
	}
	done := make(chan struct{})
	go func() { n.WaitReceive(nil); close(done) }()
	for flags(0) != 0 {
		time.Sleep(time.Millisecond) // until the waiter asked for an interrupt
	}
	select {
	case <-done:
		t.Fatal("WaitReceive returned with nothing received and no interrupt")
	case <-time.After(20 * time.Millisecond):
	}
	irq <- struct{}{}
	<-done
	if flags(0) != availNoInterrupt {
		t.Fatalf("rx avail flags %d after the wait", flags(0))
	}
	stop := make(chan struct{})
	close(stop)
	n.WaitReceive(stop) // returns: stop is closed
}
