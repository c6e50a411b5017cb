// Package linuxdiff runs the same random sequences of namespace
// operations on a VFS and on Linux, so that tests can require the same
// errno from every operation and the same tree at the end. The Linux side
// runs in a child process (the test binary again) chrooted into a fresh
// directory, since the paths are absolute and fsuid changes.
package linuxdiff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path"
	"runtime"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"yolk/vfs"
)

type Op struct {
	Kind  string
	P, Q  string
	Flags int
	N     int64
	Mode  uint32
	UID   uint32 // fsuid and fsgid of the caller: 0 or 1000
}

type Result struct {
	Errno  int
	Mode   uint32 `json:",omitempty"`
	Nlink  uint32 `json:",omitempty"`
	Size   int64  `json:",omitempty"`
	Target string `json:",omitempty"`
	Off    int64  `json:",omitempty"` // lseek's result
	Blocks int64  `json:",omitempty"`
}

func (r Result) String() string {
	if r.Errno != 0 {
		return unix.Errno(r.Errno).Error()
	}
	return fmt.Sprintf("ok mode=%o nlink=%d size=%d target=%q off=%d blocks=%d", r.Mode, r.Nlink, r.Size, r.Target, r.Off, r.Blocks)
}

type Entry struct {
	UID    uint32
	GID    uint32
	Mode   uint32
	Nlink  uint32
	Size   int64
	Target string
}

type Output struct {
	Results []Result
	Tree    map[string]Entry
}

var (
	comps   = []string{"a", "b", "c", "d", "a", "b", ".", "..", ""}
	targets = []string{"a", "../b", "/c", "a/b", ".", "..", "nowhere", "/", "d/", "b/../a"}
	modes   = []uint32{0o755, 0o700, 0o777, 0o644, 0o1777, 0o2755, 0, 0o4755}
	Opens   = []int{
		unix.O_RDONLY, unix.O_WRONLY | unix.O_CREAT, unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL,
		unix.O_RDWR | unix.O_TRUNC, unix.O_RDONLY | unix.O_DIRECTORY, unix.O_RDONLY | unix.O_NOFOLLOW,
		unix.O_WRONLY | unix.O_CREAT | unix.O_NOFOLLOW, unix.O_WRONLY, unix.O_PATH | unix.O_NOFOLLOW,
		unix.O_RDONLY | unix.O_TRUNC, unix.O_TMPFILE | unix.O_RDWR, unix.O_WRONLY | unix.O_APPEND,
		unix.O_CREAT | unix.O_DIRECTORY, unix.O_PATH | unix.O_DIRECTORY,
	}
)

func randPath(r *rand.Rand) string {
	n := 1 + r.Intn(3)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = comps[r.Intn(len(comps))]
	}
	p := strings.Join(parts, "/")
	if r.Intn(4) != 0 {
		p = "/" + p
	}
	if r.Intn(6) == 0 {
		p += "/"
	}
	if p == "" {
		p = "a"
	}
	return p
}

