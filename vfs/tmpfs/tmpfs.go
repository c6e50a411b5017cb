// Package tmpfs is an in-memory filesystem with the behaviour of Linux's
// tmpfs (tmpfs(5), mm/shmem.c): regular files are sparse lists of 4 KiB
// pages that a memory manager can map directly (vfs.PageSource), the
// filesystem has a size limit and an inode limit that give ENOSPC, and
// atime (relatime), mtime, ctime and btime change when Linux changes them.
// Directories keep entries in creation order with stable positions, so
// getdents64 neither skips nor repeats entries while others are created
// or removed.
package tmpfs

import (
	"math"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"yolk/vfs"
)

// Page is one page of file data.
type Page = [vfs.PageSize]byte

// Options configure a tmpfs; the zero value is an unlimited filesystem
// whose root is root's, mode 01777 (as /tmp).
type Options struct {
	MaxBytes  int64  // data pages beyond this give ENOSPC; 0 is unlimited
	MaxInodes int64  // inodes beyond this give ENOSPC; 0 is unlimited
	RootMode  uint32 // permission bits of the root; 0 means 01777
	RootUID   uint32
	RootGID   uint32
	Clock     func() vfs.Timespec // nil means vfs.Now
	Dev       uint64              // st_dev; 0 allocates an anonymous one
}

// FS is one tmpfs instance.
type FS struct {
	opts    Options
	dev     uint64
	root    *inode
	nextIno atomic.Uint64
	pages   atomic.Int64 // allocated data pages
	inodes  atomic.Int64 // live inodes

	// nsMu serializes changes to the tree (create, link, remove,
	// rename); inode locks are taken one at a time under it.
	nsMu sync.Mutex
}

// New returns an empty tmpfs.
func New(opts Options) *FS {
	if opts.Clock == nil {
		opts.Clock = vfs.Now
	}
	if opts.RootMode == 0 {
		opts.RootMode = 0o1777
	}
	fs := &FS{opts: opts, dev: opts.Dev}
	if fs.dev == 0 {
		fs.dev = vfs.NewDev()
	}
	fs.root, _ = fs.newInode(vfs.CreateAttr{Mode: unix.S_IFDIR | opts.RootMode&0o7777, UID: opts.RootUID, GID: opts.RootGID})
	fs.root.parent = fs.root
	return fs
}

// Name implements vfs.Filesystem.
func (fs *FS) Name() string { return "tmpfs" }

// Root implements vfs.Filesystem.
func (fs *FS) Root() vfs.Inode { return fs.root }

// Statfs implements vfs.Filesystem.
func (fs *FS) Statfs() vfs.Statfs {
	s := vfs.Statfs{Type: unix.TMPFS_MAGIC, Bsize: vfs.PageSize, Frsize: vfs.PageSize, Namelen: vfs.MaxNameLen}
	if fs.opts.MaxBytes > 0 {
		s.Blocks = uint64(fs.opts.MaxBytes / vfs.PageSize)
		s.Bfree = s.Blocks - min(s.Blocks, uint64(fs.pages.Load()))
		s.Bavail = s.Bfree
	}
	if fs.opts.MaxInodes > 0 {
		s.Files = uint64(fs.opts.MaxInodes)
		s.Ffree = s.Files - min(s.Files, uint64(fs.inodes.Load()))
	}
	return s
}

// Usage returns the bytes of data pages and the inodes in use.
func (fs *FS) Usage() (bytes, inodes int64) {
	return fs.pages.Load() * vfs.PageSize, fs.inodes.Load()
}

func (fs *FS) now() vfs.Timespec { return fs.opts.Clock() }

// allocPage charges one page to the filesystem.
func (fs *FS) allocPage() (*Page, error) {
	if n := fs.pages.Add(1); fs.opts.MaxBytes > 0 && n*vfs.PageSize > fs.opts.MaxBytes {
		fs.pages.Add(-1)
		return nil, unix.ENOSPC
	}
	return new(Page), nil
}

func (fs *FS) newInode(a vfs.CreateAttr) (*inode, error) {
	if n := fs.inodes.Add(1); fs.opts.MaxInodes > 0 && n > fs.opts.MaxInodes {
		fs.inodes.Add(-1)
		return nil, unix.ENOSPC
	}
	now := fs.now()
	ino := &inode{
		fs: fs, ino: fs.nextIno.Add(1), ftype: a.Mode & unix.S_IFMT, mode: a.Mode, uid: a.UID, gid: a.GID, rdev: a.Rdev,
		nlink: 1, atime: now, mtime: now, ctime: now, btime: now,
	}
	switch a.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		ino.nlink = 2
		ino.dir = &dir{byName: make(map[string]*dirent), next: vfs.FirstCookie}
	case unix.S_IFLNK:
		ino.target = a.Target
		ino.size = int64(len(a.Target))
	}
	return ino, nil
}

// maxFileSize is Linux's MAX_LFS_FILESIZE on 64-bit.
const maxFileSize = math.MaxInt64

// dayNs is relatime's bound on how stale atime may get.
const dayNs = 24 * 60 * 60 * 1e9
