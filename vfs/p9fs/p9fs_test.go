package p9fs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"

	"yolk/vfs"
)

// pipeTransport carries 9P over a net.Pipe to an in-process server,
// matching replies to requests by tag as virtio-9p matches them by
// descriptor chain.
type pipeTransport struct {
	c     net.Conn
	msize uint32
	wmu   sync.Mutex
	mu    sync.Mutex
	wait  map[uint16]chan []byte
	err   error
}

func newPipeTransport(t testing.TB, dir string, msize uint32) *pipeTransport {
	cli, srv := net.Pipe()
	go p9.NewServer(hostAttacher{root: dir}).Handle(srv, srv)
	pt := &pipeTransport{c: cli, msize: msize, wait: make(map[uint16]chan []byte)}
	go pt.readLoop()
	// The pipe stays open: hugelgupf/p9's server races with itself
	// when its connection closes under running handlers.
	return pt
}

func (p *pipeTransport) readLoop() {
	for {
		var hdr [7]byte
		if _, err := io.ReadFull(p.c, hdr[:]); err != nil {
			p.fail(err)
			return
		}
		size := binary.LittleEndian.Uint32(hdr[:])
		if size < 7 || size > p.msize {
			p.fail(errors.New("bad size"))
			return
		}
		msg := make([]byte, size)
		copy(msg, hdr[:])
		if _, err := io.ReadFull(p.c, msg[7:]); err != nil {
			p.fail(err)
			return
		}
		tag := binary.LittleEndian.Uint16(hdr[5:])
		p.mu.Lock()
		ch := p.wait[tag]
		delete(p.wait, tag)
		p.mu.Unlock()
		if ch != nil {
			ch <- msg
		}
	}
}

func (p *pipeTransport) fail(err error) {
	p.mu.Lock()
	p.err = err
	for tag, ch := range p.wait {
		close(ch)
		delete(p.wait, tag)
	}
	p.mu.Unlock()
}

func (p *pipeTransport) MaxMessage() uint32 { return p.msize }

func (p *pipeTransport) RoundTrip(req []byte) ([]byte, error) {
	tag := binary.LittleEndian.Uint16(req[5:])
	ch := make(chan []byte, 1)
	p.mu.Lock()
	if p.err != nil {
		p.mu.Unlock()
		return nil, p.err
	}
	p.wait[tag] = ch
	p.mu.Unlock()
	p.wmu.Lock()
	_, err := p.c.Write(req)
	p.wmu.Unlock()
	if err != nil {
		return nil, err
	}
	msg, ok := <-ch
	if !ok {
		return nil, errors.New("connection lost")
	}
	return msg, nil
}

type env struct {
	t   *testing.T
	dir string // the host directory
	fs  *FS
	v   *vfs.VFS
	c   *vfs.Context
}

