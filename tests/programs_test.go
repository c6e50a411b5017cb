package tests

// QEMU tests that run the programs under examples/ (built by
// `make examples` into build/examples/) and Debian's static busybox, and
// compare their exact output and exit status. Kernel and runner lines
// ("yolk: ...", "qemu/run: ...") are filtered out before comparing what
// the program printed.

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var (
	examplesOnce sync.Once
	examplesErr  error
	examplesOut  []byte
)

// examples builds the example programs once per test binary and returns
// the directory holding them.
func examples(t *testing.T) string {
	t.Helper()
	examplesOnce.Do(func() {
		cmd := exec.Command("make", "-C", root, "examples")
		examplesOut, examplesErr = cmd.CombinedOutput()
	})
	if examplesErr != nil {
		t.Fatalf("make examples: %v\n%s", examplesErr, examplesOut)
	}
	return filepath.Join(root, "build/examples")
}

// example returns the path of the built example program name.
func example(t *testing.T, name string) string {
	t.Helper()
	return filepath.Join(examples(t), name)
}

// progOut returns the program's part of a run's output: every line that
// does not come from the kernel ("yolk:") or the runner ("qemu/run:").
func progOut(out string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(out, "\n") {
		if l == "" || strings.HasPrefix(l, "yolk:") || strings.HasPrefix(l, "qemu/run:") {
			continue
		}
		b.WriteString(l)
	}
	return b.String()
}

// firmwareBanner is what SeaBIOS writes to the serial console on -M q35
// before it boots the kernel (its serial console, enabled by QEMU's
// -nographic): a terminal reset, the version line and "Booting from
// ROM..", with no newline before the kernel's first output.
var firmwareBanner = regexp.MustCompile(`^(?s:\x1bc.*?SeaBIOS \(version [^)]*\)\n)?Booting from ROM\.\.`)

// expect checks the exit status and the program's exact output.
func expect(t *testing.T, r result, status int, out string) {
	t.Helper()
	if r.status != status {
		t.Errorf("exit status %d, want %d", r.status, status)
	}
	if got := progOut(r.out); got != out {
		t.Errorf("program output:\n%q\nwant:\n%q", got, out)
	}
}

func TestProgramHelloworld(t *testing.T) {
	hello := example(t, "helloworld")
	for _, machine := range []string{"microvm", "q35"} {
		t.Run(machine, func(t *testing.T) {
			t.Parallel()
			r := run(t, "-M", machine, "-i", hello)
			r.out = firmwareBanner.ReplaceAllString(r.out, "")
			expect(t, r, 0, "Hello world!\n")
		})
	}
}

func TestProgramGetcpu(t *testing.T) {
	t.Parallel()
	r := run(t, "-i", example(t, "getcpu"))
	expect(t, r, 0, "Here we are in the binary, calling getcpu\nGetcpu returned: 0\n")
}

func TestProgramExitcode(t *testing.T) {
	prog := example(t, "exitcode")
	for _, n := range []int{0, 1, 42, 127, 128, 200, 255} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			expect(t, run(t, "-i", prog, "-a", strconv.Itoa(n)), n, "")
		})
	}
}

// TestProgramOutputs runs the examples that print fixed lines and exit 0:
// Go (static and static-PIE), C++ with an exception, musl static-PIE and
// a glibc static non-PIE executable.
func TestProgramOutputs(t *testing.T) {
	for _, c := range []struct{ name, out string }{
		{"goroutines", "goroutines: 10 workers done, sum=45\n"},
		{"goroutines-pie", "goroutines: 10 workers done, sum=45\n"},
		{"cxx", "hello from C++\ncaught: boom\n"},
		{"musl", "hello from musl\n"},
		{"static", "hello from a static binary\n"},
	} {
		prog := example(t, c.name)
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			expect(t, run(t, "-i", prog), 0, c.out)
		})
	}
}

// TestProgramGoPreempt needs asynchronous preemption: a goroutine spins
// without calls under GOMAXPROCS=1, and main prints only if the runtime's
// SIGURG handler runs. -T 60 (the last -T wins) bounds the hang.
func TestProgramGoPreempt(t *testing.T) {
	t.Parallel()
	r := run(t, "-i", example(t, "preempt"), "-T", "60")
	expect(t, r, 0, "preempt: main ran while a goroutine spun\n")
}

