package p9fs

import (
	"path/filepath"

	"github.com/hugelgupf/p9/fsimpl/templatefs"
	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"
)

// hostAttacher serves a host directory the way QEMU's local backend
// does with security_model=none: fids are paths, opened fids hold a
// host fd, every error is the host's errno. (hugelgupf/p9's localfs
// lacks mknod, unlinkat, statfs and most of setattr.)
type hostAttacher struct{ root string }

func (a hostAttacher) Attach() (p9.File, error) { return &hostFile{path: a.root, fd: -1}, nil }

type hostFile struct {
	p9.DefaultWalkGetAttr
	templatefs.NotImplementedFile
	templatefs.NilSyncer
	path string
	fd   int
}

func errOf(err error) error {
	if e, ok := err.(unix.Errno); ok {
		return linux.Errno(e)
	}
	if err != nil {
		return linux.EIO
	}
	return nil
}

func (h *hostFile) stat() (unix.Stat_t, error) {
	var st unix.Stat_t
	var err error
	if h.fd >= 0 {
		err = unix.Fstat(h.fd, &st)
	} else {
		err = unix.Lstat(h.path, &st)
	}
	return st, errOf(err)
}

func qidOf(st *unix.Stat_t) p9.QID {
	q := p9.QID{Path: st.Ino}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		q.Type = p9.TypeDir
	case unix.S_IFLNK:
		q.Type = p9.TypeSymlink
	}
	return q
}

func (h *hostFile) qid() (p9.QID, error) {
	st, err := h.stat()
	return qidOf(&st), err
}

func (h *hostFile) Walk(names []string) ([]p9.QID, p9.File, error) {
	p := h.path
	var qids []p9.QID
	for _, n := range names {
		p = filepath.Join(p, n)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return nil, nil, errOf(err)
		}
		qids = append(qids, qidOf(&st))
	}
	return qids, &hostFile{path: p, fd: -1}, nil
}

func (h *hostFile) GetAttr(req p9.AttrMask) (p9.QID, p9.AttrMask, p9.Attr, error) {
	st, err := h.stat()
	if err != nil {
		return p9.QID{}, p9.AttrMask{}, p9.Attr{}, err
	}
	return qidOf(&st), p9.AttrMaskAll, p9.Attr{
		Mode: p9.FileMode(st.Mode), UID: p9.UID(st.Uid), GID: p9.GID(st.Gid), NLink: p9.NLink(st.Nlink),
		RDev: p9.Dev(st.Rdev), Size: uint64(st.Size), BlockSize: uint64(st.Blksize), Blocks: uint64(st.Blocks),
		ATimeSeconds: uint64(st.Atim.Sec), ATimeNanoSeconds: uint64(st.Atim.Nsec),
		MTimeSeconds: uint64(st.Mtim.Sec), MTimeNanoSeconds: uint64(st.Mtim.Nsec),
		CTimeSeconds: uint64(st.Ctim.Sec), CTimeNanoSeconds: uint64(st.Ctim.Nsec),
	}, nil
}

func (h *hostFile) SetAttr(valid p9.SetAttrMask, a p9.SetAttr) error {
	if valid.Permissions {
		if err := unix.Chmod(h.path, uint32(a.Permissions)&07777); err != nil {
			return errOf(err)
		}
	}
	if valid.UID || valid.GID {
		uid, gid := -1, -1
		if valid.UID {
			uid = int(a.UID)
		}
		if valid.GID {
			gid = int(a.GID)
		}
		if err := unix.Lchown(h.path, uid, gid); err != nil {
			return errOf(err)
		}
	}
	if valid.Size {
		var err error
		if h.fd >= 0 {
			err = unix.Ftruncate(h.fd, int64(a.Size))
		} else {
			err = unix.Truncate(h.path, int64(a.Size))
		}
		if err != nil {
			return errOf(err)
		}
	}
	if valid.ATime || valid.MTime {
		ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Nsec: unix.UTIME_OMIT}}
		if valid.ATime {
			ts[0] = unix.Timespec{Nsec: unix.UTIME_NOW}
			if valid.ATimeNotSystemTime {
				ts[0] = unix.Timespec{Sec: int64(a.ATimeSeconds), Nsec: int64(a.ATimeNanoSeconds)}
			}
		}
		if valid.MTime {
			ts[1] = unix.Timespec{Nsec: unix.UTIME_NOW}
			if valid.MTimeNotSystemTime {
				ts[1] = unix.Timespec{Sec: int64(a.MTimeSeconds), Nsec: int64(a.MTimeNanoSeconds)}
			}
		}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, h.path, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return errOf(err)
		}
	}
	return nil
}

func (h *hostFile) Close() error {
	if h.fd >= 0 {
		unix.Close(h.fd)
		h.fd = -1
	}
	return nil
}

func (h *hostFile) Open(mode p9.OpenFlags) (p9.QID, uint32, error) {
	fd, err := unix.Open(h.path, int(mode&p9.OpenFlagsModeMask)|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return p9.QID{}, 0, errOf(err)
	}
	h.fd = fd
	q, err := h.qid()
	return q, 0, err
}

