package tmpfs

import (
	"sort"
	"sync"

	"golang.org/x/sys/unix"

	"yolk/vfs"
)

// inode is one tmpfs file.
type inode struct {
	fs    *FS
	ino   uint64
	ftype uint32 // S_IFMT bits, immutable

	mu                         sync.Mutex
	mode                       uint32
	nlink                      uint32
	uid, gid                   uint32
	rdev                       uint64
	atime, mtime, ctime, btime vfs.Timespec
	size                       int64           // regular files, symlinks; directories compute theirs
	pages                      map[int64]*Page // regular files, sparse
	unwritten                  map[int64]bool  // pages fallocate made that nothing wrote yet
	target                     string          // symlinks
	dir                        *dir            // directories
	parent                     *inode          // directories; the root is its own
	opens                      int             // open files
	linkable                   bool            // O_TMPFILE: may get a name with nlink 0
	released                   bool            // pages and inode count returned
}

// dir is a directory's entries, in creation order with stable cookies.
type dir struct {
	byName  map[string]*dirent
	list    []*dirent // cookie order, including removed ones until compacted
	removed int
	next    int64 // the next cookie
}

type dirent struct {
	name    string
	ino     *inode
	cookie  int64
	removed bool
}

func (d *dir) add(name string, ino *inode) {
	e := &dirent{name: name, ino: ino, cookie: d.next}
	d.next++
	d.byName[name] = e
	d.list = append(d.list, e)
}

func (d *dir) remove(name string) {
	e := d.byName[name]
	delete(d.byName, name)
	e.removed = true
	d.removed++
	if d.removed > 16 && d.removed > len(d.list)/2 {
		live := d.list[:0]
		for _, e := range d.list {
			if !e.removed {
				live = append(live, e)
			}
		}
		clear(d.list[len(live):])
		d.list, d.removed = live, 0
	}
}

// bogoDirentSize is what tmpfs counts per entry in a directory's size.
const bogoDirentSize = 20

func (i *inode) typ() uint32 { return i.ftype }

// Stat implements vfs.Inode.
func (i *inode) Stat() vfs.Stat {
	i.mu.Lock()
	defer i.mu.Unlock()
	s := vfs.Stat{
		Dev: i.fs.dev, Ino: i.ino, Mode: i.mode, Nlink: i.nlink, UID: i.uid, GID: i.gid, Rdev: i.rdev,
		Size: i.size, Blocks: int64(len(i.pages)) * (vfs.PageSize / 512), Blksize: vfs.PageSize,
		Atime: i.atime, Mtime: i.mtime, Ctime: i.ctime, Btime: i.btime,
	}
	if i.dir != nil {
		s.Size = int64(2+len(i.dir.byName)) * bogoDirentSize
	}
	return s
}

// SetAttr implements vfs.Inode.
func (i *inode) SetAttr(a *vfs.SetAttr) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.setAttrLocked(a)
}

func (i *inode) setAttrLocked(a *vfs.SetAttr) error {
	if a.Mask&vfs.SetSize != 0 {
		if i.typ() != unix.S_IFREG {
			return unix.EINVAL
		}
		if err := i.truncateLocked(a.Size); err != nil {
			return err
		}
	}
	now := i.fs.now()
	if a.Mask&vfs.SetMode != 0 {
		i.mode = i.mode&unix.S_IFMT | a.Mode&0o7777
	}
	if a.Mask&vfs.SetUID != 0 {
		i.uid = a.UID
	}
	if a.Mask&vfs.SetGID != 0 {
		i.gid = a.GID
	}
	switch {
	case a.Mask&vfs.SetAtimeNow != 0:
		i.atime = now
	case a.Mask&vfs.SetAtime != 0:
		i.atime = a.Atime
	}
	switch {
	case a.Mask&vfs.SetMtimeNow != 0:
		i.mtime = now
	case a.Mask&vfs.SetMtime != 0:
		i.mtime = a.Mtime
	}
	if a.Mask&vfs.SetCtime != 0 {
		i.ctime = now
	}
	return nil
}

// truncateLocked sets the size, dropping the pages past it and zeroing
// the tail of the last one.
func (i *inode) truncateLocked(size int64) error {
	if size < 0 {
		return unix.EINVAL
	}
	if size < i.size {
		first := (size + vfs.PageSize - 1) / vfs.PageSize
		for idx := range i.pages {
			if idx >= first {
				delete(i.pages, idx)
				delete(i.unwritten, idx)
				i.fs.pages.Add(-1)
			}
		}
		if off := size % vfs.PageSize; off != 0 {
			if p := i.pages[size/vfs.PageSize]; p != nil {
				clear(p[off:])
			}
		}
	}
	i.size = size
	return nil
}

