package syscallshim

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"yolk/vfs"
)

// System calls that change the file tree or a file's attributes, over the
// VFS: mkdir, mknod, symlink, link, unlink, rmdir, rename, chmod, chown,
// utimes, truncate, fallocate, fsync, statfs. Each decodes its arguments
// and leaves the rest to the VFS.

// atPath reads the dirfd/path arguments of an *at call.
func (t *Thread) atPath(dirfd, pathp uint64) (vfs.Path, string, error) {
	name, err := t.pathArg(pathp)
	if err != nil {
		return vfs.Path{}, "", err
	}
	at, err := t.at(dirfd)
	return at, name, err
}

func (t *Thread) mkdirat(dirfd, pathp, mode uint64) (uint64, error) {
	at, name, err := t.atPath(dirfd, pathp)
	if err != nil {
		return 0, err
	}
	return 0, t.p.sys.vfs.Mkdirat(t.vctx(), at, name, uint32(mode)&0o7777)
}

func sysMkdir(t *Thread, a Args) (uint64, error)   { return t.mkdirat(atFDCWD, a[0], a[1]) }
func sysMkdirat(t *Thread, a Args) (uint64, error) { return t.mkdirat(a[0], a[1], a[2]) }

func (t *Thread) mknodat(dirfd, pathp, mode, dev uint64) (uint64, error) {
	at, name, err := t.atPath(dirfd, pathp)
	if err != nil {
		return 0, err
	}
	return 0, t.p.sys.vfs.Mknodat(t.vctx(), at, name, uint32(mode), dev)
}

func sysMknod(t *Thread, a Args) (uint64, error)   { return t.mknodat(atFDCWD, a[0], a[1], a[2]) }
func sysMknodat(t *Thread, a Args) (uint64, error) { return t.mknodat(a[0], a[1], a[2], a[3]) }

func (t *Thread) symlinkat(targetp, dirfd, pathp uint64) (uint64, error) {
	target, err := t.readPath(targetp)
	if err != nil {
		return 0, err
	}
	at, name, err := t.atPath(dirfd, pathp)
	if err != nil {
		return 0, err
	}
	return 0, t.p.sys.vfs.Symlinkat(t.vctx(), target, at, name)
}

func sysSymlink(t *Thread, a Args) (uint64, error)   { return t.symlinkat(a[0], atFDCWD, a[1]) }
func sysSymlinkat(t *Thread, a Args) (uint64, error) { return t.symlinkat(a[0], a[1], a[2]) }

// twoPaths reads the two dirfd/path pairs of link and rename.
func (t *Thread) twoPaths(olddir, oldp, newdir, newp uint64) (oldAt vfs.Path, oldName string, newAt vfs.Path, newName string, err error) {
	if oldAt, oldName, err = t.atPath(olddir, oldp); err != nil {
		return
	}
	newAt, newName, err = t.atPath(newdir, newp)
	return
}

func (t *Thread) linkat(olddir, oldp, newdir, newp, flags uint64) (uint64, error) {
	oldAt, oldName, newAt, newName, err := t.twoPaths(olddir, oldp, newdir, newp)
	if err != nil {
		return 0, err
	}
	return 0, t.p.sys.vfs.Linkat(t.vctx(), oldAt, oldName, newAt, newName, int(flags))
}

func sysLink(t *Thread, a Args) (uint64, error)   { return t.linkat(atFDCWD, a[0], atFDCWD, a[1], 0) }
func sysLinkat(t *Thread, a Args) (uint64, error) { return t.linkat(a[0], a[1], a[2], a[3], a[4]) }

func (t *Thread) unlinkat(dirfd, pathp, flags uint64) (uint64, error) {
	at, name, err := t.atPath(dirfd, pathp)
	if err != nil {
		return 0, err
	}
	return 0, t.p.sys.vfs.Unlinkat(t.vctx(), at, name, int(flags))
}

func sysUnlink(t *Thread, a Args) (uint64, error)   { return t.unlinkat(atFDCWD, a[0], 0) }
func sysRmdir(t *Thread, a Args) (uint64, error)    { return t.unlinkat(atFDCWD, a[0], unix.AT_REMOVEDIR) }
func sysUnlinkat(t *Thread, a Args) (uint64, error) { return t.unlinkat(a[0], a[1], a[2]) }

