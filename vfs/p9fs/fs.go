// Package p9fs is a vfs.Filesystem over a 9P2000.L server: a host
// directory that QEMU exports through virtio-9p (-fsdev local), or any
// other server behind a Transport.
//
// The protocol's encoding is github.com/hugelgupf/p9's client; this
// package gives it a Transport (one request buffer, one reply buffer per
// round trip, as virtio-9p carries them, see conn.go) and maps the VFS's
// inode and file operations onto 9P2000.L requests: walk, getattr,
// setattr, lopen, read, write, readdir, mkdir, symlink, link, mknod,
// renameat, unlinkat, fsync, statfs, readlink.
//
// Coherence is that of one writer, the guest: an inode's attributes are
// cached until the guest changes the file (any write, setattr, link,
// unlink or rename through this filesystem drops or adjusts them), and
// data is never cached: every write is a Twrite answered before the
// program's write returns, so the host holds what the guest wrote. The
// VFS caches names, so changes the host makes behind the guest's back
// are not seen until the name is looked up again.
//
// hugelgupf/p9 encodes permissions masked with 01777, so chmod cannot
// set the set-user-ID and set-group-ID bits on a share (mkdir neither);
// the sticky bit and the rest pass.
//
// Errors the server reports (Rlerror) are Linux errnos and are returned
// as they are; a reply that cannot be decoded is EIO, never a panic. If
// the client library ever panicked on a reply, the filesystem turns EIO
// for good rather than take the kernel down.
//
// References: the 9P2000.L protocol (Linux Documentation/filesystems/9p.rst
// and the diod protocol description), VIRTIO 1.1 §5.11 (9P transport).
package p9fs

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"

	"yolk/vfs"
)

// V9FS_MAGIC is statfs's f_type for a 9P mount, as Linux reports it.
const V9FS_MAGIC = 0x01021997

// minMsize is the smallest msize worth using.
const minMsize = 8192

// FS is a mounted 9P share.
type FS struct {
	client *p9.Client
	conn   *conn
	root   *inode
	dev    uint64
	msize  uint32
	broken atomic.Bool // the client panicked: every operation is EIO
}

// Options configure New.
type Options struct {
	// Aname is the attach name (tattach's aname); QEMU ignores it.
	Aname string
}

// New negotiates 9P2000.L over t, attaches, and returns the share as a
// filesystem. msize is t.MaxMessage(), or less if the server says so.
func New(t Transport, o Options) (*FS, error) {
	msize := t.MaxMessage()
	if msize < minMsize {
		return nil, fmt.Errorf("p9fs: transport message size %d is below %d", msize, minMsize)
	}
	for try := 0; ; try++ {
		fs, smaller, err := connect(t, msize, o)
		if err != nil {
			return nil, err
		}
		if smaller == 0 {
			return fs, nil
		}
		if try > 0 || smaller < minMsize {
			return nil, fmt.Errorf("p9fs: the server offers msize %d", smaller)
		}
		msize = smaller
	}
}

// connect runs version and attach; a server that wants a smaller msize
// is answered by returning it (the client cannot shrink afterwards).
func connect(t Transport, msize uint32, o Options) (fs *FS, smaller uint32, err error) {
	defer func() {
		if r := recover(); r != nil {
			fs, err = nil, fmt.Errorf("p9fs: 9P client failed: %v", r)
		}
	}()
	c := newConn(t, msize)
	client, err := p9.NewClient(c, p9.WithMessageSize(msize))
	if err != nil {
		c.Close()
		return nil, 0, fmt.Errorf("p9fs: version: %w", err)
	}
	if s := c.serverMsize; s != 0 && s < msize {
		c.Close()
		return nil, s, nil
	}
	root, err := client.Attach(o.Aname)
	if err != nil {
		c.Close()
		return nil, 0, fmt.Errorf("p9fs: attach: %w", err)
	}
	fs = &FS{client: client, conn: c, dev: vfs.NewDev(), msize: msize}
	qid, _, attr, err := root.GetAttr(p9.AttrMaskAll)
	if err != nil {
		c.Close()
		return nil, 0, fmt.Errorf("p9fs: attach: %w", err)
	}
	if qid.Type&p9.TypeDir == 0 {
		c.Close()
		return nil, 0, errors.New("p9fs: the share's root is not a directory")
	}
	fs.root = fs.newInode(root, qid, attr)
	return fs, 0, nil
}

// Name implements vfs.Filesystem.
func (fs *FS) Name() string { return "9p" }

// Root implements vfs.Filesystem.
func (fs *FS) Root() vfs.Inode { return fs.root }

// Msize is the negotiated maximum message size.
func (fs *FS) Msize() uint32 { return fs.msize }

// Close ends the session; operations afterwards fail.
func (fs *FS) Close() error { return fs.conn.Close() }

// Statfs implements vfs.Filesystem (Tstatfs on the root); if the server
// fails it, the counts are zero.
func (fs *FS) Statfs() vfs.Statfs {
	st := vfs.Statfs{Type: V9FS_MAGIC, Bsize: 4096, Frsize: 4096, Namelen: vfs.MaxNameLen}
	var s p9.FSStat
	err := fs.do(func() (err error) { s, err = fs.root.file.StatFS(); return })
	if err != nil {
		return st
	}
	if s.BlockSize != 0 {
		st.Bsize, st.Frsize = int64(s.BlockSize), int64(s.BlockSize)
	}
	st.Blocks, st.Bfree, st.Bavail = s.Blocks, s.BlocksFree, s.BlocksAvailable
	st.Files, st.Ffree = s.Files, s.FilesFree
	if s.NameLength != 0 {
		st.Namelen = int64(s.NameLength)
	}
	return st
}

// do runs one client operation, turning its error into a unix.Errno and
// a panic inside the client into EIO for this and every later call.
func (fs *FS) do(op func() error) (err error) {
	if fs.broken.Load() {
		return unix.EIO
	}
	defer func() {
		if r := recover(); r != nil {
			fs.broken.Store(true)
			err = unix.EIO
		}
	}()
	return errno(op())
}

// errno converts the client's errors: an Rlerror's errno as it is,
// anything else (transport failure, undecodable reply) EIO.
func errno(err error) error {
	if err == nil {
		return nil
	}
	var e linux.Errno
	if errors.As(err, &e) && e != 0 {
		return unix.Errno(e)
	}
	var u unix.Errno
	if errors.As(err, &u) && u != 0 {
		return u
	}
	return unix.EIO
}
