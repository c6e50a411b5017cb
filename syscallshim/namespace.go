package syscallshim

import (
	"fmt"
	"path"
	"sort"
	"sync"

	"golang.org/x/sys/unix"

	"yolk/initrd"
	"yolk/vfs"
	"yolk/vfs/cpiofs"
	"yolk/vfs/overlay"
	"yolk/vfs/tmpfs"
)

// The file tree every process starts in: the initrd's files, writable (an
// overlay of a tmpfs on the read-only cpio tree: changes copy files up,
// deletions leave whiteouts), with a tmpfs on /tmp and /dev/shm and the
// kernel's /dev and /proc. Changes live in memory for the run. A host
// root (-R) gets no tmpfs on /tmp: its /tmp is the host's, read-only
// under the same writable layer as the rest, so that programs and files
// the host keeps under /tmp are where they are on the host.

// newNamespace builds the VFS over root (nil: an empty root), with tmpfs
// sizes bounded by memBytes (a quarter of RAM each for the root's
// writable layer and /tmp, as Linux's tmpfs takes half by default).
func (s *System) newNamespace(root *initrd.FS, memBytes uint64) (*vfs.VFS, error) {
	s.tmpfsBytes = int64(memBytes / 4)
	limit := s.tmpfsBytes
	upper := tmpfs.New(tmpfs.Options{MaxBytes: limit, RootMode: 0o755})
	var rootFS vfs.Filesystem = upper
	switch {
	case root != nil:
		rootFS = overlay.New(upper, cpiofs.New(root))
	case s.cfg.RootFS != nil:
		rootFS = overlay.New(upper, s.cfg.RootFS)
	}
	v := vfs.New(rootFS, 0, rootFS.Name()) // "rootfs" would make busybox df skip it
	v.SetSpecialOpener(s.openSpecial)
	c := &vfs.Context{Cred: vfs.Cred{}}
	type mount struct {
		path string
		fs   vfs.Filesystem
	}
	var mounts []mount
	if s.cfg.RootFS == nil {
		mounts = append(mounts, mount{"/tmp", tmpfs.New(tmpfs.Options{MaxBytes: limit})})
	} else if err := v.Mkdirat(c, v.Root(), "/tmp", 0o1777); err != nil && err != unix.EEXIST {
		return nil, err // a host root without /tmp gets one, as Linux's
	}
	mounts = append(mounts,
		mount{"/dev", newDevFS()},
		mount{"/dev/shm", tmpfs.New(tmpfs.Options{MaxBytes: limit})},
		mount{"/proc", &procFS{sys: s, dev: vfs.NewDev()}},
		mount{"/sys", newSysFS(s)})
	for _, m := range mounts {
		if err := v.Mkdirat(c, v.Root(), m.path, 0o755); err != nil && err != unix.EEXIST {
			return nil, err
		}
		p, err := v.Lookup(c, v.Root(), m.path, 0)
		if err != nil {
			return nil, err
		}
		if _, err := v.Mount(p, m.fs, 0, m.fs.Name()); err != nil {
			return nil, err
		}
	}
	for _, m := range s.cfg.Mounts {
		if err := mkdirAll(v, c, m.Path); err != nil {
			return nil, fmt.Errorf("mount point %s: %w", m.Path, err)
		}
		p, err := v.Lookup(c, v.Root(), m.Path, 0)
		if err != nil {
			return nil, fmt.Errorf("mount point %s: %w", m.Path, err)
		}
		var flags vfs.MountFlags
		if m.ReadOnly {
			flags |= vfs.MountReadOnly
		}
		if _, err := v.Mount(p, m.FS, flags, m.Source); err != nil {
			return nil, fmt.Errorf("mount %s on %s: %w", m.Source, m.Path, err)
		}
	}
	if err := s.writeNetFiles(v, c); err != nil { // netfiles.go
		return nil, err
	}
	return v, nil
}

// mkdirAll makes the directory p and its missing parents (mode 0755).
func mkdirAll(v *vfs.VFS, c *vfs.Context, p string) error {
	p = path.Clean("/" + p)
	for i := 1; i <= len(p); i++ {
		if i == len(p) || p[i] == '/' {
			if err := v.Mkdirat(c, v.Root(), p[:i], 0o755); err != nil && err != unix.EEXIST {
				return err
			}
		}
	}
	return nil
}

// newTmpfs returns a tmpfs of the size every tmpfs here gets.
func (s *System) newTmpfs() *tmpfs.FS { return tmpfs.New(tmpfs.Options{MaxBytes: s.tmpfsBytes}) }

