package syscallshim

// Unit tests of the syscall handlers, called through Thread.dispatch (the
// one switch) against hdMachine, a fake Machine with page-granular
// mapping bookkeeping. Every identifier here starts with hd (or Test...)
// so that it cannot clash with other test files of the package.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/u-root/u-root/pkg/cpio"
	"golang.org/x/sys/unix"

	"yolk/amd64"
	"yolk/initrd"
	"yolk/linux/abi"
	"yolk/linux/sysno"
	"yolk/mm"
	"yolk/mm/mmtest"
)

// ---------------------------------------------------------------------------
// The fake machine.

// hdMachine is a Machine over package mm with a fake physical memory
// (mmtest): the address spaces are real, the first one has the window
// [hdBase, hdBase+hdScratch) mapped read-write and the page holding the
// initial break. Clocks advance by hdClockStep per reading; Random is a
// ChaCha8 stream with a fixed seed, so tests can predict it exactly.
type hdMachine struct {
	mu   sync.Mutex
	phys *mmtest.Phys
	as   *mm.AddressSpace // the first process's
	out  bytes.Buffer
	mono int64
	real int64
	rnd  *rand.ChaCha8
	// enter, when set, stands for the program: it is called for each
	// Enter (the threads that Thread.run drives: clone children) and
	// sets up the next system call in ctx.
	enter func(ctx *amd64.Context) uint64
}

const (
	hdBase      = 0x10000
	hdSize      = 4 << 20
	hdPage      = 4096
	hdScratch   = 256 << 10              // [hdBase, hdBase+hdScratch) is mapped read-write from the start
	hdBrkStart  = hdBase + 1<<20 + 0x234 // the initial break, inside the (mapped) last page of the "bss"
	hdBrkMax    = hdBrkStart + 1<<20
	hdUnmapped  = -1
	hdMonoStart = 5_999_999_000
	hdRealStart = 1_700_000_000_123_456_789
	hdClockStep = 1000
	hdBad       = 0xdead0000         // never mapped: always EFAULT
	hdKernel    = 0xffff888000000000 // the kernel's half
	hdRW        = unix.PROT_READ | unix.PROT_WRITE
)

// hdMemInfo is a 256 MiB machine with half of it free.
func hdMemInfo() (total, free uint64) { return 256 << 20, 128 << 20 }

var hdSeed = [32]byte{'y', 'o', 'l', 'k'}

func newHdMachine(t testing.TB) *hdMachine {
	m := &hdMachine{
		phys: mmtest.NewPhys(1 << 16),
		mono: hdMonoStart, real: hdRealStart,
		rnd: rand.NewChaCha8(hdSeed),
	}
	as, err := m.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := as.Map(hdBase, hdScratch, hdRW, mm.Fixed, nil, 0, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := as.Map(hdBrkStart&^(hdPage-1), hdPage, hdRW, mm.Fixed, nil, 0, ""); err != nil {
		t.Fatal(err)
	}
	m.as = as
	return m
}

func (m *hdMachine) Enter(ctx *amd64.Context, _ *mm.AddressSpace) uint64 {
	if m.enter != nil {
		return m.enter(ctx)
	}
	return amd64.VecSyscall
}

func (m *hdMachine) NewAddressSpace() (*mm.AddressSpace, error) {
	return mm.New(mm.Config{Phys: m.phys, Lo: MinAddr, Hi: StackTop, MmapTop: StackTop - 128<<20})
}

func (m *hdMachine) SharedMemory(size uint64) mm.Backing { return mm.NewSharedAnon(m.phys, size) }

func (m *hdMachine) ConsoleWrite(b []byte) {
	m.mu.Lock()
	m.out.Write(b)
	m.mu.Unlock()
}

func (m *hdMachine) ConsoleRead([]byte) int { return 0 }

func (m *hdMachine) Monotonic() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.mono
	m.mono += hdClockStep
	return v
}

func (m *hdMachine) Realtime() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.real
	m.real += hdClockStep
	return v
}

func (m *hdMachine) Random(b []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rnd.Read(b)
}

func (m *hdMachine) VDSO() (image, vvar mm.Backing) { return nil, nil }

// protAt is the protection of the page holding va, or hdUnmapped.
func (m *hdMachine) protAt(va uint64) int16 {
	v, ok := m.as.Lookup(va)
	if !ok {
		return hdUnmapped
	}
	return int16(v.Prot)
}

// mappedPages counts the mapped pages.
func (m *hdMachine) mappedPages() int {
	n := 0
	for _, v := range m.as.VMAs() {
		n += int((v.End - v.Start) / hdPage)
	}
	return n
}

// Scratch memory: offsets from hdBase, returning program addresses.

func hdAt(off uint64) uint64 { return hdBase + off }

func (m *hdMachine) put(off uint64, b []byte) uint64 {
	if _, err := m.as.CopyOut(hdAt(off), b); err != nil {
		panic(fmt.Sprintf("put at %#x: %v", hdAt(off), err))
	}
	return hdAt(off)
}

func (m *hdMachine) cstr(off uint64, s string) uint64 { return m.put(off, append([]byte(s), 0)) }

