package vfs_test

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"yolk/vfs"
	"yolk/vfs/tmpfs"
)

var (
	fuzzNames   = []string{"a", "b", "c", "d", "a/b", "b/c", "a/b/c", "c/d/a", "m", "a/m"}
	fuzzTargets = []string{"/", "..", "../..", "../../..", "/..", "a", "/a", "/outside", "./a/../..",
		"b/../../..", "l0", "l1", "/l2", "a/l0", "../l1", "", "m/..", "/m/../..", "."}
)

// buildFuzzTree interprets ops as commands that build a tree under /r,
// the process root, beside /outside, which must stay unreachable.
func buildFuzzTree(e *env, ops []byte) {
	e.mkdir("/r")
	e.write("/outside", "outside")
	for len(ops) >= 2 {
		op, arg := ops[0], int(ops[1])
		ops = ops[2:]
		name := "/r/" + fuzzNames[arg%len(fuzzNames)]
		switch op % 5 {
		case 0:
			e.v.Mkdirat(e.c, root, name, 0o755)
		case 1:
			e.v.Symlinkat(e.c, fuzzTargets[arg/len(fuzzNames)%len(fuzzTargets)], root, name)
		case 2:
			if f, err := e.open(name, unix.O_CREAT|unix.O_WRONLY, 0o644); err == nil {
				f.DecRef()
			}
		case 3:
			if p, err := e.v.Lookup(e.c, root, name, unix.AT_SYMLINK_NOFOLLOW); err == nil && p.Dentry.IsDir() {
				e.v.Mount(p, tmpfs.New(tmpfs.Options{}), 0, "none")
			}
		case 4:
			e.v.Symlinkat(e.c, "l"+string(rune('0'+arg%3)), root, "/r/l"+string(rune('0'+arg/3%3)))
		}
	}
}

var walkErrnos = map[unix.Errno]bool{
	unix.ENOENT: true, unix.ENOTDIR: true, unix.ELOOP: true, unix.ENAMETOOLONG: true, unix.EXDEV: true,
}

func FuzzWalk(f *testing.F) {
	f.Add([]byte{0, 0, 1, 1, 0, 4, 3, 0}, "a/b/../../..", byte(0))
	f.Add([]byte{1, 10, 1, 21, 4, 1, 4, 5}, "/l0/../../outside", byte(1))
	f.Add([]byte{0, 0, 0, 4, 3, 0, 1, 14}, "a/m/../../../..", byte(2))
	f.Add([]byte{1, 17}, "a/x/", byte(3))
	f.Fuzz(func(t *testing.T, ops []byte, path string, mode byte) {
		if len(ops) > 64 {
			ops = ops[:64]
		}
		e := newEnv(t)
		buildFuzzTree(e, ops)
		c := *e.c
		c.Root = e.lookup("/r")
		startName := "/r"
		if mode&4 != 0 {
			startName = "/r/" + fuzzNames[int(mode>>3)%len(fuzzNames)]
		}
		start, err := e.v.Lookup(&c, root, startName, 0)
		if err != nil || !start.Dentry.IsDir() {
			start = c.Root
			startName = "/r"
		}
		var resolve uint64
		switch mode % 4 {
		case 1:
			resolve = unix.RESOLVE_IN_ROOT
		case 2:
			resolve = unix.RESOLVE_BENEATH
		case 3:
			resolve = unix.RESOLVE_NO_SYMLINKS
		}
		how := vfs.OpenHow{Flags: unix.O_PATH, Resolve: resolve}
		if mode&0x80 != 0 {
			how.Flags |= unix.O_NOFOLLOW
		}
		file, err := e.v.Openat2(&c, start, path, how)
		if err != nil {
			if !walkErrnos[errno(err)] {
				t.Fatalf("resolving %q: unexpected error %v", path, err)
			}
			return
		}
		defer file.DecRef()
		name, err := e.v.PathName(e.v.Root(), file.Path())
		if err != nil {
			t.Fatalf("PathName: %v", err)
		}
		limit := "/r"
		if resolve&(unix.RESOLVE_IN_ROOT|unix.RESOLVE_BENEATH) != 0 {
			limit = startName
		}
		if name != limit && !strings.HasPrefix(name, limit+"/") {
			t.Fatalf("%q from %s (resolve %#x) escaped to %s", path, startName, resolve, name)
		}
	})
}
