package syscallshim

// Tests of file mappings over the page cache of filemap.go: MAP_SHARED
// writing through to the file (msync, munmap, exit), coherence with
// read/pwrite/truncate, SIGBUS past the end, fork, private copy-on-write,
// and frames coming back.

import (
	"bytes"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"yolk/linux/abi"
	"yolk/mm"
)

// The fake machines give the page cache their fake physical memory.
func (m *hdMachine) Phys() mm.Phys     { return m.phys }
func (m *straceMachine) Phys() mm.Phys { return m.phys }

// fmFile creates path with data and returns its descriptor (O_RDWR).
func fmFile(e *hdEnv, path string, data []byte) uint64 {
	e.t.Helper()
	fd := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0x800, path), unix.O_CREAT|unix.O_RDWR|unix.O_TRUNC, 0o644)
	if len(data) > 0 {
		e.want(uint64(len(data)), unix.SYS_PWRITE64, fd, e.m.put(0x8000, data), uint64(len(data)), 0)
	}
	return fd
}

// fmFileBytes reads the whole file behind fd straight from its
// filesystem, past the page cache's hooks.
func fmFileBytes(e *hdEnv, fd uint64) []byte {
	e.t.Helper()
	f, err := e.p.files.file(fd)
	if err != nil {
		e.t.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil {
		e.t.Fatal(err)
	}
	b := make([]byte, st.Size)
	if n, err := f.Impl().Read(b, 0); err != nil || n != len(b) {
		e.t.Fatalf("read the file: %d, %v", n, err)
	}
	return b
}

// fmBaseline touches the scratch pages the tests use and returns the
// frames in use then.
func fmBaseline(e *hdEnv) int {
	for _, off := range []uint64{0x800, 0x1000, 0x2000, 0x8000, 0x9000} {
		e.m.put(off, []byte{0})
	}
	return e.m.phys.InUse()
}

func fmPattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

func TestFileMapSharedWriteBack(t *testing.T) {
	e := newHdEnv(t, nil)
	base := fmBaseline(e)
	data := fmPattern(6000)
	fd := fmFile(e, "/tmp/f", data)
	addr := e.ok(unix.SYS_MMAP, 0, 3*hdPage, hdRW, unix.MAP_SHARED, fd, 0)
	// The file, then zeros to the end of the page holding its end.
	e.bytesAt(addr, append(bytes.Clone(data), make([]byte, 2*hdPage-6000)...))

	// A store through the mapping reaches the file with msync.
	if _, err := e.m.as.CopyOut(addr+10, []byte("XYZ")); err != nil {
		t.Fatal(err)
	}
	if got := fmFileBytes(e, fd); bytes.Equal(got[10:13], []byte("XYZ")) {
		t.Fatalf("the store reached the file before msync")
	}
	e.want(0, unix.SYS_MSYNC, addr, 3*hdPage, unix.MS_SYNC)
	copy(data[10:], "XYZ")
	if got := fmFileBytes(e, fd); !bytes.Equal(got, data) {
		t.Fatalf("after msync the file is %q...", got[:20])
	}

	// A read sees a store without msync: dirty pages go back first.
	if _, err := e.m.as.CopyOut(addr+4100, []byte("read")); err != nil {
		t.Fatal(err)
	}
	copy(data[4100:], "read")
	e.want(4, unix.SYS_PREAD64, fd, hdAt(0x2000), 4, 4100)
	e.bytesAt(hdAt(0x2000), []byte("read"))

	// pwrite and write show through the mapping.
	e.want(3, unix.SYS_PWRITE64, fd, e.m.put(0x1000, []byte("pw!")), 3, 4000)
	e.bytesAt(addr+4000, []byte("pw!"))
	e.want(5000, unix.SYS_LSEEK, fd, 5000, 0)
	e.write(fd, "wr")
	e.bytesAt(addr+5000, []byte("wr"))
	copy(data[4000:], "pw!")
	copy(data[5000:], "wr")

	// Past the page holding the end of the file: SIGBUS.
	if r := e.m.as.Fault(addr+2*hdPage, mm.Read); r != mm.FaultBus {
		t.Fatalf("fault past the end = %v, want FaultBus", r)
	}
	if _, err := e.m.as.CopyIn(addr+2*hdPage, make([]byte, 1)); err != unix.EFAULT {
		t.Fatalf("copy past the end: %v, want EFAULT", err)
	}
	// Bytes stored past the end within the last page stay out of the file.
	if _, err := e.m.as.CopyOut(addr+6000, []byte("tail")); err != nil {
		t.Fatal(err)
	}

	// munmap writes back; the frames and the file's reference go with
	// the mapping and the descriptor.
	if _, err := e.m.as.CopyOut(addr+1, []byte("un")); err != nil {
		t.Fatal(err)
	}
	copy(data[1:], "un")
	e.want(0, unix.SYS_MUNMAP, addr, 3*hdPage)
	if got := fmFileBytes(e, fd); !bytes.Equal(got, data) {
		t.Fatalf("after munmap the file is %q... (%d bytes)", got[:20], len(got))
	}
	e.want(0, unix.SYS_CLOSE, fd)
	if n := e.p.sys.filemaps.n.Load(); n != 0 {
		t.Errorf("%d caches left", n)
	}
	if got := e.m.phys.InUse(); got != base {
		t.Errorf("frames in use %d, want %d as before", got, base)
	}
}

func TestFileMapTruncate(t *testing.T) {
	e := newHdEnv(t, nil)
	fd := fmFile(e, "/tmp/t", fmPattern(3*hdPage))
	addr := e.ok(unix.SYS_MMAP, 0, 3*hdPage, hdRW, unix.MAP_SHARED, fd, 0)
	e.bytesAt(addr+2*hdPage, fmPattern(3 * hdPage)[2*hdPage:])
	e.want(0, unix.SYS_FTRUNCATE, fd, 100)
	if r := e.m.as.Fault(addr+hdPage, mm.Read); r != mm.FaultBus {
		t.Fatalf("fault past the new end = %v, want FaultBus", r)
	}
	if r := e.m.as.Fault(addr+2*hdPage, mm.Write); r != mm.FaultBus {
		t.Fatalf("fault in a page mapped before the truncate = %v, want FaultBus", r)
	}
	e.bytesAt(addr+90, append(fmPattern(100)[90:], make([]byte, 10)...))
	// Growing again: the pages read as zeros.
	e.want(0, unix.SYS_FTRUNCATE, fd, 2*hdPage)
	e.bytesAt(addr+hdPage-4, make([]byte, 8))
	// truncate(2) by path as well.
	e.want(0, unix.SYS_TRUNCATE, e.m.cstr(0x800, "/tmp/t"), 10)
	if r := e.m.as.Fault(addr+hdPage, mm.Read); r != mm.FaultBus {
		t.Fatalf("fault after truncate(2) = %v, want FaultBus", r)
	}
	e.bytesAt(addr+8, append(fmPattern(10)[8:], 0, 0))
	// An open with O_TRUNC empties the mapping.
	fd2 := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0x800, "/tmp/t"), unix.O_RDWR|unix.O_TRUNC)
	if r := e.m.as.Fault(addr, mm.Read); r != mm.FaultBus {
		t.Fatalf("fault after O_TRUNC = %v, want FaultBus", r)
	}
	e.want(0, unix.SYS_CLOSE, fd2)
}