func (t *Thread) renameat(olddir, oldp, newdir, newp, flags uint64) (uint64, error) {
	oldAt, oldName, newAt, newName, err := t.twoPaths(olddir, oldp, newdir, newp)
	if err != nil {
		return 0, err
	}
	return 0, t.p.sys.vfs.Renameat2(t.vctx(), oldAt, oldName, newAt, newName, uint32(flags))
}

func sysRename(t *Thread, a Args) (uint64, error)    { return t.renameat(atFDCWD, a[0], atFDCWD, a[1], 0) }
func sysRenameat(t *Thread, a Args) (uint64, error)  { return t.renameat(a[0], a[1], a[2], a[3], 0) }
func sysRenameat2(t *Thread, a Args) (uint64, error) { return t.renameat(a[0], a[1], a[2], a[3], a[4]) }

func (t *Thread) chmodat(dirfd, pathp, mode, flags uint64) (uint64, error) {
	at, name, err := t.atPath(dirfd, pathp)
	if err != nil {
		return 0, err
	}
	return 0, t.p.sys.vfs.Chmodat(t.vctx(), at, name, uint32(mode), int(flags))
}

func sysChmod(t *Thread, a Args) (uint64, error) { return t.chmodat(atFDCWD, a[0], a[1], 0) }

// sysFchmodat implements fchmodat(2), which has no flags argument (the
// C library's flags go to fchmodat2).
func sysFchmodat(t *Thread, a Args) (uint64, error) { return t.chmodat(a[0], a[1], a[2], 0) }

// sysFchmodat2 implements fchmodat2(2): AT_SYMLINK_NOFOLLOW (EOPNOTSUPP
// on a symlink, as Linux) and AT_EMPTY_PATH.
func sysFchmodat2(t *Thread, a Args) (uint64, error) { return t.chmodat(a[0], a[1], a[2], a[3]) }

// fdPath returns the path an open file was opened by (fchmod, fchown,
// futimens, fstatfs work on it), EBADF without one.
func (t *Thread) fdPath(n uint64) (vfs.Path, error) {
	f, err := t.file(n)
	if err != nil {
		return vfs.Path{}, err
	}
	if f.Path().IsZero() {
		return vfs.Path{}, unix.EBADF
	}
	return f.Path(), nil
}

func sysFchmod(t *Thread, a Args) (uint64, error) {
	p, err := t.fdPath(a[0])
	if err != nil {
		return 0, err
	}
	return 0, t.p.sys.vfs.Chmodat(t.vctx(), p, "", uint32(a[1]), unix.AT_EMPTY_PATH)
}

func (t *Thread) chownat(dirfd, pathp, uid, gid, flags uint64) (uint64, error) {
	at, name, err := t.atPath(dirfd, pathp)
	if err != nil {
		return 0, err
	}
	return 0, t.p.sys.vfs.Chownat(t.vctx(), at, name, int64(int32(uid)), int64(int32(gid)), int(flags))
}

func sysChown(t *Thread, a Args) (uint64, error) { return t.chownat(atFDCWD, a[0], a[1], a[2], 0) }
func sysLchown(t *Thread, a Args) (uint64, error) {
	return t.chownat(atFDCWD, a[0], a[1], a[2], unix.AT_SYMLINK_NOFOLLOW)
}
func sysFchownat(t *Thread, a Args) (uint64, error) { return t.chownat(a[0], a[1], a[2], a[3], a[4]) }

func sysFchown(t *Thread, a Args) (uint64, error) {
	p, err := t.fdPath(a[0])
	if err != nil {
		return 0, err
	}
	return 0, t.p.sys.vfs.Chownat(t.vctx(), p, "", int64(int32(a[1])), int64(int32(a[2])), unix.AT_EMPTY_PATH)
}

