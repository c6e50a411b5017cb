package syscallshim

import (
	"encoding/binary"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"yolk/vfs"
)

// File and path system calls over the VFS (namespace.go): the handlers
// decode arguments and copy to and from the program; path resolution,
// permissions and every namespace errno are the VFS's.

// atFDCWD is AT_FDCWD (-100) as a raw argument.
const atFDCWD = ^uint64(99)

// Constants x/sys/unix lacks on amd64 (asm-generic/ioctls.h, fcntl.h).
const (
	atStatxSyncType = 0x6000
	fionread        = 0x541b
	fionbio         = 0x5421
	fionclex        = 0x5450
	fioclex         = 0x5451
)

// vctx is the thread's view of the namespace: credentials, working
// directory, umask.
func (t *Thread) vctx() *vfs.Context {
	p := t.p
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.cred
	return &vfs.Context{
		Cred:  vfs.Cred{UID: c.fsuid, GID: c.fsgid, Groups: c.groups},
		Cwd:   p.cwd,
		Umask: p.umask,
	}
}

// at returns the starting point of an *at call: the working directory
// (the zero Path) for AT_FDCWD, else the directory dirfd names.
func (t *Thread) at(dirfd uint64) (vfs.Path, error) {
	if int32(dirfd) == unix.AT_FDCWD {
		return vfs.Path{}, nil
	}
	f, err := t.file(dirfd)
	if err != nil {
		return vfs.Path{}, err
	}
	return f.Path(), nil
}

// procSelf rewrites the names that mean the caller: /proc/self and
// /proc/thread-self, and /dev/fd, /dev/stdin, /dev/stdout, /dev/stderr
// (links to /proc/self/fd), to /proc/PID. The VFS cannot tell who walks.
func (t *Thread) procSelf(p string) string {
	if !strings.HasPrefix(p, "/proc/") && !strings.HasPrefix(p, "/dev/") {
		return p // most paths: no name to build
	}
	pid := "/proc/" + strconv.Itoa(int(t.p.pid))
	for _, pre := range []string{"/proc/self", "/proc/thread-self"} {
		if p == pre || strings.HasPrefix(p, pre+"/") {
			return pid + p[len(pre):]
		}
	}
	switch p {
	case "/dev/stdin":
		return pid + "/fd/0"
	case "/dev/stdout":
		return pid + "/fd/1"
	case "/dev/stderr":
		return pid + "/fd/2"
	}
	if strings.HasPrefix(p, "/dev/fd/") || p == "/dev/fd" {
		return pid + "/fd" + p[len("/dev/fd"):]
	}
	return p
}

// pathArg reads a path argument and rewrites /proc/self.
func (t *Thread) pathArg(va uint64) (string, error) {
	p, err := t.readPath(va)
	if err != nil {
		return "", err
	}
	return t.procSelf(p), nil
}

// fdLink splits /proc/PID/fd/N, whose open reopens that descriptor's
// file (a "magic link"), into PID and N, both decimal digits. (A regular
// expression did this: it was compiled at every boot and run at every
// open.)
func fdLink(name string) (pid, n string, ok bool) {
	rest, ok := strings.CutPrefix(name, "/proc/")
	if !ok {
		return "", "", false
	}
	pid, n, ok = strings.Cut(rest, "/fd/")
	if !ok || !decimalDigits(pid) || !decimalDigits(n) {
		return "", "", false
	}
	return pid, n, true
}

// decimalDigits says whether s is one or more of 0-9.
func decimalDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// open returns descriptor n's file if it was opened for reading (or
// writing): EBADF otherwise, as read(2) and write(2) say.
func (t *Thread) open(n uint64, write bool) (*vfs.File, error) {
	f, err := t.file(n)
	if err != nil {
		return nil, err
	}
	mode := f.Flags() & unix.O_ACCMODE
	if f.Flags()&unix.O_PATH != 0 || (write && mode == unix.O_RDONLY) || (!write && mode == unix.O_WRONLY) {
		return nil, unix.EBADF
	}
	return f, nil
}

func sysRead(t *Thread, a Args) (uint64, error) {
	d, err := t.open(a[0], false)
	if err != nil {
		return 0, err
	}
	t.noteFastFD(a[0], d)
	return t.readTo(d, t.single(a[1], a[2]), -1)
}

// read reads from d's file; a console or pipe read ends with EINTR only
// for a signal waiting for this thread.
func (t *Thread) read(f *vfs.File, b []byte) (int, error) {
	if f.Flags()&unix.O_ACCMODE == unix.O_WRONLY || f.Flags()&unix.O_PATH != 0 {
		return 0, unix.EBADF
	}
	switch s := streamOf(f).(type) {
	case *pipeEnd:
		return s.read(b, t)
	case *socket:
		n, _, err := s.recv(t, b, 0)
		return n, err
	case interruptibleReader:
		return s.read(b, t.interrupting)
	}
	return f.Read(b)
}