func TestFileMapFork(t *testing.T) {
	e := newHdEnv(t, nil)
	base := fmBaseline(e)
	fd := fmFile(e, "/tmp/shared", fmPattern(100))
	addr := e.ok(unix.SYS_MMAP, 0, hdPage, hdRW, unix.MAP_SHARED, fd, 0)
	priv := e.ok(unix.SYS_MMAP, 0, hdPage, hdRW, unix.MAP_PRIVATE, fd, 0)
	e.bytesAt(priv, fmPattern(100))
	child, err := e.p.mem.fork()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := child.as.CopyOut(addr, []byte("child")); err != nil {
		t.Fatal(err)
	}
	e.bytesAt(addr, []byte("child"))
	if _, err := e.m.as.CopyOut(addr+8, []byte("parent")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 6)
	if _, err := child.as.CopyIn(addr+8, got); err != nil || string(got) != "parent" {
		t.Fatalf("the child reads %q, %v", got, err)
	}
	// The private mapping saw the shared stores (its page was not
	// copied yet); its own stores stay its own.
	e.bytesAt(priv, []byte("child"))
	if _, err := e.m.as.CopyOut(priv+50, []byte("mine")); err != nil {
		t.Fatal(err)
	}
	if _, err := child.as.CopyIn(addr+50, got[:4]); err != nil || string(got[:4]) == "mine" {
		t.Fatalf("a private store reached the shared page: %q, %v", got[:4], err)
	}
	// The child's exit writes its stores back.
	if _, err := child.as.CopyOut(addr+20, []byte("bye")); err != nil {
		t.Fatal(err)
	}
	child.release(nil)
	want := fmPattern(100)
	copy(want, "child")
	copy(want[8:], "parent")
	copy(want[20:], "bye")
	if got := fmFileBytes(e, fd); !bytes.Equal(got, want) {
		t.Fatalf("after the child's exit the file is %q", got)
	}
	e.want(0, unix.SYS_MUNMAP, addr, hdPage)
	e.want(0, unix.SYS_MUNMAP, priv, hdPage)
	e.want(0, unix.SYS_CLOSE, fd)
	if got := e.m.phys.InUse(); got != base {
		t.Errorf("frames in use %d, want %d as before", got, base)
	}
}