// touchAtime updates atime on access as relatime does: when it is not
// newer than mtime or ctime, or a day old.
func (i *inode) touchAtime() {
	now := i.fs.now()
	if !after(i.atime, i.mtime) || !after(i.atime, i.ctime) || now.Nano()-i.atime.Nano() >= dayNs {
		i.atime = now
	}
}

func after(a, b vfs.Timespec) bool {
	return a.Sec > b.Sec || a.Sec == b.Sec && a.Nsec > b.Nsec
}

// modified sets mtime and ctime to now.
func (i *inode) modified() {
	now := i.fs.now()
	i.mtime, i.ctime = now, now
}

// Readlink implements vfs.Inode.
func (i *inode) Readlink() (string, error) {
	if i.typ() != unix.S_IFLNK {
		return "", unix.EINVAL
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.touchAtime()
	return i.target, nil
}

// Open implements vfs.Inode.
func (i *inode) Open(flags int) (vfs.FileImpl, error) {
	switch i.typ() {
	case unix.S_IFREG:
		i.mu.Lock()
		i.opens++
		i.mu.Unlock()
		return &regFile{i: i}, nil
	case unix.S_IFDIR:
		return &dirFile{i: i}, nil
	}
	// FIFOs and devices get their behaviour from the VFS's special-file
	// layer, not from tmpfs.
	return nil, unix.ENXIO
}

// release frees an inode's pages once it has neither names nor opens.
func (i *inode) releaseIfUnused() {
	if i.nlink > 0 || i.opens > 0 || i.released {
		return
	}
	i.released = true
	i.fs.pages.Add(-int64(len(i.pages)))
	i.pages, i.unwritten = nil, nil
	i.fs.inodes.Add(-1)
}

func (i *inode) checkDir() error {
	if i.dir == nil {
		return unix.ENOTDIR
	}
	return nil
}

// Lookup implements vfs.Inode.
func (i *inode) Lookup(name string) (vfs.Inode, error) {
	if err := i.checkDir(); err != nil {
		return nil, err
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if e := i.dir.byName[name]; e != nil {
		return e.ino, nil
	}
	return nil, unix.ENOENT
}

// Create implements vfs.Inode.
func (i *inode) Create(name string, a vfs.CreateAttr) (vfs.Inode, error) {
	if err := i.checkDir(); err != nil {
		return nil, err
	}
	i.fs.nsMu.Lock()
	defer i.fs.nsMu.Unlock()
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.nlink == 0 {
		return nil, unix.ENOENT
	}
	if i.dir.byName[name] != nil {
		return nil, unix.EEXIST
	}
	c, err := i.fs.newInode(a)
	if err != nil {
		return nil, err
	}
	if c.dir != nil {
		c.parent = i
		i.nlink++
	}
	i.dir.add(name, c)
	i.modified()
	return c, nil
}

// Tmpfile implements vfs.Inode.
func (i *inode) Tmpfile(a vfs.CreateAttr) (vfs.Inode, error) {
	if err := i.checkDir(); err != nil {
		return nil, err
	}
	if a.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, unix.EINVAL
	}
	c, err := i.fs.newInode(a)
	if err != nil {
		return nil, err
	}
	c.nlink = 0
	c.linkable = true
	return c, nil
}

// Link implements vfs.Inode.
func (i *inode) Link(name string, target vfs.Inode) error {
	if err := i.checkDir(); err != nil {
		return err
	}
	t, ok := target.(*inode)
	if !ok || t.fs != i.fs {
		return unix.EXDEV
	}
	i.fs.nsMu.Lock()
	defer i.fs.nsMu.Unlock()
	t.mu.Lock()
	if t.nlink == 0 && !t.linkable {
		t.mu.Unlock()
		return unix.ENOENT
	}
	t.nlink++
	t.linkable = false
	t.ctime = i.fs.now()
	t.mu.Unlock()

	i.mu.Lock()
	defer i.mu.Unlock()
	i.dir.add(name, t)
	i.modified()
	return nil
}

// Remove implements vfs.Inode.
func (i *inode) Remove(name string, child vfs.Inode) error {
	if err := i.checkDir(); err != nil {
		return err
	}
	i.fs.nsMu.Lock()
	defer i.fs.nsMu.Unlock()
	i.mu.Lock()
	e := i.dir.byName[name]
	if e == nil || e.ino != child {
		i.mu.Unlock()
		return unix.ENOENT
	}
	c := e.ino
	if c.dir != nil {
		c.mu.Lock()
		empty := len(c.dir.byName) == 0
		c.mu.Unlock()
		if !empty {
			i.mu.Unlock()
			return unix.ENOTEMPTY
		}
		i.nlink--
	}
	i.dir.remove(name)
	i.modified()
	i.mu.Unlock()
	c.unlinked()
	return nil
}

// unlinked drops one link of an inode whose entry went away.
func (c *inode) unlinked() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dir != nil {
		c.nlink = 0
	} else {
		c.nlink--
	}
	c.ctime = c.fs.now()
	c.releaseIfUnused()
}

