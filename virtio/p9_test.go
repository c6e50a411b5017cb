package virtio

import (
	"bytes"
	"encoding/binary"
	"sync"
	"testing"
)

// memory is a fake physical memory of DMA pages.
type memory struct {
	mu    sync.Mutex
	pages map[uint64][]byte
}

func (m *memory) AllocPage() (Page, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pages == nil {
		m.pages = make(map[uint64][]byte)
	}
	phys := uint64(len(m.pages)+1) * PageSize
	b := make([]byte, PageSize)
	m.pages[phys] = b
	return Page{Phys: phys, Buf: b}, nil
}

// p9Device is a device model of a virtio 9P transport: on each notify
// it answers every available chain with reply(request).
type p9Device struct {
	mem    *memory
	q      *Queue
	tag    string
	status uint8
	seen   uint16
	reply  func(req []byte) []byte
	badID  bool // return a descriptor id that is not in flight
}

func (d *p9Device) DeviceFeatures() uint64   { return FeatureVersion1 | FeatureMountTag }
func (d *p9Device) SetDriverFeatures(uint64) {}
func (d *p9Device) Status() uint8            { return d.status }
func (d *p9Device) SetStatus(s uint8)        { d.status = s }
func (d *p9Device) QueueMax(i int) uint16 {
	if i == 0 {
		return 128
	}
	return 0
}
func (d *p9Device) EnableQueue(i int, q *Queue) { d.q = q }
func (d *p9Device) String() string              { return "model" }
func (d *p9Device) Config8(off uintptr) uint8 {
	cfg := append([]byte{byte(len(d.tag)), 0}, d.tag...)
	if int(off) < len(cfg) {
		return cfg[off]
	}
	return 0
}

func (d *p9Device) Notify(int) {
	le := binary.LittleEndian
	q := d.q
	for idx := le.Uint16(q.avail[2:]); d.seen != idx; d.seen++ {
		head := le.Uint16(q.avail[4+2*int(d.seen%q.Size):])
		var req []byte
		var in [][]byte
		for id := head; ; {
			desc := q.desc[16*int(id):]
			buf := d.mem.pages[le.Uint64(desc)][:le.Uint32(desc[8:])]
			flags := le.Uint16(desc[12:])
			if flags&descWrite != 0 {
				in = append(in, buf)
			} else {
				req = append(req, buf...)
			}
			if flags&descNext == 0 {
				break
			}
			id = le.Uint16(desc[14:])
		}
		resp := d.reply(req)
		n := 0
		for _, b := range in {
			n += copy(b, resp[n:])
		}
		if d.badID {
			head = q.Size + 3
		}
		u := q.used[4+8*int(le.Uint16(q.used[2:])%q.Size):]
		le.PutUint32(u, uint32(head))
		le.PutUint32(u[4:], uint32(len(resp)))
		le.PutUint16(q.used[2:], le.Uint16(q.used[2:])+1)
	}
}

func TestP9RoundTrip(t *testing.T) {
	mem := &memory{}
	d := &p9Device{mem: mem, tag: "share0", reply: func(req []byte) []byte {
		r := append([]byte(nil), req...)
		r[4]++
		return r
	}}
	p, err := NewP9(d, mem, func() {})
	if err != nil {
		t.Fatal(err)
	}
	if p.Tag() != "share0" || p.MaxMessage() != P9MessageSize {
		t.Fatalf("tag %q msize %d", p.Tag(), p.MaxMessage())
	}
	for _, n := range []int{7, 4096, 4097, 30000, P9MessageSize} {
		req := bytes.Repeat([]byte{byte(n)}, n)
		req[4] = 100
		resp, err := p.RoundTrip(req)
		if err != nil || len(resp) != n || resp[4] != 101 || !bytes.Equal(resp[5:], req[5:]) {
			t.Fatalf("%d bytes: got %d bytes, %v", n, len(resp), err)
		}
	}
	if _, err := p.RoundTrip(make([]byte, P9MessageSize+1)); err == nil {
		t.Fatal("oversized request accepted")
	}
	if p.q.Free() != int(p.q.Size) {
		t.Fatalf("%d descriptors leaked", int(p.q.Size)-p.q.Free())
	}
	// A reply longer than the buffers, then a device that breaks the ring.
	d.reply = func([]byte) []byte { return make([]byte, P9MessageSize+100) }
	if _, err := p.RoundTrip(make([]byte, 7)); err == nil {
		t.Fatal("overlong reply accepted")
	}
	d.badID = true
	if _, err := p.RoundTrip(make([]byte, 7)); err == nil {
		t.Fatal("bad descriptor id accepted")
	}
	if _, err := p.RoundTrip(make([]byte, 7)); err == nil {
		t.Fatal("a broken device keeps working")
	}
}