func sysWrite(t *Thread, a Args) (uint64, error) {
	d, err := t.open(a[0], true)
	if err != nil {
		return 0, err
	}
	t.noteFastFD(a[0], d)
	return t.writeFrom(d, t.single(a[1], a[2]))
}

// write writes b to d's file; a write to a pipe without readers also
// raises SIGPIPE, as on Linux.
func (t *Thread) write(f *vfs.File, b []byte) (uint64, error) {
	var n int
	var err error
	if e, ok := streamOf(f).(*pipeEnd); ok && f.Flags()&unix.O_ACCMODE != unix.O_RDONLY {
		n, err = e.writeT(b, t)
	} else if so, ok := streamOf(f).(*socket); ok {
		n, err = so.send(t, b, 0, nil, nil, nil)
	} else {
		n, err = f.Write(b)
		t.p.sys.afterWrite(f, -1, b[:max(n, 0)]) // mapped files: filemap.go
	}
	if err == unix.EPIPE {
		t.sendSignal(t, int(unix.SIGPIPE), sigInfo{code: siUser, pid: t.p.pid})
	}
	return uint64(n), err
}

// ioChunk is how much one step of a read or write moves between the
// program and a file: handlers copy through a kernel buffer of at most
// this size and never hold program memory across a wait.
const ioChunk = 64 << 10

// maxRW is Linux's MAX_RW_COUNT: longer transfers are shortened to it.
const maxRW = 0x7ffff000

// readTo reads from d into the program's buffers seq, chunk by chunk
// (at off with pread semantics when off >= 0). Files that may return
// more after a full chunk (regular files, devices) are read until seq is
// full or a read comes up short; pipes and the console give one chunk.
// A fault in seq ends the transfer: what was copied counts, else EFAULT.
func (t *Thread) readTo(d *vfs.File, seq ioseq, off int64) (uint64, error) {
	n := min(seq.total, maxRW)
	buf, pooled := t.ioBuffer(d, min(n, ioChunk))
	defer putIOBuffer(pooled)
	done := uint64(0)
	if _, ok := streamOf(d).(*pipeEnd); !ok {
		t.p.sys.beforeRead(d) // mapped files: filemap.go
	}
	for {
		c := buf[:min(n-done, uint64(len(buf)))]
		var got int
		var err error
		if off >= 0 {
			got, err = d.Pread(c, off+int64(done))
		} else {
			got, err = t.read(d, c)
		}
		if got > 0 {
			w, cerr := seq.copyOut(done, c[:got])
			done += uint64(w)
			if cerr != nil {
				if done > 0 {
					return done, nil
				}
				return 0, cerr
			}
		}
		if err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		if got < len(c) || done == n || !streams(d) {
			return done, nil
		}
	}
}

// streams reports whether a full read of f may be followed by more data
// at once (so a large read keeps going): regular files and devices.
func streams(f *vfs.File) bool {
	switch streamOf(f).(type) {
	case nil, *device:
		return true
	}
	return false
}

// writeFrom writes the program's buffers seq to d, chunk by chunk. A
// fault in seq ends the transfer with what was written, else EFAULT.
func (t *Thread) writeFrom(d *vfs.File, seq ioseq) (uint64, error) {
	n := min(seq.total, maxRW)
	if dv, ok := streamOf(d).(*device); ok && (dv.rdev == rdevNull || dv.rdev == rdevZero) {
		// Linux's /dev/null and /dev/zero take the count without
		// reading the buffer: an unmapped one is no error.
		return n, nil
	}
	buf, pooled := t.ioBuffer(d, min(n, ioChunk))
	defer putIOBuffer(pooled)
	done := uint64(0)
	for done < n || n == 0 {
		c := buf[:min(n-done, uint64(len(buf)))]
		got, cerr := seq.copyIn(done, c)
		if cerr != nil && got == 0 {
			if done > 0 {
				return done, nil
			}
			return 0, cerr
		}
		w, err := t.write(d, c[:got])
		done += w
		if err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		if w < uint64(got) || cerr != nil || n == 0 {
			break
		}
	}
	return done, nil
}

// smallIO is the size of the transfers that go through the thread's own
// bounce buffer instead of a new one.
const smallIO = 256

