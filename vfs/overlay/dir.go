package overlay

import (
	"sync"

	"golang.org/x/sys/unix"

	"yolk/vfs"
)

// listDir returns the entries of directory i.
func listDir(i vfs.Inode) ([]vfs.Dirent, error) {
	f, err := i.Open(unix.O_RDONLY | unix.O_DIRECTORY)
	if err != nil {
		return nil, err
	}
	defer f.Release()
	var out []vfs.Dirent
	err = f.ReadDir(vfs.FirstCookie-1, func(d vfs.Dirent) bool {
		out = append(out, d)
		return true
	})
	return out, err
}

// entries returns the merged listing of directory n: upper entries, then
// lower ones neither in the upper directory nor hidden, numbered from
// vfs.FirstCookie.
func (n *node) entries() ([]vfs.Dirent, error) {
	u, l := n.layers()
	var out []vfs.Dirent
	var inUpper map[string]bool
	if u != nil {
		ents, err := listDir(u)
		if err != nil {
			return nil, err
		}
		inUpper = make(map[string]bool, len(ents))
		for _, d := range ents {
			inUpper[d.Name] = true
			d.Ino |= upperOnly
			out = append(out, d)
		}
	}
	if l != nil {
		ents, err := listDir(l)
		if err != nil {
			return nil, err
		}
		n.mu.Lock()
		for _, d := range ents {
			if !inUpper[d.Name] && !n.hide[d.Name] {
				out = append(out, d)
			}
		}
		n.mu.Unlock()
	}
	n.mu.Lock()
	for k := range out {
		if c := n.children[out[k].Name]; c != nil {
			out[k].Ino = c.ino
		}
		out[k].Off = int64(k) + vfs.FirstCookie
	}
	n.mu.Unlock()
	return out, nil
}

func (n *node) openDir() (vfs.FileImpl, error) {
	f := &dirFile{n: n}
	if u, l := n.layers(); l == nil {
		// Nothing below: the upper directory's own positions, which
		// survive concurrent changes.
		impl, err := u.Open(unix.O_RDONLY | unix.O_DIRECTORY)
		if err != nil {
			return nil, err
		}
		f.upper = impl
	}
	return f, nil
}

// dirFile is an open overlay directory. A merged directory is listed from
// a snapshot taken when reading starts and renewed by rewinding, as
// Linux's overlayfs does.
type dirFile struct {
	vfs.FileBase
	n     *node
	upper vfs.FileImpl // directories without a lower part

	mu   sync.Mutex
	snap []vfs.Dirent
}

func (f *dirFile) Read([]byte, int64) (int, error) { return 0, unix.EISDIR }
func (f *dirFile) Stat() (vfs.Stat, error)         { return f.n.Stat(), nil }
func (f *dirFile) Sync(bool) error                 { return nil }

func (f *dirFile) Release() {
	if f.upper != nil {
		f.upper.Release()
	}
}

func (f *dirFile) Lseek(cur, off int64, whence int) (int64, error) {
	off, err := vfs.SeekDir(cur, off, whence)
	if err != nil {
		return 0, err
	}
	if off == 0 {
		f.mu.Lock()
		f.snap = nil
		f.mu.Unlock()
	}
	return off, nil
}

func (f *dirFile) ReadDir(pos int64, emit func(vfs.Dirent) bool) error {
	if f.upper != nil {
		n := f.n
		return f.upper.ReadDir(pos, func(d vfs.Dirent) bool {
			n.mu.Lock()
			if c := n.children[d.Name]; c != nil {
				d.Ino = c.ino
			} else {
				d.Ino |= upperOnly
			}
			n.mu.Unlock()
			return emit(d)
		})
	}
	f.mu.Lock()
	if f.snap == nil || pos < vfs.FirstCookie {
		snap, err := f.n.entries()
		if err != nil {
			f.mu.Unlock()
			return err
		}
		f.snap = snap
	}
	snap := f.snap
	f.mu.Unlock()
	for k := max(0, pos-vfs.FirstCookie+1); k < int64(len(snap)); k++ {
		if !emit(snap[k]) {
			break
		}
	}
	return nil
}