// utimens sets times from two timespecs at va (0: both now).
func (t *Thread) utimens(dirfd, pathp, va, flags uint64) (uint64, error) {
	var times *[2]vfs.Timespec
	if va != 0 {
		b, err := t.copyIn(va, 32)
		if err != nil {
			return 0, err
		}
		le := binary.LittleEndian
		times = &[2]vfs.Timespec{
			{Sec: int64(le.Uint64(b)), Nsec: int64(le.Uint64(b[8:]))},
			{Sec: int64(le.Uint64(b[16:])), Nsec: int64(le.Uint64(b[24:]))},
		}
	}
	if pathp == 0 {
		// utimensat(fd, NULL, ...): the file dirfd names (futimens).
		p, err := t.fdPath(dirfd)
		if err != nil {
			return 0, err
		}
		return 0, t.p.sys.vfs.Utimensat(t.vctx(), p, "", times, unix.AT_EMPTY_PATH)
	}
	at, name, err := t.atPath(dirfd, pathp)
	if err != nil {
		return 0, err
	}
	return 0, t.p.sys.vfs.Utimensat(t.vctx(), at, name, times, int(flags))
}

func sysUtimensat(t *Thread, a Args) (uint64, error) { return t.utimens(a[0], a[1], a[2], a[3]) }

// sysUtimes implements utimes(2) and futimesat(2): timevals.
func (t *Thread) utimes(dirfd, pathp, va uint64) (uint64, error) {
	if va == 0 {
		return t.utimens(dirfd, pathp, 0, 0)
	}
	b, err := t.copyIn(va, 32)
	if err != nil {
		return 0, err
	}
	le := binary.LittleEndian
	var ts [32]byte
	for i := 0; i < 2; i++ {
		usec := int64(le.Uint64(b[16*i+8:]))
		if usec < 0 || usec >= 1e6 {
			return 0, unix.EINVAL
		}
		le.PutUint64(ts[16*i:], le.Uint64(b[16*i:]))
		le.PutUint64(ts[16*i+8:], uint64(usec*1000))
	}
	times := &[2]vfs.Timespec{
		{Sec: int64(le.Uint64(ts[0:])), Nsec: int64(le.Uint64(ts[8:]))},
		{Sec: int64(le.Uint64(ts[16:])), Nsec: int64(le.Uint64(ts[24:]))},
	}
	at, name, err := t.atPath(dirfd, pathp)
	if err != nil {
		return 0, err
	}
	return 0, t.p.sys.vfs.Utimensat(t.vctx(), at, name, times, 0)
}

func sysUtimes(t *Thread, a Args) (uint64, error)    { return t.utimes(atFDCWD, a[0], a[1]) }
func sysFutimesat(t *Thread, a Args) (uint64, error) { return t.utimes(a[0], a[1], a[2]) }

// sysUtime implements utime(2): struct utimbuf {actime, modtime}.
func sysUtime(t *Thread, a Args) (uint64, error) {
	if a[1] == 0 {
		return t.utimens(atFDCWD, a[0], 0, 0)
	}
	b, err := t.copyIn(a[1], 16)
	if err != nil {
		return 0, err
	}
	le := binary.LittleEndian
	times := &[2]vfs.Timespec{{Sec: int64(le.Uint64(b))}, {Sec: int64(le.Uint64(b[8:]))}}
	at, name, err := t.atPath(atFDCWD, a[0])
	if err != nil {
		return 0, err
	}
	return 0, t.p.sys.vfs.Utimensat(t.vctx(), at, name, times, 0)
}

func sysTruncate(t *Thread, a Args) (uint64, error) {
	at, name, err := t.atPath(atFDCWD, a[0])
	if err != nil {
		return 0, err
	}
	if int64(a[1]) < 0 {
		return 0, unix.EINVAL
	}
	err = t.p.sys.vfs.Truncate(t.vctx(), at, name, int64(a[1]))
	t.p.sys.afterTruncate(nil) // mapped files: filemap.go
	return 0, err
}

func sysFtruncate(t *Thread, a Args) (uint64, error) {
	f, err := t.file(a[0])
	if err != nil {
		return 0, err
	}
	if int64(a[1]) < 0 {
		return 0, unix.EINVAL
	}
	err = f.Truncate(int64(a[1]))
	t.p.sys.afterTruncate(f) // mapped files: filemap.go
	return 0, err
}

func sysFallocate(t *Thread, a Args) (uint64, error) {
	f, err := t.file(a[0])
	if err != nil {
		return 0, err
	}
	return 0, f.Allocate(uint32(a[1]), int64(a[2]), int64(a[3]))
}

