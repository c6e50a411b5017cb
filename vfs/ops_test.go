package vfs_test

import (
	"io"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"yolk/vfs"
	"yolk/vfs/tmpfs"
)

// errCase is one namespace call and the errno it must give.
type errCase struct {
	name string
	do   func(e *env) error
	err  unix.Errno
}

func runCases(t *testing.T, setup func(e *env), cases []errCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			setup(e)
			if err := tc.do(e); errno(err) != tc.err {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
		})
	}
}

var root vfs.Path // the zero Path: relative to the cwd, here "/"

// opsTree: /d/ (with /d/sub/ and /d/file), /e/ empty, /f "data", /l -> f,
// /m/ a mount point of a second tmpfs holding /m/g.
func opsTree(e *env) {
	e.mkdir("/d", "/d/sub", "/e", "/m")
	e.write("/d/file", "x")
	e.write("/f", "data")
	e.symlink("f", "/l")
	if _, err := e.v.Mount(e.lookup("/m"), tmpfs.New(tmpfs.Options{}), 0, "none"); err != nil {
		e.t.Fatal(err)
	}
	e.write("/m/g", "g")
}

func TestNamespaceErrors(t *testing.T) {
	mkdir := func(p string) func(e *env) error {
		return func(e *env) error { return e.v.Mkdirat(e.c, root, p, 0o755) }
	}
	unlink := func(p string, fl int) func(e *env) error {
		return func(e *env) error { return e.v.Unlinkat(e.c, root, p, fl) }
	}
	rename := func(a, b string, fl uint32) func(e *env) error {
		return func(e *env) error { return e.v.Renameat2(e.c, root, a, root, b, fl) }
	}
	link := func(a, b string) func(e *env) error {
		return func(e *env) error { return e.v.Linkat(e.c, root, a, root, b, 0) }
	}
	symlink := func(target, p string) func(e *env) error {
		return func(e *env) error { return e.v.Symlinkat(e.c, target, root, p) }
	}
	mknod := func(p string, mode uint32) func(e *env) error {
		return func(e *env) error { return e.v.Mknodat(e.c, root, p, mode, 0) }
	}
	as := func(uid uint32, fn func(e *env) error) func(e *env) error {
		return func(e *env) error {
			c := e.c
			e.c = e.as(uid, uid)
			defer func() { e.c = c }()
			return fn(e)
		}
	}
	runCases(t, opsTree, []errCase{
		{"mkdir", mkdir("/new"), 0},
		{"mkdir trailing slash", mkdir("/new//"), 0},
		{"mkdir exists", mkdir("/d"), unix.EEXIST},
		{"mkdir exists file", mkdir("/f/"), unix.EEXIST},
		{"mkdir dot", mkdir("/d/."), unix.EEXIST},
		{"mkdir dotdot", mkdir("/d/.."), unix.EEXIST},
		{"mkdir root", mkdir("/"), unix.EEXIST},
		{"mkdir no parent", mkdir("/nope/x"), unix.ENOENT},
		{"mkdir under file", mkdir("/f/x"), unix.ENOTDIR},
		{"mkdir no permission", as(1000, mkdir("/d/x")), unix.EACCES},
		{"mkdir dangling symlink", mkdir("/l"), unix.EEXIST},
		{"rmdir", unlink("/e", unix.AT_REMOVEDIR), 0},
		{"rmdir trailing slash", unlink("/e/", unix.AT_REMOVEDIR), 0},
		{"rmdir not empty", unlink("/d", unix.AT_REMOVEDIR), unix.ENOTEMPTY},
		{"rmdir file", unlink("/f", unix.AT_REMOVEDIR), unix.ENOTDIR},
		{"rmdir symlink", unlink("/l", unix.AT_REMOVEDIR), unix.ENOTDIR},
		{"rmdir dot", unlink("/e/.", unix.AT_REMOVEDIR), unix.EINVAL},
		{"rmdir dotdot", unlink("/d/sub/..", unix.AT_REMOVEDIR), unix.ENOTEMPTY},
		{"rmdir root", unlink("/", unix.AT_REMOVEDIR), unix.EBUSY},
		{"rmdir mount point", unlink("/m", unix.AT_REMOVEDIR), unix.EBUSY},
		{"rmdir missing", unlink("/nope", unix.AT_REMOVEDIR), unix.ENOENT},
		{"unlink", unlink("/f", 0), 0},
		{"unlink symlink", unlink("/l", 0), 0},
		{"unlink dir", unlink("/d", 0), unix.EISDIR},
		{"unlink dot", unlink("/d/.", 0), unix.EISDIR},
		{"unlink trailing slash", unlink("/f/", 0), unix.ENOTDIR},
		{"unlink missing", unlink("/nope", 0), unix.ENOENT},
		{"unlink bad flag", unlink("/f", 1), unix.EINVAL},
		{"unlink no permission", as(1000, unlink("/d/file", 0)), unix.EACCES},
		{"rename", rename("/f", "/g", 0), 0},
		{"rename replace", rename("/f", "/d/file", 0), 0},
		{"rename noreplace", rename("/f", "/d/file", unix.RENAME_NOREPLACE), unix.EEXIST},
		{"rename noreplace ok", rename("/f", "/g", unix.RENAME_NOREPLACE), 0},
		{"rename exchange", rename("/f", "/d", unix.RENAME_EXCHANGE), 0},
		{"rename exchange missing", rename("/f", "/g", unix.RENAME_EXCHANGE), unix.ENOENT},
		{"rename both flags", rename("/f", "/g", unix.RENAME_EXCHANGE|unix.RENAME_NOREPLACE), unix.EINVAL},
		{"rename whiteout", rename("/f", "/g", unix.RENAME_WHITEOUT), unix.EINVAL},
		{"rename across mounts", rename("/f", "/m/f", 0), unix.EXDEV},
		{"rename dir into itself", rename("/d", "/d/sub/x", 0), unix.EINVAL},
		{"rename dir onto itself", rename("/d", "/d/x", 0), unix.EINVAL},
		{"rename onto ancestor", rename("/d/sub", "/d", 0), unix.ENOTEMPTY},
		{"rename dir over nonempty", rename("/e", "/d", 0), unix.ENOTEMPTY},
		{"rename dir over empty", rename("/d", "/e", 0), 0},
		{"rename file over dir", rename("/f", "/e", 0), unix.EISDIR},
		{"rename dir over file", rename("/e", "/f", 0), unix.ENOTDIR},
		{"rename dot", rename("/d/.", "/x", 0), unix.EBUSY},
		{"rename to dotdot", rename("/f", "/d/..", 0), unix.EBUSY},
		{"rename to dotdot noreplace", rename("/f", "/d/..", unix.RENAME_NOREPLACE), unix.EEXIST},
		{"rename missing", rename("/nope", "/x", 0), unix.ENOENT},
		{"rename file trailing slash", rename("/f/", "/x", 0), unix.ENOTDIR},
		{"rename to trailing slash", rename("/f", "/x/", 0), unix.ENOTDIR},
		{"rename dir trailing slash", rename("/e/", "/x/", 0), 0},
		{"rename mount point", rename("/m", "/x", 0), unix.EBUSY},
		{"rename to self", rename("/f", "/f", 0), 0},
		{"link", link("/f", "/g"), 0},
		{"link dir", link("/d", "/g"), unix.EPERM},
		{"link exists", link("/f", "/d/file"), unix.EEXIST},
		{"link across mounts", link("/f", "/m/f"), unix.EXDEV},
		{"link to trailing slash", link("/f", "/g/"), unix.ENOENT},
		{"link dot", link("/f", "/d/."), unix.EEXIST},
		{"symlink", symlink("anything", "/s"), 0},
		{"symlink empty", symlink("", "/s"), unix.ENOENT},
		{"symlink exists", symlink("x", "/f"), unix.EEXIST},
		{"mknod fifo", mknod("/p", unix.S_IFIFO|0o644), 0},
		{"mknod plain", mknod("/p", 0o644), 0},
		{"mknod dir", mknod("/p", unix.S_IFDIR|0o755), unix.EPERM},
		{"mknod chr", mknod("/p", unix.S_IFCHR|0o644), 0},
		{"mknod chr user", as(1000, mknod("/e/p", unix.S_IFCHR|0o644)), unix.EPERM},
		{"mknod bad type", mknod("/p", 0o170000), unix.EINVAL},
	})
}