func Ops(seed int64, n int) []Op {
	r := rand.New(rand.NewSource(seed))
	ops := make([]Op, n)
	for i := range ops {
		op := Op{P: randPath(r), Mode: modes[r.Intn(len(modes))]}
		if r.Intn(3) == 0 {
			op.UID = 1000
		}
		switch r.Intn(20) {
		case 0, 1:
			op.Kind = "mkdir"
		case 2:
			op.Kind = "rmdir"
		case 3:
			op.Kind = "unlink"
		case 4, 5:
			op.Kind, op.Q = "rename", randPath(r)
			op.Flags = []int{0, 0, unix.RENAME_NOREPLACE, unix.RENAME_EXCHANGE}[r.Intn(4)]
		case 6:
			op.Kind, op.Q = "link", randPath(r)
			op.Flags = []int{0, unix.AT_SYMLINK_FOLLOW}[r.Intn(2)]
		case 7:
			op.Kind, op.Q = "symlink", targets[r.Intn(len(targets))]
		case 8, 9:
			// O_NONBLOCK: opening a FIFO must not wait for the other end.
			op.Kind, op.Flags = "open", Opens[r.Intn(len(Opens))]|unix.O_NONBLOCK
		case 10:
			op.Kind, op.N = "truncate", []int64{0, 5, 10000}[r.Intn(3)]
		case 11:
			op.Kind, op.Flags = "stat", []int{0, unix.AT_SYMLINK_NOFOLLOW}[r.Intn(2)]
		case 12:
			op.Kind = "readlink"
		case 13:
			op.Kind = "mknod"
		case 14:
			op.Kind, op.Flags = "utimens", []int{0, unix.AT_SYMLINK_NOFOLLOW}[r.Intn(2)]
			op.N = int64(r.Intn(2))
		case 15:
			op.Kind = "chmod"
		case 16:
			op.Kind, op.N, op.Flags = "chown", []int64{-1, 0, 1000}[r.Intn(3)], []int{-1, 0, 1000}[r.Intn(3)]
		case 17:
			op.Kind, op.N = "access", int64(r.Intn(8))
		case 18, 19:
			// A data operation on an open file: see dataOp.
			op.Kind, op.Flags = "data", r.Intn(6)
			op.N = []int64{0, 1, 4095, 4096, 10000, 1 << 20}[r.Intn(6)]
		}
		ops[i] = op
	}
	return ops
}

// RunVFS applies ops to v as RunLinux applies them to Linux, with the
// root directory as it is. Install FIFOOpener first if ops may open a
// FIFO.
func RunVFS(v *vfs.VFS, ops []Op) Output {
	var root vfs.Path
	rootCtx := &vfs.Context{Umask: 0o022}
	as := func(uid uint32) *vfs.Context {
		return &vfs.Context{Cred: vfs.Cred{UID: uid, GID: uid}, Umask: 0o022}
	}
	// FIFOs opened without blocking: for reading (or both ways) at once,
	// for writing only ENXIO while nobody reads.
	var out Output
	for _, op := range ops {
		var res Result
		var err error
		c := as(op.UID)
		switch op.Kind {
		case "mkdir":
			err = v.Mkdirat(c, root, op.P, op.Mode)
		case "rmdir":
			err = v.Unlinkat(c, root, op.P, unix.AT_REMOVEDIR)
		case "unlink":
			err = v.Unlinkat(c, root, op.P, 0)
		case "rename":
			err = v.Renameat2(c, root, op.P, root, op.Q, uint32(op.Flags))
		case "link":
			err = v.Linkat(c, root, op.P, root, op.Q, op.Flags)
		case "symlink":
			err = v.Symlinkat(c, op.Q, root, op.P)
		case "open":
			var f *vfs.File
			f, err = v.Openat(c, root, op.P, vfs.OpenHow{Flags: op.Flags, Mode: op.Mode})
			if err == nil {
				if f.Flags()&unix.O_ACCMODE != unix.O_RDONLY {
					f.Write([]byte("xyz"))
				}
				f.DecRef()
			}
		case "truncate":
			err = v.Truncate(c, root, op.P, op.N)
		case "stat":
			var st vfs.Stat
			st, err = v.Statat(c, root, op.P, op.Flags)
			if err == nil {
				res.Mode, res.Nlink, res.Size = st.Mode, st.Nlink, st.Size
			}
		case "readlink":
			res.Target, err = v.Readlinkat(c, root, op.P)
		case "mknod":
			err = v.Mknodat(c, root, op.P, unix.S_IFIFO|op.Mode, 0)
		case "utimens":
			var ts *[2]vfs.Timespec // both now
			if op.N == 1 {
				ts = &[2]vfs.Timespec{{Sec: 1}, {Nsec: unix.UTIME_OMIT}}
			}
			err = v.Utimensat(c, root, op.P, ts, op.Flags)
		case "chmod":
			err = v.Chmodat(c, root, op.P, op.Mode, 0)
		case "chown":
			err = v.Chownat(c, root, op.P, op.N, int64(op.Flags), 0)
		case "access":
			err = v.Accessat(c, root, op.P, uint32(op.N), unix.AT_EACCESS)
		case "data":
			var f *vfs.File
			if f, err = v.Openat(c, root, op.P, vfs.OpenHow{Flags: unix.O_RDWR | unix.O_NONBLOCK}); err == nil {
				switch op.Flags {
				case 0:
					_, err = f.Pwrite([]byte("abc"), op.N)
				case 1:
					err = f.Truncate(op.N)
				case 2:
					err = f.Allocate(0, op.N, 5000)
				case 3:
					err = f.Allocate(unix.FALLOC_FL_KEEP_SIZE, op.N, 5000)
				case 4:
					res.Off, err = f.Seek(op.N, unix.SEEK_DATA)
				case 5:
					res.Off, err = f.Seek(op.N, unix.SEEK_HOLE)
				}
				if st, serr := f.Stat(); serr == nil && st.Type() == unix.S_IFREG {
					res.Size, res.Blocks = st.Size, st.Blocks
				}
				f.DecRef()
			}
		}
		res.Errno = errnoInt(err)
		out.Results = append(out.Results, res)
	}
	out.Tree = map[string]Entry{}
	var walk func(dir string)
	walk = func(dir string) {
		for _, name := range list(v, rootCtx, dir) {
			p := path.Join(dir, name)
			st, _ := v.Statat(rootCtx, root, p, unix.AT_SYMLINK_NOFOLLOW)
			te := Entry{Mode: st.Mode, Nlink: st.Nlink, Size: st.Size, UID: st.UID, GID: st.GID}
			if st.Type() == unix.S_IFLNK {
				te.Target, _ = v.Readlinkat(rootCtx, root, p)
			}
			out.Tree[p] = te
			if st.IsDir() {
				walk(p)
			}
		}
	}
	walk("/")
	return out
}