// ioBuffer returns a bounce buffer of n bytes for a transfer with d. A
// regular file, a pipe or a device is done with the buffer when its read
// or write returns: a small transfer with one uses the thread's own, a
// larger one a buffer from ioPool, which the caller gives back with
// putIOBuffer(pooled) (not zeroed: every byte the program sees was
// written first). Others get a new one (a console read that a signal
// interrupts, or a socket, may hand the buffer to another goroutine).
func (t *Thread) ioBuffer(d *vfs.File, n uint64) (buf []byte, pooled *[ioChunk]byte) {
	switch streamOf(d).(type) {
	case nil, *pipeEnd, *device:
		if n <= smallIO {
			return t.ioScratch[:n], nil
		}
		if n <= ioChunk {
			p := ioPool.Get().(*[ioChunk]byte)
			return p[:n], p
		}
	}
	return make([]byte, n), nil
}

// ioPool holds the buffers of ioBuffer's larger transfers: a 4 KiB
// pread made a new zeroed buffer every call (sqlite reads its pages so).
var ioPool = sync.Pool{New: func() any { return new([ioChunk]byte) }}

func putIOBuffer(p *[ioChunk]byte) {
	if p != nil {
		ioPool.Put(p)
	}
}

// ioseq is the program's side of a transfer: a sequence of buffers
// (one for read and write, the iovecs for readv and writev), reached
// only through the copy layer.
type ioseq struct {
	t     *Thread
	v     []iovec
	total uint64
}

func (t *Thread) single(base, n uint64) ioseq {
	return ioseq{t: t, v: []iovec{{base, n}}, total: n}
}

func (t *Thread) iovecs(va, n uint64) (ioseq, error) {
	v, err := t.readIovecs(va, n)
	if err != nil {
		return ioseq{}, err
	}
	s := ioseq{t: t, v: v}
	for _, x := range v {
		s.total += x.len
	}
	return s, nil
}

// each calls fn for the pieces of [off, off+n) in program memory, in
// order, until fn fails; it returns the bytes fn handled.
func (s ioseq) each(off uint64, n int, fn func(va uint64, b0, b1 int) (int, error)) (int, error) {
	done := 0
	for _, v := range s.v {
		if done == n {
			break
		}
		if off >= v.len {
			off -= v.len
			continue
		}
		c := int(min(v.len-off, uint64(n-done)))
		m, err := fn(v.base+off, done, done+c)
		done += m
		if err != nil {
			return done, err
		}
		off = 0
	}
	return done, nil
}

func (s ioseq) copyOut(off uint64, b []byte) (int, error) {
	as := s.t.as()
	return s.each(off, len(b), func(va uint64, b0, b1 int) (int, error) { return as.CopyOut(va, b[b0:b1]) })
}

func (s ioseq) copyIn(off uint64, b []byte) (int, error) {
	as := s.t.as()
	return s.each(off, len(b), func(va uint64, b0, b1 int) (int, error) { return as.CopyIn(va, b[b0:b1]) })
}

func sysReadv(t *Thread, a Args) (uint64, error) {
	d, err := t.open(a[0], false)
	if err != nil {
		return 0, err
	}
	seq, err := t.iovecs(a[1], a[2])
	if err != nil {
		return 0, err
	}
	return t.readTo(d, seq, -1)
}

func sysWritev(t *Thread, a Args) (uint64, error) {
	d, err := t.open(a[0], true)
	if err != nil {
		return 0, err
	}
	seq, err := t.iovecs(a[1], a[2])
	if err != nil {
		return 0, err
	}
	return t.writeFrom(d, seq)
}

func sysPread64(t *Thread, a Args) (uint64, error) {
	d, err := t.file(a[0])
	if err != nil {
		return 0, err
	}
	if int64(a[3]) < 0 {
		return 0, unix.EINVAL
	}
	return t.readTo(d, t.single(a[1], a[2]), int64(a[3]))
}

func sysPwrite64(t *Thread, a Args) (uint64, error) {
	f, err := t.open(a[0], true)
	if err != nil {
		return 0, err
	}
	if int64(a[3]) < 0 {
		return 0, unix.EINVAL
	}
	n := min(a[2], maxRW)
	buf, pooled := t.ioBuffer(f, min(n, ioChunk))
	defer putIOBuffer(pooled)
	done := uint64(0)
	for done < n || n == 0 {
		c := buf[:min(n-done, uint64(len(buf)))]
		got, cerr := t.as().CopyIn(a[1]+done, c)
		if cerr != nil && got == 0 {
			if done > 0 {
				return done, nil
			}
			return 0, cerr
		}
		w, err := f.Pwrite(c[:got], int64(a[3]+done))
		t.p.sys.afterWrite(f, int64(a[3]+done), c[:max(w, 0)]) // mapped files: filemap.go
		done += uint64(w)
		if err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		if w < got || cerr != nil || n == 0 {
			break
		}
	}
	return done, nil
}

