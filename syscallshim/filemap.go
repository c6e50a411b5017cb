package syscallshim

import (
	"hash/maphash"
	"io"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"yolk/mm"
	"yolk/vfs"
)

// Mappings of files. There is no page cache below the VFS, so the shim
// keeps one of its own for each mapped file: a fileCache holds the file's
// pages that mappings have touched, in frames of the kernel's physical
// memory, and is the mm.Backing of every mapping of the file (shared ones
// map its frames; private ones map them read-only and copy on write, as
// Linux does). It lives while some mapping refers to it.
//
// Coherence with read(2) and write(2) holds at system-call boundaries,
// not instruction by instruction: a read or pread of a file with cached
// pages first writes the dirty ones back (readTo), and a write, pwrite or
// truncate updates or drops the cached pages it covers (the hooks in
// sys_fs.go and sys_path.go). sendfile, copy_file_range, fallocate and
// writes by the host to a host directory bypass the cache.
//
// Dirty tracking is coarse: mm does not report which pages were written,
// so every page handed to a shared mapping of a file opened O_RDWR (the
// only kind that may ever become writable, even through mprotect) counts
// as dirty while such a mapping exists. Writeback skips pages whose
// bytes hash as they did when last read or written (a 64-bit maphash), so
// an msync of an unchanged mapping writes nothing. Dirty pages are written
// back on msync, on every release of a writable shared mapping (munmap,
// the process's exit), before a read of the file and when the last
// mapping goes.

// fileMaps is the table of the files mapped in the system, by inode.
type fileMaps struct {
	mu    sync.Mutex
	n     atomic.Int32 // len(m), read without the lock by the hooks
	m     map[any]*fileCache
	seed  maphash.Seed
	seeds sync.Once
}

// fileCache is one mapped file's pages (see the comment above).
type fileCache struct {
	maps *fileMaps
	key  any
	phys mm.Phys
	refs atomic.Int64 // references through either view

	w fileCacheW // the writable shared view

	mu      sync.Mutex
	writers int64     // references through w
	rf      *vfs.File // the file pages are read from
	wf      *vfs.File // a writable description to write back through, once w is used
	size    int64     // the file's size as last seen
	pages   map[uint64]*cachedPage
	buf     [4096]byte
}

// cachedPage is a page of the file in the frame phys (one reference held
// by the cache). sum is the hash of the bytes the file holds there as far
// as the cache knows (as when first handed to a writable shared mapping,
// or as last written back), taken only once hashed: a page only ever
// mapped read-only (a program's text) is never written back, and hashing
// its 4 KiB at every first fault cost 2.5% of a short sqlite run.
type cachedPage struct {
	phys   uint64
	dirty  bool // handed to a writable shared mapping since the last writeback with no writers
	hashed bool // sum is set
	sum    uint64
}

// hash sets p's sum from its frame now, if it has none.
func (c *fileCache) hash(p *cachedPage) {
	if !p.hashed {
		p.sum, p.hashed = maphash.Bytes(c.maps.seed, c.phys.Page(p.phys)[:]), true
	}
}

// fileCacheW is the view of a fileCache that writable shared mappings
// use: the pages it hands out are dirty.
type fileCacheW struct{ c *fileCache }

// cacheKey names the file f is a description of: its inode, or the
// description itself for a file without a name.
func cacheKey(f *vfs.File) any {
	if p := f.Path(); !p.IsZero() {
		return p.Inode()
	}
	return f
}

// get returns f's cache with a reference for the caller, making it if
// the file has none.
func (fm *fileMaps) get(f *vfs.File, phys mm.Phys) (*fileCache, error) {
	fm.seeds.Do(func() { fm.seed = maphash.MakeSeed() })
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	key := cacheKey(f)
	fm.mu.Lock()
	defer fm.mu.Unlock()
	if c := fm.m[key]; c != nil {
		c.refs.Add(1)
		return c, nil
	}
	if fm.m == nil {
		fm.m = make(map[any]*fileCache)
	}
	f.IncRef()
	c := &fileCache{maps: fm, key: key, phys: phys, rf: f, size: st.Size, pages: make(map[uint64]*cachedPage)}
	c.w.c = c
	c.refs.Store(1)
	fm.m[key] = c
	fm.n.Store(int32(len(fm.m)))
	return c, nil
}

// lookup returns f's cache, or nil if it has none; no reference is taken
// (the hooks use it within one system call, and a cache that goes away
// meanwhile has been written back).
func (fm *fileMaps) lookup(f *vfs.File) *fileCache {
	if fm.n.Load() == 0 {
		return nil
	}
	fm.mu.Lock()
	defer fm.mu.Unlock()
	return fm.m[cacheKey(f)]
}

// all returns the caches there are now.
func (fm *fileMaps) all() []*fileCache {
	if fm.n.Load() == 0 {
		return nil
	}
	fm.mu.Lock()
	defer fm.mu.Unlock()
	out := make([]*fileCache, 0, len(fm.m))
	for _, c := range fm.m {
		out = append(out, c)
	}
	return out
}