// RunLinux applies ops to the process's root directory, each as the
// fsuid and fsgid it names, and lists the tree afterwards. The calling
// goroutine must be locked to its thread (fsuid is per thread).
func RunLinux(ops []Op) Output {
	const cwd = unix.AT_FDCWD
	var out Output
	for _, op := range ops {
		var res Result
		var err error
		// fsuid and fsgid are per thread, and this goroutine keeps its
		// thread; leaving uid 0 drops the filesystem capabilities.
		unix.Setfsgid(int(op.UID))
		unix.Setfsuid(int(op.UID))
		switch op.Kind {
		case "mkdir":
			err = unix.Mkdirat(cwd, op.P, op.Mode)
		case "rmdir":
			err = unix.Unlinkat(cwd, op.P, unix.AT_REMOVEDIR)
		case "unlink":
			err = unix.Unlinkat(cwd, op.P, 0)
		case "rename":
			err = unix.Renameat2(cwd, op.P, cwd, op.Q, uint(op.Flags))
		case "link":
			err = unix.Linkat(cwd, op.P, cwd, op.Q, op.Flags)
		case "symlink":
			err = unix.Symlinkat(op.Q, cwd, op.P)
		case "open":
			var fd int
			fd, err = unix.Openat(cwd, op.P, op.Flags, op.Mode)
			if err == nil {
				if op.Flags&unix.O_ACCMODE != unix.O_RDONLY && op.Flags&unix.O_PATH == 0 {
					unix.Write(fd, []byte("xyz"))
				}
				unix.Close(fd)
			}
		case "truncate":
			err = unix.Truncate(op.P, op.N)
		case "stat":
			var st unix.Stat_t
			err = unix.Fstatat(cwd, op.P, &st, op.Flags)
			if err == nil {
				res.Mode, res.Nlink, res.Size = st.Mode, uint32(st.Nlink), st.Size
			}
		case "readlink":
			buf := make([]byte, 4096)
			var n int
			n, err = unix.Readlinkat(cwd, op.P, buf)
			if err == nil {
				res.Target = string(buf[:n])
			}
		case "mknod":
			err = unix.Mknodat(cwd, op.P, unix.S_IFIFO|op.Mode, 0)
		case "utimens":
			if op.N == 1 {
				err = unix.UtimesNanoAt(cwd, op.P, []unix.Timespec{{Sec: 1}, {Nsec: unix.UTIME_OMIT}}, op.Flags)
			} else {
				// Both UTIME_NOW is what the VFS gets as a nil times.
				err = unix.UtimesNanoAt(cwd, op.P, []unix.Timespec{{Nsec: unix.UTIME_NOW}, {Nsec: unix.UTIME_NOW}}, op.Flags)
			}
		case "chmod":
			err = unix.Fchmodat(cwd, op.P, op.Mode, 0)
		case "chown":
			err = unix.Fchownat(cwd, op.P, int(op.N), op.Flags, 0)
		case "access":
			err = unix.Faccessat(cwd, op.P, uint32(op.N), unix.AT_EACCESS)
		case "data":
			var fd int
			if fd, err = unix.Openat(cwd, op.P, unix.O_RDWR|unix.O_NONBLOCK, 0); err == nil {
				switch op.Flags {
				case 0:
					_, err = unix.Pwrite(fd, []byte("abc"), op.N)
				case 1:
					err = unix.Ftruncate(fd, op.N)
				case 2:
					err = unix.Fallocate(fd, 0, op.N, 5000)
				case 3:
					err = unix.Fallocate(fd, unix.FALLOC_FL_KEEP_SIZE, op.N, 5000)
				case 4:
					res.Off, err = unix.Seek(fd, op.N, unix.SEEK_DATA)
				case 5:
					res.Off, err = unix.Seek(fd, op.N, unix.SEEK_HOLE)
				}
				if err != nil {
					res.Off = 0 // lseek returns -1 with the errno
				}
				var st unix.Stat_t
				if unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
					res.Size, res.Blocks = st.Size, st.Blocks
				}
				unix.Close(fd)
			}
		}
		res.Errno = errnoInt(err)
		out.Results = append(out.Results, res)
	}
	unix.Setfsuid(0)
	unix.Setfsgid(0)
	out.Tree = map[string]Entry{}
	var walk func(dir string)
	walk = func(dir string) {
		ents, _ := os.ReadDir(dir)
		names := make([]string, 0, len(ents))
		for _, d := range ents {
			names = append(names, d.Name())
		}
		sort.Strings(names)
		for _, name := range names {
			p := path.Join(dir, name)
			var st unix.Stat_t
			unix.Lstat(p, &st)
			te := Entry{Mode: st.Mode, Nlink: uint32(st.Nlink), Size: st.Size, UID: st.Uid, GID: st.Gid}
			if st.Mode&unix.S_IFMT == unix.S_IFLNK {
				te.Target, _ = os.Readlink(p)
			}
			out.Tree[p] = te
			if st.Mode&unix.S_IFMT == unix.S_IFDIR {
				walk(p)
			}
		}
	}
	walk("/")
	return out
}