func sysOpen(t *Thread, a Args) (uint64, error) {
	return t.openat(atFDCWD, a[0], vfs.OpenHow{Flags: int(a[1]), Mode: uint32(a[2]) & 0o7777}, false)
}

func sysOpenat(t *Thread, a Args) (uint64, error) {
	return t.openat(a[0], a[1], vfs.OpenHow{Flags: int(a[2]), Mode: uint32(a[3]) & 0o7777}, false)
}

func sysCreat(t *Thread, a Args) (uint64, error) {
	return t.openat(atFDCWD, a[0], vfs.OpenHow{Flags: unix.O_CREAT | unix.O_WRONLY | unix.O_TRUNC, Mode: uint32(a[1]) & 0o7777}, false)
}

// sysOpenat2 implements openat2(2): struct open_how {flags, mode, resolve}.
func sysOpenat2(t *Thread, a Args) (uint64, error) {
	if a[3] < 24 || a[3] > 4096 {
		return 0, unix.EINVAL
	}
	b, err := t.copyIn(a[2], a[3])
	if err != nil {
		return 0, err
	}
	for _, c := range b[24:] {
		if c != 0 {
			return 0, unix.E2BIG
		}
	}
	le := binary.LittleEndian
	how := vfs.OpenHow{Flags: int(le.Uint64(b)), Mode: uint32(le.Uint64(b[8:])), Resolve: le.Uint64(b[16:])}
	if le.Uint64(b) > 1<<32 || le.Uint64(b[8:]) > 0o7777 {
		return 0, unix.EINVAL
	}
	return t.openat(a[0], a[1], how, true)
}

func (t *Thread) openat(dirfd, pathp uint64, how vfs.OpenHow, two bool) (uint64, error) {
	name, err := t.pathArg(pathp)
	if err != nil {
		return 0, err
	}
	if pid, n, ok := fdLink(name); ok {
		if f, ok := t.magicOpen(pid, n); ok {
			return t.installFile(f, how.Flags)
		}
	}
	at, err := t.at(dirfd)
	if err != nil {
		return 0, err
	}
	v := t.p.sys.vfs
	var f *vfs.File
	if two {
		f, err = v.Openat2(t.vctx(), at, name, how)
	} else {
		f, err = v.Openat(t.vctx(), at, name, how)
	}
	if err != nil {
		return 0, err
	}
	if how.Flags&unix.O_TRUNC != 0 {
		t.p.sys.afterTruncate(f) // mapped files: filemap.go
	}
	n, err := t.p.files.installNew(f, how.Flags&unix.O_CLOEXEC != 0)
	return uint64(n), err
}

// magicOpen opens /proc/PID/fd/N for a file without a name (a pipe, an
// eventfd...): the same open file, as Linux's magic links give. Files
// with a name are opened again by it, through the VFS.
func (t *Thread) magicOpen(pidS, fdS string) (*vfs.File, bool) {
	q := t.p.sys.liveProcess(pidS)
	n, err := strconv.Atoi(fdS)
	if q == nil || err != nil {
		return nil, false
	}
	q.mu.Lock()
	files := q.files
	q.mu.Unlock()
	if files == nil {
		return nil, false
	}
	f, err := files.file(uint64(n))
	if err != nil || !f.Path().IsZero() {
		return nil, false
	}
	return f, true
}

// installFile installs another reference to f (an fd reopened through a
// magic link).
func (t *Thread) installFile(f *vfs.File, flags int) (uint64, error) {
	n, err := t.p.files.install(f, flags&unix.O_CLOEXEC != 0, 0)
	return uint64(n), err
}

// sysClose implements close(2); as POSIX says, closing any descriptor of
// a file drops the process's record locks on it.
func sysClose(t *Thread, a Args) (uint64, error) {
	f, err := t.file(a[0])
	if err != nil {
		return 0, err
	}
	p := f.Path()
	if err := t.p.files.close(a[0]); err != nil {
		return 0, err
	}
	if !p.IsZero() {
		t.p.sys.locks.releaseOwner(t.p, p.Inode())
	}
	return 0, nil
}

// sysCloseRange implements close_range(2) (CLOSE_RANGE_CLOEXEC too).
func sysCloseRange(t *Thread, a Args) (uint64, error) {
	first, last, flags := a[0], a[1], a[2]
	if flags&^(unix.CLOSE_RANGE_CLOEXEC|unix.CLOSE_RANGE_UNSHARE) != 0 || first > last {
		return 0, unix.EINVAL
	}
	for n := first; n <= min(last, uint64(t.p.files.size())-1); n++ {
		if flags&unix.CLOSE_RANGE_CLOEXEC != 0 {
			if d, err := t.p.files.get(n); err == nil {
				d.cloexec = true
			}
			continue
		}
		t.p.files.close(n)
	}
	return 0, nil
}

