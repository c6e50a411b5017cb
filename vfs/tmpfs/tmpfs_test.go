package tmpfs

import (
	"testing"

	"golang.org/x/sys/unix"

	"yolk/vfs"
)

func TestPageSource(t *testing.T) {
	fs := New(Options{MaxBytes: 3 * vfs.PageSize})
	ino, err := fs.Root().Create("f", vfs.CreateAttr{Mode: unix.S_IFREG | 0o644})
	if err != nil {
		t.Fatal(err)
	}
	impl, err := ino.Open(unix.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	defer impl.Release()
	ps := impl.(vfs.PageSource)
	impl.Write([]byte("hi"), 2*vfs.PageSize+1, false)
	if p, err := ps.Page(0, false); p != nil || err != nil {
		t.Errorf("a hole is %p, %v", p, err)
	}
	p2, _ := ps.Page(2, false)
	if p2 == nil || string(p2[1:3]) != "hi" {
		t.Fatalf("page 2 does not hold the written bytes")
	}
	// Writes through the page are what read returns: the page is the
	// file's memory.
	impl.Truncate(3 * vfs.PageSize)
	copy(p2[100:], "mapped")
	buf := make([]byte, 6)
	if impl.Read(buf, 2*vfs.PageSize+100); string(buf) != "mapped" {
		t.Errorf("read %q through the page", buf)
	}
	p0, err := ps.Page(0, true)
	if p0 == nil || err != nil {
		t.Fatalf("allocating page 0: %v", err)
	}
	if _, err := ps.Page(1, true); err != nil {
		t.Fatalf("page 1: %v", err)
	}
	if _, err := ps.Page(5, true); err != unix.ENOSPC {
		t.Errorf("a fourth page: %v, want ENOSPC", err)
	}
	if st := ino.Stat(); st.Blocks != 3*8 || st.Size != 3*vfs.PageSize {
		t.Errorf("stat %+v", st)
	}
	impl.Truncate(vfs.PageSize + 1)
	if p, _ := ps.Page(2, false); p != nil {
		t.Errorf("page 2 survived truncation")
	}
	if b, _ := fs.Usage(); b != 2*vfs.PageSize {
		t.Errorf("usage %d after truncation", b)
	}
}

func TestDirectoryCookiesCompact(t *testing.T) {
	fs := New(Options{})
	root := fs.Root().(*inode)
	for i := 0; i < 100; i++ {
		if _, err := root.Create(string(rune('A'+i)), vfs.CreateAttr{Mode: unix.S_IFREG}); err != nil {
			t.Fatal(err)
		}
	}
	var cookies []int64
	root.readDir(vfs.FirstCookie-1, func(d vfs.Dirent) bool { cookies = append(cookies, d.Off); return true })
	for i := 0; i < 90; i++ {
		c, _ := root.Lookup(string(rune('A' + i)))
		if err := root.Remove(string(rune('A'+i)), c); err != nil {
			t.Fatal(err)
		}
	}
	if len(root.dir.list) > 50 {
		t.Errorf("list not compacted: %d entries for 10 names", len(root.dir.list))
	}
	// Positions from before the compaction still resume correctly.
	var got []string
	root.readDir(cookies[94], func(d vfs.Dirent) bool { got = append(got, d.Name); return true })
	if len(got) != 5 || got[0] != string(rune('A'+95)) {
		t.Errorf("after cookie 94: %q", got)
	}
}

func TestSeekDataHole(t *testing.T) {
	fs := New(Options{})
	ino, _ := fs.Root().Create("f", vfs.CreateAttr{Mode: unix.S_IFREG | 0o644})
	f, _ := ino.Open(unix.O_RDWR)
	defer f.Release()
	f.Write([]byte("x"), 2*vfs.PageSize+5, false) // hole, hole, data
	f.Write([]byte("y"), 5*vfs.PageSize, false)   // hole, hole, data
	for _, tc := range []struct {
		off    int64
		whence int
		want   int64
		err    error
	}{
		{0, unix.SEEK_DATA, 2 * vfs.PageSize, nil},
		{0, unix.SEEK_HOLE, 0, nil},
		{2*vfs.PageSize + 7, unix.SEEK_DATA, 2*vfs.PageSize + 7, nil},
		{2*vfs.PageSize + 7, unix.SEEK_HOLE, 3 * vfs.PageSize, nil},
		{3 * vfs.PageSize, unix.SEEK_DATA, 5 * vfs.PageSize, nil},
		{5 * vfs.PageSize, unix.SEEK_HOLE, 5*vfs.PageSize + 1, nil},
		{5*vfs.PageSize + 1, unix.SEEK_DATA, 0, unix.ENXIO},
		{-1, unix.SEEK_DATA, 0, unix.ENXIO},
	} {
		got, err := f.Lseek(0, tc.off, tc.whence)
		if err != tc.err || err == nil && got != tc.want {
			t.Errorf("lseek(%d, %d) = %d, %v; want %d, %v", tc.off, tc.whence, got, err, tc.want, tc.err)
		}
	}
}
