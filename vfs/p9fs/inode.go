package p9fs

import (
	"sync"

	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"

	"yolk/vfs"
)

// inode is one file of the share, held by a walked (unopened) fid. The
// client library clunks the fid when the inode is garbage collected.
type inode struct {
	fs   *FS
	file p9.File
	ino  uint64 // the qid's path
	typ  uint32 // S_IFMT, fixed

	mu    sync.Mutex
	st    vfs.Stat // last known attributes
	valid bool     // st is what the host holds now
	gen   uint64   // bumped by every invalidation
}

func (fs *FS) newInode(f p9.File, qid p9.QID, a p9.Attr) *inode {
	i := &inode{fs: fs, file: f, ino: qid.Path}
	i.st = fs.stat(qid, a)
	i.typ = i.st.Type()
	if i.typ == 0 {
		i.typ = qidType(qid)
		i.st.Mode |= i.typ
	}
	i.valid = true
	return i
}

// qidType is the S_IFMT a qid's type implies.
func qidType(q p9.QID) uint32 {
	switch {
	case q.Type&p9.TypeDir != 0:
		return unix.S_IFDIR
	case q.Type&p9.TypeSymlink != 0:
		return unix.S_IFLNK
	}
	return unix.S_IFREG
}

// stat converts a 9P attribute set.
func (fs *FS) stat(q p9.QID, a p9.Attr) vfs.Stat {
	ts := func(s, ns uint64) vfs.Timespec { return vfs.Timespec{Sec: int64(s), Nsec: int64(ns % 1e9)} }
	st := vfs.Stat{
		Dev: fs.dev, Ino: q.Path, Mode: uint32(a.Mode), Nlink: uint32(a.NLink),
		UID: uint32(a.UID), GID: uint32(a.GID), Rdev: uint64(a.RDev),
		Size: int64(a.Size), Blocks: int64(a.Blocks), Blksize: int64(a.BlockSize),
		Atime: ts(a.ATimeSeconds, a.ATimeNanoSeconds),
		Mtime: ts(a.MTimeSeconds, a.MTimeNanoSeconds),
		Ctime: ts(a.CTimeSeconds, a.CTimeNanoSeconds),
		Btime: ts(a.BTimeSeconds, a.BTimeNanoSeconds),
	}
	if st.Size < 0 {
		st.Size = 0
	}
	if st.Blksize <= 0 || st.Blksize > 1<<20 {
		st.Blksize = 4096
	}
	return st
}

// invalidate drops the cached attributes: the guest changed the file.
func (i *inode) invalidate() {
	i.mu.Lock()
	i.valid = false
	i.gen++
	i.mu.Unlock()
}

// Stat implements vfs.Inode: the cached attributes, or a Tgetattr. If
// the host fails it (the name is gone), the last known ones.
func (i *inode) Stat() vfs.Stat {
	i.mu.Lock()
	if i.valid {
		st := i.st
		i.mu.Unlock()
		return st
	}
	gen := i.gen
	i.mu.Unlock()
	st, err := i.getattr(i.file)
	i.mu.Lock()
	defer i.mu.Unlock()
	if err != nil {
		return i.st
	}
	if i.gen == gen {
		i.st, i.valid = st, true
	}
	return st
}

// getattr asks the host for f's attributes (f is i's fid or an open one).
func (i *inode) getattr(f p9.File) (vfs.Stat, error) {
	var qid p9.QID
	var a p9.Attr
	err := i.fs.do(func() (err error) { qid, _, a, err = f.GetAttr(p9.AttrMaskAll); return })
	if err != nil {
		return vfs.Stat{}, err
	}
	st := i.fs.stat(qid, a)
	st.Ino = i.ino
	st.Mode = st.Mode&^unix.S_IFMT | i.typ // a file's type never changes
	return st, nil
}

// SetAttr implements vfs.Inode with Tsetattr.
func (i *inode) SetAttr(a *vfs.SetAttr) error {
	return i.setattr(i.file, a)
}