func (t *Thread) putStat(va uint64, s vfs.Stat) error {
	st := s.StatT()
	var b [144]byte
	le := binary.LittleEndian
	le.PutUint64(b[0:], st.Dev)
	le.PutUint64(b[8:], st.Ino)
	le.PutUint64(b[16:], st.Nlink)
	le.PutUint32(b[24:], st.Mode)
	le.PutUint32(b[28:], st.Uid)
	le.PutUint32(b[32:], st.Gid)
	le.PutUint64(b[40:], st.Rdev)
	le.PutUint64(b[48:], uint64(st.Size))
	le.PutUint64(b[56:], uint64(st.Blksize))
	le.PutUint64(b[64:], uint64(st.Blocks))
	for i, ts := range []unix.Timespec{st.Atim, st.Mtim, st.Ctim} {
		le.PutUint64(b[72+16*i:], uint64(ts.Sec))
		le.PutUint64(b[80+16*i:], uint64(ts.Nsec))
	}
	return t.copyOut(va, b[:])
}

func sysFstat(t *Thread, a Args) (uint64, error) {
	f, err := t.file(a[0])
	if err != nil {
		return 0, err
	}
	s, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return 0, t.putStat(a[1], s)
}

// statPath is the stat of a path (the *at flags AT_SYMLINK_NOFOLLOW and
// AT_EMPTY_PATH), or of dirfd itself with an empty path.
func (t *Thread) statPath(dirfd, pathp, flags uint64) (vfs.Stat, error) {
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH|unix.AT_NO_AUTOMOUNT|atStatxSyncType) != 0 {
		return vfs.Stat{}, unix.EINVAL
	}
	name, err := t.pathArg(pathp)
	if err != nil {
		return vfs.Stat{}, err
	}
	if name == "" && flags&unix.AT_EMPTY_PATH != 0 && int32(dirfd) != unix.AT_FDCWD {
		f, err := t.file(dirfd)
		if err != nil {
			return vfs.Stat{}, err
		}
		return f.Stat()
	}
	at, err := t.at(dirfd)
	if err != nil {
		return vfs.Stat{}, err
	}
	return t.p.sys.vfs.Statat(t.vctx(), at, name, int(flags))
}

func sysStat(t *Thread, a Args) (uint64, error) {
	s, err := t.statPath(atFDCWD, a[0], 0)
	if err != nil {
		return 0, err
	}
	return 0, t.putStat(a[1], s)
}

func sysLstat(t *Thread, a Args) (uint64, error) {
	s, err := t.statPath(atFDCWD, a[0], unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		return 0, err
	}
	return 0, t.putStat(a[1], s)
}

func sysNewfstatat(t *Thread, a Args) (uint64, error) {
	s, err := t.statPath(a[0], a[1], a[3])
	if err != nil {
		return 0, err
	}
	return 0, t.putStat(a[2], s)
}

// sysStatx implements statx(2): every basic field and the birth time.
func sysStatx(t *Thread, a Args) (uint64, error) {
	s, err := t.statPath(a[0], a[1], a[2])
	if err != nil {
		return 0, err
	}
	x := s.Statx()
	var b [256]byte
	le := binary.LittleEndian
	le.PutUint32(b[0:], x.Mask)
	le.PutUint32(b[4:], x.Blksize)
	le.PutUint64(b[8:], x.Attributes)
	le.PutUint32(b[16:], x.Nlink)
	le.PutUint32(b[20:], x.Uid)
	le.PutUint32(b[24:], x.Gid)
	le.PutUint16(b[28:], x.Mode)
	le.PutUint64(b[32:], x.Ino)
	le.PutUint64(b[40:], x.Size)
	le.PutUint64(b[48:], x.Blocks)
	le.PutUint64(b[56:], x.Attributes_mask)
	for i, ts := range []unix.StatxTimestamp{x.Atime, x.Btime, x.Ctime, x.Mtime} {
		le.PutUint64(b[64+16*i:], uint64(ts.Sec))
		le.PutUint32(b[72+16*i:], ts.Nsec)
	}
	le.PutUint32(b[128:], x.Rdev_major)
	le.PutUint32(b[132:], x.Rdev_minor)
	le.PutUint32(b[136:], x.Dev_major)
	le.PutUint32(b[140:], x.Dev_minor)
	return 0, t.copyOut(a[4], b[:])
}

func sysLseek(t *Thread, a Args) (uint64, error) {
	f, err := t.file(a[0])
	if err != nil {
		return 0, err
	}
	off, err := f.Seek(int64(a[1]), int(a[2]))
	return uint64(off), err
}

