package vfs

import (
	"golang.org/x/sys/unix"
)

// The namespace operations. Each takes the caller's Context and a start
// Path for relative names (a directory fd's Path, or the zero Path for
// AT_FDCWD); errors are unix.Errno chosen as Linux chooses them.

// Lookup resolves name: a final symlink is followed unless flags has
// AT_SYMLINK_NOFOLLOW; AT_EMPTY_PATH makes "" name at itself.
func (v *VFS) Lookup(c *Context, at Path, name string, flags int) (Path, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.lookup(c, at, name, flags, 0)
}

func (v *VFS) lookup(c *Context, at Path, name string, flags int, resolve uint64) (Path, error) {
	r := v.resolver(c, &at, resolve)
	if name == "" && flags&unix.AT_EMPTY_PATH != 0 {
		return at, nil
	}
	return r.walk(at, name, flags&unix.AT_SYMLINK_NOFOLLOW == 0)
}

// lastName is the final component of a name that must be created or
// removed, with the directory it is in.
type lastName struct {
	dir      Path
	name     string // "", ".", ".." or a normal name
	trailing bool
}

func (l *lastName) normal() bool { return l.name != "" && l.name != "." && l.name != ".." }

func (v *VFS) lookupParent(c *Context, at Path, name string) (*resolver, lastName, error) {
	r := v.resolver(c, &at, 0)
	dir, last, trailing, err := r.parent(at, name)
	return r, lastName{dir, last, trailing}, err
}

// child looks up the normal name l.name in l.dir, nil if it does not exist.
func (l *lastName) child() (*Dentry, error) {
	d, err := l.dir.Dentry.child(l.name)
	if err == unix.ENOENT {
		return nil, nil
	}
	return d, err
}

func writable(m *Mount) error {
	if m.ReadOnly() {
		return unix.EROFS
	}
	return nil
}

// mayCreate checks that c may add an entry to dir.
func mayCreate(c *Context, dir *Dentry) error {
	if dir.dead {
		return unix.ENOENT
	}
	st := dir.inode.Stat()
	return c.Cred.check(&st, MayWrite|MayExec)
}

// mayDelete checks that c may remove (or replace) child from dir, a
// directory if isDir.
func mayDelete(c *Context, dir, child *Dentry, isDir bool) error {
	dst := dir.inode.Stat()
	if err := c.Cred.check(&dst, MayWrite|MayExec); err != nil {
		return err
	}
	if dst.Mode&unix.S_ISVTX != 0 && !c.Cred.IsRoot() && c.Cred.UID != dst.UID {
		if cst := child.inode.Stat(); c.Cred.UID != cst.UID {
			return unix.EPERM
		}
	}
	if isDir {
		if !child.IsDir() {
			return unix.ENOTDIR
		}
		if child.parent == child {
			return unix.EBUSY
		}
	} else if child.IsDir() {
		return unix.EISDIR
	}
	return nil
}

// newAttr returns the owner and mode of a new inode in dir: the caller's
// fsuid, and its fsgid or, in a set-group-ID directory, the directory's
// group (and its set-group-ID bit for directories).
func newAttr(c *Context, dir *Dentry, mode uint32) CreateAttr {
	a := CreateAttr{Mode: mode, UID: c.Cred.UID, GID: c.Cred.GID}
	if dst := dir.inode.Stat(); dst.Mode&unix.S_ISGID != 0 {
		a.GID = dst.GID
		if mode&unix.S_IFMT == unix.S_IFDIR {
			a.Mode |= unix.S_ISGID
		} else if mode&(unix.S_ISGID|unix.S_IXGRP) == unix.S_ISGID|unix.S_IXGRP &&
			!c.Cred.IsRoot() && !c.Cred.InGroup(a.GID) {
			a.Mode &^= unix.S_ISGID
		}
	}
	return a
}

