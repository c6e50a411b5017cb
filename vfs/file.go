package vfs

import (
	"io"
	"math"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// FileImpl is what a filesystem (or a pipe, socket, device) puts behind an
// open-file description. The File has checked the access mode and keeps
// the offset; the implementation reads and writes at the offsets it is
// given. Embed FileBase for the errnos of what a kind does not support.
type FileImpl interface {
	// Read reads at off (ignored by streams).
	Read(dst []byte, off int64) (int, error)
	// Write writes at off, or at the end of the file if appending (both
	// ignored by streams), and returns the count and the offset after
	// the last byte written.
	Write(src []byte, off int64, appending bool) (n int, end int64, err error)
	// Lseek computes the offset lseek(2) moves cur to; ESPIPE marks a
	// stream, which has no offset and no pread/pwrite.
	Lseek(cur, off int64, whence int) (int64, error)
	// ReadDir calls emit for the entries after position pos (>=
	// FirstCookie-1) in order until emit returns false. emit must be
	// called without the filesystem's locks held: it may block.
	ReadDir(pos int64, emit func(Dirent) bool) error
	// Stat returns the file's metadata.
	Stat() (Stat, error)
	// Truncate sets a regular file's size and its mtime and ctime.
	Truncate(size int64) error
	// Allocate reserves [off, off+length) (fallocate(2) mode 0 or
	// FALLOC_FL_KEEP_SIZE).
	Allocate(mode uint32, off, length int64) error
	// Sync writes the file to its backing store (fsync, fdatasync).
	Sync(dataOnly bool) error
	// Readiness returns the events of mask that would not block now.
	Readiness(mask EventMask) EventMask
	// Queue returns the wait queue readiness changes are announced on,
	// or nil if the file is always ready.
	Queue() *WaitQueue
	// Release is called once, when the last reference is dropped.
	Release()
}

// FileBase gives the behaviour Linux has for files that support none of
// FileImpl's operations beyond Stat: reads and writes EINVAL, seeks
// ESPIPE, ReadDir ENOTDIR, Truncate EINVAL, Allocate ENODEV, Sync EINVAL,
// always ready.
type FileBase struct{}

func (FileBase) Read([]byte, int64) (int, error)               { return 0, unix.EINVAL }
func (FileBase) Write([]byte, int64, bool) (int, int64, error) { return 0, 0, unix.EINVAL }
func (FileBase) Lseek(int64, int64, int) (int64, error)        { return 0, unix.ESPIPE }
func (FileBase) ReadDir(int64, func(Dirent) bool) error        { return unix.ENOTDIR }
func (FileBase) Truncate(int64) error                          { return unix.EINVAL }
func (FileBase) Allocate(uint32, int64, int64) error           { return unix.ENODEV }
func (FileBase) Sync(bool) error                               { return unix.EINVAL }
func (FileBase) Readiness(m EventMask) EventMask               { return m & (EventIn | EventOut) }
func (FileBase) Queue() *WaitQueue                             { return nil }
func (FileBase) Release()                                      {}

// SeekTo implements lseek(2) for a file of the given size: SEEK_SET,
// SEEK_CUR, SEEK_END, and SEEK_DATA/SEEK_HOLE treating the whole file as
// data. A negative result is EINVAL, overflow EOVERFLOW, SEEK_DATA or
// SEEK_HOLE at or past the end ENXIO.
func SeekTo(cur, off int64, whence int, size int64) (int64, error) {
	var base int64
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		base = cur
	case io.SeekEnd:
		base = size
	case unix.SEEK_DATA, unix.SEEK_HOLE:
		if off < 0 || off >= size {
			return 0, unix.ENXIO
		}
		if whence == unix.SEEK_HOLE {
			return size, nil
		}
		return off, nil
	default:
		return 0, unix.EINVAL
	}
	if (off > 0 && base > math.MaxInt64-off) || (off < 0 && base < math.MinInt64-off) {
		return 0, unix.EOVERFLOW
	}
	if base+off < 0 {
		return 0, unix.EINVAL
	}
	return base + off, nil
}