func TestRenameEffects(t *testing.T) {
	e := newEnv(t)
	opsTree(e)
	dBefore, eBefore := e.stat("/d"), e.stat("/e")
	e.must(e.v.Renameat2(e.c, root, "/d/sub", root, "/e/sub", 0))
	if d, ee := e.stat("/d"), e.stat("/e"); d.Nlink != dBefore.Nlink-1 || ee.Nlink != eBefore.Nlink+1 {
		t.Errorf("nlink after moving a directory: /d %d->%d, /e %d->%d", dBefore.Nlink, d.Nlink, eBefore.Nlink, ee.Nlink)
	}
	// ".." follows the move.
	if got := e.stat("/e/sub/.."); !same(got, e.stat("/e")) {
		t.Errorf("/e/sub/.. is not /e")
	}
	if e.exists("/d/sub") {
		t.Errorf("/d/sub still exists")
	}
	// Exchange a file and a directory.
	e.must(e.v.Renameat2(e.c, root, "/f", root, "/e", unix.RENAME_EXCHANGE))
	if !e.stat("/f").IsDir() || e.read("/e") != "data" || !e.exists("/f/sub") {
		t.Errorf("exchange did not swap /f and /e")
	}
	// Replacing a file keeps an open one readable.
	e.write("/a", "A")
	e.write("/b", "B")
	fb, err := e.open("/b", unix.O_RDONLY, 0)
	e.must(err)
	defer fb.DecRef()
	e.must(e.v.Renameat2(e.c, root, "/a", root, "/b", 0))
	if got := e.read("/b"); got != "A" {
		t.Errorf("/b = %q after rename", got)
	}
	buf := make([]byte, 4)
	if n, _ := fb.Read(buf); string(buf[:n]) != "B" {
		t.Errorf("the replaced file reads %q", buf[:n])
	}
	if st, _ := fb.Stat(); st.Nlink != 0 {
		t.Errorf("replaced file nlink %d", st.Nlink)
	}
	// Hard links: renaming one onto the other changes nothing.
	e.must(e.v.Linkat(e.c, root, "/b", root, "/b2", 0))
	e.must(e.v.Renameat2(e.c, root, "/b", root, "/b2", 0))
	if !e.exists("/b") || !e.exists("/b2") || e.stat("/b").Nlink != 2 {
		t.Errorf("rename between hard links changed something")
	}
}