func (h *hostFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := unix.Pread(h.fd, p, off)
	if n < 0 {
		n = 0
	}
	return n, errOf(err)
}

func (h *hostFile) WriteAt(p []byte, off int64) (int, error) {
	n, err := unix.Pwrite(h.fd, p, off)
	if n < 0 {
		n = 0
	}
	return n, errOf(err)
}

func (h *hostFile) FSync() error { return errOf(unix.Fsync(h.fd)) }

func (h *hostFile) StatFS() (p9.FSStat, error) {
	var s unix.Statfs_t
	if err := unix.Statfs(h.path, &s); err != nil {
		return p9.FSStat{}, errOf(err)
	}
	return p9.FSStat{Type: uint32(s.Type), BlockSize: uint32(s.Bsize), Blocks: s.Blocks, BlocksFree: s.Bfree,
		BlocksAvailable: s.Bavail, Files: s.Files, FilesFree: s.Ffree, NameLength: uint32(s.Namelen)}, nil
}

func (h *hostFile) child(name string) (p9.QID, error) {
	var st unix.Stat_t
	err := unix.Lstat(filepath.Join(h.path, name), &st)
	return qidOf(&st), errOf(err)
}

func (h *hostFile) Create(name string, flags p9.OpenFlags, perm p9.FileMode, _ p9.UID, _ p9.GID) (p9.File, p9.QID, uint32, error) {
	p := filepath.Join(h.path, name)
	fd, err := unix.Open(p, int(flags&p9.OpenFlagsModeMask)|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, uint32(perm)&07777)
	if err != nil {
		return nil, p9.QID{}, 0, errOf(err)
	}
	f := &hostFile{path: p, fd: fd}
	q, err := f.qid()
	return f, q, 0, err
}

func (h *hostFile) Mkdir(name string, perm p9.FileMode, _ p9.UID, _ p9.GID) (p9.QID, error) {
	if err := unix.Mkdir(filepath.Join(h.path, name), uint32(perm)&07777); err != nil {
		return p9.QID{}, errOf(err)
	}
	return h.child(name)
}

func (h *hostFile) Symlink(target, name string, _ p9.UID, _ p9.GID) (p9.QID, error) {
	if err := unix.Symlink(target, filepath.Join(h.path, name)); err != nil {
		return p9.QID{}, errOf(err)
	}
	return h.child(name)
}

func (h *hostFile) Link(target p9.File, name string) error {
	return errOf(unix.Link(target.(*hostFile).path, filepath.Join(h.path, name)))
}

func (h *hostFile) Mknod(name string, mode p9.FileMode, major, minor uint32, _ p9.UID, _ p9.GID) (p9.QID, error) {
	if err := unix.Mknod(filepath.Join(h.path, name), uint32(mode), int(unix.Mkdev(major, minor))); err != nil {
		return p9.QID{}, errOf(err)
	}
	return h.child(name)
}

func (h *hostFile) Rename(newDir p9.File, newName string) error { return linux.ENOSYS }

func (h *hostFile) RenameAt(oldName string, newDir p9.File, newName string) error {
	return errOf(unix.Rename(filepath.Join(h.path, oldName), filepath.Join(newDir.(*hostFile).path, newName)))
}

func (h *hostFile) Renamed(parent p9.File, newName string) {
	h.path = filepath.Join(parent.(*hostFile).path, newName)
}

func (h *hostFile) UnlinkAt(name string, flags uint32) error {
	return errOf(unix.Unlinkat(unix.AT_FDCWD, filepath.Join(h.path, name), int(flags)))
}

func (h *hostFile) Readlink() (string, error) {
	buf := make([]byte, 4096)
	n, err := unix.Readlink(h.path, buf)
	if err != nil {
		return "", errOf(err)
	}
	return string(buf[:n]), nil
}

// Readdir lists the directory with "." and ".." as QEMU does, the
// offset of entry k being k+1; the server trims the reply to count.
func (h *hostFile) Readdir(offset uint64, count uint32) (p9.Dirents, error) {
	fd, err := unix.Open(h.path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, errOf(err)
	}
	defer unix.Close(fd)
	var names []string
	buf := make([]byte, 1<<16)
	for {
		n, err := unix.ReadDirent(fd, buf)
		if err != nil {
			return nil, errOf(err)
		}
		if n == 0 {
			break
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
	names = append([]string{".", ".."}, names...)
	var ents p9.Dirents
	for k := offset; k < uint64(len(names)); k++ {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(h.path, names[k]), &st); err != nil {
			continue
		}
		ents = append(ents, p9.Dirent{QID: qidOf(&st), Offset: k + 1, Type: p9.QIDType(dtOf(st.Mode)), Name: names[k]})
	}
	return ents, nil
}

func dtOf(mode uint32) uint8 {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return unix.DT_DIR
	case unix.S_IFLNK:
		return unix.DT_LNK
	case unix.S_IFIFO:
		return unix.DT_FIFO
	case unix.S_IFSOCK:
		return unix.DT_SOCK
	case unix.S_IFCHR:
		return unix.DT_CHR
	case unix.S_IFBLK:
		return unix.DT_BLK
	}
	return unix.DT_REG
}
