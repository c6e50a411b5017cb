// Package tests boots the kernel under QEMU (TCG) and checks what a user
// sees: output and exit status. It builds build/kernel.elf with make
// first. Without qemu-system-x86_64 the tests skip, unless
// YOLK_REQUIRE_QEMU=1 (as in CI), where they fail.
package tests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var root string

func TestMain(m *testing.M) {
	wd, _ := os.Getwd()
	root = filepath.Dir(wd)
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		if os.Getenv("YOLK_REQUIRE_QEMU") == "1" {
			fmt.Fprintln(os.Stderr, "tests: qemu-system-x86_64 not found and YOLK_REQUIRE_QEMU=1")
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "tests: qemu-system-x86_64 not found; skipping QEMU tests")
		os.Exit(0)
	}
	cmd := exec.Command("make", "-C", root, "kernel")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "tests: make kernel:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// inputPause in runInput's input stands for a three-second pause (a boot
// takes about one under TCG).
const inputPause = "\x00pause\x00"

type result struct {
	out    string
	status int
}

// run boots the kernel with qemu/run and the given flags.
func run(t *testing.T, flags ...string) result {
	t.Helper()
	return runInput(t, "", flags...)
}

// runInput is run with input as the console's input (stdin of QEMU's
// serial port), written in pieces separated by pauses where input holds
// inputPause.
func runInput(t *testing.T, input string, flags ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := append([]string{"-q", "-A", "tcg", "-k", filepath.Join(root, "build/kernel.elf"), "-T", "240"}, flags...)
	cmd := exec.CommandContext(ctx, filepath.Join(root, "qemu/run"), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if input != "" {
		// An *os.File, so that exec copies nothing and Run does not wait
		// for the writer.
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer pr.Close()
		cmd.Stdin = pr
		go func() {
			for i, piece := range strings.Split(input, inputPause) {
				if i > 0 {
					time.Sleep(3 * time.Second)
				}
				pw.Write([]byte(piece))
			}
			// Keep stdin open: end of input is not end of file on a
			// serial line.
		}()
		defer pw.Close()
	}
	err := cmd.Run()
	status := 0
	if ee, ok := err.(*exec.ExitError); ok {
		status = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("qemu/run %v: %v", flags, err)
	}
	s := strings.ReplaceAll(out.String(), "\r\n", "\n")
	t.Logf("qemu/run %s -> %d\n%s", strings.Join(flags, " "), status, s)
	return result{s, status}
}

var summary = regexp.MustCompile(`(?m)^selftest: (\d+) passed, (\d+) failed$`)

func TestSelftest(t *testing.T) {
	for _, c := range []struct{ machine, mem string }{
		{"microvm", "256M"}, {"q35", "256M"}, {"microvm", "64M"}, {"q35", "32M"},
	} {
		t.Run(c.machine+"-"+c.mem, func(t *testing.T) {
			t.Parallel()
			before := time.Now()
			r := run(t, "-M", c.machine, "-m", c.mem, "-o", "selftest bootstats no-such-option")
			after := time.Now()
			if r.status != 0 {
				t.Errorf("exit status %d, want 0", r.status)
			}
			m := summary.FindStringSubmatch(r.out)
			if m == nil || m[2] != "0" {
				t.Fatalf("no passing summary line in output")
			}
			if n, _ := strconv.Atoi(m[1]); n < 8 {
				t.Errorf("%s checks passed, want at least 8", m[1])
			}
			if !strings.Contains(r.out, `yolk: ignoring unknown option "no-such-option"`) {
				t.Errorf("unknown option not reported")
			}
			if !strings.Contains(r.out, "yolk:   kernel main") {
				t.Errorf("bootstats not printed")
			}
			now := regexp.MustCompile(`now=(\d+)`).FindStringSubmatch(r.out)
			if now == nil {
				t.Fatalf("no wall-clock line")
			}
			sec, _ := strconv.ParseInt(now[1], 10, 64)
			if sec < before.Unix()-2 || sec > after.Unix()+2 {
				t.Errorf("guest time %d outside host interval [%d, %d] ± 2 s", sec, before.Unix(), after.Unix())
			}
		})
	}
}

// TestTooLittleMemory: below the least memory the kernel takes, the run
// ends with status 113 and one line that says so: the kernel's (12M,
// and 15M just below its 16 MiB), or the runner's when the kernel image
// itself does not fit (8M: QEMU would load it past the end of RAM and
// the kernel would never run).
func TestTooLittleMemory(t *testing.T) {
	for _, c := range []struct{ mem, want string }{
		{"8M", "qemu/run: -m 8M is too little memory: the kernel image alone (" + filepath.Join(root, "build/kernel.elf") + ") ends at "},
		{"12M", "yolk: need at least 16 MiB of memory, have 12 MiB ("},
		{"15M", "yolk: need at least 16 MiB of memory, have 15 MiB ("},
	} {
		t.Run(c.mem, func(t *testing.T) {
			t.Parallel()
			r := run(t, "-m", c.mem, "-o", "selftest")
			if r.status != 113 {
				t.Errorf("exit status %d, want 113", r.status)
			}
			if lines := strings.Split(strings.TrimRight(r.out, "\n"), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], c.want) {
				t.Errorf("output %q: want one line starting %q", r.out, c.want)
			}
		})
	}
}

