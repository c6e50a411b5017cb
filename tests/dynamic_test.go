package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
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

// TestDynamicMissingInGuest: with the root the user's (-R /), the kernel
// and ld.so say it, in one line naming the missing file and the program,
// and the status is 127.
func TestDynamicMissingInGuest(t *testing.T) {
	d := errorPrograms(t)
	for _, c := range []struct{ prog, stderr string }{
		{"pbadinterp", "yolk: /t/pbadinterp: cannot run the interpreter /nonexistent/ld.so that /t/pbadinterp needs: no such file or directory\n"},
		{"pgone", "/t/pgone: error while loading shared libraries: libleaf.so: cannot open shared object file: No such file or directory\n"},
	} {
		t.Run(c.prog, func(t *testing.T) {
			t.Parallel()
			out, errb, st := runStreams(t, nil, "-R", "/", "-v", d+":/t:ro", "/t/"+c.prog)
			if st != 127 || len(out) != 0 || string(errb) != c.stderr {
				t.Errorf("status %d, stdout %q, stderr %q; want 127, nothing, %q", st, out, errb, c.stderr)
			}
		})
	}
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

// need returns the first of paths that exists; without one the test
// fails under YOLK_REQUIRE_QEMU=1 (scripts/setup installs them all) and
// skips otherwise.
func need(t *testing.T, paths ...string) string {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("YOLK_REQUIRE_QEMU") == "1" {
		t.Fatalf("%s not found (scripts/setup installs it)", paths[0])
	}
	t.Skipf("%s not found (scripts/setup installs it)", paths[0])
	return ""
}

var (
	debsOnce sync.Once
	debsErr  error
	debsOut  []byte
)

// dynamicBusybox returns Debian's dynamically linked busybox, unpacked
// by `make debs` (its package conflicts with busybox-static).
func dynamicBusybox(t *testing.T) string {
	t.Helper()
	debsOnce.Do(func() {
		debsOut, debsErr = exec.Command("make", "-C", root, "debs").CombinedOutput()
	})
	if debsErr != nil {
		t.Fatalf("make debs: %v\n%s", debsErr, debsOut)
	}
	return filepath.Join(root, "build/debs/busybox/bin/busybox")
}

// hostEnv is the environment the kernel gives a program (README:
// HOME=/, TERM=linux; dash's default PATH), plus extra, for running the
// same command on the host.
func hostEnv(extra ...string) []string {
	return append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/", "TERM=linux"}, extra...)
}

// errorPrograms builds, in a new directory, programs that ld.so or the
// kernel must refuse: p32 finds only a 32-bit libleaf.so ($ORIGIN/l32),
// pm only an aarch64 one ($ORIGIN/lm), pskip a 32-bit one first and the
// right one after it, pgone none, pbadinterp names a missing interpreter.
func errorPrograms(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	sh := func(script string) {
		t.Helper()
		cmd := exec.Command("/bin/sh", "-c", script)
		cmd.Dir = d
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
	}
	sh(`set -e
mkdir l32 lm lok
echo 'int leaf(void) { return 1; }' >l32.c
echo 'int leaf(void) { return 7; }' >lok.c
echo 'int leaf(void); int main(void) { return leaf(); }' >m.c
gcc -m32 -shared -fPIC -nostdlib -o l32/libleaf.so l32.c
gcc -shared -fPIC -o lok/libleaf.so lok.c
cp lok/libleaf.so lm/libleaf.so
printf '\267\000' | dd of=lm/libleaf.so bs=1 seek=18 conv=notrunc 2>/dev/null # e_machine = EM_AARCH64
rp() { gcc -o "$1" m.c -Llok -lleaf -Wl,--enable-new-dtags,-rpath,"$2"; }
rp p32 '$ORIGIN/l32'
rp pm '$ORIGIN/lm'
rp pskip '$ORIGIN/l32:$ORIGIN/lok'
rp pgone '$ORIGIN/nowhere'
gcc -o pbadinterp m.c -Llok -lleaf -Wl,--dynamic-linker=/nonexistent/ld.so`)
	return d
}

// dynamicScript runs Debian's programs from the list and a few
// more a user might hand yolk (Python's multiprocessing: POSIX
// semaphores, futexes shared through /dev/shm), then the refusals of errorPrograms ($T),
// with each status; $W is a writable directory, $E build/examples, $B
// the dynamic busybox.
const dynamicScript = `exec 2>&1
run() { "$@"; echo "[$1: $?]"; }
run /usr/bin/python3 -c 'import json, sqlite3, hashlib; print(json.dumps([1]), sqlite3.sqlite_version)'
run /usr/bin/python3 -c 'import multiprocessing as mp
with mp.Pool(2) as p: print(p.map(abs, [-1, -2, -3]))'
run perl -e 'print "x"x3, "\n"'
run lua5.4 -e 'print(1)'
run sqlite3 :memory: 'select 1'
echo 'scale=30; 4*a(1)' | run bc -l
i=0; while [ $i -lt 3000 ]; do echo "line $i of some text"; i=$((i+1)); done >$W/in
gzip -9n <$W/in >$W/in.gz; echo "[gzip: $?]"; md5sum <$W/in.gz; gzip -dc $W/in.gz | md5sum
xz -6 <$W/in >$W/in.xz; echo "[xz: $?]"; md5sum <$W/in.xz; xz -dc $W/in.xz | md5sum
run dash -c 'echo $((6*7)) | cat'
run $B sh -c 'echo busybox $((6*7))'; $B sha256sum $W/in | $B cut -c1-64
run $E/gocgo
run $E/musl-dynamic
run $E/glibcdl libz.so.1
run cksum <$W/in
run ps -o comm= -p $$
run grep -c 'of some' $W/in
run sed -n '3p;5s/text/TEXT/p' $W/in
run awk '{n += $2} END {print n}' $W/in
(cd $W && run tar -cf a.tar in && tar -tvf a.tar | awk '{print $3, $6}')
run find /usr/share/common-licenses -name 'GPL-*' | sort
run openssl version; printf abc | openssl dgst -sha256
run file -b /usr/bin/dash
cd $T
for p in p32 pm pskip pgone pbadinterp; do run ./$p; done
`

// TestDynamicDebian runs dynamicScript under yolk with the host's root
// (-R /) and on the host, and compares the output byte for byte.
func TestDynamicDebian(t *testing.T) {
	for _, p := range []string{"/usr/bin/python3", "/usr/bin/perl", "/usr/bin/lua5.4", "/usr/bin/sqlite3", "/usr/bin/bc", "/usr/bin/gzip", "/usr/bin/xz", "/usr/bin/dash", "/usr/bin/openssl", "/usr/bin/file"} {
		need(t, p)
	}
	t.Parallel()
	e := examples(t)
	bb := dynamicBusybox(t)
	d := errorPrograms(t)
	host := exec.Command("/usr/bin/dash", "-c", dynamicScript)
	host.Dir = "/"
	host.Env = hostEnv("T="+d, "W="+t.TempDir(), "E="+e, "B="+bb)
	want, err := host.Output()
	if err != nil {
		t.Fatalf("the script on the host: %v\n%s", err, want)
	}
	out, errb, st := runStreams(t, nil, "-R", "/", "-v", d+":/t:ro", "-e", "T=/t", "-e", "W=/tmp", "-e", "E="+e, "-e", "B="+bb,
		"/usr/bin/dash", "-c", dynamicScript)
	if st != 0 || string(out) != string(want) {
		t.Errorf("status %d; output:\n%s\nwant (the host's):\n%s\nstderr:\n%s", st, out, want, errb)
	}
}

// TestDynamicAutoRoot runs programs with the root the runner builds
// (no -R): each prints what it prints on the host.
func TestDynamicAutoRoot(t *testing.T) {
	for _, c := range []struct {
		name string
		args func(t *testing.T) []string
	}{
		{"perl", func(t *testing.T) []string { return []string{need(t, "/usr/bin/perl"), "-e", `print "x"x3, "\n"`} }},
		{"lua5.4", func(t *testing.T) []string { return []string{need(t, "/usr/bin/lua5.4"), "-e", "print(1)"} }},
		{"busybox", func(t *testing.T) []string {
			return []string{dynamicBusybox(t), "sh", "-c", "echo $((6*7)); read x </etc/passwd; echo ${x%%:*}"}
		}},
		{"gocgo", func(t *testing.T) []string { return []string{example(t, "gocgo")} }},
		{"musl-dynamic", func(t *testing.T) []string { return []string{example(t, "musl-dynamic")} }},
		// The NSS module, libgcc_s and the gconv modules glibc dlopens
		// are in the root: the output names them.
		{"glibcdl", func(t *testing.T) []string { return []string{example(t, "glibcdl")} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := c.args(t)
			t.Parallel()
			host := exec.Command(args[0], args[1:]...)
			host.Dir = "/"
			host.Env = hostEnv()
			want, err := host.Output()
			if err != nil {
				t.Fatalf("%v on the host: %v", args, err)
			}
			out, errb, st := runStreams(t, nil, args...)
			if st != 0 || string(out) != string(want) {
				t.Errorf("status %d; output:\n%s\nwant (the host's):\n%s\nstderr:\n%s", st, out, want, errb)
			}
		})
	}
}

// TestDynamicSharedPages runs examples/sharepages: a second process of
// the same dynamic program shares the libraries' pages with the first,
// so what it alone holds ("own": Private_Clean + Private_Dirty of
// /proc/PID/smaps_rollup) is far below what the first held alone, and
// the first's own share drops as soon as the second maps them too.
func TestDynamicSharedPages(t *testing.T) {
	t.Parallel()
	out, errb, st := runStreams(t, nil, example(t, "sharepages"))
	if st != 0 {
		t.Fatalf("status %d\n%s\n%s", st, out, errb)
	}
	t.Logf("yolk:\n%s", out)
	if host, err := exec.Command(example(t, "sharepages")).Output(); err == nil {
		t.Logf("Linux (the host, where every process shares libc):\n%s", host)
	}
	re := regexp.MustCompile(`(?m)^(first|second|first, the second alive): rss (\d+) kB, pss (\d+) kB \(file (\d+) kB\), own (\d+) kB, shared (\d+) kB$`)
	type line struct{ rss, pss, file, own, shared int }
	got := map[string]line{}
	for _, m := range re.FindAllStringSubmatch(string(out), -1) {
		var n [5]int
		for i := range n {
			n[i], _ = strconv.Atoi(m[i+2])
		}
		got[m[1]] = line{n[0], n[1], n[2], n[3], n[4]}
	}
	first, second, again := got["first"], got["second"], got["first, the second alive"]
	if len(got) != 3 {
		t.Fatalf("want three report lines, got:\n%s", out)
	}
	// Alone, the first holds every page it maps: libc's are most of them.
	if first.own != first.rss || first.shared != 0 || first.file < 1000 {
		t.Errorf("first alone: %+v; want own = rss, nothing shared, over 1000 kB of file pages", first)
	}
	if second.own*4 > first.own || second.shared < first.file*9/10 {
		t.Errorf("second %+v: want own below a quarter of the first's %d kB, and the first's %d kB of file pages shared", second, first.own, first.file)
	}
	if again.own*4 > first.own || again.pss*10 > first.pss*7 {
		t.Errorf("first with the second alive %+v: want own below a quarter and pss below 70%% of %+v", again, first)
	}
}
