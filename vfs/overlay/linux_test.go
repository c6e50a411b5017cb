package overlay_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
	"golang.org/x/sys/unix"

	"yolk/initrd"
	"yolk/vfs"
	"yolk/vfs/cpiofs"
	"yolk/vfs/internal/linuxdiff"
	"yolk/vfs/overlay"
	"yolk/vfs/tmpfs"
)

// diffLower is the lower layer of the differential test, made both as a
// cpio archive and as a host directory.
var diffLower = []struct {
	name string
	mode uint32 // with S_IFMT
	uid  uint32
	data string // content, or symlink target
}{
	{"a", unix.S_IFDIR | 0o755, 0, ""},
	{"a/b", unix.S_IFDIR | 0o777, 1000, ""},
	{"a/g", unix.S_IFREG | 0o600, 1000, "gg"},
	{"a/b/h", unix.S_IFREG | 0o4755, 1000, "hhh"},
	{"a/lb", unix.S_IFLNK | 0o777, 0, "b"},
	{"b", unix.S_IFDIR | 0o755, 0, ""},
	{"b/a", unix.S_IFREG | 0o666, 0, "ba"},
	{"b/c", unix.S_IFDIR | 0o700, 1000, ""},
	{"c", unix.S_IFDIR | 0o1777, 0, ""},
	{"c/d", unix.S_IFREG | 0o644, 1000, ""},
	{"c/a", unix.S_IFDIR | 0o755, 1000, ""},
	{"f", unix.S_IFREG | 0o644, 0, "f"},
	{"l", unix.S_IFLNK | 0o777, 0, "a"},
	{"d", unix.S_IFLNK | 0o777, 0, "/c/a"},
}

func diffLowerTree(t *testing.T) *initrd.FS {
	var buf bytes.Buffer
	w := cpio.Newc.Writer(&buf)
	var recs []cpio.Record
	for _, e := range diffLower {
		info := cpio.Info{Name: e.name, Mode: uint64(e.mode), UID: uint64(e.uid), GID: uint64(e.uid)}
		recs = append(recs, cpio.StaticRecord([]byte(e.data), info))
	}
	if err := cpio.WriteRecords(w, recs); err != nil {
		t.Fatal(err)
	}
	cpio.WriteTrailer(w)
	tr, err := initrd.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func makeDiffLower(dir string) error {
	for _, e := range diffLower {
		p := filepath.Join(dir, e.name)
		var err error
		switch e.mode & unix.S_IFMT {
		case unix.S_IFDIR:
			err = os.Mkdir(p, 0o700)
		case unix.S_IFREG:
			err = os.WriteFile(p, []byte(e.data), 0o600)
		case unix.S_IFLNK:
			err = os.Symlink(e.data, p)
		}
		if err == nil {
			err = unix.Lchown(p, int(e.uid), int(e.uid))
		}
		if err == nil && e.mode&unix.S_IFMT != unix.S_IFLNK {
			err = unix.Chmod(p, e.mode&0o7777)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// TestOverlayDifferential runs random sequences of namespace operations
// on the overlay of tmpfs on cpiofs and on Linux's overlayfs (tmpfs on
// tmpfs, redirect_dir=off as the overlay has no redirects), and requires
// the same results.
func TestOverlayDifferential(t *testing.T) {
	if runtime.GOOS != "linux" || os.Getuid() != 0 {
		t.Skip("needs root on Linux for mount(2) and chroot(2)")
	}
	dir, err := os.MkdirTemp("/dev/shm", "ovldiff")
	if err != nil {
		t.Skip(err)
	}
	defer os.RemoveAll(dir)
	// Can this machine mount an overlay at all?
	probe := filepath.Join(dir, "probe")
	for _, d := range []string{"l", "u", "w", "m"} {
		os.MkdirAll(filepath.Join(probe, d), 0o755)
	}
	opts := fmt.Sprintf("lowerdir=%s/l,upperdir=%s/u,workdir=%s/w", probe, probe, probe)
	if err := unix.Mount("overlay", probe+"/m", "overlay", 0, opts); err != nil {
		t.Skipf("cannot mount an overlay: %v", err)
	}
	unix.Unmount(probe+"/m", unix.MNT_DETACH)
	os.RemoveAll(probe)

	n := 40
	if testing.Short() {
		n = 6
	}
	if s, err := strconv.Atoi(os.Getenv("VFS_DIFF_SEEDS")); err == nil {
		n = s
	}
	var seqs [][]linuxdiff.Op
	for seed := int64(1); seed <= int64(n); seed++ {
		seqs = append(seqs, linuxdiff.Ops(seed, 60))
	}
	wants := linuxdiff.Spawn(t, "TestOverlayChild", []string{"VFS_OVL_ROOT=" + dir}, seqs)
	tr := diffLowerTree(t)
	for k, ops := range seqs {
		v := vfs.New(overlay.New(tmpfs.New(tmpfs.Options{RootMode: 0o755}), cpiofs.New(tr)), 0, "overlay")
		v.SetSpecialOpener(linuxdiff.FIFOOpener)
		if !linuxdiff.Compare(t, int64(k+1), ops, linuxdiff.RunVFS(v, ops), wants[k], linuxdiff.Options{}) {
			return
		}
	}
}

// TestOverlayChild is the Linux side of TestOverlayDifferential: each
// sequence gets a fresh overlay, made the process's root; an fd of the
// base directory leads back out of it.
func TestOverlayChild(t *testing.T) {
	dir := os.Getenv("VFS_OVL_ROOT")
	if dir == "" {
		t.Skip("only run by TestOverlayDifferential")
	}
	base, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	toBase := func() {
		if err := unix.Fchdir(base); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Chroot("."); err != nil {
			t.Fatal(err)
		}
	}
	linuxdiff.Child(t, func(i int) func() {
		toBase()
		s := fmt.Sprintf("/s%d", i)
		for _, d := range []string{"lower", "upper", "work", "m"} {
			if err := os.MkdirAll(s+"/"+d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := makeDiffLower(s + "/lower"); err != nil {
			t.Fatal(err)
		}
		opts := fmt.Sprintf("lowerdir=%s/lower,upperdir=%s/upper,workdir=%s/work,redirect_dir=off,index=off,metacopy=off", s, s, s)
		if err := unix.Mount("overlay", s+"/m", "overlay", 0, opts); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Chroot(s + "/m"); err != nil {
			t.Fatal(err)
		}
		return func() {
			toBase()
			unix.Unmount(s+"/m", unix.MNT_DETACH)
			os.RemoveAll(s)
		}
	})
}