// create is filename_create: the common part of mkdir, mknod, symlink and
// link. isDir allows a trailing slash; checkPerm adds may_create.
func (v *VFS) create(c *Context, at Path, name string, isDir, checkPerm bool) (lastName, error) {
	_, l, err := v.lookupParent(c, at, name)
	if err != nil {
		return l, err
	}
	if !l.normal() {
		return l, unix.EEXIST
	}
	roErr := writable(l.dir.Mount)
	d, err := l.child()
	if err != nil {
		return l, err
	}
	if d != nil {
		return l, unix.EEXIST
	}
	if l.trailing && !isDir {
		return l, unix.ENOENT
	}
	if roErr != nil {
		return l, roErr
	}
	if !checkPerm {
		return l, nil
	}
	return l, mayCreate(c, l.dir.Dentry)
}

// Mkdirat implements mkdirat(2).
func (v *VFS) Mkdirat(c *Context, at Path, name string, mode uint32) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	l, err := v.create(c, at, name, true, true)
	if err != nil {
		return err
	}
	a := newAttr(c, l.dir.Dentry, unix.S_IFDIR|mode&0o1777&^c.Umask)
	ino, err := l.dir.Dentry.inode.Create(l.name, a)
	if err != nil {
		return err
	}
	l.dir.Dentry.addChild(l.name, newDentry(l.name, l.dir.Dentry, ino))
	return nil
}

