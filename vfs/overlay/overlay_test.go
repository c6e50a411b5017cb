package overlay_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
	"golang.org/x/sys/unix"

	"yolk/initrd"
	"yolk/vfs"
	"yolk/vfs/cpiofs"
	"yolk/vfs/overlay"
	"yolk/vfs/tmpfs"
)

// lowerTree is the read-only layer every test starts from.
func lowerTree(t testing.TB) *initrd.FS {
	var buf bytes.Buffer
	w := cpio.Newc.Writer(&buf)
	recs := []cpio.Record{
		cpio.Directory("bin", 0o755),
		cpio.StaticFile("bin/hello", "hello", 0o755),
		cpio.Directory("etc", 0o755),
		cpio.StaticRecord([]byte("root"), cpio.Info{Name: "etc/passwd", Mode: cpio.S_IFREG | 0o644, UID: 0, MTime: 1234}),
		cpio.Directory("etc/sub", 0o755),
		cpio.StaticFile("etc/sub/x", "x", 0o644),
		cpio.Symlink("etc/link", "passwd"),
		cpio.Directory("d", 0o755),
		cpio.StaticFile("d/a", "A", 0o644),
		cpio.StaticFile("d/b", "B", 0o644),
		cpio.StaticFile("d/c", "C", 0o644),
		cpio.Directory("empty", 0o755),
		cpio.StaticFile("deep/a/b/file", "deep file", 0o600),
	}
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
	return fs
}

type env struct {
	t     testing.TB
	v     *vfs.VFS
	upper *tmpfs.FS
	tree  *initrd.FS
	c     *vfs.Context
}

var at vfs.Path

func newEnv(t testing.TB) *env {
	tree := lowerTree(t)
	upper := tmpfs.New(tmpfs.Options{RootMode: 0o755})
	v := vfs.New(overlay.New(upper, cpiofs.New(tree)), 0, "overlay")
	return &env{t: t, v: v, upper: upper, tree: tree, c: &vfs.Context{}}
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) read(name string) string {
	e.t.Helper()
	f, err := e.v.Openat(e.c, at, name, vfs.OpenHow{})
	e.must(err)
	defer f.DecRef()
	buf := make([]byte, 100)
	n, err := f.Read(buf)
	e.must(err)
	return string(buf[:n])
}

func (e *env) write(name string, flags int, data string) {
	e.t.Helper()
	f, err := e.v.Openat(e.c, at, name, vfs.OpenHow{Flags: unix.O_WRONLY | flags, Mode: 0o644})
	e.must(err)
	defer f.DecRef()
	_, err = f.Write([]byte(data))
	e.must(err)
}

func (e *env) stat(name string) (vfs.Stat, error) {
	return e.v.Statat(e.c, at, name, unix.AT_SYMLINK_NOFOLLOW)
}

func (e *env) list(name string) []string {
	e.t.Helper()
	f, err := e.v.Openat(e.c, at, name, vfs.OpenHow{Flags: unix.O_DIRECTORY})
	e.must(err)
	defer f.DecRef()
	var names []string
	e.must(f.ReadDir(func(d vfs.Dirent) bool {
		if d.Name != "." && d.Name != ".." {
			names = append(names, d.Name)
		}
		return true
	}))
	slices.Sort(names)
	return names
}

// inUpper reports whether name exists in the upper layer itself.
func (e *env) inUpper(name string) bool {
	uv := vfs.New(e.upper, 0, "upper")
	_, err := uv.Statat(e.c, at, name, unix.AT_SYMLINK_NOFOLLOW)
	return err == nil
}

func lowerData(e *env, name string) string {
	n, err := e.tree.Lookup(name, false)
	e.must(err)
	return string(n.Data)
}

func errno(err error) unix.Errno {
	var en unix.Errno
	if errors.As(err, &en) {
		return en
	}
	return 0
}

