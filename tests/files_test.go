package tests

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// filesRoot is processRoot plus the file-system examples, busybox's file
// applets and the file-operations script.
func filesRoot(t *testing.T) string {
	t.Helper()
	dir := processRoot(t)
	for _, a := range []string{"gzip", "cp", "mv", "rm", "ln", "touch", "mkdir", "chmod", "readlink", "stat", "cut"} {
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", a)); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, example(t, "fsops"), filepath.Join(dir, "fsops"))
	copyFile(t, example(t, "gofiles"), filepath.Join(dir, "gofiles"))
	writeTree(t, dir, map[string]string{"fileops.sh": fileOps})
	if err := os.Chmod(filepath.Join(dir, "fileops.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fileOps does what shell scripts do to files, in the directory $1.
const fileOps = `#!/bin/sh
# File operations on the directory $1, as a shell script does them.
set -e
d=$1/work
rm -rf "$d"
mkdir -p "$d/src/sub"
cd "$d"
echo one > src/a.txt
echo two > src/sub/b.txt
chmod 640 src/a.txt
ln -s a.txt src/link
touch -d '2001-02-03 04:05:06' src/a.txt
cp -a src copy
ls -l copy/a.txt | cut -c1-10
readlink copy/link
stat -c '%Y %n' src/a.txt copy/a.txt
mv copy moved
test ! -e copy && echo "moved away"
touch -d '2000-01-01' old.txt
touch new.txt
find . -newer old.txt -name '*.txt' | sort
echo hello > g.txt
gzip -k g.txt
ls g.txt g.txt.gz
gzip -dc g.txt.gz
ln moved/a.txt hard.txt
stat -c '%h %n' hard.txt
rm -r moved src
ls
cd /
rm -r "$d"
test ! -e "$d" && echo "removed"
`

// fileOpsOut is what Linux prints for fileOps (busybox sh in a chroot of
// the same tree).
const fileOpsOut = `-rw-r-----
a.txt
981173106 src/a.txt
981173106 copy/a.txt
moved away
./moved/a.txt
./moved/sub/b.txt
./new.txt
./src/a.txt
./src/sub/b.txt
g.txt
g.txt.gz
hello
2 hard.txt
g.txt
g.txt.gz
hard.txt
new.txt
old.txt
removed
`

// TestFilesOps runs fileOps in the writable root, on /tmp (tmpfs) and on
// a host directory (virtio-9p), on microvm and q35.
func TestFilesOps(t *testing.T) {
	root := filesRoot(t)
	for _, c := range []struct{ name, machine, where string }{
		{"root", "microvm", "/"}, {"tmpfs", "microvm", "/tmp"},
		{"9p-microvm", "microvm", "/mnt"}, {"9p-q35", "q35", "/mnt"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			host := t.TempDir()
			r := run(t, "-M", c.machine, "-v", host+":/mnt", "-i", root, "/fileops.sh", c.where)
			expect(t, r, 0, fileOpsOut)
		})
	}
}

// TestFilesSqlite: a database made by one sqlite run is read by the next
// in the same boot; one on a host directory is read by the host's
// sqlite3 afterwards; a database in the initrd opens read-only.
func TestFilesSqlite(t *testing.T) {
	root := filesRoot(t)
	sqlite, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Fatalf("sqlite3 missing (scripts/setup installs it): %v", err)
	}
	if err := os.MkdirAll(filepath.Join(root, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	ro := filepath.Join(root, "data/ro.db")
	if out, err := exec.Command(sqlite, ro, "create table t(i integer, s text); insert into t values(7, 'x'), (8, 'y');").CombinedOutput(); err != nil {
		t.Fatalf("sqlite3: %v\n%s", err, out)
	}
	host := t.TempDir()
	r := run(t, "-v", host+":/mnt", "-i", root, "/bin/sh", "-c",
		"/fsops sqlite-create /tmp/t.db && /fsops sqlite-sum /tmp/t.db && /fsops sqlite-ro /data/ro.db && /fsops sqlite-create /mnt/h.db")
	expect(t, r, 0, "created 10000 rows\nsum 50005000 count 10000\nsum 15 count 2\ncreated 10000 rows\n")
	out, err := exec.Command(sqlite, filepath.Join(host, "h.db"), "select sum(i), count(*) from t").CombinedOutput()
	if err != nil || string(out) != "50005000|10000\n" {
		t.Errorf("host sqlite3 read %q (%v), want 50005000|10000", out, err)
	}
}

// TestFilesLocks: two processes contending on F_SETLKW serialize; F_GETLK
// and F_SETLK see another process's lock, which its death releases.
func TestFilesLocks(t *testing.T) {
	root := filesRoot(t)
	r := run(t, "-i", root, "/fsops", "lock", "/tmp/counter")
	expect(t, r, 0, `counter 400 (child 0, parent 0)
F_GETLK: type F_WRLCK start 10 len 5 pid is the child: yes
F_SETLK over it: Resource temporarily unavailable
flock LOCK_EX|LOCK_NB: locked
after the child died, F_SETLK: locked
`)
}

// TestFilesGo runs Go's file APIs over 10,000 files on tmpfs and on a
// host directory.
func TestFilesGo(t *testing.T) {
	root := filesRoot(t)
	// 10,000 files in memory; 2,000 on 9p, where each call is a round
	// trip to QEMU (10,000 took 150 s alone under TCG, past the time
	// limit on a loaded machine).
	for _, c := range []struct{ where, n, want string }{
		{"/tmp", "10000", "mtime set: true\nwalked: 10000 files, 98890 bytes\nread dir: 10000 entries, sorted: true temporary names left: 0\nlast file: \"file 9999\\n\"\nremoved: true\n"},
		{"/mnt", "2000", "mtime set: true\nwalked: 2000 files, 18890 bytes\nread dir: 2000 entries, sorted: true temporary names left: 0\nlast file: \"file 1999\\n\"\nremoved: true\n"},
	} {
		t.Run(strings.TrimPrefix(c.where, "/"), func(t *testing.T) {
			t.Parallel()
			host := t.TempDir()
			r := run(t, "-v", host+":/mnt", "-i", root, "/gofiles", c.where, c.n)
			expect(t, r, 0, c.want)
		})
	}
}

// TestFilesGzipHost compresses a large file on a host directory; the
// result is byte for byte what the host's busybox gzip makes.
func TestFilesGzipHost(t *testing.T) {
	root := filesRoot(t)
	host := t.TempDir()
	raw := make([]byte, 6<<20)
	rand.Read(raw)
	data := []byte(base64.StdEncoding.EncodeToString(raw)) // compressible, as text is
	if err := os.WriteFile(filepath.Join(host, "big.txt"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "-v", host+":/mnt", "-i", root, "/bin/gzip", "-k", "/mnt/big.txt")
	expect(t, r, 0, "")
	got, err := os.ReadFile(filepath.Join(host, "big.txt.gz"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := exec.Command("/bin/busybox", "gzip", "-c", filepath.Join(host, "big.txt")).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("guest gzip gave %d bytes, host %d; not identical", len(got), len(want))
	}
}

// TestFilesMisc: memfd_create, copy_file_range, splice, tee, sendfile,
// O_TMPFILE, a FIFO
// between two processes (opens wait for the other side), and
// RLIMIT_NOFILE enforced by dup.
func TestFilesMisc(t *testing.T) {
	root := filesRoot(t)
	r := run(t, "-i", root, "/fsops", "misc", "/tmp")
	expect(t, r, 0, `memfd: memfd, size 11
copy_file_range: 5 bytes, 23456, in offset now 7
splice: 4 and 4 bytes (0123), tee: 4 (0123), sendfile: 4 (6789), in offset now 4
O_TMPFILE: open
fifo: through the fifo
RLIMIT_NOFILE soft <= hard: yes
dup until Too many open files, last fd -1
`)
}

// TestFilesMount: mount(2) of a tmpfs and of a virtio-9p share by tag,
// /proc/mounts, umount, and ENODEV for a type yolk does not have.
func TestFilesMount(t *testing.T) {
	root := filesRoot(t)
	for _, a := range []string{"mount", "umount", "grep"} {
		os.Symlink("busybox", filepath.Join(root, "bin", a))
	}
	host := t.TempDir()
	if err := os.WriteFile(filepath.Join(host, "h.txt"), []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "-v", host+":/unused", "-i", root, "/bin/sh", "-c",
		`mkdir -p /m /h; mount -t tmpfs none /m && echo x > /m/f && cat /m/f && grep " /m " /proc/mounts
umount /m && ls /m; mount -t 9p share0 /h && cat /h/h.txt; mount -t nfs x /m 2>/dev/null || echo "nfs: refused"`)
	expect(t, r, 0, "x\nnone /m tmpfs rw 0 0\nfrom the host\nnfs: refused\n")
}

// TestFilesFull: a tmpfs holds at most a quarter of the VM's memory; a
// write beyond gives ENOSPC to the program, the kernel carries on, and
// space comes back when the file goes.
func TestFilesFull(t *testing.T) {
	root := filesRoot(t)
	os.Symlink("busybox", filepath.Join(root, "bin", "dd"))
	r := run(t, "-m", "256M", "-i", root, "/bin/sh", "-c",
		`dd if=/dev/zero of=/tmp/big bs=1048576 count=200 2>&1 | grep -o "No space left on device"; rm /tmp/big; echo again > /tmp/small && cat /tmp/small`)
	expect(t, r, 0, "No space left on device\nagain\n")
}

// TestFilesHostRoot: qemu/run -R HOSTDIR makes a host directory the whole
// root, read-only under an in-memory layer: the program reads the host's
// files (its /tmp too), its writes stay in the VM, and the host is left
// as it was.
// (/etc is the resolver files yolk adds when the root lacks them.)
func TestFilesHostRoot(t *testing.T) {
	host := t.TempDir()
	copyFile(t, "/bin/busybox", filepath.Join(host, "bin/busybox"))
	os.Symlink("busybox", filepath.Join(host, "bin/sh"))
	writeTree(t, host, map[string]string{"data.txt": "from the host\n", "tmp/sub/f.txt": "in the host's /tmp\n"})
	r := run(t, "-R", host, "/bin/sh", "-c", "cat /data.txt; echo changed > /data.txt; cat /data.txt; ls /; cat /tmp/sub/f.txt; echo new > /tmp/new; cat /tmp/new")
	expect(t, r, 0, "from the host\nchanged\nbin\ndata.txt\ndev\netc\nproc\nsys\ntmp\nin the host's /tmp\nnew\n")
	if _, err := os.Stat(filepath.Join(host, "tmp/new")); err == nil {
		t.Error("the guest's /tmp/new reached the host")
	}
	if b, _ := os.ReadFile(filepath.Join(host, "data.txt")); string(b) != "from the host\n" {
		t.Errorf("the host file became %q", b)
	}
}
