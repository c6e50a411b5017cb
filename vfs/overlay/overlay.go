// Package overlay stacks a writable filesystem (the upper layer, a tmpfs)
// on a read-only one (the lower layer, e.g. the cpio tree), as Linux's
// overlayfs does (Documentation/filesystems/overlayfs.rst):
//
//   - a name is looked up in the upper layer, then in the lower one; an
//     upper non-directory hides the lower entry, an upper directory merges
//     with a lower directory of the same name;
//   - the first change to a lower file (open for writing, truncate, chmod,
//     chown, utimens, rename, link) copies it up: its parents, then the
//     file with its contents, mode, owner and times;
//   - removing a name that exists below leaves a whiteout, and a directory
//     created where a lower one was removed is opaque: the lower one's
//     entries stay hidden;
//   - readdir of a merged directory lists upper entries, then the lower
//     ones that are neither in the upper directory nor whited out.
//
// Differences from Linux a user can notice: whiteouts and opaque marks
// live in the overlay's memory, not as 0/0 character devices and
// trusted.overlay.opaque xattrs in the upper layer (the upper layer is
// private to the overlay and never mounted alone); renaming a directory
// that exists in the lower layer is EXDEV (Linux without redirect_dir),
// so mv falls back to copying; copy-up breaks hard links between lower
// files (Linux keeps them only with index=on). Inode numbers are the lower
// file's for anything that came from the lower layer (stable across
// copy-up), the upper's with bit 63 set otherwise; st_dev is the
// overlay's.
package overlay

import (
	"sync"

	"golang.org/x/sys/unix"

	"yolk/vfs"
)

// overlayMagic is OVERLAYFS_SUPER_MAGIC.
const overlayMagic = 0x794c7630

// upperOnly marks inode numbers of files that have no lower origin.
const upperOnly = 1 << 63

// FS is an overlay of upper on lower.
type FS struct {
	upper, lower vfs.Filesystem
	dev          uint64
	root         *node

	// mu serializes copy-ups and changes to the tree; node locks are
	// taken under it, one at a time.
	mu sync.Mutex
}

// New returns the overlay of upper (writable) on lower.
func New(upper, lower vfs.Filesystem) *FS {
	fs := &FS{upper: upper, lower: lower, dev: vfs.NewDev()}
	fs.root = &node{fs: fs, typ: unix.S_IFDIR, upper: upper.Root(), lower: lower.Root()}
	fs.root.ino = fs.root.originIno()
	return fs
}

// Name implements vfs.Filesystem.
func (fs *FS) Name() string { return "overlay" }

// Root implements vfs.Filesystem.
func (fs *FS) Root() vfs.Inode { return fs.root }

// Statfs implements vfs.Filesystem: the upper layer's usage.
func (fs *FS) Statfs() vfs.Statfs {
	s := fs.upper.Statfs()
	s.Type = overlayMagic
	return s
}

// node is one overlay file: its upper and lower inodes, either nil.
type node struct {
	fs     *FS
	typ    uint32 // S_IFMT
	ino    uint64 // st_ino, fixed at creation
	parent *node  // for copy-up; nil for the root and O_TMPFILE files
	name   string

	mu       sync.Mutex
	upper    vfs.Inode
	lower    vfs.Inode        // for directories: nil if nothing below shows through
	children map[string]*node // looked-up entries; never evicted
	hide     map[string]bool  // lower entries hidden: whiteouts, or opaque upper dirs
}

func (n *node) originIno() uint64 {
	if n.lower != nil {
		return n.lower.Stat().Ino
	}
	return n.upper.Stat().Ino | upperOnly
}

func (n *node) layers() (upper, lower vfs.Inode) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.upper, n.lower
}

// top returns the inode that shows: the upper one if there is one.
func (n *node) top() vfs.Inode {
	u, l := n.layers()
	if u != nil {
		return u
	}
	return l
}

func (n *node) isDir() bool { return n.typ == unix.S_IFDIR }

// Stat implements vfs.Inode. A merged directory has nlink 1, "unknown",
// as on Linux: neither layer's count is right, and find(1) takes 1 to
// mean it must not infer the number of subdirectories from nlink.
func (n *node) Stat() vfs.Stat {
	u, l := n.layers()
	var s vfs.Stat
	if u != nil {
		s = u.Stat()
		if l != nil && n.isDir() {
			s.Nlink = 1
		}
	} else {
		s = l.Stat()
	}
	s.Dev, s.Ino = n.fs.dev, n.ino
	return s
}

// Readlink implements vfs.Inode.
func (n *node) Readlink() (string, error) { return n.top().Readlink() }

// SetAttr implements vfs.Inode: the file is copied up first.
func (n *node) SetAttr(a *vfs.SetAttr) error {
	if err := n.copyUp(); err != nil {
		return err
	}
	u, _ := n.layers()
	return u.SetAttr(a)
}

