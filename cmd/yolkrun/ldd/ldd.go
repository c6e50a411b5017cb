// Package ldd finds the files a dynamically linked x86-64 program needs
// to start, the way its dynamic linker will look for them, without
// running anything: the interpreter named by PT_INTERP and the
// transitive DT_NEEDED closure.
//
// For glibc's ld-linux-x86-64.so.2 (ld.so(8), "Dynamic linker search
// path"; glibc elf/dl-load.c _dl_map_object), a name holding a slash is a
// path; any other name is first matched against the objects already
// loaded (their DT_SONAME or needed name), then looked up in
//
//  1. the DT_RPATH of the object that needs it, then of the object that
//     loaded that one, and so on up to the program, and the program's
//     DT_RPATH, unless the needing object has a DT_RUNPATH (an object
//     with both ignores its DT_RPATH);
//  2. LD_LIBRARY_PATH: NOT used here (the runner's environment is not
//     the program's);
//  3. the DT_RUNPATH of the object that needs it (only that object);
//  4. the directories of /etc/ld.so.conf and the files its "include"
//     lines name (globs), standing for /etc/ld.so.cache, which ldconfig
//     builds from them; skipped when the needing object has DF_1_NODEFLIB;
//  5. the default directories /lib/x86_64-linux-gnu,
//     /usr/lib/x86_64-linux-gnu, /lib64, /usr/lib64, /lib, /usr/lib
//     (also skipped under DF_1_NODEFLIB).
//
// $ORIGIN, $LIB and $PLATFORM (and their ${...} forms) are replaced in
// RPATH and RUNPATH entries as ld.so replaces them (ld.so(8), "Dynamic
// string tokens"). A candidate that is not a 64-bit little-endian
// x86-64 ELF shared object is skipped and the search goes on, as ld.so
// does. glibc-hwcaps subdirectories are not searched: the plain
// directory's copy runs on every x86-64 CPU.
//
// For musl's ld-musl-x86_64.so.1 (musl ldso/dynlink.c, load_library),
// libc, libpthread, librt, libm, libdl, libutil and libxnet are the
// interpreter itself; other names are looked up in the DT_RUNPATH (or
// else DT_RPATH) of the needing object and of each object up the chain
// that loaded it, with $ORIGIN replaced, then in the directories of
// PREFIX/etc/ld-musl-x86_64.path (PREFIX is the interpreter's directory
// without its last component, "" for /lib; entries separated by colons
// or newlines), or /lib:/usr/local/lib:/usr/lib when that file does
// not exist.
package ldd

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Object is one file the dynamic linker loads.
type Object struct {
	Name     string  // the DT_NEEDED name; the program's path; PT_INTERP
	Path     string  // the path the dynamic linker opens (may hold symlinks)
	NeededBy *Object // the object whose DT_NEEDED loaded it; nil for the program and interpreter
	How      string  // where it was found: "RUNPATH of /x", "default directory" ...
	Soname   string  // DT_SONAME, if any

	needed  []string
	rpath   []string // DT_RPATH, already substituted; nil when it has a RUNPATH
	runpath []string // DT_RUNPATH, already substituted
	nodef   bool     // DF_1_NODEFLIB
}

// Closure is what a program needs: itself, its interpreter and its
// libraries, in the order the dynamic linker loads them (breadth first).
type Closure struct {
	Program *Object
	Interp  *Object // nil for a static program
	Libs    []*Object
	Musl    bool // the interpreter is musl's
	// Modules are what glibc would dlopen for the calls the closure
	// imports (modules.go), each with why in How; their own libraries
	// are in Libs. Gconv is the gconv module directory when the
	// closure imports iconv_open.
	Modules []*Object
	Gconv   string
}

// Resolver holds where the search looks. The zero value is not usable:
// start from Host.
type Resolver struct {
	LdSoConf      string   // glibc: "/etc/ld.so.conf"; "" for none
	DefaultDirs   []string // glibc's built-in directories
	Lib, Platform string   // what $LIB and $PLATFORM stand for
	// MuslPathFile overrides PREFIX/etc/ld-musl-x86_64.path when not "".
	MuslPathFile string
	// NsswitchConf names the services whose NSS modules glibc loads:
	// "/etc/nsswitch.conf"; "" for none.
	NsswitchConf string
}

