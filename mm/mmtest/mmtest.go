// Package mmtest has test helpers for code that uses package mm: a fake
// physical memory over Go memory and a ready-made address space.
package mmtest

import (
	"fmt"
	"sync"
	"testing"
	"unsafe"

	"yolk/mm"
)

const (
	chunkFrames = 64
	physBase    = 1 << 32 // the first frame's fake physical address
)

type frame struct {
	refs     uint32
	nextFree int32 // index+1 of the next free frame, 0 at the end
}

// page is a frame's contents: uint64 so that page tables stored there are
// aligned.
type page [512]uint64

// Phys is a fake mm.Phys over Go memory, with at most maxFrames frames in
// use at once. Storage grows in chunks and freed frames are reused, so
// once grown (see Grow) its methods do not allocate. A misuse of a
// reference count (a double free, a reference to a free frame) panics.
type Phys struct {
	mu       sync.Mutex
	max      int
	chunks   [][]frame
	pages    [][]page // the chunks' frames' contents
	chunk    int      // frames per chunk
	direct   bool     // NewDirectPhys: one chunk, allocated at once
	next     int      // frames ever handed out from the chunks
	freeHead int32    // index+1 of the first free frame
	inUse    int
	peak     int
}

// NewPhys returns a fake physical memory of maxFrames frames.
func NewPhys(maxFrames int) *Phys { return &Phys{max: maxFrames, chunk: chunkFrames} }

// NewDirectPhys returns a fake physical memory of maxFrames frames in one
// block of Go memory, allocated now, so that a frame's contents are also
// at DirectMap()+phys, as a kernel's direct map makes them.
func NewDirectPhys(maxFrames int) *Phys {
	p := &Phys{max: maxFrames, chunk: maxFrames, direct: true}
	p.chunks = [][]frame{make([]frame, maxFrames)}
	p.pages = [][]page{make([]page, maxFrames)}
	return p
}

// DirectMap returns what mm.Config.DirectMap is for a Phys from
// NewDirectPhys, 0 for others.
func (p *Phys) DirectMap() uint64 {
	if !p.direct {
		return 0
	}
	return uint64(uintptr(unsafe.Pointer(&p.pages[0][0]))) - physBase
}

// InUse returns how many frames are allocated.
func (p *Phys) InUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inUse
}

// Peak returns the most frames ever in use at once.
func (p *Phys) Peak() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak
}

// SetMax changes the frame limit (frames already in use stay).
func (p *Phys) SetMax(maxFrames int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.max = maxFrames
}

// Grow makes room for n frames without allocating later.
func (p *Phys) Grow(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.chunks)*p.chunk < n {
		p.chunks = append(p.chunks, make([]frame, p.chunk))
		p.pages = append(p.pages, make([]page, p.chunk))
	}
}

func (p *Phys) frame(phys uint64) *frame {
	i := int((phys - physBase) >> 12)
	if phys < physBase || phys&4095 != 0 || i >= p.next {
		panic(fmt.Sprintf("mmtest: bad physical address %#x", phys))
	}
	return &p.chunks[i/p.chunk][i%p.chunk]
}

// Alloc implements mm.Phys.
func (p *Phys) Alloc() (uint64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inUse >= p.max {
		return 0, false
	}
	var i int
	if p.freeHead != 0 {
		i = int(p.freeHead - 1)
		f := &p.chunks[i/p.chunk][i%p.chunk]
		p.freeHead = f.nextFree
	} else {
		i = p.next
		p.next++
		if i/p.chunk >= len(p.chunks) {
			p.chunks = append(p.chunks, make([]frame, p.chunk))
			p.pages = append(p.pages, make([]page, p.chunk))
		}
	}
	f := &p.chunks[i/p.chunk][i%p.chunk]
	p.pages[i/p.chunk][i%p.chunk] = page{}
	f.refs = 1
	f.nextFree = 0
	p.inUse++
	p.peak = max(p.peak, p.inUse)
	return physBase + uint64(i)<<12, true
}

// IncRef implements mm.Phys.
func (p *Phys) IncRef(phys uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.frame(phys)
	if f.refs == 0 {
		panic(fmt.Sprintf("mmtest: IncRef of free frame %#x", phys))
	}
	f.refs++
}

// DecRef implements mm.Phys.
func (p *Phys) DecRef(phys uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.frame(phys)
	if f.refs == 0 {
		panic(fmt.Sprintf("mmtest: DecRef of free frame %#x", phys))
	}
	f.refs--
	if f.refs == 0 {
		f.nextFree = p.freeHead
		p.freeHead = int32((phys-physBase)>>12) + 1
		p.inUse--
	}
}

// Refs implements mm.Phys.
func (p *Phys) Refs(phys uint64) uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.frame(phys).refs
}

// Page implements mm.Phys. Pages of free frames are still returned (a
// stale pointer is the caller's bug, as on hardware).
func (p *Phys) Page(phys uint64) *[4096]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frame(phys) // checks phys
	i := int((phys - physBase) >> 12)
	return (*[4096]byte)(unsafe.Pointer(&p.pages[i/p.chunk][i%p.chunk]))
}

// Window and mmap base as the kernel uses them.
const (
	Lo      = 0x10000
	Hi      = 0x7ffffffff000
	MmapTop = 0x7ffff7fff000
)

// NewAS returns an address space over a new fake Phys of 1<<22 frames
// (16 GiB), released when the test ends.
func NewAS(t testing.TB) *mm.AddressSpace {
	return NewASPhys(t, NewPhys(1<<22))
}

// NewASPhys is NewAS over p.
func NewASPhys(t testing.TB, p *Phys) *mm.AddressSpace {
	t.Helper()
	as, err := mm.New(mm.Config{Phys: p, Lo: Lo, Hi: Hi, MmapTop: MmapTop, DirectMap: p.DirectMap()})
	if err != nil {
		t.Fatalf("mm.New: %v", err)
	}
	t.Cleanup(as.Release)
	return as
}