// writable returns the view for a writable shared mapping through f
// (opened O_RDWR), with a reference for the caller; it takes over the
// caller's reference to c.
func (c *fileCache) writable(f *vfs.File) mm.Backing {
	c.mu.Lock()
	if c.wf == nil {
		f.IncRef()
		c.wf = f
	}
	c.writers++
	c.mu.Unlock()
	return &c.w
}

// Page implements mm.Backing for reading and private mappings.
func (c *fileCache) Page(off uint64) (uint64, error) { return c.page(off, false) }

// Holds implements mm.Holder: whether phys is the cache's frame for the
// page at off (else a private mapping's copy of it).
func (c *fileCache) Holds(off, phys uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pages[off]
	return p != nil && p.phys == phys
}

// Holds implements mm.Holder.
func (w *fileCacheW) Holds(off, phys uint64) bool { return w.c.Holds(off, phys) }

// IncRef implements mm.Backing.
func (c *fileCache) IncRef() { c.refs.Add(1) }

// DecRef implements mm.Backing: the last reference writes dirty pages
// back, frees the frames and leaves the table.
func (c *fileCache) DecRef() {
	fm := c.maps
	fm.mu.Lock()
	n := c.refs.Add(-1)
	if n == 0 {
		delete(fm.m, c.key)
		fm.n.Store(int32(len(fm.m)))
	}
	fm.mu.Unlock()
	switch {
	case n > 0:
		return
	case n < 0:
		panic("syscallshim: file mapping released twice")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flushLocked() // nobody is left to report an error to, as Linux at exit
	for off, p := range c.pages {
		c.phys.DecRef(p.phys)
		delete(c.pages, off)
	}
	c.rf.DecRef()
	if c.wf != nil {
		c.wf.DecRef()
	}
	c.rf, c.wf = nil, nil
}

func (w *fileCacheW) Page(off uint64) (uint64, error) { return w.c.page(off, true) }

func (w *fileCacheW) IncRef() {
	w.c.mu.Lock()
	w.c.writers++
	w.c.mu.Unlock()
	w.c.IncRef()
}

// DecRef releases a writable shared mapping's reference: munmap, exit,
// and mm's own bookkeeping (merges, moves) all write dirty pages back.
func (w *fileCacheW) DecRef() {
	c := w.c
	c.mu.Lock()
	c.writers--
	if c.writers < 0 {
		panic("syscallshim: writable file mapping released twice")
	}
	c.flushLocked()
	c.mu.Unlock()
	c.DecRef()
}

// page returns the frame holding the page at off with a reference for
// the caller, reading it from the file on first use. Past the page that
// holds the end of the file it is mm.ErrBeyondEOF (SIGBUS), and so is a
// failed read, as Linux answers an I/O error in a fault.
func (c *fileCache) page(off uint64, write bool) (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.pages[off]; p != nil {
		if write {
			c.hash(p) // the bytes the file holds: no program wrote them yet
		}
		p.dirty = p.dirty || write
		c.phys.IncRef(p.phys)
		return p.phys, nil
	}
	if off >= uint64(c.size) {
		// The file may have grown behind the cache's back (another
		// description's write through a path without a hook).
		if st, err := c.rf.Stat(); err == nil {
			c.size = st.Size
		}
		if off >= uint64(c.size) {
			return 0, mm.ErrBeyondEOF
		}
	}
	n := min(uint64(c.size)-off, 4096)
	clear(c.buf[:])
	if err := readFull(c.rf.Impl(), c.buf[:n], int64(off)); err != nil {
		return 0, mm.ErrBeyondEOF
	}
	phys, ok := c.phys.Alloc()
	if !ok {
		return 0, unix.ENOMEM
	}
	*c.phys.Page(phys) = c.buf
	p := &cachedPage{phys: phys, dirty: write}
	if write {
		c.hash(p)
	}
	c.pages[off] = p
	c.phys.IncRef(phys)
	return phys, nil
}

// readFull reads len(b) bytes at off; a short file leaves the rest as it
// is (zeros).
func readFull(impl vfs.FileImpl, b []byte, off int64) error {
	for len(b) > 0 {
		n, err := impl.Read(b, off)
		if n == 0 || err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		b, off = b[n:], off+int64(n)
	}
	return nil
}

// flush writes the dirty pages back (msync, fsync, before a read).
func (c *fileCache) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flushLocked()
}

