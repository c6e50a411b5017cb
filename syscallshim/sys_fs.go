package syscallshim

import (
	"encoding/binary"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"yolk/initrd"
)

// The file system is the initrd's tree, read-only. Paths are resolved
// against the process's working directory; /proc/self/exe is the one
// /proc entry (a symlink to the program).

const procSelfExe = "/proc/self/exe"

// resolve looks up path relative to dirfd (AT_FDCWD or a directory fd).
func (t *Thread) resolve(dirfd uint64, p string, follow bool) (*initrd.Node, error) {
	if p == "" {
		return nil, unix.ENOENT
	}
	if p == procSelfExe && follow {
		p = t.exe() // the one /proc link: the program
	}
	n, err := t.lookup(dirfd, p, follow)
	if err == unix.ENOENT && (int32(dirfd) == unix.AT_FDCWD || strings.HasPrefix(p, "/")) {
		t.p.mu.Lock()
		cwd := t.p.cwd
		t.p.mu.Unlock()
		if d, ok := devNode(cwd, p); ok {
			return d, nil
		}
		if d, ok := t.procNode(cwd, p); ok {
			return d, nil
		}
	}
	return n, err
}

// lookup resolves p in the initrd tree.
func (t *Thread) lookup(dirfd uint64, p string, follow bool) (*initrd.Node, error) {
	root := t.p.cfg.Root
	if root == nil {
		return nil, unix.ENOENT
	}
	if strings.HasPrefix(p, "/") {
		return root.Lookup(p, follow)
	}
	var cwd *initrd.Node
	if int32(dirfd) == unix.AT_FDCWD {
		t.p.mu.Lock()
		c := t.p.cwd
		t.p.mu.Unlock()
		n, err := root.Lookup(c, true)
		if err != nil {
			return nil, err
		}
		cwd = n
	} else {
		d, err := t.p.files.get(dirfd)
		if err != nil {
			return nil, err
		}
		if d.node == nil || !d.node.IsDir() {
			return nil, unix.ENOTDIR
		}
		cwd = d.node
	}
	return root.LookupAt(cwd, p, follow)
}

// open returns descriptor n if it was opened for reading (or writing):
// EBADF otherwise, as read(2) and write(2) say.
func (t *Thread) open(n uint64, write bool) (*fd, error) {
	d, err := t.p.files.get(n)
	if err != nil {
		return nil, err
	}
	mode := d.flags & unix.O_ACCMODE
	if (write && mode == unix.O_RDONLY) || (!write && mode == unix.O_WRONLY) {
		return nil, unix.EBADF
	}
	return d, nil
}

func sysRead(t *Thread, a Args) (uint64, error) {
	d, err := t.open(a[0], false)
	if err != nil {
		return 0, err
	}
	return t.readTo(d, t.single(a[1], a[2]), -1)
}

// read reads from d's file; a console or pipe read ends with EINTR only
// for a signal waiting for this thread.
func (t *Thread) read(d *fd, b []byte) (int, error) {
	switch f := d.f.(type) {
	case *pipeEnd:
		return f.read(b, t)
	case interruptibleReader:
		return f.read(b, t.interrupting)
	}
	return d.f.Read(b)
}

func sysWrite(t *Thread, a Args) (uint64, error) {
	d, err := t.open(a[0], true)
	if err != nil {
		return 0, err
	}
	return t.writeFrom(d, t.single(a[1], a[2]))
}

