package vfs

import (
	"time"

	"golang.org/x/sys/unix"
)

// Limits of names and paths, as Linux's NAME_MAX, PATH_MAX-1 and
// MAXSYMLINKS.
const (
	MaxNameLen  = 255
	MaxPathLen  = 4095
	MaxSymlinks = 40
)

// Timespec is a time as struct timespec holds it.
type Timespec = unix.Timespec

// Now returns the current time as a Timespec.
func Now() Timespec { return unix.NsecToTimespec(time.Now().UnixNano()) }

// Stat is the metadata statx(2) reports. Every field is valid.
type Stat struct {
	Dev     uint64 // st_dev: the filesystem's device number
	Ino     uint64
	Mode    uint32 // S_IFMT type bits | set-id, sticky | permissions
	Nlink   uint32
	UID     uint32
	GID     uint32
	Rdev    uint64
	Size    int64
	Blocks  int64 // 512-byte units allocated
	Blksize int64
	Atime   Timespec
	Mtime   Timespec
	Ctime   Timespec
	Btime   Timespec
}

// Type returns the S_IFMT bits of the mode.
func (s Stat) Type() uint32 { return s.Mode & unix.S_IFMT }

// IsDir reports whether s describes a directory.
func (s Stat) IsDir() bool { return s.Type() == unix.S_IFDIR }

// Statfs is what statfs(2) reports about a filesystem.
type Statfs struct {
	Type    int64 // f_type magic, e.g. unix.TMPFS_MAGIC
	Bsize   int64
	Blocks  uint64
	Bfree   uint64
	Bavail  uint64
	Files   uint64
	Ffree   uint64
	Namelen int64
	Frsize  int64
	Flags   int64 // ST_* mount flags; the VFS adds ST_RDONLY for read-only mounts
}

// SetAttr names the attributes Inode.SetAttr changes: a field is applied
// only if its bit is in Mask. The VFS has checked permissions and
// arguments; the filesystem applies them and sets ctime to its clock's now
// when SetCtime is set (Linux changes ctime with every attribute change).
type SetAttr struct {
	Mask  AttrMask
	Mode  uint32 // permission, set-id and sticky bits only
	UID   uint32
	GID   uint32
	Size  int64
	Atime Timespec // when Mask has SetAtime (not SetAtimeNow)
	Mtime Timespec
}

// AttrMask selects the fields of a SetAttr.
type AttrMask uint32

// Bits of AttrMask.
const (
	SetMode AttrMask = 1 << iota
	SetUID
	SetGID
	SetSize
	SetAtime    // Atime as given
	SetMtime    // Mtime as given
	SetAtimeNow // the filesystem's now
	SetMtimeNow
	SetCtime // ctime to now
)

// CreateAttr describes a new inode for Inode.Create and Inode.Tmpfile.
type CreateAttr struct {
	Mode   uint32 // S_IFMT type | permissions (umask already applied)
	UID    uint32
	GID    uint32
	Rdev   uint64 // character and block devices
	Target string // symlinks
}

// Dirent is one directory entry. Off is the position just after it: a
// directory File at position Off continues with the next entry.
type Dirent struct {
	Name string
	Ino  uint64
	Type uint8 // DT_* as getdents64 reports it
	Off  int64
}

// DirentType returns the DT_* value of an S_IFMT mode.
func DirentType(mode uint32) uint8 {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return unix.DT_REG
	case unix.S_IFDIR:
		return unix.DT_DIR
	case unix.S_IFLNK:
		return unix.DT_LNK
	case unix.S_IFCHR:
		return unix.DT_CHR
	case unix.S_IFBLK:
		return unix.DT_BLK
	case unix.S_IFIFO:
		return unix.DT_FIFO
	case unix.S_IFSOCK:
		return unix.DT_SOCK
	}
	return unix.DT_UNKNOWN
}

// FirstCookie is the first position filesystems give their own entries;
// 0, 1 and 2 are the start, "." and "..", which the VFS produces.
const FirstCookie = 3

// Statx returns s as statx(2) fills struct statx, with every basic field
// and the birth time valid.
func (s Stat) Statx() unix.Statx_t {
	ts := func(t Timespec) unix.StatxTimestamp {
		return unix.StatxTimestamp{Sec: t.Sec, Nsec: uint32(t.Nsec)}
	}
	return unix.Statx_t{
		Mask:       unix.STATX_BASIC_STATS | unix.STATX_BTIME,
		Blksize:    uint32(s.Blksize),
		Nlink:      s.Nlink,
		Uid:        s.UID,
		Gid:        s.GID,
		Mode:       uint16(s.Mode),
		Ino:        s.Ino,
		Size:       uint64(s.Size),
		Blocks:     uint64(s.Blocks),
		Atime:      ts(s.Atime),
		Btime:      ts(s.Btime),
		Ctime:      ts(s.Ctime),
		Mtime:      ts(s.Mtime),
		Rdev_major: unix.Major(s.Rdev),
		Rdev_minor: unix.Minor(s.Rdev),
		Dev_major:  unix.Major(s.Dev),
		Dev_minor:  unix.Minor(s.Dev),
	}
}

// StatT returns s as stat(2) fills struct stat on x86-64.
func (s Stat) StatT() unix.Stat_t {
	return unix.Stat_t{
		Dev: s.Dev, Ino: s.Ino, Nlink: uint64(s.Nlink), Mode: s.Mode, Uid: s.UID, Gid: s.GID,
		Rdev: s.Rdev, Size: s.Size, Blksize: s.Blksize, Blocks: s.Blocks,
		Atim: s.Atime, Mtim: s.Mtime, Ctim: s.Ctime,
	}
}