// sysGetdents64 implements getdents64(2): a buffer too small for the
// next entry is EINVAL; a fault in the buffer is EFAULT and the entries
// stay unread (the directory's position goes back).
func sysGetdents64(t *Thread, a Args) (uint64, error) {
	f, err := t.file(a[0])
	if err != nil {
		return 0, err
	}
	if !userRange(a[1], a[2]) {
		return 0, unix.EFAULT
	}
	start := f.Offset()
	var out []byte
	offered := false
	err = f.ReadDir(func(d vfs.Dirent) bool {
		offered = true
		reclen := (19 + len(d.Name) + 1 + 7) &^ 7
		if uint64(len(out)+reclen) > a[2] {
			return false
		}
		rec := make([]byte, reclen)
		le := binary.LittleEndian
		le.PutUint64(rec[0:], d.Ino)
		le.PutUint64(rec[8:], uint64(d.Off))
		le.PutUint16(rec[16:], uint16(reclen))
		rec[18] = d.Type
		copy(rec[19:], d.Name)
		out = append(out, rec...)
		return true
	})
	if err != nil {
		return 0, err
	}
	if len(out) == 0 && offered {
		return 0, unix.EINVAL // the next entry does not fit
	}
	if err := t.copyOut(a[1], out); err != nil {
		f.Seek(start, unix.SEEK_SET)
		return 0, err
	}
	return uint64(len(out)), nil
}

func (t *Thread) access(dirfd, pathp, mode, flags uint64) (uint64, error) {
	name, err := t.pathArg(pathp)
	if err != nil {
		return 0, err
	}
	if mode&^7 != 0 {
		return 0, unix.EINVAL
	}
	at, err := t.at(dirfd)
	if err != nil {
		return 0, err
	}
	return 0, t.p.sys.vfs.Accessat(t.vctx(), at, name, uint32(mode), int(flags))
}

func sysAccess(t *Thread, a Args) (uint64, error) {
	return t.access(atFDCWD, a[0], a[1], 0)
}

func sysFaccessat(t *Thread, a Args) (uint64, error) {
	return t.access(a[0], a[1], a[2], 0)
}

func sysFaccessat2(t *Thread, a Args) (uint64, error) {
	return t.access(a[0], a[1], a[2], a[3])
}

func (t *Thread) readlink(dirfd, pathp, buf, size uint64) (uint64, error) {
	p, err := t.readPath(pathp)
	if err != nil {
		return 0, err
	}
	if int64(size) <= 0 {
		return 0, unix.EINVAL
	}
	var target string
	switch p {
	case "/proc/self", "/proc/thread-self":
		target = strconv.Itoa(int(t.p.pid))
	default:
		at, err := t.at(dirfd)
		if err != nil {
			return 0, err
		}
		target, err = t.p.sys.vfs.Readlinkat(t.vctx(), at, t.procSelf(p))
		if err != nil {
			return 0, err
		}
	}
	b := []byte(target)
	if uint64(len(b)) > size {
		b = b[:size] // readlink truncates silently
	}
	return uint64(len(b)), t.copyOut(buf, b)
}

func sysReadlink(t *Thread, a Args) (uint64, error) {
	return t.readlink(atFDCWD, a[0], a[1], a[2])
}

func sysReadlinkat(t *Thread, a Args) (uint64, error) {
	return t.readlink(a[0], a[1], a[2], a[3])
}

func sysGetcwd(t *Thread, a Args) (uint64, error) {
	b := append([]byte(t.p.cwdName()), 0)
	if uint64(len(b)) > a[1] {
		return 0, unix.ERANGE
	}
	return uint64(len(b)), t.copyOut(a[0], b)
}

// chdir makes p the working directory: a directory the caller may
// search.
func (t *Thread) chdir(p vfs.Path) error {
	if !p.Dentry.IsDir() {
		return unix.ENOTDIR
	}
	st := p.Inode().Stat()
	c := t.vctx()
	if !c.Cred.Permits(&st, vfs.MayExec) {
		return unix.EACCES
	}
	t.p.mu.Lock()
	t.p.cwd = p
	t.p.mu.Unlock()
	return nil
}

func sysChdir(t *Thread, a Args) (uint64, error) {
	name, err := t.pathArg(a[0])
	if err != nil {
		return 0, err
	}
	p, err := t.p.sys.vfs.Lookup(t.vctx(), vfs.Path{}, name, 0)
	if err != nil {
		return 0, err
	}
	return 0, t.chdir(p)
}

func sysFchdir(t *Thread, a Args) (uint64, error) {
	f, err := t.file(a[0])
	if err != nil {
		return 0, err
	}
	if f.Path().IsZero() {
		return 0, unix.ENOTDIR
	}
	return 0, t.chdir(f.Path())
}

