package cpiofs_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
	"golang.org/x/sys/unix"

	"yolk/initrd"
	"yolk/vfs"
	"yolk/vfs/cpiofs"
)

func tree(t *testing.T) *initrd.FS {
	var buf bytes.Buffer
	w := cpio.Newc.Writer(&buf)
	recs := []cpio.Record{
		cpio.Directory("etc", 0o755),
		cpio.StaticRecord([]byte("root:x:0:0"), cpio.Info{Name: "etc/passwd", Mode: cpio.S_IFREG | 0o640, UID: 7, GID: 8, MTime: 1700000000}),
		cpio.Symlink("etc/pw", "passwd"),
		cpio.StaticFile("z", "", 0o644),
		cpio.StaticFile("a", "", 0o644),
		cpio.CharDev("null", 0o666, 1, 3),
	}
	if err := cpio.WriteRecords(w, recs); err != nil {
		t.Fatal(err)
	}
	cpio.WriteTrailer(w)
	fs, err := initrd.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestCpiofs(t *testing.T) {
	tr := tree(t)
	v := vfs.New(cpiofs.New(tr), vfs.MountReadOnly, "rootfs")
	c := &vfs.Context{}
	var at vfs.Path
	st, err := v.Statat(c, at, "/etc/pw", 0)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode != unix.S_IFREG|0o640 || st.Size != 10 || st.UID != 7 || st.GID != 8 ||
		st.Mtime.Sec != 1700000000 || st.Blocks != 1 || st.Nlink != 1 || st.Dev == 0 {
		t.Errorf("stat %+v", st)
	}
	if n, _ := tr.Lookup("/etc/passwd", false); st.Ino != n.Ino {
		t.Errorf("ino %d, node %d", st.Ino, n.Ino)
	}
	p, _ := v.Lookup(c, at, "/etc/passwd", 0)
	if cpiofs.Node(p.Inode()) == nil || cpiofs.Node(p.Inode()).Path != "/etc/passwd" {
		t.Errorf("Node")
	}
	f, err := v.Openat(c, at, "/etc/passwd", vfs.OpenHow{})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	f.Seek(5, io.SeekStart)
	if n, _ := f.Read(buf); string(buf[:n]) != "x:0:" {
		t.Errorf("read %q", buf[:n])
	}
	f.DecRef()
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"mkdir", v.Mkdirat(c, at, "/new", 0o755)},
		{"unlink", v.Unlinkat(c, at, "/a", 0)},
		{"rename", v.Renameat2(c, at, "/a", at, "/b", 0)},
		{"chmod", v.Chmodat(c, at, "/a", 0o600, 0)},
		{"truncate", v.Truncate(c, at, "/etc/passwd", 0)},
		{"utimens", v.Utimensat(c, at, "/a", nil, 0)},
		{"open for writing", func() error { _, err := v.Openat(c, at, "/a", vfs.OpenHow{Flags: unix.O_RDWR}); return err }()},
		{"create", func() error {
			_, err := v.Openat(c, at, "/new", vfs.OpenHow{Flags: unix.O_CREAT | unix.O_WRONLY})
			return err
		}()},
		{"access W_OK", v.Accessat(c, at, "/a", vfs.MayWrite, 0)},
	} {
		if tc.err != unix.EROFS {
			t.Errorf("%s: %v, want EROFS", tc.name, tc.err)
		}
	}
	if s := v.StatfsOf(v.Root()); s.Flags&unix.ST_RDONLY == 0 || s.Files != uint64(tr.Len()) {
		t.Errorf("statfs %+v", s)
	}
	// The same tree without a read-only mount: the filesystem itself
	// refuses.
	v2 := vfs.New(cpiofs.New(tr), 0, "rootfs")
	if err := v2.Mkdirat(c, at, "/new", 0o755); err != unix.EROFS {
		t.Errorf("mkdir on a writable mount: %v", err)
	}
	if _, err := v2.Openat(c, at, "/a", vfs.OpenHow{Flags: unix.O_WRONLY}); err != unix.EROFS {
		t.Errorf("open for writing on a writable mount: %v", err)
	}
	if _, err := v2.Openat(c, at, "/null", vfs.OpenHow{}); err != unix.ENXIO {
		t.Errorf("opening a device without a special opener: %v", err)
	}
}

func TestCpiofsReadDir(t *testing.T) {
	v := vfs.New(cpiofs.New(tree(t)), vfs.MountReadOnly, "rootfs")
	f, err := v.Openat(&vfs.Context{}, vfs.Path{}, "/", vfs.OpenHow{Flags: unix.O_DIRECTORY})
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef()
	var names []string
	read := func(max int) {
		n := 0
		f.ReadDir(func(d vfs.Dirent) bool {
			if n == max {
				return false
			}
			n++
			names = append(names, d.Name)
			return true
		})
	}
	read(3)
	read(100)
	want := []string{".", "..", "a", "etc", "null", "z"}
	if len(names) != len(want) {
		t.Fatalf("names %v", names)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("names %v, want %v", names, want)
		}
	}
}
