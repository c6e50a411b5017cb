package syscallshim

import (
	"encoding/binary"
	"math"
	"sync"

	"golang.org/x/sys/unix"

	"yolk/vfs"
)

// File locks: fcntl(2) record locks with POSIX semantics (owned by the
// process; any close of the file by the process, and its exit, drop
// them), open-file-description locks (F_OFD_*: owned by the open file,
// dropped when its last descriptor closes), and flock(2) (whole-file,
// owned by the open file in the same way, independent of the record
// locks). A blocked F_SETLKW or flock waits until the conflict
// goes, a signal interrupts it (EINTR), and a wait that would close a
// cycle of processes waiting on each other fails with EDEADLK.

// lockRange is one held lock: [start, end) of the file (end MaxInt64 for
// "to the end, however long the file grows").
type lockRange struct {
	owner      any // *Process (POSIX), *vfs.File (OFD, flock)
	pid        int32
	typ        int16 // F_RDLCK or F_WRLCK
	start, end int64
}

func (l *lockRange) conflicts(owner any, typ int16, start, end int64) bool {
	return l.owner != owner && l.start < end && start < l.end && (l.typ == unix.F_WRLCK || typ == unix.F_WRLCK)
}

// lockTable holds every file's locks.
type lockTable struct {
	mu      sync.Mutex
	records map[vfs.Inode][]*lockRange // fcntl locks, POSIX and OFD
	flocks  map[vfs.Inode][]*lockRange // flock locks (whole file)
	waiting map[any]any                // owner → owner it waits for (deadlock detection)
	changed notifier                   // a lock went away
}

// conflict returns the first lock of another owner that conflicts.
func conflict(locks []*lockRange, owner any, typ int16, start, end int64) *lockRange {
	for _, l := range locks {
		if l.conflicts(owner, typ, start, end) {
			return l
		}
	}
	return nil
}

// set applies a lock (or F_UNLCK) of owner over [start, end): what the
// owner held there is replaced, split where the range cuts it.
func set(locks []*lockRange, owner any, pid int32, typ int16, start, end int64) []*lockRange {
	var out []*lockRange
	for _, l := range locks {
		if l.owner != owner || l.end <= start || end <= l.start {
			out = append(out, l)
			continue
		}
		if l.start < start {
			out = append(out, &lockRange{owner: l.owner, pid: l.pid, typ: l.typ, start: l.start, end: start})
		}
		if end < l.end {
			out = append(out, &lockRange{owner: l.owner, pid: l.pid, typ: l.typ, start: end, end: l.end})
		}
	}
	if typ != unix.F_UNLCK {
		out = append(out, &lockRange{owner: owner, pid: pid, typ: typ, start: start, end: end})
	}
	return out
}

// wouldDeadlock reports whether owner waiting for holder closes a cycle.
func (lt *lockTable) wouldDeadlock(owner, holder any) bool {
	for i := 0; holder != nil && i < 1024; i++ {
		if holder == owner {
			return true
		}
		holder = lt.waiting[holder]
	}
	return false
}

// lock takes (or drops) a lock in table tbl, waiting when wait is set.
func (t *Thread) lock(tbl func(*lockTable) *map[vfs.Inode][]*lockRange, ino vfs.Inode, owner any, typ int16, start, end int64, wait bool) error {
	lt := &t.p.sys.locks
	for {
		lt.mu.Lock()
		m := tbl(lt)
		if *m == nil {
			*m = map[vfs.Inode][]*lockRange{}
		}
		locks := (*m)[ino]
		c := (*lockRange)(nil)
		if typ != unix.F_UNLCK {
			c = conflict(locks, owner, typ, start, end)
		}
		if c == nil {
			if nl := set(locks, owner, t.p.pid, typ, start, end); len(nl) > 0 {
				(*m)[ino] = nl
			} else {
				delete(*m, ino)
			}
			lt.mu.Unlock()
			lt.changed.notify()
			return nil
		}
		if !wait {
			lt.mu.Unlock()
			return unix.EAGAIN
		}
		_, posix := owner.(*Process)
		if posix && lt.wouldDeadlock(owner, c.owner) {
			lt.mu.Unlock()
			return unix.EDEADLK
		}
		if lt.waiting == nil {
			lt.waiting = map[any]any{}
		}
		lt.waiting[owner] = c.owner
		// Taken under lt.mu: a change after the check above is
		// notified after it, closing this channel (and a lock that
		// needs no wait makes none).
		wake := lt.changed.wait()
		lt.mu.Unlock()
		interrupted := waitOn(wake, t)
		lt.mu.Lock()
		delete(lt.waiting, owner)
		lt.mu.Unlock()
		if interrupted {
			return unix.EINTR
		}
	}
}

func recordTable(lt *lockTable) *map[vfs.Inode][]*lockRange { return &lt.records }
func flockTable(lt *lockTable) *map[vfs.Inode][]*lockRange  { return &lt.flocks }

