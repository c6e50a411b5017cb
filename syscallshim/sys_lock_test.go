package syscallshim

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"yolk/amd64"
)

// Unit tests of file locks: the range arithmetic, and fcntl/flock through
// the dispatcher with two owners (the test's process and a forked one).

func TestLockSetSplitsAndMerges(t *testing.T) {
	a, b := &Process{pid: 1}, &Process{pid: 2}
	var locks []*lockRange
	locks = set(locks, a, 1, unix.F_WRLCK, 0, 100)
	locks = set(locks, a, 1, unix.F_UNLCK, 40, 60) // a hole in the middle
	if len(locks) != 2 || locks[0].end != 40 || locks[1].start != 60 {
		t.Fatalf("after unlocking the middle: %+v %+v", *locks[0], *locks[1])
	}
	if c := conflict(locks, b, unix.F_RDLCK, 45, 55); c != nil {
		t.Errorf("the hole conflicts with %+v", *c)
	}
	if c := conflict(locks, b, unix.F_RDLCK, 30, 45); c == nil || c.start != 0 {
		t.Errorf("a read over the write lock: conflict %v", c)
	}
	if c := conflict(locks, a, unix.F_WRLCK, 0, math.MaxInt64); c != nil {
		t.Errorf("an owner conflicts with itself")
	}
	locks = set(locks, b, 2, unix.F_RDLCK, 200, math.MaxInt64)
	if c := conflict(locks, a, unix.F_RDLCK, 300, 400); c != nil {
		t.Errorf("two read locks conflict")
	}
	if c := conflict(locks, a, unix.F_WRLCK, 1<<40, 1<<41); c == nil || c.owner != b {
		t.Errorf("a write lock past the end of b's to-EOF read lock does not conflict")
	}
	locks = set(locks, a, 1, unix.F_UNLCK, 0, math.MaxInt64)
	if len(locks) != 1 || locks[0].owner != b {
		t.Errorf("unlocking everything of a left %d locks", len(locks))
	}
}

func TestLockDeadlockDetection(t *testing.T) {
	a, b, c := &Process{pid: 1}, &Process{pid: 2}, &Process{pid: 3}
	lt := &lockTable{waiting: map[any]any{b: c, c: a}}
	if !lt.wouldDeadlock(a, b) {
		t.Errorf("a waiting for b (b waits for c, c for a) is not a deadlock")
	}
	if lt.wouldDeadlock(c, &Process{pid: 4}) {
		t.Errorf("a wait for an unrelated owner is a deadlock")
	}
}

// flockArg writes a struct flock at scratch offset off.
func (e *hdEnv) flockArg(off uint64, typ int16, start, length int64) uint64 {
	var b [32]byte
	binary.LittleEndian.PutUint16(b[0:], uint16(typ))
	binary.LittleEndian.PutUint64(b[8:], uint64(start))
	binary.LittleEndian.PutUint64(b[16:], uint64(length))
	return e.m.put(off, b[:])
}

func TestHandlersRecordLocks(t *testing.T) {
	e := newHdEnv(t, nil)
	fd := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/tmp/f"), unix.O_RDWR|unix.O_CREAT, 0o644)
	// The process locks [10, 20) for writing.
	e.want(0, unix.SYS_FCNTL, fd, unix.F_SETLK, e.flockArg(0x100, unix.F_WRLCK, 10, 10))
	// Its own GETLK sees nothing in the way (locks do not conflict with
	// their owner).
	e.want(0, unix.SYS_FCNTL, fd, unix.F_GETLK, e.flockArg(0x100, unix.F_WRLCK, 0, 0))
	if typ := int16(e.m.u32(hdAt(0x100))); typ != unix.F_UNLCK {
		t.Errorf("F_GETLK by the owner: type %d, want F_UNLCK", typ)
	}
	// An OFD lock is another owner: it conflicts with the process's lock.
	e.want(hdErr(unix.EAGAIN), unix.SYS_FCNTL, fd, unix.F_OFD_SETLK, e.flockArg(0x100, unix.F_WRLCK, 15, 1))
	e.want(0, unix.SYS_FCNTL, fd, unix.F_OFD_GETLK, e.flockArg(0x100, unix.F_RDLCK, 0, 0))
	if typ, start := int16(e.m.u32(hdAt(0x100))), e.m.u64(hdAt(0x108)); typ != unix.F_WRLCK || start != 10 {
		t.Errorf("F_OFD_GETLK: type %d start %d, want F_WRLCK at 10", typ, start)
	}
	// Bad arguments.
	e.want(hdErr(unix.EINVAL), unix.SYS_FCNTL, fd, unix.F_SETLK, e.flockArg(0x100, 7, 0, 0))
	e.want(hdErr(unix.EINVAL), unix.SYS_FCNTL, fd, unix.F_SETLK, e.flockArg(0x100, unix.F_WRLCK, -5, 1))
	e.want(hdErr(unix.EFAULT), unix.SYS_FCNTL, fd, unix.F_SETLK, hdBad)
	// Closing any descriptor of the file drops the process's locks.
	fd2 := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/tmp/f"), unix.O_RDONLY)
	e.want(0, unix.SYS_CLOSE, fd2)
	e.want(0, unix.SYS_FCNTL, fd, unix.F_OFD_SETLK, e.flockArg(0x100, unix.F_WRLCK, 15, 1))
}