func TestProgramNullDeref(t *testing.T) {
	t.Parallel()
	r := run(t, "-i", example(t, "nullderef"))
	if r.status != 139 {
		t.Errorf("exit status %d, want 139 (SIGSEGV)", r.status)
	}
	if !strings.Contains(r.out, "about to crash\n") {
		t.Errorf(`output lacks "about to crash"`)
	}
	if strings.Contains(r.out, "still alive") {
		t.Errorf("the program survived the NULL write")
	}
	fault := regexp.MustCompile(`(?m)^nullderef\[\d+\]: segfault at 0 ip 0x[0-9a-f]+ sp 0x[0-9a-f]+ error 6 in main\+0x[0-9a-f]+ \(SIGSEGV\)$`)
	if !fault.MatchString(r.out) {
		t.Errorf("no fault line matching %s", fault)
	}
	// GCC turns the NULL store into "store 0, then ud2"
	// (-fisolate-erroneous-paths-dereference).
	insn := regexp.MustCompile(`(?m)^  instruction: movl \$0x0,0x0  \[c7 04 25 00 00 00 00 00 00 00 00\]$`)
	if !insn.MatchString(r.out) {
		t.Errorf("no instruction line matching %s", insn)
	}
}

func TestProgramKernelWrite(t *testing.T) {
	t.Parallel()
	r := run(t, "-i", example(t, "kernelwrite"))
	if r.status != 139 {
		t.Errorf("exit status %d, want 139 (SIGSEGV)", r.status)
	}
	if !strings.Contains(r.out, "writing to the kernel\n") {
		t.Errorf(`output lacks "writing to the kernel"`)
	}
	if strings.Contains(r.out, "kernel write succeeded") {
		t.Errorf("the program wrote to the kernel image and survived")
	}
	// Present but supervisor-only: error 7 (present|write|user); 5 if the
	// kernel image were mapped read-only to the program.
	fault := regexp.MustCompile(`(?m)^kernelwrite\[\d+\]: segfault at ffffffff80200000 ip 0x[0-9a-f]+ sp 0x[0-9a-f]+ error [57] in main\+0x[0-9a-f]+ \(SIGSEGV\)$`)
	if !fault.MatchString(r.out) {
		t.Errorf("no fault line matching %s", fault)
	}
	if !regexp.MustCompile(`(?m)^  instruction: mov %rax,.*  \[48 89 04 25 00 00 20 80\]$`).MatchString(r.out) {
		t.Errorf("no instruction line for the faulting mov")
	}
}

func TestProgramArgs(t *testing.T) {
	prog := example(t, "args")
	for _, c := range []struct {
		name  string
		flags []string
		out   string
	}{
		// qemu/run names a raw ELF initrd init=/BASENAME: argv[0] is /args.
		{"args-env", []string{"-a", "x y", "-e", "YOLK_TEST=hello"},
			"argc=3\nargv[0]=/args\nargv[1]=x\nargv[2]=y\nYOLK_TEST=hello\n"},
		{"none", nil,
			"argc=1\nargv[0]=/args\nYOLK_TEST=(unset)\n"},
		{"init", []string{"-o", "init=/renamed", "-a", "one", "-e", "YOLK_TEST=a=b"},
			"argc=2\nargv[0]=/renamed\nargv[1]=one\nYOLK_TEST=a=b\n"},
		// The kernel splits on blanks, groups with double quotes and
		// takes a backslash as escaping one character; single quotes
		// are ordinary characters.
		{"quoting", []string{"-a", `a\ b "c d" e\"f 'g h' "" z`},
			"argc=8\nargv[0]=/args\nargv[1]=a b\nargv[2]=c d\nargv[3]=e\"f\nargv[4]='g\nargv[5]=h'\nargv[6]=\nargv[7]=z\nYOLK_TEST=(unset)\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			expect(t, run(t, append([]string{"-i", prog}, c.flags...)...), 0, c.out)
		})
	}
}

