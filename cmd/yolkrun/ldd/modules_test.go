package ldd

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestModules: what glibc would dlopen is added for the calls a
// program imports, with the modules' own libraries, and nothing for a
// program that makes no such call.
func TestModules(t *testing.T) {
	d := t.TempDir()
	// nss/libnss_yolkt.so.2 needs nss/libyolkdep.so through its RUNPATH.
	dep := lib(t, d, "nss", "yolkdep", nil, nil)
	mod := filepath.Join(d, "nss", "libnss_yolkt.so.2")
	writeFile(t, filepath.Join(d, "src", "nss.c"), "int yolkdep(void);\nint _nss_yolkt_getpwnam_r(void) { return yolkdep(); }\n")
	build(t, d, "-shared", "-fPIC", "-o", mod, "src/nss.c", "-L"+d+"/nss", "-lyolkdep", "-Wl,--enable-new-dtags,-rpath,$ORIGIN")
	conf := filepath.Join(d, "nsswitch.conf")
	writeFile(t, conf, "# comment\npasswd: files yolkt [NOTFOUND=return] yolkmissing\nhosts: files yolkt\n")
	r := Host()
	r.NsswitchConf = conf
	r.DefaultDirs = append([]string{d + "/nss"}, r.DefaultDirs...)

	src := func(name, body string) string {
		c := filepath.Join(d, "src", name+".c")
		writeFile(t, c, body)
		out := filepath.Join(d, "bin", name)
		os.MkdirAll(filepath.Dir(out), 0o755)
		build(t, d, "-o", out, c)
		return out
	}
	modules := func(c *Closure) []string {
		var out []string
		for _, m := range c.Modules {
			out = append(out, filepath.Base(m.Path))
		}
		return out
	}

	t.Run("nss", func(t *testing.T) {
		p := src("pw", "#include <pwd.h>\nint main(void) { return getpwnam(\"x\") != 0; }\n")
		c, err := r.Resolve(p)
		if err != nil {
			t.Fatal(err)
		}
		got := modules(c)
		// files and dns: the stubs the host has (inside libc since 2.34).
		want := []string{"libnss_yolkt.so.2"}
		if _, err := os.Stat("/usr/lib/x86_64-linux-gnu/libnss_files.so.2"); err == nil {
			want = []string{"libnss_files.so.2", "libnss_yolkt.so.2"}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("modules %v, want %v", got, want)
		}
		var found bool
		for _, o := range c.Libs {
			if o.Path == dep && o.NeededBy != nil && o.NeededBy.Path == mod {
				found = true
			}
		}
		if !found {
			t.Errorf("libyolkdep.so (needed by the module) not in the closure: %v", libs(c))
		}
		root, err := r.Root(c)
		if err != nil {
			t.Fatal(err)
		}
		if !root.Has(mod) || !root.Has(dep) {
			t.Errorf("the root lacks the module or its library")
		}
		if c.Gconv != "" {
			t.Errorf("gconv directory %s for a program without iconv_open", c.Gconv)
		}
	})

	t.Run("none", func(t *testing.T) {
		p := src("plain", "#include <stdio.h>\nint main(void) { puts(\"x\"); return 0; }\n")
		c, err := r.Resolve(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Modules) != 0 || c.Gconv != "" {
			t.Errorf("modules %v, gconv %q for a program that calls nothing that loads them", modules(c), c.Gconv)
		}
	})

	t.Run("unwind-and-iconv", func(t *testing.T) {
		p := src("thr", "#include <pthread.h>\n#include <iconv.h>\nint main(int argc, char **argv) { if (argc > 5) pthread_exit(0); return iconv_open(\"a\", \"b\") == 0; }\n")
		c, err := r.Resolve(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := modules(c); !reflect.DeepEqual(got, []string{"libgcc_s.so.1"}) {
			t.Errorf("modules %v, want libgcc_s.so.1", got)
		}
		if _, err := os.Stat(filepath.Join(c.Gconv, "gconv-modules")); err != nil || !strings.HasSuffix(c.Gconv, "/gconv") {
			t.Errorf("gconv directory %q: %v", c.Gconv, err)
		}
	})
}

func TestNssServices(t *testing.T) {
	d := t.TempDir()
	for _, c := range []struct {
		conf string
		want []string
	}{
		{"passwd: files systemd\ngroup: files systemd\n", []string{"files", "systemd"}},
		{"hosts: files mdns4_minimal [NOTFOUND=return] dns myhostname # comment\n", []string{"files", "mdns4_minimal", "dns", "myhostname"}},
		{"hosts: files [ NOTFOUND=return SUCCESS=continue ] dns\n", []string{"files", "dns"}},
		{"# passwd: nis\nno colon here\nnetgroup:\tnis\n", []string{"nis"}},
		{"", nil},
	} {
		p := filepath.Join(d, "conf")
		writeFile(t, p, c.conf)
		got, err := nssServices(p)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("nssServices(%q) = %v, %v; want %v", c.conf, got, err, c.want)
		}
	}
	if got, err := nssServices(filepath.Join(d, "none")); got != nil || err != nil {
		t.Errorf("missing file: %v, %v; want nothing", got, err)
	}
}

// FuzzNssServices: any file gives service names without blanks,
// brackets or repeats, and no error.
func FuzzNssServices(f *testing.F) {
	f.Add("passwd: files systemd\nhosts: files [NOTFOUND=return] dns\n")
	f.Add("a:[b c]d [e] f\n#x: y\n::\n")
	d := f.TempDir()
	f.Fuzz(func(t *testing.T, conf string) {
		p := filepath.Join(d, "conf")
		if err := os.WriteFile(p, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := nssServices(p)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, s := range got {
			if s == "" || strings.ContainsAny(s, " \t\n#") || strings.HasPrefix(s, "[") || seen[s] {
				t.Fatalf("service %q in %q from %q", s, got, conf)
			}
			seen[s] = true
		}
	})
}