// write writes b to d's file; a write to a pipe without readers also
// raises SIGPIPE, as on Linux.
func (t *Thread) write(d *fd, b []byte) (uint64, error) {
	var n int
	var err error
	if e, ok := d.f.(*pipeEnd); ok {
		n, err = e.writeT(b, t)
	} else {
		n, err = d.f.Write(b)
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
func (t *Thread) readTo(d *fd, seq ioseq, off int64) (uint64, error) {
	n := min(seq.total, maxRW)
	buf := make([]byte, min(n, ioChunk))
	done := uint64(0)
	for {
		c := buf[:min(n-done, uint64(len(buf)))]
		var got int
		var err error
		if off >= 0 {
			got, err = d.f.Pread(c, off+int64(done))
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
		if got < len(c) || done == n || !streams(d.f) {
			return done, nil
		}
	}
}

// streams reports whether a full read of f may be followed by more data
// at once (so a large read keeps going): regular files and devices.
func streams(f File) bool {
	switch f.(type) {
	case *regular, *device:
		return true
	}
	return false
}

// writeFrom writes the program's buffers seq to d, chunk by chunk. A
// fault in seq ends the transfer with what was written, else EFAULT.
func (t *Thread) writeFrom(d *fd, seq ioseq) (uint64, error) {
	n := min(seq.total, maxRW)
	buf := make([]byte, min(n, ioChunk))
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
	d, err := t.open(a[0], false)
	if err != nil {
		return 0, err
	}
	if int64(a[3]) < 0 {
		return 0, unix.EINVAL
	}
	return t.readTo(d, t.single(a[1], a[2]), int64(a[3]))
}

func sysPwrite64(t *Thread, a Args) (uint64, error) {
	d, err := t.p.files.get(a[0])
	if err != nil {
		return 0, err
	}
	switch d.f.(type) {
	case *console, *stdStream:
		return 0, unix.ESPIPE
	}
	return 0, unix.EBADF // every other file is read-only
}

func sysOpen(t *Thread, a Args) (uint64, error) {
	return t.openat(atFDCWD, a[0], a[1], a[2])
}

func sysOpenat(t *Thread, a Args) (uint64, error) {
	return t.openat(a[0], a[1], a[2], a[3])
}

func (t *Thread) openat(dirfd, pathp, flags, mode uint64) (uint64, error) {
	p, err := t.readPath(pathp)
	if err != nil {
		return 0, err
	}
	n, err := t.resolve(dirfd, p, flags&unix.O_NOFOLLOW == 0)
	writing := flags&(unix.O_CREAT|unix.O_TRUNC) != 0 || flags&unix.O_ACCMODE != unix.O_RDONLY
	if writing && (err != nil || n.Type() != unix.S_IFCHR) {
		// Only devices open for writing: the file system is read-only.
		if err == nil || flags&unix.O_CREAT != 0 {
			return 0, unix.EROFS
		}
		return 0, err
	}
	if err != nil {
		return 0, err
	}
	if flags&unix.O_CREAT != 0 && flags&unix.O_EXCL != 0 {
		return 0, unix.EEXIST
	}
	d := &fd{node: n, flags: uint32(flags) & (unix.O_ACCMODE | unix.O_NONBLOCK | unix.O_APPEND | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_PATH), cloexec: flags&unix.O_CLOEXEC != 0}
	dev, isDev := t.openDevice(n)
	proc, isProc := t.openProc(n)
	switch {
	case isDev:
		d.f = dev
	case isProc:
		d.f = proc
	case flags&unix.O_DIRECTORY != 0 && !n.IsDir():
		return 0, unix.ENOTDIR
	case n.IsDir():
		d.f = &directory{node: n}
	case n.IsRegular():
		d.f = &regular{node: n}
	case n.IsSymlink() && flags&unix.O_PATH == 0:
		return 0, unix.ELOOP // O_NOFOLLOW on a symlink
	default:
		d.f = &other{node: n}
	}
	fdn, err := t.p.files.install(d, 0)
	return uint64(fdn), err
}

func sysClose(t *Thread, a Args) (uint64, error) {
	return 0, t.p.files.close(a[0])
}

// putStat writes struct stat (x86-64 layout, 144 bytes).
func (t *Thread) putStat(va uint64, s stat) error {
	var b [144]byte
	le := binary.LittleEndian
	le.PutUint64(b[0:], s.dev)
	le.PutUint64(b[8:], s.ino)
	le.PutUint64(b[16:], uint64(s.nlink))
	le.PutUint32(b[24:], s.mode)
	le.PutUint32(b[28:], s.uid)
	le.PutUint32(b[32:], s.gid)
	le.PutUint64(b[40:], s.rdev)
	le.PutUint64(b[48:], uint64(s.size))
	le.PutUint64(b[56:], uint64(s.blksize))
	le.PutUint64(b[64:], uint64(s.blocks))
	for _, off := range []int{72, 88, 104} { // atime, mtime, ctime
		le.PutUint64(b[off:], uint64(s.mtime))
	}
	return t.copyOut(va, b[:])
}

func sysFstat(t *Thread, a Args) (uint64, error) {
	d, err := t.p.files.get(a[0])
	if err != nil {
		return 0, err
	}
	return 0, t.putStat(a[1], d.f.Stat())
}

func (t *Thread) statPath(dirfd, pathp, flags uint64) (stat, error) {
	p, err := t.readPath(pathp)
	if err != nil {
		return stat{}, err
	}
	if p == "" {
		if flags&unix.AT_EMPTY_PATH == 0 {
			return stat{}, unix.ENOENT
		}
		if int32(dirfd) == unix.AT_FDCWD {
			n, err := t.resolve(atFDCWD, ".", true)
			if err != nil {
				return stat{}, err
			}
			return nodeStat(n), nil
		}
		d, err := t.p.files.get(dirfd)
		if err != nil {
			return stat{}, err
		}
		return d.f.Stat(), nil
	}
	n, err := t.resolve(dirfd, p, flags&unix.AT_SYMLINK_NOFOLLOW == 0)
	if err != nil {
		return stat{}, err
	}
	return nodeStat(n), nil
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

// sysStatx implements statx(2) with the basic fields (STATX_BASIC_STATS).
func sysStatx(t *Thread, a Args) (uint64, error) {
	s, err := t.statPath(a[0], a[1], a[2])
	if err != nil {
		return 0, err
	}
	var b [256]byte
	le := binary.LittleEndian
	le.PutUint32(b[0:], unix.STATX_BASIC_STATS) // stx_mask
	le.PutUint32(b[4:], uint32(s.blksize))
	le.PutUint32(b[16:], s.nlink)
	le.PutUint32(b[20:], s.uid)
	le.PutUint32(b[24:], s.gid)
	le.PutUint16(b[28:], uint16(s.mode))
	le.PutUint64(b[32:], s.ino)
	le.PutUint64(b[40:], uint64(s.size))
	le.PutUint64(b[48:], uint64(s.blocks))
	for _, off := range []int{64, 80, 96, 112} { // atime, btime, ctime, mtime
		le.PutUint64(b[off:], uint64(s.mtime))
	}
	le.PutUint32(b[128:], unix.Major(s.rdev))
	le.PutUint32(b[132:], unix.Minor(s.rdev))
	le.PutUint32(b[136:], unix.Major(s.dev))
	le.PutUint32(b[140:], unix.Minor(s.dev))
	return 0, t.copyOut(a[4], b[:])
}

func sysLseek(t *Thread, a Args) (uint64, error) {
	d, err := t.p.files.get(a[0])
	if err != nil {
		return 0, err
	}
	if dir, ok := d.f.(*directory); ok {
		if a[1] != 0 || a[2] != unix.SEEK_SET {
			return 0, unix.EINVAL // only rewinddir is supported
		}
		dir.mu.Lock()
		dir.pos = 0
		dir.mu.Unlock()
		return 0, nil
	}
	off, err := d.f.Seek(int64(a[1]), int(a[2]))
	return uint64(off), err
}

// sysGetdents64 implements getdents64(2) over an initrd directory: ".",
// "..", then the entries in name order.
func sysGetdents64(t *Thread, a Args) (uint64, error) {
	d, err := t.p.files.get(a[0])
	if err != nil {
		return 0, err
	}
	dir, ok := d.f.(*directory)
	if !ok {
		return 0, unix.ENOTDIR
	}
	kids := t.p.cfg.Root.ReadDir(dir.node)
	dir.mu.Lock()
	defer dir.mu.Unlock()
	var out []byte
	for {
		var n *initrd.Node
		name := ""
		switch i := dir.pos; {
		case i == 0:
			n, name = dir.node, "."
		case i == 1:
			n, name = dir.node.Parent(), ".."
			if n == nil {
				n = dir.node
			}
		case i-2 < len(kids):
			n = kids[i-2]
			name = n.Name
		}
		if n == nil {
			break
		}
		reclen := (19 + len(name) + 1 + 7) &^ 7
		if uint64(len(out)+reclen) > a[2] {
			if len(out) == 0 {
				return 0, unix.EINVAL
			}
			break
		}
		rec := make([]byte, reclen)
		le := binary.LittleEndian
		le.PutUint64(rec[0:], n.Ino)
		le.PutUint64(rec[8:], uint64(dir.pos+1)) // d_off: cookie of the next entry
		le.PutUint16(rec[16:], uint16(reclen))
		rec[18] = dtype(n.Mode)
		copy(rec[19:], name)
		out = append(out, rec...)
		dir.pos++
	}
	return uint64(len(out)), t.copyOut(a[1], out)
}

func dtype(mode uint32) byte {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return unix.DT_DIR
	case unix.S_IFREG:
		return unix.DT_REG
	case unix.S_IFLNK:
		return unix.DT_LNK
	case unix.S_IFCHR:
		return unix.DT_CHR
	case unix.S_IFBLK:
		return unix.DT_BLK
	case unix.S_IFIFO:
		return unix.DT_FIFO
	case unix.S_IFSOCK:
		return unix.DT_SOCK
	}
	return unix.DT_UNKNOWN
}

func (t *Thread) access(dirfd, pathp, mode, flags uint64) (uint64, error) {
	p, err := t.readPath(pathp)
	if err != nil {
		return 0, err
	}
	if mode&^7 != 0 {
		return 0, unix.EINVAL
	}
	n, err := t.resolve(dirfd, p, flags&unix.AT_SYMLINK_NOFOLLOW == 0)
	if err != nil {
		return 0, err
	}
	if mode&unix.W_OK != 0 {
		return 0, unix.EROFS
	}
	// The program runs as root: read always, execute if any x bit is set.
	if mode&unix.X_OK != 0 && n.Mode&0o111 == 0 && !n.IsDir() {
		return 0, unix.EACCES
	}
	return 0, nil
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
	if p == procSelfExe {
		target = path.Join("/", t.exe()) // always absolute, as on Linux
	} else {
		n, err := t.resolve(dirfd, p, false)
		if err != nil {
			return 0, err
		}
		if !n.IsSymlink() {
			return 0, unix.EINVAL
		}
		target = n.Target
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
	t.p.mu.Lock()
	cwd := t.p.cwd
	t.p.mu.Unlock()
	b := append([]byte(cwd), 0)
	if uint64(len(b)) > a[1] {
		return 0, unix.ERANGE
	}
	return uint64(len(b)), t.copyOut(a[0], b)
}

func (t *Thread) chdir(n *initrd.Node) error {
	if !n.IsDir() {
		return unix.ENOTDIR
	}
	t.p.mu.Lock()
	t.p.cwd = n.Path
	t.p.mu.Unlock()
	return nil
}

func sysChdir(t *Thread, a Args) (uint64, error) {
	p, err := t.readPath(a[0])
	if err != nil {
		return 0, err
	}
	n, err := t.resolve(atFDCWD, p, true)
	if err != nil {
		return 0, err
	}
	return 0, t.chdir(n)
}

func sysFchdir(t *Thread, a Args) (uint64, error) {
	d, err := t.p.files.get(a[0])
	if err != nil {
		return 0, err
	}
	if d.node == nil {
		return 0, unix.ENOTDIR
	}
	return 0, t.chdir(d.node)
}

// sysIoctl implements the terminal ioctls on the console: TCGETS and
// TCSETS* (the line discipline in tty.go honours ICRNL, ICANON, ECHO,
// ISIG and the erase, kill, EOF and interrupt characters), TIOCGWINSZ
// (24x80), the foreground process group. Other files: ENOTTY.
func sysIoctl(t *Thread, a Args) (uint64, error) {
	d, err := t.p.files.get(a[0])
	if err != nil {
		return 0, err
	}
	con, ok := d.f.(*console)
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
		return uint64(d.flags), nil
	case unix.F_SETFL:
		const settable = unix.O_APPEND | unix.O_NONBLOCK | unix.O_ASYNC | unix.O_DIRECT | unix.O_NOATIME
		d.flags = d.flags&^settable | uint32(a[2])&settable
		if nb, ok := d.f.(nonblocker); ok {
			nb.setNonblock(a[2]&unix.O_NONBLOCK != 0)
		}
		return 0, nil
	case unix.F_DUPFD, unix.F_DUPFD_CLOEXEC:
		if a[2] >= maxFDs {
			return 0, unix.EINVAL
		}
		nd := *d
		nd.cloexec = a[1] == unix.F_DUPFD_CLOEXEC
		n, err := t.p.files.install(&nd, int(a[2]))
		return uint64(n), err
	}
	return 0, unix.EINVAL
}

func sysDup(t *Thread, a Args) (uint64, error) {
	d, err := t.p.files.get(a[0])
	if err != nil {
		return 0, err
	}
	nd := *d
	nd.cloexec = false
	n, err := t.p.files.install(&nd, 0)
	return uint64(n), err
}

func sysDup2(t *Thread, a Args) (uint64, error) {
	d, err := t.p.files.get(a[0])
	if err != nil {
		return 0, err
	}
	if a[0] == a[1] {
		return a[1], nil
	}
	nd := *d
	nd.cloexec = false
	return a[1], t.p.files.installAt(&nd, int(a[1]))
}

func sysDup3(t *Thread, a Args) (uint64, error) {
	if a[0] == a[1] || a[2]&^unix.O_CLOEXEC != 0 {
		return 0, unix.EINVAL
	}
	d, err := t.p.files.get(a[0])
	if err != nil {
		return 0, err
	}
	nd := *d
	nd.cloexec = a[2]&unix.O_CLOEXEC != 0
	return a[1], t.p.files.installAt(&nd, int(a[1]))
}

func sysUmask(t *Thread, a Args) (uint64, error) {
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	old := t.p.umask
	t.p.umask = uint32(a[0]) & 0o777
	return uint64(old), nil
}

// atFDCWD is AT_FDCWD (-100) as a raw argument.
const atFDCWD = ^uint64(99)

// sysSendfile implements sendfile(2) by reading and writing through a
// kernel buffer (at most 1 MiB per call, as a short count permits).
func sysSendfile(t *Thread, a Args) (uint64, error) {
	out, err := t.open(a[0], true)
	if err != nil {
		return 0, err
	}
	in, err := t.open(a[1], false)
	if err != nil {
		return 0, err
	}
	n := a[3]
	if n > 1<<20 {
		n = 1 << 20
	}
	buf := make([]byte, n)
	var got int
	if a[2] != 0 {
		off, err := t.get64(a[2])
		if err != nil {
			return 0, err
		}
		if int64(off) < 0 {
			return 0, unix.EINVAL
		}
		got, err = in.f.Pread(buf, int64(off))
		if err != nil {
			return 0, err
		}
		if err := t.put64(a[2], off+uint64(got)); err != nil {
			return 0, err
		}
	} else if got, err = in.f.Read(buf); err != nil {
		return 0, err
	}
	return t.write(out, buf[:got])
}
