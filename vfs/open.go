package vfs

import (
	"golang.org/x/sys/unix"
)

// OpenHow is openat2(2)'s struct open_how: open(2) flags, the mode of a
// created file, and RESOLVE_* flags.
type OpenHow struct {
	Flags   int
	Mode    uint32
	Resolve uint64
}

const (
	tmpfileBit = unix.O_TMPFILE &^ unix.O_DIRECTORY
	// resolveCached is RESOLVE_CACHED, which x/sys/unix lacks.
	resolveCached = 0x20
)

// Openat2 implements openat2(2): unlike openat it rejects unknown flags, a
// mode without O_CREAT or O_TMPFILE, and unknown RESOLVE_* flags.
func (v *VFS) Openat2(c *Context, at Path, name string, how OpenHow) (*File, error) {
	const known = unix.O_ACCMODE | unix.O_CREAT | unix.O_EXCL | unix.O_NOCTTY | unix.O_TRUNC |
		unix.O_APPEND | unix.O_NONBLOCK | unix.O_DSYNC | unix.O_ASYNC | unix.O_DIRECT |
		unix.O_LARGEFILE | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_NOATIME | unix.O_CLOEXEC |
		unix.O_PATH | unix.O_SYNC | unix.O_TMPFILE
	const resolveAll = unix.RESOLVE_NO_XDEV | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_SYMLINKS |
		unix.RESOLVE_BENEATH | unix.RESOLVE_IN_ROOT | resolveCached
	switch {
	case how.Flags&^known != 0, how.Resolve&^resolveAll != 0, how.Mode&^0o7777 != 0,
		how.Mode != 0 && how.Flags&(unix.O_CREAT|tmpfileBit) == 0,
		how.Resolve&(unix.RESOLVE_BENEATH|unix.RESOLVE_IN_ROOT) == unix.RESOLVE_BENEATH|unix.RESOLVE_IN_ROOT:
		return nil, unix.EINVAL
	case how.Resolve&resolveCached != 0:
		return nil, unix.EAGAIN
	}
	return v.Openat(c, at, name, how)
}

// Openat implements openat(2) (and openat2(2) resolution through
// how.Resolve). A created file gets how.Mode less the umask.
func (v *VFS) Openat(c *Context, at Path, name string, how OpenHow) (*File, error) {
	flags := how.Flags
	if flags&unix.O_PATH != 0 {
		flags &= unix.O_PATH | unix.O_CLOEXEC | unix.O_DIRECTORY | unix.O_NOFOLLOW
	}
	if flags&tmpfileBit != 0 {
		if flags&unix.O_TMPFILE != unix.O_TMPFILE || flags&unix.O_CREAT != 0 ||
			flags&unix.O_ACCMODE == unix.O_RDONLY {
			return nil, unix.EINVAL
		}
	}
	if flags&unix.O_ACCMODE == unix.O_ACCMODE ||
		flags&(unix.O_CREAT|unix.O_DIRECTORY) == unix.O_CREAT|unix.O_DIRECTORY && flags&tmpfileBit == 0 {
		return nil, unix.EINVAL // O_CREAT|O_DIRECTORY: EINVAL since Linux 6.4
	}
	// The walk (and any creation) runs under the namespace lock; opening
	// the file does not, since a FIFO or device open may block.
	var (
		f       *File
		p       Path
		created bool
		special SpecialOpener
		err     error
	)
	if flags&(unix.O_CREAT|tmpfileBit) != 0 {
		v.mu.Lock()
		f, p, created, err = v.open(c, at, name, flags, how)
		special = v.special
		v.mu.Unlock()
	} else {
		v.mu.RLock()
		f, p, created, err = v.open(c, at, name, flags, how)
		special = v.special
		v.mu.RUnlock()
	}
	if err != nil || f != nil {
		return f, err
	}
	return finishOpen(c, p, flags, created, special)
}

// Reopen opens the file p names anew, as if by a name that resolves to it
// (no creation, no O_PATH): what execveat(fd, "", AT_EMPTY_PATH) needs to
// run the file a descriptor, even an O_PATH one, names.
func (v *VFS) Reopen(c *Context, p Path, flags int) (*File, error) {
	switch {
	case p.IsZero():
		return nil, unix.ENOENT
	case flags&(unix.O_CREAT|tmpfileBit|unix.O_PATH) != 0, flags&unix.O_ACCMODE == unix.O_ACCMODE:
		return nil, unix.EINVAL
	case p.Dentry.isSymlink():
		return nil, unix.ELOOP
	case flags&unix.O_DIRECTORY != 0 && !p.Dentry.IsDir():
		return nil, unix.ENOTDIR
	}
	v.mu.RLock()
	special := v.special
	v.mu.RUnlock()
	return finishOpen(c, p, flags, false, special)
}