func (i *inode) setattr(f p9.File, a *vfs.SetAttr) error {
	var m p9.SetAttrMask
	var s p9.SetAttr
	if a.Mask&vfs.SetMode != 0 {
		m.Permissions, s.Permissions = true, p9.FileMode(a.Mode&^unix.S_IFMT)
	}
	if a.Mask&vfs.SetUID != 0 {
		m.UID, s.UID = true, p9.UID(a.UID)
	}
	if a.Mask&vfs.SetGID != 0 {
		m.GID, s.GID = true, p9.GID(a.GID)
	}
	if a.Mask&vfs.SetSize != 0 {
		if a.Size < 0 {
			return unix.EINVAL
		}
		m.Size, s.Size = true, uint64(a.Size)
	}
	if a.Mask&(vfs.SetAtime|vfs.SetAtimeNow) != 0 {
		m.ATime = true
		if a.Mask&vfs.SetAtime != 0 {
			m.ATimeNotSystemTime = true
			s.ATimeSeconds, s.ATimeNanoSeconds = uint64(a.Atime.Sec), uint64(a.Atime.Nsec)
		}
	}
	if a.Mask&(vfs.SetMtime|vfs.SetMtimeNow) != 0 {
		m.MTime = true
		if a.Mask&vfs.SetMtime != 0 {
			m.MTimeNotSystemTime = true
			s.MTimeSeconds, s.MTimeNanoSeconds = uint64(a.Mtime.Sec), uint64(a.Mtime.Nsec)
		}
	}
	if a.Mask&vfs.SetCtime != 0 {
		m.CTime = true
	}
	if m.Empty() {
		return nil
	}
	defer i.invalidate()
	return i.fs.do(func() error { return f.SetAttr(m, s) })
}