// TestHelloSmallMemory: hello runs in 16 MiB, the least the kernel
// takes, on both machines.
func TestHelloSmallMemory(t *testing.T) {
	for _, machine := range []string{"microvm", "q35"} {
		t.Run(machine, func(t *testing.T) {
			t.Parallel()
			r := run(t, "-M", machine, "-m", "16M", example(t, "helloworld"))
			if r.status != 0 || r.out != "Hello world!\n" {
				t.Errorf("status %d, output %q; want 0 and %q", r.status, r.out, "Hello world!\n")
			}
		})
	}
}

func TestNoProgram(t *testing.T) {
	t.Parallel()
	r := run(t)
	if r.status != 127 {
		t.Errorf("exit status %d, want 127", r.status)
	}
}

func TestKernelCrashReport(t *testing.T) {
	for _, c := range []struct{ opt, want, insn string }{
		{"crashtest=nil", "yolk: kernel fault: #PF page fault (vector 14), error 0x2: not-present write from kernel mode", "movq $0x1,(%rax)"},
		{"crashtest=ud", "yolk: kernel fault: #UD invalid opcode (vector 6)", "ud2"},
	} {
		t.Run(c.opt, func(t *testing.T) {
			t.Parallel()
			r := run(t, "-o", c.opt)
			if r.status != 112 {
				t.Errorf("exit status %d, want 112", r.status)
			}
			for _, w := range []string{c.want, "instruction: " + c.insn, "  rip 0x", "rax 0x", "fs.base 0x"} {
				if !strings.Contains(r.out, w) {
					t.Errorf("crash report lacks %q", w)
				}
			}
			if !regexp.MustCompile(`rip 0xffffffff8[0-9a-f]+ (main\.main|yolk/amd64\.UD2)\+0x`).MatchString(r.out) {
				t.Errorf("crash report lacks the Go function containing RIP")
			}
		})
	}
}

// TestGDB attaches gdb to a paused boot, breaks at the program's main
// and at a kernel Go function, and checks both backtraces (with source
// lines through kernel Go code), that the program's output is streamed
// and its exit status reported, and that gdb starts without auto-load
// warnings.
func TestGDB(t *testing.T) {
	needTool(t, "gdb")
	t.Parallel()
	mk := exec.Command("make", "-C", root, "examples")
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make examples: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts/gdb"), "-A", "tcg",
		"-k", filepath.Join(root, "build/kernel.elf"), "-i", filepath.Join(root, "build/examples/helloworld"),
		"--", "-batch", "-ex", "break main", "-ex", "continue", "-ex", "bt",
		"-ex", "break yolk/syscallshim.sysWrite", "-ex", "continue", "-ex", "bt")
	out, err := cmd.CombinedOutput()
	s := string(out)
	t.Logf("%s", s)
	if err != nil {
		t.Fatalf("scripts/gdb: %v", err)
	}
	for _, want := range []string{
		"Breakpoint 2, main () at",
		"#0  main () at",
		"Breakpoint 3, yolk/syscallshim.sysWrite",
		"syscallshim/dispatch.go:", // bt through kernel Go code has lines
		"Hello world!\n",
		"scripts/gdb: the program exited with status 0\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("gdb session lacks %q", want)
		}
	}
	if strings.Contains(s, "auto-load") || strings.Contains(s, "warning:") {
		t.Errorf("gdb session has warnings")
	}
}

// needTool fails (YOLK_REQUIRE_QEMU=1) or skips without a program.
func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("YOLK_REQUIRE_QEMU") == "1" {
			t.Fatalf("%s not installed (scripts/setup installs it)", name)
		}
		t.Skipf("%s not installed", name)
	}
}