// finishOpen opens the file open found: permission checks, the
// filesystem's (or the special-file layer's) Open, and O_TRUNC.
func finishOpen(c *Context, p Path, flags int, created bool, special SpecialOpener) (*File, error) {
	d := p.Dentry
	if !created {
		if err := mayOpen(c, p, flags); err != nil {
			return nil, err
		}
	}
	var impl FileImpl
	var err error
	switch d.typ {
	case unix.S_IFIFO, unix.S_IFCHR, unix.S_IFBLK:
		if special != nil {
			impl, err = special(p, flags)
			break
		}
		fallthrough
	default:
		impl, err = d.inode.Open(flags)
	}
	if err != nil {
		return nil, err
	}
	f := NewFile(impl, flags, p, c.Cred)
	if flags&unix.O_TRUNC != 0 && d.typ == unix.S_IFREG && !created {
		f.killPriv()
		if err := f.impl.Truncate(0); err != nil {
			f.DecRef()
			return nil, err
		}
	}
	return f, nil
}

// open resolves name for Openat and does what must happen under the
// namespace lock: creation, and the checks on what was found. It returns
// the File itself only for O_PATH and O_TMPFILE.
func (v *VFS) open(c *Context, at Path, name string, flags int, how OpenHow) (*File, Path, bool, error) {
	r := v.resolver(c, &at, how.Resolve)
	follow := flags&unix.O_NOFOLLOW == 0
	var (
		p, dir  Path
		created bool
		err     error
	)
	switch {
	case flags&tmpfileBit != 0:
		f, err := v.openTmpfile(c, r, at, name, flags, how.Mode)
		return f, Path{}, false, err
	case flags&unix.O_CREAT != 0:
		p, dir, created, err = v.openCreate(c, r, at, name, flags, how.Mode)
	default:
		p, err = r.walk(at, name, follow)
	}
	if err != nil {
		return nil, Path{}, false, err
	}
	d := p.Dentry
	if flags&unix.O_CREAT != 0 && !created {
		if d.IsDir() {
			return nil, Path{}, false, unix.EISDIR
		}
		if err := mayCreateInSticky(c, dir.Dentry, d); err != nil {
			return nil, Path{}, false, err
		}
	}
	if flags&unix.O_DIRECTORY != 0 && !d.IsDir() {
		return nil, Path{}, false, unix.ENOTDIR
	}
	if flags&unix.O_PATH != 0 {
		return NewFile(nil, flags, p, c.Cred), Path{}, false, nil
	}
	if d.isSymlink() {
		return nil, Path{}, false, unix.ELOOP
	}
	return nil, p, created, nil
}

// SpecialOpener opens FIFOs and device nodes, whatever filesystem holds
// them: pipes and drivers live outside the filesystems.
type SpecialOpener func(p Path, flags int) (FileImpl, error)

// SetSpecialOpener installs the opener of FIFOs and devices; without one,
// opening them is the filesystem's business (tmpfs and cpiofs say ENXIO).
func (v *VFS) SetSpecialOpener(fn SpecialOpener) {
	v.mu.Lock()
	v.special = fn
	v.mu.Unlock()
}

// mayCreateInSticky is Linux's check on O_CREAT finding an existing file
// in a sticky, world-writable directory: a file owned by neither the
// directory's owner nor the caller is EACCES, even for root. Regular
// files and FIFOs are exempt, as with Linux's default
// fs.protected_regular=0 and fs.protected_fifos=0.
func mayCreateInSticky(c *Context, dir, d *Dentry) error {
	dst := dir.inode.Stat()
	if dst.Mode&unix.S_ISVTX == 0 || d.typ == unix.S_IFREG || d.typ == unix.S_IFIFO {
		return nil
	}
	st := d.inode.Stat()
	if st.UID == dst.UID || st.UID == c.Cred.UID || dst.Mode&0o002 == 0 {
		return nil
	}
	return unix.EACCES
}

