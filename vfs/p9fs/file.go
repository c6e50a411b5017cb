package p9fs

import (
	"errors"
	"io"
	"math"
	"sync"

	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"

	"yolk/vfs"
)

// regFile is an open regular file: its own fid, opened with Tlopen.
// Reads and writes go straight to the host; nothing is cached.
type regFile struct {
	vfs.FileBase
	i *inode
	f p9.File
}

// Read implements vfs.FileImpl with Tread (in msize chunks).
func (r *regFile) Read(dst []byte, off int64) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	var n int
	err := r.i.fs.do(func() (err error) {
		n, err = r.f.ReadAt(dst, off)
		if errors.Is(err, io.EOF) {
			err = nil
		}
		return err
	})
	n = max(0, min(n, len(dst)))
	return n, err
}

// Write implements vfs.FileImpl with Twrite: when it returns, the host
// has the bytes (in its page cache; Sync makes them durable).
func (r *regFile) Write(src []byte, off int64, appending bool) (int, int64, error) {
	defer r.i.invalidate()
	if appending {
		st, err := r.i.getattr(r.f)
		if err != nil {
			return 0, off, err
		}
		off = st.Size
	}
	if off > math.MaxInt64-int64(len(src)) {
		return 0, off, unix.EFBIG
	}
	if len(src) == 0 {
		return 0, off, nil
	}
	var n int
	err := r.i.fs.do(func() (err error) { n, err = r.f.WriteAt(src, off); return })
	n = max(0, min(n, len(src)))
	if err == nil && n < len(src) && n == 0 {
		err = unix.EIO // the host took nothing and said nothing
	}
	return n, off + int64(n), err
}

// Lseek implements vfs.FileImpl.
func (r *regFile) Lseek(cur, off int64, whence int) (int64, error) {
	var size int64
	if whence != io.SeekStart && whence != io.SeekCurrent {
		st, err := r.Stat()
		if err != nil {
			return 0, err
		}
		size = st.Size
	}
	return vfs.SeekTo(cur, off, whence, size)
}

// Stat implements vfs.FileImpl: the inode's cached attributes, else a
// Tgetattr on the open fid (which answers even when the file's name is
// gone).
func (r *regFile) Stat() (vfs.Stat, error) { return r.i.statOpen(r.f) }

// Truncate implements vfs.FileImpl with Tsetattr(size); the host sets
// mtime and ctime.
func (r *regFile) Truncate(size int64) error {
	return r.i.setattr(r.f, &vfs.SetAttr{Mask: vfs.SetSize, Size: size})
}

// Allocate implements vfs.FileImpl. 9P2000.L has no fallocate: the file
// is extended (sparsely) to off+length unless FALLOC_FL_KEEP_SIZE, so
// the size is right but the blocks are not reserved.
func (r *regFile) Allocate(mode uint32, off, length int64) error {
	if mode&unix.FALLOC_FL_KEEP_SIZE != 0 {
		return nil
	}
	st, err := r.i.getattr(r.f)
	if err != nil {
		return err
	}
	if off+length <= st.Size {
		return nil
	}
	return r.Truncate(off + length)
}

// Sync implements vfs.FileImpl with Tfsync.
func (r *regFile) Sync(bool) error {
	return r.i.fs.do(func() error { return r.f.FSync() })
}

// Release implements vfs.FileImpl: Tclunk.
func (r *regFile) Release() { r.i.fs.do(r.f.Close) }

// statOpen returns i's attributes, asking through the open fid f if the
// cache is stale.
func (i *inode) statOpen(f p9.File) (vfs.Stat, error) {
	i.mu.Lock()
	if i.valid {
		st := i.st
		i.mu.Unlock()
		return st, nil
	}
	gen := i.gen
	i.mu.Unlock()
	st, err := i.getattr(f)
	if err != nil {
		return vfs.Stat{}, err
	}
	i.mu.Lock()
	if i.gen == gen {
		i.st, i.valid = st, true
	}
	i.mu.Unlock()
	return st, nil
}

// dirFile is an open directory. Its positions are its own: entry k
// (counting from 0 since the start) is at vfs.FirstCookie+k, and
// cookies[k] is the server's offset just after it, where a later
// Treaddir resumes, so seekdir/telldir work whatever the server's
// offsets look like.
type dirFile struct {
	vfs.FileBase
	i *inode
	f p9.File

	mu      sync.Mutex
	cookies []uint64
}

// Read implements vfs.FileImpl.
func (d *dirFile) Read([]byte, int64) (int, error) { return 0, unix.EISDIR }

// Lseek implements vfs.FileImpl: positions are cookies.
func (d *dirFile) Lseek(cur, off int64, whence int) (int64, error) {
	return vfs.SeekDir(cur, off, whence)
}

// ReadDir implements vfs.FileImpl with Treaddir; the server's "." and
// ".." are left out (the VFS makes its own).
func (d *dirFile) ReadDir(pos int64, emit func(vfs.Dirent) bool) error {
	next := pos - vfs.FirstCookie + 1 // index of the next entry
	if next < 0 {
		next = 0
	}
	var off uint64
	d.mu.Lock()
	switch {
	case next == 0:
	case next <= int64(len(d.cookies)):
		off = d.cookies[next-1]
	default:
		d.mu.Unlock()
		return nil // past the end
	}
	d.mu.Unlock()
	count := d.i.fs.msize - 64
	for {
		start := off
		var ents p9.Dirents
		err := d.i.fs.do(func() (err error) { ents, err = d.f.Readdir(off, count); return })
		if err != nil {
			return err
		}
		if len(ents) == 0 {
			return nil
		}
		for _, e := range ents {
			off = e.Offset
			if e.Name == "." || e.Name == ".." || e.Name == "" {
				continue
			}
			d.mu.Lock()
			if next > int64(len(d.cookies)) {
				next = int64(len(d.cookies))
			}
			d.cookies = append(d.cookies[:next], off)
			d.mu.Unlock()
			de := vfs.Dirent{Name: e.Name, Ino: e.QID.Path, Type: direntType(e), Off: vfs.FirstCookie + next}
			if !emit(de) {
				return nil
			}
			next++
		}
		if off == start {
			return nil // a server that does not move on: stop, not spin
		}
	}
}

// direntType is the entry's DT_* value: QEMU sends the host's d_type.
func direntType(e p9.Dirent) uint8 {
	switch t := uint8(e.Type); t {
	case unix.DT_FIFO, unix.DT_CHR, unix.DT_DIR, unix.DT_BLK, unix.DT_REG, unix.DT_LNK, unix.DT_SOCK:
		return t
	}
	switch {
	case e.QID.Type&p9.TypeDir != 0:
		return unix.DT_DIR
	case e.QID.Type&p9.TypeSymlink != 0:
		return unix.DT_LNK
	}
	return unix.DT_UNKNOWN
}

// Stat implements vfs.FileImpl.
func (d *dirFile) Stat() (vfs.Stat, error) { return d.i.statOpen(d.f) }

// Sync implements vfs.FileImpl with Tfsync.
func (d *dirFile) Sync(bool) error {
	return d.i.fs.do(func() error { return d.f.FSync() })
}

// Release implements vfs.FileImpl: Tclunk.
func (d *dirFile) Release() { d.i.fs.do(d.f.Close) }
