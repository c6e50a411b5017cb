// Package cpiofs presents an initrd.FS, the tree parsed from the boot
// cpio archive, as a read-only vfs.Filesystem. File contents are the
// archive's bytes, never copied. Every change is EROFS; overlay puts a
// writable layer on top.
package cpiofs

import (
	"sort"

	"golang.org/x/sys/unix"

	"yolk/initrd"
	"yolk/vfs"
)

// FS is a read-only filesystem over an initrd.FS.
type FS struct {
	tree *initrd.FS
	dev  uint64
}

// New returns the filesystem of tree.
func New(tree *initrd.FS) *FS { return &FS{tree: tree, dev: vfs.NewDev()} }

// Name implements vfs.Filesystem.
func (fs *FS) Name() string { return "rootfs" }

// Root implements vfs.Filesystem.
func (fs *FS) Root() vfs.Inode { return inode{fs: fs, n: fs.tree.Root()} }

// Statfs implements vfs.Filesystem.
func (fs *FS) Statfs() vfs.Statfs {
	return vfs.Statfs{
		Type: unix.RAMFS_MAGIC, Bsize: vfs.PageSize, Frsize: vfs.PageSize, Namelen: vfs.MaxNameLen,
		Files: uint64(fs.tree.Len()), Flags: unix.ST_RDONLY,
	}
}

// inode is one node; as a comparable value, the same node always gives
// an equal vfs.Inode.
type inode struct {
	vfs.ReadOnly
	fs *FS
	n  *initrd.Node
}

// Node returns the initrd node behind a cpiofs inode, or nil.
func Node(i vfs.Inode) *initrd.Node {
	if c, ok := i.(inode); ok {
		return c.n
	}
	return nil
}

// Stat implements vfs.Inode. The archive has only mtime (in seconds);
// the other times are the same.
func (i inode) Stat() vfs.Stat {
	n := i.n
	t := vfs.Timespec{Sec: n.Mtime}
	return vfs.Stat{
		Dev: i.fs.dev, Ino: n.Ino, Mode: n.Mode, Nlink: n.Nlink, UID: n.UID, GID: n.GID, Rdev: n.Rdev,
		Size: n.Size, Blocks: (n.Size + 511) / 512, Blksize: vfs.PageSize,
		Atime: t, Mtime: t, Ctime: t, Btime: t,
	}
}

// Readlink implements vfs.Inode.
func (i inode) Readlink() (string, error) {
	if !i.n.IsSymlink() {
		return "", unix.EINVAL
	}
	return i.n.Target, nil
}

// Lookup implements vfs.Inode.
func (i inode) Lookup(name string) (vfs.Inode, error) {
	if !i.n.IsDir() {
		return nil, unix.ENOTDIR
	}
	c, err := i.fs.tree.LookupAt(i.n, name, false)
	if err != nil {
		return nil, err
	}
	return inode{fs: i.fs, n: c}, nil
}

// Open implements vfs.Inode.
func (i inode) Open(flags int) (vfs.FileImpl, error) {
	if flags&unix.O_ACCMODE != unix.O_RDONLY {
		return nil, unix.EROFS
	}
	switch {
	case i.n.IsRegular():
		return &regFile{i: i}, nil
	case i.n.IsDir():
		return &dirFile{i: i}, nil
	}
	return nil, unix.ENXIO
}

type regFile struct {
	vfs.FileBase
	i inode
}

func (f *regFile) Read(dst []byte, off int64) (int, error) {
	d := f.i.n.Data
	if off >= int64(len(d)) {
		return 0, nil
	}
	return copy(dst, d[off:]), nil
}

func (f *regFile) Write([]byte, int64, bool) (int, int64, error) { return 0, 0, unix.EBADF }

func (f *regFile) Lseek(cur, off int64, whence int) (int64, error) {
	return vfs.SeekTo(cur, off, whence, f.i.n.Size)
}

func (f *regFile) Stat() (vfs.Stat, error) { return f.i.Stat(), nil }
func (f *regFile) Truncate(int64) error    { return unix.EROFS }
func (f *regFile) Allocate(uint32, int64, int64) error {
	return unix.EROFS
}
func (f *regFile) Sync(bool) error { return nil }

type dirFile struct {
	vfs.FileBase
	i inode
}

func (f *dirFile) Read([]byte, int64) (int, error) { return 0, unix.EISDIR }

func (f *dirFile) Lseek(cur, off int64, whence int) (int64, error) {
	return vfs.SeekDir(cur, off, whence)
}

// ReadDir implements vfs.FileImpl: positions are indexes in the sorted
// (and unchanging) entry list.
func (f *dirFile) ReadDir(pos int64, emit func(vfs.Dirent) bool) error {
	kids := f.i.fs.tree.ReadDir(f.i.n)
	k := sort.Search(len(kids), func(k int) bool { return int64(k)+vfs.FirstCookie > pos })
	for ; k < len(kids); k++ {
		c := kids[k]
		if !emit(vfs.Dirent{Name: c.Name, Ino: c.Ino, Type: vfs.DirentType(c.Mode), Off: int64(k) + vfs.FirstCookie}) {
			break
		}
	}
	return nil
}

func (f *dirFile) Stat() (vfs.Stat, error) { return f.i.Stat(), nil }
func (f *dirFile) Sync(bool) error         { return nil }