func newEnv(t *testing.T) *env {
	dir := t.TempDir()
	fs, err := New(newPipeTransport(t, dir, 64<<10), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	return &env{t: t, dir: dir, fs: fs, v: vfs.New(fs, 0, "share0"), c: &vfs.Context{Umask: 0o022}}
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) host(name string) string { return filepath.Join(e.dir, name) }

func (e *env) open(name string, flags int, mode uint32) (*vfs.File, error) {
	return e.v.Openat(e.c, vfs.Path{}, name, vfs.OpenHow{Flags: flags, Mode: mode})
}

func (e *env) writeFile(name, data string) {
	e.t.Helper()
	f, err := e.open(name, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC, 0o644)
	e.must(err)
	defer f.DecRef()
	n, err := f.Write([]byte(data))
	e.must(err)
	if n != len(data) {
		e.t.Fatalf("wrote %d of %d", n, len(data))
	}
}

func (e *env) readFile(name string) string {
	e.t.Helper()
	f, err := e.open(name, unix.O_RDONLY, 0)
	e.must(err)
	defer f.DecRef()
	var b bytes.Buffer
	buf := make([]byte, 7000)
	for {
		n, err := f.Read(buf)
		e.must(err)
		if n == 0 {
			return b.String()
		}
		b.Write(buf[:n])
	}
}

func (e *env) stat(name string) vfs.Stat {
	e.t.Helper()
	st, err := e.v.Statat(e.c, vfs.Path{}, name, unix.AT_SYMLINK_NOFOLLOW)
	e.must(err)
	return st
}

func hostRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReadWrite(t *testing.T) {
	e := newEnv(t)
	os.WriteFile(e.host("hello"), []byte("hello from the host\n"), 0o644)
	if got := e.readFile("/hello"); got != "hello from the host\n" {
		t.Fatalf("read %q", got)
	}
	// Larger than msize: chunked both ways; complete on the host as
	// soon as Write returns.
	big := strings.Repeat("0123456789abcdef", 50000) // 800 KB
	f, err := e.open("/big", unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o600)
	e.must(err)
	n, err := f.Write([]byte(big))
	e.must(err)
	if n != len(big) || hostRead(t, e.host("big")) != big {
		t.Fatalf("host has %d bytes after writing %d", len(hostRead(t, e.host("big"))), n)
	}
	// pread/pwrite at offsets, O_APPEND.
	_, err = f.Pwrite([]byte("XY"), 3)
	e.must(err)
	buf := make([]byte, 6)
	_, err = f.Pread(buf, 1)
	e.must(err)
	if string(buf) != "12XY56" {
		t.Fatalf("pread %q", buf)
	}
	if st, _ := f.Stat(); st.Size != int64(len(big)) || st.Mode != unix.S_IFREG|0o600 {
		t.Fatalf("fstat size %d mode %o", st.Size, st.Mode)
	}
	f.DecRef()
	if got := e.readFile("/big"); got[:8] != "012XY567" || len(got) != len(big) {
		t.Fatalf("read back %q...", got[:8])
	}
	a, err := e.open("/big", unix.O_WRONLY|unix.O_APPEND, 0)
	e.must(err)
	_, err = a.Write([]byte("END"))
	e.must(err)
	a.DecRef()
	if h := hostRead(t, e.host("big")); !strings.HasSuffix(h, "cdefEND") || len(h) != len(big)+3 {
		t.Fatalf("append: host has %d bytes", len(h))
	}
	// O_TRUNC and ftruncate.
	e.writeFile("/big", "short")
	if hostRead(t, e.host("big")) != "short" {
		t.Fatal("O_TRUNC did not reach the host")
	}
	f, err = e.open("/big", unix.O_RDWR, 0)
	e.must(err)
	e.must(f.Truncate(2))
	if st := e.stat("/big"); st.Size != 2 {
		t.Fatalf("size after ftruncate %d", st.Size)
	}
	e.must(f.Sync(false))
	e.must(f.Allocate(0, 0, 100))
	if st, _ := os.Stat(e.host("big")); st.Size() != 100 {
		t.Fatalf("fallocate: host size %d", st.Size())
	}
	// lseek SEEK_END.
	if off, err := f.Seek(-10, io.SeekEnd); err != nil || off != 90 {
		t.Fatalf("lseek = %d, %v", off, err)
	}
	f.DecRef()
}

func TestNamespace(t *testing.T) {
	e := newEnv(t)
	c := e.c
	e.must(e.v.Mkdirat(c, vfs.Path{}, "/d", 0o750))
	if st, err := os.Stat(e.host("d")); err != nil || !st.IsDir() || st.Mode().Perm() != 0o750&^0o022 {
		t.Fatalf("mkdir on host: %v %v", st, err)
	}
	e.writeFile("/d/f", "data")
	e.must(e.v.Symlinkat(c, "f", vfs.Path{}, "/d/l"))
	if tgt, err := os.Readlink(e.host("d/l")); err != nil || tgt != "f" {
		t.Fatalf("host readlink %q %v", tgt, err)
	}
	if tgt, err := e.v.Readlinkat(c, vfs.Path{}, "/d/l"); err != nil || tgt != "f" {
		t.Fatalf("readlink %q %v", tgt, err)
	}
	if got := e.readFile("/d/l"); got != "data" {
		t.Fatalf("read through symlink %q", got)
	}
	e.must(e.v.Linkat(c, vfs.Path{}, "/d/f", vfs.Path{}, "/d/hard", 0))
	if st := e.stat("/d/f"); st.Nlink != 2 {
		t.Fatalf("nlink after link %d", st.Nlink)
	}
	if hostRead(t, e.host("d/hard")) != "data" {
		t.Fatal("hard link missing on the host")
	}
	e.must(e.v.Mknodat(c, vfs.Path{}, "/d/fifo", unix.S_IFIFO|0o644, 0))
	if st, err := os.Lstat(e.host("d/fifo")); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("mknod fifo on host: %v %v", st, err)
	}
	if st := e.stat("/d/fifo"); st.Type() != unix.S_IFIFO {
		t.Fatalf("fifo mode %o", st.Mode)
	}
	// rename within and across directories, replacing.
	e.must(e.v.Mkdirat(c, vfs.Path{}, "/e", 0o755))
	e.must(e.v.Renameat2(c, vfs.Path{}, "/d/f", vfs.Path{}, "/e/g", 0))
	e.writeFile("/d/x", "x")
	e.must(e.v.Renameat2(c, vfs.Path{}, "/d/x", vfs.Path{}, "/e/g", 0))
	if hostRead(t, e.host("e/g")) != "x" {
		t.Fatal("rename did not replace on the host")
	}
	if st := e.stat("/d/hard"); st.Nlink != 1 {
		t.Fatalf("nlink of the replaced file's other name %d", st.Nlink)
	}
	if _, err := os.Stat(e.host("d/f")); !os.IsNotExist(err) {
		t.Fatal("old name still on the host")
	}
	// readdir
	names := e.readdir("/d")
	if want := []string{"fifo", "hard", "l"}; strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("readdir %v, want %v", names, want)
	}
	// unlink, rmdir
	e.must(e.v.Unlinkat(c, vfs.Path{}, "/d/hard", 0))
	e.must(e.v.Unlinkat(c, vfs.Path{}, "/d/l", 0))
	e.must(e.v.Unlinkat(c, vfs.Path{}, "/d/fifo", 0))
	e.must(e.v.Unlinkat(c, vfs.Path{}, "/d", unix.AT_REMOVEDIR))
	if _, err := os.Stat(e.host("d")); !os.IsNotExist(err) {
		t.Fatal("rmdir did not reach the host")
	}
	// statfs
	sf, err := e.v.Statfsat(c, vfs.Path{}, "/")
	e.must(err)
	var hs unix.Statfs_t
	unix.Statfs(e.dir, &hs)
	if sf.Type != V9FS_MAGIC || sf.Blocks != hs.Blocks || sf.Bsize != hs.Bsize {
		t.Fatalf("statfs %+v, host %+v", sf, hs)
	}
}

