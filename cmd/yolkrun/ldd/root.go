package ldd

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Entry is one node of a root: a copy of a host file, a symlink, a
// directory, or a file with given contents.
type Entry struct {
	Path string // absolute, in the root: the host path, symlinks resolved up to the last component
	Host string // the host file copied, for a regular file
	Link string // the symlink's target, verbatim
	Dir  bool
	Data []byte // the contents, for a file not copied from the host
	Mode fs.FileMode
	Why  string // what put it there
}

func (e *Entry) String() string {
	var s string
	switch {
	case e.Link != "":
		s = e.Path + " -> " + e.Link
	case e.Dir:
		s = e.Path + "/"
	case e.Data != nil:
		s = fmt.Sprintf("%s (written: %d bytes)", e.Path, len(e.Data))
	default:
		s = e.Path
	}
	if e.Why != "" {
		s += "\t# " + e.Why
	}
	return s
}

// Root is a file tree mirroring host paths, so that a program and its
// libraries keep their paths (and $ORIGIN its meaning).
type Root struct {
	entries map[string]*Entry
}

func NewRoot() *Root { return &Root{entries: map[string]*Entry{}} }

// maxLinks bounds symlink chains, as Linux's 40 (path_resolution(7)).
const maxLinks = 40

// Add puts the host path p in the root: every symlink met on the way as
// a symlink (so /lib64/ld-linux-x86-64.so.2 stays a link to the real
// file, and /lib to usr/lib on a merged-/usr system), then the file it
// names, or a directory with everything below it.
func (r *Root) Add(p, why string) error {
	if !filepath.IsAbs(p) {
		return fmt.Errorf("%s: not an absolute path", p)
	}
	return r.add(filepath.Clean(p), why, 0)
}

func (r *Root) add(p, why string, links int) error {
	if links > maxLinks {
		return fmt.Errorf("%s: too many levels of symbolic links", p)
	}
	cur := "/"
	comps := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, c := range comps {
		if c == "" {
			continue
		}
		next := filepath.Join(cur, c)
		st, err := os.Lstat(next)
		if err != nil {
			return err
		}
		if st.Mode()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(next)
			if err != nil {
				return err
			}
			if _, ok := r.entries[next]; !ok {
				r.entries[next] = &Entry{Path: next, Link: target, Why: why}
			}
			resolved := target
			if !filepath.IsAbs(target) {
				resolved = filepath.Join(cur, target)
			}
			rest := append([]string{resolved}, comps[i+1:]...)
			return r.add(filepath.Join(rest...), why, links+1)
		}
		cur = next
	}
	st, err := os.Stat(cur)
	if err != nil {
		return err
	}
	switch {
	case st.Mode().IsRegular():
		if _, ok := r.entries[cur]; !ok {
			r.entries[cur] = &Entry{Path: cur, Host: cur, Mode: st.Mode().Perm(), Why: why}
		}
		return nil
	case st.IsDir():
		r.entries[cur] = &Entry{Path: cur, Dir: true, Mode: st.Mode().Perm(), Why: why}
		des, err := os.ReadDir(cur)
		if err != nil {
			return err
		}
		for _, de := range des {
			if err := r.add(filepath.Join(cur, de.Name()), why, links); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("%s: neither a file nor a directory", cur)
}

// AddIfExists is Add for a path that may be absent on the host.
func (r *Root) AddIfExists(p, why string) error {
	if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return r.Add(p, why)
}

// Write puts a file with the given contents at p (unless p is already
// there).
func (r *Root) Write(p string, data []byte, why string) {
	if _, ok := r.entries[p]; !ok {
		r.entries[p] = &Entry{Path: p, Data: data, Mode: 0o644, Why: why}
	}
}

// Has says whether the root holds p (as it is, not following links).
func (r *Root) Has(p string) bool { _, ok := r.entries[p]; return ok }

// Entries are the root's entries sorted by path.
func (r *Root) Entries() []*Entry {
	es := make([]*Entry, 0, len(r.entries))
	for _, e := range r.entries {
		es = append(es, e)
	}
	sort.Slice(es, func(i, j int) bool { return es[i].Path < es[j].Path })
	return es
}

// Build makes the root under dir (which must exist): files are copied,
// symlinks made as they are, directories made with their parents.
func (r *Root) Build(dir string) error {
	for _, e := range r.Entries() {
		dst := filepath.Join(dir, e.Path)
		if e.Dir {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		var err error
		switch {
		case e.Link != "":
			err = os.Symlink(e.Link, dst)
		case e.Data != nil:
			err = os.WriteFile(dst, e.Data, e.Mode)
		default:
			err = copyFile(dst, e.Host, e.Mode)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func copyFile(dst, src string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode|0o200)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, mode)
}

// minimalPasswd and minimalGroup stand in for a host without the files.
const (
	minimalPasswd = "root:x:0:0:root:/root:/bin/sh\n"
	minimalGroup  = "root:x:0:\n"
)

// Root is the root a dynamically linked program needs: the
// closure's files (with their symlink chains) and what the C library
// reads when it starts: for glibc /etc/ld.so.cache, /etc/nsswitch.conf,
// /etc/localtime and /usr/lib/locale/C.utf8 when the host has them; for
// musl its path file; for both /etc/passwd and /etc/group (the host's,
// or a root-only one when it has none).
func (res *Resolver) Root(c *Closure) (*Root, error) {
	r := NewRoot()
	if err := r.Add(c.Program.Path, "the program"); err != nil {
		return nil, err
	}
	if c.Interp != nil {
		if err := r.Add(c.Interp.Path, "interpreter (PT_INTERP)"); err != nil {
			return nil, err
		}
	}
	for _, o := range c.Libs {
		why := fmt.Sprintf("%s needed by %s (%s)", o.Name, o.NeededBy.Path, o.How)
		if err := r.Add(o.Path, why); err != nil {
			return nil, err
		}
	}
	for _, o := range c.Modules {
		if err := r.Add(o.Path, o.Name+" "+o.How); err != nil {
			return nil, err
		}
	}
	if c.Gconv != "" {
		if err := r.Add(c.Gconv, "gconv modules, loaded by iconv_open"); err != nil {
			return nil, err
		}
	}
	var extra []string
	if c.Musl {
		extra = []string{res.muslPathFile(c.Interp.Path)}
	} else if c.Interp != nil {
		extra = []string{"/etc/ld.so.cache", "/etc/nsswitch.conf", "/usr/lib/locale/C.utf8"}
	}
	extra = append(extra, "/etc/localtime")
	for _, p := range extra {
		if err := r.AddIfExists(p, "read by the C library"); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct{ path, min string }{{"/etc/passwd", minimalPasswd}, {"/etc/group", minimalGroup}} {
		if _, err := os.Stat(f.path); err == nil {
			if err := r.Add(f.path, "read by the C library"); err != nil {
				return nil, err
			}
		} else {
			r.Write(f.path, []byte(f.min), "root only (the host has none)")
		}
	}
	return r, nil
}