func TestUnlinkOpenFile(t *testing.T) {
	e := newEnv(t)
	e.write("/f", "hello")
	f, err := e.open("/f", unix.O_RDWR, 0)
	e.must(err)
	e.must(e.v.Unlinkat(e.c, root, "/f", 0))
	if e.exists("/f") {
		t.Fatal("/f exists after unlink")
	}
	if _, err := f.Write([]byte("HE")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	n, _ := f.Pread(buf, 0)
	if string(buf[:n]) != "HEllo" {
		t.Errorf("read %q", buf[:n])
	}
	if b, _ := e.fs.Usage(); b != 4096 {
		t.Errorf("usage %d with an unlinked open file", b)
	}
	f.DecRef()
	if b, inodes := e.fs.Usage(); b != 0 || inodes != 1 {
		t.Errorf("usage %d bytes, %d inodes after the last close", b, inodes)
	}
}

func TestLinkTmpfile(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/d")
	f, err := e.open("/d", unix.O_TMPFILE|unix.O_RDWR, 0o640)
	e.must(err)
	defer f.DecRef()
	f.Write([]byte("tmp"))
	if len(e.list("/d")) != 0 {
		t.Fatalf("O_TMPFILE file is visible")
	}
	if st, _ := f.Stat(); st.Nlink != 0 || st.Mode != unix.S_IFREG|0o640 {
		t.Errorf("tmpfile nlink %d mode %o", st.Nlink, st.Mode)
	}
	e.must(e.v.Linkat(e.c, f.Path(), "", root, "/d/named", unix.AT_EMPTY_PATH))
	if got := e.read("/d/named"); got != "tmp" {
		t.Errorf("linked tmpfile reads %q", got)
	}
	if st := e.stat("/d/named"); st.Nlink != 1 {
		t.Errorf("nlink %d", st.Nlink)
	}
}

func TestStat(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/d")
	e.write("/d/f", "12345")
	e.must(e.v.Mknodat(e.c, root, "/d/null", unix.S_IFCHR|0o666, unix.Mkdev(1, 3)))
	e.must(e.v.Mknodat(e.c, root, "/d/fifo", unix.S_IFIFO|0o666, 0))
	e.symlink("f", "/d/l")
	d, f, n, p, l := e.stat("/d"), e.stat("/d/f"), e.stat("/d/null"), e.stat("/d/fifo"), e.stat("/d/l")
	if d.Dev == 0 || d.Dev != f.Dev || d.Ino == f.Ino || f.Ino == n.Ino {
		t.Errorf("dev/ino: %d/%d %d/%d %d/%d", d.Dev, d.Ino, f.Dev, f.Ino, n.Dev, n.Ino)
	}
	if d.Mode != unix.S_IFDIR|0o755 || d.Nlink != 2 {
		t.Errorf("dir mode %o nlink %d", d.Mode, d.Nlink)
	}
	if f.Mode != unix.S_IFREG|0o644 || f.Nlink != 1 || f.Size != 5 || f.Blocks != 8 || f.Blksize != 4096 {
		t.Errorf("file %+v", f)
	}
	if n.Mode != unix.S_IFCHR|0o644 || n.Rdev != unix.Mkdev(1, 3) {
		t.Errorf("device mode %o rdev %#x (umask 022 applies)", n.Mode, n.Rdev)
	}
	if p.Mode != unix.S_IFIFO|0o644 {
		t.Errorf("fifo mode %o", p.Mode)
	}
	if l.Mode != unix.S_IFLNK|0o777 || l.Size != 1 {
		t.Errorf("symlink mode %o size %d", l.Mode, l.Size)
	}
	if st, _ := e.v.Statat(e.c, root, "/d/l", 0); !same(st, f) {
		t.Errorf("stat follows no symlink")
	}
	if e.stat("/").Nlink != 3 {
		t.Errorf("root nlink %d, want 3", e.stat("/").Nlink)
	}
	if _, err := e.open("/d/fifo", unix.O_RDONLY, 0); errno(err) != unix.ENXIO {
		t.Errorf("opening a FIFO: %v", err)
	}
	if s, err := e.v.Statfsat(e.c, root, "/d"); err != nil || s.Type != unix.TMPFS_MAGIC || s.Namelen != 255 {
		t.Errorf("statfs %+v %v", s, err)
	}
	if st, err := e.v.Statat(e.c, root, "", unix.AT_EMPTY_PATH); err != nil || !same(st, e.stat("/")) {
		t.Errorf("AT_EMPTY_PATH at the cwd: %v", err)
	}
	if _, err := e.v.Statat(e.c, root, "", 0); errno(err) != unix.ENOENT {
		t.Errorf("empty path: %v", err)
	}
	if got, err := e.v.Readlinkat(e.c, root, "/d/l"); got != "f" || err != nil {
		t.Errorf("readlink %q %v", got, err)
	}
	if _, err := e.v.Readlinkat(e.c, root, "/d/f"); errno(err) != unix.EINVAL {
		t.Errorf("readlink of a file: %v", err)
	}
}

func TestAttributes(t *testing.T) {
	e := newEnv(t)
	e.write("/f", "x")
	e.must(e.v.Chownat(e.c, root, "/f", 1000, 100, 0))
	u := e.as(1000, 100, 200)
	other := e.as(2000, 2000)
	if err := e.v.Chmodat(other, root, "/f", 0o777, 0); errno(err) != unix.EPERM {
		t.Errorf("chmod by another user: %v", err)
	}
	e.must(e.v.Chmodat(u, root, "/f", 0o2755, 0))
	if st := e.stat("/f"); st.Mode != unix.S_IFREG|0o2755 {
		t.Errorf("mode %o", st.Mode)
	}
	e.must(e.v.Chownat(e.c, root, "/f", -1, 300, 0)) // a group u is not in
	e.must(e.v.Chmodat(u, root, "/f", 0o2755, 0))
	if st := e.stat("/f"); st.Mode != unix.S_IFREG|0o755 {
		t.Errorf("setgid kept by a non-member: %o", st.Mode)
	}
	if err := e.v.Chownat(u, root, "/f", 2000, -1, 0); errno(err) != unix.EPERM {
		t.Errorf("giving a file away: %v", err)
	}
	if err := e.v.Chownat(u, root, "/f", -1, 999, 0); errno(err) != unix.EPERM {
		t.Errorf("chgrp to a foreign group: %v", err)
	}
	e.must(e.v.Chownat(u, root, "/f", 1000, 200, 0))
	e.must(e.v.Chmodat(e.c, root, "/f", 0o6755, 0))
	e.must(e.v.Chownat(e.c, root, "/f", 0, 0, 0))
	if st := e.stat("/f"); st.Mode != unix.S_IFREG|0o755 || st.UID != 0 || st.GID != 0 {
		t.Errorf("chown kept set-id bits: %o %d:%d", st.Mode, st.UID, st.GID)
	}
	// A write by someone other than root clears set-user-ID.
	e.must(e.v.Chmodat(e.c, root, "/f", 0o4777, 0))
	f, err := e.v.Openat(other, root, "/f", vfs.OpenHow{Flags: unix.O_WRONLY})
	e.must(err)
	f.Write([]byte("y"))
	f.DecRef()
	if st := e.stat("/f"); st.Mode != unix.S_IFREG|0o777 {
		t.Errorf("write kept set-user-ID: %o", st.Mode)
	}
	e.symlink("f", "/l")
	if err := e.v.Chmodat(e.c, root, "/l", 0o700, unix.AT_SYMLINK_NOFOLLOW); errno(err) != unix.EOPNOTSUPP {
		t.Errorf("chmod of a symlink: %v", err)
	}
}

func TestUtimens(t *testing.T) {
	e := newEnv(t)
	e.write("/f", "x")
	e.must(e.v.Chownat(e.c, root, "/f", 1000, 1000, 0))
	before := e.stat("/f")
	ts := &[2]vfs.Timespec{{Sec: 5, Nsec: 6}, {Sec: 7, Nsec: 8}}
	e.must(e.v.Utimensat(e.c, root, "/f", ts, 0))
	st := e.stat("/f")
	if st.Atime != ts[0] || st.Mtime != ts[1] || st.Ctime.Sec <= before.Ctime.Sec {
		t.Errorf("explicit times: %+v %+v ctime %v (was %v)", st.Atime, st.Mtime, st.Ctime, before.Ctime)
	}
	e.must(e.v.Utimensat(e.c, root, "/f", &[2]vfs.Timespec{{Nsec: unix.UTIME_OMIT}, {Nsec: unix.UTIME_NOW}}, 0))
	st2 := e.stat("/f")
	if st2.Atime != ts[0] || st2.Mtime.Sec <= st.Ctime.Sec {
		t.Errorf("OMIT/NOW: atime %v mtime %v", st2.Atime, st2.Mtime)
	}
	e.must(e.v.Utimensat(e.c, root, "/f", &[2]vfs.Timespec{{Nsec: unix.UTIME_OMIT}, {Nsec: unix.UTIME_OMIT}}, 0))
	if st3 := e.stat("/f"); st3 != st2 {
		t.Errorf("OMIT/OMIT changed something")
	}
	if err := e.v.Utimensat(e.c, root, "/f", &[2]vfs.Timespec{{Nsec: 1e9}, {}}, 0); errno(err) != unix.EINVAL {
		t.Errorf("bad nsec: %v", err)
	}
	other := e.as(2000, 2000)
	if err := e.v.Utimensat(other, root, "/f", ts, 0); errno(err) != unix.EPERM {
		t.Errorf("explicit times by a non-owner: %v", err)
	}
	if err := e.v.Utimensat(other, root, "/f", nil, 0); errno(err) != unix.EACCES {
		t.Errorf("now by a non-owner without write permission: %v", err)
	}
	e.must(e.v.Chmodat(e.c, root, "/f", 0o666, 0))
	if err := e.v.Utimensat(other, root, "/f", nil, 0); err != nil {
		t.Errorf("now by a non-owner with write permission: %v", err)
	}
	e.symlink("f", "/l")
	e.must(e.v.Utimensat(e.c, root, "/l", ts, unix.AT_SYMLINK_NOFOLLOW))
	if st := e.stat("/l"); st.Mtime != ts[1] {
		t.Errorf("symlink mtime %v", st.Mtime)
	}
}

func TestTimes(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/d")
	d0 := e.stat("/d")
	e.write("/d/f", "x")
	d1, f1 := e.stat("/d"), e.stat("/d/f")
	if d1.Mtime.Sec <= d0.Mtime.Sec || d1.Ctime != d1.Mtime {
		t.Errorf("create did not update the directory's mtime and ctime")
	}
	if f1.Btime.Sec == 0 || f1.Btime.Sec > f1.Mtime.Sec {
		t.Errorf("btime %v mtime %v", f1.Btime, f1.Mtime)
	}
	f, err := e.open("/d/f", unix.O_RDWR, 0)
	e.must(err)
	defer f.DecRef()
	f.Pwrite([]byte("y"), 0)
	f2 := e.stat("/d/f")
	if f2.Mtime.Sec <= f1.Mtime.Sec || f2.Ctime != f2.Mtime || f2.Atime != f1.Atime {
		t.Errorf("write: mtime %v->%v ctime %v atime %v->%v", f1.Mtime, f2.Mtime, f2.Ctime, f1.Atime, f2.Atime)
	}
	buf := make([]byte, 1)
	f.Pread(buf, 0)
	f3 := e.stat("/d/f")
	if f3.Atime.Sec <= f2.Mtime.Sec || f3.Mtime != f2.Mtime {
		t.Errorf("read: atime %v (relatime must update an atime older than mtime)", f3.Atime)
	}
	f.Pread(buf, 0)
	if f4 := e.stat("/d/f"); f4.Atime != f3.Atime {
		t.Errorf("relatime updated a fresh atime")
	}
	e.must(e.v.Chmodat(e.c, root, "/d/f", 0o600, 0))
	if f5 := e.stat("/d/f"); f5.Ctime.Sec <= f3.Atime.Sec || f5.Mtime != f2.Mtime {
		t.Errorf("chmod: ctime %v mtime %v", f5.Ctime, f5.Mtime)
	}
	c0 := e.stat("/d/f").Ctime
	e.must(e.v.Renameat2(e.c, root, "/d/f", root, "/d/g", 0))
	if e.stat("/d/g").Ctime.Sec <= c0.Sec {
		t.Errorf("rename did not update the ctime of the moved file")
	}
	c1 := e.stat("/d/g").Ctime
	e.must(e.v.Linkat(e.c, root, "/d/g", root, "/d/h", 0))
	if e.stat("/d/g").Ctime.Sec <= c1.Sec {
		t.Errorf("link did not update ctime")
	}
	// truncate(2) to the same size changes nothing; ftruncate does.
	m0 := e.stat("/d/g").Mtime
	e.must(e.v.Truncate(e.c, root, "/d/g", 1))
	if e.stat("/d/g").Mtime != m0 {
		t.Errorf("truncate to the same size changed mtime")
	}
	e.must(f.Truncate(1))
	if e.stat("/d/g").Mtime == m0 {
		t.Errorf("ftruncate to the same size kept mtime")
	}
}

func TestReadWriteSeek(t *testing.T) {
	e := newEnv(t)
	f, err := e.open("/f", unix.O_RDWR|unix.O_CREAT|unix.O_APPEND, 0o666)
	e.must(err)
	defer f.DecRef()
	if st, _ := f.Stat(); st.Mode != unix.S_IFREG|0o644 {
		t.Errorf("umask not applied: %o", st.Mode)
	}
	f.Write([]byte("hello"))
	f.Pwrite([]byte(" world"), 0) // O_APPEND: appends anyway
	if got := e.read("/f"); got != "hello world" {
		t.Errorf("content %q", got)
	}
	if off, _ := f.Seek(0, io.SeekCurrent); off != 5 {
		t.Errorf("offset %d after pwrite", off)
	}
	for _, tc := range []struct {
		off    int64
		whence int
		want   int64
		err    unix.Errno
	}{
		{-1, io.SeekEnd, 10, 0},
		{-20, io.SeekEnd, 0, unix.EINVAL},
		{3, io.SeekStart, 3, 0},
		{2, io.SeekCurrent, 5, 0},
		{100, io.SeekStart, 100, 0},
		{0, unix.SEEK_DATA, 0, 0},
		{11, unix.SEEK_DATA, 0, unix.ENXIO},
		{2, unix.SEEK_HOLE, 11, 0},
		{0, 9, 0, unix.EINVAL},
	} {
		got, err := f.Seek(tc.off, tc.whence)
		if errno(err) != tc.err || err == nil && got != tc.want {
			t.Errorf("lseek(%d, %d) = %d, %v; want %d, %v", tc.off, tc.whence, got, err, tc.want, tc.err)
		}
	}
	// Sparse: a write far out leaves a hole that reads as zeros.
	g, _ := e.open("/g", unix.O_RDWR|unix.O_CREAT, 0o644)
	defer g.DecRef()
	g.Pwrite([]byte("end"), 3*4096+10)
	st, _ := g.Stat()
	if st.Size != 3*4096+13 || st.Blocks != 8 {
		t.Errorf("sparse file size %d blocks %d", st.Size, st.Blocks)
	}
	buf := make([]byte, 3*4096+20)
	n, _ := g.Pread(buf, 0)
	if n != 3*4096+13 || string(buf[n-3:n]) != "end" || slices.ContainsFunc(buf[:n-3], func(b byte) bool { return b != 0 }) {
		t.Errorf("sparse read n=%d", n)
	}
	if _, err := g.Pread(buf, -1); errno(err) != unix.EINVAL {
		t.Errorf("pread at -1: %v", err)
	}
	ro, _ := e.open("/g", unix.O_RDONLY, 0)
	defer ro.DecRef()
	if _, err := ro.Write([]byte("x")); errno(err) != unix.EBADF {
		t.Errorf("write to O_RDONLY: %v", err)
	}
	if err := ro.Truncate(0); errno(err) != unix.EINVAL {
		t.Errorf("ftruncate of O_RDONLY: %v", err)
	}
	if err := ro.Allocate(0, 0, 1); errno(err) != unix.EBADF {
		t.Errorf("fallocate of O_RDONLY: %v", err)
	}
	d, _ := e.open("/", unix.O_RDONLY, 0)
	defer d.DecRef()
	if _, err := d.Read(buf); errno(err) != unix.EISDIR {
		t.Errorf("read of a directory: %v", err)
	}
	// Truncation shrinks, zeroes the tail, and grows sparsely.
	e.must(g.Truncate(4096 + 2))
	e.must(g.Truncate(3 * 4096))
	n, _ = g.Pread(buf[:3*4096], 0)
	if st, _ := g.Stat(); n != 3*4096 || st.Blocks != 0 {
		t.Errorf("after truncation: n=%d blocks=%d", n, st.Blocks)
	}
	for _, tc := range []struct {
		name string
		err  unix.Errno
		size int64
	}{{"/", unix.EISDIR, 0}, {"/g", unix.EINVAL, -1}, {"/nope", unix.ENOENT, 0}} {
		if err := e.v.Truncate(e.c, root, tc.name, tc.size); errno(err) != tc.err {
			t.Errorf("truncate(%s, %d): %v", tc.name, tc.size, err)
		}
	}
	if err := e.v.Truncate(e.as(1000, 1000), root, "/g", 0); errno(err) != unix.EACCES {
		t.Errorf("truncate without permission")
	}
}

func TestFallocate(t *testing.T) {
	e := newEnv(t)
	f, _ := e.open("/f", unix.O_RDWR|unix.O_CREAT, 0o644)
	defer f.DecRef()
	e.must(f.Allocate(unix.FALLOC_FL_KEEP_SIZE, 0, 8192))
	if st, _ := f.Stat(); st.Size != 0 || st.Blocks != 16 {
		t.Errorf("KEEP_SIZE: size %d blocks %d", st.Size, st.Blocks)
	}
	e.must(f.Allocate(0, 4096, 10000))
	if st, _ := f.Stat(); st.Size != 14096 || st.Blocks != 32 {
		t.Errorf("mode 0: size %d blocks %d", st.Size, st.Blocks)
	}
	for _, tc := range []struct {
		mode     uint32
		off, len int64
		err      unix.Errno
	}{
		{unix.FALLOC_FL_PUNCH_HOLE | unix.FALLOC_FL_KEEP_SIZE, 0, 1, unix.EOPNOTSUPP},
		{0, -1, 1, unix.EINVAL},
		{0, 0, 0, unix.EINVAL},
		{0, 1 << 62, 1 << 62, unix.EFBIG},
	} {
		if err := f.Allocate(tc.mode, tc.off, tc.len); errno(err) != tc.err {
			t.Errorf("fallocate(%#x, %d, %d) = %v, want %v", tc.mode, tc.off, tc.len, err, tc.err)
		}
	}
}

func TestAccess(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/tmp")
	e.must(e.v.Chmodat(e.c, root, "/tmp", 0o1777, 0))
	e.write("/secret", "s")
	e.must(e.v.Chmodat(e.c, root, "/secret", 0o600, 0))
	e.write("/plain", "p")
	u := e.as(1000, 1000)
	if _, err := e.v.Openat(u, root, "/secret", vfs.OpenHow{}); errno(err) != unix.EACCES {
		t.Errorf("reading another's 0600 file: %v", err)
	}
	if _, err := e.v.Openat(u, root, "/plain", vfs.OpenHow{Flags: unix.O_WRONLY}); errno(err) != unix.EACCES {
		t.Errorf("writing another's 0644 file: %v", err)
	}
	if err := e.v.Accessat(e.c, root, "/plain", vfs.MayRead|vfs.MayWrite, 0); err != nil {
		t.Errorf("root access: %v", err)
	}
	if err := e.v.Accessat(e.c, root, "/plain", vfs.MayExec, 0); errno(err) != unix.EACCES {
		t.Errorf("root executing a file nobody may execute: %v", err)
	}
	if err := e.v.Accessat(u, root, "/plain", vfs.MayRead, 0); err != nil {
		t.Errorf("others may read: %v", err)
	}
	// The owner class decides even when it is the most restrictive.
	e.must(e.v.Chownat(e.c, root, "/plain", 1000, -1, 0))
	e.must(e.v.Chmodat(e.c, root, "/plain", 0o044, 0))
	if err := e.v.Accessat(u, root, "/plain", vfs.MayRead, 0); errno(err) != unix.EACCES {
		t.Errorf("owner without read bits: %v", err)
	}
	// Group membership through supplementary groups.
	e.must(e.v.Chownat(e.c, root, "/secret", 0, 50, 0))
	e.must(e.v.Chmodat(e.c, root, "/secret", 0o640, 0))
	if err := e.v.Accessat(e.as(1000, 1000, 50), root, "/secret", vfs.MayRead, 0); err != nil {
		t.Errorf("supplementary group: %v", err)
	}
	// Sticky /tmp: others' files cannot be removed or renamed.
	v := e.as(2000, 2000)
	f, err := e.v.Openat(u, root, "/tmp/mine", vfs.OpenHow{Flags: unix.O_CREAT | unix.O_WRONLY, Mode: 0o666})
	e.must(err)
	f.DecRef()
	if err := e.v.Unlinkat(v, root, "/tmp/mine", 0); errno(err) != unix.EPERM {
		t.Errorf("removing another's file from a sticky directory: %v", err)
	}
	if err := e.v.Renameat2(v, root, "/tmp/mine", root, "/tmp/theirs", 0); errno(err) != unix.EPERM {
		t.Errorf("renaming another's file in a sticky directory: %v", err)
	}
	e.must(e.v.Unlinkat(u, root, "/tmp/mine", 0))
	// Files created in a set-group-ID directory take its group.
	e.mkdir("/g")
	e.must(e.v.Chownat(e.c, root, "/g", 0, 77, 0))
	e.must(e.v.Chmodat(e.c, root, "/g", 0o2777, 0))
	e.must(e.v.Mkdirat(u, root, "/g/sub", 0o755))
	if st := e.stat("/g/sub"); st.GID != 77 || st.Mode&unix.S_ISGID == 0 || st.UID != 1000 {
		t.Errorf("set-group-ID inheritance: %d:%d %o", st.UID, st.GID, st.Mode)
	}
}

func TestLimits(t *testing.T) {
	fs := tmpfs.New(tmpfs.Options{MaxBytes: 2 * 4096, MaxInodes: 4})
	v := vfs.New(fs, 0, "none")
	c := &vfs.Context{}
	f, err := v.Openat(c, root, "/f", vfs.OpenHow{Flags: unix.O_CREAT | unix.O_RDWR, Mode: 0o644})
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef()
	n, err := f.Write(make([]byte, 3*4096))
	if n != 2*4096 || err != nil {
		t.Errorf("write to a full tmpfs: %d, %v (want a short write)", n, err)
	}
	if _, err := f.Write([]byte("x")); errno(err) != unix.ENOSPC {
		t.Errorf("write: %v, want ENOSPC", err)
	}
	if err := f.Allocate(0, 1<<20, 4096); errno(err) != unix.ENOSPC {
		t.Errorf("fallocate: %v, want ENOSPC", err)
	}
	if s := v.StatfsOf(v.Root()); s.Blocks != 2 || s.Bfree != 0 || s.Files != 4 || s.Ffree != 2 {
		t.Errorf("statfs %+v", s)
	}
	for i := 0; ; i++ {
		err := v.Mkdirat(c, root, string(rune('a'+i)), 0o755)
		if err == nil {
			continue
		}
		if errno(err) != unix.ENOSPC || i != 2 {
			t.Errorf("mkdir #%d: %v, want ENOSPC at #2", i, err)
		}
		break
	}
	if err := f.Truncate(0); err != nil {
		t.Fatal(err)
	}
	if n, err := f.Write([]byte("ok")); n != 2 || err != nil {
		t.Errorf("space not returned by truncate: %v", err)
	}
}

// revalidating wraps a tmpfs directory and declares every cached entry
// stale, as a 9p directory changed by the host would.
type revalidating struct {
	vfs.Inode
	calls int
}

func (r *revalidating) Revalidate(name string, child vfs.Inode) bool {
	r.calls++
	return false
}

type revalFS struct {
	vfs.Filesystem
	root *revalidating
}

func (f revalFS) Root() vfs.Inode { return f.root }

func TestRevalidate(t *testing.T) {
	fs := tmpfs.New(tmpfs.Options{})
	rfs := revalFS{fs, &revalidating{Inode: fs.Root()}}
	v := vfs.New(rfs, 0, "none")
	c := &vfs.Context{}
	if err := v.Mkdirat(c, root, "/d", 0o755); err != nil {
		t.Fatal(err)
	}
	a, err := v.Lookup(c, root, "/d", 0)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := v.Lookup(c, root, "/d", 0)
	if rfs.root.calls == 0 || a.Dentry == b.Dentry {
		t.Errorf("a stale entry was used: %d calls", rfs.root.calls)
	}
	// Mount points stay.
	if _, err := v.Mount(b, tmpfs.New(tmpfs.Options{}), 0, "none"); err != nil {
		t.Fatal(err)
	}
	m1, _ := v.Lookup(c, root, "/d", 0)
	m2, _ := v.Lookup(c, root, "/d", 0)
	if m1 != m2 || m1.Mount == b.Mount {
		t.Errorf("a mount point was dropped from the cache")
	}
}

func TestUmount(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/m", "/m2")
	m, err := e.v.Mount(e.lookup("/m"), tmpfs.New(tmpfs.Options{}), 0, "none")
	e.must(err)
	e.mkdir("/m/sub")
	inner, err := e.v.Mount(e.lookup("/m/sub"), tmpfs.New(tmpfs.Options{}), 0, "none")
	e.must(err)
	if err := e.v.Umount(m, false); errno(err) != unix.EBUSY {
		t.Errorf("umount under a mount: %v", err)
	}
	e.must(e.v.Umount(inner, false))
	f, err := e.open("/m/file", unix.O_CREAT|unix.O_RDWR, 0o644)
	e.must(err)
	if err := e.v.Umount(m, false); errno(err) != unix.EBUSY {
		t.Errorf("umount with an open file: %v", err)
	}
	f.DecRef()
	m.IncRef()
	if err := e.v.Umount(m, false); errno(err) != unix.EBUSY {
		t.Errorf("umount of a held mount: %v", err)
	}
	m.DecRef()
	e.must(e.v.Umount(m, false))
	if e.exists("/m/file") || e.exists("/m/sub") {
		t.Errorf("the unmounted filesystem still shows")
	}
	if err := e.v.Umount(m, false); errno(err) != unix.EINVAL {
		t.Errorf("second umount: %v", err)
	}
	// MNT_DETACH takes the mounts below with it; open files keep working.
	m2, _ := e.v.Mount(e.lookup("/m2"), tmpfs.New(tmpfs.Options{}), 0, "none")
	e.mkdir("/m2/x")
	e.v.Mount(e.lookup("/m2/x"), tmpfs.New(tmpfs.Options{}), 0, "none")
	g, err := e.open("/m2/x/f", unix.O_CREAT|unix.O_RDWR, 0o644)
	e.must(err)
	defer g.DecRef()
	e.must(e.v.Umount(m2, true))
	if len(e.v.Mounts()) != 1 {
		t.Errorf("%d mounts after a lazy umount", len(e.v.Mounts()))
	}
	if _, err := g.Write([]byte("still")); err != nil {
		t.Errorf("write to a file on a detached mount: %v", err)
	}
	if err := e.v.Umount(e.v.Root().Mount, false); errno(err) != unix.EINVAL {
		t.Errorf("umount of the root: %v", err)
	}
}

// TestReopen opens a file anew from an O_PATH descriptor's path, as
// execveat(fd, "", AT_EMPTY_PATH) does; permissions are checked again and
// symlinks, O_CREAT and O_PATH are refused.
func TestReopen(t *testing.T) {
	e := newEnv(t)
	e.write("f", "data")
	e.symlink("f", "l")
	op, err := e.open("f", unix.O_PATH, 0)
	e.must(err)
	defer op.DecRef()
	f, err := e.v.Reopen(e.c, op.Path(), unix.O_RDONLY)
	e.must(err)
	buf := make([]byte, 8)
	n, err := f.Read(buf)
	f.DecRef()
	if err != nil || string(buf[:n]) != "data" {
		t.Errorf("read %q, %v; want \"data\"", buf[:n], err)
	}
	ol, err := e.open("l", unix.O_PATH|unix.O_NOFOLLOW, 0)
	e.must(err)
	defer ol.DecRef()
	e.must(e.v.Chmodat(e.c, vfs.Path{}, "f", 0o200, 0))
	for _, c := range []struct {
		name  string
		p     vfs.Path
		c     *vfs.Context
		flags int
		want  error
	}{
		{"zero path", vfs.Path{}, e.c, unix.O_RDONLY, unix.ENOENT},
		{"symlink", ol.Path(), e.c, unix.O_RDONLY, unix.ELOOP},
		{"O_CREAT", op.Path(), e.c, unix.O_RDONLY | unix.O_CREAT, unix.EINVAL},
		{"O_PATH", op.Path(), e.c, unix.O_PATH, unix.EINVAL},
		{"O_DIRECTORY", op.Path(), e.c, unix.O_RDONLY | unix.O_DIRECTORY, unix.ENOTDIR},
		{"no read permission", op.Path(), e.as(1000, 1000), unix.O_RDONLY, unix.EACCES},
	} {
		f, err := e.v.Reopen(c.c, c.p, c.flags)
		if err != c.want {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if f != nil {
			f.DecRef()
		}
	}
}
