package vfs_test

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"yolk/vfs"
	"yolk/vfs/tmpfs"
)

// walkTree builds the tree the walker tests resolve in:
//
//	/a/b/c/            /a/f "f"          /a/up -> ../..
//	/l1 -> l2, /l2 -> l1, /self -> self  /abs -> /a   /rel -> a/b
//	/dang -> nowhere   /s0 -> s1 -> ... -> s41 -> a: /s1 is 41 hops, /s2 40
//	/noexec/ (0700 owner 1000) /noexec/x
//	/mnt/  a second tmpfs with /mnt/x/y/ and /mnt/back -> ../a
func walkTree(t testing.TB) *env {
	e := newEnv(t)
	e.mkdir("/a", "/a/b", "/a/b/c", "/mnt", "/noexec", "/noexec/x")
	e.write("/a/f", "f")
	e.symlink("../..", "/a/up")
	e.symlink("l2", "/l1")
	e.symlink("l1", "/l2")
	e.symlink("self", "/self")
	e.symlink("/a", "/abs")
	e.symlink("a/b", "/rel")
	e.symlink("nowhere", "/dang")
	for i := 0; i < 41; i++ {
		e.symlink(fmt.Sprintf("s%d", i+1), fmt.Sprintf("/s%d", i))
	}
	e.symlink("a", "/s41")
	e.must(e.v.Chownat(e.c, vfs.Path{}, "/noexec", 1000, 1000, 0))
	e.must(e.v.Chmodat(e.c, vfs.Path{}, "/noexec", 0o700, 0))
	m := tmpfs.New(tmpfs.Options{})
	if _, err := e.v.Mount(e.lookup("/mnt"), m, 0, "none"); err != nil {
		t.Fatal(err)
	}
	e.mkdir("/mnt/x", "/mnt/x/y")
	e.symlink("../a", "/mnt/back")
	return e
}

