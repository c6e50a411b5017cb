package overlay

import (
	"golang.org/x/sys/unix"

	"yolk/vfs"
)

// copyUp gives n an upper inode: its parents' first, then a copy of its
// lower inode with contents, mode, owner and times.
func (n *node) copyUp() error {
	if u, _ := n.layers(); u != nil {
		return nil
	}
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	return n.copyUpLocked()
}

func (n *node) copyUpLocked() error {
	u, l := n.layers()
	if u != nil {
		return nil
	}
	if n.parent == nil {
		return unix.EROFS // the root always has an upper directory
	}
	if err := n.parent.copyUpLocked(); err != nil {
		return err
	}
	pu, _ := n.parent.layers()
	st := l.Stat()
	a := vfs.CreateAttr{Mode: st.Mode, UID: st.UID, GID: st.GID, Rdev: st.Rdev}
	if n.typ == unix.S_IFLNK {
		t, err := l.Readlink()
		if err != nil {
			return err
		}
		a.Target = t
	}
	u, err := pu.Create(n.name, a)
	if err != nil {
		return err
	}
	if n.typ == unix.S_IFREG {
		if err := copyData(u, l); err != nil {
			pu.Remove(n.name, u)
			return err
		}
	}
	if err := u.SetAttr(&vfs.SetAttr{Mask: vfs.SetAtime | vfs.SetMtime, Atime: st.Atime, Mtime: st.Mtime}); err != nil {
		return err
	}
	n.mu.Lock()
	n.upper = u
	n.mu.Unlock()
	return nil
}

func copyData(dst, src vfs.Inode) error {
	r, err := src.Open(unix.O_RDONLY)
	if err != nil {
		return err
	}
	defer r.Release()
	w, err := dst.Open(unix.O_WRONLY)
	if err != nil {
		return err
	}
	defer w.Release()
	buf := make([]byte, 64<<10)
	off := int64(0)
	for {
		n, err := r.Read(buf, off)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		// All-zero chunks are skipped, so holes stay holes.
		if !allZero(buf[:n]) {
			if _, _, err := w.Write(buf[:n], off, false); err != nil {
				return err
			}
		}
		off += int64(n)
	}
	return w.Truncate(off)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// asNode returns i as a node of fs, or nil.
func (fs *FS) asNode(i vfs.Inode) *node {
	if n, ok := i.(*node); ok && n.fs == fs {
		return n
	}
	return nil
}

// Create implements vfs.Inode.
func (n *node) Create(name string, a vfs.CreateAttr) (vfs.Inode, error) {
	if !n.isDir() {
		return nil, unix.ENOTDIR
	}
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	if err := n.copyUpLocked(); err != nil {
		return nil, err
	}
	pu, _ := n.layers()
	u, err := pu.Create(name, a)
	if err != nil {
		return nil, err
	}
	// A directory made where a lower entry was removed is opaque.
	n.hideLower(name)
	c := &node{fs: n.fs, typ: a.Mode & unix.S_IFMT, parent: n, name: name, upper: u}
	c.ino = c.originIno()
	n.mu.Lock()
	n.addChildLocked(name, c)
	n.mu.Unlock()
	return c, nil
}

// Tmpfile implements vfs.Inode.
func (n *node) Tmpfile(a vfs.CreateAttr) (vfs.Inode, error) {
	if !n.isDir() {
		return nil, unix.ENOTDIR
	}
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	if err := n.copyUpLocked(); err != nil {
		return nil, err
	}
	pu, _ := n.layers()
	u, err := pu.Tmpfile(a)
	if err != nil {
		return nil, err
	}
	c := &node{fs: n.fs, typ: unix.S_IFREG, upper: u}
	c.ino = c.originIno()
	return c, nil
}

// Link implements vfs.Inode: the target is copied up and linked there.
func (n *node) Link(name string, target vfs.Inode) error {
	t := n.fs.asNode(target)
	if t == nil {
		return unix.EXDEV
	}
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	if err := t.copyUpLocked(); err != nil {
		return err
	}
	if err := n.copyUpLocked(); err != nil {
		return err
	}
	pu, _ := n.layers()
	tu, _ := t.layers()
	if err := pu.Link(name, tu); err != nil {
		return err
	}
	n.hideLower(name)
	n.mu.Lock()
	n.addChildLocked(name, t)
	n.mu.Unlock()
	return nil
}

// Remove implements vfs.Inode: the upper entry goes, and a lower one is
// whited out.
func (n *node) Remove(name string, child vfs.Inode) error {
	c := n.fs.asNode(child)
	if c == nil {
		return unix.ENOENT
	}
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	if c.isDir() {
		ents, err := c.entries()
		if err != nil {
			return err
		}
		if len(ents) > 0 {
			return unix.ENOTEMPTY
		}
	}
	if cu, _ := c.layers(); cu != nil {
		pu, _ := n.layers()
		if err := pu.Remove(name, cu); err != nil {
			return err
		}
	}
	n.hideLower(name)
	n.mu.Lock()
	delete(n.children, name)
	n.mu.Unlock()
	return nil
}

// Rename implements vfs.Inode. Files are copied up and renamed in the
// upper layer; a directory with lower contents cannot move (EXDEV).
func (n *node) Rename(oldName string, child vfs.Inode, newDir vfs.Inode, newName string, replaced vfs.Inode, flags uint32) error {
	nd, c := n.fs.asNode(newDir), n.fs.asNode(child)
	if nd == nil || c == nil {
		return unix.EXDEV
	}
	var r *node
	if replaced != nil {
		r = n.fs.asNode(replaced)
	}
	exchange := flags&unix.RENAME_EXCHANGE != 0
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	for _, x := range []*node{c, r} {
		if x == nil || !x.isDir() || (x == r && !exchange) {
			continue
		}
		if _, l := x.layers(); l != nil {
			return unix.EXDEV
		}
	}
	if r != nil && !exchange && r.isDir() {
		ents, err := r.entries()
		if err != nil {
			return err
		}
		if len(ents) > 0 {
			return unix.ENOTEMPTY
		}
	}
	copyUps := []*node{n, nd, c}
	if exchange {
		copyUps = append(copyUps, r)
	}
	for _, x := range copyUps {
		if err := x.copyUpLocked(); err != nil {
			return err
		}
	}
	ou, _ := n.layers()
	nu, _ := nd.layers()
	cu, _ := c.layers()
	var ru vfs.Inode
	if r != nil {
		ru, _ = r.layers() // nil if the target exists only below
	}
	if ru == nil && exchange {
		return unix.EXDEV
	}
	if err := ou.Rename(oldName, cu, nu, newName, ru, flags); err != nil {
		return err
	}
	n.hideLower(oldName)
	nd.hideLower(newName)
	n.mu.Lock()
	delete(n.children, oldName)
	if exchange {
		n.addChildLocked(oldName, r)
	}
	n.mu.Unlock()
	nd.mu.Lock()
	nd.addChildLocked(newName, c)
	nd.mu.Unlock()
	c.parent, c.name = nd, newName
	if exchange {
		r.parent, r.name = n, oldName
	}
	return nil
}