// TestProgramDynamic runs the dynamically linked example from a root
// holding its interpreter and libc (Debian's, as the host has them), and
// from a root without them: status 127 and a line naming the interpreter.
func TestProgramDynamic(t *testing.T) {
	prog := example(t, "dynamic")
	t.Run("with its libraries", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		copyFile(t, prog, filepath.Join(dir, "dynamic"))
		for _, lib := range []string{"/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6"} {
			real, err := filepath.EvalSymlinks(lib)
			if err != nil {
				t.Fatal(err)
			}
			copyFile(t, real, filepath.Join(dir, lib))
		}
		expect(t, run(t, "-i", dir, "-o", "init=/dynamic"), 0, "hello from a dynamic binary\n")
	})
	t.Run("without its interpreter", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		copyFile(t, prog, filepath.Join(dir, "dynamic"))
		r := run(t, "-i", dir, "-o", "init=/dynamic")
		if r.status != 127 {
			t.Errorf("exit status %d, want 127", r.status)
		}
		if !regexp.MustCompile(`(?m)^yolk: /dynamic: .*interpreter /lib64/ld-linux-x86-64\.so\.2`).MatchString(r.out) {
			t.Errorf("no yolk: line naming the program and its interpreter:\n%s", r.out)
		}
	})
}

// TestProgramNotELF gives the kernel initrds that are not programs: a text
// file and an ELF cut short after 100 bytes. Both must be refused with
// status 126 and a message saying why.
func TestProgramNotELF(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "text.txt")
	if err := os.WriteFile(text, []byte("this is not a program\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hello, err := os.ReadFile(example(t, "helloworld"))
	if err != nil {
		t.Fatal(err)
	}
	trunc := filepath.Join(dir, "truncated")
	if err := os.WriteFile(trunc, hello[:100], 0o755); err != nil {
		t.Fatal(err)
	}
	// Foreign ELF files made from helloworld: the class byte (32-bit) and
	// e_machine (AArch64) changed; and a static ELF linked at address 0,
	// below what a program may map.
	mutate := func(name string, edit func(b []byte)) string {
		b := append([]byte(nil), hello...)
		edit(b)
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, b, 0o755); err != nil {
			t.Fatal(err)
		}
		return f
	}
	elf32 := mutate("elf32", func(b []byte) { b[4] = 1 })
	arm := mutate("arm", func(b []byte) { b[18], b[19] = 183, 0 })
	low := filepath.Join(dir, "low")
	src := filepath.Join(dir, "low.c")
	if err := os.WriteFile(src, []byte("void _start(void) { for (;;); }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("gcc", "-static", "-no-pie", "-nostdlib", "-Wl,-Ttext-segment=0x0", "-o", low, src).CombinedOutput(); err != nil {
		t.Logf("cannot link at address 0 (%v: %s); skipping that case", err, out)
		low = ""
	}
	cases := []struct{ name, initrd, msg string }{
		{"text", text, `(?m)^yolk: .*neither an ELF program nor a newc cpio archive`},
		{"truncated", trunc, `(?m)^yolk: /truncated: truncated ELF file`},
		{"32-bit", elf32, `(?m)^yolk: /elf32: .*32-bit`},
		{"aarch64", arm, `(?m)^yolk: /arm: .*not x86-64`},
	}
	if low != "" {
		cases = append(cases, struct{ name, initrd, msg string }{"address-0", low, `(?m)^yolk: /low: .*overlaps`})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, "-i", c.initrd)
			expect(t, r, 126, "")
			if !regexp.MustCompile(c.msg).MatchString(r.out) {
				t.Errorf("no message matching %s", c.msg)
			}
		})
	}
}