func TestWalk(t *testing.T) {
	e := walkTree(t)
	long := strings.Repeat("n", 256)
	tests := []struct {
		start   string // "" for the cwd (the root)
		root    string // the process root; "" for the VFS's
		path    string
		flags   int    // open flags besides O_PATH
		resolve uint64 // RESOLVE_*
		cred    uint32 // uid (and gid); 0 is root
		want    string // a path resolved without tricks, or ""
		err     unix.Errno
	}{
		{path: "/", want: "/"},
		{path: "", err: unix.ENOENT},
		{path: "/..", want: "/"},
		{path: "/../../a/./b//c", want: "/a/b/c"},
		{path: "a/b/c/../../f", want: "/a/f"},
		{path: "/a/f/", err: unix.ENOTDIR},
		{path: "/a/f/.", err: unix.ENOTDIR},
		{path: "/a/f/x", err: unix.ENOTDIR},
		{path: "/a/missing/x", err: unix.ENOENT},
		{path: "/a/b/", want: "/a/b"},
		{path: "/a/b//", flags: unix.O_DIRECTORY, want: "/a/b"},
		{path: "/a/f", flags: unix.O_DIRECTORY, err: unix.ENOTDIR},
		{path: "/l1", err: unix.ELOOP},
		{path: "/self", err: unix.ELOOP},
		{path: "/self/x", err: unix.ELOOP},
		{path: "/s0", err: unix.ELOOP},
		{path: "/s1", err: unix.ELOOP},
		{path: "/s2/f", want: "/a/f"},
		{path: "/abs/f", want: "/a/f"},
		{path: "/rel/c", want: "/a/b/c"},
		{path: "/a/up/a/f", want: "/a/f"},
		{path: "/dang", err: unix.ENOENT},
		{path: "/abs/", flags: unix.O_NOFOLLOW, want: "/a"},
		{path: "/dang/", flags: unix.O_NOFOLLOW, err: unix.ENOENT},
		{path: "/" + long, err: unix.ENAMETOOLONG},
		{path: "/" + long + "/x", err: unix.ENAMETOOLONG},
		{path: "/" + strings.Repeat("a/", 2048), err: unix.ENAMETOOLONG},
		{path: strings.Repeat("/", 4095), want: "/"},
		// Mounts.
		{path: "/mnt/x/y", want: "/mnt/x/y"},
		{path: "/mnt/..", want: "/"},
		{path: "/mnt/x/../..", want: "/"},
		{path: "/mnt/x/y/../../../a/f", want: "/a/f"},
		{path: "/mnt/back/f", want: "/a/f"},
		{path: "/mnt/x", resolve: unix.RESOLVE_NO_XDEV, err: unix.EXDEV},
		{start: "/mnt/x", path: "../..", resolve: unix.RESOLVE_NO_XDEV, err: unix.EXDEV},
		// Relative starts (*at).
		{start: "/a/b", path: "c", want: "/a/b/c"},
		{start: "/a/b", path: "../f", want: "/a/f"},
		{start: "/a/b", path: "..", want: "/a"},
		{start: "/a/b", path: "/a/f", want: "/a/f"},
		{start: "/mnt/x", path: "../../a", want: "/a"},
		{start: "/a/f", path: "x", err: unix.ENOTDIR},
		{start: "/a/f", path: ".", err: unix.ENOTDIR},
		// A process root (chroot).
		{root: "/a", path: "/../..", want: "/a"},
		{root: "/a", path: "/f", want: "/a/f"},
		{root: "/a", path: "/b/../../../f", want: "/a/f"},
		{root: "/a", path: "/up/f", want: "/a/f"},
		{root: "/a", path: "/abs", err: unix.ENOENT},
		// openat2 RESOLVE_*.
		{start: "/a", path: "b/../f", resolve: unix.RESOLVE_BENEATH, want: "/a/f"},
		{start: "/a", path: "../a/f", resolve: unix.RESOLVE_BENEATH, err: unix.EXDEV},
		{start: "/a", path: "/a/f", resolve: unix.RESOLVE_BENEATH, err: unix.EXDEV},
		{start: "/a", path: "up", resolve: unix.RESOLVE_BENEATH, err: unix.EXDEV},
		{start: "/a", path: "/f", resolve: unix.RESOLVE_IN_ROOT, want: "/a/f"},
		{start: "/a", path: "../../f", resolve: unix.RESOLVE_IN_ROOT, want: "/a/f"},
		{start: "/a", path: "up/f", resolve: unix.RESOLVE_IN_ROOT, want: "/a/f"},
		{path: "/abs/f", resolve: unix.RESOLVE_NO_SYMLINKS, err: unix.ELOOP},
		{path: "/abs", flags: unix.O_NOFOLLOW, resolve: unix.RESOLVE_NO_SYMLINKS, want: "/abs"},
		// Search permission.
		{path: "/noexec/x", cred: 1000, want: "/noexec/x"},
		{path: "/noexec/x", cred: 2000, err: unix.EACCES},
		{path: "/noexec/..", cred: 2000, err: unix.EACCES},
		{path: "/noexec", cred: 2000, want: "/noexec"},
		{path: "/noexec/x", cred: 0, want: "/noexec/x"},
	}
	for _, tc := range tests {
		name := fmt.Sprintf("%s|%s|%.40s|%#x|%#x|%d", tc.start, tc.root, tc.path, tc.flags, tc.resolve, tc.cred)
		t.Run(name, func(t *testing.T) {
			c := e.as(tc.cred, tc.cred)
			if tc.root != "" {
				c.Root = e.lookup(tc.root)
			}
			var start vfs.Path
			if tc.start != "" {
				start = e.lookup(tc.start)
			}
			how := vfs.OpenHow{Flags: unix.O_PATH | tc.flags, Resolve: tc.resolve}
			f, err := e.v.Openat2(c, start, tc.path, how)
			if errno(err) != tc.err {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			defer f.DecRef()
			got, _ := f.Stat()
			if want := e.stat(tc.want); !same(got, want) {
				t.Errorf("resolved to ino %d dev %d, want %s (ino %d dev %d)", got.Ino, got.Dev, tc.want, want.Ino, want.Dev)
			}
		})
	}
}

func TestWalkOpenErrors(t *testing.T) {
	e := walkTree(t)
	tests := []struct {
		path  string
		flags int
		err   unix.Errno
	}{
		{"/abs", unix.O_RDONLY | unix.O_NOFOLLOW, unix.ELOOP},
		{"/dang", unix.O_RDONLY | unix.O_NOFOLLOW, unix.ELOOP},
		{"/abs", unix.O_RDONLY, 0},
		{"/a", unix.O_WRONLY, unix.EISDIR},
		{"/a", unix.O_RDONLY | unix.O_TRUNC, unix.EISDIR},
		{"/a", unix.O_RDONLY | unix.O_CREAT, unix.EISDIR},
		{"/a/", unix.O_RDONLY | unix.O_CREAT, unix.EISDIR},
		{"/a/new/", unix.O_RDONLY | unix.O_CREAT, unix.EISDIR},
		{"/a/f", unix.O_CREAT | unix.O_EXCL, unix.EEXIST},
		{"/abs", unix.O_CREAT | unix.O_EXCL, unix.EEXIST},
		{"/dang", unix.O_CREAT | unix.O_NOFOLLOW, unix.ELOOP},
		{"/a/f/x", unix.O_CREAT, unix.ENOTDIR},
		{"/..", unix.O_CREAT, unix.EISDIR},
		{"/a", unix.O_TMPFILE | unix.O_RDONLY, unix.EINVAL},
		{"/a/f", unix.O_TMPFILE | unix.O_RDWR, unix.ENOTDIR},
		{"/a", unix.O_ACCMODE, unix.EINVAL},
	}
	for _, tc := range tests {
		f, err := e.open(tc.path, tc.flags, 0o644)
		if errno(err) != tc.err {
			t.Errorf("open(%q, %#x) = %v, want %v", tc.path, tc.flags, err, tc.err)
		}
		if err == nil {
			f.DecRef()
		}
	}
	// O_CREAT through a dangling symlink creates its target.
	f, err := e.open("/dang", unix.O_CREAT|unix.O_WRONLY, 0o600)
	e.must(err)
	f.DecRef()
	if !e.exists("/nowhere") {
		t.Errorf("O_CREAT through /dang did not create /nowhere")
	}
}