// Host is the resolver for the machine the runner runs on (Debian's
// multiarch layout: $LIB is lib/x86_64-linux-gnu when that directory
// exists, else lib64).
func Host() *Resolver {
	lib := "lib64"
	if st, err := os.Stat("/lib/x86_64-linux-gnu"); err == nil && st.IsDir() {
		lib = "lib/x86_64-linux-gnu"
	}
	return &Resolver{
		LdSoConf: "/etc/ld.so.conf",
		DefaultDirs: []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
			"/lib64", "/usr/lib64", "/lib", "/usr/lib"},
		Lib:          lib,
		Platform:     "x86_64",
		NsswitchConf: "/etc/nsswitch.conf",
	}
}

// NotFoundError is a library (or the interpreter) that no directory
// searched holds in a usable form.
type NotFoundError struct {
	Name     string   // the DT_NEEDED name or PT_INTERP path
	NeededBy string   // the path of the object that needs it
	Interp   bool     // Name is the program's interpreter
	Skipped  []string // candidates refused, each "PATH (why)"
}

func (e *NotFoundError) Error() string {
	what := "library"
	if e.Interp {
		what = "interpreter"
	}
	s := fmt.Sprintf("%s: %s not found (needed by %s)", e.Name, what, e.NeededBy)
	if len(e.Skipped) > 0 {
		s += "; skipped " + strings.Join(e.Skipped, ", ")
	}
	return s
}

// wrongObject is a candidate file ld.so would refuse.
type wrongObject struct{ why string }

func (e *wrongObject) Error() string { return e.why }

// IsDynamic says whether the ELF file at path has a PT_INTERP, and names
// the interpreter.
func IsDynamic(path string) (interp string, ok bool, err error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", false, err
	}
	defer f.Close()
	interp, err = interpOf(f)
	return interp, interp != "", err
}

func interpOf(f *elf.File) (string, error) {
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		if p.Filesz == 0 || p.Filesz > 4096 {
			return "", fmt.Errorf("PT_INTERP of %d bytes", p.Filesz)
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			return "", fmt.Errorf("reading PT_INTERP: %v", err)
		}
		return strings.TrimRight(string(b), "\x00"), nil
	}
	return "", nil
}

// checkObject says why ld.so would refuse f as a 64-bit x86-64 object
// (glibc elf/dl-load.c open_verify), or nil.
func checkObject(f *elf.File, wantType elf.Type) error {
	switch {
	case f.Class != elf.ELFCLASS64:
		return &wrongObject{"wrong ELF class: " + f.Class.String()}
	case f.Data != elf.ELFDATA2LSB:
		return &wrongObject{"wrong byte order: " + f.Data.String()}
	case f.Machine != elf.EM_X86_64:
		return &wrongObject{"wrong machine: " + f.Machine.String()}
	case wantType != 0 && f.Type != wantType:
		return &wrongObject{"not a shared object: " + f.Type.String()}
	}
	return nil
}

// Resolve finds the closure of the program at prog (a host path). A
// program without PT_INTERP gives a closure of itself alone.
func (r *Resolver) Resolve(prog string) (*Closure, error) {
	abs, err := filepath.Abs(prog)
	if err != nil {
		return nil, err
	}
	pf, err := elf.Open(abs)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", prog, err)
	}
	defer pf.Close()
	if err := checkObject(pf, 0); err != nil {
		return nil, fmt.Errorf("%s: %v", prog, err)
	}
	c := &Closure{Program: &Object{Name: prog, Path: abs, How: "the program"}}
	interp, err := interpOf(pf)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", prog, err)
	}
	// The program's $ORIGIN is where the kernel found it, symlinks
	// resolved (glibc asks /proc/self/exe).
	origin := filepath.Dir(abs)
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		origin = filepath.Dir(real)
	}
	if err := r.readDynamic(c.Program, pf, origin); err != nil {
		return nil, fmt.Errorf("%s: %v", prog, err)
	}
	if interp == "" {
		return c, nil
	}
	c.Musl = strings.Contains(filepath.Base(interp), "ld-musl-")
	if err := r.loadInterp(c, interp); err != nil {
		return nil, err
	}
	if c.Musl {
		err = r.closureMusl(c)
	} else if err = r.closureGlibc(c); err == nil {
		err = r.glibcModules(c)
	}
	return c, err
}