// Lookup implements vfs.Inode.
func (n *node) Lookup(name string) (vfs.Inode, error) {
	c, err := n.child(name)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// child returns the node of the entry name.
func (n *node) child(name string) (*node, error) {
	if !n.isDir() {
		return nil, unix.ENOTDIR
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if c := n.children[name]; c != nil {
		return c, nil
	}
	var u, l vfs.Inode
	var err error
	if n.upper != nil {
		if u, err = n.upper.Lookup(name); err != nil && err != unix.ENOENT {
			return nil, err
		}
	}
	if n.lower != nil && !n.hide[name] {
		if l, err = n.lower.Lookup(name); err != nil && err != unix.ENOENT {
			return nil, err
		}
	}
	var typ uint32
	switch {
	case u != nil:
		typ = u.Stat().Mode & unix.S_IFMT
		if l != nil && (typ != unix.S_IFDIR || l.Stat().Mode&unix.S_IFMT != unix.S_IFDIR) {
			l = nil // an upper entry hides a lower one unless both are directories
		}
	case l != nil:
		typ = l.Stat().Mode & unix.S_IFMT
	default:
		return nil, unix.ENOENT
	}
	c := &node{fs: n.fs, typ: typ, parent: n, name: name, upper: u, lower: l}
	c.ino = c.originIno()
	n.addChildLocked(name, c)
	return c, nil
}

func (n *node) addChildLocked(name string, c *node) {
	if n.children == nil {
		n.children = make(map[string]*node)
	}
	n.children[name] = c
}

// hideLower records that the lower entry name, if any, no longer shows.
func (n *node) hideLower(name string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.lower == nil {
		return
	}
	if _, err := n.lower.Lookup(name); err != nil {
		return
	}
	if n.hide == nil {
		n.hide = make(map[string]bool)
	}
	n.hide[name] = true
}

// Open implements vfs.Inode: opening a regular file for writing (or with
// O_TRUNC) copies it up.
func (n *node) Open(flags int) (vfs.FileImpl, error) {
	if n.isDir() {
		return n.openDir()
	}
	if n.typ == unix.S_IFREG && (flags&unix.O_ACCMODE != unix.O_RDONLY || flags&unix.O_TRUNC != 0) {
		if err := n.copyUp(); err != nil {
			return nil, err
		}
	}
	u, l := n.layers()
	top := u
	if top == nil {
		top = l
	}
	impl, err := top.Open(flags)
	if err != nil {
		return nil, err
	}
	return &file{impl: impl, n: n, flags: flags, onLower: u == nil}, nil
}

// file wraps a layer's open file: Stat reports the overlay's device and
// inode number, and a file opened in the lower layer switches to the
// upper copy once another open copies it up, so that it reads what was
// written there (as Linux's overlayfs reopens its real file).
type file struct {
	n     *node
	flags int

	mu      sync.Mutex
	impl    vfs.FileImpl
	onLower bool
}

// real returns the layer's file to use now.
func (f *file) real() vfs.FileImpl {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.onLower {
		if u, _ := f.n.layers(); u != nil {
			if impl, err := u.Open(f.flags &^ (unix.O_TRUNC | unix.O_CREAT | unix.O_EXCL)); err == nil {
				f.impl.Release()
				f.impl, f.onLower = impl, false
			}
		}
	}
	return f.impl
}

func (f *file) Read(dst []byte, off int64) (int, error) { return f.real().Read(dst, off) }
func (f *file) Write(src []byte, off int64, app bool) (int, int64, error) {
	return f.real().Write(src, off, app)
}
func (f *file) Lseek(cur, off int64, whence int) (int64, error) {
	return f.real().Lseek(cur, off, whence)
}
func (f *file) ReadDir(pos int64, emit func(vfs.Dirent) bool) error {
	return f.real().ReadDir(pos, emit)
}
func (f *file) Stat() (vfs.Stat, error)   { return f.n.Stat(), nil }
func (f *file) Truncate(size int64) error { return f.real().Truncate(size) }
func (f *file) Allocate(mode uint32, off, length int64) error {
	return f.real().Allocate(mode, off, length)
}
func (f *file) Sync(dataOnly bool) error { return f.real().Sync(dataOnly) }
func (f *file) Readiness(mask vfs.EventMask) vfs.EventMask {
	return f.real().Readiness(mask)
}
func (f *file) Queue() *vfs.WaitQueue { return f.real().Queue() }

func (f *file) Release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.impl.Release()
}

// Page implements vfs.PageSource when the layer's file does.
func (f *file) Page(index int64, alloc bool) (*[vfs.PageSize]byte, error) {
	if ps, ok := f.real().(vfs.PageSource); ok {
		return ps.Page(index, alloc)
	}
	return nil, unix.ENODEV
}
