package vfs

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Dentry is a name in the VFS's name cache. See the package comment.
type Dentry struct {
	name   string
	parent *Dentry // itself for a filesystem's root
	inode  Inode
	typ    uint32 // S_IFMT bits of inode, which never change

	// Under VFS.mu held for writing, or for reading plus mu.
	mu       sync.Mutex
	children map[string]*Dentry

	// Under VFS.mu.
	mounts int  // mounts whose mount point this is
	dead   bool // removed from its parent
}

// Inode returns the file d names.
func (d *Dentry) Inode() Inode { return d.inode }

// Name returns d's last path component ("/" for a root).
func (d *Dentry) Name() string { return d.name }

// IsDir reports whether d names a directory.
func (d *Dentry) IsDir() bool { return d.typ == unix.S_IFDIR }

func (d *Dentry) isSymlink() bool { return d.typ == unix.S_IFLNK }

func newDentry(name string, parent *Dentry, ino Inode) *Dentry {
	d := &Dentry{name: name, parent: parent, inode: ino, typ: ino.Stat().Mode & unix.S_IFMT}
	if parent == nil {
		d.parent = d
	}
	return d
}

// child returns the cached entry name or looks it up in the filesystem.
func (d *Dentry) child(name string) (*Dentry, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c := d.children[name]; c != nil {
		rv, ok := d.inode.(Revalidator)
		if !ok || c.mounts > 0 || rv.Revalidate(name, c.inode) {
			return c, nil
		}
		// Stale: the name changed behind the VFS (a host directory).
		// Forget it, and what was cached below it, and look again.
		delete(d.children, name)
	}
	if d.dead {
		return nil, unix.ENOENT
	}
	ino, err := d.inode.Lookup(name)
	if err != nil {
		return nil, err
	}
	c := newDentry(name, d, ino)
	if d.children == nil {
		d.children = make(map[string]*Dentry)
	}
	d.children[name] = c
	return c, nil
}

// Revalidator is implemented by directory inodes of filesystems whose
// names can change behind the VFS (9p shares the host also writes): the
// name cache asks Revalidate before it uses a cached entry, and looks the
// name up again when it returns false. Mount points are never dropped.
type Revalidator interface {
	Revalidate(name string, child Inode) bool
}

// addChild caches c as the entry name; VFS.mu is held for writing.
func (d *Dentry) addChild(name string, c *Dentry) {
	if d.children == nil {
		d.children = make(map[string]*Dentry)
	}
	c.name, c.parent = name, d
	d.children[name] = c
}

// removeChild forgets the entry name; VFS.mu is held for writing.
func (d *Dentry) removeChild(name string) {
	delete(d.children, name)
}

// isAncestor reports whether a is b or one of b's parents.
func isAncestor(a, b *Dentry) bool {
	for {
		if a == b {
			return true
		}
		if b.parent == b {
			return false
		}
		b = b.parent
	}
}

// MountFlags are per-mount options.
type MountFlags uint32

// Mount options.
const (
	MountReadOnly MountFlags = 1 << iota
	MountNoExec
	MountNoSuid
	MountNoDev
)

// Mount is a Filesystem attached to the tree.
type Mount struct {
	vfs    *VFS
	fs     Filesystem
	root   *Dentry
	parent *Mount  // nil for the VFS's root mount
	point  *Dentry // where in parent
	flags  MountFlags
	id     int
	source string

	children int // under VFS.mu

	// refs counts what keeps the mount busy: open files on it, and
	// working and root directories pinned with IncRef.
	refs atomic.Int64
}

// Filesystem returns the mounted filesystem.
func (m *Mount) Filesystem() Filesystem { return m.fs }

// Flags returns the mount's options.
func (m *Mount) Flags() MountFlags { return m.flags }

// ReadOnly reports whether the mount is read-only.
func (m *Mount) ReadOnly() bool { return m.flags&MountReadOnly != 0 }

// ID returns the mount's number, unique in its VFS (mountinfo's mount ID).
func (m *Mount) ID() int { return m.id }

// IncRef marks m busy (a process's working or root directory on it);
// Umount is EBUSY until the matching DecRef. Files opened on m count by
// themselves.
func (m *Mount) IncRef() { m.refs.Add(1) }

// DecRef undoes IncRef.
func (m *Mount) DecRef() { m.refs.Add(-1) }

// Source returns the source string given to Mount ("none", a 9p tag ...).
func (m *Mount) Source() string { return m.source }

// Point returns where the mount is attached (the zero Path for the VFS's
// root mount); Root the mounted filesystem's root as seen through it.
func (m *Mount) Point() Path {
	if m.parent == nil {
		return Path{}
	}
	return Path{m.parent, m.point}
}

// Root returns the mount's root directory.
func (m *Mount) Root() Path { return Path{m, m.root} }

// Path is a position in the tree: a dentry as reached through a mount.
// The zero Path means "not given" (the working directory for *at
// operations).
type Path struct {
	Mount  *Mount
	Dentry *Dentry
}

