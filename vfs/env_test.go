package vfs_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"yolk/vfs"
	"yolk/vfs/tmpfs"
)

// clock is a fake time source that advances one second per reading, so
// every change is visible in the times.
type clock struct {
	mu  sync.Mutex
	sec int64
}

func (c *clock) now() vfs.Timespec {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sec++
	return vfs.Timespec{Sec: 1_700_000_000 + c.sec}
}

type env struct {
	t  testing.TB
	v  *vfs.VFS
	fs *tmpfs.FS
	c  *vfs.Context
	ck *clock
}

func newEnv(t testing.TB) *env {
	ck := &clock{}
	fs := tmpfs.New(tmpfs.Options{RootMode: 0o755, Clock: ck.now})
	v := vfs.New(fs, 0, "none")
	return &env{t: t, v: v, fs: fs, c: &vfs.Context{Umask: 0o022}, ck: ck}
}

func (e *env) as(uid, gid uint32, groups ...uint32) *vfs.Context {
	c := *e.c
	c.Cred = vfs.Cred{UID: uid, GID: gid, Groups: groups}
	return &c
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) mkdir(names ...string) {
	e.t.Helper()
	for _, n := range names {
		e.must(e.v.Mkdirat(e.c, vfs.Path{}, n, 0o755))
	}
}

func (e *env) open(name string, flags int, mode uint32) (*vfs.File, error) {
	return e.v.Openat(e.c, vfs.Path{}, name, vfs.OpenHow{Flags: flags, Mode: mode})
}

func (e *env) write(name, data string) {
	e.t.Helper()
	f, err := e.open(name, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC, 0o644)
	e.must(err)
	defer f.DecRef()
	if _, err := f.Write([]byte(data)); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) read(name string) string {
	e.t.Helper()
	f, err := e.open(name, unix.O_RDONLY, 0)
	e.must(err)
	defer f.DecRef()
	var b strings.Builder
	buf := make([]byte, 5000)
	for {
		n, err := f.Read(buf)
		e.must(err)
		if n == 0 {
			return b.String()
		}
		b.Write(buf[:n])
	}
}

func (e *env) symlink(target, name string) {
	e.t.Helper()
	e.must(e.v.Symlinkat(e.c, target, vfs.Path{}, name))
}

func (e *env) lookup(name string) vfs.Path {
	e.t.Helper()
	p, err := e.v.Lookup(e.c, vfs.Path{}, name, 0)
	e.must(err)
	return p
}

func (e *env) stat(name string) vfs.Stat {
	e.t.Helper()
	st, err := e.v.Statat(e.c, vfs.Path{}, name, unix.AT_SYMLINK_NOFOLLOW)
	e.must(err)
	return st
}

func (e *env) exists(name string) bool {
	_, err := e.v.Statat(e.c, vfs.Path{}, name, unix.AT_SYMLINK_NOFOLLOW)
	return err == nil
}

// list returns a directory's names, "." and ".." excluded, in readdir
// order.
func (e *env) list(name string) []string {
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
	return names
}

// errno returns err as a unix.Errno (0 for nil).
func errno(err error) unix.Errno {
	if err == nil {
		return 0
	}
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return unix.Errno(0xffff)
}

func same(a, b vfs.Stat) bool { return a.Dev == b.Dev && a.Ino == b.Ino }