func (r *Resolver) loadInterp(c *Closure, interp string) error {
	nf := &NotFoundError{Name: interp, NeededBy: c.Program.Path, Interp: true}
	f, err := elf.Open(interp)
	if errors.Is(err, os.ErrNotExist) {
		return nf
	}
	if err != nil {
		nf.Skipped = append(nf.Skipped, fmt.Sprintf("%s (%v)", interp, err))
		return nf
	}
	defer f.Close()
	if err := checkObject(f, elf.ET_DYN); err != nil {
		nf.Skipped = append(nf.Skipped, fmt.Sprintf("%s (%v)", interp, err))
		return nf
	}
	c.Interp = &Object{Name: interp, Path: interp, How: "PT_INTERP of " + c.Program.Path}
	return r.readDynamic(c.Interp, f, filepath.Dir(interp))
}

// readDynamic fills o's DT_NEEDED, DT_SONAME, RPATH/RUNPATH (with
// dynamic string tokens replaced; origin is $ORIGIN) and DF_1_NODEFLIB.
func (r *Resolver) readDynamic(o *Object, f *elf.File, origin string) error {
	if f.Section(".dynamic") == nil && f.SectionByType(elf.SHT_DYNAMIC) == nil {
		return nil // static, or sections stripped: nothing ld.so would read either
	}
	var err error
	if o.needed, err = f.DynString(elf.DT_NEEDED); err != nil {
		return err
	}
	if s, err := f.DynString(elf.DT_SONAME); err == nil && len(s) > 0 {
		o.Soname = s[0]
	}
	runpath, err := f.DynString(elf.DT_RUNPATH)
	if err != nil {
		return err
	}
	rpath, err := f.DynString(elf.DT_RPATH)
	if err != nil {
		return err
	}
	if len(runpath) > 0 {
		o.runpath = r.expandPath(runpath, origin)
	} else {
		o.rpath = r.expandPath(rpath, origin)
	}
	if v, err := f.DynValue(elf.DT_FLAGS_1); err == nil && len(v) > 0 {
		o.nodef = v[0]&uint64(elf.DF_1_NODEFLIB) != 0
	}
	return nil
}

// expandPath splits colon-separated lists and replaces $ORIGIN, $LIB and
// $PLATFORM. An empty entry is the current directory to ld.so; it is
// kept as ".".
func (r *Resolver) expandPath(lists []string, origin string) []string {
	var dirs []string
	for _, l := range lists {
		for _, d := range strings.Split(l, ":") {
			if d == "" {
				d = "."
			}
			dirs = append(dirs, r.expandTokens(d, origin))
		}
	}
	return dirs
}

func (r *Resolver) expandTokens(s, origin string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	tokens := map[string]string{"ORIGIN": origin, "LIB": r.Lib, "PLATFORM": r.Platform}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		rest := s[i+1:]
		matched := false
		for name, val := range tokens {
			var n int
			switch {
			case strings.HasPrefix(rest, "{"+name+"}"):
				n = len(name) + 2
			case strings.HasPrefix(rest, name) && (len(rest) == len(name) || !isNameByte(rest[len(name)])):
				n = len(name)
			default:
				continue
			}
			b.WriteString(val)
			i += n
			matched = true
			break
		}
		if !matched {
			b.WriteByte('$')
		}
	}
	return b.String()
}

func isNameByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// loaded is the set of objects ld.so already has, by the names it
// matches a DT_NEEDED entry against.
type loaded map[string]*Object

func (l loaded) add(o *Object) {
	l[o.Name] = o
	l[o.Path] = o
	if o.Soname != "" {
		l[o.Soname] = o
	}
}