func TestFileMapPrivate(t *testing.T) {
	e := newHdEnv(t, nil)
	data := fmPattern(5000)
	fd := fmFile(e, "/tmp/p", data)
	addr := e.ok(unix.SYS_MMAP, 0, 3*hdPage, hdRW, unix.MAP_PRIVATE, fd, 0)
	e.bytesAt(addr, data)
	if _, err := e.m.as.CopyOut(addr+1, []byte("copy")); err != nil {
		t.Fatal(err)
	}
	e.want(0, unix.SYS_MSYNC, addr, 3*hdPage, unix.MS_SYNC)
	if got := fmFileBytes(e, fd); !bytes.Equal(got, data) {
		t.Fatalf("a private store reached the file")
	}
	if r := e.m.as.Fault(addr+2*hdPage, mm.Read); r != mm.FaultBus {
		t.Fatalf("private fault past the end = %v, want FaultBus", r)
	}
	// A page the mapping did not write follows the file.
	e.want(2, unix.SYS_PWRITE64, fd, e.m.put(0x1000, []byte("pw")), 2, hdPage)
	e.bytesAt(addr+hdPage, []byte("pw"))
	e.bytesAt(addr, append([]byte{'a'}, "copy"...))
}

func TestFileMapArguments(t *testing.T) {
	e := newHdEnv(t, nil)
	fd := fmFile(e, "/tmp/a", fmPattern(10))
	ro := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0x800, "/tmp/a"), unix.O_RDONLY)
	app := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0x800, "/tmp/a"), unix.O_RDWR|unix.O_APPEND)
	wo := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0x800, "/tmp/a"), unix.O_WRONLY)
	e.want(hdErr(unix.EACCES), unix.SYS_MMAP, 0, hdPage, hdRW, unix.MAP_SHARED, ro, 0)
	e.want(hdErr(unix.EACCES), unix.SYS_MMAP, 0, hdPage, hdRW, unix.MAP_SHARED, app, 0)
	e.want(hdErr(unix.EACCES), unix.SYS_MMAP, 0, hdPage, unix.PROT_READ, unix.MAP_SHARED, wo, 0)
	r := e.ok(unix.SYS_MMAP, 0, hdPage, unix.PROT_READ, unix.MAP_SHARED, ro, 0)
	e.bytesAt(r, fmPattern(10))
	e.want(hdErr(unix.EINVAL), unix.SYS_MSYNC, r+1, hdPage, unix.MS_SYNC)
	e.want(hdErr(unix.EINVAL), unix.SYS_MSYNC, r, hdPage, unix.MS_SYNC|unix.MS_ASYNC)
	e.want(hdErr(unix.EINVAL), unix.SYS_MSYNC, r, hdPage, 0x100)
	e.want(hdErr(unix.ENOMEM), unix.SYS_MSYNC, r, 2*hdPage, unix.MS_SYNC)
	e.want(0, unix.SYS_MSYNC, r, hdPage, unix.MS_ASYNC|unix.MS_INVALIDATE)
	e.want(0, unix.SYS_MSYNC, r, 0, unix.MS_SYNC)
	// One cache for the file, whichever description maps it.
	w := e.ok(unix.SYS_MMAP, 0, hdPage, hdRW, unix.MAP_SHARED, fd, 0)
	if _, err := e.m.as.CopyOut(w, []byte("Z")); err != nil {
		t.Fatal(err)
	}
	e.bytesAt(r, []byte("Z"))
	if n := e.p.sys.filemaps.n.Load(); n != 1 {
		t.Errorf("%d caches, want 1", n)
	}
}