// releaseOwner drops every lock owner holds (in both tables) on ino, or
// on every file when ino is nil.
func (lt *lockTable) releaseOwner(owner any, ino vfs.Inode) {
	lt.mu.Lock()
	n := 0
	for _, m := range []map[vfs.Inode][]*lockRange{lt.records, lt.flocks} {
		for i, locks := range m {
			if ino != nil && i != ino {
				continue
			}
			var keep []*lockRange
			for _, l := range locks {
				if l.owner != owner {
					keep = append(keep, l)
				}
			}
			n += len(locks) - len(keep)
			if len(keep) == 0 {
				delete(m, i)
			} else {
				m[i] = keep
			}
		}
	}
	lt.mu.Unlock()
	if n > 0 {
		lt.changed.notify()
	}
}

// fcntlLock implements F_GETLK, F_SETLK, F_SETLKW and their F_OFD_
// variants over struct flock at va.
func (t *Thread) fcntlLock(f *vfs.File, cmd int, va uint64) (uint64, error) {
	if f.Path().IsZero() {
		return 0, unix.EBADF
	}
	ino := f.Path().Inode()
	b, err := t.copyIn(va, 32)
	if err != nil {
		return 0, err
	}
	le := binary.LittleEndian
	typ, whence := int16(le.Uint16(b[0:])), int16(le.Uint16(b[2:]))
	start, length := int64(le.Uint64(b[8:])), int64(le.Uint64(b[16:]))
	ofd := cmd == unix.F_OFD_GETLK || cmd == unix.F_OFD_SETLK || cmd == unix.F_OFD_SETLKW
	if ofd && le.Uint32(b[24:]) != 0 {
		return 0, unix.EINVAL // l_pid must be 0 for OFD locks
	}
	switch typ {
	case unix.F_RDLCK, unix.F_WRLCK, unix.F_UNLCK:
	default:
		return 0, unix.EINVAL
	}
	switch whence {
	case unix.SEEK_SET:
	case unix.SEEK_CUR:
		start += f.Offset()
	case unix.SEEK_END:
		st, err := f.Stat()
		if err != nil {
			return 0, err
		}
		start += st.Size
	default:
		return 0, unix.EINVAL
	}
	end := int64(math.MaxInt64)
	switch {
	case length > 0:
		if start > math.MaxInt64-length {
			return 0, unix.EOVERFLOW
		}
		end = start + length
	case length < 0:
		start, end = start+length, start
	}
	if start < 0 {
		return 0, unix.EINVAL
	}
	var owner any = t.p
	if ofd {
		owner = f
	}
	switch cmd {
	case unix.F_GETLK, unix.F_OFD_GETLK:
		if typ == unix.F_UNLCK {
			return 0, unix.EINVAL
		}
		lt := &t.p.sys.locks
		lt.mu.Lock()
		c := conflict(lt.records[ino], owner, typ, start, end)
		var out [32]byte
		copy(out[:], b)
		if c == nil {
			le.PutUint16(out[0:], unix.F_UNLCK)
		} else {
			le.PutUint16(out[0:], uint16(c.typ))
			le.PutUint16(out[2:], unix.SEEK_SET)
			le.PutUint64(out[8:], uint64(c.start))
			l := int64(0)
			if c.end != math.MaxInt64 {
				l = c.end - c.start
			}
			le.PutUint64(out[16:], uint64(l))
			pid := c.pid
			if _, isOFD := c.owner.(*vfs.File); isOFD {
				pid = -1
			}
			le.PutUint32(out[24:], uint32(pid))
		}
		lt.mu.Unlock()
		return 0, t.copyOut(va, out[:])
	}
	mode := f.Flags() & unix.O_ACCMODE
	if typ == unix.F_RDLCK && mode == unix.O_WRONLY || typ == unix.F_WRLCK && mode == unix.O_RDONLY {
		return 0, unix.EBADF
	}
	wait := cmd == unix.F_SETLKW || cmd == unix.F_OFD_SETLKW
	if ofd && typ != unix.F_UNLCK {
		t.releaseWithFile(f)
	}
	return 0, t.lock(recordTable, ino, owner, typ, start, end, wait)
}

// releaseWithFile makes the locks f owns (F_OFD_, flock) go when its last
// descriptor closes, as Linux's do.
func (t *Thread) releaseWithFile(f *vfs.File) {
	lt := &t.p.sys.locks
	f.OnRelease(func() { lt.releaseOwner(f, nil) })
}

// sysFlock implements flock(2).
func sysFlock(t *Thread, a Args) (uint64, error) {
	f, err := t.file(a[0])
	if err != nil {
		return 0, err
	}
	if f.Path().IsZero() {
		return 0, unix.EINVAL
	}
	op := a[1]
	var typ int16
	switch op &^ unix.LOCK_NB {
	case unix.LOCK_SH:
		typ = unix.F_RDLCK
	case unix.LOCK_EX:
		typ = unix.F_WRLCK
	case unix.LOCK_UN:
		typ = unix.F_UNLCK
	default:
		return 0, unix.EINVAL
	}
	if typ != unix.F_UNLCK {
		t.releaseWithFile(f)
	}
	err = t.lock(flockTable, f.Path().Inode(), f, typ, 0, math.MaxInt64, op&unix.LOCK_NB == 0)
	if err == unix.EAGAIN {
		err = unix.EWOULDBLOCK
	}
	return 0, err
}