// sysIoctl implements the terminal ioctls on the console: TCGETS and
// TCSETS* (the line discipline in tty.go honours ICRNL, ICANON, ECHO,
// ISIG and the erase, kill, EOF and interrupt characters), TIOCGWINSZ
// (24x80), the foreground process group. Other files: ENOTTY.
func sysIoctl(t *Thread, a Args) (uint64, error) {
	f, err := t.file(a[0])
	if err != nil {
		return 0, err
	}
	switch a[1] {
	case fionbio:
		on, err := t.get32(a[2])
		if err != nil {
			return 0, err
		}
		fl := f.Flags() &^ unix.O_NONBLOCK
		if on != 0 {
			fl |= unix.O_NONBLOCK
		}
		t.setStatusFlags(f, fl)
		return 0, nil
	case fioclex, fionclex:
		d, _ := t.p.files.get(a[0])
		d.cloexec = a[1] == fioclex
		return 0, nil
	case fionread:
		if st, err := f.Stat(); err == nil && st.Type() == unix.S_IFREG {
			n := st.Size - f.Offset()
			return 0, t.put32(a[2], uint32(max(n, 0)))
		}
		if pe, ok := streamOf(f).(*pipeEnd); ok {
			return 0, t.put32(a[2], uint32(pe.buffered()))
		}
		if so, ok := streamOf(f).(*socket); ok {
			return 0, t.put32(a[2], uint32(so.buffered()))
		}
	}
	con, ok := streamOf(f).(*console)
	if !ok {
		return 0, unix.ENOTTY
	}
	switch a[1] {
	case unix.TCGETS:
		tio := con.termios()
		return 0, t.copyOut(a[2], tio[:])
	case unix.TCSETS, unix.TCSETSW, unix.TCSETSF:
		b, err := t.copyIn(a[2], termiosSize)
		if err != nil {
			return 0, err
		}
		con.setTermios((*[termiosSize]byte)(b), a[1] == unix.TCSETSF)
		return 0, nil
	case unix.TIOCGWINSZ:
		var ws [8]byte
		rows, cols := con.winsize()
		binary.LittleEndian.PutUint16(ws[0:], rows)
		binary.LittleEndian.PutUint16(ws[2:], cols)
		return 0, t.copyOut(a[2], ws[:])
	case unix.TIOCGPGRP:
		return 0, t.put32(a[2], uint32(t.p.sys.con.foreground()))
	case unix.TIOCSPGRP:
		g, err := t.get32(a[2])
		if err != nil {
			return 0, err
		}
		if int32(g) <= 0 {
			return 0, unix.EINVAL
		}
		t.p.sys.con.setForeground(int32(g))
		return 0, nil
	}
	return 0, unix.EINVAL
}

// setStatusFlags changes a file's status flags (fcntl F_SETFL, FIONBIO)
// and tells the shim's own kinds about O_NONBLOCK.
func (t *Thread) setStatusFlags(f *vfs.File, fl int) {
	f.SetFlags(fl)
	if nb, ok := streamOf(f).(nonblocker); ok {
		nb.setNonblock(f.Flags()&unix.O_NONBLOCK != 0)
	}
}

func sysFcntl(t *Thread, a Args) (uint64, error) {
	d, err := t.p.files.get(a[0])
	if err != nil {
		return 0, err
	}
	switch a[1] {
	case unix.F_GETFD:
		if d.cloexec {
			return unix.FD_CLOEXEC, nil
		}
		return 0, nil
	case unix.F_SETFD:
		d.cloexec = a[2]&unix.FD_CLOEXEC != 0
		return 0, nil
	case unix.F_GETFL:
		return uint64(d.f.Flags()), nil
	case unix.F_SETFL:
		t.setStatusFlags(d.f, int(a[2]))
		return 0, nil
	case unix.F_DUPFD, unix.F_DUPFD_CLOEXEC:
		if a[2] >= uint64(t.p.files.size()) {
			return 0, unix.EINVAL
		}
		n, err := t.p.files.install(d.f, a[1] == unix.F_DUPFD_CLOEXEC, int(a[2]))
		return uint64(n), err
	case unix.F_GETLK, unix.F_SETLK, unix.F_SETLKW, unix.F_OFD_GETLK, unix.F_OFD_SETLK, unix.F_OFD_SETLKW:
		return t.fcntlLock(d.f, int(a[1]), a[2])
	case unix.F_GETPIPE_SZ:
		if _, ok := streamOf(d.f).(*pipeEnd); ok {
			return pipeSize, nil
		}
		return 0, unix.EBADF
	case unix.F_SETPIPE_SZ:
		if _, ok := streamOf(d.f).(*pipeEnd); ok {
			return pipeSize, nil // the size stays 64 KiB: what is asked is a minimum Linux may round
		}
		return 0, unix.EBADF
	}
	return t.nosysArg("fcntl command", a[1])
}

