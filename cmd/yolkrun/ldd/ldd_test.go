package ldd

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// build runs gcc with args in dir (skipping the test without gcc).
func build(t *testing.T, dir string, args ...string) {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not found (scripts/setup installs it)")
	}
	cmd := exec.Command("gcc", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// lib builds dir/sub/lib<name>.so defining <name>() that calls each of
// calls (linked against lib<call>.so in linkDirs), with extra ld flags.
func lib(t *testing.T, dir, sub, name string, calls []string, linkDirs []string, ldflags ...string) string {
	t.Helper()
	src := "int " + name + "(void) { return 1"
	var decl string
	for _, c := range calls {
		decl += "int " + c + "(void);\n"
		src += " + " + c + "()"
	}
	src = decl + src + "; }\n"
	c := filepath.Join(dir, "src", name+".c")
	writeFile(t, c, src)
	out := filepath.Join(dir, sub, "lib"+name+".so")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"-shared", "-fPIC", "-o", out, c, "-Wl,--no-as-needed"}
	for _, d := range linkDirs {
		args = append(args, "-L"+d, "-Wl,-rpath-link,"+d)
	}
	for _, c := range calls {
		args = append(args, "-l"+c)
	}
	build(t, dir, append(args, ldflags...)...)
	return out
}

// prog builds dir/sub/name calling each of calls.
func prog(t *testing.T, dir, sub, name string, calls []string, linkDirs []string, ldflags ...string) string {
	t.Helper()
	src := ""
	body := "int main(void) { return 0"
	for _, c := range calls {
		src += "int " + c + "(void);\n"
		body += " + " + c + "()"
	}
	c := filepath.Join(dir, "src", name+".c")
	writeFile(t, c, src+body+"; }\n")
	out := filepath.Join(dir, sub, name)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"-o", out, c, "-Wl,--no-as-needed"}
	for _, d := range linkDirs {
		args = append(args, "-L"+d, "-Wl,-rpath-link,"+d)
	}
	for _, c := range calls {
		args = append(args, "-l"+c)
	}
	build(t, dir, append(args, ldflags...)...)
	return out
}

// libs maps each library of c to where it was found.
func libs(c *Closure) map[string]string {
	m := map[string]string{}
	for _, o := range c.Libs {
		m[o.Name] = o.Path
	}
	return m
}

const (
	runpath = "-Wl,--enable-new-dtags"  // -rpath makes DT_RUNPATH
	rpath   = "-Wl,--disable-new-dtags" // -rpath makes DT_RPATH
)