// Device numbers of the character devices yolk has (devices.txt).
var (
	rdevNull    = unix.Mkdev(1, 3)
	rdevZero    = unix.Mkdev(1, 5)
	rdevFull    = unix.Mkdev(1, 7)
	rdevRandom  = unix.Mkdev(1, 8)
	rdevURandom = unix.Mkdev(1, 9)
	rdevTTY     = unix.Mkdev(5, 0)
	rdevConsole = unix.Mkdev(5, 1)
)

// openSpecial opens FIFOs and character devices, on any filesystem.
func (s *System) openSpecial(p vfs.Path, flags int) (vfs.FileImpl, error) {
	st := p.Inode().Stat()
	switch st.Type() {
	case unix.S_IFIFO:
		return s.openFIFO(p.Inode(), flags)
	case unix.S_IFCHR:
		var d stream
		switch st.Rdev {
		case rdevTTY, rdevConsole:
			if ms := machineStreams(s.m); ms != nil && !ms.Terminal() {
				return nil, unix.ENXIO // no controlling terminal
			}
			d = s.con
		case rdevNull, rdevZero, rdevFull, rdevRandom, rdevURandom:
			d = &device{rdev: st.Rdev, m: s.m, st: st}
		default:
			return nil, unix.ENXIO
		}
		_, seekable := d.(*device)
		return &streamImpl{s: d, seekable: seekable}, nil
	}
	return nil, unix.ENXIO
}

// FIFOs (mkfifo(3), mknod(2) with S_IFIFO): every open of the same inode
// gets an end of one pipe, kept while any end is open. As on Linux, an
// open for reading waits for a writer and one for writing waits for a
// reader (O_NONBLOCK: reading opens at once, writing fails with ENXIO);
// O_RDWR opens both ends at once. The wait is not interrupted by signals.
type fifoTable struct {
	mu    sync.Mutex
	pipes map[vfs.Inode]*pipe
}

func (s *System) openFIFO(ino vfs.Inode, flags int) (vfs.FileImpl, error) {
	ft := &s.fifos
	ft.mu.Lock()
	if ft.pipes == nil {
		ft.pipes = map[vfs.Inode]*pipe{}
	}
	pp := ft.pipes[ino]
	if pp == nil {
		pp = &pipe{events: &s.events, fifo: ino, fifos: ft}
		ft.pipes[ino] = pp
	}
	mode := flags & unix.O_ACCMODE
	nonblock := flags&unix.O_NONBLOCK != 0
	pp.mu.Lock()
	if mode == unix.O_WRONLY && nonblock && pp.readers == 0 {
		pp.mu.Unlock()
		ft.mu.Unlock()
		return nil, unix.ENXIO
	}
	var ends []*pipeEnd
	switch mode {
	case unix.O_RDONLY:
		ends = append(ends, &pipeEnd{pipe: pp})
	case unix.O_WRONLY:
		ends = append(ends, &pipeEnd{pipe: pp, write: true})
	default: // O_RDWR: both ends in one description, as Linux allows
		ends = append(ends, &pipeEnd{pipe: pp}, &pipeEnd{pipe: pp, write: true})
	}
	for _, e := range ends {
		if e.write {
			pp.writers++
			pp.writerOpens++
		} else {
			pp.readers++
		}
		e.nonblock.Store(nonblock)
	}
	pp.mu.Unlock()
	ft.mu.Unlock()
	s.events.notify()
	if len(ends) == 2 {
		return &streamImpl{s: &fifoRW{r: ends[0], w: ends[1]}}, nil
	}
	if !nonblock {
		// Wait for the other side to have opened at least once since.
		for {
			wake := s.events.wait()
			pp.mu.Lock()
			ready := mode == unix.O_RDONLY && pp.writerOpens > 0 || mode == unix.O_WRONLY && pp.readers > 0
			pp.mu.Unlock()
			if ready {
				break
			}
			<-wake
		}
	}
	return &streamImpl{s: ends[0]}, nil
}

// fifoRW is a FIFO opened O_RDWR: reads from its read end, writes to its
// write end.
type fifoRW struct{ r, w *pipeEnd }

func (f *fifoRW) Read(b []byte) (int, error)  { return f.r.Read(b) }
func (f *fifoRW) Write(b []byte) (int, error) { return f.w.Write(b) }
func (f *fifoRW) Stat() stat                  { return f.r.Stat() }
func (f *fifoRW) Close() error                { f.r.Close(); return f.w.Close() }
func (f *fifoRW) poll() uint32                { return f.r.poll() | f.w.poll()&unix.EPOLLOUT }