// IsZero reports whether p is the zero Path.
func (p Path) IsZero() bool { return p.Dentry == nil }

// Inode returns the file at p.
func (p Path) Inode() Inode { return p.Dentry.inode }

type mountKey struct {
	parent *Mount
	point  *Dentry
}

// VFS is one namespace: a tree of mounts.
type VFS struct {
	mu      sync.RWMutex
	root    *Mount
	mounts  map[mountKey]*Mount
	fsRoots map[Filesystem]*Dentry
	nextID  int
	special SpecialOpener
}

// New returns a namespace whose root is fs.
func New(fs Filesystem, flags MountFlags, source string) *VFS {
	v := &VFS{mounts: make(map[mountKey]*Mount), fsRoots: make(map[Filesystem]*Dentry)}
	v.root = v.newMount(fs, flags, source)
	return v
}

func (v *VFS) newMount(fs Filesystem, flags MountFlags, source string) *Mount {
	root := v.fsRoots[fs]
	if root == nil {
		root = newDentry("/", nil, fs.Root())
		v.fsRoots[fs] = root
	}
	v.nextID++
	return &Mount{vfs: v, fs: fs, root: root, flags: flags, id: v.nextID, source: source}
}

// Root returns the root of the namespace.
func (v *VFS) Root() Path { return Path{v.root, v.root.root} }

// Mount attaches fs at the directory target (on top of any mount there).
func (v *VFS) Mount(target Path, fs Filesystem, flags MountFlags, source string) (*Mount, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !target.Dentry.IsDir() {
		return nil, unix.ENOTDIR
	}
	if target.Dentry.dead {
		return nil, unix.ENOENT
	}
	target = v.followMounts(target)
	m := v.newMount(fs, flags, source)
	m.parent, m.point = target.Mount, target.Dentry
	v.mounts[mountKey{m.parent, m.point}] = m
	target.Dentry.mounts++
	target.Mount.children++
	return m, nil
}

// Umount implements umount2(2) on m: EBUSY while files are open on it,
// something holds it (IncRef) or other mounts sit on it, EINVAL for the
// root mount or one no longer attached. With detach (MNT_DETACH) it goes
// at once, with the mounts on it: open files keep working, and nothing
// new reaches it.
func (v *VFS) Umount(m *Mount, detach bool) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	k := mountKey{m.parent, m.point}
	if m.parent == nil || v.mounts[k] != m {
		return unix.EINVAL
	}
	if !detach && (m.children > 0 || m.refs.Load() > 0) {
		return unix.EBUSY
	}
	v.detach(m)
	return nil
}

// detach removes m and the mounts under it from the table.
func (v *VFS) detach(m *Mount) {
	for k, c := range v.mounts {
		if k.parent == m {
			v.detach(c)
		}
	}
	delete(v.mounts, mountKey{m.parent, m.point})
	m.point.mounts--
	m.parent.children--
}

// Mounts returns every mount, parents before children.
func (v *VFS) Mounts() []*Mount {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := []*Mount{v.root}
	for i := 0; i < len(out); i++ {
		for k, m := range v.mounts {
			if k.parent == out[i] {
				out = append(out, m)
			}
		}
	}
	return out
}

// followMounts moves p onto the root of whatever is mounted on it.
func (v *VFS) followMounts(p Path) Path {
	for p.Dentry.mounts > 0 {
		m := v.mounts[mountKey{p.Mount, p.Dentry}]
		if m == nil {
			break
		}
		p = Path{m, m.root}
	}
	return p
}

// Syncer is implemented by filesystems that hold data to write back
// (9p's dirty state, a future disk filesystem): sync(2) and syncfs(2).
type Syncer interface {
	Sync() error
}

// Sync implements sync(2): every mounted filesystem that can write back
// does; the first error is returned after all have tried.
func (v *VFS) Sync() error {
	var first error
	seen := map[Filesystem]bool{}
	for _, m := range v.Mounts() {
		if s, ok := m.fs.(Syncer); ok && !seen[m.fs] {
			seen[m.fs] = true
			if err := s.Sync(); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

// PathName returns the absolute name of p as seen from root, as getcwd(2)
// and /proc/self/fd show it: ENOENT if p was removed. A p outside root's
// subtree is named from the namespace's root.
func (v *VFS) PathName(root, p Path) (string, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if p.Dentry.dead {
		return "", unix.ENOENT
	}
	var parts []string
	for p != root {
		if p.Dentry == p.Mount.root {
			if p.Mount.parent == nil {
				break
			}
			p = Path{p.Mount.parent, p.Mount.point}
			continue
		}
		parts = append(parts, p.Dentry.name)
		p.Dentry = p.Dentry.parent
	}
	if len(parts) == 0 {
		return "/", nil
	}
	n := 0
	for _, s := range parts {
		n += len(s) + 1
	}
	b := make([]byte, 0, n)
	for i := len(parts) - 1; i >= 0; i-- {
		b = append(b, '/')
		b = append(b, parts[i]...)
	}
	return string(b), nil
}
