package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Dynamically linked programs as a user gives them: qemu/run builds the
// root (interpreter, libraries, /etc files) from the host.

// TestDynamicSystemPrograms runs Debian's own binaries unmodified.
func TestDynamicSystemPrograms(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		line string // a line the output must hold
	}{
		{"ls", []string{"/bin/ls", "/"}, "usr"},
		{"sqlite3", []string{"/usr/bin/sqlite3", ":memory:", "select 6*7"}, "42"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if _, err := os.Stat(c.args[0]); err != nil {
				t.Skipf("%s not on this machine (scripts/setup installs sqlite3)", c.args[0])
			}
			r := run(t, c.args...)
			if r.status != 0 {
				t.Errorf("exit status %d, want 0", r.status)
			}
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(c.line) + `$`).MatchString(r.out) {
				t.Errorf("no line %q in the output", c.line)
			}
		})
	}
}

// buildDynamic builds, in a new temporary directory, bin/prog and
// lib/libyolkdyn.so (found through DT_RUNPATH $ORIGIN/../lib) with the
// compiler cc, and returns the program's path.
func buildDynamic(t *testing.T, cc string) string {
	t.Helper()
	if _, err := exec.LookPath(cc); err != nil {
		t.Skipf("%s not found (scripts/setup installs it)", cc)
	}
	d := t.TempDir()
	for name, src := range map[string]string{
		"lib.c":  "#include <stdio.h>\nint yolkdyn(int n) { printf(\"from the library: %d\\n\", n); return n; }\n",
		"main.c": "int yolkdyn(int);\nint main(int argc, char **argv) { (void)argv; return yolkdyn(40 + argc); }\n",
	} {
		if err := os.WriteFile(filepath.Join(d, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{
		{"-shared", "-fPIC", "-o", "lib/libyolkdyn.so", "lib.c"},
		{"-o", "bin/prog", "main.c", "-Llib", "-lyolkdyn", "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../lib"},
	} {
		os.MkdirAll(filepath.Join(d, "lib"), 0o755)
		os.MkdirAll(filepath.Join(d, "bin"), 0o755)
		cmd := exec.Command(cc, args...)
		cmd.Dir = d
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", cc, args, err, out)
		}
	}
	return filepath.Join(d, "bin/prog")
}

// TestDynamicOwnProgram builds a glibc and a musl program with a library
// beside it ($ORIGIN in RUNPATH) and runs each, by path and with -i.
func TestDynamicOwnProgram(t *testing.T) {
	for _, cc := range []string{"gcc", "musl-gcc"} {
		t.Run(cc, func(t *testing.T) {
			t.Parallel()
			p := buildDynamic(t, cc)
			r := run(t, p, "x")
			if r.status != 42 {
				t.Errorf("exit status %d, want 42", r.status)
			}
			if !strings.Contains(r.out, "from the library: 42\n") {
				t.Errorf("the library's line is missing")
			}
			r = run(t, "-i", p)
			if r.status != 41 || !strings.Contains(r.out, "from the library: 41\n") {
				t.Errorf("-i: exit status %d, want 41 and the library's line", r.status)
			}
		})
	}
}

// TestDynamicMissing: a missing library or interpreter is one line from
// the runner naming it and the program, status 127, before QEMU starts.
func TestDynamicMissing(t *testing.T) {
	t.Run("library", func(t *testing.T) {
		t.Parallel()
		p := buildDynamic(t, "gcc")
		lib := filepath.Join(filepath.Dir(filepath.Dir(p)), "lib/libyolkdyn.so")
		if err := os.Remove(lib); err != nil {
			t.Fatal(err)
		}
		r := run(t, p)
		want := "qemu/run: libyolkdyn.so: library not found (needed by " + p + ")\n"
		if r.status != 127 || r.out != want {
			t.Errorf("status %d, output %q; want 127 and %q", r.status, r.out, want)
		}
	})
	t.Run("interpreter", func(t *testing.T) {
		t.Parallel()
		if _, err := exec.LookPath("gcc"); err != nil {
			t.Skip("gcc not found")
		}
		d := t.TempDir()
		src := filepath.Join(d, "m.c")
		os.WriteFile(src, []byte("int main(void) { return 0; }\n"), 0o644)
		p := filepath.Join(d, "prog")
		if out, err := exec.Command("gcc", "-o", p, src, "-Wl,--dynamic-linker=/nonexistent/ld-yolk.so.1").CombinedOutput(); err != nil {
			t.Fatalf("gcc: %v\n%s", err, out)
		}
		r := run(t, "-i", p)
		want := "qemu/run: /nonexistent/ld-yolk.so.1: interpreter not found (needed by " + p + ")\n"
		if r.status != 127 || r.out != want {
			t.Errorf("status %d, output %q; want 127 and %q", r.status, r.out, want)
		}
	})
}

// TestDynamicPrintRoot lists the root of /bin/ls without booting.
func TestDynamicPrintRoot(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(filepath.Join(root, "qemu/run"), "--print-root", "/bin/ls").CombinedOutput()
	if err != nil {
		t.Fatalf("qemu/run --print-root /bin/ls: %v\n%s", err, out)
	}
	for _, re := range []string{
		`(?m)^/lib64 -> |^/lib64/ld-linux-x86-64\.so\.2`,
		`(?m)^\S*/libc\.so\.6\t# libc\.so\.6 needed by /bin/ls`,
		`(?m)^\S*/ld-linux-x86-64\.so\.2\t`,
		`(?m)^/etc/passwd\t`,
	} {
		if !regexp.MustCompile(re).Match(out) {
			t.Errorf("no line matching %s in\n%s", re, out)
		}
	}
}