// devFS is /dev: the character devices, links to the standard streams
// through /proc/self/fd, and directories for mounts (shm, pts).
type devFS struct {
	dev   uint64
	root  *devNode
	nodes map[string]*devNode
}

// devNode is one file of /dev.
type devNode struct {
	vfs.ReadOnly
	fs     *devFS
	name   string
	st     vfs.Stat
	target string // symlinks
}

func newDevFS() *devFS {
	fs := &devFS{dev: vfs.NewDev(), nodes: map[string]*devNode{}}
	now := vfs.Now()
	mk := func(name string, mode uint32, rdev uint64, target string) *devNode {
		n := &devNode{fs: fs, name: name, target: target, st: vfs.Stat{
			Dev: fs.dev, Ino: uint64(len(fs.nodes) + 2), Mode: mode, Nlink: 1, Rdev: rdev,
			Blksize: 4096, Atime: now, Mtime: now, Ctime: now, Btime: now,
		}}
		if target != "" {
			n.st.Size = int64(len(target))
		}
		if mode&unix.S_IFMT == unix.S_IFDIR {
			n.st.Nlink = 2
		}
		if name != "" {
			fs.nodes[name] = n
		}
		return n
	}
	fs.root = mk("", unix.S_IFDIR|0o755, 0, "")
	fs.root.st.Ino = 1
	for _, d := range []struct {
		name string
		rdev uint64
		mode uint32
	}{
		{"null", rdevNull, 0o666}, {"zero", rdevZero, 0o666}, {"full", rdevFull, 0o666},
		{"random", rdevRandom, 0o666}, {"urandom", rdevURandom, 0o666},
		{"tty", rdevTTY, 0o666}, {"console", rdevConsole, 0o600},
	} {
		mk(d.name, unix.S_IFCHR|d.mode, d.rdev, "")
	}
	for name, target := range map[string]string{
		"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2",
	} {
		mk(name, unix.S_IFLNK|0o777, 0, target)
	}
	mk("shm", unix.S_IFDIR|0o1777, 0, "")
	mk("pts", unix.S_IFDIR|0o755, 0, "")
	return fs
}

func (fs *devFS) Name() string       { return "devtmpfs" }
func (fs *devFS) Root() vfs.Inode    { return fs.root }
func (fs *devFS) Statfs() vfs.Statfs { return vfs.Statfs{Type: 0x1021994, Bsize: 4096, Namelen: 255} }

func (n *devNode) Stat() vfs.Stat { return n.st }

func (n *devNode) Readlink() (string, error) {
	if n.target == "" {
		return "", unix.EINVAL
	}
	return n.target, nil
}

func (n *devNode) Lookup(name string) (vfs.Inode, error) {
	if n != n.fs.root {
		if n.st.Type() == unix.S_IFDIR {
			return nil, unix.ENOENT
		}
		return nil, unix.ENOTDIR
	}
	if c, ok := n.fs.nodes[name]; ok {
		return c, nil
	}
	return nil, unix.ENOENT
}

func (n *devNode) Open(flags int) (vfs.FileImpl, error) {
	if n.st.Type() == unix.S_IFDIR {
		return &devDir{n: n}, nil
	}
	return nil, unix.ENXIO // devices open through the VFS's special opener
}

// devDir lists /dev (and its empty subdirectories).
type devDir struct {
	vfs.FileBase
	n *devNode
}

func (d *devDir) Stat() (vfs.Stat, error) { return d.n.st, nil }

func (d *devDir) Lseek(cur, off int64, whence int) (int64, error) {
	return vfs.SeekTo(cur, off, whence, 0)
}

func (d *devDir) ReadDir(pos int64, emit func(vfs.Dirent) bool) error {
	if d.n != d.n.fs.root {
		return nil
	}
	names := make([]string, 0, len(d.n.fs.nodes))
	for name := range d.n.fs.nodes {
		names = append(names, name)
	}
	sort.Strings(names)
	for i, name := range names {
		off := int64(vfs.FirstCookie + i) // the entry's cookie: it comes after pos
		if off <= pos {
			continue
		}
		c := d.n.fs.nodes[name]
		if !emit(vfs.Dirent{Name: name, Ino: c.st.Ino, Type: vfs.DirentType(c.st.Mode), Off: off}) {
			return nil
		}
	}
	return nil
}