func (e *env) readdir(name string) []string {
	e.t.Helper()
	f, err := e.open(name, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	e.must(err)
	defer f.DecRef()
	var names []string
	e.must(f.ReadDir(func(d vfs.Dirent) bool {
		if d.Name != "." && d.Name != ".." {
			names = append(names, d.Name)
		}
		return true
	}))
	sort.Strings(names)
	return names
}

func TestReaddirLarge(t *testing.T) {
	e := newEnv(t)
	const n = 1500
	for i := 0; i < n; i++ {
		os.WriteFile(e.host(strings.Repeat("n", 40)+string(rune('a'+i%26))+itoa(i)), nil, 0o644)
	}
	f, err := e.open("/", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	e.must(err)
	defer f.DecRef()
	// Read in small batches (as getdents64 with a small buffer does),
	// checking offsets resume exactly.
	seen := map[string]bool{}
	for {
		k := 0
		e.must(f.ReadDir(func(d vfs.Dirent) bool {
			if k == 7 {
				return false
			}
			k++
			if seen[d.Name] {
				t.Fatalf("%s twice", d.Name)
			}
			seen[d.Name] = true
			if d.Type != unix.DT_REG && d.Name != "." && d.Name != ".." {
				t.Fatalf("%s: type %d", d.Name, d.Type)
			}
			return true
		}))
		if k == 0 {
			break
		}
	}
	if len(seen) != n+2 {
		t.Fatalf("saw %d entries, want %d", len(seen), n+2)
	}
	// rewind and read again
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	count := 0
	e.must(f.ReadDir(func(vfs.Dirent) bool { count++; return true }))
	if count != n+2 {
		t.Fatalf("after rewind %d entries", count)
	}
}

func itoa(i int) string {
	return string(bytes.TrimLeft([]byte{byte('0' + i/1000%10), byte('0' + i/100%10), byte('0' + i/10%10), byte('0' + i%10)}, ""))
}

func TestSetAttr(t *testing.T) {
	e := newEnv(t)
	e.writeFile("/f", "abc")
	// Set-id bits do not survive hugelgupf/p9's encoding (it masks
	// permissions with 01777); the sticky bit does.
	e.must(e.v.Chmodat(e.c, vfs.Path{}, "/f", 0o1711, 0))
	if st, _ := os.Stat(e.host("f")); st.Mode().Perm() != 0o711 || st.Mode()&os.ModeSticky == 0 {
		t.Fatalf("host mode %v", st.Mode())
	}
	if st := e.stat("/f"); st.Mode != unix.S_IFREG|0o1711 {
		t.Fatalf("mode %o", st.Mode)
	}
	e.must(e.v.Chownat(e.c, vfs.Path{}, "/f", 1234, 5678, 0))
	var hs unix.Stat_t
	unix.Stat(e.host("f"), &hs)
	if hs.Uid != 1234 || hs.Gid != 5678 {
		t.Fatalf("host owner %d:%d", hs.Uid, hs.Gid)
	}
	if st := e.stat("/f"); st.UID != 1234 || st.GID != 5678 {
		t.Fatalf("owner %d:%d", st.UID, st.GID)
	}
	times := [2]vfs.Timespec{{Sec: 1000, Nsec: 5}, {Sec: 2000, Nsec: 7}}
	e.must(e.v.Utimensat(e.c, vfs.Path{}, "/f", &times, 0))
	unix.Stat(e.host("f"), &hs)
	if hs.Atim.Sec != 1000 || hs.Mtim.Sec != 2000 || hs.Mtim.Nsec != 7 {
		t.Fatalf("host times %v %v", hs.Atim, hs.Mtim)
	}
	if st := e.stat("/f"); st.Atime != times[0] || st.Mtime != times[1] {
		t.Fatalf("times %v %v", st.Atime, st.Mtime)
	}
	e.must(e.v.Utimensat(e.c, vfs.Path{}, "/f", nil, 0))
	if st := e.stat("/f"); st.Mtime.Sec < 1_600_000_000 {
		t.Fatalf("utimensat(NULL) mtime %v", st.Mtime)
	}
	e.must(e.v.Truncate(e.c, vfs.Path{}, "/f", 10))
	if st, _ := os.Stat(e.host("f")); st.Size() != 10 {
		t.Fatalf("truncate: host size %d", st.Size())
	}
	// The cache follows the guest's writes.
	f, err := e.open("/f", unix.O_WRONLY, 0)
	e.must(err)
	f.Pwrite([]byte("0123456789abcdef"), 0)
	f.DecRef()
	if st := e.stat("/f"); st.Size != 16 {
		t.Fatalf("size after write %d", st.Size)
	}
}

func TestErrnos(t *testing.T) {
	e := newEnv(t)
	e.writeFile("/f", "x")
	e.must(e.v.Mkdirat(e.c, vfs.Path{}, "/d", 0o755))
	e.writeFile("/d/g", "y")
	fs := e.fs
	root := fs.Root()
	f, _ := root.Lookup("f")
	d, _ := root.Lookup("d")
	for _, tc := range []struct {
		name string
		err  error
		want unix.Errno
	}{
		{"lookup missing", func() error { _, err := root.Lookup("nope"); return err }(), unix.ENOENT},
		{"lookup in file", func() error { _, err := f.Lookup("x"); return err }(), unix.ENOTDIR},
		{"create existing", func() error { _, err := root.Create("f", vfs.CreateAttr{Mode: unix.S_IFREG | 0o644}); return err }(), unix.EEXIST},
		{"mkdir existing", func() error { _, err := root.Create("d", vfs.CreateAttr{Mode: unix.S_IFDIR | 0o755}); return err }(), unix.EEXIST},
		{"rmdir non-empty", root.Remove("d", d), unix.ENOTEMPTY},
		{"rename dir over file", root.Rename("d", d, root, "f", f, 0), unix.ENOTDIR},
		{"rename exchange", root.Rename("d", d, root, "f", f, unix.RENAME_EXCHANGE), unix.EINVAL},
		{"readlink of file", func() error { _, err := f.Readlink(); return err }(), unix.EINVAL},
		{"tmpfile", func() error { _, err := root.Tmpfile(vfs.CreateAttr{Mode: unix.S_IFREG}); return err }(), unix.EOPNOTSUPP},
		{"name too long", func() error { _, err := root.Lookup(strings.Repeat("a", 300)); return err }(), unix.ENAMETOOLONG},
		{"open a fifo", func() error {
			i, err := root.Create("p", vfs.CreateAttr{Mode: unix.S_IFIFO | 0o644})
			if err != nil {
				return err
			}
			_, err = i.Open(unix.O_RDONLY)
			return err
		}(), unix.ENXIO},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	// Through the VFS.
	if _, err := e.open("/nope", unix.O_RDONLY, 0); !errors.Is(err, unix.ENOENT) {
		t.Errorf("open missing: %v", err)
	}
	if err := e.v.Unlinkat(e.c, vfs.Path{}, "/d", unix.AT_REMOVEDIR); !errors.Is(err, unix.ENOTEMPTY) {
		t.Errorf("rmdir non-empty: %v", err)
	}
	// Removed behind the guest's back: the host's ENOENT comes through.
	os.Remove(e.host("d/g"))
	g, err := d.Lookup("g")
	if !errors.Is(err, unix.ENOENT) || g != nil {
		t.Errorf("lookup of a name the host removed: %v", err)
	}
}

func TestUnlinkedOpenFile(t *testing.T) {
	e := newEnv(t)
	e.writeFile("/f", "keep")
	f, err := e.open("/f", unix.O_RDWR, 0)
	e.must(err)
	defer f.DecRef()
	e.must(e.v.Unlinkat(e.c, vfs.Path{}, "/f", 0))
	st, err := f.Stat()
	e.must(err)
	if st.Nlink != 0 || st.Size != 4 {
		t.Fatalf("fstat of unlinked file: nlink %d size %d", st.Nlink, st.Size)
	}
	buf := make([]byte, 4)
	if n, err := f.Pread(buf, 0); err != nil || string(buf[:n]) != "keep" {
		t.Fatalf("read of unlinked file %q %v", buf[:n], err)
	}
}

func TestConcurrent(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := "/g" + itoa(g)
			for i := 0; i < 20; i++ {
				f, err := e.open(name, unix.O_WRONLY|unix.O_CREAT|unix.O_APPEND, 0o644)
				if err != nil {
					t.Error(err)
					return
				}
				f.Write([]byte("ab"))
				f.DecRef()
			}
		}()
	}
	wg.Wait()
	for g := 0; g < 8; g++ {
		if h := hostRead(t, e.host("g"+itoa(g))); len(h) != 40 {
			t.Fatalf("g%d: %d bytes", g, len(h))
		}
	}
}