// SeekDir implements lseek(2) on a directory, whose positions are
// cookies: SEEK_SET and SEEK_CUR only (SEEK_END is EINVAL, as on most of
// Linux's filesystems), a negative result EINVAL, overflow EOVERFLOW.
func SeekDir(cur, off int64, whence int) (int64, error) {
	if whence != io.SeekStart && whence != io.SeekCurrent {
		return 0, unix.EINVAL
	}
	return SeekTo(cur, off, whence, 0)
}

// statusFlags are the flags fcntl(F_SETFL) may change.
const statusFlags = unix.O_APPEND | unix.O_NONBLOCK | unix.O_ASYNC | unix.O_DIRECT | unix.O_NOATIME

// File is an open-file description: what open(2) creates and dup(2),
// fork and SCM_RIGHTS share. It starts with one reference.
type File struct {
	refs   atomic.Int64
	flags  atomic.Uint32 // O_ACCMODE | O_PATH | status flags
	stream bool          // no offset (pipes, sockets, terminals)
	path   Path          // zero for files without a name (pipes, sockets)
	impl   FileImpl      // nil for O_PATH
	cred   Cred          // the opener's, for clearing set-id bits on write
	vfs    *VFS

	posMu sync.Mutex
	pos   int64

	onRelease atomic.Pointer[func()] // see OnRelease
}

// NewFile returns a File over impl with the open(2) flags given; path
// (possibly zero) is the name it was opened by.
func NewFile(impl FileImpl, flags int, path Path, cred Cred) *File {
	f := &File{impl: impl, path: path, cred: cred}
	if path.Mount != nil {
		f.vfs = path.Mount.vfs
	}
	f.flags.Store(uint32(flags) &^ (unix.O_CREAT | unix.O_EXCL | unix.O_TRUNC | unix.O_NOCTTY | unix.O_CLOEXEC))
	f.refs.Store(1)
	if path.Mount != nil {
		path.Mount.refs.Add(1)
	}
	if impl != nil {
		if _, err := impl.Lseek(0, 0, io.SeekCurrent); err == unix.ESPIPE {
			f.stream = true
		}
	}
	return f
}

// IncRef adds a reference.
func (f *File) IncRef() { f.refs.Add(1) }

// OnRelease sets fn to run when the last reference goes, before the
// implementation's Release (a later call replaces fn): what the open file
// owns that must not outlive it, such as its flock and F_OFD_ locks.
func (f *File) OnRelease(fn func()) { f.onRelease.Store(&fn) }

// DecRef drops a reference and releases the file with the last one.
func (f *File) DecRef() {
	switch n := f.refs.Add(-1); {
	case n == 0:
		if fn := f.onRelease.Load(); fn != nil {
			(*fn)()
		}
		if f.impl != nil {
			f.impl.Release()
		}
		if f.path.Mount != nil {
			f.path.Mount.refs.Add(-1)
		}
	case n < 0:
		panic("vfs: File.DecRef without a reference")
	}
}

// Path returns the name the file was opened by (zero for anonymous files).
func (f *File) Path() Path { return f.path }

// Impl returns the implementation (nil for O_PATH files).
func (f *File) Impl() FileImpl { return f.impl }

// Flags returns the open flags: access mode, O_PATH and status flags.
func (f *File) Flags() int { return int(f.flags.Load()) }

// SetFlags implements fcntl(F_SETFL): only O_APPEND, O_NONBLOCK, O_ASYNC,
// O_DIRECT and O_NOATIME change; others are ignored.
func (f *File) SetFlags(flags int) {
	for {
		old := f.flags.Load()
		n := old&^statusFlags | uint32(flags)&statusFlags
		if f.flags.CompareAndSwap(old, n) {
			return
		}
	}
}

func (f *File) readable() bool {
	fl := f.Flags()
	return f.impl != nil && fl&unix.O_PATH == 0 && fl&unix.O_ACCMODE != unix.O_WRONLY
}

func (f *File) writable() bool {
	fl := f.Flags()
	return f.impl != nil && fl&unix.O_PATH == 0 && fl&unix.O_ACCMODE != unix.O_RDONLY
}

