package vfs_test

import (
	"fmt"
	"io"
	"math"
	"testing"

	"golang.org/x/sys/unix"

	"yolk/vfs"
)

func TestReadDirStable(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/d")
	for i := 0; i < 200; i++ {
		e.write(fmt.Sprintf("/d/f%03d", i), "")
	}
	f, err := e.open("/d", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	e.must(err)
	defer f.DecRef()
	seen := map[string]int{}
	read := func(max int) (n int) {
		e.must(f.ReadDir(func(d vfs.Dirent) bool {
			if n == max {
				return false
			}
			seen[d.Name]++
			n++
			return true
		}))
		return n
	}
	if n := read(52); n != 52 || seen["."] != 1 || seen[".."] != 1 {
		t.Fatalf("first batch: %d entries, %v", n, seen)
	}
	// Remove read and unread entries, add new ones, then go on.
	for i := 0; i < 200; i += 4 {
		e.must(e.v.Unlinkat(e.c, root, fmt.Sprintf("/d/f%03d", i), 0))
	}
	for i := 0; i < 50; i++ {
		e.write(fmt.Sprintf("/d/n%03d", i), "")
	}
	read(1 << 30)
	for i := 0; i < 200; i++ {
		name := fmt.Sprintf("/d/f%03d", i)[3:]
		want := 1
		if i%4 == 0 && i >= 50 {
			want = 0 // removed before it was read
		}
		if seen[name] != want {
			t.Errorf("%s seen %d times, want %d", name, seen[name], want)
		}
	}
	for name, n := range seen {
		if n > 1 {
			t.Errorf("%s seen %d times", name, n)
		}
	}
	// telldir/seekdir: a position taken from an entry resumes after it.
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	var names []string
	var offs []int64
	f.ReadDir(func(d vfs.Dirent) bool {
		names = append(names, d.Name)
		offs = append(offs, d.Off)
		return true
	})
	if len(names) != 2+150+50 || names[0] != "." || names[1] != ".." {
		t.Fatalf("rewound listing has %d entries", len(names))
	}
	f.Seek(offs[9], io.SeekStart)
	var next string
	f.ReadDir(func(d vfs.Dirent) bool { next = d.Name; return false })
	if next != names[10] {
		t.Errorf("seekdir to entry 9's offset gave %q, want %q", next, names[10])
	}
	// ".." of a mount's root is the root itself; "." and ".." have inodes.
	var dot, dotdot uint64
	f.Seek(0, io.SeekStart)
	f.ReadDir(func(d vfs.Dirent) bool {
		switch d.Name {
		case ".":
			dot = d.Ino
		case "..":
			dotdot = d.Ino
		}
		return d.Name == "."
	})
	if dot != e.stat("/d").Ino || dotdot != e.stat("/").Ino {
		t.Errorf(". %d .. %d", dot, dotdot)
	}
}

func TestReadDirRemovedDir(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/d")
	f, err := e.open("/d", unix.O_RDONLY, 0)
	e.must(err)
	defer f.DecRef()
	e.must(e.v.Unlinkat(e.c, root, "/d", unix.AT_REMOVEDIR))
	if _, err := e.v.Openat(e.c, f.Path(), "x", vfs.OpenHow{Flags: unix.O_CREAT | unix.O_WRONLY}); errno(err) != unix.ENOENT {
		t.Errorf("creating in a removed directory: %v", err)
	}
	if _, err := e.v.PathName(e.v.Root(), f.Path()); errno(err) != unix.ENOENT {
		t.Errorf("name of a removed directory: %v", err)
	}
}

// TestSeekDir: a directory's lseek takes SEEK_SET and SEEK_CUR only,
// refuses a negative position and reports overflow.
func TestSeekDir(t *testing.T) {
	for _, c := range []struct {
		cur, off int64
		whence   int
		want     int64
		err      error
	}{
		{5, 3, io.SeekStart, 3, nil},
		{5, 3, io.SeekCurrent, 8, nil},
		{5, -5, io.SeekCurrent, 0, nil},
		{5, -6, io.SeekCurrent, 0, unix.EINVAL},
		{0, -1, io.SeekStart, 0, unix.EINVAL},
		{5, 0, io.SeekEnd, 0, unix.EINVAL},
		{5, 0, unix.SEEK_DATA, 0, unix.EINVAL},
		{math.MaxInt64, 1, io.SeekCurrent, 0, unix.EOVERFLOW},
	} {
		got, err := vfs.SeekDir(c.cur, c.off, c.whence)
		if got != c.want || err != c.err {
			t.Errorf("SeekDir(%d, %d, %d) = %d, %v; want %d, %v", c.cur, c.off, c.whence, got, err, c.want, c.err)
		}
	}
}