// writeTree creates files (path -> content; a path ending in "/" is a
// directory) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, p)
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// copyFile copies the program src to dst (mode 0755).
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestBusybox runs Debian's static busybox (busybox-static) from a cpio
// root built from a directory, with init=/bin/busybox: busybox picks the
// applet from argv[0], so the kernel's argv[0] must be the init= path,
// and the applet is then argv[1].
func TestBusybox(t *testing.T) {
	const bb = "/bin/busybox"
	if _, err := os.Stat(bb); err != nil {
		if os.Getenv("YOLK_REQUIRE_QEMU") == "1" {
			t.Fatalf("%s missing (install busybox-static): %v", bb, err)
		}
		t.Skipf("%s missing (install busybox-static)", bb)
	}
	dir := t.TempDir()
	copyFile(t, bb, filepath.Join(dir, "bin/busybox"))
	writeTree(t, dir, map[string]string{
		"etc/hostname": "yolk\n",
		"data/a.txt":   "alpha\n",
		"data/b.txt":   "bravo\n",
		"data/sub/":    "",
	})
	words := func(s string) []string { f := strings.Fields(s); slices.Sort(f); return f }
	for _, c := range []struct {
		name, args string
		check      func(t *testing.T, out string)
	}{
		{"echo", "echo hi", func(t *testing.T, out string) {
			if out != "hi\n" {
				t.Errorf("output %q, want %q", out, "hi\n")
			}
		}},
		// ls prints in columns or one name a line, as isatty(1) says:
		// compare the set of names.
		{"ls-root", "ls /", func(t *testing.T, out string) {
			// The initrd's directories and the kernel's mount points.
			if got, want := words(out), []string{"bin", "data", "dev", "etc", "proc", "sys", "tmp"}; !slices.Equal(got, want) {
				t.Errorf("ls / listed %q, want %q", got, want)
			}
		}},
		{"ls-dir", "ls /data", func(t *testing.T, out string) {
			if got, want := words(out), []string{"a.txt", "b.txt", "sub"}; !slices.Equal(got, want) {
				t.Errorf("ls /data listed %q, want %q", got, want)
			}
		}},
		// Double quotes group for the kernel; $((...)) reaches sh intact.
		{"sh-arith", `sh -c "echo $((6*7))"`, func(t *testing.T, out string) {
			if out != "42\n" {
				t.Errorf("output %q, want %q", out, "42\n")
			}
		}},
		// What argv sh gets: the script, then $0 and $1.
		{"sh-argv", `sh -c "echo \"$# <$0> <$1>\"; echo $((6*7))" zero "one two"`, func(t *testing.T, out string) {
			if want := "1 <zero> <one two>\n42\n"; out != want {
				t.Errorf("output %q, want %q", out, want)
			}
		}},
		// /dev exists without the initrd: redirections and random bytes.
		{"dev", `sh -c "echo hidden > /dev/null; echo shown 2>/dev/null"`, func(t *testing.T, out string) {
			if want := "shown\n"; out != want {
				t.Errorf("output %q, want %q", out, want)
			}
		}},
		{"dev-zero", "head -c 4 /dev/zero", func(t *testing.T, out string) {
			if want := "\x00\x00\x00\x00"; out != want {
				t.Errorf("output %q, want %q", out, want)
			}
		}},
		// A few /proc files and statfs of the writable root.
		{"proc", "cat /proc/self/status /proc/mounts", func(t *testing.T, out string) {
			for _, want := range []string{"Name:\tbusybox\n", "Pid:\t1\n", "overlay / overlay rw 0 0\n", "tmpfs /tmp tmpfs rw 0 0\n", "proc /proc proc rw 0 0\n"} {
				if !strings.Contains(out, want) {
					t.Errorf("output %q lacks %q", out, want)
				}
			}
		}},
		{"proc-sys", "cat /proc/sys/kernel/ostype /proc/sys/kernel/hostname /proc/sys/vm/overcommit_memory /proc/1/comm", func(t *testing.T, out string) {
			if want := "Linux\nyolk\n0\nbusybox\n"; out != want {
				t.Errorf("output %q, want %q", out, want)
			}
		}},
		{"df", "df /", func(t *testing.T, out string) {
			if !regexp.MustCompile(`(?m)^overlay\s+\d+\s+\d+\s+\d+\s+\d+% /$`).MatchString(out) {
				t.Errorf("df / printed %q", out)
			}
		}},
		// ping as root uses a raw ICMP socket: loopback answers.
		{"ping", "ping -c 2 127.0.0.1", func(t *testing.T, out string) {
			if !regexp.MustCompile(`(?m)^64 bytes from 127\.0\.0\.1: seq=1 ttl=64 time=`).MatchString(out) ||
				!strings.Contains(out, "2 packets transmitted, 2 packets received, 0% packet loss") {
				t.Errorf("ping printed %q", out)
			}
		}},
		{"cat", "cat /etc/hostname", func(t *testing.T, out string) {
			if out != "yolk\n" {
				t.Errorf("output %q, want %q", out, "yolk\n")
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, "-i", dir, "-o", "init=/bin/busybox", "-a", c.args)
			if r.status != 0 {
				t.Errorf("exit status %d, want 0", r.status)
			}
			c.check(t, progOut(r.out))
		})
	}
}

