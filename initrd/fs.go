package initrd

import (
	"bytes"
	"path"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// FS is the read-only filesystem parsed from a cpio archive. It is
// immutable once Parse returns and safe for concurrent use.
type FS struct {
	root *Node
	n    int
}

// Node is one file of an FS. Its fields must not be modified.
type Node struct {
	Path   string // clean absolute path, "/" for the root
	Name   string // last component of Path, "/" for the root
	Mode   uint32 // Linux st_mode: S_IFMT type bits, set-id, sticky, permissions
	Size   int64  // st_size: content length for files, target length for symlinks, else 0
	Data   []byte // regular files: the content, a sub-slice of the archive (nil if empty)
	Target string // symlinks: the target
	Ino    uint64 // inode number, unique per file in the FS (shared by hard links)
	Nlink  uint32
	UID    uint32
	GID    uint32
	Mtime  int64  // seconds since the Unix epoch
	Rdev   uint64 // device nodes: Linux dev_t of the device (unix.Mkdev(major, minor))

	parent   *Node
	children []*Node          // directories: sorted by Name
	kids     map[string]*Node // directories, while parsing
	group    *linkGroup       // hard-link group, while parsing
	archIno  uint64           // ino from the archive
}

// Type returns the S_IFMT bits of the mode.
func (n *Node) Type() uint32 { return n.Mode & unix.S_IFMT }

// Perm returns the permission, set-id and sticky bits of the mode.
func (n *Node) Perm() uint32 { return n.Mode &^ unix.S_IFMT }

// IsDir reports whether n is a directory.
func (n *Node) IsDir() bool { return n.Type() == unix.S_IFDIR }

// IsRegular reports whether n is a regular file.
func (n *Node) IsRegular() bool { return n.Type() == unix.S_IFREG }

// IsSymlink reports whether n is a symbolic link.
func (n *Node) IsSymlink() bool { return n.Type() == unix.S_IFLNK }

// IsDevice reports whether n is a character or block device.
func (n *Node) IsDevice() bool { return n.Type() == unix.S_IFCHR || n.Type() == unix.S_IFBLK }

// RdevMajor and RdevMinor split Rdev.
func (n *Node) RdevMajor() uint32 { return unix.Major(n.Rdev) }

// RdevMinor returns the minor number of Rdev.
func (n *Node) RdevMinor() uint32 { return unix.Minor(n.Rdev) }

// Parent returns the directory holding n; the root is its own parent.
func (n *Node) Parent() *Node { return n.parent }

// child returns the entry name of directory n, or nil.
func (n *Node) child(name string) *Node {
	i, ok := slices.BinarySearchFunc(n.children, name, func(c *Node, name string) int {
		return strings.Compare(c.Name, name)
	})
	if !ok {
		return nil
	}
	return n.children[i]
}

// Root returns the root directory.
func (fs *FS) Root() *Node { return fs.root }

// Len returns the number of nodes, the root included.
func (fs *FS) Len() int { return fs.n }

// ReadDir returns the entries of directory n sorted by name ("." and ".."
// are not included), or nil if n is not a directory. The slice is shared:
// callers must not modify it.
func (fs *FS) ReadDir(n *Node) []*Node {
	if n == nil || !n.IsDir() {
		return nil
	}
	return slices.Clip(n.children)
}

// Walk calls fn for every node, in pre-order with siblings sorted by name,
// and stops at the first error, which it returns.
func (fs *FS) Walk(fn func(*Node) error) error {
	var walk func(n *Node) error
	walk = func(n *Node) error {
		if err := fn(n); err != nil {
			return err
		}
		for _, c := range n.children {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(fs.root)
}

// Lookup resolves path, relative paths from the root. See LookupAt.
func (fs *FS) Lookup(path string, followLast bool) (*Node, error) {
	return fs.LookupAt(fs.root, path, followLast)
}

// LookupAt resolves path as Linux does: absolute paths from the root,
// relative ones from the directory cwd (the root if nil). Intermediate
// symlinks are always followed; a final one only if followLast or the path
// ends in a slash, which also requires the result to be a directory. Errors
// are unix.Errno: ENOENT (missing entry or empty path), ENOTDIR (a
// non-directory used as one), ELOOP (more than MaxSymlinks symlinks),
// ENAMETOOLONG (a component over MaxNameLen or a path over MaxPathLen bytes).
func (fs *FS) LookupAt(cwd *Node, path string, followLast bool) (*Node, error) {
	if path == "" {
		return nil, unix.ENOENT
	}
	if len(path) > MaxPathLen {
		return nil, unix.ENAMETOOLONG
	}
	if cwd == nil {
		cwd = fs.root
	}
	if path[0] != '/' && !cwd.IsDir() {
		return nil, unix.ENOTDIR
	}
	hops := 0
	return fs.walk(cwd, path, followLast, &hops)
}

func (fs *FS) walk(cur *Node, path string, followLast bool, hops *int) (*Node, error) {
	if path[0] == '/' {
		cur = fs.root
	}
	dirOnly := path[len(path)-1] == '/'
	if dirOnly {
		followLast = true
	}
	rest := path
	for {
		rest = strings.TrimLeft(rest, "/")
		if rest == "" {
			break
		}
		name := rest
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			name, rest = rest[:i], rest[i:]
		} else {
			rest = ""
		}
		if len(name) > MaxNameLen {
			return nil, unix.ENAMETOOLONG
		}
		// cur is a directory here.
		switch name {
		case ".":
			continue
		case "..":
			cur = cur.parent
			continue
		}
		last := strings.TrimLeft(rest, "/") == ""
		next := cur.child(name)
		if next == nil {
			return nil, unix.ENOENT
		}
		if next.IsSymlink() && (!last || followLast) {
			*hops++
			if *hops > MaxSymlinks {
				return nil, unix.ELOOP
			}
			if next.Target == "" {
				return nil, unix.ENOENT
			}
			t, err := fs.walk(cur, next.Target, true, hops)
			if err != nil {
				return nil, err
			}
			next = t
		}
		if !last && !next.IsDir() {
			return nil, unix.ENOTDIR
		}
		cur = next
	}
	if dirOnly && !cur.IsDir() {
		return nil, unix.ENOTDIR
	}
	return cur, nil
}

// linkKey identifies a hard-linked file as Linux's unpacker does.
type linkKey struct{ major, minor, ino, mode uint32 }

type linkGroup struct {
	data    []byte
	members uint32
	ino     uint64
}

// builder assembles the tree from records.
type builder struct {
	b      []byte
	root   *Node
	groups map[linkKey]*linkGroup
}

func newDir(p string) *Node {
	return &Node{Path: p, Name: path.Base(p), Mode: unix.S_IFDIR | 0o755}
}

func newBuilder(b []byte) *builder {
	root := newDir("/")
	root.parent = root
	return &builder{b: b, root: root}
}

func (bd *builder) add(raw *rawRecord) error {
	p := cleanPath(raw.name)
	for _, c := range strings.Split(p[1:], "/") {
		if len(c) > MaxNameLen {
			return formatErr(raw.off, "%q: path component longer than %d bytes", short(raw.name), MaxNameLen)
		}
	}
	mode := raw.f[fMode] & 0o177777
	n := &Node{
		Path:    p,
		Name:    path.Base(p),
		Mode:    mode,
		Nlink:   raw.f[fNlink],
		UID:     raw.f[fUID],
		GID:     raw.f[fGID],
		Mtime:   int64(raw.f[fMtime]),
		archIno: uint64(raw.f[fIno]),
	}
	content := bd.b[raw.dataOff : raw.dataOff+raw.size : raw.dataOff+raw.size]
	switch n.Type() {
	case unix.S_IFREG:
		n.Size = raw.size
		if raw.size > 0 {
			n.Data = content
		}
		if raw.crc && raw.size > 0 {
			var sum uint32
			for _, c := range content {
				sum += uint32(c)
			}
			if sum != raw.f[fCheck] {
				return formatErr(raw.off, "%q: checksum %#x, header says %#x", short(raw.name), sum, raw.f[fCheck])
			}
		}
	case unix.S_IFDIR:
	case unix.S_IFLNK:
		if raw.size > MaxPathLen {
			return formatErr(raw.off, "%q: symlink target of %d bytes", short(raw.name), raw.size)
		}
		if bytes.IndexByte(content, 0) >= 0 {
			return formatErr(raw.off, "%q: symlink target contains NUL", short(raw.name))
		}
		n.Target = string(content)
		n.Size = raw.size
	case unix.S_IFCHR, unix.S_IFBLK:
		n.Rdev = unix.Mkdev(raw.f[fRdevMajor], raw.f[fRdevMinor])
	case unix.S_IFIFO, unix.S_IFSOCK:
	default:
		return formatErr(raw.off, "%q: unknown file type in mode %#o", short(raw.name), mode)
	}
	if !n.IsDir() && !n.IsSymlink() && raw.f[fNlink] >= 2 {
		k := linkKey{raw.f[fDevMajor], raw.f[fDevMinor], raw.f[fIno], mode}
		if bd.groups == nil {
			bd.groups = make(map[linkKey]*linkGroup)
		}
		g := bd.groups[k]
		if g == nil {
			g = &linkGroup{}
			bd.groups[k] = g
		}
		if len(n.Data) > 0 {
			g.data = n.Data
		}
		n.group = g
	}

	if p == "/" {
		if !n.IsDir() {
			return formatErr(raw.off, "%q: the root is not a directory", short(raw.name))
		}
		bd.root.setMeta(n)
		return nil
	}
	// Walk (or create) the parents; their paths are prefixes of p.
	dir := bd.root
	for i := 1; ; {
		j := strings.IndexByte(p[i:], '/')
		if j < 0 {
			break
		}
		e := p[i : i+j]
		i += j + 1
		next := dir.kids[e]
		if next == nil {
			next = newDir(p[:i-1])
			next.parent = dir
			dir.addKid(e, next)
		} else if !next.IsDir() {
			return formatErr(raw.off, "%q: parent %s is not a directory", short(raw.name), short(next.Path))
		}
		dir = next
	}
	if old := dir.kids[n.Name]; old != nil && old.IsDir() && n.IsDir() {
		old.setMeta(n)
		return nil
	}
	n.parent = dir
	dir.addKid(n.Name, n)
	return nil
}

func (d *Node) addKid(name string, n *Node) {
	if d.kids == nil {
		d.kids = make(map[string]*Node)
	}
	d.kids[name] = n
}

func (d *Node) setMeta(n *Node) {
	d.Mode, d.UID, d.GID, d.Mtime, d.archIno = n.Mode, n.UID, n.GID, n.Mtime, n.archIno
}

func (bd *builder) finish() *FS {
	var all []*Node
	var maxIno uint64
	var walk func(n *Node)
	walk = func(n *Node) {
		all = append(all, n)
		maxIno = max(maxIno, n.archIno)
		if n.group != nil {
			n.group.members++
		}
		if !n.IsDir() {
			return
		}
		n.children = make([]*Node, 0, len(n.kids))
		subdirs := uint32(0)
		for _, c := range n.kids {
			n.children = append(n.children, c)
			if c.IsDir() {
				subdirs++
			}
		}
		n.kids = nil
		slices.SortFunc(n.children, func(a, b *Node) int { return strings.Compare(a.Name, b.Name) })
		n.Nlink = 2 + subdirs
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(bd.root)

	// Inode numbers: keep the archive's where unique, then fill in.
	used := make(map[uint64]bool, len(all))
	var pending []*Node
	for _, n := range all {
		if g := n.group; g != nil && g.ino != 0 {
			continue
		}
		if n.archIno != 0 && !used[n.archIno] {
			used[n.archIno] = true
			n.Ino = n.archIno
			if n.group != nil {
				n.group.ino = n.Ino
			}
			continue
		}
		pending = append(pending, n)
	}
	next := maxIno + 1
	for _, n := range pending {
		if g := n.group; g != nil && g.ino != 0 {
			continue
		}
		n.Ino = next
		if n.group != nil {
			n.group.ino = next
		}
		next++
	}
	for _, n := range all {
		if n.IsDir() {
			continue
		}
		if g := n.group; g != nil {
			n.Ino = g.ino
			n.Data = g.data
			if n.IsRegular() {
				n.Size = int64(len(g.data))
			}
			n.Nlink = g.members
			n.group = nil
		} else {
			n.Nlink = 1
		}
	}
	return &FS{root: bd.root, n: len(all)}
}