func TestCopyUpOnWrite(t *testing.T) {
	e := newEnv(t)
	before, _ := e.stat("/etc/passwd")
	if e.inUpper("/etc/passwd") || e.inUpper("/etc") {
		t.Fatal("copied up before any change")
	}
	if e.read("/etc/passwd") != "root" {
		t.Fatal("lower content not visible")
	}
	if e.inUpper("/etc/passwd") {
		t.Fatal("reading copied up")
	}
	e.write("/etc/passwd", unix.O_APPEND, ":x")
	if got := e.read("/etc/passwd"); got != "root:x" {
		t.Errorf("after append: %q", got)
	}
	if !e.inUpper("/etc/passwd") {
		t.Errorf("not copied up")
	}
	if lowerData(e, "/etc/passwd") != "root" {
		t.Errorf("the lower layer changed")
	}
	after, _ := e.stat("/etc/passwd")
	if after.Ino != before.Ino || after.Dev != before.Dev || after.Mode != before.Mode {
		t.Errorf("identity changed by copy-up: %+v -> %+v", before, after)
	}
	if after.Mtime == before.Mtime {
		t.Errorf("mtime not updated by the write")
	}
	// O_TRUNC copies up an empty file.
	e.write("/d/a", unix.O_TRUNC, "")
	if st, _ := e.stat("/d/a"); st.Size != 0 || lowerData(e, "/d/a") != "A" {
		t.Errorf("O_TRUNC: size %d", st.Size)
	}
}

func TestCopyUpOnAttributes(t *testing.T) {
	e := newEnv(t)
	e.must(e.v.Chmodat(e.c, at, "/bin/hello", 0o700, 0))
	if st, _ := e.stat("/bin/hello"); st.Mode != unix.S_IFREG|0o700 || !e.inUpper("/bin/hello") {
		t.Errorf("chmod: mode %o", st.Mode)
	}
	if e.read("/bin/hello") != "hello" {
		t.Errorf("content lost in copy-up")
	}
	// Copy-up keeps the lower mtime; a chown changes only ctime.
	e.must(e.v.Chownat(e.c, at, "/etc/passwd", 5, 6, 0))
	if st, _ := e.stat("/etc/passwd"); st.UID != 5 || st.GID != 6 || st.Mtime.Sec != 1234 {
		t.Errorf("chown: %d:%d mtime %v", st.UID, st.GID, st.Mtime)
	}
	// Truncate copies up the parents too.
	e.must(e.v.Truncate(e.c, at, "/deep/a/b/file", 4))
	if e.read("/deep/a/b/file") != "deep" || !e.inUpper("/deep/a/b/file") {
		t.Errorf("truncate through copy-up")
	}
	if st, _ := e.stat("/deep/a"); st.Mode != unix.S_IFDIR|0o755 {
		t.Errorf("copied-up parent mode %o", st.Mode)
	}
	// The symlink is followed: its target is copied up, not the link.
	e.must(e.v.Utimensat(e.c, at, "/etc/link", &[2]vfs.Timespec{{Sec: 1}, {Sec: 2}}, 0))
	if st, _ := e.stat("/etc/passwd"); st.Mtime.Sec != 2 || e.inUpper("/etc/link") {
		t.Errorf("utimens through a symlink")
	}
	e.must(e.v.Utimensat(e.c, at, "/etc/link", &[2]vfs.Timespec{{Sec: 3}, {Sec: 4}}, unix.AT_SYMLINK_NOFOLLOW))
	if l, err := e.v.Readlinkat(e.c, at, "/etc/link"); l != "passwd" || err != nil || !e.inUpper("/etc/link") {
		t.Errorf("copied-up symlink reads %q, %v", l, err)
	}
}