// flushLocked writes back each dirty page whose bytes changed, up to the
// end of the file (a mapping never extends it), through the writable
// description directly: its O_APPEND must not move the writes. Pages stay
// dirty while writable mappings may still write them. It returns the
// first error and keeps going.
func (c *fileCache) flushLocked() error {
	if c.wf == nil {
		return nil // no writable shared mapping was ever made
	}
	if st, err := c.rf.Stat(); err == nil {
		c.size = st.Size
	}
	var first error
	for off, p := range c.pages {
		if !p.dirty {
			continue
		}
		if c.writers == 0 {
			p.dirty = false
		}
		if off >= uint64(c.size) {
			continue
		}
		c.buf = *c.phys.Page(p.phys)
		sum := maphash.Bytes(c.maps.seed, c.buf[:])
		if p.hashed && sum == p.sum {
			continue
		}
		n := min(uint64(c.size)-off, 4096)
		if _, _, err := c.wf.Impl().Write(c.buf[:n], int64(off), false); err != nil {
			p.dirty = true // try again next time
			if first == nil {
				first = err
			}
			continue
		}
		p.sum, p.hashed = sum, true
	}
	return first
}

// wrote updates the cached pages [off, off+len(b)) covers after b was
// written there through a description (write, pwrite). A page that
// changes this way is written back again later, in case a writeback of
// older bytes raced with the write.
func (c *fileCache) wrote(off int64, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.size = max(c.size, off+int64(len(b)))
	for len(b) > 0 {
		po := uint64(off) &^ 4095
		k := min(len(b), int(4096-uint64(off)&4095))
		if p := c.pages[po]; p != nil {
			copy(c.phys.Page(p.phys)[uint64(off)&4095:], b[:k])
			if c.wf != nil {
				p.dirty = true
			}
		}
		b, off = b[k:], off+int64(k)
	}
}

// resized brings the cache to the file's current size after a truncate:
// pages past the end are dropped, the bytes past the end in the last page
// read as zeros. It reports the new size and whether the file shrank
// (then the caller unmaps the pages past the end from every mapping).
func (c *fileCache) resized() (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, err := c.rf.Stat()
	if err != nil || st.Size == c.size {
		return c.size, false
	}
	old := c.size
	c.size = st.Size
	tail := min(old, st.Size)
	if p := c.pages[uint64(tail)&^4095]; p != nil && tail&4095 != 0 {
		clear(c.phys.Page(p.phys)[tail&4095:])
		p.hashed = false
		c.hash(p)
	}
	if st.Size > old {
		return st.Size, false
	}
	end := pageUp(uint64(st.Size))
	for off, p := range c.pages {
		if off >= end {
			c.phys.DecRef(p.phys)
			delete(c.pages, off)
		}
	}
	return st.Size, true
}

// cacheOf returns the fileCache behind a mapping's Backing, or nil.
func cacheOf(b mm.Backing) *fileCache {
	switch x := b.(type) {
	case *fileCache:
		return x
	case *fileCacheW:
		return x.c
	}
	return nil
}

// Hooks for the read and write paths (sys_fs.go, sys_path.go).

// beforeRead writes back the dirty pages of f's mappings, so that a read
// sees what programs stored through them.
func (s *System) beforeRead(f *vfs.File) {
	if c := s.filemaps.lookup(f); c != nil {
		c.flush()
	}
}

// afterWrite brings the cached pages of f up to date with b, just
// written at off (-1: just before f's offset, as write(2) leaves it; a
// concurrent write(2) on the same description can move the offset
// meanwhile, and then the wrong cached bytes are updated).
func (s *System) afterWrite(f *vfs.File, off int64, b []byte) {
	if len(b) == 0 {
		return
	}
	if c := s.filemaps.lookup(f); c != nil {
		if off < 0 {
			off = f.Offset() - int64(len(b))
		}
		if off >= 0 {
			c.wrote(off, b)
		}
	}
}

// afterTruncate updates the caches of the files whose size changed (f,
// or every mapped file when f is nil: truncate(2) by path) and unmaps the
// pages past a shrunk file's end from every process, so that touching
// them raises SIGBUS as on Linux.
func (s *System) afterTruncate(f *vfs.File) {
	var cs []*fileCache
	if f != nil {
		if c := s.filemaps.lookup(f); c != nil {
			cs = append(cs, c)
		}
	} else {
		cs = s.filemaps.all()
	}
	for _, c := range cs {
		size, shrank := c.resized()
		if shrank {
			s.unmapPast(c, pageUp(uint64(size)))
		}
	}
}

// unmapPast drops every process's page-table entries for c's pages from
// offset end on (they come back from the cache, or as SIGBUS).
func (s *System) unmapPast(c *fileCache, end uint64) {
	s.mu.Lock()
	procs := make([]*Process, 0, len(s.procs))
	for _, p := range s.procs {
		procs = append(procs, p)
	}
	s.mu.Unlock()
	seen := map[*mm.AddressSpace]bool{}
	for _, p := range procs {
		m := p.memory()
		if m == nil || seen[m.as] {
			continue
		}
		seen[m.as] = true
		for _, v := range m.as.VMAs() {
			if cacheOf(v.Backing) != c || v.Offset+(v.End-v.Start) <= end {
				continue
			}
			start := v.Start
			if v.Offset < end {
				start += end - v.Offset
			}
			m.as.Discard(start, v.End-start)
		}
	}
}