// Read implements read(2): it reads at the file offset and advances it.
func (f *File) Read(dst []byte) (int, error) {
	if !f.readable() {
		return 0, unix.EBADF
	}
	if f.stream {
		return f.impl.Read(dst, 0)
	}
	f.posMu.Lock()
	defer f.posMu.Unlock()
	n, err := f.impl.Read(dst, f.pos)
	f.pos += int64(n)
	return n, err
}

// Pread implements pread64(2).
func (f *File) Pread(dst []byte, off int64) (int, error) {
	if !f.readable() {
		return 0, unix.EBADF
	}
	if f.stream {
		return 0, unix.ESPIPE
	}
	if off < 0 {
		return 0, unix.EINVAL
	}
	return f.impl.Read(dst, off)
}

// Write implements write(2): at the file offset, or at the end with
// O_APPEND, advancing the offset past what it wrote.
func (f *File) Write(src []byte) (int, error) {
	if !f.writable() {
		return 0, unix.EBADF
	}
	f.killPriv()
	app := f.Flags()&unix.O_APPEND != 0
	if f.stream {
		n, _, err := f.impl.Write(src, 0, app)
		return n, err
	}
	f.posMu.Lock()
	defer f.posMu.Unlock()
	n, end, err := f.impl.Write(src, f.pos, app)
	if n > 0 {
		f.pos = end
	}
	return n, err
}

// Pwrite implements pwrite64(2). As on Linux, a file opened with O_APPEND
// is appended to whatever off says.
func (f *File) Pwrite(src []byte, off int64) (int, error) {
	if !f.writable() {
		return 0, unix.EBADF
	}
	if f.stream {
		return 0, unix.ESPIPE
	}
	if off < 0 {
		return 0, unix.EINVAL
	}
	f.killPriv()
	n, _, err := f.impl.Write(src, off, f.Flags()&unix.O_APPEND != 0)
	return n, err
}

// killPriv clears the set-user-ID bit, and the set-group-ID bit of a
// group-executable file, when someone other than root writes the file
// (inode(7), file_remove_privs).
func (f *File) killPriv() {
	if f.path.IsZero() {
		return
	}
	ino := f.path.Dentry.inode
	if a := killPrivAttr(&f.cred, ino.Stat()); a != nil {
		ino.SetAttr(a)
	}
}

// killPrivAttr returns the change that clears a regular file's set-user-ID
// bit, and its set-group-ID bit if it is group-executable, when someone
// without CAP_FSETID (not root) writes or truncates it; nil if none.
func killPrivAttr(c *Cred, st Stat) *SetAttr {
	if c.IsRoot() || st.Type() != unix.S_IFREG {
		return nil
	}
	kill := st.Mode & unix.S_ISUID
	if st.Mode&(unix.S_ISGID|unix.S_IXGRP) == unix.S_ISGID|unix.S_IXGRP {
		kill |= unix.S_ISGID
	}
	if kill == 0 {
		return nil
	}
	return &SetAttr{Mask: SetMode | SetCtime, Mode: st.Mode & 0o7777 &^ kill}
}

// Seek implements lseek(2).
func (f *File) Seek(off int64, whence int) (int64, error) {
	if f.impl == nil {
		return 0, unix.EBADF
	}
	f.posMu.Lock()
	defer f.posMu.Unlock()
	n, err := f.impl.Lseek(f.pos, off, whence)
	if err != nil {
		return 0, err
	}
	f.pos = n
	return n, nil
}

// Offset returns the file offset.
func (f *File) Offset() int64 {
	f.posMu.Lock()
	defer f.posMu.Unlock()
	return f.pos
}

