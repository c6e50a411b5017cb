package vfs

import (
	"strings"

	"golang.org/x/sys/unix"
)

// Context is what path resolution needs of the calling process: its
// credential, its root and working directory, and its umask.
type Context struct {
	Cred  Cred
	Root  Path // "/" and the limit of ".."; the zero Path is the VFS's root
	Cwd   Path // where relative paths start; the zero Path is Root
	Umask uint32
}

// resolver is one path resolution.
type resolver struct {
	v       *VFS
	c       *Context
	root    Path
	resolve uint64 // RESOLVE_* of openat2
	hops    int
}

func (v *VFS) resolver(c *Context, start *Path, resolve uint64) *resolver {
	r := &resolver{v: v, c: c, root: c.Root, resolve: resolve}
	if r.root.IsZero() {
		r.root = v.Root()
	}
	if start.IsZero() {
		*start = c.Cwd
		if start.IsZero() {
			*start = r.root
		}
	}
	if resolve&(unix.RESOLVE_BENEATH|unix.RESOLVE_IN_ROOT) != 0 {
		// Both scope the walk to the starting directory; IN_ROOT treats
		// it as "/", BENEATH fails instead of going above it.
		r.root = *start
	}
	return r
}

// lastPart splits path into the part holding the last component, the last
// component ("" if path is only slashes) and whether slashes followed it.
func lastPart(path string) (dir, last string, trailing bool) {
	end := len(path)
	for end > 0 && path[end-1] == '/' {
		end--
	}
	if end == 0 {
		return path, "", false
	}
	trailing = end < len(path)
	i := strings.LastIndexByte(path[:end], '/')
	return path[:i+1], path[i+1 : end], trailing
}

// parent resolves every component of path but the last, from start, and
// returns that directory (searchable by the caller), the last component
// and whether it had trailing slashes. A last of "" means path names the
// root, or the start with an empty path.
func (r *resolver) parent(start Path, path string) (Path, string, bool, error) {
	if path == "" {
		return Path{}, "", false, unix.ENOENT
	}
	if len(path) > MaxPathLen {
		return Path{}, "", false, unix.ENAMETOOLONG
	}
	cur := start
	if path[0] == '/' {
		if r.resolve&unix.RESOLVE_BENEATH != 0 {
			return Path{}, "", false, unix.EXDEV
		}
		cur = r.root
	}
	dir, last, trailing := lastPart(path)
	if len(last) > MaxNameLen {
		return Path{}, "", false, unix.ENAMETOOLONG
	}
	for rest := dir; ; {
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
		next, err := r.component(cur, name, true, false)
		if err != nil {
			return Path{}, "", false, err
		}
		cur = next
	}
	if last != "" {
		if err := r.searchable(cur); err != nil {
			return Path{}, "", false, err
		}
	}
	return cur, last, trailing, nil
}

// searchable checks that dir is a directory the caller may search.
func (r *resolver) searchable(dir Path) error {
	if !dir.Dentry.IsDir() {
		return unix.ENOTDIR
	}
	if r.c.Cred.IsRoot() {
		return nil // root searches every directory (Cred.Permits), no Stat needed
	}
	st := dir.Dentry.inode.Stat()
	return r.c.Cred.check(&st, MayExec)
}

// component moves from the directory cur through name, following a
// symlink there if follow, and requiring a directory if mustDir.
func (r *resolver) component(cur Path, name string, follow, mustDir bool) (Path, error) {
	if len(name) > MaxNameLen {
		return Path{}, unix.ENAMETOOLONG
	}
	if err := r.searchable(cur); err != nil {
		return Path{}, err
	}
	switch name {
	case ".":
		return cur, nil
	case "..":
		return r.dotdot(cur)
	}
	d, err := cur.Dentry.child(name)
	if err != nil {
		return Path{}, err
	}
	next := Path{cur.Mount, d}
	if d.mounts > 0 {
		if r.resolve&unix.RESOLVE_NO_XDEV != 0 {
			return Path{}, unix.EXDEV
		}
		next = r.v.followMounts(next)
	}
	if next.Dentry.isSymlink() && follow {
		next, err = r.follow(cur, next)
		if err != nil {
			return Path{}, err
		}
	}
	if mustDir && !next.Dentry.IsDir() {
		return Path{}, unix.ENOTDIR
	}
	return next, nil
}

// follow resolves the symlink link found in dir.
func (r *resolver) follow(dir, link Path) (Path, error) {
	if r.resolve&unix.RESOLVE_NO_SYMLINKS != 0 {
		return Path{}, unix.ELOOP
	}
	r.hops++
	if r.hops > MaxSymlinks {
		return Path{}, unix.ELOOP
	}
	target, err := link.Dentry.inode.Readlink()
	if err != nil {
		return Path{}, err
	}
	return r.walk(dir, target, true)
}

// walk resolves path from start, following a final symlink if follow (or
// if the path ends in a slash, which also requires a directory).
func (r *resolver) walk(start Path, path string, follow bool) (Path, error) {
	dir, last, trailing, err := r.parent(start, path)
	if err != nil {
		return Path{}, err
	}
	if last == "" {
		return dir, nil
	}
	return r.last(dir, last, trailing, follow)
}

// last resolves the final component found by parent.
func (r *resolver) last(dir Path, name string, trailing, follow bool) (Path, error) {
	return r.component(dir, name, follow || trailing, trailing)
}

// dotdot returns the parent of p: across mount points, never above the
// root.
func (r *resolver) dotdot(p Path) (Path, error) {
	for {
		if p == r.root {
			if r.resolve&unix.RESOLVE_BENEATH != 0 {
				return Path{}, unix.EXDEV
			}
			return p, nil
		}
		if p.Dentry != p.Mount.root {
			break
		}
		if p.Mount.parent == nil {
			return p, nil // the namespace's root: its own parent
		}
		if r.resolve&unix.RESOLVE_NO_XDEV != 0 {
			return Path{}, unix.EXDEV
		}
		p = Path{p.Mount.parent, p.Mount.point}
	}
	p.Dentry = p.Dentry.parent
	if p.Dentry.mounts > 0 {
		if r.resolve&unix.RESOLVE_NO_XDEV != 0 {
			return Path{}, unix.EXDEV
		}
		p = r.v.followMounts(p)
	}
	return p, nil
}