func (r *Resolver) closureGlibc(c *Closure) error {
	find, err := r.glibcFind()
	if err != nil {
		return err
	}
	return r.bfs(c, c.newLoaded(), []*Object{c.Program}, find)
}

// glibcFind returns the lookup of one DT_NEEDED name for one needing
// object, in glibc's order (see the package doc).
func (r *Resolver) glibcFind() (func(name string, by *Object) (*Object, error), error) {
	conf, err := r.confDirs()
	if err != nil {
		return nil, err
	}
	return func(name string, by *Object) (*Object, error) {
		nf := &NotFoundError{Name: name, NeededBy: by.Path}
		if strings.Contains(name, "/") {
			return r.tryFile(nf, name, "a path", by)
		}
		try := func(dirs []string, how string) (*Object, error) {
			for _, d := range dirs {
				if o, err := r.tryFile(nf, filepath.Join(d, name), how, by); o != nil || err != nil {
					return o, err
				}
			}
			return nil, nil
		}
		if by.runpath == nil {
			for l := by; l != nil; l = l.NeededBy {
				if o, err := try(l.rpath, "RPATH of "+l.Path); o != nil || err != nil {
					return o, err
				}
			}
			// The chain always ends at the program, whose DT_RPATH
			// glibc would otherwise search separately.
		}
		if o, err := try(by.runpath, "RUNPATH of "+by.Path); o != nil || err != nil {
			return o, err
		}
		if !by.nodef {
			if o, err := try(conf, "ld.so.conf"); o != nil || err != nil {
				return o, err
			}
			if o, err := try(r.DefaultDirs, "default directory"); o != nil || err != nil {
				return o, err
			}
		}
		return nil, nf
	}, nil
}

// muslReserved are the library names musl's dynamic linker answers with
// itself ("lib" + one of these + ".").
var muslReserved = []string{"c", "pthread", "rt", "m", "dl", "util", "xnet"}

func (r *Resolver) closureMusl(c *Closure) error {
	sys, err := r.muslPath(c.Interp.Path)
	if err != nil {
		return err
	}
	return r.bfs(c, c.newLoaded(), []*Object{c.Program}, func(name string, by *Object) (*Object, error) {
		for _, res := range muslReserved {
			if strings.HasPrefix(name, "lib"+res+".") {
				return c.Interp, nil
			}
		}
		nf := &NotFoundError{Name: name, NeededBy: by.Path}
		if strings.Contains(name, "/") {
			return r.tryFile(nf, name, "a path", by)
		}
		for l := by; l != nil; l = l.NeededBy {
			dirs, how := l.runpath, "RUNPATH of "+l.Path
			if dirs == nil {
				dirs, how = l.rpath, "RPATH of "+l.Path
			}
			for _, d := range dirs {
				if o, err := r.tryFile(nf, filepath.Join(d, name), how, by); o != nil || err != nil {
					return o, err
				}
			}
		}
		for _, d := range sys {
			if o, err := r.tryFile(nf, filepath.Join(d, name), "musl path", by); o != nil || err != nil {
				return o, err
			}
		}
		return nil, nf
	})
}

// muslPathFile is the file holding musl's search path.
func (r *Resolver) muslPathFile(interp string) string {
	if r.MuslPathFile != "" {
		return r.MuslPathFile
	}
	prefix := ""
	if i := strings.LastIndex(interp, "/"); i > 0 {
		if j := strings.LastIndex(interp[:i], "/"); j > 0 {
			prefix = interp[:j]
		}
	}
	return prefix + "/etc/ld-musl-x86_64.path"
}

// muslPath is musl's system search path for the interpreter at interp.
func (r *Resolver) muslPath(interp string) ([]string, error) {
	b, err := os.ReadFile(r.muslPathFile(interp))
	if errors.Is(err, os.ErrNotExist) {
		return []string{"/lib", "/usr/local/lib", "/usr/lib"}, nil
	}
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, d := range strings.FieldsFunc(string(b), func(r rune) bool { return r == ':' || r == '\n' }) {
		if d = strings.TrimSpace(d); d != "" {
			dirs = append(dirs, d)
		}
	}
	return dirs, nil
}