func TestWhiteouts(t *testing.T) {
	e := newEnv(t)
	e.must(e.v.Unlinkat(e.c, at, "/d/b", 0))
	if _, err := e.stat("/d/b"); errno(err) != unix.ENOENT {
		t.Errorf("whited-out file: %v", err)
	}
	if got := e.list("/d"); !slices.Equal(got, []string{"a", "c"}) {
		t.Errorf("/d lists %v", got)
	}
	if lowerData(e, "/d/b") != "B" {
		t.Errorf("lower changed")
	}
	// A new file may take the name again.
	e.write("/d/b", unix.O_CREAT|unix.O_EXCL, "new")
	if e.read("/d/b") != "new" {
		t.Errorf("recreated /d/b")
	}
	if got := e.list("/d"); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("/d lists %v", got)
	}
	// A lower directory is removed once its merged view is empty; one
	// made in its place is opaque.
	if err := e.v.Unlinkat(e.c, at, "/etc/sub", unix.AT_REMOVEDIR); errno(err) != unix.ENOTEMPTY {
		t.Errorf("rmdir of a non-empty lower directory: %v", err)
	}
	e.must(e.v.Unlinkat(e.c, at, "/etc/sub/x", 0))
	e.must(e.v.Unlinkat(e.c, at, "/etc/sub", unix.AT_REMOVEDIR))
	if got := e.list("/etc"); !slices.Equal(got, []string{"link", "passwd"}) {
		t.Errorf("/etc lists %v", got)
	}
	e.must(e.v.Mkdirat(e.c, at, "/etc/sub", 0o700))
	if got := e.list("/etc/sub"); len(got) != 0 {
		t.Errorf("new directory over a removed lower one shows %v", got)
	}
	if _, err := e.stat("/etc/sub/x"); errno(err) != unix.ENOENT {
		t.Errorf("lower entry through an opaque directory: %v", err)
	}
	// A directory whose upper part holds only whiteouts is empty.
	e.write("/empty/f", unix.O_CREAT, "f")
	e.must(e.v.Unlinkat(e.c, at, "/empty/f", 0))
	e.must(e.v.Unlinkat(e.c, at, "/empty", unix.AT_REMOVEDIR))
	if _, err := e.stat("/empty"); errno(err) != unix.ENOENT {
		t.Errorf("removed /empty: %v", err)
	}
}

func TestReadDirMerge(t *testing.T) {
	e := newEnv(t)
	e.write("/d/new", unix.O_CREAT, "n")
	e.write("/d/a", 0, "copied") // upper and lower both have a
	e.must(e.v.Mkdirat(e.c, at, "/d/sub", 0o755))
	e.must(e.v.Unlinkat(e.c, at, "/d/c", 0))
	if got := e.list("/d"); !slices.Equal(got, []string{"a", "b", "new", "sub"}) {
		t.Errorf("/d lists %v", got)
	}
	// Inode numbers in the listing are those stat reports.
	f, err := e.v.Openat(e.c, at, "/d", vfs.OpenHow{Flags: unix.O_DIRECTORY})
	e.must(err)
	defer f.DecRef()
	e.must(f.ReadDir(func(d vfs.Dirent) bool {
		st, err := e.v.Statat(e.c, f.Path(), d.Name, unix.AT_SYMLINK_NOFOLLOW)
		if err != nil || st.Ino != d.Ino || vfs.DirentType(st.Mode) != d.Type {
			t.Errorf("%s: dirent ino %d type %d, stat ino %d mode %o (%v)", d.Name, d.Ino, d.Type, st.Ino, st.Mode, err)
		}
		return true
	}))
	// Listings of the root and of an upper-only directory.
	if got := e.list("/"); !slices.Equal(got, []string{"bin", "d", "deep", "empty", "etc"}) {
		t.Errorf("/ lists %v", got)
	}
	e.write("/d/sub/x", unix.O_CREAT, "")
	if got := e.list("/d/sub"); !slices.Equal(got, []string{"x"}) {
		t.Errorf("/d/sub lists %v", got)
	}
}