type fifo struct{ vfs.FileBase }

func (fifo) Stat() (vfs.Stat, error) { return vfs.Stat{}, nil }

// FIFOOpener opens FIFOs as Linux does with O_NONBLOCK and nobody at the
// other end: for reading (or both ways) at once, for writing only ENXIO.
func FIFOOpener(p vfs.Path, flags int) (vfs.FileImpl, error) {
	if flags&unix.O_ACCMODE == unix.O_WRONLY {
		return nil, unix.ENXIO
	}
	return fifo{}, nil
}

func errnoInt(err error) int {
	if err == nil {
		return 0
	}
	if e, ok := err.(unix.Errno); ok {
		return int(e)
	}
	return 0xffff
}

func list(v *vfs.VFS, c *vfs.Context, dir string) []string {
	f, err := v.Openat(c, vfs.Path{}, dir, vfs.OpenHow{Flags: unix.O_DIRECTORY})
	if err != nil {
		return nil
	}
	defer f.DecRef()
	var names []string
	f.ReadDir(func(d vfs.Dirent) bool {
		if d.Name != "." && d.Name != ".." {
			names = append(names, d.Name)
		}
		return true
	})
	slices.Sort(names)
	return names
}

// Spawn runs the test named child in a child process with env added,
// hands it seqs and returns its outputs, one per sequence.
func Spawn(t *testing.T, child string, env []string, seqs [][]Op) []Output {
	in, _ := json.Marshal(seqs)
	cmd := exec.Command(os.Args[0], "-test.run=^"+child+"$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s%s", err, b, stderr.String())
	}
	i, j := bytes.IndexByte(b, '['), bytes.LastIndexByte(b, ']')
	var out []Output
	if i < 0 || j < i || json.Unmarshal(b[i:j+1], &out) != nil || len(out) != len(seqs) {
		t.Fatalf("child output %q", b)
	}
	return out
}

