package tests

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestStraceOptions: strace=OPTS on the kernel command line filters by
// class, prefixes [pid N] once there are several processes, adds -T
// durations, and -c prints strace's table at the end.
func TestStraceOptions(t *testing.T) {
	dir := processRoot(t)
	t.Run("trace=process", func(t *testing.T) {
		t.Parallel()
		r := run(t, "-i", dir, "-o", "strace=-f,-T,-e,trace=process", "/bin/sh", "-c", "echo hi | cat; exit 3")
		if r.status != 3 {
			t.Errorf("exit status %d, want 3", r.status)
		}
		if !regexp.MustCompile(`(?m)^\[pid +\d+\] clone\(.*\) = \d+ <\d+\.\d{6}>$`).MatchString(r.out) {
			t.Errorf("no [pid N] clone line with a duration:\n%s", r.out)
		}
		if strings.Contains(r.out, "rt_sigaction(") || strings.Contains(r.out, "write(") {
			t.Errorf("calls outside the process class were traced:\n%s", r.out)
		}
		if !strings.Contains(r.out, "exit_group(3) = ?") {
			t.Errorf("no exit_group(3) line:\n%s", r.out)
		}
	})
	t.Run("-c", func(t *testing.T) {
		t.Parallel()
		r := run(t, "-i", dir, "-o", "strace=-c", "/bin/sh", "-c", "ls / >/dev/null")
		if !strings.Contains(r.out, "% time     seconds  usecs/call     calls    errors syscall") ||
			!regexp.MustCompile(`(?m)^ +\d+\.\d\d +\d+\.\d{6} +\d+ +\d+ +\d* *getdents64$`).MatchString(r.out) ||
			!regexp.MustCompile(`(?m)^100\.00 .* total$`).MatchString(r.out) {
			t.Errorf("no strace -c table with getdents64 and a total:\n%s", r.out)
		}
		if strings.Contains(r.out, "getdents64(") {
			t.Errorf("-c printed call lines")
		}
	})
}

// runSplit is run with the program's stdout and the runner's stderr
// apart.
func runSplit(t *testing.T, flags ...string) (stdout, stderr string, status int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := append([]string{"-q", "-A", "tcg", "-k", filepath.Join(root, "build/kernel.elf"), "-T", "240"}, flags...)
	cmd := exec.CommandContext(ctx, filepath.Join(root, "qemu/run"), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		status = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("qemu/run %v: %v", flags, err)
	}
	t.Logf("qemu/run %s -> %d\nstdout:\n%s\nstderr:\n%s", strings.Join(flags, " "), status, out.String(), errb.String())
	return out.String(), errb.String(), status
}

var traceLine = regexp.MustCompile(`^(?:\[pid +(\d+)\] |(\d+) +)?([a-z_0-9]+)\(`)

// TestStraceThreads: the syntax on a threaded program
// (examples/threads: three threads open files, then a child process):
// only process and file calls, each with its thread id once there are
// several, the program's stdout the same byte for byte as without
// tracing; -o FILE puts the lines in FILE and nothing on stderr; -C's
// table (lines and table in one run, as strace -C) counts exactly the
// lines of each call.
func TestStraceThreads(t *testing.T) {
	mk := exec.Command("make", "-C", root, "examples")
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make examples: %v\n%s", err, out)
	}
	const want = "/tmp/thread-0: made\n/tmp/thread-1: made\n/tmp/thread-2: made\nchild exited with 7\n"
	prog := filepath.Join(root, "build/examples/threads")
	t.Run("trace=process,file", func(t *testing.T) {
		t.Parallel()
		out, errs, st := runSplit(t, "-o", "strace=-f,-e trace=process,file", prog)
		if st != 0 || out != want {
			t.Fatalf("status %d, stdout %q; want 0, %q", st, out, want)
		}
		allowed := map[string]bool{}
		for _, n := range []string{"clone", "clone3", "fork", "vfork", "execve", "exit", "exit_group", "wait4", "waitid", "kill", "tgkill", "tkill",
			"openat", "open", "access", "newfstatat", "stat", "lstat", "statx", "readlink", "readlinkat", "unlink", "unlinkat", "faccessat", "faccessat2"} {
			allowed[n] = true
		}
		openers := map[string]bool{}
		sawClone := false
		for _, l := range strings.Split(strings.TrimSuffix(errs, "\n"), "\n") {
			m := traceLine.FindStringSubmatch(l)
			if m == nil {
				t.Errorf("not a trace line: %q", l)
				continue
			}
			if !allowed[m[3]] {
				t.Errorf("%s traced: %q", m[3], l)
			}
			if m[3] == "openat" && strings.Contains(l, "/tmp/thread-") {
				if m[1] == "" {
					t.Errorf("a thread's line without [pid N]: %q", l)
				}
				openers[m[1]] = true
			}
			sawClone = sawClone || m[3] == "clone3" || m[3] == "clone"
		}
		if len(openers) != 3 || openers["1"] || !sawClone {
			t.Errorf("the three files were opened by threads %v, want three others than 1 (clone seen: %v)", openers, sawClone)
		}
	})
	t.Run("-o and -C", func(t *testing.T) {
		t.Parallel()
		file := filepath.Join(t.TempDir(), "trace.txt")
		out, errs, st := runSplit(t, "-o", "strace=-f,-C,-o,"+file, prog)
		if st != 0 || out != want {
			t.Fatalf("status %d, stdout %q; want 0, %q", st, out, want)
		}
		if strings.Contains(errs, "(") {
			t.Errorf("trace lines on stderr with -o:\n%s", errs)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		i := strings.Index(text, "% time     seconds  usecs/call     calls    errors syscall\n")
		if i < 0 {
			t.Fatalf("no -C table in the trace file:\n%s", text)
		}
		lines, table := text[:i], text[i:]
		counted := map[string]int{}
		for _, l := range strings.Split(strings.TrimSuffix(lines, "\n"), "\n") {
			m := traceLine.FindStringSubmatch(l)
			if m == nil || m[1] != "" || m[2] == "" {
				t.Errorf("not an -f -o line (PID name(...)): %q", l)
				continue
			}
			counted[m[3]]++
		}
		row := regexp.MustCompile(`(?m)^ *\d+\.\d\d +\d+\.\d{6} +\d+ +(\d+) +(?:\d+ +)?([a-z_0-9]+)$`)
		inTable := map[string]int{}
		total := 0
		for _, m := range row.FindAllStringSubmatch(table, -1) {
			if m[2] == "total" {
				continue
			}
			n, _ := strconv.Atoi(m[1])
			inTable[m[2]] = n
			total += n
		}
		if total == 0 || !reflect.DeepEqual(inTable, counted) {
			t.Errorf("table counts %v, lines %v", inTable, counted)
		}
		if !regexp.MustCompile(`(?m)^100\.00 +\d+\.\d{6} +` + strconv.Itoa(total) + ` +(\d+ +)?total$`).MatchString(table) {
			t.Errorf("no total of %d:\n%s", total, table)
		}
	})
}