// Open implements vfs.Inode: a clone of the fid, opened with Tlopen in
// the access mode (the VFS does O_TRUNC and O_APPEND itself). FIFOs,
// sockets and devices are the VFS's special opener's business.
func (i *inode) Open(flags int) (vfs.FileImpl, error) {
	var mode p9.OpenFlags
	switch flags & unix.O_ACCMODE {
	case unix.O_WRONLY:
		mode = p9.WriteOnly
	case unix.O_RDWR:
		mode = p9.ReadWrite
	}
	switch i.typ {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		mode = p9.ReadOnly
	default:
		return nil, unix.ENXIO
	}
	var f p9.File
	err := i.fs.do(func() (err error) {
		_, f, err = i.file.Walk(nil)
		if err != nil {
			return err
		}
		if _, _, err = f.Open(mode); err != nil {
			f.Close()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if i.typ == unix.S_IFDIR {
		return &dirFile{i: i, f: f}, nil
	}
	return &regFile{i: i, f: f}, nil
}

// Readlink implements vfs.Inode with Treadlink.
func (i *inode) Readlink() (string, error) {
	if i.typ != unix.S_IFLNK {
		return "", unix.EINVAL
	}
	var s string
	err := i.fs.do(func() (err error) { s, err = i.file.Readlink(); return })
	return s, err
}

func (i *inode) dir() error {
	if i.typ != unix.S_IFDIR {
		return unix.ENOTDIR
	}
	return nil
}

// Lookup implements vfs.Inode with Twalk and Tgetattr.
func (i *inode) Lookup(name string) (vfs.Inode, error) {
	if err := i.dir(); err != nil {
		return nil, err
	}
	var qids []p9.QID
	var f p9.File
	var a p9.Attr
	err := i.fs.do(func() (err error) {
		qids, f, _, a, err = i.file.WalkGetAttr([]string{name})
		if err == nil && len(qids) != 1 {
			f.Close()
			err = unix.EIO
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return i.fs.newInode(f, qids[0], a), nil
}

// Create implements vfs.Inode: Tmkdir, Tsymlink, or Tmknod (regular
// files too, so nothing is opened), then a walk to the new name.
func (i *inode) Create(name string, a vfs.CreateAttr) (vfs.Inode, error) {
	if err := i.dir(); err != nil {
		return nil, err
	}
	uid, gid := p9.UID(a.UID), p9.GID(a.GID)
	err := i.fs.do(func() (err error) {
		switch a.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			_, err = i.file.Mkdir(name, p9.FileMode(a.Mode&^unix.S_IFMT), uid, gid)
		case unix.S_IFLNK:
			_, err = i.file.Symlink(a.Target, name, uid, gid)
		case unix.S_IFREG, unix.S_IFIFO, unix.S_IFSOCK, unix.S_IFCHR, unix.S_IFBLK:
			_, err = i.file.Mknod(name, p9.FileMode(a.Mode), unix.Major(a.Rdev), unix.Minor(a.Rdev), uid, gid)
		default:
			err = unix.EINVAL
		}
		return err
	})
	i.invalidate()
	if err != nil {
		return nil, err
	}
	return i.Lookup(name)
}

// Tmpfile implements vfs.Inode: 9P has no unnamed files.
func (i *inode) Tmpfile(vfs.CreateAttr) (vfs.Inode, error) {
	if err := i.dir(); err != nil {
		return nil, err
	}
	return nil, unix.EOPNOTSUPP
}

// Link implements vfs.Inode with Tlink.
func (i *inode) Link(name string, target vfs.Inode) error {
	if err := i.dir(); err != nil {
		return err
	}
	t, ok := target.(*inode)
	if !ok || t.fs != i.fs {
		return unix.EXDEV
	}
	defer t.invalidate()
	defer i.invalidate()
	return i.fs.do(func() error { return i.file.Link(t.file, name) })
}

// Remove implements vfs.Inode with Tunlinkat.
func (i *inode) Remove(name string, child vfs.Inode) error {
	if err := i.dir(); err != nil {
		return err
	}
	var flags uint32
	c, _ := child.(*inode)
	if c != nil && c.typ == unix.S_IFDIR {
		flags = unix.AT_REMOVEDIR
	}
	if c != nil {
		c.Stat() // know the link count before the name goes
	}
	err := i.fs.do(func() error { return i.file.UnlinkAt(name, flags) })
	i.invalidate()
	if err != nil {
		return err
	}
	if c != nil {
		c.unlinked()
	}
	return nil
}

// unlinked records that a name of i went away. The fid named that path,
// so the host may not answer for it any more: the cache is kept, with
// the link count Linux would show.
func (i *inode) unlinked() {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.typ == unix.S_IFDIR || i.st.Nlink <= 1 {
		i.st.Nlink = 0
	} else {
		i.st.Nlink--
	}
	i.st.Ctime = vfs.Now()
	i.valid = true
	i.gen++
}

// Rename implements vfs.Inode with Trenameat. RENAME_NOREPLACE is a
// plain rename (the VFS saw no entry newName, and the guest is the only
// writer); RENAME_EXCHANGE and RENAME_WHITEOUT have no 9P form: EINVAL,
// as Linux's 9p says.
func (i *inode) Rename(oldName string, child vfs.Inode, newDir vfs.Inode, newName string, replaced vfs.Inode, flags uint32) error {
	if err := i.dir(); err != nil {
		return err
	}
	if flags&^unix.RENAME_NOREPLACE != 0 {
		return unix.EINVAL
	}
	nd, ok := newDir.(*inode)
	if !ok || nd.fs != i.fs {
		return unix.EXDEV
	}
	r, _ := replaced.(*inode)
	if r != nil {
		r.Stat()
	}
	err := i.fs.do(func() error { return i.file.RenameAt(oldName, nd.file, newName) })
	i.invalidate()
	nd.invalidate()
	if c, ok := child.(*inode); ok {
		c.invalidate()
	}
	if err != nil {
		return err
	}
	if r != nil {
		r.unlinked()
	}
	return nil
}
