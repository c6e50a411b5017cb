package vfs_test

import (
	"os"
	"runtime"
	"strconv"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"yolk/vfs"
	"yolk/vfs/internal/linuxdiff"
	"yolk/vfs/tmpfs"
)

// linuxSeeds returns how many random sequences a differential test runs:
// n, fewer with -short, or $VFS_DIFF_SEEDS.
func linuxSeeds(n int) int {
	if testing.Short() {
		n /= 6
	}
	if s, err := strconv.Atoi(os.Getenv("VFS_DIFF_SEEDS")); err == nil {
		n = s
	}
	return n
}

func canDiff(t *testing.T) {
	if runtime.GOOS != "linux" || os.Getuid() != 0 {
		t.Skip("needs root on Linux for chroot(2)")
	}
	if _, err := os.Stat("/dev/shm"); err != nil {
		t.Skip("no /dev/shm")
	}
}

// TestLinuxDifferential runs random sequences of namespace operations on
// the VFS over tmpfs and on Linux's tmpfs (a /dev/shm directory made the
// root of a child process), and requires the same errno from every
// operation and the same tree at the end.
func TestLinuxDifferential(t *testing.T) {
	canDiff(t)
	dir, err := os.MkdirTemp("/dev/shm", "vfsdiff")
	if err != nil {
		t.Skip(err)
	}
	defer os.RemoveAll(dir)
	var seqs [][]linuxdiff.Op
	for seed := int64(1); seed <= int64(linuxSeeds(60)); seed++ {
		seqs = append(seqs, linuxdiff.Ops(seed, 80))
	}
	wants := linuxdiff.Spawn(t, "TestLinuxChild", []string{"VFS_DIFF_ROOT=" + dir}, seqs)
	for k, ops := range seqs {
		fs := tmpfs.New(tmpfs.Options{RootMode: 0o1777})
		v := vfs.New(fs, 0, "none")
		v.SetSpecialOpener(linuxdiff.FIFOOpener)
		if !linuxdiff.Compare(t, int64(k+1), ops, linuxdiff.RunVFS(v, ops), wants[k], linuxdiff.Options{DirNlink: true}) {
			return
		}
	}
}

// TestLinuxChild is the Linux side of TestLinuxDifferential.
func TestLinuxChild(t *testing.T) {
	dir := os.Getenv("VFS_DIFF_ROOT")
	if dir == "" {
		t.Skip("only run by TestLinuxDifferential")
	}
	if err := syscall.Chroot(dir); err != nil {
		t.Fatal(err)
	}
	linuxdiff.Child(t, func(int) func() {
		ents, _ := os.ReadDir("/")
		for _, d := range ents {
			os.RemoveAll("/" + d.Name())
		}
		unix.Chown("/", 0, 0)
		unix.Chmod("/", 0o1777) // os.Chmod would drop the sticky bit
		return func() {}
	})
}