func sysDup(t *Thread, a Args) (uint64, error) {
	f, err := t.file(a[0])
	if err != nil {
		return 0, err
	}
	n, err := t.p.files.install(f, false, 0)
	return uint64(n), err
}

func sysDup2(t *Thread, a Args) (uint64, error) {
	f, err := t.file(a[0])
	if err != nil {
		return 0, err
	}
	if a[0] == a[1] {
		return a[1], nil
	}
	return a[1], t.p.files.installAt(f, false, int(a[1]))
}

func sysDup3(t *Thread, a Args) (uint64, error) {
	if a[0] == a[1] || a[2]&^unix.O_CLOEXEC != 0 {
		return 0, unix.EINVAL
	}
	f, err := t.file(a[0])
	if err != nil {
		return 0, err
	}
	return a[1], t.p.files.installAt(f, a[2]&unix.O_CLOEXEC != 0, int(a[1]))
}

func sysUmask(t *Thread, a Args) (uint64, error) {
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	old := t.p.umask
	t.p.umask = uint32(a[0]) & 0o777
	return uint64(old), nil
}

// sysSendfile implements sendfile(2) through a kernel buffer (at most
// 1 MiB per call, as a short count permits). The input must be a file
// that can seek: a pipe, socket or terminal is EINVAL, as sendfile(2)
// says, which is how Go's io.Copy between sockets learns to copy by read
// and write.
func sysSendfile(t *Thread, a Args) (uint64, error) {
	in, out, err := t.openInOut(a[1], a[0])
	if err != nil {
		return 0, err
	}
	if streamOf(in) != nil {
		return 0, unix.EINVAL
	}
	inOff, err := t.loffArg(a[2])
	if err != nil {
		return 0, err
	}
	return t.copyRange(in, a[2], inOff, out, 0, -1, a[3])
}

// openInOut returns the files of the descriptors a transfer reads from
// and writes to, each open for that (EBADF otherwise), the input first
// as Linux checks it.
func (t *Thread) openInOut(inFd, outFd uint64) (in, out *vfs.File, err error) {
	if in, err = t.open(inFd, false); err != nil {
		return nil, nil, err
	}
	if out, err = t.open(outFd, true); err != nil {
		return nil, nil, err
	}
	return in, out, nil
}

// loffArg reads the loff_t a transfer's offset argument points at: -1
// for a null pointer (the file's position), EINVAL for a negative one.
func (t *Thread) loffArg(va uint64) (int64, error) {
	if va == 0 {
		return -1, nil
	}
	v, err := t.get64(va)
	if err != nil {
		return 0, err
	}
	if int64(v) < 0 {
		return 0, unix.EINVAL
	}
	return int64(v), nil
}

// copyRange copies up to n bytes (at most 1 MiB) from in to out, for
// sendfile(2) and copy_file_range(2). Each side is read or written at its
// offset (inOff, outOff, read by loffArg from the user pointers inp and
// outp, which are updated) or, for -1, at the file's position. The input
// advances by what was written, not what was read, so that a short or
// refused write (a full non-blocking socket: EAGAIN) loses nothing; an
// input that cannot seek (a character device) is read as a stream, and a
// short write then drops the rest of what was read.
func (t *Thread) copyRange(in *vfs.File, inp uint64, inOff int64, out *vfs.File, outp uint64, outOff int64, n uint64) (uint64, error) {
	buf := make([]byte, min(n, 1<<20))
	pos := inOff
	if inOff < 0 {
		pos = in.Offset()
	}
	got, err := in.Pread(buf, pos)
	stream := err == unix.ESPIPE && inOff < 0
	if stream {
		got, err = t.read(in, buf)
	}
	if err != nil || got == 0 {
		return 0, err
	}
	var w int
	if outOff >= 0 {
		w, err = out.Pwrite(buf[:got], outOff)
		if w > 0 {
			t.p.sys.afterWrite(out, outOff, buf[:w])
		}
	} else {
		var wn uint64
		wn, err = t.write(out, buf[:got])
		w = int(wn)
	}
	if w > 0 {
		switch {
		case inp != 0:
			t.put64(inp, uint64(inOff)+uint64(w))
		case !stream:
			in.Seek(pos+int64(w), unix.SEEK_SET)
		}
		if outp != 0 {
			t.put64(outp, uint64(outOff)+uint64(w))
		}
		return uint64(w), nil
	}
	return 0, err
}