// Child is the body of the child test: it reads the sequences, calls
// enter(i) to make the root ready for sequence i (it returns what undoes
// that), runs them and prints the outputs for Spawn.
func Child(t *testing.T, enter func(i int) (leave func())) {
	runtime.LockOSThread()
	syscall.Umask(0o022)
	var seqs [][]Op
	if err := json.NewDecoder(os.Stdin).Decode(&seqs); err != nil {
		t.Fatal(err)
	}
	var outs []Output
	for i, ops := range seqs {
		leave := enter(i)
		os.Chdir("/")
		outs = append(outs, RunLinux(ops))
		leave()
	}
	b, _ := json.Marshal(outs)
	os.Stdout.Write(b)
	os.Stdout.Write([]byte("\n"))
}

// Options relax Compare for what a filesystem legitimately does
// differently.
type Options struct {
	DirNlink bool // compare nlink of directories too
}

// Compare reports the first operation whose result differs, and every
// difference in the final trees; it returns false if there was one.
func Compare(t *testing.T, seed int64, ops []Op, got, want Output, o Options) bool {
	t.Helper()
	norm := func(r *Result) {
		if r.Mode&unix.S_IFMT == unix.S_IFDIR {
			r.Size = 0 // directory sizes are bookkeeping
			if !o.DirNlink {
				r.Nlink = 0
			}
		}
	}
	for i := range ops {
		g, w := got.Results[i], want.Results[i]
		norm(&g)
		norm(&w)
		if g != w {
			var hist strings.Builder
			for _, op := range ops[max(0, i-8):i] {
				fmt.Fprintf(&hist, "\t%+v\n", op)
			}
			t.Errorf("seed %d op %d %+v: vfs %v %#v, linux %v %#v\nafter:\n%s", seed, i, ops[i], g, g, w, w, hist.String())
			return false
		}
	}
	ok := true
	normE := func(e *Entry) {
		if e.Mode&unix.S_IFMT == unix.S_IFDIR {
			e.Size = 0
			if !o.DirNlink {
				e.Nlink = 0
			}
		}
	}
	for p, w := range want.Tree {
		g, found := got.Tree[p]
		normE(&g)
		normE(&w)
		if !found || g != w {
			t.Errorf("seed %d: %s: vfs %+v (exists %v), linux %+v", seed, p, g, found, w)
			ok = false
		}
	}
	for p := range got.Tree {
		if _, found := want.Tree[p]; !found {
			t.Errorf("seed %d: %s exists only in the VFS", seed, p)
			ok = false
		}
	}
	return ok
}