func (m *hdMachine) u64s(off uint64, vs ...uint64) uint64 {
	b := make([]byte, 8*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	return m.put(off, b)
}

func (m *hdMachine) fill(off uint64, n int, c byte) uint64 {
	return m.put(off, bytes.Repeat([]byte{c}, n))
}

// load copies the program's [va, va+n); what is not mapped reads as
// zeros.
func (m *hdMachine) load(va, n uint64) []byte {
	b := make([]byte, n)
	for i := uint64(0); i < n; {
		got, _ := m.as.CopyIn(va+i, b[i:])
		i += uint64(got)
		if i < n {
			i = min(n, (va+i+hdPage)&^(hdPage-1)-va) // skip the unreadable page
		}
	}
	return b
}

func (m *hdMachine) u32(va uint64) uint32 { return binary.LittleEndian.Uint32(m.load(va, 4)) }
func (m *hdMachine) u64(va uint64) uint64 { return binary.LittleEndian.Uint64(m.load(va, 8)) }

// ---------------------------------------------------------------------------
// The process and calls.

// hdEnv is one test's process: one thread, the console on fds 0-2, root
// as the file system (nil: none).
type hdEnv struct {
	t  testing.TB
	th *Thread
	p  *Process
	m  *hdMachine
}

func newHdEnv(t testing.TB, root *initrd.FS) *hdEnv {
	t.Helper()
	m := newHdMachine(t)
	p := newTestProcess(Config{Machine: m, Root: root, Path: "/bin/prog", Argv: []string{"prog"}, MemInfo: hdMemInfo}, m.as, "prog")
	p.exe, p.argv = "/bin/prog", []string{"prog"}
	p.mem.brkStart, p.mem.brk, p.mem.brkMax = hdBrkStart, hdBrkStart, hdBrkMax
	return &hdEnv{t: t, th: p.newThread(new(amd64.Context), 1), p: p, m: m}
}

// newThread adds a thread to the test's process.
func (e *hdEnv) newThread() *Thread {
	e.p.sys.mu.Lock()
	tid, _ := e.p.sys.newIDLocked()
	e.p.sys.mu.Unlock()
	return e.p.newThread(new(amd64.Context), tid)
}

// hdErr is -e as a raw return value.
func hdErr(e unix.Errno) uint64 { return uint64(-int64(e)) }

func hdIsErr(v uint64) bool { return v > hdErr(4096) }

// hdShow formats a raw return value.
func hdShow(v uint64) string {
	if hdIsErr(v) {
		return "-" + unix.ErrnoName(unix.Errno(-int64(v)))
	}
	return fmt.Sprintf("%d (%#x)", v, v)
}

func hdArgs(a []uint64) Args {
	var r Args
	copy(r[:], a)
	return r
}

// call runs syscall nr on the main thread.
func (e *hdEnv) call(nr uint64, a ...uint64) uint64 { return e.th.dispatch(nr, hdArgs(a)) }

// want checks that syscall nr returns exactly want.
func (e *hdEnv) want(want uint64, nr uint64, a ...uint64) {
	e.t.Helper()
	if got := e.call(nr, a...); got != want {
		e.t.Fatalf("%s%#x = %s, want %s", sysno.Name(uintptr(nr)), a, hdShow(got), hdShow(want))
	}
}

// ok checks that syscall nr succeeds and returns its result.
func (e *hdEnv) ok(nr uint64, a ...uint64) uint64 {
	e.t.Helper()
	got := e.call(nr, a...)
	if hdIsErr(got) {
		e.t.Fatalf("%s%#x = %s, want success", sysno.Name(uintptr(nr)), a, hdShow(got))
	}
	return got
}

// bytesAt checks the program's memory at va.
func (e *hdEnv) bytesAt(va uint64, want []byte) {
	e.t.Helper()
	if got := e.m.load(va, uint64(len(want))); !bytes.Equal(got, want) {
		e.t.Fatalf("memory at %#x = %q, want %q", va, got, want)
	}
}

// write writes s to fd from scratch offset 0x1000 and checks the count.
func (e *hdEnv) write(fd uint64, s string) {
	e.t.Helper()
	e.want(uint64(len(s)), unix.SYS_WRITE, fd, e.m.put(0x1000, []byte(s)), uint64(len(s)))
}

// read reads up to n bytes from fd at scratch offset 0x2000 and checks
// the data.
func (e *hdEnv) read(fd uint64, n uint64, want string) {
	e.t.Helper()
	buf := e.m.fill(0x2000, int(n), 0xee)
	e.want(uint64(len(want)), unix.SYS_READ, fd, buf, n)
	e.bytesAt(buf, []byte(want))
}

// hdRoot is an initrd with /bin, /etc and no /dev.
func hdRoot(t *testing.T) *initrd.FS { return hdRootTB(t) }

func hdRootTB(t testing.TB) *initrd.FS {
	t.Helper()
	recs := []cpio.Record{
		cpio.Directory("bin", 0o755),
		cpio.StaticFile("bin/prog", "\x7fELF not really", 0o755),
		cpio.Directory("etc", 0o755),
		cpio.StaticRecord([]byte("hello, world\n"), cpio.Info{Name: "etc/hello.txt", Mode: cpio.S_IFREG | 0o644, UID: 1000, GID: 100, MTime: 1700000000}),
		cpio.StaticFile("etc/b", "bee", 0o600),
		cpio.StaticFile("etc/a", "", 0o644),
		cpio.Symlink("etc/link", "hello.txt"),
		cpio.Directory("etc/sub", 0o700),
	}
	var buf bytes.Buffer
	w := cpio.Newc.Writer(&buf)
	if err := cpio.WriteRecords(w, recs); err != nil {
		t.Fatal(err)
	}
	if err := cpio.WriteTrailer(w); err != nil {
		t.Fatal(err)
	}
	fs, err := initrd.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Lookup("/dev", true); err != unix.ENOENT {
		t.Fatalf("the test root has /dev: %v", err)
	}
	return fs
}

func hdNode(t *testing.T, fs *initrd.FS, p string) *initrd.Node {
	t.Helper()
	n, err := fs.Lookup(p, false)
	if err != nil {
		t.Fatalf("lookup %s: %v", p, err)
	}
	return n
}

// hdStat is a decoded struct stat.
type hdStat struct {
	dev, ino, nlink uint64
	mode, uid, gid  uint32
	rdev            uint64
	size, blksize   int64
	blocks, mtime   int64
}

func (e *hdEnv) stat(va uint64) hdStat {
	b := e.m.load(va, 144)
	le := binary.LittleEndian
	return hdStat{
		dev: le.Uint64(b[0:]), ino: le.Uint64(b[8:]), nlink: le.Uint64(b[16:]),
		mode: le.Uint32(b[24:]), uid: le.Uint32(b[28:]), gid: le.Uint32(b[32:]),
		rdev: le.Uint64(b[40:]), size: int64(le.Uint64(b[48:])), blksize: int64(le.Uint64(b[56:])),
		blocks: int64(le.Uint64(b[64:])), mtime: int64(le.Uint64(b[88:])),
	}
}

// ---------------------------------------------------------------------------
// 1. pipe2

const (
	hdR = 3 // the read end of the first pipe (fds 0-2 are the console)
	hdW = 4 // its write end
)

// pipe makes a pipe and checks that it got fds 3 and 4.
func (e *hdEnv) pipe(flags uint64) {
	e.t.Helper()
	fds := e.m.u64s(0, ^uint64(0))
	e.want(0, unix.SYS_PIPE2, fds, flags)
	if r, w := e.m.u32(fds), e.m.u32(fds+4); r != hdR || w != hdW {
		e.t.Fatalf("pipe2 fds = [%d %d], want [%d %d]", r, w, hdR, hdW)
	}
}

func TestHandlersPipe2(t *testing.T) {
	const sigpipe = uint64(1) << (unix.SIGPIPE - 1)
	for _, c := range []struct {
		name  string
		flags uint64
		run   func(e *hdEnv)
	}{
		{"write then read back", 0, func(e *hdEnv) {
			e.write(hdW, "hello pipe")
			e.read(hdR, 64, "hello pipe")
			e.write(hdW, "abcdef")
			e.read(hdR, 4, "abcd")
			e.read(hdR, 64, "ef")
		}},
		{"data then EOF after the writer closes", 0, func(e *hdEnv) {
			e.write(hdW, "xy")
			e.want(0, unix.SYS_CLOSE, hdW)
			e.read(hdR, 64, "xy")
			e.read(hdR, 64, "")
			e.read(hdR, 64, "")
		}},
		{"EPIPE and SIGPIPE without a reader", 0, func(e *hdEnv) {
			e.want(0, unix.SYS_CLOSE, hdR)
			if e.th.sig.pending != 0 {
				e.t.Fatalf("pending = %#x before the write", e.th.sig.pending)
			}
			e.want(hdErr(unix.EPIPE), unix.SYS_WRITE, hdW, e.m.put(0x100, []byte("x")), 1)
			if e.th.sig.pending != sigpipe {
				e.t.Fatalf("pending = %#x, want %#x (SIGPIPE)", e.th.sig.pending, sigpipe)
			}
			if info := e.th.sig.info[unix.SIGPIPE]; info.code != siUser || info.pid != 1 {
				e.t.Errorf("SIGPIPE info = %+v, want SI_USER from pid 1", info)
			}
		}},
		{"O_NONBLOCK read of an empty pipe", unix.O_NONBLOCK, func(e *hdEnv) {
			e.want(hdErr(unix.EAGAIN), unix.SYS_READ, hdR, hdAt(0x100), 16)
			e.want(unix.O_RDONLY|unix.O_NONBLOCK, unix.SYS_FCNTL, hdR, unix.F_GETFL)
			e.want(unix.O_WRONLY|unix.O_NONBLOCK, unix.SYS_FCNTL, hdW, unix.F_GETFL)
			e.write(hdW, "1")
			e.read(hdR, 16, "1")
			e.want(hdErr(unix.EAGAIN), unix.SYS_READ, hdR, hdAt(0x100), 16)
		}},
		{"O_NONBLOCK write of a full pipe", unix.O_NONBLOCK, func(e *hdEnv) {
			big := e.m.fill(0x10000, pipeSize+1000, 'q')
			e.want(pipeSize, unix.SYS_WRITE, hdW, big, pipeSize+1000)
			e.want(hdErr(unix.EAGAIN), unix.SYS_WRITE, hdW, big, 1)
		}},
		{"O_CLOEXEC", unix.O_CLOEXEC, func(e *hdEnv) {
			e.want(unix.FD_CLOEXEC, unix.SYS_FCNTL, hdR, unix.F_GETFD)
			e.want(unix.FD_CLOEXEC, unix.SYS_FCNTL, hdW, unix.F_GETFD)
			e.want(unix.O_RDONLY, unix.SYS_FCNTL, hdR, unix.F_GETFL)
		}},
		{"a dup of the write end keeps the pipe open", unix.O_NONBLOCK, func(e *hdEnv) {
			e.want(5, unix.SYS_DUP, hdW)
			e.want(0, unix.SYS_CLOSE, hdW)
			// Not end of file: a writer is left.
			e.want(hdErr(unix.EAGAIN), unix.SYS_READ, hdR, hdAt(0x100), 16)
			e.write(5, "z")
			e.read(hdR, 16, "z")
			e.want(0, unix.SYS_CLOSE, 5)
			e.read(hdR, 16, "")
		}},
		{"dup3 of the write end, original closed last", unix.O_NONBLOCK, func(e *hdEnv) {
			e.want(9, unix.SYS_DUP3, hdW, 9, unix.O_CLOEXEC)
			e.want(0, unix.SYS_CLOSE, 9)
			e.want(hdErr(unix.EAGAIN), unix.SYS_READ, hdR, hdAt(0x100), 16)
			e.want(0, unix.SYS_CLOSE, hdW)
			e.read(hdR, 16, "")
		}},
		{"a dup of the read end keeps writes working", 0, func(e *hdEnv) {
			e.want(5, unix.SYS_DUP, hdR)
			e.want(0, unix.SYS_CLOSE, hdR)
			e.write(hdW, "ok")
			e.want(0, unix.SYS_CLOSE, 5)
			e.want(hdErr(unix.EPIPE), unix.SYS_WRITE, hdW, hdAt(0x100), 1)
		}},
		{"ends are one-way", 0, func(e *hdEnv) {
			e.want(hdErr(unix.EBADF), unix.SYS_WRITE, hdR, hdAt(0x100), 1)
			e.want(hdErr(unix.EBADF), unix.SYS_READ, hdW, hdAt(0x100), 1)
			if e.th.sig.pending != 0 {
				e.t.Errorf("pending = %#x after writing the read end", e.th.sig.pending)
			}
		}},
		{"not seekable", 0, func(e *hdEnv) {
			e.want(hdErr(unix.ESPIPE), unix.SYS_LSEEK, hdR, 0, unix.SEEK_CUR)
			e.want(hdErr(unix.ESPIPE), unix.SYS_PREAD64, hdR, hdAt(0x100), 1, 0)
		}},
		{"fstat is a FIFO holding what is buffered", 0, func(e *hdEnv) {
			e.write(hdW, "12345")
			e.want(0, unix.SYS_FSTAT, hdR, hdAt(0x400))
			if st := e.stat(hdAt(0x400)); st.mode != unix.S_IFIFO|0o600 || st.size != 5 {
				e.t.Errorf("fstat = mode %#o size %d, want %#o 5", st.mode, st.size, unix.S_IFIFO|0o600)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newHdEnv(t, nil)
			e.pipe(c.flags)
			c.run(e)
		})
	}
}

func TestHandlersPipe2Errors(t *testing.T) {
	e := newHdEnv(t, nil)
	e.want(hdErr(unix.EINVAL), unix.SYS_PIPE2, hdAt(0), unix.O_APPEND)
	e.want(hdErr(unix.EFAULT), unix.SYS_PIPE2, hdBad, 0)
	// Neither failure leaked descriptors.
	e.pipe(0)
	// pipe(2) is pipe2 without flags.
	e.want(0, unix.SYS_PIPE, hdAt(0x10))
	if r, w := e.m.u32(hdAt(0x10)), e.m.u32(hdAt(0x14)); r != 5 || w != 6 {
		t.Errorf("pipe fds = [%d %d], want [5 6]", r, w)
	}
}

// Regression: F_SETFL O_NONBLOCK is recorded in the descriptor's flags but a
// pipe end (and an eventfd) keeps the nonblock it was created with.
func TestHandlersPipeSetflNonblock(t *testing.T) {
	e := newHdEnv(t, nil)
	e.pipe(0)
	e.want(0, unix.SYS_FCNTL, hdR, unix.F_SETFL, unix.O_NONBLOCK)
	e.want(unix.O_RDONLY|unix.O_NONBLOCK, unix.SYS_FCNTL, hdR, unix.F_GETFL)
	got := make(chan uint64, 1)
	go func() { got <- e.th.dispatch(unix.SYS_READ, Args{hdR, hdAt(0x100), 16}) }()
	select {
	case v := <-got:
		if v != hdErr(unix.EAGAIN) {
			t.Fatalf("read = %s, want -EAGAIN", hdShow(v))
		}
	case <-time.After(200 * time.Millisecond):
		// Unblock the reader (end of file) so no goroutine is left behind.
		e.p.files.close(hdW)
		<-got
		t.Fatal("read of an empty pipe set O_NONBLOCK by F_SETFL blocked")
	}
}

// Regression: POSIX makes writes of at most PIPE_BUF bytes atomic: with
// O_NONBLOCK and too little room, nothing is written and the result is
// EAGAIN (a blocking one waits for room for all of it).
func TestHandlersPipeAtomicSmallWrite(t *testing.T) {
	e := newHdEnv(t, nil)
	e.pipe(unix.O_NONBLOCK)
	big := e.m.fill(0x10000, pipeSize, 'q')
	e.want(pipeSize-100, unix.SYS_WRITE, hdW, big, pipeSize-100)
	e.want(hdErr(unix.EAGAIN), unix.SYS_WRITE, hdW, big, 200)
}

// ---------------------------------------------------------------------------
// 2. poll on a pipe

// hdPollfd is one struct pollfd.
type hdPollfd struct {
	fd      int32
	events  uint16
	revents uint16
}

// poll lays out fds at scratch 0x800 (revents preset to garbage), runs
// poll with timeout ms, and returns the result and the revents.
func (e *hdEnv) poll(fds []hdPollfd, timeout int32) (uint64, []uint16) {
	b := make([]byte, 8*len(fds))
	for i, f := range fds {
		binary.LittleEndian.PutUint32(b[8*i:], uint32(f.fd))
		binary.LittleEndian.PutUint16(b[8*i+4:], f.events)
		binary.LittleEndian.PutUint16(b[8*i+6:], 0xbeef)
	}
	va := e.m.put(0x800, b)
	ret := e.call(unix.SYS_POLL, va, uint64(len(fds)), uint64(int64(timeout)))
	out := e.m.load(va, uint64(len(b)))
	rev := make([]uint16, len(fds))
	for i, f := range fds {
		if fd, ev := int32(binary.LittleEndian.Uint32(out[8*i:])), binary.LittleEndian.Uint16(out[8*i+4:]); fd != f.fd || ev != f.events {
			e.t.Errorf("poll changed entry %d to fd %d events %#x", i, fd, ev)
		}
		rev[i] = binary.LittleEndian.Uint16(out[8*i+6:])
	}
	return ret, rev
}

func TestHandlersPollPipe(t *testing.T) {
	const (
		in, out, hup, nval, perr = unix.POLLIN, unix.POLLOUT, unix.POLLHUP, unix.POLLNVAL, unix.POLLERR
	)
	for _, c := range []struct {
		name  string
		setup func(e *hdEnv)
		fds   []hdPollfd
		ret   uint64
		rev   []uint16
	}{
		{"empty: no POLLIN", nil, []hdPollfd{{fd: hdR, events: in}}, 0, []uint16{0}},
		{"after a write: POLLIN", func(e *hdEnv) { e.write(hdW, "x") }, []hdPollfd{{fd: hdR, events: in}}, 1, []uint16{in}},
		{"drained again: no POLLIN", func(e *hdEnv) { e.write(hdW, "x"); e.read(hdR, 8, "x") }, []hdPollfd{{fd: hdR, events: in}}, 0, []uint16{0}},
		{"writer gone: POLLHUP", func(e *hdEnv) { e.want(0, unix.SYS_CLOSE, hdW) }, []hdPollfd{{fd: hdR, events: in}}, 1, []uint16{hup}},
		{"writer gone with data: POLLIN|POLLHUP", func(e *hdEnv) { e.write(hdW, "x"); e.want(0, unix.SYS_CLOSE, hdW) }, []hdPollfd{{fd: hdR, events: in}}, 1, []uint16{in | hup}},
		{"POLLHUP even when not asked", func(e *hdEnv) { e.want(0, unix.SYS_CLOSE, hdW) }, []hdPollfd{{fd: hdR, events: 0}}, 1, []uint16{hup}},
		{"write end: POLLOUT", nil, []hdPollfd{{fd: hdW, events: out}}, 1, []uint16{out}},
		{"write end, reader gone: POLLERR when not asked", func(e *hdEnv) { e.want(0, unix.SYS_CLOSE, hdR) }, []hdPollfd{{fd: hdW, events: 0}}, 1, []uint16{perr}},
		{"invalid fd: POLLNVAL", nil, []hdPollfd{{fd: 99, events: in}}, 1, []uint16{nval}},
		{"closed fd: POLLNVAL", func(e *hdEnv) { e.want(0, unix.SYS_CLOSE, hdR) }, []hdPollfd{{fd: hdR, events: in}}, 1, []uint16{nval}},
		{"negative fd ignored", func(e *hdEnv) { e.write(hdW, "x") }, []hdPollfd{{fd: -1, events: in}, {fd: hdR, events: in}}, 1, []uint16{0, in}},
		{"several ready", func(e *hdEnv) { e.write(hdW, "x") },
			[]hdPollfd{{fd: hdR, events: in}, {fd: hdW, events: out}, {fd: 42, events: in}, {fd: hdR, events: out}}, 3, []uint16{in, out, nval, 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newHdEnv(t, nil)
			e.pipe(0)
			if c.setup != nil {
				c.setup(e)
			}
			start := time.Now()
			ret, rev := e.poll(c.fds, 0)
			if d := time.Since(start); d > 50*time.Millisecond {
				t.Errorf("poll with timeout 0 took %v", d)
			}
			if ret != c.ret {
				t.Errorf("poll = %s, want %d", hdShow(ret), c.ret)
			}
			for i := range rev {
				if rev[i] != c.rev[i] {
					t.Errorf("revents[%d] = %#x, want %#x", i, rev[i], c.rev[i])
				}
			}
		})
	}
}

// Linux's pipe_poll reports a write end without readers as
// EPOLLOUT|EPOLLERR (the buffer has room); pipeEnd.poll returns EPOLLERR
// alone, so POLLOUT is missing.
func TestHandlersPollWriteEndNoReader(t *testing.T) {
	e := newHdEnv(t, nil)
	e.pipe(0)
	e.want(0, unix.SYS_CLOSE, hdR)
	ret, rev := e.poll([]hdPollfd{{fd: hdW, events: unix.POLLOUT}}, 0)
	if ret != 1 || rev[0] != unix.POLLOUT|unix.POLLERR {
		t.Errorf("poll = %s revents %#x, want 1 POLLOUT|POLLERR", hdShow(ret), rev[0])
	}
}

func TestHandlersPollWait(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		e := newHdEnv(t, nil)
		e.pipe(0)
		start := time.Now()
		ret, rev := e.poll([]hdPollfd{{fd: hdR, events: unix.POLLIN}}, 15)
		if d := time.Since(start); ret != 0 || rev[0] != 0 || d < 15*time.Millisecond || d > time.Second {
			t.Errorf("poll(15ms) = %s revents %#x after %v, want 0, 0 after 15ms", hdShow(ret), rev[0], d)
		}
	})
	t.Run("woken by a write", func(t *testing.T) {
		e := newHdEnv(t, nil)
		e.pipe(0)
		other := e.newThread()
		src := e.m.put(0x100, []byte("w"))
		done := make(chan uint64, 1)
		go func() {
			time.Sleep(5 * time.Millisecond)
			done <- other.dispatch(unix.SYS_WRITE, Args{hdW, src, 1})
		}()
		start := time.Now()
		ret, rev := e.poll([]hdPollfd{{fd: hdR, events: unix.POLLIN}}, 5000)
		if d := time.Since(start); ret != 1 || rev[0] != unix.POLLIN || d > time.Second {
			t.Errorf("poll = %s revents %#x after %v, want 1 POLLIN at once", hdShow(ret), rev[0], d)
		}
		if v := <-done; v != 1 {
			t.Errorf("write = %s", hdShow(v))
		}
	})
	t.Run("too many fds", func(t *testing.T) {
		e := newHdEnv(t, nil)
		e.want(hdErr(unix.EINVAL), unix.SYS_POLL, hdAt(0), maxFDs+1, 0)
		e.want(hdErr(unix.EFAULT), unix.SYS_POLL, hdBad, 1, 0)
	})
}

// ---------------------------------------------------------------------------
// 3. eventfd2 and epoll

// epollEvent reads struct epoll_event i of the array at va (packed, 12
// bytes).
func (e *hdEnv) epollEvent(va uint64, i int) (uint32, uint64) {
	b := e.m.load(va+12*uint64(i), 12)
	return binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint64(b[4:])
}

func (e *hdEnv) epollCtl(epfd, op, fd uint64, events uint32, data uint64) uint64 {
	var b [12]byte
	binary.LittleEndian.PutUint32(b[:], events)
	binary.LittleEndian.PutUint64(b[4:], data)
	return e.call(unix.SYS_EPOLL_CTL, epfd, op, fd, e.m.put(0x600, b[:]))
}

func (e *hdEnv) efdWrite(fd, v uint64) uint64 {
	return e.call(unix.SYS_WRITE, fd, e.m.u64s(0x700, v), 8)
}

// efdRead reads the counter: the value, or the error.
func (e *hdEnv) efdRead(fd uint64) uint64 {
	buf := e.m.u64s(0x708, 0xdeadbeef)
	if r := e.call(unix.SYS_READ, fd, buf, 8); r != 8 {
		if !hdIsErr(r) {
			e.t.Fatalf("eventfd read = %s, want 8 or an error", hdShow(r))
		}
		return r
	}
	return e.m.u64(buf)
}