// Mknodat implements mknodat(2): regular files, FIFOs, sockets, and (for
// root) character and block devices.
func (v *VFS) Mknodat(c *Context, at Path, name string, mode uint32, dev uint64) error {
	switch mode & unix.S_IFMT {
	case 0:
		mode |= unix.S_IFREG
	case unix.S_IFREG, unix.S_IFIFO, unix.S_IFSOCK:
	case unix.S_IFCHR, unix.S_IFBLK:
		if !c.Cred.IsRoot() {
			return unix.EPERM
		}
	case unix.S_IFDIR:
		return unix.EPERM
	default:
		return unix.EINVAL
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	l, err := v.create(c, at, name, false, true)
	if err != nil {
		return err
	}
	a := newAttr(c, l.dir.Dentry, mode&unix.S_IFMT|mode&0o7777&^c.Umask)
	if t := mode & unix.S_IFMT; t == unix.S_IFCHR || t == unix.S_IFBLK {
		a.Rdev = dev
	}
	ino, err := l.dir.Dentry.inode.Create(l.name, a)
	if err != nil {
		return err
	}
	l.dir.Dentry.addChild(l.name, newDentry(l.name, l.dir.Dentry, ino))
	return nil
}

// Symlinkat implements symlinkat(2).
func (v *VFS) Symlinkat(c *Context, target string, at Path, name string) error {
	if target == "" {
		return unix.ENOENT
	}
	if len(target) > MaxPathLen {
		return unix.ENAMETOOLONG
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	l, err := v.create(c, at, name, false, true)
	if err != nil {
		return err
	}
	a := newAttr(c, l.dir.Dentry, unix.S_IFLNK|0o777)
	a.Target = target
	ino, err := l.dir.Dentry.inode.Create(l.name, a)
	if err != nil {
		return err
	}
	l.dir.Dentry.addChild(l.name, newDentry(l.name, l.dir.Dentry, ino))
	return nil
}

// Linkat implements linkat(2) (AT_SYMLINK_FOLLOW, AT_EMPTY_PATH).
func (v *VFS) Linkat(c *Context, oldAt Path, oldName string, newAt Path, newName string, flags int) error {
	if flags&^(unix.AT_SYMLINK_FOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return unix.EINVAL
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	lf := unix.AT_SYMLINK_NOFOLLOW
	if flags&unix.AT_SYMLINK_FOLLOW != 0 {
		lf = 0
	}
	old, err := v.lookup(c, oldAt, oldName, lf|flags&unix.AT_EMPTY_PATH, 0)
	if err != nil {
		return err
	}
	l, err := v.create(c, newAt, newName, false, false)
	if err != nil {
		return err
	}
	if l.dir.Mount != old.Mount {
		return unix.EXDEV
	}
	if err := mayLink(c, old.Dentry); err != nil {
		return err
	}
	if err := mayCreate(c, l.dir.Dentry); err != nil {
		return err
	}
	if old.Dentry.IsDir() {
		return unix.EPERM
	}
	if err := l.dir.Dentry.inode.Link(l.name, old.Dentry.inode); err != nil {
		return err
	}
	l.dir.Dentry.addChild(l.name, newDentry(l.name, l.dir.Dentry, old.Dentry.inode))
	return nil
}

// mayLink applies Linux's fs.protected_hardlinks=1, the default of
// most distributions: only the owner (or root) may link a file that is
// not a plain regular file the caller could read and write.
func mayLink(c *Context, d *Dentry) error {
	st := d.inode.Stat()
	if c.Cred.isOwner(&st) {
		return nil
	}
	safe := st.Type() == unix.S_IFREG && st.Mode&unix.S_ISUID == 0 &&
		st.Mode&(unix.S_ISGID|unix.S_IXGRP) != unix.S_ISGID|unix.S_IXGRP &&
		c.Cred.Permits(&st, MayRead|MayWrite)
	if !safe {
		return unix.EPERM
	}
	return nil
}

// Unlinkat implements unlinkat(2); AT_REMOVEDIR makes it rmdir(2).
func (v *VFS) Unlinkat(c *Context, at Path, name string, flags int) error {
	if flags&^unix.AT_REMOVEDIR != 0 {
		return unix.EINVAL
	}
	rmdir := flags&unix.AT_REMOVEDIR != 0
	v.mu.Lock()
	defer v.mu.Unlock()
	_, l, err := v.lookupParent(c, at, name)
	if err != nil {
		return err
	}
	switch {
	case rmdir && l.name == "..":
		return unix.ENOTEMPTY
	case rmdir && l.name == ".":
		return unix.EINVAL
	case rmdir && l.name == "":
		return unix.EBUSY
	case !l.normal():
		return unix.EISDIR
	}
	if err := writable(l.dir.Mount); err != nil {
		return err
	}
	d, err := l.dir.Dentry.child(l.name)
	if err != nil {
		return err
	}
	if !rmdir && l.trailing {
		if d.IsDir() {
			return unix.EISDIR
		}
		return unix.ENOTDIR
	}
	if err := mayDelete(c, l.dir.Dentry, d, rmdir); err != nil {
		return err
	}
	if d.mounts > 0 || (rmdir && Path{l.dir.Mount, d} == v.resolver(c, &Path{}, 0).root) {
		return unix.EBUSY
	}
	if err := l.dir.Dentry.inode.Remove(l.name, d.inode); err != nil {
		return err
	}
	l.dir.Dentry.removeChild(l.name)
	d.dead = true
	return nil
}

// Renameat2 implements renameat2(2) with RENAME_NOREPLACE and
// RENAME_EXCHANGE (RENAME_WHITEOUT is EINVAL).
func (v *VFS) Renameat2(c *Context, oldAt Path, oldName string, newAt Path, newName string, flags uint32) error {
	if flags&^(unix.RENAME_NOREPLACE|unix.RENAME_EXCHANGE) != 0 ||
		flags == unix.RENAME_NOREPLACE|unix.RENAME_EXCHANGE {
		return unix.EINVAL
	}
	exchange := flags&unix.RENAME_EXCHANGE != 0
	v.mu.Lock()
	defer v.mu.Unlock()
	_, ol, err := v.lookupParent(c, oldAt, oldName)
	if err != nil {
		return err
	}
	_, nl, err := v.lookupParent(c, newAt, newName)
	if err != nil {
		return err
	}
	if ol.dir.Mount != nl.dir.Mount {
		return unix.EXDEV
	}
	if !ol.normal() {
		return unix.EBUSY
	}
	if !nl.normal() {
		if flags&unix.RENAME_NOREPLACE != 0 {
			return unix.EEXIST
		}
		return unix.EBUSY
	}
	if err := writable(ol.dir.Mount); err != nil {
		return err
	}
	src, err := ol.dir.Dentry.child(ol.name)
	if err != nil {
		return err
	}
	dst, err := nl.child()
	if err != nil {
		return err
	}
	switch {
	case exchange && dst == nil:
		return unix.ENOENT
	case flags&unix.RENAME_NOREPLACE != 0 && dst != nil:
		return unix.EEXIST
	}
	if exchange {
		if nl.trailing && !dst.IsDir() || ol.trailing && !src.IsDir() {
			return unix.ENOTDIR
		}
	} else if !src.IsDir() && (ol.trailing || nl.trailing) {
		return unix.ENOTDIR
	}
	if isAncestor(src, nl.dir.Dentry) {
		return unix.EINVAL
	}
	if dst != nil && isAncestor(dst, ol.dir.Dentry) {
		if exchange {
			return unix.EINVAL
		}
		return unix.ENOTEMPTY
	}
	if dst != nil && src.inode == dst.inode {
		return nil // the same file: nothing to do, as Linux
	}
	if err := mayDelete(c, ol.dir.Dentry, src, src.IsDir()); err != nil {
		return err
	}
	if dst == nil {
		err = mayCreate(c, nl.dir.Dentry)
	} else if exchange {
		err = mayDelete(c, nl.dir.Dentry, dst, dst.IsDir())
	} else {
		err = mayDelete(c, nl.dir.Dentry, dst, src.IsDir())
	}
	if err != nil {
		return err
	}
	if ol.dir.Dentry != nl.dir.Dentry {
		// A directory that changes parent has its ".." rewritten.
		for _, d := range []*Dentry{src, dst} {
			if d != nil && d.IsDir() && (d == src || exchange) {
				st := d.inode.Stat()
				if err := c.Cred.check(&st, MayWrite); err != nil {
					return err
				}
			}
		}
	}
	if src.mounts > 0 || dst != nil && dst.mounts > 0 {
		return unix.EBUSY
	}
	var replaced Inode
	if dst != nil {
		replaced = dst.inode
	}
	if err := ol.dir.Dentry.inode.Rename(ol.name, src.inode, nl.dir.Dentry.inode, nl.name, replaced, flags); err != nil {
		return err
	}
	ol.dir.Dentry.removeChild(ol.name)
	nl.dir.Dentry.removeChild(nl.name)
	if exchange {
		ol.dir.Dentry.addChild(ol.name, dst)
	} else if dst != nil {
		dst.dead = true
	}
	nl.dir.Dentry.addChild(nl.name, src)
	return nil
}

// Readlinkat implements readlinkat(2); an empty name reads the symlink at
// itself (an O_PATH file of a symlink).
func (v *VFS) Readlinkat(c *Context, at Path, name string) (string, error) {
	p, err := v.Lookup(c, at, name, unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH)
	if err != nil {
		return "", err
	}
	if !p.Dentry.isSymlink() {
		return "", unix.EINVAL
	}
	return p.Dentry.inode.Readlink()
}

// Statat implements fstatat(2) and statx(2) (AT_SYMLINK_NOFOLLOW,
// AT_EMPTY_PATH).
func (v *VFS) Statat(c *Context, at Path, name string, flags int) (Stat, error) {
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH|unix.AT_NO_AUTOMOUNT|unix.AT_STATX_FORCE_SYNC|unix.AT_STATX_DONT_SYNC) != 0 {
		return Stat{}, unix.EINVAL
	}
	p, err := v.Lookup(c, at, name, flags)
	if err != nil {
		return Stat{}, err
	}
	return p.Dentry.inode.Stat(), nil
}

// Statfsat implements statfs(2) on the filesystem holding name.
func (v *VFS) Statfsat(c *Context, at Path, name string) (Statfs, error) {
	p, err := v.Lookup(c, at, name, unix.AT_EMPTY_PATH)
	if err != nil {
		return Statfs{}, err
	}
	return v.StatfsOf(p), nil
}

// StatfsOf returns what statfs(2) says of the mount of p.
func (v *VFS) StatfsOf(p Path) Statfs {
	s := p.Mount.fs.Statfs()
	if p.Mount.ReadOnly() {
		s.Flags |= unix.ST_RDONLY
	}
	return s
}

// Accessat implements faccessat2(2): mode is F_OK or R_OK|W_OK|X_OK.
// (The credential is both the real and effective one, so AT_EACCESS
// changes nothing.)
func (v *VFS) Accessat(c *Context, at Path, name string, mode uint32, flags int) error {
	if mode&^7 != 0 || flags&^(unix.AT_EACCESS|unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return unix.EINVAL
	}
	p, err := v.Lookup(c, at, name, flags&^unix.AT_EACCESS)
	if err != nil {
		return err
	}
	st := p.Dentry.inode.Stat()
	if mode&MayWrite != 0 && p.Mount.ReadOnly() {
		switch st.Type() {
		case unix.S_IFREG, unix.S_IFDIR, unix.S_IFLNK:
			return unix.EROFS
		}
	}
	return c.Cred.check(&st, mode)
}

// setattr resolves name, checks the mount is writable, and runs fn.
func (v *VFS) setattr(c *Context, at Path, name string, flags int, fn func(p Path, st *Stat) (*SetAttr, error)) error {
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return unix.EINVAL
	}
	p, err := v.Lookup(c, at, name, flags)
	if err != nil {
		return err
	}
	return v.SetAttrPath(c, p, fn)
}

// SetAttrPath runs fn on the metadata of p and applies the change it
// returns (nil for none), as the f* variants of the attribute calls do.
func (v *VFS) SetAttrPath(c *Context, p Path, fn func(p Path, st *Stat) (*SetAttr, error)) error {
	if err := writable(p.Mount); err != nil {
		return err
	}
	st := p.Dentry.inode.Stat()
	a, err := fn(p, &st)
	if err != nil || a == nil {
		return err
	}
	return p.Dentry.inode.SetAttr(a)
}

// Chmodat implements fchmodat2(2) (AT_SYMLINK_NOFOLLOW on a symlink is
// EOPNOTSUPP, as Linux).
func (v *VFS) Chmodat(c *Context, at Path, name string, mode uint32, flags int) error {
	return v.setattr(c, at, name, flags, chmod(c, mode))
}

func chmod(c *Context, mode uint32) func(Path, *Stat) (*SetAttr, error) {
	return func(p Path, st *Stat) (*SetAttr, error) {
		if st.Type() == unix.S_IFLNK {
			return nil, unix.EOPNOTSUPP
		}
		if !c.Cred.isOwner(st) {
			return nil, unix.EPERM
		}
		mode &= 0o7777
		if !c.Cred.IsRoot() && !c.Cred.InGroup(st.GID) {
			mode &^= unix.S_ISGID
		}
		return &SetAttr{Mask: SetMode | SetCtime, Mode: mode}, nil
	}
}

// Chownat implements fchownat(2); -1 leaves an ID unchanged.
func (v *VFS) Chownat(c *Context, at Path, name string, uid, gid int64, flags int) error {
	return v.setattr(c, at, name, flags, chown(c, uid, gid))
}

func chown(c *Context, uid, gid int64) func(Path, *Stat) (*SetAttr, error) {
	return func(p Path, st *Stat) (*SetAttr, error) {
		a := &SetAttr{Mask: SetCtime}
		if uid != -1 {
			if !c.Cred.IsRoot() && (c.Cred.UID != st.UID || uint32(uid) != st.UID) {
				return nil, unix.EPERM
			}
			a.Mask |= SetUID
			a.UID = uint32(uid)
		}
		if gid != -1 {
			if !c.Cred.IsRoot() && (c.Cred.UID != st.UID || !c.Cred.InGroup(uint32(gid)) && uint32(gid) != st.GID) {
				return nil, unix.EPERM
			}
			a.Mask |= SetGID
			a.GID = uint32(gid)
		}
		// Changing owners clears set-user-ID, and set-group-ID of a
		// group-executable file, even for root.
		if st.Type() != unix.S_IFDIR {
			kill := st.Mode & unix.S_ISUID
			if st.Mode&(unix.S_ISGID|unix.S_IXGRP) == unix.S_ISGID|unix.S_IXGRP {
				kill |= unix.S_ISGID
			}
			if kill != 0 {
				// Clearing them is a mode change, which only the
				// owner may make.
				if !c.Cred.isOwner(st) {
					return nil, unix.EPERM
				}
				a.Mask |= SetMode
				a.Mode = st.Mode & 0o7777 &^ kill
			}
		}
		return a, nil
	}
}

func validNsec(n int64) bool {
	return n >= 0 && n <= 999_999_999 || n == unix.UTIME_NOW || n == unix.UTIME_OMIT
}

// Utimensat implements utimensat(2): times nil means both now; a
// UTIME_NOW or UTIME_OMIT tv_nsec means now or unchanged. ctime becomes
// now whenever anything changes.
func (v *VFS) Utimensat(c *Context, at Path, name string, times *[2]Timespec, flags int) error {
	if times != nil && (!validNsec(times[0].Nsec) || !validNsec(times[1].Nsec)) {
		return unix.EINVAL
	}
	return v.setattr(c, at, name, flags, utimens(c, times))
}

func utimens(c *Context, times *[2]Timespec) func(Path, *Stat) (*SetAttr, error) {
	return func(p Path, st *Stat) (*SetAttr, error) {
		a := &SetAttr{Mask: SetCtime}
		if times == nil {
			times = &[2]Timespec{{Nsec: unix.UTIME_NOW}, {Nsec: unix.UTIME_NOW}}
		}
		if times[0].Nsec == unix.UTIME_OMIT && times[1].Nsec == unix.UTIME_OMIT {
			return nil, nil
		}
		onlyNow := true
		for i, t := range times {
			switch t.Nsec {
			case unix.UTIME_OMIT:
				onlyNow = false
			case unix.UTIME_NOW:
				a.Mask |= [2]AttrMask{SetAtimeNow, SetMtimeNow}[i]
			default:
				onlyNow = false
				a.Mask |= [2]AttrMask{SetAtime, SetMtime}[i]
				if i == 0 {
					a.Atime = t
				} else {
					a.Mtime = t
				}
			}
		}
		if !c.Cred.isOwner(st) {
			if !onlyNow {
				return nil, unix.EPERM
			}
			if !c.Cred.Permits(st, MayWrite) {
				return nil, unix.EACCES
			}
		}
		return a, nil
	}
}

// Truncate implements truncate(2).
func (v *VFS) Truncate(c *Context, at Path, name string, size int64) error {
	if size < 0 {
		return unix.EINVAL
	}
	p, err := v.Lookup(c, at, name, 0)
	if err != nil {
		return err
	}
	switch p.Dentry.typ {
	case unix.S_IFDIR:
		return unix.EISDIR
	case unix.S_IFREG:
	default:
		return unix.EINVAL
	}
	if err := writable(p.Mount); err != nil {
		return err
	}
	st := p.Dentry.inode.Stat()
	if err := c.Cred.check(&st, MayWrite); err != nil {
		return err
	}
	a := &SetAttr{Mask: SetSize, Size: size}
	if size != st.Size {
		a.Mask |= SetMtimeNow | SetCtime // no times change when the size stays
	}
	if k := killPrivAttr(&c.Cred, st); k != nil {
		a.Mask |= k.Mask
		a.Mode = k.Mode
	}
	return p.Dentry.inode.SetAttr(a)
}
