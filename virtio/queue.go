// Package virtio is a small driver core for VIRTIO 1.x devices (OASIS
// "Virtual I/O Device (VIRTIO) Version 1.1"): split virtqueues (§2.6),
// the device initialisation sequence (§3.1), the virtio-mmio (§4.2) and
// virtio-pci (§4.1, modern capabilities only) transports, and the
// console device (§5.3) with one port. It is plain Go over two seams, a
// register window (Regs) and DMA pages (Allocator), so it is tested on the
// host with a device model; the kernel supplies the real ones.
package virtio

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"unsafe"
)

// PageSize is the size of a DMA page.
const PageSize = 4096

// Page is one DMA page: its physical address and the driver's view of it.
type Page struct {
	Phys uint64
	Buf  []byte // PageSize bytes
}

// Allocator hands out zeroed DMA pages.
type Allocator interface {
	AllocPage() (Page, error)
}

// Descriptor flags (§2.6.5).
const (
	descNext  = 1
	descWrite = 2 // the device writes the buffer
)

// Queue is a split virtqueue of Size entries, each area in its own page
// (so Size is at most 256).
type Queue struct {
	Size                          uint16
	DescPhys, AvailPhys, UsedPhys uint64
	desc, avail, used             []byte
	free                          []uint16 // descriptor ids not in flight
	inFlight                      []bool
	next                          []int32 // chains: the descriptor after each (-1: none); nil until AddChain
	availIdx, lastUsed            uint16
	availFlags                    uint16 // VIRTQ_AVAIL_F_NO_INTERRUPT or 0, published with the index
}

// availNoInterrupt is VIRTQ_AVAIL_F_NO_INTERRUPT (§2.6.7): the driver
// asks the device not to interrupt when it uses a buffer (a hint: the
// device may interrupt anyway).
const availNoInterrupt = 1

// NewQueue allocates a queue of size entries (a power of two, at most 256).
func NewQueue(size uint16, a Allocator) (*Queue, error) {
	if size == 0 || size > 256 || size&(size-1) != 0 {
		return nil, fmt.Errorf("virtio: bad queue size %d", size)
	}
	var pages [3]Page
	for i := range pages {
		p, err := a.AllocPage()
		if err != nil {
			return nil, err
		}
		pages[i] = p
	}
	q := &Queue{
		Size: size, desc: pages[0].Buf, avail: pages[1].Buf, used: pages[2].Buf,
		DescPhys: pages[0].Phys, AvailPhys: pages[1].Phys, UsedPhys: pages[2].Phys,
		inFlight: make([]bool, size),
	}
	for i := int(size) - 1; i >= 0; i-- {
		q.free = append(q.free, uint16(i))
	}
	return q, nil
}

// Free is the number of descriptors not in flight.
func (q *Queue) Free() int { return len(q.free) }

// PeekFree returns the id the next Add will use.
func (q *Queue) PeekFree() (uint16, bool) {
	if len(q.free) == 0 {
		return 0, false
	}
	return q.free[len(q.free)-1], true
}

// Add makes the buffer [phys, phys+n) available (not yet published: see
// Publish) and returns its descriptor id.
func (q *Queue) Add(phys uint64, n uint32, deviceWrites bool) (uint16, bool) {
	if len(q.free) == 0 {
		return 0, false
	}
	id := q.free[len(q.free)-1]
	q.free = q.free[:len(q.free)-1]
	d := q.desc[16*int(id):]
	le := binary.LittleEndian
	le.PutUint64(d[0:], phys)
	le.PutUint32(d[8:], n)
	flags := uint16(0)
	if deviceWrites {
		flags = descWrite
	}
	le.PutUint16(d[12:], flags)
	le.PutUint16(d[14:], 0)
	le.PutUint16(q.avail[4+2*int(q.availIdx%q.Size):], id)
	q.availIdx++
	q.inFlight[id] = true
	return id, true
}