// mayOpen checks an existing file may be opened with flags.
func mayOpen(c *Context, p Path, flags int) error {
	var want uint32
	switch flags & unix.O_ACCMODE {
	case unix.O_RDONLY:
		want = MayRead
	case unix.O_WRONLY:
		want = MayWrite
	case unix.O_RDWR:
		want = MayRead | MayWrite
	}
	if flags&unix.O_TRUNC != 0 {
		want |= MayWrite
	}
	switch p.Dentry.typ {
	case unix.S_IFDIR:
		if want&MayWrite != 0 {
			return unix.EISDIR
		}
	case unix.S_IFSOCK:
		return unix.ENXIO
	case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO:
		if p.Mount.flags&MountNoDev != 0 && p.Dentry.typ != unix.S_IFIFO {
			return unix.EACCES
		}
		flags &^= unix.O_TRUNC
	}
	st := p.Dentry.inode.Stat()
	if want&MayWrite != 0 && p.Mount.ReadOnly() && (st.Type() == unix.S_IFREG || st.Type() == unix.S_IFDIR) {
		return unix.EROFS
	}
	if err := c.Cred.check(&st, want); err != nil {
		return err
	}
	if flags&unix.O_NOATIME != 0 && !c.Cred.isOwner(&st) {
		return unix.EPERM
	}
	return nil
}

// openCreate resolves name for O_CREAT: it follows a final symlink
// (unless O_NOFOLLOW or O_EXCL) and creates the file if it is missing.
func (v *VFS) openCreate(c *Context, r *resolver, at Path, name string, flags int, mode uint32) (p, dir Path, created bool, err error) {
	p, dir, created, err = v.openCreate1(c, r, at, name, flags, mode)
	return
}

func (v *VFS) openCreate1(c *Context, r *resolver, at Path, name string, flags int, mode uint32) (Path, Path, bool, error) {
	dir, last, trailing, err := r.parent(at, name)
	if err != nil {
		return Path{}, Path{}, false, err
	}
	for {
		l := lastName{dir, last, trailing}
		if !l.normal() {
			// "/", "." and "..": the directory itself, which O_EXCL
			// finds existing and open then refuses as a directory.
			p := dir
			if last == ".." {
				var derr error
				if p, derr = r.dotdot(dir); derr != nil {
					return Path{}, Path{}, false, derr
				}
			}
			if flags&unix.O_EXCL != 0 {
				return Path{}, Path{}, false, unix.EEXIST
			}
			return p, dir, false, nil
		}
		if trailing {
			return Path{}, Path{}, false, unix.EISDIR
		}
		d, err := l.child()
		if err != nil {
			return Path{}, Path{}, false, err
		}
		if d == nil {
			if err := writable(dir.Mount); err != nil {
				return Path{}, Path{}, false, err
			}
			if err := mayCreate(c, dir.Dentry); err != nil {
				return Path{}, Path{}, false, err
			}
			a := newAttr(c, dir.Dentry, unix.S_IFREG|mode&0o7777&^c.Umask)
			ino, err := dir.Dentry.inode.Create(last, a)
			if err != nil {
				return Path{}, Path{}, false, err
			}
			d = newDentry(last, dir.Dentry, ino)
			dir.Dentry.addChild(last, d)
			return Path{dir.Mount, d}, dir, true, nil
		}
		if flags&unix.O_EXCL != 0 {
			return Path{}, Path{}, false, unix.EEXIST
		}
		p := v.followMounts(Path{dir.Mount, d})
		if !p.Dentry.isSymlink() || flags&unix.O_NOFOLLOW != 0 {
			return p, dir, false, nil // open refuses a symlink with ELOOP
		}
		if r.resolve&unix.RESOLVE_NO_SYMLINKS != 0 {
			return Path{}, Path{}, false, unix.ELOOP
		}
		if r.hops++; r.hops > MaxSymlinks {
			return Path{}, Path{}, false, unix.ELOOP
		}
		target, err := p.Dentry.inode.Readlink()
		if err != nil {
			return Path{}, Path{}, false, err
		}
		// Resolve the target's directory and go round for its last
		// component, which O_CREAT creates if it is missing.
		var perr error
		if dir, last, trailing, perr = r.parent(dir, target); perr != nil {
			return Path{}, Path{}, false, perr
		}
	}
}

func (v *VFS) openTmpfile(c *Context, r *resolver, at Path, name string, flags int, mode uint32) (*File, error) {
	dir, err := r.walk(at, name, true)
	if err != nil {
		return nil, err
	}
	if !dir.Dentry.IsDir() {
		return nil, unix.ENOTDIR
	}
	if err := writable(dir.Mount); err != nil {
		return nil, err
	}
	if err := mayCreate(c, dir.Dentry); err != nil {
		return nil, err
	}
	a := newAttr(c, dir.Dentry, unix.S_IFREG|mode&0o7777&^c.Umask)
	ino, err := dir.Dentry.inode.Tmpfile(a)
	if err != nil {
		return nil, err
	}
	d := newDentry("", dir.Dentry, ino)
	d.dead = true
	impl, err := ino.Open(flags)
	if err != nil {
		return nil, err
	}
	return NewFile(impl, flags, Path{dir.Mount, d}, c.Cred), nil
}