func TestHandlersEventfd(t *testing.T) {
	const nb = unix.EFD_NONBLOCK
	eagain := hdErr(unix.EAGAIN)
	for _, c := range []struct {
		name    string
		initval uint64
		flags   uint64
		writes  []uint64
		reads   []uint64 // values, or errors
	}{
		{"counter adds up, read resets", 0, nb, []uint64{3, 4}, []uint64{7, eagain}},
		{"initial value", 5, nb, nil, []uint64{5, eagain}},
		{"initial value is 32 bits", 1<<32 + 2, nb, nil, []uint64{2, eagain}},
		{"semaphore reads one at a time", 0, nb | unix.EFD_SEMAPHORE, []uint64{3}, []uint64{1, 1, 1, eagain}},
		{"semaphore with an initial value", 2, nb | unix.EFD_SEMAPHORE, []uint64{1}, []uint64{1, 1, 1, eagain}},
		{"empty", 0, nb, nil, []uint64{eagain}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newHdEnv(t, nil)
			e.want(3, unix.SYS_EVENTFD2, c.initval, c.flags)
			for _, w := range c.writes {
				if r := e.efdWrite(3, w); r != 8 {
					t.Fatalf("write %d = %s, want 8", w, hdShow(r))
				}
			}
			for i, want := range c.reads {
				if got := e.efdRead(3); got != want {
					t.Fatalf("read %d = %s, want %s", i, hdShow(got), hdShow(want))
				}
			}
		})
	}
	t.Run("errors", func(t *testing.T) {
		e := newHdEnv(t, nil)
		e.want(hdErr(unix.EINVAL), unix.SYS_EVENTFD2, 0, unix.O_APPEND)
		e.want(3, unix.SYS_EVENTFD2, 0, nb|unix.EFD_CLOEXEC)
		e.want(unix.FD_CLOEXEC, unix.SYS_FCNTL, 3, unix.F_GETFD)
		e.want(unix.O_RDWR|unix.O_NONBLOCK, unix.SYS_FCNTL, 3, unix.F_GETFL)
		e.want(hdErr(unix.EINVAL), unix.SYS_WRITE, 3, e.m.u64s(0x700, ^uint64(0)), 8)
		e.want(hdErr(unix.EINVAL), unix.SYS_WRITE, 3, e.m.u64s(0x700, 1), 4)
		e.want(hdErr(unix.EINVAL), unix.SYS_READ, 3, hdAt(0x700), 7)
		// The counter holds at most 2^64-2; beyond, a write would block.
		e.want(8, unix.SYS_WRITE, 3, e.m.u64s(0x700, 1<<64-2), 8)
		e.want(eagain, unix.SYS_WRITE, 3, e.m.u64s(0x700, 1), 8)
		if got := e.efdRead(3); got != 1<<64-2 {
			t.Errorf("read = %#x, want 2^64-2", got)
		}
		e.want(hdErr(unix.ESPIPE), unix.SYS_LSEEK, 3, 0, unix.SEEK_SET)
	})
}

func TestHandlersEpollEventfd(t *testing.T) {
	const data = 0x1122334455667788
	e := newHdEnv(t, hdRoot(t))
	e.want(3, unix.SYS_EPOLL_CREATE1, unix.EPOLL_CLOEXEC)
	e.want(unix.FD_CLOEXEC, unix.SYS_FCNTL, 3, unix.F_GETFD)
	e.want(4, unix.SYS_EVENTFD2, 0, unix.EFD_NONBLOCK)
	if r := e.epollCtl(3, unix.EPOLL_CTL_ADD, 4, unix.EPOLLIN, data); r != 0 {
		t.Fatalf("epoll_ctl ADD = %s", hdShow(r))
	}
	evs := e.m.fill(0x1000, 4*12, 0xaa)
	wait := func(want uint64) {
		t.Helper()
		e.want(want, unix.SYS_EPOLL_WAIT, 3, evs, 4, 0)
	}
	wait(0)
	if r := e.efdWrite(4, 2); r != 8 {
		t.Fatalf("write = %s", hdShow(r))
	}
	wait(1)
	if ev, d := e.epollEvent(evs, 0); ev != unix.EPOLLIN || d != data {
		t.Fatalf("event = %#x data %#x, want EPOLLIN %#x", ev, d, uint64(data))
	}
	if ev, _ := e.epollEvent(evs, 1); ev != 0xaaaaaaaa {
		t.Fatalf("epoll_wait wrote a second event: %#x", ev)
	}
	wait(1) // level-triggered: still readable
	if got := e.efdRead(4); got != 2 {
		t.Fatalf("read = %s, want 2", hdShow(got))
	}
	wait(0) // the read reset the counter
	if got := e.efdRead(4); got != hdErr(unix.EAGAIN) {
		t.Fatalf("second read = %s, want -EAGAIN", hdShow(got))
	}

	// MOD: now writable, new data.
	if r := e.epollCtl(3, unix.EPOLL_CTL_MOD, 4, unix.EPOLLOUT, 7); r != 0 {
		t.Fatalf("epoll_ctl MOD = %s", hdShow(r))
	}
	wait(1)
	if ev, d := e.epollEvent(evs, 0); ev != unix.EPOLLOUT || d != 7 {
		t.Fatalf("event = %#x data %#x, want EPOLLOUT 7", ev, d)
	}
	if r := e.epollCtl(3, unix.EPOLL_CTL_DEL, 4, 0, 0); r != 0 {
		t.Fatalf("epoll_ctl DEL = %s", hdShow(r))
	}
	wait(0)

	// Errors.
	e.want(5, unix.SYS_OPENAT, atFDCWD, e.m.cstr(0x300, "/etc/hello.txt"), unix.O_RDONLY)
	for _, c := range []struct {
		name     string
		epfd, op uint64
		fd       uint64
		want     unix.Errno
		addFirst bool
	}{
		{"DEL of an fd not added", 3, unix.EPOLL_CTL_DEL, 4, unix.ENOENT, false},
		{"MOD of an fd not added", 3, unix.EPOLL_CTL_MOD, 4, unix.ENOENT, false},
		{"ADD twice", 3, unix.EPOLL_CTL_ADD, 4, unix.EEXIST, true},
		{"a regular file", 3, unix.EPOLL_CTL_ADD, 5, unix.EPERM, false},
		{"a bad fd", 3, unix.EPOLL_CTL_ADD, 77, unix.EBADF, false},
		{"not an epoll", 4, unix.EPOLL_CTL_ADD, 4, unix.EINVAL, false},
		{"bad op", 3, 99, 4, unix.EINVAL, false},
	} {
		if c.addFirst {
			if r := e.epollCtl(3, unix.EPOLL_CTL_ADD, c.fd, unix.EPOLLIN, 0); r != 0 {
				t.Fatalf("%s: first ADD = %s", c.name, hdShow(r))
			}
		}
		if r := e.epollCtl(c.epfd, c.op, c.fd, unix.EPOLLIN, 0); r != hdErr(c.want) {
			t.Errorf("%s: epoll_ctl = %s, want %s", c.name, hdShow(r), hdShow(hdErr(c.want)))
		}
	}
	e.want(hdErr(unix.EINVAL), unix.SYS_EPOLL_WAIT, 3, evs, 0, 0)
	e.want(hdErr(unix.EINVAL), unix.SYS_EPOLL_WAIT, 4, evs, 4, 0)
	// Linux checks only that the buffer is in the program's half (access_ok):
	// an unmapped one faults only when there is an event to copy.
	e.want(hdErr(unix.EFAULT), unix.SYS_EPOLL_WAIT, 3, hdKernel, 4, 0)
	e.want(0, unix.SYS_EPOLL_WAIT, 3, hdBad, 4, 0)
	e.want(hdErr(unix.EINVAL), unix.SYS_EPOLL_CREATE1, 1)
	e.want(hdErr(unix.EINVAL), unix.SYS_EPOLL_CREATE, 0)
}

func TestHandlersEpollPipe(t *testing.T) {
	e := newHdEnv(t, nil)
	e.pipe(0)
	e.want(5, unix.SYS_EPOLL_CREATE1, 0)
	if r := e.epollCtl(5, unix.EPOLL_CTL_ADD, hdR, unix.EPOLLIN, 33); r != 0 {
		t.Fatalf("epoll_ctl = %s", hdShow(r))
	}
	evs := hdAt(0x1000)
	e.want(0, unix.SYS_EPOLL_WAIT, 5, evs, 4, 0)
	e.want(0, unix.SYS_CLOSE, hdW)
	// EPOLLHUP is reported though not asked for.
	e.want(1, unix.SYS_EPOLL_WAIT, 5, evs, 4, 0)
	if ev, d := e.epollEvent(evs, 0); ev != unix.EPOLLHUP || d != 33 {
		t.Errorf("event = %#x data %d, want EPOLLHUP 33", ev, d)
	}
}

func TestHandlersEpollWaitBlocks(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		e := newHdEnv(t, nil)
		e.want(3, unix.SYS_EPOLL_CREATE1, 0)
		e.want(4, unix.SYS_EVENTFD2, 0, 0)
		if r := e.epollCtl(3, unix.EPOLL_CTL_ADD, 4, unix.EPOLLIN, 1); r != 0 {
			t.Fatalf("epoll_ctl = %s", hdShow(r))
		}
		start := time.Now()
		e.want(0, unix.SYS_EPOLL_WAIT, 3, hdAt(0x1000), 4, 15)
		if d := time.Since(start); d < 15*time.Millisecond || d > time.Second {
			t.Errorf("epoll_wait(15ms) returned after %v", d)
		}
	})
	t.Run("woken by a write", func(t *testing.T) {
		e := newHdEnv(t, nil)
		e.want(3, unix.SYS_EPOLL_CREATE1, 0)
		e.want(4, unix.SYS_EVENTFD2, 0, 0)
		if r := e.epollCtl(3, unix.EPOLL_CTL_ADD, 4, unix.EPOLLIN, 9); r != 0 {
			t.Fatalf("epoll_ctl = %s", hdShow(r))
		}
		other := e.newThread()
		src := e.m.u64s(0x700, 1)
		done := make(chan uint64, 1)
		go func() {
			time.Sleep(5 * time.Millisecond)
			done <- other.dispatch(unix.SYS_WRITE, Args{4, src, 8})
		}()
		start := time.Now()
		e.want(1, unix.SYS_EPOLL_PWAIT, 3, hdAt(0x1000), 4, 5000, 0, 8)
		if d := time.Since(start); d > time.Second {
			t.Errorf("epoll_pwait returned after %v", d)
		}
		if ev, d := e.epollEvent(hdAt(0x1000), 0); ev != unix.EPOLLIN || d != 9 {
			t.Errorf("event = %#x data %d, want EPOLLIN 9", ev, d)
		}
		if v := <-done; v != 8 {
			t.Errorf("write = %s", hdShow(v))
		}
	})
}

// Regression: an edge-triggered entry is reported only when its readiness bits
// change between two collects; Linux reports every new event (each write
// to the eventfd). Drain then refill between two epoll_waits is lost, and
// an event loop that reads to EAGAIN then waits hangs.
func TestHandlersEpollEdgeTriggeredRefill(t *testing.T) {
	e := newHdEnv(t, nil)
	e.want(3, unix.SYS_EPOLL_CREATE1, 0)
	e.want(4, unix.SYS_EVENTFD2, 0, unix.EFD_NONBLOCK)
	if r := e.epollCtl(3, unix.EPOLL_CTL_ADD, 4, unix.EPOLLIN|unix.EPOLLET, 1); r != 0 {
		t.Fatalf("epoll_ctl = %s", hdShow(r))
	}
	evs := hdAt(0x1000)
	e.efdWrite(4, 1)
	e.want(1, unix.SYS_EPOLL_WAIT, 3, evs, 4, 0)
	e.want(0, unix.SYS_EPOLL_WAIT, 3, evs, 4, 0) // no new event
	if got := e.efdRead(4); got != 1 {
		t.Fatalf("read = %s", hdShow(got))
	}
	e.efdWrite(4, 1) // a new event
	e.want(1, unix.SYS_EPOLL_WAIT, 3, evs, 4, 0)
}

// ---------------------------------------------------------------------------
// 4. futex

const (
	hdFutex   = hdBase + 0x40 // the futex word
	hdTimeout = hdBase + 0x80 // a struct timespec
)

// futexWaiting counts the queued futex waiters.
func (e *hdEnv) futexWaiting() int {
	e.p.mem.futex.mu.Lock()
	defer e.p.mem.futex.mu.Unlock()
	n := 0
	for _, ws := range e.p.mem.futex.waiters {
		n += len(ws)
	}
	return n
}

// waitWaiters waits until n threads wait on addr.
func (e *hdEnv) waitWaiters(addr uint64, n int) {
	e.t.Helper()
	for deadline := time.Now().Add(2 * time.Second); ; {
		e.p.mem.futex.mu.Lock()
		got := len(e.p.mem.futex.waiters[addr])
		e.p.mem.futex.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%d futex waiters, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// futexWaiter starts a thread waiting on hdFutex for val (with a 5 s
// safety timeout: relative for FUTEX_WAIT, absolute on the fake's
// monotonic clock, which reads 6 s, for FUTEX_WAIT_BITSET) and returns
// the channel of its result.
func (e *hdEnv) futexWaiter(op uint64, val uint32, bitset uint64) <-chan uint64 {
	th := e.newThread()
	secs := uint64(5)
	if op&^abi.FUTEX_PRIVATE_FLAG == abi.FUTEX_WAIT_BITSET {
		secs = 11
	}
	ts := e.m.u64s(0x100+uint64(th.tid)*16, secs, 0)
	ch := make(chan uint64, 1)
	go func() { ch <- th.dispatch(unix.SYS_FUTEX, Args{hdFutex, op, uint64(val), ts, 0, bitset}) }()
	return ch
}

func (e *hdEnv) result(ch <-chan uint64, want uint64) {
	e.t.Helper()
	select {
	case v := <-ch:
		if v != want {
			e.t.Errorf("waiter returned %s, want %s", hdShow(v), hdShow(want))
		}
	case <-time.After(2 * time.Second):
		e.t.Fatal("waiter not woken")
	}
}

func TestHandlersFutex(t *testing.T) {
	const (
		wait, wake, private = abi.FUTEX_WAIT, abi.FUTEX_WAKE, abi.FUTEX_PRIVATE_FLAG
	)
	for _, c := range []struct {
		name string
		a    Args
		want uint64
	}{
		{"WAIT, value changed", Args{hdFutex, wait, 4}, hdErr(unix.EAGAIN)},
		{"WAIT private, value changed", Args{hdFutex, wait | private, 6}, hdErr(unix.EAGAIN)},
		{"WAIT_BITSET, value changed", Args{hdFutex, abi.FUTEX_WAIT_BITSET, 4, 0, 0, 1}, hdErr(unix.EAGAIN)},
		{"unaligned", Args{hdFutex + 2, wait, 5}, hdErr(unix.EINVAL)},
		{"unmapped", Args{hdBad, wait, 5}, hdErr(unix.EFAULT)},
		{"WAIT_BITSET with an empty set", Args{hdFutex, abi.FUTEX_WAIT_BITSET, 5, 0, 0, 0}, hdErr(unix.EINVAL)},
		{"WAKE_BITSET with an empty set", Args{hdFutex, abi.FUTEX_WAKE_BITSET, 1, 0, 0, 0}, hdErr(unix.EINVAL)},
		{"bad timeout", Args{hdFutex, wait, 5, hdTimeout}, hdErr(unix.EINVAL)}, // tv_nsec = 1e9
		{"WAKE without waiters", Args{hdFutex, wake | private, 1}, 0},
		{"CMP_REQUEUE, value changed", Args{hdFutex, abi.FUTEX_CMP_REQUEUE, 1, 1, hdFutex + 4, 4}, hdErr(unix.EAGAIN)},
		{"absolute timeout in the past", Args{hdFutex, abi.FUTEX_WAIT_BITSET | private, 5, hdTimeout + 16, 0, ^uint64(0)}, hdErr(unix.ETIMEDOUT)},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newHdEnv(t, nil)
			e.m.put(hdFutex-hdBase, []byte{5, 0, 0, 0})
			e.m.u64s(hdTimeout-hdBase, 0, 1e9, 1, 0) // invalid; then 1 s on the monotonic clock (before the fake's 6 s)
			if got := e.th.dispatch(unix.SYS_FUTEX, c.a); got != c.want {
				t.Errorf("futex%#x = %s, want %s", c.a, hdShow(got), hdShow(c.want))
			}
			if n := e.futexWaiting(); n != 0 {
				t.Errorf("%d waiters left", n)
			}
		})
	}
}

