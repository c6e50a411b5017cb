package ldd

import (
	"debug/elf"
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// What glibc loads with dlopen behind ordinary calls. A program's
// DT_NEEDED closure does not name these files, so a root made of the
// closure alone would lack them; the runner adds them when some object
// of the closure imports a function that loads them:
//
//   - NSS modules (nss(5)): the getpw*, getgr*, getsp*, getaddrinfo,
//     gethostby*, getnameinfo, getservby*, getprotoby*, initgroups and
//     getgrouplist families look names up through the services that
//     /etc/nsswitch.conf lists, each libnss_SERVICE.so.2 loaded on first
//     use ("files" and "dns" are inside libc.so.6 since glibc 2.34, and
//     their libnss files are stubs then). A service without a module on
//     the host is skipped, as glibc skips it.
//   - libgcc_s.so.1: pthread_exit, pthread_cancel and backtrace unwind
//     with libgcc's unwinder, which glibc loads at the first call.
//   - gconv modules (iconv_open(3)): the character sets other than the
//     few built into libc live in LIBDIR/gconv, one module each, chosen
//     at run time by name; the whole directory (about 8 MiB on Debian)
//     is added, since the names are only known then.
//
// Each module's own DT_NEEDED closure is resolved as dlopen resolves it:
// from the module (libc, which loads it, has no RPATH or RUNPATH).

// nssImports are the prefixes of the functions that go through NSS.
var nssImports = []string{"getpw", "getgr", "getsp", "getaddrinfo", "gethostby", "gethostent",
	"getnameinfo", "getservby", "getprotoby", "initgroups", "getgrouplist", "getnetby"}

// unwindImports are the functions for which glibc loads libgcc_s.so.1.
var unwindImports = []string{"pthread_exit", "pthread_cancel", "backtrace"}

// imports returns the names of the undefined dynamic symbols of the
// program and its libraries.
func (c *Closure) imports() (map[string]bool, error) {
	out := map[string]bool{}
	for _, o := range append([]*Object{c.Program}, c.Libs...) {
		f, err := elf.Open(o.Path)
		if err != nil {
			return nil, err
		}
		syms, err := f.DynamicSymbols()
		f.Close()
		if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
			return nil, err
		}
		for _, s := range syms {
			if s.Section == elf.SHN_UNDEF && s.Name != "" {
				out[s.Name] = true
			}
		}
	}
	return out, nil
}

func importsAny(imp map[string]bool, prefixes []string, exact bool) bool {
	for name := range imp {
		for _, p := range prefixes {
			if name == p || !exact && strings.HasPrefix(name, p) {
				return true
			}
		}
	}
	return false
}

// nssServices returns the service names /etc/nsswitch.conf lists, each
// once, in order ("[NOTFOUND=return]" actions and comments skipped).
func nssServices(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		_, list, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		inAction := false
		for _, w := range strings.Fields(list) {
			switch {
			case strings.HasPrefix(w, "["):
				inAction = !strings.HasSuffix(w, "]")
			case inAction:
				inAction = !strings.HasSuffix(w, "]")
			case !seen[w]:
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	return out, nil
}

// glibcModules adds what glibc would dlopen for the calls the closure
// imports (see above) to c.Modules, their libraries to c.Libs, and the
// gconv directory to c.Gconv.
func (r *Resolver) glibcModules(c *Closure) error {
	var libc *Object
	for _, o := range c.Libs {
		if o.Name == "libc.so.6" {
			libc = o
		}
	}
	if libc == nil {
		return nil
	}
	imp, err := c.imports()
	if err != nil {
		return err
	}
	type want struct{ name, why string }
	var wants []want
	if importsAny(imp, unwindImports, true) {
		wants = append(wants, want{"libgcc_s.so.1", "dlopened by libc for pthread_exit, pthread_cancel and backtrace"})
	}
	if importsAny(imp, nssImports, false) {
		svcs, err := nssServices(r.NsswitchConf)
		if err != nil {
			return err
		}
		for _, s := range svcs {
			wants = append(wants, want{"libnss_" + s + ".so.2", "dlopened by libc for the NSS service " + s + " (" + r.NsswitchConf + ")"})
		}
	}
	find, err := r.glibcFind()
	if err != nil {
		return err
	}
	have := c.newLoaded()
	have.add(c.Program)
	for _, o := range c.Libs {
		have.add(o)
	}
	for _, w := range wants {
		if have[w.name] != nil {
			continue
		}
		m, err := find(w.name, libc)
		var nf *NotFoundError
		if errors.As(err, &nf) {
			continue // glibc treats a missing module as an unavailable service
		}
		if err != nil {
			return err
		}
		m.Name, m.NeededBy, m.How = w.name, nil, w.why
		if dup := sameFile(have, m); dup != nil {
			continue
		}
		have.add(m)
		c.Modules = append(c.Modules, m)
		if err := r.bfs(c, have, []*Object{m}, find); err != nil {
			var nf *NotFoundError
			if errors.As(err, &nf) {
				continue // dlopen would fail and the call go on without it
			}
			return err
		}
	}
	if imp["iconv_open"] {
		real, err := filepath.EvalSymlinks(libc.Path)
		if err != nil {
			return err
		}
		if st, err := os.Stat(filepath.Join(filepath.Dir(real), "gconv")); err == nil && st.IsDir() {
			c.Gconv = filepath.Join(filepath.Dir(real), "gconv")
		}
	}
	return nil
}