func TestRename(t *testing.T) {
	e := newEnv(t)
	ino, _ := e.stat("/d/a")
	e.must(e.v.Renameat2(e.c, at, "/d/a", at, "/d/z", 0))
	if _, err := e.stat("/d/a"); errno(err) != unix.ENOENT {
		t.Errorf("/d/a after rename: %v", err)
	}
	if st, _ := e.stat("/d/z"); e.read("/d/z") != "A" || st.Ino != ino.Ino {
		t.Errorf("/d/z after rename: ino %d, want %d", st.Ino, ino.Ino)
	}
	if got := e.list("/d"); !slices.Equal(got, []string{"b", "c", "z"}) {
		t.Errorf("/d lists %v", got)
	}
	// Across directories, over a lower file.
	e.must(e.v.Renameat2(e.c, at, "/d/c", at, "/bin/hello", 0))
	if e.read("/bin/hello") != "C" {
		t.Errorf("rename over a lower file")
	}
	if got := e.list("/bin"); !slices.Equal(got, []string{"hello"}) {
		t.Errorf("/bin lists %v", got)
	}
	// Lower directories do not move; upper ones do.
	if err := e.v.Renameat2(e.c, at, "/etc", at, "/etc2", 0); errno(err) != unix.EXDEV {
		t.Errorf("renaming a lower directory: %v", err)
	}
	e.must(e.v.Mkdirat(e.c, at, "/up", 0o755))
	e.write("/up/f", unix.O_CREAT, "f")
	e.must(e.v.Renameat2(e.c, at, "/up", at, "/d/up2", 0))
	if e.read("/d/up2/f") != "f" {
		t.Errorf("moved upper directory")
	}
	// Onto an emptied lower directory: the result must not show the
	// lower directory's entries.
	e.must(e.v.Unlinkat(e.c, at, "/etc/sub/x", 0))
	e.must(e.v.Renameat2(e.c, at, "/d/up2", at, "/etc/sub", 0))
	if got := e.list("/etc/sub"); !slices.Equal(got, []string{"f"}) {
		t.Errorf("/etc/sub lists %v", got)
	}
	// Exchange a lower file with an upper one.
	e.write("/d/n", unix.O_CREAT, "N")
	e.must(e.v.Renameat2(e.c, at, "/d/n", at, "/d/b", unix.RENAME_EXCHANGE))
	if e.read("/d/b") != "N" || e.read("/d/n") != "B" {
		t.Errorf("exchange: b=%q n=%q", e.read("/d/b"), e.read("/d/n"))
	}
	// Hard links to lower files copy them up.
	e.must(e.v.Linkat(e.c, at, "/d/b", at, "/d/hl", 0))
	if st, _ := e.stat("/d/hl"); st.Nlink != 2 || e.read("/d/hl") != "N" {
		t.Errorf("link: nlink %d", st.Nlink)
	}
}

func TestStatfsAndLimits(t *testing.T) {
	tree := lowerTree(t)
	upper := tmpfs.New(tmpfs.Options{MaxBytes: 4096})
	v := vfs.New(overlay.New(upper, cpiofs.New(tree)), 0, "overlay")
	c := &vfs.Context{}
	if s := v.StatfsOf(v.Root()); s.Type != 0x794c7630 || s.Blocks != 1 {
		t.Errorf("statfs %+v", s)
	}
	f, err := v.Openat(c, at, "/big", vfs.OpenHow{Flags: unix.O_CREAT | unix.O_WRONLY, Mode: 0o644})
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef()
	f.Write(make([]byte, 4096))
	if _, err := f.Write([]byte{1}); errno(err) != unix.ENOSPC {
		t.Errorf("full upper layer: %v", err)
	}
	// Copy-up into a full upper layer fails cleanly.
	if _, err := v.Openat(c, at, "/deep/a/b/file", vfs.OpenHow{Flags: unix.O_WRONLY}); errno(err) != unix.ENOSPC {
		t.Errorf("copy-up into a full layer: %v", err)
	}
	if got, _ := v.Statat(c, at, "/deep/a/b/file", 0); got.Size != 9 {
		t.Errorf("file after failed copy-up: size %d", got.Size)
	}
}

// A file opened read-only before another open copies it up reads the
// upper copy afterwards.
func TestReadOnlyFileFollowsCopyUp(t *testing.T) {
	e := newEnv(t)
	ro, err := e.v.Openat(e.c, at, "/etc/passwd", vfs.OpenHow{})
	e.must(err)
	defer ro.DecRef()
	buf := make([]byte, 2)
	ro.Read(buf)
	e.write("/etc/passwd", unix.O_APPEND, ":changed")
	rest := make([]byte, 100)
	n, _ := ro.Read(rest)
	if got := string(buf) + string(rest[:n]); got != "root:changed" {
		t.Errorf("read %q through the file opened before copy-up", got)
	}
}