// Publish makes the buffers added so far visible to the device: one
// atomic store of the avail ring's flags and index (a full barrier on
// x86, so the descriptors are written before it).
func (q *Queue) Publish() {
	atomic.StoreUint32(word(q.avail), uint32(q.availIdx)<<16|uint32(q.availFlags))
}

// SetInterrupts asks the device to interrupt (on) or not (off) when it
// uses buffers of this queue, at once. The store is a full barrier, so
// a driver that turns interrupts on and then finds no used buffer
// (Pending) is sure to be interrupted for the next one.
func (q *Queue) SetInterrupts(on bool) {
	q.availFlags = availNoInterrupt
	if on {
		q.availFlags = 0
	}
	q.Publish()
}

// Pending reports whether the device has used buffers that Used has not
// returned yet.
func (q *Queue) Pending() bool {
	return uint16(atomic.LoadUint32(word(q.used))>>16) != q.lastUsed
}

// Used returns the next buffer the device has finished with, if any. A
// device that returns an unknown descriptor or runs the used index ahead
// of what was made available is an error.
func (q *Queue) Used() (id uint16, n uint32, ok bool, err error) {
	idx := uint16(atomic.LoadUint32(word(q.used)) >> 16)
	if idx == q.lastUsed {
		return 0, 0, false, nil
	}
	if idx-q.lastUsed > q.Size {
		return 0, 0, false, fmt.Errorf("virtio: used index %d runs ahead of %d by more than the queue size %d", idx, q.lastUsed, q.Size)
	}
	e := q.used[4+8*int(q.lastUsed%q.Size):]
	le := binary.LittleEndian
	id32, n := le.Uint32(e[0:]), le.Uint32(e[4:])
	if id32 >= uint32(q.Size) || !q.inFlight[id32] {
		return 0, 0, false, fmt.Errorf("virtio: device returned descriptor %d, which is not in flight", id32)
	}
	q.lastUsed++
	id = uint16(id32)
	q.inFlight[id] = false
	q.free = append(q.free, id)
	if q.next != nil {
		for d := q.next[id]; d >= 0; {
			nx := q.next[d]
			q.next[d] = -1
			q.free = append(q.free, uint16(d))
			d = nx
		}
		q.next[id] = -1
	}
	return id, n, true, nil
}

// Buffer is one part of a descriptor chain.
type Buffer struct {
	Phys         uint64
	Len          uint32
	DeviceWrites bool
}

// AddChain makes bufs one available buffer, a descriptor chain (§2.6.5:
// the parts the device reads first, then those it writes), not yet
// published, and returns its head's id. Used returns the head and frees
// the whole chain.
func (q *Queue) AddChain(bufs []Buffer) (uint16, bool) {
	if len(bufs) == 0 || len(bufs) > len(q.free) {
		return 0, false
	}
	if q.next == nil {
		q.next = make([]int32, q.Size)
		for i := range q.next {
			q.next[i] = -1
		}
	}
	ids := q.free[len(q.free)-len(bufs):]
	q.free = q.free[:len(q.free)-len(bufs)]
	le := binary.LittleEndian
	for k, b := range bufs {
		id := ids[len(ids)-1-k]
		d := q.desc[16*int(id):]
		le.PutUint64(d[0:], b.Phys)
		le.PutUint32(d[8:], b.Len)
		flags, next := uint16(0), uint16(0)
		if b.DeviceWrites {
			flags |= descWrite
		}
		if k+1 < len(bufs) {
			flags |= descNext
			next = ids[len(ids)-2-k]
			q.next[id] = int32(next)
		}
		le.PutUint16(d[12:], flags)
		le.PutUint16(d[14:], next)
	}
	head := ids[len(ids)-1]
	le.PutUint16(q.avail[4+2*int(q.availIdx%q.Size):], head)
	q.availIdx++
	q.inFlight[head] = true
	return head, true
}

// word is the 32-bit word at the start of b (flags and index of a ring).
func word(b []byte) *uint32 { return (*uint32)(unsafe.Pointer(&b[0])) }