// TestExampleFiles runs examples/files from a cpio root with known
// content: a small file, a file larger than its 4 KiB read buffer, a
// directory listing and stat results, including a missing path.
func TestExampleFiles(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, example(t, "files"), filepath.Join(dir, "files"))
	var big strings.Builder
	for i := range 600 {
		big.WriteString("line " + strconv.Itoa(1000+i) + "\n") // 10 bytes a line
	}
	writeTree(t, dir, map[string]string{
		"etc/hostname":      "yolk\n",
		"etc/dir/zeta":      "z",
		"etc/dir/alpha":     "",
		"etc/dir/mid.txt":   "0123456789",
		"etc/dir/sub/":      "",
		"etc/dir/sub/inner": "x",
		"var/big.txt":       big.String(),
	})
	// The root's size is its upper (tmpfs) layer's, 20 bytes an entry as
	// on Linux: ".", "..", dev, proc, tmp and etc (copied up when yolk
	// adds the resolver files to it).
	for _, c := range []struct {
		name, args, out string
	}{
		{"small", "/etc/hostname /etc/dir /etc/dir/mid.txt /etc/dir/sub /missing /",
			"--- /etc/hostname (5 bytes)\nyolk\n--- end\n" +
				"dir /etc/dir: 4 entries\nentry alpha\nentry mid.txt\nentry sub\nentry zeta\n" +
				"stat /etc/hostname: size=5 regular=yes dir=no\n" +
				"stat /etc/dir: size=0 regular=no dir=yes\n" +
				"stat /etc/dir/mid.txt: size=10 regular=yes dir=no\n" +
				"stat /etc/dir/sub: size=0 regular=no dir=yes\n" +
				"stat /missing: error ENOENT\n" +
				"stat /: size=140 regular=no dir=yes\n"},
		{"big", "/var/big.txt /",
			"--- /var/big.txt (6000 bytes)\n" + big.String() + "--- end\n" +
				"dir /: 7 entries\nentry dev\nentry etc\nentry files\nentry proc\nentry sys\nentry tmp\nentry var\n" +
				"stat /var/big.txt: size=6000 regular=yes dir=no\n" +
				"stat /: size=140 regular=no dir=yes\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			expect(t, run(t, "-i", dir, "-o", "init=/files", "-a", c.args), 0, c.out)
		})
	}
}

// TestProgramCpioNoInit boots cpio roots whose init is missing or not a
// program: no /init (and no init=) or a missing init= path is status 127,
// an init= that is a directory, has no execute permission or is not an ELF
// file is 126; each with a message naming the path.
func TestProgramCpioNoInit(t *testing.T) {
	examples(t)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"etc/hostname": "yolk\n", "empty/": "", "bin/text": "yolk\n"})
	if err := os.Chmod(filepath.Join(dir, "bin/text"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		flags  []string
		status int
		msg    string
	}{
		{"default", nil, 127, "yolk: /init: no such file or directory"},
		{"missing", []string{"-o", "init=/bin/nope"}, 127, "yolk: /bin/nope: no such file or directory"},
		{"directory", []string{"-o", "init=/empty"}, 126, "yolk: /empty: not a regular file"},
		{"not executable", []string{"-o", "init=/etc/hostname"}, 126, "yolk: /etc/hostname: permission denied"},
		{"text", []string{"-o", "init=/bin/text"}, 126, "yolk: /bin/text: not an ELF file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, append([]string{"-i", dir}, c.flags...)...)
			expect(t, r, c.status, "")
			if !strings.Contains(r.out, c.msg+"\n") {
				t.Errorf("output lacks %q", c.msg)
			}
		})
	}
}

// TestProgramSignals: a handler for raise(), a SA_SIGINFO SIGSEGV handler
// on an alternate stack left with siglongjmp, FPU state restored by
// rt_sigreturn, and abort() ending the program with 128+SIGABRT.
func TestProgramSignals(t *testing.T) {
	t.Parallel()
	r := run(t, "-i", example(t, "signals"))
	expect(t, r, 134, "SIGUSR1 handler ran: 10\n"+
		"signal 11 (code 1) at 0x10\n"+
		"recovered from SIGSEGV\n"+
		"floating point intact: 17.0859\n")
}

// TestProgramPosix: pipes (EOF, EPIPE), ITIMER_REAL with pause and an
// interrupted nanosleep, the read-only root and wait without children.
func TestProgramPosix(t *testing.T) {
	t.Parallel()
	r := run(t, "-i", example(t, "posix"))
	expect(t, r, 0, "pipe: ping\n"+
		"read at EOF: 0\n"+
		"write without reader: -1 Broken pipe\n"+
		"pause returned after 1 alarm(s): Interrupted system call\n"+
		"nanosleep: -1 Interrupted system call, most left\n"+
		"mkdir: created\n"+
		"wait: No child processes\n")
}

