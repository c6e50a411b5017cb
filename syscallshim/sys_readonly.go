package syscallshim

import "golang.org/x/sys/unix"

// The root file system is the initrd, read-only: calls that would change
// it fail with EROFS, as on a read-only Linux mount, once the path is
// known to be well formed.

// sysReadOnly answers a call that would modify the file system.
func sysReadOnly(t *Thread, a Args) (uint64, error) { return 0, unix.EROFS }

// sysFtruncate: no descriptor is open for writing on a read-only tree.
func sysFtruncate(t *Thread, a Args) (uint64, error) {
	d, err := t.p.files.get(a[0])
	if err != nil {
		return 0, err
	}
	if d.flags&unix.O_ACCMODE == unix.O_RDONLY {
		return 0, unix.EINVAL // Linux: not open for writing
	}
	return 0, unix.EINVAL
}

// sysFsync implements fsync(2)/fdatasync(2): console writes are
// synchronous and files are read-only, so there is nothing to flush.
func sysFsync(t *Thread, a Args) (uint64, error) {
	if _, err := t.p.files.get(a[0]); err != nil {
		return 0, err
	}
	return 0, nil
}

// sysSync implements sync(2) and syncfs(2): nothing is buffered.
func sysSync(t *Thread, a Args) (uint64, error) { return 0, nil }

// sysMsync: private anonymous and copied file mappings have no backing
// store to write to.
func sysMsync(t *Thread, a Args) (uint64, error) {
	if a[0]%4096 != 0 || a[2]&^(unix.MS_ASYNC|unix.MS_SYNC|unix.MS_INVALIDATE) != 0 {
		return 0, unix.EINVAL
	}
	if _, ok := t.as().Lookup(a[0]); !ok && a[1] != 0 {
		return 0, unix.ENOMEM
	}
	return 0, nil
}