// sysFsync implements fsync(2) and fdatasync(2).
func sysFsync(t *Thread, a Args) (uint64, error) {
	f, err := t.file(a[0])
	if err != nil {
		return 0, err
	}
	if streamOf(f) != nil {
		return 0, unix.EINVAL // pipes, terminals: nothing to sync (Linux: EINVAL)
	}
	t.p.sys.beforeRead(f) // write back what mappings stored (filemap.go)
	return 0, f.Sync(false)
}

// sysSync implements sync(2) and syncfs(2): the in-memory file systems
// have nothing to flush; host directories write through.
func sysSync(t *Thread, a Args) (uint64, error) { return 0, nil }

// sysMsync implements msync(2): the dirty pages of the files mapped
// shared in the range are written back (MS_ASYNC writes at once too, as
// Linux may; MS_INVALIDATE has nothing to do: the page cache is the
// mappings' memory). ENOMEM if part of the range is unmapped, after
// writing back the mapped part, as Linux.
func sysMsync(t *Thread, a Args) (uint64, error) {
	addr, length, flags := a[0], a[1], a[2]
	if addr%4096 != 0 || flags&^(unix.MS_ASYNC|unix.MS_SYNC|unix.MS_INVALIDATE) != 0 ||
		flags&unix.MS_ASYNC != 0 && flags&unix.MS_SYNC != 0 {
		return 0, unix.EINVAL
	}
	end := pageUp(addr + length)
	if end < addr {
		return 0, unix.ENOMEM
	}
	var err error
	next := addr
	for _, v := range t.as().VMAs() {
		if v.End <= addr || v.Start >= end {
			continue
		}
		if v.Start > next {
			err = unix.ENOMEM // a hole
		}
		next = v.End
		if c := cacheOf(v.Backing); c != nil && v.Shared && flags&(unix.MS_SYNC|unix.MS_ASYNC) != 0 {
			if werr := c.flush(); werr != nil && err == nil {
				err = unix.EIO
			}
		}
	}
	if next < end {
		err = unix.ENOMEM
	}
	return 0, err
}

// putStatfs writes struct statfs.
func (t *Thread) putStatfs(va uint64, s vfs.Statfs, readOnly bool) error {
	var b [120]byte
	le := binary.LittleEndian
	le.PutUint64(b[0:], uint64(s.Type))
	le.PutUint64(b[8:], uint64(s.Bsize))
	le.PutUint64(b[16:], s.Blocks)
	le.PutUint64(b[24:], s.Bfree)
	le.PutUint64(b[32:], s.Bavail)
	le.PutUint64(b[40:], s.Files)
	le.PutUint64(b[48:], s.Ffree)
	le.PutUint64(b[64:], uint64(s.Namelen))
	le.PutUint64(b[72:], uint64(s.Bsize)) // f_frsize
	if readOnly {
		le.PutUint64(b[80:], unix.ST_RDONLY)
	}
	return t.copyOut(va, b[:])
}

func sysStatfs(t *Thread, a Args) (uint64, error) {
	at, name, err := t.atPath(atFDCWD, a[0])
	if err != nil {
		return 0, err
	}
	p, err := t.p.sys.vfs.Lookup(t.vctx(), at, name, 0)
	if err != nil {
		return 0, err
	}
	return 0, t.putStatfs(a[1], t.p.sys.vfs.StatfsOf(p), p.Mount.ReadOnly())
}

func sysFstatfs(t *Thread, a Args) (uint64, error) {
	f, err := t.file(a[0])
	if err != nil {
		return 0, err
	}
	p := f.Path()
	if p.IsZero() {
		// Pipes, sockets, anonymous files: the kernel's pseudo filesystems.
		return 0, t.putStatfs(a[1], vfs.Statfs{Type: 0x50495045, Bsize: 4096, Namelen: 255}, false)
	}
	return 0, t.putStatfs(a[1], t.p.sys.vfs.StatfsOf(p), p.Mount.ReadOnly())
}