// TestHandlersSetlkwWaits: F_SETLKW waits for another process's lock and
// gets it when that process exits; a signal interrupts the wait.
func TestHandlersSetlkwWaits(t *testing.T) {
	release := make(chan struct{})
	e := newPtEnv(t, map[uint64][]ptStep{1: {
		func(r *amd64.Frame, _ uint64) {
			r.RAX, r.RDI, r.RSI, r.RDX = unix.SYS_FCNTL, 3, unix.F_SETLK, hdAt(0x100)
		},
		func(r *amd64.Frame, _ uint64) { <-release; r.RAX, r.RDI = unix.SYS_EXIT_GROUP, 0 },
	}})
	fd := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/tmp/f"), unix.O_RDWR|unix.O_CREAT, 0o644)
	if fd != 3 {
		t.Fatalf("fd %d, the child's script uses 3", fd)
	}
	e.flockArg(0x100, unix.F_WRLCK, 0, 0) // the whole file
	child := e.fork(1)
	// Wait until the child holds its lock.
	deadline := time.Now().Add(5 * time.Second)
	for {
		e.want(0, unix.SYS_FCNTL, fd, unix.F_GETLK, e.flockArg(0x200, unix.F_WRLCK, 0, 0))
		if int16(e.m.u32(hdAt(0x200))) == unix.F_WRLCK || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if pid := e.m.u32(hdAt(0x218)); pid != uint32(child) {
		t.Fatalf("F_GETLK names pid %d, want the child %d", pid, child)
	}
	e.want(hdErr(unix.EAGAIN), unix.SYS_FCNTL, fd, unix.F_SETLK, e.flockArg(0x300, unix.F_RDLCK, 0, 1))
	done := make(chan uint64)
	go func() { done <- e.call(unix.SYS_FCNTL, fd, unix.F_SETLKW, e.flockArg(0x300, unix.F_RDLCK, 0, 1)) }()
	select {
	case r := <-done:
		t.Fatalf("F_SETLKW returned %s while the child holds the lock", hdShow(r))
	case <-time.After(50 * time.Millisecond):
	}
	close(release) // the child exits: its locks go
	select {
	case r := <-done:
		if r != 0 {
			t.Errorf("F_SETLKW = %s after the child exited", hdShow(r))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("F_SETLKW still waits after the holder exited")
	}
}

func TestHandlersFlock(t *testing.T) {
	e := newHdEnv(t, nil)
	a := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/tmp/f"), unix.O_RDWR|unix.O_CREAT, 0o644)
	b := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/tmp/f"), unix.O_RDWR)
	e.want(0, unix.SYS_FLOCK, a, unix.LOCK_SH)
	e.want(0, unix.SYS_FLOCK, b, unix.LOCK_SH|unix.LOCK_NB) // shared locks coexist
	e.want(hdErr(unix.EWOULDBLOCK), unix.SYS_FLOCK, b, unix.LOCK_EX|unix.LOCK_NB)
	e.want(0, unix.SYS_FLOCK, a, unix.LOCK_UN)
	e.want(0, unix.SYS_FLOCK, b, unix.LOCK_EX|unix.LOCK_NB) // upgraded once a let go
	e.want(hdErr(unix.EINVAL), unix.SYS_FLOCK, a, 0)
	// flock and record locks do not interact.
	e.want(0, unix.SYS_FCNTL, a, unix.F_SETLK, e.flockArg(0x100, unix.F_WRLCK, 0, 0))
}

// TestHandlersLocksGoWithTheFile: flock and F_OFD_ locks belong to the
// open file: a dup keeps them, the last close drops them, and another
// open file then takes the lock at once.
func TestHandlersLocksGoWithTheFile(t *testing.T) {
	e := newHdEnv(t, nil)
	a := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/tmp/f"), unix.O_RDWR|unix.O_CREAT, 0o644)
	b := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/tmp/f"), unix.O_RDWR)
	e.want(0, unix.SYS_FLOCK, a, unix.LOCK_EX)
	e.want(0, unix.SYS_FCNTL, a, unix.F_OFD_SETLK, e.flockArg(0x100, unix.F_WRLCK, 0, 10))
	a2 := e.ok(unix.SYS_DUP, a)
	e.want(0, unix.SYS_CLOSE, a)
	e.want(hdErr(unix.EWOULDBLOCK), unix.SYS_FLOCK, b, unix.LOCK_EX|unix.LOCK_NB) // a2 still holds it
	e.want(hdErr(unix.EAGAIN), unix.SYS_FCNTL, b, unix.F_OFD_SETLK, e.flockArg(0x100, unix.F_WRLCK, 0, 10))
	e.want(0, unix.SYS_CLOSE, a2)
	e.want(0, unix.SYS_FLOCK, b, unix.LOCK_EX|unix.LOCK_NB)
	e.want(0, unix.SYS_FCNTL, b, unix.F_OFD_SETLK, e.flockArg(0x100, unix.F_WRLCK, 0, 10))
}