// TestFutexShared: a futex in a MAP_SHARED mapping is one futex wherever
// the file is mapped (two mappings here stand for two processes), as
// Linux keys it by file and offset; with FUTEX_PRIVATE_FLAG it is keyed by
// address and a wake at the other mapping finds nobody.
func TestFutexShared(t *testing.T) {
	e := newHdEnv(t, nil)
	fd := fmFile(e, "/tmp/futex", []byte{5, 0, 0, 0})
	a1 := e.ok(unix.SYS_MMAP, 0, hdPage, hdRW, unix.MAP_SHARED, fd, 0)
	a2 := e.ok(unix.SYS_MMAP, 0, hdPage, hdRW, unix.MAP_SHARED, fd, 0)
	if a1 == a2 {
		t.Fatal("one address for two mappings")
	}
	waitOn := func(op uint64) <-chan uint64 {
		th := e.newThread()
		ts := e.m.u64s(0x100+uint64(th.tid)*16, 5, 0)
		ch := make(chan uint64, 1)
		go func() { ch <- th.dispatch(unix.SYS_FUTEX, Args{a1, op, 5, ts, 0, 0}) }()
		return ch
	}
	sharedWaiting := func() int {
		s := &e.p.sys.sharedFutex
		s.mu.Lock()
		defer s.mu.Unlock()
		n := 0
		for _, ws := range s.waiters {
			n += len(ws)
		}
		return n
	}
	ch := waitOn(abi.FUTEX_WAIT)
	for deadline := time.Now().Add(2 * time.Second); sharedWaiting() != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the waiter is not in the shared table")
		}
	}
	e.want(1, unix.SYS_FUTEX, a2, abi.FUTEX_WAKE, 1)
	e.result(ch, 0)

	ch = waitOn(abi.FUTEX_WAIT | abi.FUTEX_PRIVATE_FLAG)
	e.waitWaiters(a1, 1)
	e.want(0, unix.SYS_FUTEX, a2, abi.FUTEX_WAKE|abi.FUTEX_PRIVATE_FLAG, 1)
	e.want(1, unix.SYS_FUTEX, a1, abi.FUTEX_WAKE|abi.FUTEX_PRIVATE_FLAG, 1)
	e.result(ch, 0)
	if n := sharedWaiting(); n != 0 {
		t.Errorf("%d shared waiters left", n)
	}
}