// ReadDir implements getdents64(2): it calls emit for each entry from
// the file's position on, "." and ".." first, advancing the position past
// each entry emit accepts, until emit returns false or the directory ends.
// Positions are cookies: entries created or removed meanwhile do not make
// the iteration skip or repeat the others.
func (f *File) ReadDir(emit func(Dirent) bool) error {
	if f.impl == nil || f.Flags()&unix.O_PATH != 0 {
		return unix.EBADF
	}
	f.posMu.Lock()
	defer f.posMu.Unlock()
	if f.pos < FirstCookie-1 && !f.path.IsZero() && f.path.Dentry.IsDir() {
		dot, dotdot := f.dotInos()
		if f.pos == 0 {
			if !emit(Dirent{Name: ".", Ino: dot, Type: unix.DT_DIR, Off: 1}) {
				return nil
			}
			f.pos = 1
		}
		if f.pos == 1 {
			if !emit(Dirent{Name: "..", Ino: dotdot, Type: unix.DT_DIR, Off: 2}) {
				return nil
			}
			f.pos = 2
		}
	}
	return f.impl.ReadDir(f.pos, func(d Dirent) bool {
		if !emit(d) {
			return false
		}
		f.pos = d.Off
		return true
	})
}

// dotInos returns the inode numbers of "." and "..", the latter the
// parent within the filesystem (the root is its own parent).
func (f *File) dotInos() (uint64, uint64) {
	d := f.path.Dentry
	if f.vfs != nil {
		f.vfs.mu.RLock()
		defer f.vfs.mu.RUnlock()
	}
	return d.inode.Stat().Ino, d.parent.inode.Stat().Ino
}

// Stat implements fstat(2).
func (f *File) Stat() (Stat, error) {
	if f.impl == nil {
		if f.path.IsZero() {
			return Stat{}, unix.EBADF
		}
		return f.path.Dentry.inode.Stat(), nil
	}
	return f.impl.Stat()
}

// Truncate implements ftruncate(2).
func (f *File) Truncate(size int64) error {
	if f.impl == nil {
		return unix.EBADF
	}
	if size < 0 || !f.writable() {
		return unix.EINVAL
	}
	if !f.path.IsZero() && f.path.Dentry.typ == unix.S_IFDIR {
		return unix.EISDIR
	}
	f.killPriv()
	return f.impl.Truncate(size)
}

// Allocate implements fallocate(2) for mode 0 and FALLOC_FL_KEEP_SIZE;
// other modes are EOPNOTSUPP.
func (f *File) Allocate(mode uint32, off, length int64) error {
	if off < 0 || length <= 0 {
		return unix.EINVAL
	}
	if !f.writable() {
		return unix.EBADF
	}
	if !f.path.IsZero() {
		switch f.path.Dentry.typ {
		case unix.S_IFIFO:
			return unix.ESPIPE
		case unix.S_IFDIR:
			return unix.EISDIR
		case unix.S_IFREG:
		default:
			return unix.ENODEV
		}
	}
	if off > math.MaxInt64-length {
		return unix.EFBIG
	}
	if mode&^unix.FALLOC_FL_KEEP_SIZE != 0 {
		return unix.EOPNOTSUPP // punching holes, zeroing ranges: not yet
	}
	f.killPriv()
	return f.impl.Allocate(mode, off, length)
}

// Sync implements fsync(2) and fdatasync(2).
func (f *File) Sync(dataOnly bool) error {
	if f.impl == nil {
		return unix.EBADF
	}
	return f.impl.Sync(dataOnly)
}

// Readiness returns the events of mask that would not block now.
func (f *File) Readiness(mask EventMask) EventMask {
	if f.impl == nil {
		return EventHup
	}
	return f.impl.Readiness(mask)
}

// Queue returns the file's wait queue, nil if it is always ready.
func (f *File) Queue() *WaitQueue {
	if f.impl == nil {
		return nil
	}
	return f.impl.Queue()
}

// PageSize is the size of the pages PageSource hands out.
const PageSize = 4096

// PageSource is implemented by FileImpls whose data lives in whole memory
// pages, so that mmap can map the pages themselves instead of copies.
// Files without it (cpiofs's, whose bytes sit unaligned in the archive)
// are mapped by reading them into fresh pages.
type PageSource interface {
	// Page returns the page at file offset index*PageSize. A hole is nil
	// unless alloc, which allocates it (ENOSPC when the filesystem is
	// full). The page stays the file's until the file is truncated below
	// it.
	Page(index int64, alloc bool) (*[PageSize]byte, error)
}
