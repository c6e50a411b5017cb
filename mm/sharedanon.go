package mm

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// sharedAnon is anonymous shared memory (MAP_SHARED|MAP_ANONYMOUS): pages
// allocated zeroed on first use and kept until the last reference goes.
type sharedAnon struct {
	phys  Phys
	size  uint64 // page aligned
	refs  atomic.Int64
	mu    sync.Mutex
	pages map[uint64]uint64 // page offset → frame (one reference held here)
}

// NewSharedAnon returns anonymous shared memory of size bytes, with one
// reference for the caller: its pages are allocated zeroed on first use
// and freed when the last reference goes. Pages past size raise SIGBUS,
// as Linux's do.
func NewSharedAnon(phys Phys, size uint64) Backing {
	s := &sharedAnon{phys: phys, size: pageUp(size), pages: make(map[uint64]uint64)}
	if s.size < size {
		s.size = ^uint64(0) &^ pageMask
	}
	s.refs.Store(1)
	return s
}

func (s *sharedAnon) Page(off uint64) (uint64, error) {
	if off >= s.size {
		return 0, ErrBeyondEOF
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pages[off]
	if !ok {
		if p, ok = s.phys.Alloc(); !ok {
			return 0, unix.ENOMEM
		}
		s.pages[off] = p
	}
	s.phys.IncRef(p)
	return p, nil
}

func (s *sharedAnon) IncRef() { s.refs.Add(1) }

func (s *sharedAnon) DecRef() {
	switch n := s.refs.Add(-1); {
	case n > 0:
		return
	case n < 0:
		panic("mm: shared memory released twice")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for off, p := range s.pages {
		s.phys.DecRef(p)
		delete(s.pages, off)
	}
}