func TestHandlersFutexTimeout(t *testing.T) {
	e := newHdEnv(t, nil)
	e.m.put(hdFutex-hdBase, []byte{5, 0, 0, 0})
	ts := e.m.u64s(hdTimeout-hdBase, 0, 10_000_000)
	start := time.Now()
	e.want(hdErr(unix.ETIMEDOUT), unix.SYS_FUTEX, hdFutex, abi.FUTEX_WAIT|abi.FUTEX_PRIVATE_FLAG, 5, ts)
	if d := time.Since(start); d < 10*time.Millisecond || d > time.Second {
		t.Errorf("FUTEX_WAIT(10ms) returned after %v", d)
	}
	if n := e.futexWaiting(); n != 0 {
		t.Errorf("a timed-out waiter stayed queued (%d)", n)
	}
}

// Regression: the timeout path of FUTEX_WAIT removes the waiter from its slice
// but never deletes an emptied key, so the table keeps one entry per
// address that ever timed out (wake deletes empty keys).
func TestHandlersFutexTimeoutForgetsAddress(t *testing.T) {
	e := newHdEnv(t, nil)
	e.m.put(hdFutex-hdBase, []byte{5, 0, 0, 0})
	ts := e.m.u64s(hdTimeout-hdBase, 0, 1_000_000)
	e.want(hdErr(unix.ETIMEDOUT), unix.SYS_FUTEX, hdFutex, abi.FUTEX_WAIT, 5, ts)
	e.p.mem.futex.mu.Lock()
	defer e.p.mem.futex.mu.Unlock()
	if len(e.p.mem.futex.waiters) != 0 {
		t.Errorf("futex table keys left: %v", e.p.mem.futex.waiters)
	}
}

func TestHandlersFutexWake(t *testing.T) {
	t.Run("one waiter", func(t *testing.T) {
		e := newHdEnv(t, nil)
		e.m.put(hdFutex-hdBase, []byte{5, 0, 0, 0})
		w := e.futexWaiter(abi.FUTEX_WAIT|abi.FUTEX_PRIVATE_FLAG, 5, 0)
		e.waitWaiters(hdFutex, 1)
		e.want(1, unix.SYS_FUTEX, hdFutex, abi.FUTEX_WAKE|abi.FUTEX_PRIVATE_FLAG, 1)
		e.result(w, 0)
		e.waitWaiters(hdFutex, 0)
	})
	t.Run("wake counts", func(t *testing.T) {
		e := newHdEnv(t, nil)
		e.m.put(hdFutex-hdBase, []byte{5, 0, 0, 0})
		var ws []<-chan uint64
		for i := 0; i < 3; i++ {
			ws = append(ws, e.futexWaiter(abi.FUTEX_WAIT, 5, 0))
			e.waitWaiters(hdFutex, i+1)
		}
		e.want(2, unix.SYS_FUTEX, hdFutex, abi.FUTEX_WAKE, 2)
		e.want(0, unix.SYS_FUTEX, hdFutex+4, abi.FUTEX_WAKE, 1) // another word
		e.want(1, unix.SYS_FUTEX, hdFutex, abi.FUTEX_WAKE, 1<<31-1)
		e.want(0, unix.SYS_FUTEX, hdFutex, abi.FUTEX_WAKE, 1<<31-1)
		for _, w := range ws {
			e.result(w, 0)
		}
	})
	t.Run("bitsets", func(t *testing.T) {
		e := newHdEnv(t, nil)
		e.m.put(hdFutex-hdBase, []byte{5, 0, 0, 0})
		w := e.futexWaiter(abi.FUTEX_WAIT_BITSET|abi.FUTEX_PRIVATE_FLAG, 5, 0b01)
		e.waitWaiters(hdFutex, 1)
		e.want(0, unix.SYS_FUTEX, hdFutex, abi.FUTEX_WAKE_BITSET, 1, 0, 0, 0b10)
		e.want(1, unix.SYS_FUTEX, hdFutex, abi.FUTEX_WAKE_BITSET, 1, 0, 0, 0b11)
		e.result(w, 0)
	})
}

// ---------------------------------------------------------------------------
// 5. /dev without a /dev in the root

func TestHandlersDevices(t *testing.T) {
	roots := []struct {
		name string
		root func(t *testing.T) *initrd.FS
	}{
		{"no root", func(*testing.T) *initrd.FS { return nil }},
		{"initrd without /dev", hdRoot},
	}
	random := make([]byte, 64) // the fake's first random bytes
	rand.NewChaCha8(hdSeed).Read(random)
	devs := []struct {
		path         string
		major, minor uint32
		write        uint64 // write(2) of 10 bytes
		read         []byte // read(2) of 64 bytes; nil: end of file
	}{
		{"/dev/null", 1, 3, 10, nil},
		{"/dev/zero", 1, 5, 10, make([]byte, 64)},
		{"/dev/full", 1, 7, hdErr(unix.ENOSPC), make([]byte, 64)},
		{"/dev/urandom", 1, 9, 10, random},
		{"/dev/random", 1, 8, 10, random},
	}
	for _, r := range roots {
		for _, d := range devs {
			t.Run(r.name+d.path, func(t *testing.T) {
				e := newHdEnv(t, r.root(t))
				fd := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, d.path), unix.O_RDWR|unix.O_CLOEXEC)
				if fd != 3 {
					t.Fatalf("fd = %d, want 3", fd)
				}
				e.want(d.write, unix.SYS_WRITE, fd, e.m.fill(0x100, 10, 'x'), 10)
				buf := e.m.fill(0x200, 64, 0xff)
				e.want(uint64(len(d.read)), unix.SYS_READ, fd, buf, 64)
				if d.read == nil {
					e.bytesAt(buf, bytes.Repeat([]byte{0xff}, 64)) // untouched
				} else {
					e.bytesAt(buf, d.read)
				}
				if d.path == "/dev/urandom" && bytes.Count(e.m.load(buf, 64), []byte{0}) > 8 {
					t.Errorf("urandom gave mostly zeros: %x", e.m.load(buf, 64))
				}
				e.want(0, unix.SYS_FSTAT, fd, hdAt(0x400))
				if st := e.stat(hdAt(0x400)); st.mode != unix.S_IFCHR|0o666 || st.rdev != unix.Mkdev(d.major, d.minor) {
					t.Errorf("fstat = mode %#o rdev %#x, want %#o %#x", st.mode, st.rdev, unix.S_IFCHR|0o666, unix.Mkdev(d.major, d.minor))
				}
				e.want(0, unix.SYS_NEWFSTATAT, atFDCWD, e.m.cstr(0, d.path), hdAt(0x400), 0)
				if st := e.stat(hdAt(0x400)); st.rdev != unix.Mkdev(d.major, d.minor) {
					t.Errorf("newfstatat rdev = %#x", st.rdev)
				}
			})
		}
		t.Run(r.name+"/shell redirection", func(t *testing.T) {
			e := newHdEnv(t, r.root(t))
			// 2>/dev/null: O_WRONLY|O_CREAT|O_TRUNC on a device is fine.
			e.want(3, unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/dev/null"), unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC, 0o666)
			e.want(5, unix.SYS_WRITE, 3, e.m.put(0x100, []byte("error")), 5)
			// The buffer is never read, as on Linux: NULL is no EFAULT.
			e.want(5, unix.SYS_WRITE, 3, 0, 5)
			e.want(hdErr(unix.EBADF), unix.SYS_READ, 3, hdAt(0x100), 5)
			e.want(hdErr(unix.ENOENT), unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/dev/nope"), unix.O_RDONLY)
			e.want(0, unix.SYS_ACCESS, e.m.cstr(0, "/dev/zero"), unix.R_OK)
		})
	}
}

// TestHandlersFastFD checks the list of descriptors the kernel answers
// reads and writes of itself (Context.Fast.FD): a call on /dev/zero or
// /dev/null lists its descriptor with what its access mode allows, and
// any change of the descriptor table (open, dup2, close, exec's
// close-on-exec) moves its generation so that the list no longer holds.
func TestHandlersFastFD(t *testing.T) {
	e := newHdEnv(t, nil)
	f := &e.th.ctx.Fast
	holds := func() bool {
		tab := e.p.files
		return f.Files == uint64(uintptr(unsafe.Pointer(&tab.gen))) && tab.gen.Load() == f.FilesGen
	}
	zero := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/dev/zero"), unix.O_RDONLY)
	null := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/dev/null"), unix.O_WRONLY)
	full := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/dev/full"), unix.O_RDWR)
	if holds() {
		t.Fatal("list holds before any read or write")
	}
	e.read(zero, 4, "\x00\x00\x00\x00")
	e.write(null, "abc")
	e.write(1, "console")
	e.read(full, 2, "\x00\x00")
	if !holds() {
		t.Fatal("list does not hold after reads of /dev/zero and writes of /dev/null")
	}
	want := [amd64.MaxFastFDs]uint8{}
	want[zero], want[null] = amd64.FastFDZero, amd64.FastFDSink
	if f.FD != want {
		t.Fatalf("FD = %v, want %v", f.FD[:8], want[:8])
	}
	e.want(hdErr(unix.EBADF), unix.SYS_WRITE, zero, hdAt(0x100), 1) // O_RDONLY: nothing more listed
	if f.FD != want || !holds() {
		t.Fatalf("a failed write changed the list: %v", f.FD[:8])
	}
	rw := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/dev/null"), unix.O_RDWR)
	if holds() {
		t.Fatal("list holds after an open")
	}
	e.read(rw, 4, "")
	clear(want[:])
	want[rw] = amd64.FastFDEOF | amd64.FastFDSink
	if f.FD != want || !holds() {
		t.Fatalf("after a read of /dev/null O_RDWR: FD = %v, holds %v", f.FD[:8], holds())
	}
	e.ok(unix.SYS_DUP2, full, rw)
	if holds() {
		t.Fatal("list holds after dup2")
	}
	e.read(zero, 1, "\x00")
	e.ok(unix.SYS_CLOSE, full)
	if holds() {
		t.Fatal("list holds after close")
	}
	e.read(zero, 1, "\x00")
	e.ok(unix.SYS_FCNTL, zero, unix.F_SETFD, unix.FD_CLOEXEC)
	if !holds() {
		t.Fatal("F_SETFD withdrew the list (it changes no answer)")
	}
	e.p.files.closeOnExec()
	if holds() {
		t.Fatal("list holds after exec's close-on-exec")
	}
}

// ---------------------------------------------------------------------------
// 6. Files on an initrd root

func TestHandlersFileRead(t *testing.T) {
	fs := hdRoot(t)
	e := newHdEnv(t, fs)
	fd := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/etc/hello.txt"), unix.O_RDONLY)
	if fd != 3 {
		t.Fatalf("fd = %d", fd)
	}
	e.read(fd, 5, "hello")
	e.want(5, unix.SYS_LSEEK, fd, 0, unix.SEEK_CUR)
	e.read(fd, 64, ", world\n")
	e.read(fd, 64, "")
	e.want(13, unix.SYS_LSEEK, fd, 0, unix.SEEK_CUR)
	e.want(10, unix.SYS_LSEEK, fd, ^uint64(2), unix.SEEK_END) // -3
	e.read(fd, 64, "ld\n")
	e.want(2, unix.SYS_LSEEK, fd, 2, unix.SEEK_SET)
	e.want(4, unix.SYS_LSEEK, fd, 2, unix.SEEK_CUR)
	e.want(hdErr(unix.EINVAL), unix.SYS_LSEEK, fd, ^uint64(0), unix.SEEK_SET)
	e.want(hdErr(unix.EINVAL), unix.SYS_LSEEK, fd, 0, 7)
	e.want(100, unix.SYS_LSEEK, fd, 100, unix.SEEK_SET) // past the end is allowed
	e.read(fd, 64, "")

	// pread64 does not move the offset.
	e.want(0, unix.SYS_LSEEK, fd, 0, unix.SEEK_SET)
	buf := e.m.fill(0x2000, 16, 0xee)
	e.want(4, unix.SYS_PREAD64, fd, buf, 4, 7)
	e.bytesAt(buf, []byte("worl\xee"))
	e.want(0, unix.SYS_PREAD64, fd, buf, 4, 13)
	e.want(0, unix.SYS_PREAD64, fd, buf, 4, 1000)
	e.want(hdErr(unix.EINVAL), unix.SYS_PREAD64, fd, buf, 4, ^uint64(0))
	e.want(0, unix.SYS_LSEEK, fd, 0, unix.SEEK_CUR)

	// Read-only.
	e.want(hdErr(unix.EBADF), unix.SYS_WRITE, fd, buf, 1)
	e.want(hdErr(unix.EFAULT), unix.SYS_READ, fd, hdBad, 4)
	e.want(0, unix.SYS_CLOSE, fd)
	e.want(hdErr(unix.EBADF), unix.SYS_READ, fd, buf, 4)
	e.want(hdErr(unix.EBADF), unix.SYS_CLOSE, fd)
}

