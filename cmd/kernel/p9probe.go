package main

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"yolk/kernel"
	"yolk/vfs"
	"yolk/vfs/p9fs"
)

// p9probe exercises each virtio-9p share through p9fs, before the VFS
// carries them to programs: it lists the root, reads from-host.txt if the
// host put one there, writes, reads back, renames and removes files and
// makes a directory and a symlink, printing one line per check. A share
// given read-only (mount=TAG:PATH:ro) is only listed and read, and must
// refuse a create with EROFS. Returns the number of failed checks.
func p9probe(opts kernel.Options) int {
	ro := map[string]bool{}
	for _, m := range opts.Mounts {
		ro[m.Tag] = m.ReadOnly
	}
	passed, failed := 0, 0
	check := func(tag, name string, err error, detail string) bool {
		if err != nil {
			failed++
			fmt.Printf("p9probe: %s: FAIL %s: %v\n", tag, name, err)
			return false
		}
		passed++
		if detail != "" {
			detail = ": " + detail
		}
		fmt.Printf("p9probe: %s: ok %s%s\n", tag, name, detail)
		return true
	}
	shares := kernel.Shares()
	if len(shares) == 0 {
		fmt.Println("p9probe: no virtio-9p devices")
		failed++
	}
	for _, s := range shares {
		probeShare(s, ro[s.Tag], check)
	}
	fmt.Printf("p9probe: %d passed, %d failed\n", passed, failed)
	return failed
}

type checkFunc func(tag, name string, err error, detail string) bool

func probeShare(s kernel.Share, readOnly bool, check checkFunc) {
	tag := s.Tag
	fs, err := p9fs.New(s.Transport, p9fs.Options{})
	if !check(tag, "attach", err, fmt.Sprintf("msize %d", s.Transport.MaxMessage())) {
		return
	}
	root := fs.Root()
	names, err := list(root)
	check(tag, "list", err, strings.Join(names, " "))
	if f, err := root.Lookup("from-host.txt"); err == nil {
		b, err := readAll(f)
		check(tag, "read from-host.txt", err, fmt.Sprintf("%q", b))
	}
	_, err = root.Lookup("does-not-exist")
	check(tag, "lookup missing", wantErr(err, unix.ENOENT), "ENOENT")
	sf := fs.Statfs()
	check(tag, "statfs", nil, fmt.Sprintf("type %#x, %d blocks of %d", sf.Type, sf.Blocks, sf.Bsize))
	if readOnly {
		_, err := root.Create("probe-ro", vfs.CreateAttr{Mode: unix.S_IFREG | 0o644})
		check(tag, "create on a read-only share", wantErr(err, unix.EROFS), "EROFS")
		return
	}

	// 200 KiB: several messages each way.
	data := bytes.Repeat([]byte("yolk writes through virtio-9p\n"), 7000)
	f, err := create(root, "written-by-yolk.txt", data)
	check(tag, "write written-by-yolk.txt", err, fmt.Sprintf("%d bytes", len(data)))
	if err == nil {
		b, err := readAll(f)
		if err == nil && !bytes.Equal(b, data) {
			err = fmt.Errorf("read back %d bytes that differ", len(b))
		}
		check(tag, "read back", err, fmt.Sprintf("%d bytes", len(b)))
	}
	a, err := create(root, "probe-a", []byte("renamed\n"))
	if err == nil {
		err = root.Rename("probe-a", a, root, "probe-b", nil, 0)
		if err == nil {
			_, err = root.Lookup("probe-b")
		}
	}
	check(tag, "rename probe-a to probe-b", err, "")
	g, err := create(root, "probe-gone", []byte("x"))
	if err == nil {
		err = root.Remove("probe-gone", g)
		if err == nil {
			_, err = root.Lookup("probe-gone")
			err = wantErr(err, unix.ENOENT)
		}
	}
	check(tag, "remove probe-gone", err, "")
	d, err := root.Create("probe-dir", vfs.CreateAttr{Mode: unix.S_IFDIR | 0o755})
	var target string
	if err == nil {
		var l vfs.Inode
		l, err = d.Create("link", vfs.CreateAttr{Mode: unix.S_IFLNK | 0o777, Target: "../written-by-yolk.txt"})
		if err == nil {
			target, err = l.Readlink()
		}
	}
	check(tag, "mkdir and symlink", err, "probe-dir/link -> "+target)
	names, err = list(root)
	check(tag, "list", err, strings.Join(names, " "))
}

func wantErr(err error, want unix.Errno) error {
	if errors.Is(err, want) {
		return nil
	}
	return fmt.Errorf("got %v, want %v", err, want)
}

func list(dir vfs.Inode) ([]string, error) {
	impl, err := dir.Open(unix.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer impl.Release()
	var names []string
	err = impl.ReadDir(vfs.FirstCookie-1, func(d vfs.Dirent) bool {
		names = append(names, d.Name)
		return true
	})
	sort.Strings(names)
	return names, err
}

func readAll(f vfs.Inode) ([]byte, error) {
	impl, err := f.Open(unix.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer impl.Release()
	var out []byte
	buf := make([]byte, 32<<10)
	for {
		n, err := impl.Read(buf, int64(len(out)))
		if err != nil {
			return out, err
		}
		if n == 0 {
			return out, nil
		}
		out = append(out, buf[:n]...)
	}
}

func create(dir vfs.Inode, name string, data []byte) (vfs.Inode, error) {
	f, err := dir.Create(name, vfs.CreateAttr{Mode: unix.S_IFREG | 0o644})
	if err != nil {
		return nil, err
	}
	impl, err := f.Open(unix.O_WRONLY)
	if err != nil {
		return nil, err
	}
	defer impl.Release()
	for off := 0; off < len(data); {
		n, _, err := impl.Write(data[off:], int64(off), false)
		if err != nil {
			return nil, err
		}
		off += n
	}
	return f, nil
}