// tmuxSession is scripts/gdb at a terminal: a tmux session of its own
// (a private server), where scripts/gdb splits the window into gdb's
// pane (0) and the program's (1).
type tmuxSession struct {
	t    *testing.T
	sock string
}

func newTmux(t *testing.T, command string) *tmuxSession {
	needTool(t, "tmux")
	x := &tmuxSession{t, fmt.Sprintf("yolk-test-%d-%d", os.Getpid(), time.Now().UnixNano())}
	if out, err := x.cmd("new-session", "-d", "-s", "t", "-x", "160", "-y", "50", command+"; sleep 600").CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		t.Logf("gdb pane:\n%s\nprogram pane:\n%s", x.pane(0), x.pane(1))
		x.cmd("kill-server").Run()
	})
	return x
}

func (x *tmuxSession) cmd(args ...string) *exec.Cmd {
	return exec.Command("tmux", append([]string{"-L", x.sock}, args...)...)
}

// pane is what pane i shows.
func (x *tmuxSession) pane(i int) string {
	out, _ := x.cmd("capture-pane", "-p", "-J", "-S", "-200", "-t", fmt.Sprintf("t:0.%d", i)).Output()
	return string(out)
}

// keys types into pane i (tmux send-keys: words like Enter and C-c are keys).
func (x *tmuxSession) keys(i int, keys ...string) {
	x.t.Helper()
	if out, err := x.cmd(append([]string{"send-keys", "-t", fmt.Sprintf("t:0.%d", i)}, keys...)...).CombinedOutput(); err != nil {
		x.t.Fatalf("tmux send-keys: %v\n%s", err, out)
	}
}

// wait waits until pane i shows want (a regular expression).
func (x *tmuxSession) wait(i int, want string, d time.Duration) {
	x.t.Helper()
	re := regexp.MustCompile(want)
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if re.MatchString(x.pane(i)) {
			return
		}
	}
	x.t.Fatalf("pane %d does not show %q after %v:\n%s", i, want, d, x.pane(i))
}

// TestGDBPanes: at a terminal, make debug's scripts/gdb keeps the
// program's console live in its own pane while gdb is attached: the
// program's output appears when it is written (not when gdb quits), its
// exit status is shown, and an interactive shell can be used, stopped
// and resumed from gdb.
func TestGDBPanes(t *testing.T) {
	needTool(t, "gdb")
	t.Parallel()
	mk := exec.Command("make", "-C", root, "examples")
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make examples: %v\n%s", err, out)
	}
	gdb := filepath.Join(root, "scripts/gdb") + " -A tcg -k " + filepath.Join(root, "build/kernel.elf")
	t.Run("helloworld", func(t *testing.T) {
		t.Parallel()
		x := newTmux(t, gdb+" -i "+filepath.Join(root, "build/examples/helloworld")+" -- -ex 'break main' -ex continue")
		x.wait(0, `Breakpoint 2, main \(\) at examples/helloworld/helloworld.c:5`, 3*time.Minute)
		if p := x.pane(1); strings.Contains(p, "Hello") {
			t.Fatalf("output before main ran:\n%s", p)
		}
		x.keys(0, "next", "Enter")
		x.wait(0, `helloworld.c:6|\n6\s`, time.Minute)
		x.wait(1, `(?m)^Hello world!$`, time.Minute) // written, while gdb holds the program
		x.keys(0, "continue", "Enter")
		x.wait(1, `scripts/gdb: the program exited with status 0`, time.Minute)
		if p := x.pane(0); strings.Contains(p, "auto-load") || strings.Contains(p, "warning:") {
			t.Errorf("gdb's pane has warnings:\n%s", p)
		}
	})
	t.Run("busybox sh", func(t *testing.T) {
		t.Parallel()
		x := newTmux(t, gdb+" busybox sh -- -ex continue")
		x.wait(1, `(?m)^/ #`, 3*time.Minute)
		x.keys(1, "echo hi-$((6*7))", "Enter")
		x.wait(1, `(?m)^hi-42$`, time.Minute)
		x.keys(0, "C-c")
		x.wait(0, `(?m)^\(gdb\)`, time.Minute) // the machine is stopped
		x.keys(1, "echo back-$((2*3))", "Enter")
		time.Sleep(3 * time.Second)
		if strings.Contains(x.pane(1), "back-6") {
			t.Fatalf("the shell ran while gdb had stopped the machine")
		}
		x.keys(0, "continue", "Enter")
		x.wait(1, `(?m)^back-6$`, time.Minute)
		x.keys(1, "exit 7", "Enter")
		x.wait(1, `scripts/gdb: the program exited with status 7`, time.Minute)
	})
}