func TestHandlersFileStat(t *testing.T) {
	fs := hdRoot(t)
	// dev and ino are the overlay root's: the wants say which file (1
	// hello.txt, 2 the link, 3 /etc), and the test checks that the same
	// file gives the same pair through every call.
	seen := map[uint64][2]uint64{}
	for _, c := range []struct {
		name string
		call func(e *hdEnv, st uint64) uint64
		want hdStat
		err  unix.Errno
	}{
		{"fstat", func(e *hdEnv, st uint64) uint64 {
			fd := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/etc/hello.txt"), unix.O_RDONLY)
			return e.call(unix.SYS_FSTAT, fd, st)
		}, hdStat{dev: 1, ino: 1, nlink: 1, mode: unix.S_IFREG | 0o644, uid: 1000, gid: 100, size: 13, blksize: 4096, blocks: 1, mtime: 1700000000}, 0},
		{"newfstatat follows the link", func(e *hdEnv, st uint64) uint64 {
			return e.call(unix.SYS_NEWFSTATAT, atFDCWD, e.m.cstr(0, "/etc/link"), st, 0)
		}, hdStat{dev: 1, ino: 1, nlink: 1, mode: unix.S_IFREG | 0o644, uid: 1000, gid: 100, size: 13, blksize: 4096, blocks: 1, mtime: 1700000000}, 0},
		{"newfstatat AT_SYMLINK_NOFOLLOW", func(e *hdEnv, st uint64) uint64 {
			return e.call(unix.SYS_NEWFSTATAT, atFDCWD, e.m.cstr(0, "/etc/link"), st, unix.AT_SYMLINK_NOFOLLOW)
		}, hdStat{dev: 1, ino: 2, nlink: 1, mode: unix.S_IFLNK | 0o777, size: 9, blksize: 4096, blocks: 1}, 0},
		{"newfstatat relative to a directory fd", func(e *hdEnv, st uint64) uint64 {
			dir := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/etc"), unix.O_RDONLY|unix.O_DIRECTORY)
			return e.call(unix.SYS_NEWFSTATAT, dir, e.m.cstr(0, "hello.txt"), st, 0)
		}, hdStat{dev: 1, ino: 1, nlink: 1, mode: unix.S_IFREG | 0o644, uid: 1000, gid: 100, size: 13, blksize: 4096, blocks: 1, mtime: 1700000000}, 0},
		{"newfstatat AT_EMPTY_PATH of a directory fd", func(e *hdEnv, st uint64) uint64 {
			dir := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/etc"), unix.O_RDONLY|unix.O_DIRECTORY)
			return e.call(unix.SYS_NEWFSTATAT, dir, e.m.cstr(0, ""), st, unix.AT_EMPTY_PATH)
		}, hdStat{dev: 1, ino: 3, nlink: 3, mode: unix.S_IFDIR | 0o755, blksize: 4096}, 0},
		{"newfstatat of a missing file", func(e *hdEnv, st uint64) uint64 {
			return e.call(unix.SYS_NEWFSTATAT, atFDCWD, e.m.cstr(0, "/etc/missing"), st, 0)
		}, hdStat{}, unix.ENOENT},
		{"newfstatat through a file", func(e *hdEnv, st uint64) uint64 {
			return e.call(unix.SYS_NEWFSTATAT, atFDCWD, e.m.cstr(0, "/etc/hello.txt/x"), st, 0)
		}, hdStat{}, unix.ENOTDIR},
		{"newfstatat of an empty path", func(e *hdEnv, st uint64) uint64 {
			return e.call(unix.SYS_NEWFSTATAT, atFDCWD, e.m.cstr(0, ""), st, 0)
		}, hdStat{}, unix.ENOENT},
		{"fstat to a bad buffer", func(e *hdEnv, st uint64) uint64 {
			return e.call(unix.SYS_FSTAT, 0, hdBad)
		}, hdStat{}, unix.EFAULT},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newHdEnv(t, fs)
			st := e.m.fill(0x400, 144, 0xcc)
			r := c.call(e, st)
			if c.err != 0 {
				if r != hdErr(c.err) {
					t.Fatalf("= %s, want %s", hdShow(r), hdShow(hdErr(c.err)))
				}
				e.bytesAt(st, bytes.Repeat([]byte{0xcc}, 144))
				return
			}
			if r != 0 {
				t.Fatalf("= %s", hdShow(r))
			}
			got := e.stat(st)
			which := c.want.ino
			if prev, ok := seen[which]; ok && prev[1] != got.ino {
				t.Errorf("file %d: ino %d, another call gave %d", which, got.ino, prev[1])
			}
			seen[which] = [2]uint64{got.dev, got.ino}
			c.want.dev, c.want.ino = got.dev, got.ino
			if got.ino == 0 || got != c.want {
				t.Errorf("stat =\n %+v, want\n %+v", got, c.want)
			}
		})
	}
}

// hdDirent is one linux_dirent64.
type hdDirent struct {
	ino  uint64
	off  uint64
	typ  byte
	name string
}

func hdDirents(t *testing.T, b []byte) []hdDirent {
	t.Helper()
	var out []hdDirent
	for len(b) > 0 {
		if len(b) < 20 {
			t.Fatalf("short dirent: %x", b)
		}
		reclen := int(binary.LittleEndian.Uint16(b[16:]))
		if reclen < 20 || reclen > len(b) || reclen%8 != 0 {
			t.Fatalf("bad d_reclen %d", reclen)
		}
		name := b[19:reclen]
		name = name[:bytes.IndexByte(name, 0)]
		out = append(out, hdDirent{binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:]), b[18], string(name)})
		b = b[reclen:]
	}
	return out
}

func TestHandlersGetdents64(t *testing.T) {
	fs := hdRoot(t)
	n := func(p string) uint64 { return hdNode(t, fs, p).Ino }
	want := []hdDirent{
		{n("/etc"), 1, unix.DT_DIR, "."},
		{n("/"), 2, unix.DT_DIR, ".."},
		{n("/etc/a"), 3, unix.DT_REG, "a"},
		{n("/etc/b"), 4, unix.DT_REG, "b"},
		{n("/etc/hello.txt"), 5, unix.DT_REG, "hello.txt"},
		{n("/etc/link"), 6, unix.DT_LNK, "link"},
		{n("/etc/sub"), 7, unix.DT_DIR, "sub"},
	}
	check := func(t *testing.T, got, want []hdDirent) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("entries =\n %v, want\n %v", got, want)
		}
	}
	t.Run("all at once", func(t *testing.T) {
		e := newHdEnv(t, fs)
		fd := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/etc"), unix.O_RDONLY|unix.O_DIRECTORY)
		buf := hdAt(0x4000)
		nb := e.ok(unix.SYS_GETDENTS64, fd, buf, 4096)
		check(t, hdDirents(t, e.m.load(buf, nb)), want)
		e.want(0, unix.SYS_GETDENTS64, fd, buf, 4096) // the end
		e.want(0, unix.SYS_LSEEK, fd, 0, unix.SEEK_SET)
		nb = e.ok(unix.SYS_GETDENTS64, fd, buf, 4096)
		check(t, hdDirents(t, e.m.load(buf, nb)), want)
	})
	t.Run("small buffer", func(t *testing.T) {
		e := newHdEnv(t, fs)
		fd := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/etc"), unix.O_RDONLY|unix.O_DIRECTORY)
		buf := hdAt(0x4000)
		e.want(hdErr(unix.EINVAL), unix.SYS_GETDENTS64, fd, buf, 16)
		var got []hdDirent
		for i := 0; i < 10; i++ {
			nb := e.ok(unix.SYS_GETDENTS64, fd, buf, 48) // two short records
			if nb == 0 {
				break
			}
			got = append(got, hdDirents(t, e.m.load(buf, nb))...)
		}
		check(t, got, want)
	})
	t.Run("root", func(t *testing.T) {
		e := newHdEnv(t, fs)
		fd := e.ok(unix.SYS_OPEN, e.m.cstr(0, "/"), unix.O_RDONLY|unix.O_DIRECTORY)
		buf := hdAt(0x4000)
		nb := e.ok(unix.SYS_GETDENTS64, fd, buf, 4096)
		// The root is the writable overlay: the mount points the kernel
		// made (in its upper layer) and the initrd's directories.
		var names []string
		for _, d := range hdDirents(t, e.m.load(buf, nb)) {
			if d.typ != unix.DT_DIR {
				t.Errorf("%s: type %d, want a directory", d.name, d.typ)
			}
			names = append(names, d.name)
		}
		slices.Sort(names)
		if got, want := fmt.Sprint(names), "[. .. bin dev etc proc sys tmp]"; got != want {
			t.Errorf("root lists %s, want %s", got, want)
		}
	})
	t.Run("errors", func(t *testing.T) {
		e := newHdEnv(t, fs)
		fd := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/etc/hello.txt"), unix.O_RDONLY)
		e.want(hdErr(unix.ENOTDIR), unix.SYS_GETDENTS64, fd, hdAt(0x4000), 4096)
		e.want(hdErr(unix.EBADF), unix.SYS_GETDENTS64, 77, hdAt(0x4000), 4096)
		dir := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/etc"), unix.O_RDONLY)
		e.want(hdErr(unix.EISDIR), unix.SYS_READ, dir, hdAt(0x4000), 16)
		e.want(hdErr(unix.EFAULT), unix.SYS_GETDENTS64, dir, hdBad, 4096)
	})
}

