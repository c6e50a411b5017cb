package vfs

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Filesystem is one instance of a filesystem type: the tree a Mount
// attaches.
type Filesystem interface {
	// Name is the type name /proc/mounts shows, e.g. "tmpfs".
	Name() string
	// Root returns the root directory.
	Root() Inode
	// Statfs reports usage and limits.
	Statfs() Statfs
}

// Inode is one file of a filesystem. The VFS has done every check that
// does not depend on the filesystem's contents (path resolution,
// permissions, read-only mounts, types, "." and ".."): methods only do the
// change, update nlink and times as Linux does, and return what only they
// can detect (ENOSPC, ENOTEMPTY, EROFS of a read-only filesystem). Errors
// are unix.Errno.
//
// Directory methods on a non-directory return ENOTDIR; embed NotDir to get
// that, or ReadOnly for a filesystem that cannot change.
type Inode interface {
	// Stat returns the inode's metadata.
	Stat() Stat
	// SetAttr changes the attributes a.Mask selects.
	SetAttr(a *SetAttr) error
	// Open returns the implementation of a new open-file description.
	// flags are open(2)'s; the VFS handles O_CREAT, O_EXCL, O_TRUNC,
	// O_DIRECTORY, O_NOFOLLOW and O_PATH itself.
	Open(flags int) (FileImpl, error)
	// Readlink returns a symlink's target (EINVAL for other types).
	Readlink() (string, error)

	// Lookup returns the entry name (never "." or ".."), or ENOENT.
	Lookup(name string) (Inode, error)
	// Create makes a new entry name, which does not exist, of the type in
	// a.Mode: regular file, directory, symlink (a.Target), FIFO, socket or
	// device.
	Create(name string, a CreateAttr) (Inode, error)
	// Tmpfile makes an unnamed regular file in this directory's
	// filesystem (O_TMPFILE); Link may name it later.
	Tmpfile(a CreateAttr) (Inode, error)
	// Link adds the entry name for the non-directory target, an inode of
	// this filesystem; name does not exist.
	Link(name string, target Inode) error
	// Remove removes the entry name, which names child: a directory
	// (rmdir: ENOTEMPTY unless empty) or not (unlink), as the VFS checked.
	Remove(name string, child Inode) error
	// Rename moves the entry oldName (naming child) to newName in newDir,
	// a directory of this filesystem, replacing replaced (nil if newName
	// does not exist; an empty directory if child is one). With
	// RENAME_EXCHANGE the two entries swap and replaced is not nil.
	Rename(oldName string, child Inode, newDir Inode, newName string, replaced Inode, flags uint32) error
}

// NotDir implements the directory methods of Inode for non-directories.
type NotDir struct{}

func (NotDir) Lookup(string) (Inode, error)             { return nil, unix.ENOTDIR }
func (NotDir) Create(string, CreateAttr) (Inode, error) { return nil, unix.ENOTDIR }
func (NotDir) Tmpfile(CreateAttr) (Inode, error)        { return nil, unix.ENOTDIR }
func (NotDir) Link(string, Inode) error                 { return unix.ENOTDIR }
func (NotDir) Remove(string, Inode) error               { return unix.ENOTDIR }
func (NotDir) Rename(string, Inode, Inode, string, Inode, uint32) error {
	return unix.ENOTDIR
}

// ReadOnly implements the changing methods of Inode with EROFS.
type ReadOnly struct{}

func (ReadOnly) SetAttr(*SetAttr) error                   { return unix.EROFS }
func (ReadOnly) Create(string, CreateAttr) (Inode, error) { return nil, unix.EROFS }
func (ReadOnly) Tmpfile(CreateAttr) (Inode, error)        { return nil, unix.EROFS }
func (ReadOnly) Link(string, Inode) error                 { return unix.EROFS }
func (ReadOnly) Remove(string, Inode) error               { return unix.EROFS }
func (ReadOnly) Rename(string, Inode, Inode, string, Inode, uint32) error {
	return unix.EROFS
}

var lastAnonDev atomic.Uint32

// NewDev returns a device number for a filesystem without a device of its
// own, as Linux's anonymous block devices: major 0, a fresh minor.
func NewDev() uint64 { return unix.Mkdev(0, lastAnonDev.Add(1)) }