// TestClosure builds programs and libraries with RPATH, RUNPATH and
// $ORIGIN, and checks what the resolver finds (ld.so(8)'s order).
func TestClosure(t *testing.T) {
	d := t.TempDir()
	// deep/libleaf.so; lib/libmid.so needs libleaf via its own DT_RPATH
	// $ORIGIN/../deep; lib/libtop.so needs libmid (no path of its own).
	leaf := lib(t, d, "deep", "leaf", nil, nil)
	mid := lib(t, d, "lib", "mid", []string{"leaf"}, []string{d + "/deep"}, rpath, "-Wl,-rpath,$ORIGIN/../deep")
	top := lib(t, d, "lib", "top", []string{"mid"}, []string{d + "/lib", d + "/deep"})
	r := Host()

	t.Run("rpath-inherited", func(t *testing.T) {
		// The program's DT_RPATH serves libtop's need of libmid too.
		p := prog(t, d, "bin", "withrpath", []string{"top"}, []string{d + "/lib", d + "/deep"}, rpath, "-Wl,-rpath,$ORIGIN/../lib")
		c, err := r.Resolve(p)
		if err != nil {
			t.Fatal(err)
		}
		got := libs(c)
		want := map[string]string{"libtop.so": top, "libmid.so": mid, "libleaf.so": leaf}
		for name, path := range want {
			if filepath.Clean(got[name]) != path {
				t.Errorf("%s found at %q, want %q", name, got[name], path)
			}
		}
		if got["libc.so.6"] == "" {
			t.Errorf("libc.so.6 not in the closure: %v", got)
		}
		if c.Interp == nil || c.Interp.Path != "/lib64/ld-linux-x86-64.so.2" {
			t.Errorf("interpreter %+v, want /lib64/ld-linux-x86-64.so.2", c.Interp)
		}
		for _, o := range c.Libs {
			if o.Name == "libmid.so" && !strings.HasPrefix(o.How, "RPATH of "+p) {
				t.Errorf("libmid.so found by %q, want the program's RPATH", o.How)
			}
		}
	})

	t.Run("runpath-not-inherited", func(t *testing.T) {
		// DT_RUNPATH serves only the program's own needs: libtop is
		// found, libmid (libtop's need) is not.
		p := prog(t, d, "bin", "withrunpath", []string{"top"}, []string{d + "/lib", d + "/deep"}, runpath, "-Wl,-rpath,$ORIGIN/../lib")
		_, err := r.Resolve(p)
		var nf *NotFoundError
		if !errors.As(err, &nf) || nf.Name != "libmid.so" || nf.NeededBy != top {
			t.Fatalf("error %v, want libmid.so not found, needed by %s", err, top)
		}
	})

	t.Run("runpath-origin-dotdot", func(t *testing.T) {
		// RUNPATH $ORIGIN/.. from bin/sub: the program's directory's
		// parent, bin/, then lib/ by a second entry.
		p := prog(t, d, "bin/sub", "dotdot", []string{"mid"}, []string{d + "/lib", d + "/deep"}, runpath, "-Wl,-rpath,$ORIGIN/..:$ORIGIN/../../lib")
		c, err := r.Resolve(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := libs(c); got["libmid.so"] != mid || got["libleaf.so"] != leaf {
			t.Errorf("closure %v, want libmid %s, libleaf %s", got, mid, leaf)
		}
	})

	t.Run("missing", func(t *testing.T) {
		gone := lib(t, d, "gone", "gone", nil, nil)
		p := prog(t, d, "bin", "needsgone", []string{"gone"}, []string{d + "/gone"})
		if err := os.Remove(gone); err != nil {
			t.Fatal(err)
		}
		_, err := r.Resolve(p)
		var nf *NotFoundError
		if !errors.As(err, &nf) || nf.Name != "libgone.so" || nf.NeededBy != p || nf.Interp {
			t.Fatalf("error %v, want libgone.so not found, needed by %s", err, p)
		}
		if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "libgone.so") || !strings.Contains(msg, p) {
			t.Errorf("message %q: want one line naming libgone.so and %s", msg, p)
		}
	})

	t.Run("missing-interpreter", func(t *testing.T) {
		p := prog(t, d, "bin", "badinterp", nil, nil, "-Wl,--dynamic-linker=/nonexistent/ld-yolk.so.1")
		_, err := r.Resolve(p)
		var nf *NotFoundError
		if !errors.As(err, &nf) || !nf.Interp || nf.Name != "/nonexistent/ld-yolk.so.1" || nf.NeededBy != p {
			t.Fatalf("error %v, want the interpreter /nonexistent/ld-yolk.so.1 not found, needed by %s", err, p)
		}
	})

	t.Run("loop", func(t *testing.T) {
		// libping needs libpong and libpong needs libping.
		lib(t, d, "loop", "pong", nil, nil)
		lib(t, d, "loop", "ping", []string{"pong"}, []string{d + "/loop"}, runpath, "-Wl,-rpath,$ORIGIN")
		lib(t, d, "loop", "pong", []string{"ping"}, []string{d + "/loop"}, runpath, "-Wl,-rpath,$ORIGIN")
		p := prog(t, d, "bin", "loop", []string{"ping"}, []string{d + "/loop"}, runpath, "-Wl,-rpath,"+d+"/loop")
		c, err := r.Resolve(p)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, o := range c.Libs {
			if strings.HasPrefix(o.Name, "libp") {
				n++
			}
		}
		if n != 2 {
			t.Errorf("%d of libping/libpong in the closure, want 2: %v", n, libs(c))
		}
	})

	t.Run("wrong-class", func(t *testing.T) {
		// A 32-bit libleaf.so first in the RUNPATH is skipped for the
		// 64-bit one after it; alone, it is an error naming it.
		src := filepath.Join(d, "src", "leaf32.c")
		writeFile(t, src, "int leaf(void) { return 1; }\n")
		l32 := filepath.Join(d, "lib32", "libleaf.so")
		if err := os.MkdirAll(filepath.Dir(l32), 0o755); err != nil {
			t.Fatal(err)
		}
		// -nostdlib: a 32-bit library needs no 32-bit C library, so
		// gcc without multilib packages builds it.
		if out, err := exec.Command("gcc", "-m32", "-shared", "-fPIC", "-nostdlib", "-o", l32, src).CombinedOutput(); err != nil {
			t.Skipf("gcc -m32 cannot build a 32-bit library here (%v): %s", err, out)
		}
		p := prog(t, d, "bin", "skip32", []string{"leaf"}, []string{d + "/deep"}, runpath, "-Wl,-rpath,"+d+"/lib32:"+d+"/deep")
		c, err := r.Resolve(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := libs(c)["libleaf.so"]; got != leaf {
			t.Errorf("libleaf.so found at %s, want %s (the 32-bit one skipped)", got, leaf)
		}
		p = prog(t, d, "bin", "only32", []string{"leaf"}, []string{d + "/deep"}, runpath, "-Wl,-rpath,"+d+"/lib32")
		_, err = r.Resolve(p)
		var nf *NotFoundError
		if !errors.As(err, &nf) || nf.Name != "libleaf.so" || len(nf.Skipped) != 1 || !strings.Contains(nf.Skipped[0], l32) || !strings.Contains(nf.Skipped[0], "ELFCLASS32") {
			t.Fatalf("error %v, want libleaf.so not found, %s skipped as ELFCLASS32", err, l32)
		}
	})

	t.Run("root", func(t *testing.T) {
		p := prog(t, d, "bin", "rooted", []string{"top"}, []string{d + "/lib", d + "/deep"}, rpath, "-Wl,-rpath,$ORIGIN/../lib")
		c, err := r.Resolve(p)
		if err != nil {
			t.Fatal(err)
		}
		root, err := r.Root(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{p, top, mid, leaf, "/etc/passwd", "/etc/group"} {
			if !root.Has(f) {
				t.Errorf("root lacks %s", f)
			}
		}
		out := t.TempDir()
		if err := root.Build(out); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(filepath.Join(out, p)); err != nil || st.Mode().Perm()&0o100 == 0 {
			t.Errorf("the program in the built root: %v, %v (want executable)", st, err)
		}
	})
}

// TestSystemPrograms resolves Debian's own programs: the closure holds
// the C library and the interpreter, and the root keeps the
// interpreter's symlink chain.
func TestSystemPrograms(t *testing.T) {
	for _, p := range []string{"/bin/ls", "/usr/bin/sqlite3"} {
		t.Run(filepath.Base(p), func(t *testing.T) {
			if _, err := os.Stat(p); err != nil {
				t.Skipf("%s not on this machine", p)
			}
			r := Host()
			c, err := r.Resolve(p)
			if err != nil {
				t.Fatal(err)
			}
			if c.Interp == nil || c.Interp.Path != "/lib64/ld-linux-x86-64.so.2" {
				t.Fatalf("interpreter %+v, want /lib64/ld-linux-x86-64.so.2", c.Interp)
			}
			libc := libs(c)["libc.so.6"]
			if libc == "" {
				t.Fatalf("libc.so.6 not in the closure of %s: %v", p, libs(c))
			}
			root, err := r.Root(c)
			if err != nil {
				t.Fatal(err)
			}
			// Every file and link of the closure is in the root, along
			// its symlinks: resolve each inside the root.
			for _, want := range []string{p, c.Interp.Path, libc} {
				real, err := filepath.EvalSymlinks(want)
				if err != nil {
					t.Fatal(err)
				}
				if !root.Has(real) {
					t.Errorf("root lacks %s (%s)", real, want)
				}
			}
			out := t.TempDir()
			if err := root.Build(out); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{p, c.Interp.Path, libc} {
				// Absolute links in the root point at host paths; look
				// the file up with each link taken inside out/.
				if _, err := resolveIn(out, want); err != nil {
					t.Errorf("%s in the built root: %v", want, err)
				}
			}
			if st, err := os.Lstat(filepath.Join(out, "/lib64/ld-linux-x86-64.so.2")); err == nil && st.Mode().IsRegular() {
				if hst, _ := os.Lstat("/lib64/ld-linux-x86-64.so.2"); hst.Mode()&os.ModeSymlink != 0 {
					t.Errorf("the interpreter's symlink became a file in the root")
				}
			}
		})
	}
}

// resolveIn looks p up under root as a chroot would, following links.
func resolveIn(root, p string) (string, error) {
	cur := "/"
	comps := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for links := 0; len(comps) > 0; {
		c := comps[0]
		comps = comps[1:]
		next := filepath.Join(cur, c)
		st, err := os.Lstat(filepath.Join(root, next))
		if err != nil {
			return "", err
		}
		if st.Mode()&os.ModeSymlink != 0 {
			if links++; links > maxLinks {
				return "", errors.New("too many links")
			}
			t, err := os.Readlink(filepath.Join(root, next))
			if err != nil {
				return "", err
			}
			if !filepath.IsAbs(t) {
				t = filepath.Join(cur, t)
			}
			comps = append(strings.Split(strings.TrimPrefix(filepath.Clean(t), "/"), "/"), comps...)
			cur = "/"
			continue
		}
		cur = next
	}
	return cur, nil
}

// TestMusl builds a musl program with a library found by RUNPATH: the
// C library is the interpreter itself.
func TestMusl(t *testing.T) {
	if _, err := exec.LookPath("musl-gcc"); err != nil {
		t.Skip("musl-gcc not found (scripts/setup installs musl-tools)")
	}
	d := t.TempDir()
	writeFile(t, filepath.Join(d, "m.c"), "int f(void);\nint main(void) { return f(); }\n")
	writeFile(t, filepath.Join(d, "f.c"), "#include <stdio.h>\nint f(void) { puts(\"f\"); return 0; }\n")
	for _, args := range [][]string{
		{"-shared", "-fPIC", "-o", "lib/libf.so", "f.c"},
		{"-o", "bin/m", "m.c", "-Llib", "-lf", "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../lib"},
	} {
		os.MkdirAll(filepath.Join(d, "lib"), 0o755)
		os.MkdirAll(filepath.Join(d, "bin"), 0o755)
		cmd := exec.Command("musl-gcc", args...)
		cmd.Dir = d
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("musl-gcc %v: %v\n%s", args, err, out)
		}
	}
	r := Host()
	c, err := r.Resolve(filepath.Join(d, "bin/m"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Musl || c.Interp == nil || !strings.Contains(c.Interp.Path, "ld-musl-x86_64.so.1") {
		t.Fatalf("interpreter %+v, want musl's", c.Interp)
	}
	got := libs(c)
	if want := map[string]string{"libf.so": filepath.Join(d, "lib/libf.so")}; !reflect.DeepEqual(got, want) {
		t.Errorf("closure %v, want %v (libc.so is the interpreter)", got, want)
	}
}

func TestExpandTokens(t *testing.T) {
	r := &Resolver{Lib: "lib/x86_64-linux-gnu", Platform: "x86_64"}
	for _, c := range []struct{ in, want string }{
		{"$ORIGIN/../lib", "/o/d/../lib"},
		{"${ORIGIN}/x", "/o/d/x"},
		{"/usr/$LIB/$PLATFORM", "/usr/lib/x86_64-linux-gnu/x86_64"},
		{"/a/${LIB}x", "/a/lib/x86_64-linux-gnux"},
		{"$ORIGINAL/x", "$ORIGINAL/x"}, // not a token: left alone
		{"/plain", "/plain"},
		{"$", "$"},
	} {
		if got := r.expandTokens(c.in, "/o/d"); got != c.want {
			t.Errorf("expandTokens(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got, want := r.expandPath([]string{"/a:$ORIGIN", "/b"}, "/o"), []string{"/a", "/o", "/b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("expandPath = %v, want %v", got, want)
	}
}

func TestConfDirs(t *testing.T) {
	d := t.TempDir()
	writeFile(t, filepath.Join(d, "ld.so.conf"), "# comment\ninclude conf.d/*.conf\n/first\n  /second/  # trailing\nhwcap 0 nosegneg\ninclude /nonexistent/*.conf\n")
	writeFile(t, filepath.Join(d, "conf.d/b.conf"), "/from-b\n")
	writeFile(t, filepath.Join(d, "conf.d/a.conf"), "/from-a\n/first\n")
	writeFile(t, filepath.Join(d, "conf.d/c.txt"), "/not-included\n")
	r := &Resolver{LdSoConf: filepath.Join(d, "ld.so.conf")}
	got, err := r.confDirs()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/from-a", "/first", "/from-b", "/second"}; !reflect.DeepEqual(got, want) {
		t.Errorf("confDirs = %v, want %v", got, want)
	}
	r.LdSoConf = filepath.Join(d, "missing.conf")
	if got, err := r.confDirs(); err != nil || len(got) != 0 {
		t.Errorf("missing ld.so.conf: %v, %v; want no directories", got, err)
	}
}

func TestMuslPath(t *testing.T) {
	d := t.TempDir()
	r := &Resolver{MuslPathFile: filepath.Join(d, "path")}
	writeFile(t, r.MuslPathFile, "/a:/b\n/c\n\n")
	if got, _ := r.muslPath("/lib/ld-musl-x86_64.so.1"); !reflect.DeepEqual(got, []string{"/a", "/b", "/c"}) {
		t.Errorf("muslPath = %v", got)
	}
	r.MuslPathFile = filepath.Join(d, "none")
	if got, _ := r.muslPath("/lib/ld-musl-x86_64.so.1"); !reflect.DeepEqual(got, []string{"/lib", "/usr/local/lib", "/usr/lib"}) {
		t.Errorf("muslPath without a file = %v, want musl's defaults", got)
	}
	r.MuslPathFile = ""
	for in, want := range map[string]string{
		"/lib/ld-musl-x86_64.so.1":                "/etc/ld-musl-x86_64.path",
		"/usr/local/musl/lib/ld-musl-x86_64.so.1": "/usr/local/musl/etc/ld-musl-x86_64.path",
	} {
		if got := r.muslPathFile(in); got != want {
			t.Errorf("muslPathFile(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestRootSymlinks(t *testing.T) {
	d := t.TempDir()
	writeFile(t, filepath.Join(d, "real/dir/file"), "x")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink("real/dir", filepath.Join(d, "dirlink")))
	must(os.Symlink(filepath.Join(d, "dirlink/file"), filepath.Join(d, "abslink")))
	must(os.Symlink("abslink", filepath.Join(d, "rellink")))
	must(os.Symlink("loop2", filepath.Join(d, "loop1")))
	must(os.Symlink("loop1", filepath.Join(d, "loop2")))
	r := NewRoot()
	must(r.Add(filepath.Join(d, "rellink"), "test"))
	var got []string
	for _, e := range r.Entries() {
		got = append(got, strings.TrimPrefix(strings.SplitN(e.String(), "\t", 2)[0], d))
	}
	want := []string{
		"/abslink -> " + d + "/dirlink/file",
		"/dirlink -> real/dir",
		"/real/dir/file",
		"/rellink -> abslink",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("entries\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := r.Add(filepath.Join(d, "loop1"), "test"); err == nil || !strings.Contains(err.Error(), "too many levels") {
		t.Errorf("a symlink loop: %v, want too many levels of symbolic links", err)
	}
	out := t.TempDir()
	must(r.Build(out))
	if l, err := os.Readlink(filepath.Join(out, d, "rellink")); err != nil || l != "abslink" {
		t.Errorf("built rellink -> %q, %v", l, err)
	}
	if b, err := os.ReadFile(filepath.Join(out, d, "real/dir/file")); err != nil || string(b) != "x" {
		t.Errorf("built file: %q, %v", b, err)
	}
}
