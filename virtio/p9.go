package virtio

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// DeviceP9 is the virtio device ID of a 9P transport (§5.11 of
// VIRTIO 1.2; absent from 1.1's list of specified devices but long
// assigned).
const DeviceP9 = 9

// FeatureMountTag is VIRTIO_9P_MOUNT_TAG: the configuration holds the
// share's tag (le16 length, then the bytes).
const FeatureMountTag = 1 << 0

// P9MessageSize is the msize a P9 offers: 64 KiB moves file data in
// large pieces for 32 pages per request slot.
const P9MessageSize = 64 << 10

// maxTag bounds the mount tag read from the configuration.
const maxTag = 64

// P9 drives a virtio 9P transport: one request queue on which each 9P
// request is a descriptor chain of device-readable pages holding the
// request and device-writable pages for the reply (the device answers
// in the same chain, so replies need no framing of their own).
//
// A fixed number of slots, each owning its pages for good, bound the
// requests in flight; RoundTrip waits for a free slot. The driver first
// looks at the used ring while yielding the processor, so a quick reply
// costs little; then it waits for the device's interrupt (SetInterrupt:
// a goroutine reaps the ring on each one and wakes the requests it
// finished), or, without one, sleeps between looks, so a slow reply (a
// read on a host FIFO) costs no CPU.
type P9 struct {
	t     Transport
	tag   string
	msize uint32
	sleep func()

	free chan *p9Slot

	mu     sync.Mutex
	q      *Queue
	byHead map[uint16]*p9Slot
	broken error
	irq    bool // SetInterrupt was called: a goroutine reaps on interrupts
}

type p9Slot struct {
	out, in []Page
	done    bool
	n       uint32        // bytes the device wrote
	wake    chan struct{} // closed when done
}

// p9IRQCheck bounds a wait for the interrupt: the ring is looked at
// again after it, in case an interrupt was lost.
const p9IRQCheck = 50 * time.Millisecond

// SetInterrupt gives the driver the device's interrupt: irq receives a
// value after the device interrupted. Call it once, before RoundTrip.
func (p *P9) SetInterrupt(irq <-chan struct{}) {
	p.mu.Lock()
	p.irq = true
	p.mu.Unlock()
	go func() {
		for range irq {
			p.mu.Lock()
			p.reap()
			p.mu.Unlock()
		}
	}()
}

// NewP9 initialises the 9P device behind t. sleep is the pause between
// polls once a reply is slow in coming.
func NewP9(t Transport, a Allocator, sleep func()) (*P9, error) {
	f, err := Start(t, FeatureMountTag)
	if err != nil {
		return nil, err
	}
	p := &P9{t: t, sleep: sleep, byHead: make(map[uint16]*p9Slot)}
	if f&FeatureMountTag != 0 {
		if c, ok := t.(interface{ Config8(uintptr) uint8 }); ok {
			n := int(c.Config8(0)) | int(c.Config8(1))<<8
			if n > maxTag {
				t.SetStatus(StatusFailed)
				return nil, fmt.Errorf("virtio: %v: mount tag of %d bytes", t, n)
			}
			b := make([]byte, n)
			for i := range b {
				b[i] = c.Config8(uintptr(2 + i))
			}
			p.tag = string(b)
		}
	}
	max := t.QueueMax(0)
	if max < 4 {
		t.SetStatus(StatusFailed)
		return nil, fmt.Errorf("virtio: %v has no usable request queue", t)
	}
	size := uint16(MaxConsoleDepth) // a queue of the console's size
	for size > max {
		size >>= 1
	}
	pages := P9MessageSize / PageSize
	for 2*pages > int(size) {
		pages >>= 1
	}
	p.msize = uint32(pages * PageSize)
	slots := min(4, int(size)/(2*pages))
	p.q, err = NewQueue(size, a)
	if err != nil {
		t.SetStatus(StatusFailed)
		return nil, err
	}
	p.free = make(chan *p9Slot, slots)
	for i := 0; i < slots; i++ {
		s := &p9Slot{}
		for j := 0; j < 2*pages; j++ {
			pg, err := a.AllocPage()
			if err != nil {
				t.SetStatus(StatusFailed)
				return nil, err
			}
			if j < pages {
				s.out = append(s.out, pg)
			} else {
				s.in = append(s.in, pg)
			}
		}
		p.free <- s
	}
	t.EnableQueue(0, p.q)
	Ready(t)
	return p, nil
}

// Tag is the share's mount tag ("" if the device gives none).
func (p *P9) Tag() string { return p.tag }

// MaxMessage is the largest request or reply, the msize to negotiate.
func (p *P9) MaxMessage() uint32 { return p.msize }

func (p *P9) String() string { return fmt.Sprintf("virtio 9p %q on %v", p.tag, p.t) }

var errP9TooLarge = errors.New("virtio: 9P request larger than the message size")

// RoundTrip sends one 9P request and returns the reply the device wrote.
// A device that breaks the virtqueue's rules makes this and every later
// call fail.
func (p *P9) RoundTrip(req []byte) ([]byte, error) {
	if len(req) == 0 || len(req) > int(p.msize) {
		return nil, errP9TooLarge
	}
	s := <-p.free
	defer func() { p.free <- s }()
	var bufs [2 * P9MessageSize / PageSize]Buffer
	n := 0
	for rest := req; len(rest) > 0; n++ {
		k := copy(s.out[n].Buf, rest)
		bufs[n] = Buffer{Phys: s.out[n].Phys, Len: uint32(k)}
		rest = rest[k:]
	}
	for _, pg := range s.in {
		bufs[n] = Buffer{Phys: pg.Phys, Len: PageSize, DeviceWrites: true}
		n++
	}
	s.done = false
	s.wake = make(chan struct{})
	p.mu.Lock()
	if p.broken != nil {
		p.mu.Unlock()
		return nil, p.broken
	}
	head, ok := p.q.AddChain(bufs[:n])
	if !ok {
		p.mu.Unlock()
		return nil, fmt.Errorf("%v: no free descriptors", p) // slots make this impossible
	}
	p.byHead[head] = s
	p.q.Publish()
	p.t.Notify(0)
	p.mu.Unlock()

	for try := 0; ; try++ {
		p.mu.Lock()
		err := p.reap()
		done, irq := s.done, p.irq
		p.mu.Unlock()
		if done {
			break
		}
		if err != nil {
			return nil, err // nothing is submitted after this
		}
		switch {
		case try < 200:
			runtime.Gosched()
		case irq:
			t := time.NewTimer(p9IRQCheck)
			select {
			case <-s.wake:
			case <-t.C:
			}
			t.Stop()
		default:
			p.sleep()
		}
	}
	if s.n > p.msize {
		return nil, fmt.Errorf("%v: the device wrote %d bytes into %d", p, s.n, p.msize)
	}
	resp := make([]byte, s.n)
	for i, off := 0, 0; off < len(resp); i++ {
		off += copy(resp[off:], s.in[i].Buf)
	}
	return resp, nil
}

// reap takes the finished chains off the used ring (p.mu held).
func (p *P9) reap() error {
	if p.broken != nil {
		return p.broken
	}
	for {
		head, n, ok, err := p.q.Used()
		if err != nil {
			p.broken = fmt.Errorf("%v: %v", p, err)
			return p.broken
		}
		if !ok {
			return nil
		}
		s := p.byHead[head]
		delete(p.byHead, head)
		if s != nil {
			s.n, s.done = n, true
			close(s.wake)
		}
	}
}