// Rename implements vfs.Inode.
func (i *inode) Rename(oldName string, child vfs.Inode, newDir vfs.Inode, newName string, replaced vfs.Inode, flags uint32) error {
	nd, ok := newDir.(*inode)
	if !ok || nd.fs != i.fs {
		return unix.EXDEV
	}
	if err := nd.checkDir(); err != nil {
		return err
	}
	i.fs.nsMu.Lock()
	defer i.fs.nsMu.Unlock()
	c := child.(*inode)
	var r *inode
	if replaced != nil {
		r = replaced.(*inode)
	}
	if flags&unix.RENAME_EXCHANGE != 0 {
		return i.exchange(oldName, c, nd, newName, r)
	}
	if r != nil && r.dir != nil {
		r.mu.Lock()
		empty := len(r.dir.byName) == 0
		r.mu.Unlock()
		if !empty {
			return unix.ENOTEMPTY
		}
	}
	nd.mu.Lock()
	if r != nil {
		nd.dir.remove(newName)
		if r.dir != nil {
			nd.nlink--
		}
	}
	nd.dir.add(newName, c)
	if c.dir != nil && nd != i {
		nd.nlink++
	}
	nd.modified()
	nd.mu.Unlock()

	i.mu.Lock()
	i.dir.remove(oldName)
	if c.dir != nil && nd != i {
		i.nlink--
	}
	i.modified()
	i.mu.Unlock()

	c.mu.Lock()
	c.ctime = i.fs.now()
	if c.dir != nil {
		c.parent = nd
	}
	c.mu.Unlock()
	if r != nil {
		r.unlinked()
	}
	return nil
}

// exchange swaps the entries oldName in i (naming c) and newName in nd
// (naming r).
func (i *inode) exchange(oldName string, c *inode, nd *inode, newName string, r *inode) error {
	set := func(d *inode, name string, to *inode, from *inode) {
		d.mu.Lock()
		d.dir.remove(name)
		d.dir.add(name, to)
		if i != nd {
			if to.dir != nil && from.dir == nil {
				d.nlink++
			} else if to.dir == nil && from.dir != nil {
				d.nlink--
			}
		}
		d.modified()
		d.mu.Unlock()
		to.mu.Lock()
		to.ctime = d.fs.now()
		if to.dir != nil {
			to.parent = d
		}
		to.mu.Unlock()
	}
	set(i, oldName, r, c)
	set(nd, newName, c, r)
	return nil
}

// readDir lists the entries after cookie pos. emit runs without the
// inode's lock, on batches copied under it, so that it may block or call
// back into the filesystem.
func (i *inode) readDir(pos int64, emit func(vfs.Dirent) bool) error {
	var batch [64]vfs.Dirent
	for {
		i.mu.Lock()
		if i.nlink == 0 {
			i.mu.Unlock()
			return unix.ENOENT
		}
		i.touchAtime()
		l := i.dir.list
		n := 0
		for k := sort.Search(len(l), func(k int) bool { return l[k].cookie > pos }); k < len(l) && n < len(batch); k++ {
			if e := l[k]; !e.removed {
				batch[n] = vfs.Dirent{Name: e.name, Ino: e.ino.ino, Type: vfs.DirentType(e.ino.ftype), Off: e.cookie}
				n++
			}
		}
		i.mu.Unlock()
		for _, d := range batch[:n] {
			if !emit(d) {
				return nil
			}
			pos = d.Off
		}
		if n < len(batch) {
			return nil
		}
	}
}