// TestProgramFaults: each CPU exception in the program gives Linux's
// report shape with the decoded instruction and symbol, and 128+signal.
func TestProgramFaults(t *testing.T) {
	for _, c := range []struct {
		arg    string
		status int
		line   string
		insn   string
	}{
		{"pf", 139, `faults\[1\]: segfault at 0 ip 0x[0-9a-f]{16} sp 0x[0-9a-f]{16} error 6 in main\+0x[0-9a-f]+ \(SIGSEGV\)`, `mov.*,0x0  \[`},
		{"ud", 132, `faults\[1\]: trap invalid opcode ip 0x[0-9a-f]{16} sp 0x[0-9a-f]{16} error 0 in main\+0x[0-9a-f]+ \(SIGILL\)`, `ud2  \[0f 0b\]`},
		{"de", 136, `faults\[1\]: trap divide error ip 0x[0-9a-f]{16} sp 0x[0-9a-f]{16} error 0 in main\+0x[0-9a-f]+ \(SIGFPE\)`, `div %ecx  \[f7 f1\]`},
		{"gp", 139, `faults\[1\]: general protection fault ip 0x[0-9a-f]{16} sp 0x[0-9a-f]{16} error 0 in main\+0x[0-9a-f]+ \(SIGSEGV\)`, `hlt  \[f4\]`},
		{"bp", 133, `faults\[1\]: trap #BP breakpoint ip 0x[0-9a-f]{16} .*\(SIGTRAP\)`, ``},
	} {
		t.Run(c.arg, func(t *testing.T) {
			t.Parallel()
			r := run(t, "-i", example(t, "faults"), "-a", c.arg)
			if r.status != c.status {
				t.Errorf("status %d, want %d", r.status, c.status)
			}
			if !regexp.MustCompile(`(?m)^` + c.line + `$`).MatchString(r.out) {
				t.Errorf("no report line matching %s", c.line)
			}
			if !regexp.MustCompile(`(?m)^  instruction: .*` + c.insn).MatchString(r.out) {
				t.Errorf("no instruction line matching %s", c.insn)
			}
			if strings.Contains(r.out, "still alive") {
				t.Error("the program survived its fault")
			}
		})
	}
}

// TestProgramConsoleInput: the console's line discipline: a line typed
// with a correction reaches fgets, echoed; ^D on an empty line is end of
// file; ^C sends SIGINT (status 130).
func TestProgramConsoleInput(t *testing.T) {
	for _, c := range []struct {
		name, input string
		status      int
		want        string
	}{
		{"line", "alicx\x7fe\r", 0, "hello, alice\n"},
		{"eof", "\x04", 1, "EOF\n"},
		{"interrupt", "wait\r" + inputPause + "\x03", 130, "hello, wait\n"},
		// SA_RESTART: the handler runs and the read goes on.
		{"restart", inputPause + "\x03" + inputPause + "bob\r", 0, "hello, bob\nread went on after signal 2\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			flags := []string{"-t", "-i", example(t, "readline")} // a terminal, though stdin is a pipe
			if c.name == "restart" {
				flags = append(flags, "-a", "restart")
			}
			r := runInput(t, c.input, flags...)
			if r.status != c.status {
				t.Errorf("status %d, want %d", r.status, c.status)
			}
			if !strings.Contains(r.out, c.want) {
				t.Errorf("output lacks %q", c.want)
			}
			if strings.Contains(r.out, "not interrupted") {
				t.Error("^C did not interrupt the sleep")
			}
		})
	}
}

// TestProgramRust: a Rust std program (poll on fds 0-2 at start, a thread,
// args). Built only where rustc is installed.
func TestProgramRust(t *testing.T) {
	example(t, "helloworld") // builds the examples
	bin := filepath.Join(root, "build/examples/rust")
	if _, err := os.Stat(bin); err != nil {
		t.Skip("no rustc: the rust example was not built")
	}
	t.Parallel()
	r := run(t, "-i", bin, "-a", "a b")
	expect(t, r, 0, "rust: sum of squares 285\nrust: args [\"a\", \"b\"]\n")
}