func TestHandlersPaths(t *testing.T) {
	fs := hdRoot(t)
	for _, c := range []struct {
		name string
		run  func(e *hdEnv) uint64
		want uint64
		mem  string // at scratch 0x1000 after the call
	}{
		{"readlinkat", func(e *hdEnv) uint64 {
			return e.call(unix.SYS_READLINKAT, atFDCWD, e.m.cstr(0, "/etc/link"), e.m.fill(0x1000, 16, '#'), 16)
		}, 9, "hello.txt#"},
		{"readlinkat truncates", func(e *hdEnv) uint64 {
			return e.call(unix.SYS_READLINKAT, atFDCWD, e.m.cstr(0, "/etc/link"), e.m.fill(0x1000, 16, '#'), 3)
		}, 3, "hel#"},
		{"readlinkat relative to a directory fd", func(e *hdEnv) uint64 {
			dir := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/etc"), unix.O_RDONLY|unix.O_DIRECTORY)
			return e.call(unix.SYS_READLINKAT, dir, e.m.cstr(0, "link"), e.m.fill(0x1000, 16, '#'), 16)
		}, 9, "hello.txt#"},
		{"readlink of /proc/self/exe", func(e *hdEnv) uint64 {
			return e.call(unix.SYS_READLINK, e.m.cstr(0, "/proc/self/exe"), e.m.fill(0x1000, 16, '#'), 16)
		}, 9, "/bin/prog#"},
		{"readlinkat of a file", func(e *hdEnv) uint64 {
			return e.call(unix.SYS_READLINKAT, atFDCWD, e.m.cstr(0, "/etc/hello.txt"), e.m.fill(0x1000, 16, '#'), 16)
		}, hdErr(unix.EINVAL), "#"},
		{"readlinkat with size 0", func(e *hdEnv) uint64 {
			return e.call(unix.SYS_READLINKAT, atFDCWD, e.m.cstr(0, "/etc/link"), e.m.fill(0x1000, 16, '#'), 0)
		}, hdErr(unix.EINVAL), "#"},
		{"readlinkat of a missing path", func(e *hdEnv) uint64 {
			return e.call(unix.SYS_READLINKAT, atFDCWD, e.m.cstr(0, "/nope"), e.m.fill(0x1000, 16, '#'), 16)
		}, hdErr(unix.ENOENT), "#"},
		{"faccessat R_OK", func(e *hdEnv) uint64 {
			return e.call(unix.SYS_FACCESSAT, atFDCWD, e.m.cstr(0, "/etc/hello.txt"), unix.R_OK)
		}, 0, ""},
		{"faccessat W_OK", func(e *hdEnv) uint64 {
			return e.call(unix.SYS_FACCESSAT, atFDCWD, e.m.cstr(0, "/etc/hello.txt"), unix.W_OK)
		}, 0, ""}, // the root is writable (an overlay on the initrd)
		{"faccessat W_OK of a directory", func(e *hdEnv) uint64 {
			return e.call(unix.SYS_FACCESSAT, atFDCWD, e.m.cstr(0, "/etc"), unix.R_OK|unix.W_OK)
		}, 0, ""},
		{"faccessat X_OK, not executable", func(e *hdEnv) uint64 {
			return e.call(unix.SYS_FACCESSAT, atFDCWD, e.m.cstr(0, "/etc/hello.txt"), unix.X_OK)
		}, hdErr(unix.EACCES), ""},
		{"faccessat X_OK, executable", func(e *hdEnv) uint64 {
			return e.call(unix.SYS_FACCESSAT, atFDCWD, e.m.cstr(0, "/bin/prog"), unix.X_OK)
		}, 0, ""},
		{"faccessat of a missing path", func(e *hdEnv) uint64 {
			return e.call(unix.SYS_FACCESSAT, atFDCWD, e.m.cstr(0, "/etc/nope"), unix.F_OK)
		}, hdErr(unix.ENOENT), ""},
		{"faccessat bad mode", func(e *hdEnv) uint64 {
			return e.call(unix.SYS_FACCESSAT, atFDCWD, e.m.cstr(0, "/etc"), 8)
		}, hdErr(unix.EINVAL), ""},
		{"openat O_CREAT of a new file", func(e *hdEnv) uint64 {
			return e.call(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/etc/new"), unix.O_WRONLY|unix.O_CREAT, 0o644)
		}, 3, ""},
		{"openat O_CREAT of an existing file", func(e *hdEnv) uint64 {
			return e.call(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/etc/hello.txt"), unix.O_RDONLY|unix.O_CREAT, 0o644)
		}, 3, ""},
		{"openat O_WRONLY", func(e *hdEnv) uint64 {
			return e.call(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/etc/hello.txt"), unix.O_WRONLY)
		}, 3, ""},
		{"openat O_WRONLY of a missing file", func(e *hdEnv) uint64 {
			return e.call(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/etc/nope"), unix.O_WRONLY)
		}, hdErr(unix.ENOENT), ""},
		{"openat of a missing path", func(e *hdEnv) uint64 {
			return e.call(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/etc/nope"), unix.O_RDONLY)
		}, hdErr(unix.ENOENT), ""},
		{"openat of a missing directory", func(e *hdEnv) uint64 {
			return e.call(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/nope/x"), unix.O_RDONLY)
		}, hdErr(unix.ENOENT), ""},
		{"openat O_DIRECTORY of a file", func(e *hdEnv) uint64 {
			return e.call(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/etc/hello.txt"), unix.O_RDONLY|unix.O_DIRECTORY)
		}, hdErr(unix.ENOTDIR), ""},
		{"openat O_NOFOLLOW of a symlink", func(e *hdEnv) uint64 {
			return e.call(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/etc/link"), unix.O_RDONLY|unix.O_NOFOLLOW)
		}, hdErr(unix.ELOOP), ""},
		{"openat through a symlink", func(e *hdEnv) uint64 {
			return e.call(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/etc/link"), unix.O_RDONLY)
		}, 3, ""},
		{"openat relative to a file fd", func(e *hdEnv) uint64 {
			fd := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/etc/hello.txt"), unix.O_RDONLY)
			return e.call(unix.SYS_OPENAT, fd, e.m.cstr(0, "x"), unix.O_RDONLY)
		}, hdErr(unix.ENOTDIR), ""},
		{"openat of a NULL path", func(e *hdEnv) uint64 {
			return e.call(unix.SYS_OPENAT, atFDCWD, 0, unix.O_RDONLY)
		}, hdErr(unix.EFAULT), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newHdEnv(t, fs)
			if got := c.run(e); got != c.want {
				t.Fatalf("= %s, want %s", hdShow(got), hdShow(c.want))
			}
			if c.mem != "" {
				e.bytesAt(hdAt(0x1000), []byte(c.mem))
			}
		})
	}
}

func TestHandlersChdir(t *testing.T) {
	e := newHdEnv(t, hdRoot(t))
	getcwd := func(want string) {
		t.Helper()
		buf := e.m.fill(0x1000, 64, '#')
		e.want(uint64(len(want)+1), unix.SYS_GETCWD, buf, 64)
		e.bytesAt(buf, []byte(want+"\x00#"))
	}
	getcwd("/")
	e.want(0, unix.SYS_CHDIR, e.m.cstr(0, "/etc"))
	getcwd("/etc")
	e.want(3, unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "hello.txt"), unix.O_RDONLY)
	e.read(3, 5, "hello")
	e.want(0, unix.SYS_CHDIR, e.m.cstr(0, "sub"))
	getcwd("/etc/sub")
	e.want(0, unix.SYS_CHDIR, e.m.cstr(0, ".."))
	getcwd("/etc")
	e.want(hdErr(unix.ENOTDIR), unix.SYS_CHDIR, e.m.cstr(0, "hello.txt"))
	e.want(hdErr(unix.ENOENT), unix.SYS_CHDIR, e.m.cstr(0, "nope"))
	e.want(hdErr(unix.ENOENT), unix.SYS_CHDIR, e.m.cstr(0, ""))
	getcwd("/etc")
	e.want(hdErr(unix.ERANGE), unix.SYS_GETCWD, hdAt(0x1000), 4)
	e.want(hdErr(unix.EFAULT), unix.SYS_GETCWD, hdBad, 64)
	// fchdir to a directory fd.
	e.want(4, unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/bin"), unix.O_RDONLY|unix.O_DIRECTORY)
	e.want(0, unix.SYS_FCHDIR, 4)
	getcwd("/bin")
	e.want(hdErr(unix.ENOTDIR), unix.SYS_FCHDIR, 3)
	e.want(0, unix.SYS_CHDIR, e.m.cstr(0, "/"))
	getcwd("/")
}

// ---------------------------------------------------------------------------
// 7. Signals

// sigaction writes a struct kernel_sigaction at off.
func (m *hdMachine) sigaction(off, handler, flags, restorer, mask uint64) uint64 {
	return m.u64s(off, handler, flags, restorer, mask)
}

func TestHandlersRtSigaction(t *testing.T) {
	usr1 := uint64(unix.SIGUSR1)
	e := newHdEnv(t, nil)
	act := e.m.sigaction(0x100, 0x401000, abi.SA_SIGINFO|abi.SA_RESTORER, 0x401100, 1<<(unix.SIGINT-1))
	oact := e.m.fill(0x200, 32, 0xff)
	e.want(0, unix.SYS_RT_SIGACTION, usr1, act, oact, 8)
	e.bytesAt(oact, make([]byte, 32)) // the default action before
	e.want(0, unix.SYS_RT_SIGACTION, usr1, 0, e.m.fill(0x200, 32, 0xff), 8)
	e.bytesAt(oact, e.m.load(act, 32))
	// A new action returns the old in the same call.
	act2 := e.m.sigaction(0x300, sigIGN, 0, 0, 0)
	e.want(0, unix.SYS_RT_SIGACTION, usr1, act2, e.m.fill(0x200, 32, 0xff), 8)
	e.bytesAt(oact, e.m.load(act, 32))
	e.want(0, unix.SYS_RT_SIGACTION, usr1, 0, oact, 8)
	e.bytesAt(oact, e.m.load(act2, 32))
	// Other signals are untouched.
	e.want(0, unix.SYS_RT_SIGACTION, uint64(unix.SIGUSR2), 0, oact, 8)
	e.bytesAt(oact, make([]byte, 32))

	for _, c := range []struct {
		name                 string
		sig, act, oact, size uint64
		want                 unix.Errno
	}{
		{"sigsetsize 4", usr1, act, 0, 4, unix.EINVAL},
		{"signal 0", 0, act, 0, 8, unix.EINVAL},
		{"signal 65", 65, act, 0, 8, unix.EINVAL},
		{"setting SIGKILL", uint64(unix.SIGKILL), act, 0, 8, unix.EINVAL},
		{"setting SIGSTOP", uint64(unix.SIGSTOP), act, 0, 8, unix.EINVAL},
		{"querying SIGKILL", uint64(unix.SIGKILL), 0, oact, 8, 0},
		{"signal 64", 64, act, 0, 8, 0},
		{"bad act", usr1, hdBad, 0, 8, unix.EFAULT},
		{"bad oact", usr1, 0, hdBad, 8, unix.EFAULT},
	} {
		if got := e.call(unix.SYS_RT_SIGACTION, c.sig, c.act, c.oact, c.size); got != hdErr(c.want) { // hdErr(0) is 0
			t.Errorf("%s: rt_sigaction = %s, want %s", c.name, hdShow(got), hdShow(hdErr(c.want)))
		}
	}
	// The failed calls left SIGUSR1 alone.
	e.want(0, unix.SYS_RT_SIGACTION, usr1, 0, oact, 8)
	e.bytesAt(oact, e.m.load(act2, 32))
}

func TestHandlersRtSigprocmask(t *testing.T) {
	bit := func(s unix.Signal) uint64 { return 1 << (s - 1) }
	usr1, usr2 := bit(unix.SIGUSR1), bit(unix.SIGUSR2)
	e := newHdEnv(t, nil)
	set, oset := hdAt(0x100), hdAt(0x108)
	for _, c := range []struct {
		how, set uint64
		noSet    bool
		want     unix.Errno
		old, now uint64
	}{
		{how: abi.SIG_BLOCK, set: usr1, old: 0, now: usr1},
		{how: abi.SIG_BLOCK, set: usr2, old: usr1, now: usr1 | usr2},
		{how: abi.SIG_UNBLOCK, set: usr1, old: usr1 | usr2, now: usr2},
		{how: abi.SIG_SETMASK, set: usr1 | bit(unix.SIGKILL) | bit(unix.SIGSTOP), old: usr2, now: usr1}, // KILL and STOP cannot be blocked
		{how: 7, noSet: true, old: usr1, now: usr1},                                                     // no set: how is not looked at
		{how: 7, set: usr2, want: unix.EINVAL, old: usr1, now: usr1},
		{how: abi.SIG_SETMASK, set: 0, old: usr1, now: 0},
	} {
		e.m.u64s(0x100, c.set, 0xdeadbeef)
		s := set
		if c.noSet {
			s = 0
		}
		got := e.call(unix.SYS_RT_SIGPROCMASK, c.how, s, oset, 8)
		if c.want != 0 {
			if got != hdErr(c.want) {
				t.Errorf("how %d set %#x: = %s, want %s", c.how, c.set, hdShow(got), hdShow(hdErr(c.want)))
			}
		} else if got != 0 {
			t.Errorf("how %d set %#x: = %s", c.how, c.set, hdShow(got))
		} else if old := e.m.u64(oset); old != c.old {
			t.Errorf("how %d set %#x: old = %#x, want %#x", c.how, c.set, old, c.old)
		}
		if e.th.mask() != c.now {
			t.Errorf("how %d set %#x: mask = %#x, want %#x", c.how, c.set, e.th.mask(), c.now)
		}
	}
	e.want(hdErr(unix.EINVAL), unix.SYS_RT_SIGPROCMASK, abi.SIG_BLOCK, set, oset, 4)
	e.want(hdErr(unix.EFAULT), unix.SYS_RT_SIGPROCMASK, abi.SIG_BLOCK, hdBad, 0, 8)
	e.want(hdErr(unix.EFAULT), unix.SYS_RT_SIGPROCMASK, abi.SIG_BLOCK, 0, hdBad, 8)
}

func TestHandlersKillSelf(t *testing.T) {
	const handler, restorer, rsp = 0x401000, 0x401100, hdBase + 0xf000
	usr1 := uint64(unix.SIGUSR1)
	for _, c := range []struct {
		name   string
		sig    uint64
		action [4]uint64 // handler, flags, restorer, mask; nil: default
		alive  bool
		status int // exit status when not alive
		frame  bool
	}{
		{"SIG_IGN does nothing", usr1, [4]uint64{sigIGN}, true, 0, false},
		{"default action of SIGUSR1 kills", usr1, [4]uint64{}, false, 128 + int(unix.SIGUSR1), false},
		{"default action of SIGCHLD ignores", uint64(unix.SIGCHLD), [4]uint64{}, true, 0, false},
		{"a handler gets a frame", usr1, [4]uint64{handler, abi.SA_SIGINFO | abi.SA_RESTORER, restorer, 0}, true, 0, true},
		{"signal 0 checks only", 0, [4]uint64{}, true, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newHdEnv(t, nil)
			if c.sig != 0 {
				act := e.m.sigaction(0x100, c.action[0], c.action[1], c.action[2], c.action[3])
				e.want(0, unix.SYS_RT_SIGACTION, c.sig, act, 0, 8)
			}
			e.th.ctx.Regs.RSP, e.th.ctx.Regs.RIP = rsp, 0x400123
			before := e.th.ctx.Regs
			e.want(0, unix.SYS_KILL, 1, c.sig)
			wantPending := uint64(0)
			if c.sig != 0 {
				wantPending = 1 << (c.sig - 1)
			}
			if e.th.sig.pending != wantPending {
				t.Fatalf("pending = %#x, want %#x", e.th.sig.pending, wantPending)
			}
			alive := e.th.takeSignals()
			if alive != c.alive {
				t.Fatalf("takeSignals = %v, want %v", alive, c.alive)
			}
			if !alive {
				e.th.finish() // what the thread's run loop does next
			}
			if e.th.sig.pending != 0 {
				t.Errorf("pending = %#x after takeSignals", e.th.sig.pending)
			}
			select {
			case st := <-e.p.sys.done:
				if c.alive || st != c.status {
					t.Errorf("process exited with %d (alive %v, want status %d)", st, c.alive, c.status)
				}
			default:
				if !c.alive {
					t.Errorf("process did not exit")
				}
			}
			r := e.th.ctx.Regs
			if !c.frame {
				if c.alive && r != before {
					t.Errorf("registers changed: %+v", r)
				}
				return
			}
			_, frame, _ := abi.FrameAddrs(rsp, [3]uint64{}, false, abi.FPStateSize)
			if r.RIP != handler || r.RSP != frame || r.RDI != usr1 || r.RSI != frame+8+abi.UcontextSize || r.RDX != frame+8 {
				t.Errorf("handler entry: rip %#x rsp %#x rdi %d rsi %#x rdx %#x; want %#x %#x %d %#x %#x",
					r.RIP, r.RSP, r.RDI, r.RSI, r.RDX, handler, frame, usr1, frame+8+abi.UcontextSize, frame+8)
			}
			if ret := e.m.u64(frame); ret != restorer {
				t.Errorf("return address %#x, want the restorer %#x", ret, restorer)
			}
			if e.th.mask() != 1<<(usr1-1) {
				t.Errorf("mask in the handler = %#x, want SIGUSR1", e.th.mask())
			}
		})
	}
	t.Run("errors", func(t *testing.T) {
		e := newHdEnv(t, nil)
		e.want(hdErr(unix.ESRCH), unix.SYS_KILL, 2, usr1)
		e.want(hdErr(unix.EINVAL), unix.SYS_KILL, 1, 65)
		e.want(hdErr(unix.EINVAL), unix.SYS_KILL, 1, ^uint64(0))
		if e.th.sig.pending != 0 {
			t.Errorf("pending = %#x", e.th.sig.pending)
		}
	})
}

func TestHandlersSigaltstack(t *testing.T) {
	e := newHdEnv(t, nil)
	ss, oss := hdAt(0x100), hdAt(0x200)
	query := func(sp, flags, size uint64) {
		t.Helper()
		e.m.fill(0x200, 24, 0xff)
		e.want(0, unix.SYS_SIGALTSTACK, 0, oss)
		if got := [3]uint64{e.m.u64(oss), e.m.u64(oss + 8), e.m.u64(oss + 16)}; got != [3]uint64{sp, flags, size} {
			t.Fatalf("stack_t = %#x, want [%#x %#x %#x]", got, sp, flags, size)
		}
	}
	query(0, abi.SS_DISABLE, 0)
	e.m.u64s(0x100, 0x30000, 0, 0x4000)
	e.want(0, unix.SYS_SIGALTSTACK, ss, oss)
	if got := [3]uint64{e.m.u64(oss), e.m.u64(oss + 8), e.m.u64(oss + 16)}; got != [3]uint64{0, abi.SS_DISABLE, 0} {
		t.Errorf("old stack_t = %#x, want disabled", got)
	}
	query(0x30000, 0, 0x4000)
	e.m.u64s(0x100, 0x50000, 0, 0x800)
	e.want(0, unix.SYS_SIGALTSTACK, ss, 0) // MINSIGSTKSZ is 2048: fits
	query(0x50000, 0, 0x800)
	for _, c := range []struct {
		name            string
		sp, flags, size uint64
		want            unix.Errno
	}{
		{"too small", 0x60000, 0, 2047, unix.ENOMEM},
		{"bad flags", 0x60000, 4, 0x4000, unix.EINVAL},
	} {
		e.m.u64s(0x100, c.sp, c.flags, c.size)
		if got := e.call(unix.SYS_SIGALTSTACK, ss, 0); got != hdErr(c.want) {
			t.Errorf("%s: sigaltstack = %s, want %s", c.name, hdShow(got), hdShow(hdErr(c.want)))
		}
	}
	query(0x50000, 0, 0x800) // unchanged by the failures
	e.want(hdErr(unix.EFAULT), unix.SYS_SIGALTSTACK, hdBad, 0)
	e.want(hdErr(unix.EFAULT), unix.SYS_SIGALTSTACK, 0, hdBad)
	// SS_DISABLE turns it off; the size check does not apply.
	e.m.u64s(0x100, 0, abi.SS_DISABLE, 0)
	e.want(0, unix.SYS_SIGALTSTACK, ss, 0)
	e.m.fill(0x200, 24, 0xff)
	e.want(0, unix.SYS_SIGALTSTACK, 0, oss)
	if flags := e.m.u64(oss + 8); flags != abi.SS_DISABLE {
		t.Errorf("flags after SS_DISABLE = %#x", flags)
	}
}

// ---------------------------------------------------------------------------
// 8. brk

func TestHandlersBrk(t *testing.T) {
	start := uint64(hdBrkStart)
	page0 := pageUp(start) // the first page brk maps
	type step struct {
		req, want uint64
		mapped    []uint64 // pages that must be mapped read-write after
		unmapped  []uint64 // pages that must not be mapped after
	}
	for _, c := range []struct {
		name  string
		setup func(e *hdEnv)
		steps []step
	}{
		{"query", nil, []step{{0, start, nil, []uint64{page0}}}},
		{"grow and shrink", nil, []step{
			{start + 0x5000, start + 0x5000, []uint64{page0, page0 + 0x4000}, []uint64{page0 + 0x5000}},
			{start + 0x5000, start + 0x5000, []uint64{page0 + 0x4000}, nil}, // same again
			{start + 0x1000, start + 0x1000, []uint64{page0}, []uint64{page0 + 0x1000, page0 + 0x4000}},
			{start + 0x10, start + 0x10, nil, []uint64{page0}}, // within the first page
			{start, start, nil, []uint64{page0}},
			{0, start, nil, nil},
		}},
		{"below the start", nil, []step{
			{start + 0x3000, start + 0x3000, []uint64{page0 + 0x2000}, nil},
			{start - 0x1000, start + 0x3000, []uint64{page0 + 0x2000}, nil},
			{1, start + 0x3000, nil, nil},
		}},
		{"above the limit", nil, []step{
			{hdBrkMax + 1, start, nil, []uint64{page0}},
			{hdBrkMax, hdBrkMax, []uint64{page0, pageUp(hdBrkMax) - hdPage}, nil},
		}},
		{"in the way of a mapping", func(e *hdEnv) {
			e.want(page0+0x2000, unix.SYS_MMAP, page0+0x2000, hdPage, unix.PROT_READ, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED, ^uint64(0), 0)
		}, []step{
			{start + 0x5000, start, nil, []uint64{page0, page0 + 0x1000}},
			{start + 0x2000, start + 0x2000, []uint64{page0, page0 + 0x1000}, nil},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newHdEnv(t, nil)
			if c.setup != nil {
				c.setup(e)
			}
			for i, s := range c.steps {
				before, prev := e.m.mappedPages(), e.p.mem.brk
				got := e.call(unix.SYS_BRK, s.req)
				if got != s.want {
					t.Fatalf("step %d: brk(%#x) = %s, want %#x", i, s.req, hdShow(got), s.want)
				}
				if got == prev && e.m.mappedPages() != before {
					t.Errorf("step %d: a refused brk changed the mappings (%d pages, were %d)", i, e.m.mappedPages(), before)
				}
				for _, p := range s.mapped {
					if pr := e.m.protAt(p); pr != hdRW {
						t.Errorf("step %d: page %#x prot %d, want read-write", i, p, pr)
					}
				}
				for _, p := range s.unmapped {
					if pr := e.m.protAt(p); pr != hdUnmapped {
						t.Errorf("step %d: page %#x mapped (prot %d)", i, p, pr)
					}
				}
			}
			// The mapping in the way is intact.
			if c.setup != nil && e.m.protAt(page0+0x2000) != unix.PROT_READ {
				t.Errorf("the mapping in the way became prot %d", e.m.protAt(page0+0x2000))
			}
		})
	}
	t.Run("regrown memory is zero", func(t *testing.T) {
		e := newHdEnv(t, nil)
		e.want(start+0x5000, unix.SYS_BRK, start+0x5000)
		// The new memory is usable by syscalls.
		e.want(0x5000, unix.SYS_GETRANDOM, start, 0x5000, 0)
		e.want(start, unix.SYS_BRK, start)
		e.want(start+0x5000, unix.SYS_BRK, start+0x5000)
		e.bytesAt(page0, make([]byte, 0x4000))
	})
}

// ---------------------------------------------------------------------------
// 9. mmap, munmap, mprotect

func TestHandlersMmapAnonymous(t *testing.T) {
	const anon = unix.MAP_PRIVATE | unix.MAP_ANONYMOUS
	e := newHdEnv(t, nil)
	before := e.m.mappedPages()
	addr := e.ok(unix.SYS_MMAP, 0, 0x3000, hdRW, anon, ^uint64(0), 0)
	if addr != StackTop-128<<20-0x3000 {
		t.Fatalf("mmap = %#x, want the top of the mmap area", addr)
	}
	if n := e.m.mappedPages(); n != before+3 {
		t.Fatalf("%d pages mapped, want %d", n, before+3)
	}
	for p := addr; p < addr+0x3000; p += hdPage {
		if pr := e.m.protAt(p); pr != hdRW {
			t.Errorf("page %#x prot %d, want read-write", p, pr)
		}
	}
	e.bytesAt(addr, make([]byte, 0x3000))
	// Usable memory: getrandom writes it.
	e.want(0x3000, unix.SYS_GETRANDOM, addr, 0x3000, 0)

	// munmap the middle page.
	e.want(0, unix.SYS_MUNMAP, addr+0x1000, 0x1000)
	if e.m.protAt(addr) != hdRW || e.m.protAt(addr+0x1000) != hdUnmapped || e.m.protAt(addr+0x2000) != hdRW {
		t.Fatalf("after munmap: prot %d %d %d", e.m.protAt(addr), e.m.protAt(addr+0x1000), e.m.protAt(addr+0x2000))
	}
	e.want(hdErr(unix.EFAULT), unix.SYS_GETRANDOM, addr+0x1000, 16, 0)
	e.want(16, unix.SYS_GETRANDOM, addr+0xff0, 32, 0) // straddles the hole: a short count

	// mprotect read-only: reads work, writes fault.
	e.want(0, unix.SYS_MPROTECT, addr, 0x1000, unix.PROT_READ)
	if pr := e.m.protAt(addr); pr != unix.PROT_READ {
		t.Fatalf("prot after mprotect = %d", pr)
	}
	e.want(hdErr(unix.EFAULT), unix.SYS_GETRANDOM, addr, 16, 0)
	e.want(hdErr(unix.EFAULT), unix.SYS_UNAME, addr)
	e.want(4, unix.SYS_WRITE, 1, addr, 4) // to the console: reads the page
	e.want(0, unix.SYS_MPROTECT, addr, 0x1000, unix.PROT_NONE)
	e.want(hdErr(unix.EFAULT), unix.SYS_WRITE, 1, addr, 4)
	e.want(0, unix.SYS_MPROTECT, addr+0x2000, 0x1000, hdRW)
	e.want(hdErr(unix.ENOMEM), unix.SYS_MPROTECT, addr, 0x3000, hdRW) // over the hole
	e.want(hdErr(unix.EINVAL), unix.SYS_MPROTECT, addr+1, 0x1000, hdRW)
	e.want(hdErr(unix.EINVAL), unix.SYS_MUNMAP, addr+1, 0x1000)
	e.want(hdErr(unix.EINVAL), unix.SYS_MUNMAP, addr, 0)
	e.want(0, unix.SYS_MUNMAP, addr, 0x3000)
	if n := e.m.mappedPages(); n != before {
		t.Errorf("%d pages mapped after munmap, want %d", n, before)
	}
}

func TestHandlersMmapPlacement(t *testing.T) {
	const anon = unix.MAP_PRIVATE | unix.MAP_ANONYMOUS
	hint := uint64(hdBase + 0x200000)
	for _, c := range []struct {
		name  string
		setup bool // map a page at hint first
		addr  uint64
		flags uint64
		want  uint64 // 0: wherever the fake put it (not hint)
		err   unix.Errno
	}{
		{"free hint is honoured", false, hint, anon, hint, 0},
		{"unaligned hint is rounded up", false, hint + 0x123, anon, hint + hdPage, 0}, // PAGE_ALIGN, as Linux
		{"busy hint is not", true, hint, anon, 0, 0},
		{"MAP_FIXED replaces", true, hint, anon | unix.MAP_FIXED, hint, 0},
		{"MAP_FIXED_NOREPLACE on a free range", false, hint, anon | unix.MAP_FIXED_NOREPLACE, hint, 0},
		{"MAP_FIXED_NOREPLACE on a busy range", true, hint, anon | unix.MAP_FIXED_NOREPLACE, 0, unix.EEXIST},
		{"MAP_SHARED anonymous", false, hint, unix.MAP_SHARED | unix.MAP_ANONYMOUS, hint, 0},
		{"neither shared nor private", false, 0, unix.MAP_ANONYMOUS, 0, unix.EINVAL},
		{"MAP_SHARED_VALIDATE anonymous", false, hint, unix.MAP_SHARED_VALIDATE | unix.MAP_ANONYMOUS, hint, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newHdEnv(t, nil)
			if c.setup {
				e.want(hint, unix.SYS_MMAP, hint, hdPage, unix.PROT_READ, anon|unix.MAP_FIXED, ^uint64(0), 0)
			}
			before := e.m.mappedPages()
			got := e.call(unix.SYS_MMAP, c.addr, 0x2000, hdRW, c.flags, ^uint64(0), 0)
			if c.err != 0 {
				if got != hdErr(c.err) {
					t.Fatalf("mmap = %s, want %s", hdShow(got), hdShow(hdErr(c.err)))
				}
				if n := e.m.mappedPages(); n != before {
					t.Errorf("a failed mmap left %d pages mapped, had %d", n, before)
				}
				return
			}
			if c.want != 0 && got != c.want || c.want == 0 && (got == hint || hdIsErr(got)) {
				t.Fatalf("mmap = %s, want %#x", hdShow(got), c.want)
			}
			if e.m.protAt(got) != hdRW || e.m.protAt(got+hdPage) != hdRW {
				t.Errorf("prot %d %d, want read-write", e.m.protAt(got), e.m.protAt(got+hdPage))
			}
			if c.setup && c.want == 0 && e.m.protAt(hint) != unix.PROT_READ {
				t.Errorf("the busy page changed to prot %d", e.m.protAt(hint))
			}
		})
	}
	t.Run("arguments", func(t *testing.T) {
		e := newHdEnv(t, nil)
		e.want(hdErr(unix.EINVAL), unix.SYS_MMAP, 0, 0, hdRW, anon, ^uint64(0), 0)
		e.want(hdErr(unix.EINVAL), unix.SYS_MMAP, 0, 0x1000, hdRW, anon, ^uint64(0), 0x123)
		e.want(hdErr(unix.ENOMEM), unix.SYS_MMAP, 0, 1<<40, hdRW, anon, ^uint64(0), 0)
		e.want(hdErr(unix.EBADF), unix.SYS_MMAP, 0, 0x1000, unix.PROT_READ, unix.MAP_PRIVATE, 77, 0)
		e.pipe(0)
		e.want(hdErr(unix.ENODEV), unix.SYS_MMAP, 0, 0x1000, unix.PROT_READ, unix.MAP_PRIVATE, hdR, 0)
	})
}

func TestHandlersMmapFile(t *testing.T) {
	e := newHdEnv(t, hdRoot(t))
	fd := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/etc/hello.txt"), unix.O_RDONLY)
	addr := e.ok(unix.SYS_MMAP, 0, 5000, unix.PROT_READ, unix.MAP_PRIVATE, fd, 0)
	want := append([]byte("hello, world\n"), make([]byte, 2*hdPage-13)...)
	e.bytesAt(addr, want)
	for p := addr; p < addr+2*hdPage; p += hdPage {
		if pr := e.m.protAt(p); pr != unix.PROT_READ {
			t.Errorf("page %#x prot %d, want PROT_READ", p, pr)
		}
	}
	// Past the page holding the end of the file: SIGBUS (filemap_test.go).
	addr2 := e.ok(unix.SYS_MMAP, 0, hdPage, unix.PROT_READ, unix.MAP_PRIVATE, fd, hdPage)
	if r := e.m.as.Fault(addr2, mm.Read); r != mm.FaultBus {
		t.Errorf("fault past the end = %v, want FaultBus", r)
	}
	e.want(hdErr(unix.EACCES), unix.SYS_MMAP, 0, hdPage, hdRW, unix.MAP_SHARED, fd, 0)
	dir := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/etc"), unix.O_RDONLY)
	e.want(hdErr(unix.ENODEV), unix.SYS_MMAP, 0, hdPage, unix.PROT_READ, unix.MAP_PRIVATE, dir, 0)
}

// ---------------------------------------------------------------------------
// 10. uname, getrandom, prlimit64, clock_gettime

func TestHandlersUname(t *testing.T) {
	e := newHdEnv(t, nil)
	buf := e.m.fill(0x1000, 6*65+1, 0xff)
	e.want(0, unix.SYS_UNAME, buf)
	for i, want := range []string{"Linux", "yolk", "6.1.0-yolk", "#1 SMP yolk", "x86_64", "(none)"} {
		field := append([]byte(want), make([]byte, 65-len(want))...)
		e.bytesAt(buf+uint64(65*i), field)
	}
	e.bytesAt(buf+6*65, []byte{0xff})
	e.want(hdErr(unix.EFAULT), unix.SYS_UNAME, hdBad)
	e.want(hdErr(unix.EFAULT), unix.SYS_UNAME, hdBase+hdScratch-6*65+1) // runs off the scratch
}

func TestHandlersGetrandom(t *testing.T) {
	e := newHdEnv(t, nil)
	want := make([]byte, 48)
	rand.NewChaCha8(hdSeed).Read(want)
	buf := e.m.fill(0x1000, 40, 0)
	e.want(32, unix.SYS_GETRANDOM, buf, 32, 0)
	e.bytesAt(buf, append(want[:32:32], make([]byte, 8)...))
	if bytes.Count(e.m.load(buf, 32), []byte{0}) > 4 {
		t.Errorf("getrandom gave mostly zeros")
	}
	e.want(16, unix.SYS_GETRANDOM, buf, 16, unix.GRND_NONBLOCK|unix.GRND_RANDOM)
	e.bytesAt(buf, want[32:48])
	e.want(0, unix.SYS_GETRANDOM, buf, 0, 0)
	e.want(hdErr(unix.EINVAL), unix.SYS_GETRANDOM, buf, 16, 0x100)
	e.want(hdErr(unix.EFAULT), unix.SYS_GETRANDOM, hdBad, 16, 0)
}

func TestHandlersPrlimit64(t *testing.T) {
	e := newHdEnv(t, nil)
	old, nw := hdAt(0x100), hdAt(0x200)
	limit := func(va uint64) [2]uint64 { return [2]uint64{e.m.u64(va), e.m.u64(va + 8)} }
	e.m.fill(0x100, 16, 0xff)
	e.want(0, unix.SYS_PRLIMIT64, 0, unix.RLIMIT_NOFILE, 0, old)
	if got := limit(old); got != [2]uint64{1024, 65536} {
		t.Fatalf("RLIMIT_NOFILE = %d, want [1024 65536]", got)
	}
	e.want(0, unix.SYS_GETRLIMIT, unix.RLIMIT_NOFILE, old)
	if got := limit(old); got != [2]uint64{1024, 65536} {
		t.Fatalf("getrlimit RLIMIT_NOFILE = %d", got)
	}
	// Lower the soft limit; the old value comes back.
	e.m.u64s(0x200, 256, 1024)
	e.m.fill(0x100, 16, 0xff)
	e.want(0, unix.SYS_PRLIMIT64, 1, unix.RLIMIT_NOFILE, nw, old)
	if got := limit(old); got != [2]uint64{1024, 65536} {
		t.Errorf("old = %d", got)
	}
	e.want(0, unix.SYS_PRLIMIT64, 0, unix.RLIMIT_NOFILE, 0, old)
	if got := limit(old); got != [2]uint64{256, 1024} {
		t.Errorf("after setting: %d, want [256 1024]", got)
	}
	for _, c := range []struct {
		name       string
		pid, res   uint64
		soft, hard uint64
		want       unix.Errno
	}{
		{"hard above nr_open", 0, unix.RLIMIT_NOFILE, 256, 1 << 20, unix.EPERM},
		{"soft above hard", 0, unix.RLIMIT_NOFILE, 512, 256, unix.EINVAL},
		{"another process", 2, unix.RLIMIT_NOFILE, 1, 1, unix.ESRCH},
		{"unknown resource", 0, 99, 1, 1, unix.EINVAL},
	} {
		e.m.u64s(0x200, c.soft, c.hard)
		if got := e.call(unix.SYS_PRLIMIT64, c.pid, c.res, nw, 0); got != hdErr(c.want) {
			t.Errorf("%s: prlimit64 = %s, want %s", c.name, hdShow(got), hdShow(hdErr(c.want)))
		}
	}
	e.want(0, unix.SYS_PRLIMIT64, 0, unix.RLIMIT_NOFILE, 0, old)
	if got := limit(old); got != [2]uint64{256, 1024} {
		t.Errorf("changed by failed calls: %d", got)
	}
	e.want(hdErr(unix.EFAULT), unix.SYS_PRLIMIT64, 0, unix.RLIMIT_NOFILE, hdBad, 0)
	e.want(hdErr(unix.EFAULT), unix.SYS_PRLIMIT64, 0, unix.RLIMIT_NOFILE, 0, hdBad)
	e.want(0, unix.SYS_PRLIMIT64, 0, unix.RLIMIT_STACK, 0, old)
	if got := limit(old); got != [2]uint64{StackSize, unix.RLIM_INFINITY} {
		t.Errorf("RLIMIT_STACK = %#x", got)
	}
}

func TestHandlersClockGettime(t *testing.T) {
	e := newHdEnv(t, nil)
	ts := hdAt(0x100)
	get := func(clock uint64) [2]uint64 {
		t.Helper()
		e.m.fill(0x100, 16, 0xff)
		e.want(0, unix.SYS_CLOCK_GETTIME, clock, ts)
		return [2]uint64{e.m.u64(ts), e.m.u64(ts + 8)}
	}
	// The fake's monotonic clock reads 5.999999 s, then 1 µs more each time.
	first := get(unix.CLOCK_MONOTONIC)
	second := get(unix.CLOCK_MONOTONIC)
	if first != [2]uint64{5, 999_999_000} || second != [2]uint64{6, 0} {
		t.Errorf("CLOCK_MONOTONIC = %d then %d, want [5 999999000] then [6 0]", first, second)
	}
	if second[0]*1e9+second[1] <= first[0]*1e9+first[1] {
		t.Errorf("CLOCK_MONOTONIC did not increase")
	}
	if got := get(unix.CLOCK_MONOTONIC_RAW); got != [2]uint64{6, 1000} {
		t.Errorf("CLOCK_MONOTONIC_RAW = %d", got)
	}
	if got := get(unix.CLOCK_REALTIME); got != [2]uint64{1_700_000_000, 123_456_789} {
		t.Errorf("CLOCK_REALTIME = %d", got)
	}
	e.want(hdErr(unix.EINVAL), unix.SYS_CLOCK_GETTIME, 99, ts)
	e.want(hdErr(unix.EFAULT), unix.SYS_CLOCK_GETTIME, unix.CLOCK_MONOTONIC, hdBad)
}

// TestHandlersProcTask lists /proc/self/task and reads a thread's status
// and stat: its own TID, the process's Tgid.
func TestHandlersProcTask(t *testing.T) {
	e := newHdEnv(t, hdRoot(t))
	t2 := e.newThread()
	pid, tid := e.p.pid, t2.tid
	dir := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/proc/self/task"), unix.O_RDONLY|unix.O_DIRECTORY)
	n := e.ok(unix.SYS_GETDENTS64, dir, hdAt(0x4000), 4096)
	var names []string
	for _, d := range hdDirents(t, e.m.load(hdAt(0x4000), n)) {
		names = append(names, d.name)
		if d.name != "." && d.name != ".." && d.typ != unix.DT_DIR {
			t.Errorf("task/%s has type %d, want a directory", d.name, d.typ)
		}
	}
	if want := fmt.Sprintf("[. .. %d %d]", pid, tid); fmt.Sprint(names) != want {
		t.Errorf("/proc/self/task lists %v, want %s", names, want)
	}
	read := func(name string) string {
		fd := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, name), unix.O_RDONLY)
		defer e.call(unix.SYS_CLOSE, fd)
		n := e.ok(unix.SYS_READ, fd, hdAt(0x2000), 1024)
		return string(e.m.load(hdAt(0x2000), n))
	}
	st := read(fmt.Sprintf("/proc/%d/task/%d/status", pid, tid))
	if !strings.Contains(st, fmt.Sprintf("\nTgid:\t%d\nPid:\t%d\n", pid, tid)) {
		t.Errorf("thread status:\n%s\nwant Tgid %d, Pid %d", st, pid, tid)
	}
	if s := read(fmt.Sprintf("/proc/self/task/%d/stat", tid)); !strings.HasPrefix(s, fmt.Sprintf("%d (prog) ", tid)) {
		t.Errorf("thread stat %q, want it to start with %d (prog)", s, tid)
	}
	if s := read("/proc/self/stat"); !strings.HasPrefix(s, fmt.Sprintf("%d (prog) ", pid)) {
		t.Errorf("process stat %q, want it to start with %d (prog)", s, pid)
	}
	e.want(hdErr(unix.ENOENT), unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, fmt.Sprintf("/proc/self/task/%d/task", tid)), unix.O_RDONLY)
	e.want(hdErr(unix.ENOENT), unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/proc/self/task/99999/stat"), unix.O_RDONLY)
}

// TestHandlersFchmodat2: fchmodat ignores a fourth register (it has no
// flags); fchmodat2 takes AT_SYMLINK_NOFOLLOW (EOPNOTSUPP on a symlink)
// and AT_EMPTY_PATH (the descriptor's file).
func TestHandlersFchmodat2(t *testing.T) {
	e := newHdEnv(t, hdRoot(t))
	mode := func(name string) uint32 {
		e.t.Helper()
		e.ok(unix.SYS_NEWFSTATAT, atFDCWD, e.m.cstr(0, name), hdAt(0x3000), unix.AT_SYMLINK_NOFOLLOW)
		return e.stat(hdAt(0x3000)).mode & 0o7777
	}
	e.want(0, unix.SYS_FCHMODAT, atFDCWD, e.m.cstr(0, "/etc/hello.txt"), 0o600, 0xdead)
	if m := mode("/etc/hello.txt"); m != 0o600 {
		t.Errorf("after fchmodat: %o, want 600", m)
	}
	e.want(0, unix.SYS_FCHMODAT2, atFDCWD, e.m.cstr(0, "/etc/hello.txt"), 0o640, unix.AT_SYMLINK_NOFOLLOW)
	if m := mode("/etc/hello.txt"); m != 0o640 {
		t.Errorf("after fchmodat2: %o, want 640", m)
	}
	e.want(hdErr(unix.EOPNOTSUPP), unix.SYS_FCHMODAT2, atFDCWD, e.m.cstr(0, "/etc/link"), 0o600, unix.AT_SYMLINK_NOFOLLOW)
	e.want(hdErr(unix.EINVAL), unix.SYS_FCHMODAT2, atFDCWD, e.m.cstr(0, "/etc/hello.txt"), 0o600, 0x10000)
	e.want(hdErr(unix.ENOENT), unix.SYS_FCHMODAT2, atFDCWD, e.m.cstr(0, ""), 0o600, 0)
	fd := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/etc/b"), unix.O_PATH)
	e.want(0, unix.SYS_FCHMODAT2, fd, e.m.cstr(0, ""), 0o604, unix.AT_EMPTY_PATH)
	if m := mode("/etc/b"); m != 0o604 {
		t.Errorf("after fchmodat2 AT_EMPTY_PATH: %o, want 604", m)
	}
}

// TestHandlersCopyFileRangeSelf: copying a file onto an overlapping range
// of itself is EINVAL (Go's os.File.ReadFrom relies on it); a range that
// does not overlap is copied.
func TestHandlersCopyFileRangeSelf(t *testing.T) {
	e := newHdEnv(t, hdRoot(t))
	fd := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/etc/hello.txt"), unix.O_RDWR)
	e.want(hdErr(unix.EINVAL), unix.SYS_COPY_FILE_RANGE, fd, 0, fd, 0, 12, 0)
	in, out := e.m.put(0x3000, make([]byte, 8)), e.m.put(0x3008, []byte{5, 0, 0, 0, 0, 0, 0, 0})
	e.want(hdErr(unix.EINVAL), unix.SYS_COPY_FILE_RANGE, fd, in, fd, out, 10, 0)
	e.m.put(0x3008, []byte{100, 0, 0, 0, 0, 0, 0, 0})
	e.want(13, unix.SYS_COPY_FILE_RANGE, fd, in, fd, out, 13, 0)
	if got := e.m.u64(out); got != 113 {
		t.Errorf("out offset %d after the copy, want 113", got)
	}
	e.want(4, unix.SYS_PREAD64, fd, hdAt(0x4000), 4, 100)
	e.bytesAt(hdAt(0x4000), []byte("hell"))
}

// TestHandlersSendfileShortWrite: sendfile into a nearly full
// non-blocking pipe moves the file position by what the pipe took, and
// by nothing when it takes nothing (EAGAIN), so no byte is lost.
func TestHandlersSendfileShortWrite(t *testing.T) {
	e := newHdEnv(t, hdRoot(t))
	e.pipe(unix.O_NONBLOCK)
	big := e.m.fill(0x10000, pipeSize-5000, 'q')
	e.want(pipeSize-5000, unix.SYS_WRITE, hdW, big, pipeSize-5000)
	fd := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/tmp-data"), unix.O_RDWR|unix.O_CREAT, 0o644)
	data := make([]byte, 10000)
	for i := range data {
		data[i] = byte('a' + i%26)
	}
	e.want(10000, unix.SYS_WRITE, fd, e.m.put(0x30000, data), 10000)
	e.want(0, unix.SYS_LSEEK, fd, 0, unix.SEEK_SET)
	// A write above PIPE_BUF may be short: the pipe takes 5000 bytes.
	e.want(5000, unix.SYS_SENDFILE, hdW, fd, 0, 10000)
	e.want(hdErr(unix.EAGAIN), unix.SYS_SENDFILE, hdW, fd, 0, 10000)
	e.want(5000, unix.SYS_LSEEK, fd, 0, unix.SEEK_CUR)
	e.want(pipeSize, unix.SYS_READ, hdR, big, pipeSize)
	e.bytesAt(big+pipeSize-5000, data[:5000])
	e.want(5000, unix.SYS_SENDFILE, hdW, fd, 0, 10000)
	e.want(5000, unix.SYS_READ, hdR, big, 10000)
	e.bytesAt(big, data[5000:])
	off := e.m.put(0x3000, []byte{100, 0, 0, 0, 0, 0, 0, 0})
	e.want(9900, unix.SYS_SENDFILE, hdW, fd, off, 10000)
	if got := e.m.u64(off); got != 10000 {
		t.Errorf("offset after sendfile = %d, want 10000", got)
	}
	e.want(10000, unix.SYS_LSEEK, fd, 0, unix.SEEK_CUR) // the position is untouched with an offset
	e.want(9900, unix.SYS_READ, hdR, big, 10000)
	e.bytesAt(big, data[100:])
	e.want(hdErr(unix.EINVAL), unix.SYS_SENDFILE, fd, hdR, 0, 100) // from a pipe: EINVAL, as sendfile(2) says
}

// TestHandlersSmallIOScratch: reads and writes on a pipe go through the
// thread's own bounce buffer when small and a pooled one (ioPool) up to
// ioChunk, so neither makes a new buffer, and both move the bytes alike
// (data, then the count, in both directions).
func TestHandlersSmallIOScratch(t *testing.T) {
	e := newHdEnv(t, nil)
	e.pipe(0)
	msg := bytes.Repeat([]byte("0123456789abcdef"), 256) // 4 KiB
	src, dst := e.m.put(0x100, msg), hdAt(0x2000)
	roundTrip := func(n uint64) {
		e.want(n, unix.SYS_WRITE, hdW, src, n)
		e.want(n, unix.SYS_READ, hdR, dst, n)
	}
	for _, n := range []uint64{1, smallIO, smallIO + 1, uint64(len(msg))} {
		roundTrip(n)
		if got := e.m.load(dst, n); !bytes.Equal(got, msg[:n]) {
			t.Fatalf("%d bytes through the pipe: got %q", n, got)
		}
	}
	// The pipe itself may allocate; a larger pair must not add to it.
	small := testing.AllocsPerRun(50, func() { roundTrip(smallIO) })
	for _, n := range []uint64{smallIO + 1, uint64(len(msg))} {
		if a := testing.AllocsPerRun(50, func() { roundTrip(n) }); a > small {
			t.Errorf("a %d-byte write and read allocate %v times, a %d-byte pair %v: a bounce buffer was made, not reused",
				n, a, smallIO, small)
		}
	}
}

// TestHandlersCloseDuringRead: a descriptor closed by one thread while
// another blocks reading it only goes away from the table; the read goes
// on with the file (Linux's fdget reference) and gets what is written
// next, and the file is released when the read ends (the write end then
// sees no reader: EPIPE).
func TestHandlersCloseDuringRead(t *testing.T) {
	e := newHdEnv(t, nil)
	e.pipe(0)
	reader := e.newThread()
	got := make(chan uint64, 1)
	go func() { got <- reader.dispatch(unix.SYS_READ, Args{hdR, hdAt(0x200), 16}) }()
	time.Sleep(20 * time.Millisecond) // the reader waits in the pipe
	e.want(0, unix.SYS_CLOSE, hdR)
	e.want(hdErr(unix.EBADF), unix.SYS_FCNTL, hdR, unix.F_GETFD)
	src := e.m.put(0x100, []byte("x"))
	e.want(1, unix.SYS_WRITE, hdW, src, 1)
	select {
	case v := <-got:
		if v != 1 {
			t.Fatalf("the read in progress = %s, want 1", hdShow(v))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the read in progress never got the byte written after the close")
	}
	e.bytesAt(hdAt(0x200), []byte("x"))
	e.want(hdErr(unix.EPIPE), unix.SYS_WRITE, hdW, src, 1)
}