// sysMemfdCreate implements memfd_create(2): an unnamed file in /dev/shm's
// tmpfs (O_TMPFILE), gone with its last descriptor. MFD_CLOEXEC is
// honoured; sealing (MFD_ALLOW_SEALING) is accepted but F_ADD_SEALS is
// not supported; hugetlb memory is EINVAL.
func sysMemfdCreate(t *Thread, a Args) (uint64, error) {
	name, err := t.readString(a[0], 250)
	if err != nil {
		if err == unix.ENAMETOOLONG {
			return 0, unix.EINVAL
		}
		return 0, err
	}
	_ = name
	flags := a[1]
	if flags&^(unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING) != 0 {
		return 0, unix.EINVAL
	}
	c := t.vctx()
	c.Cred = vfs.Cred{} // the file is the caller's whatever /dev/shm allows
	f, err := t.p.sys.vfs.Openat(c, vfs.Path{}, "/dev/shm", vfs.OpenHow{Flags: unix.O_TMPFILE | unix.O_RDWR, Mode: 0o600})
	if err != nil {
		return 0, err
	}
	n, err := t.p.files.installNew(f, flags&unix.MFD_CLOEXEC != 0)
	return uint64(n), err
}

// sysCopyFileRange implements copy_file_range(2) by reading and writing
// through a kernel buffer (at most 1 MiB per call, a short count as the
// call permits).
// overlapsSelf reports whether copying n bytes from in at inOff to out at
// outOff (-1: the file's position) copies a file onto an overlapping range
// of itself, which copy_file_range(2) refuses with EINVAL.
func overlapsSelf(in, out *vfs.File, inOff, outOff, n int64) bool {
	si, err1 := in.Stat()
	so, err2 := out.Stat()
	if err1 != nil || err2 != nil || si.Dev != so.Dev || si.Ino != so.Ino {
		return false
	}
	if inOff < 0 {
		inOff = in.Offset()
	}
	if outOff < 0 {
		outOff = out.Offset()
	}
	return inOff < outOff+n && outOff < inOff+n
}

func sysCopyFileRange(t *Thread, a Args) (uint64, error) {
	if a[5] != 0 {
		return 0, unix.EINVAL
	}
	in, out, err := t.openInOut(a[0], a[2])
	if err != nil {
		return 0, err
	}
	if streamOf(in) != nil || streamOf(out) != nil {
		return 0, unix.EINVAL
	}
	if out.Flags()&unix.O_APPEND != 0 {
		return 0, unix.EBADF
	}
	inOff, err := t.loffArg(a[1])
	if err != nil {
		return 0, err
	}
	outOff, err := t.loffArg(a[3])
	if err != nil {
		return 0, err
	}
	if overlapsSelf(in, out, inOff, outOff, int64(min(a[4], 1<<62))) {
		return 0, unix.EINVAL
	}
	return t.copyRange(in, a[1], inOff, out, a[3], outOff, a[4])
}

// sysMount implements mount(2) for new tmpfs, proc and devtmpfs
// instances and for virtio-9p shares (type "9p", the source is the tag);
// MS_RDONLY, MS_NOSUID, MS_NODEV and MS_NOEXEC apply. Bind mounts,
// remounts and propagation changes are not supported (EINVAL, logged).
func sysMount(t *Thread, a Args) (uint64, error) {
	if t.creds().euid != 0 {
		return 0, unix.EPERM
	}
	flags := a[3]
	const known = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_SILENT | unix.MS_NOATIME | unix.MS_RELATIME
	if flags&^known != 0 && flags&unix.MS_MGC_MSK != unix.MS_MGC_VAL {
		return t.nosysArg("mount flags", flags&^known)
	}
	typ, err := t.readString(a[2], 64)
	if err != nil {
		return 0, err
	}
	source := ""
	if a[0] != 0 {
		if source, err = t.readString(a[0], pathMax); err != nil {
			return 0, err
		}
	}
	at, name, err := t.atPath(atFDCWD, a[1])
	if err != nil {
		return 0, err
	}
	v := t.p.sys.vfs
	target, err := v.Lookup(t.vctx(), at, name, 0)
	if err != nil {
		return 0, err
	}
	if !target.Dentry.IsDir() {
		return 0, unix.ENOTDIR
	}
	var fs vfs.Filesystem
	switch typ {
	case "tmpfs":
		fs = t.p.sys.newTmpfs()
	case "proc":
		fs = &procFS{sys: t.p.sys, dev: vfs.NewDev()}
	case "sysfs":
		fs = newSysFS(t.p.sys)
	case "devtmpfs":
		fs = newDevFS()
	case "9p":
		if t.p.cfg.Share == nil {
			return 0, unix.ENODEV
		}
		if fs, err = t.p.cfg.Share(source); err != nil {
			return 0, err
		}
	default:
		return 0, unix.ENODEV
	}
	var mf vfs.MountFlags
	if flags&unix.MS_RDONLY != 0 {
		mf |= vfs.MountReadOnly
	}
	if flags&unix.MS_NOEXEC != 0 {
		mf |= vfs.MountNoExec
	}
	if flags&unix.MS_NOSUID != 0 {
		mf |= vfs.MountNoSuid
	}
	if flags&unix.MS_NODEV != 0 {
		mf |= vfs.MountNoDev
	}
	if source == "" {
		source = typ
	}
	_, err = v.Mount(target, fs, mf, source)
	return 0, err
}

