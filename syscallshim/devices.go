package syscallshim

import (
	"golang.org/x/sys/unix"

	"yolk/vfs"
)

// device is /dev/null, /dev/zero, /dev/full, /dev/random or /dev/urandom:
// any character-device node with one of their numbers, on any filesystem
// (System.openSpecial).
type device struct {
	rdev uint64
	m    Machine
	st   vfs.Stat // the node's metadata
}

func (d *device) Read(b []byte) (int, error) {
	switch d.rdev {
	case rdevNull:
		return 0, nil
	case rdevRandom, rdevURandom:
		d.m.Random(b)
	default:
		clear(b)
	}
	return len(b), nil
}

func (d *device) Write(b []byte) (int, error) {
	if d.rdev == rdevFull {
		return 0, unix.ENOSPC
	}
	return len(b), nil
}

func (d *device) Close() error { return nil }

func (d *device) Stat() stat {
	return stat{
		dev: d.st.Dev, ino: d.st.Ino, rdev: d.st.Rdev, mode: d.st.Mode, nlink: d.st.Nlink,
		uid: d.st.UID, gid: d.st.GID, blksize: 4096, mtime: d.st.Mtime.Nano(),
	}
}

func (d *device) poll() uint32 { return unix.EPOLLIN | unix.EPOLLOUT }