// newLoaded is the set of objects ld.so has before it loads the
// program's DT_NEEDED entries: the interpreter.
func (c *Closure) newLoaded() loaded {
	have := loaded{}
	have.add(c.Interp)
	return have
}

// bfs loads the DT_NEEDED entries of the objects in queue breadth first,
// as ld.so's _dl_map_object_deps does, with find looking up one name for
// one needing object (it returns an already-loaded object for a repeat).
// have is what is loaded already; the new objects go to c.Libs.
func (r *Resolver) bfs(c *Closure, have loaded, queue []*Object, find func(name string, by *Object) (*Object, error)) error {
	for len(queue) > 0 {
		by := queue[0]
		queue = queue[1:]
		for _, name := range by.needed {
			if o := have[name]; o != nil {
				continue
			}
			o, err := find(name, by)
			if err != nil {
				return err
			}
			if o == c.Interp {
				have[name] = o
				continue
			}
			// Found under another name or path that is already loaded
			// (two sonames, one file): ld.so matches by file identity.
			if dup := sameFile(have, o); dup != nil {
				have[name] = dup
				continue
			}
			o.Name = name
			have.add(o)
			c.Libs = append(c.Libs, o)
			queue = append(queue, o)
		}
	}
	return nil
}

func sameFile(have loaded, o *Object) *Object {
	st, err := os.Stat(o.Path)
	if err != nil {
		return nil
	}
	for _, h := range have {
		if hs, err := os.Stat(h.Path); err == nil && os.SameFile(st, hs) {
			return h
		}
	}
	return nil
}

// tryFile opens path as a candidate library for by. It returns the
// object when it fits, nil when it does not exist or does not fit (the
// reason is noted in nf), and an error only for a failure that ends the
// search.
func (r *Resolver) tryFile(nf *NotFoundError, path, how string, by *Object) (*Object, error) {
	f, err := elf.Open(path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) && !isDirErr(path) {
			nf.Skipped = append(nf.Skipped, fmt.Sprintf("%s (%v)", path, shortErr(err)))
		}
		return nil, nil
	}
	defer f.Close()
	if err := checkObject(f, elf.ET_DYN); err != nil {
		nf.Skipped = append(nf.Skipped, fmt.Sprintf("%s (%v)", path, err))
		return nil, nil
	}
	o := &Object{Path: path, NeededBy: by, How: how}
	if err := r.readDynamic(o, f, filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return o, nil
}

func isDirErr(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

func shortErr(err error) error {
	var fe *elf.FormatError
	if errors.As(err, &fe) {
		return errors.New("not an ELF file")
	}
	return err
}

// confDirs reads the directories of ld.so.conf(5): one per line, '#'
// comments, "include GLOB..." relative to the including file's
// directory, "hwcap" lines ignored. A missing file gives no directories.
func (r *Resolver) confDirs() ([]string, error) {
	if r.LdSoConf == "" {
		return nil, nil
	}
	var dirs []string
	seen := map[string]bool{}
	var read func(file string, depth int) error
	read = func(file string, depth int) error {
		if depth > 10 {
			return fmt.Errorf("%s: includes nested too deep", file)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) || depth > 0 {
				return nil // ldconfig warns about unreadable includes and goes on
			}
			return err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = line[:i]
			}
			line = strings.TrimSpace(line)
			words := strings.Fields(line)
			if len(words) == 0 {
				continue
			}
			switch words[0] {
			case "include":
				for _, pat := range words[1:] {
					if !filepath.IsAbs(pat) {
						pat = filepath.Join(filepath.Dir(file), pat)
					}
					matches, _ := filepath.Glob(pat) // sorted, as glob(3)
					for _, m := range matches {
						if err := read(m, depth+1); err != nil {
							return err
						}
					}
				}
			case "hwcap":
			default:
				if d := filepath.Clean(line); !seen[d] {
					seen[d] = true
					dirs = append(dirs, d)
				}
			}
		}
		return nil
	}
	return dirs, read(r.LdSoConf, 0)
}