// sysUmount2 implements umount2(2) (MNT_DETACH; MNT_FORCE is treated as
// a plain unmount).
func sysUmount2(t *Thread, a Args) (uint64, error) {
	if t.creds().euid != 0 {
		return 0, unix.EPERM
	}
	if a[1]&^(unix.MNT_FORCE|unix.MNT_DETACH|unix.MNT_EXPIRE|unix.UMOUNT_NOFOLLOW) != 0 {
		return 0, unix.EINVAL
	}
	at, name, err := t.atPath(atFDCWD, a[0])
	if err != nil {
		return 0, err
	}
	p, err := t.p.sys.vfs.Lookup(t.vctx(), at, name, 0)
	if err != nil {
		return 0, err
	}
	if p.Dentry != p.Mount.Root().Dentry || p.Mount.Point().IsZero() {
		return 0, unix.EINVAL // not a mount point (or the root)
	}
	return 0, t.p.sys.vfs.Umount(p.Mount, a[1]&unix.MNT_DETACH != 0)
}

// Extended attributes: no filesystem here stores them. Reading one is
// ENODATA and listing gives none (as on a filesystem without any),
// setting one is EOPNOTSUPP; the path or descriptor is checked first.
func (t *Thread) xattrTarget(nr uint64, a Args) error {
	switch nr {
	case unix.SYS_FGETXATTR, unix.SYS_FLISTXATTR, unix.SYS_FSETXATTR, unix.SYS_FREMOVEXATTR:
		_, err := t.file(a[0])
		return err
	}
	flags := 0
	if nr == unix.SYS_LGETXATTR || nr == unix.SYS_LLISTXATTR || nr == unix.SYS_LSETXATTR || nr == unix.SYS_LREMOVEXATTR {
		flags = unix.AT_SYMLINK_NOFOLLOW
	}
	_, err := t.statPath(atFDCWD, a[0], uint64(flags))
	return err
}

func sysGetxattr(t *Thread, nr uint64, a Args) (uint64, error) {
	if err := t.xattrTarget(nr, a); err != nil {
		return 0, err
	}
	return 0, unix.ENODATA
}

func sysListxattr(t *Thread, nr uint64, a Args) (uint64, error) {
	return 0, t.xattrTarget(nr, a)
}

func sysSetxattr(t *Thread, nr uint64, a Args) (uint64, error) {
	if err := t.xattrTarget(nr, a); err != nil {
		return 0, err
	}
	if nr == unix.SYS_REMOVEXATTR || nr == unix.SYS_LREMOVEXATTR || nr == unix.SYS_FREMOVEXATTR {
		return 0, unix.ENODATA
	}
	return 0, unix.EOPNOTSUPP
}

// sysFadvise64 implements fadvise64(2): advice about a file's access
// pattern, which the in-memory and pass-through filesystems here have no
// use for. Valid advice on a regular file is accepted (0), as Linux may
// ignore it; a pipe is ESPIPE, a bad advice EINVAL.
func sysFadvise64(t *Thread, a Args) (uint64, error) {
	f, err := t.file(a[0])
	if err != nil {
		return 0, err
	}
	if streamOf(f) != nil {
		if _, ok := streamOf(f).(*device); !ok {
			return 0, unix.ESPIPE
		}
	}
	if a[3] > unix.FADV_NOREUSE || int64(a[2]) < 0 {
		return 0, unix.EINVAL
	}
	return 0, nil
}
