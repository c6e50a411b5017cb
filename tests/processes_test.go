package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// processRoot is a cpio root with busybox (its applets as links under
// /bin), the processes and goexec examples, a non-executable /etc/data
// and a few *.txt files.
func processRoot(t *testing.T) string {
	t.Helper()
	const bb = "/bin/busybox"
	if _, err := os.Stat(bb); err != nil {
		t.Fatalf("%s missing (install busybox-static; scripts/setup does): %v", bb, err)
	}
	dir := t.TempDir()
	copyFile(t, bb, filepath.Join(dir, "bin/busybox"))
	for _, a := range []string{"sh", "echo", "ls", "wc", "cat", "sleep", "find", "xargs", "md5sum",
		"sort", "tr", "seq", "true", "false", "head", "kill", "test"} {
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", a)); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, example(t, "processes"), filepath.Join(dir, "processes"))
	copyFile(t, example(t, "goexec"), filepath.Join(dir, "goexec"))
	writeTree(t, dir, map[string]string{
		"etc/data":      "data\n",
		"etc/a.txt":     "hello\n",
		"home/b.txt":    "world\n",
		"home/sub/c.md": "not txt\n",
		"script.sh":     script,
	})
	if err := os.Chmod(filepath.Join(dir, "script.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// script uses what a shell script does: command substitution, pipelines,
// a background job and wait, subshell status, functions, loops,
// redirections between descriptors, a #! script run by exec, and find
// piped into xargs.
const script = `#!/bin/sh
echo $(echo hi)
ls /home | wc -l
sleep 1 & wait
echo "waited $?"
(exit 3); echo $?
greet() { echo "hello $1"; }
for n in one two three; do greet $n; done | sort | tr a-z A-Z
i=0
while [ $i -lt 3 ]; do i=$((i+1)); done; echo "i=$i"
echo to-stderr 1>&2 2>/dev/null
{ echo out; echo err >&2; } 2>&1 | wc -l
false || echo "false failed"
find / -name '*.txt' | sort | xargs md5sum
sh -c 'kill -TERM $$'; echo "killed: $?"
exec echo "exec'd"
`

// scriptOut is what Linux prints for script in processRoot (checked
// with busybox sh on Linux against the same tree).
const scriptOut = `hi
2
waited 0
3
HELLO ONE
HELLO THREE
HELLO TWO
i=3
to-stderr
2
false failed
b1946ac92492d2347c6235b4d2611184  /etc/a.txt
591785b794601e212b260e25925636fd  /home/b.txt
Terminated
killed: 143
exec'd
`

// TestProcessesShell runs a shell script with pipelines, jobs and
// subshells: every external command is a fork and an execve.
func TestProcessesShell(t *testing.T) {
	dir := processRoot(t)
	for _, machine := range []string{"microvm", "q35"} {
		t.Run(machine, func(t *testing.T) {
			t.Parallel()
			r := run(t, "-M", machine, "-i", dir, "-o", "init=/script.sh")
			expect(t, r, 0, scriptOut)
		})
	}
}

// devRounds is the first lines of fastpath devices: the same calls three
// times, the first of each going to the syscall shim and the next ones
// answered in yolk's trap handler.
var devRounds = func() (s string) {
	for i := range 3 {
		s += fmt.Sprintf("round %d: read zero 100 (100 zeros, then 'x'), null 0 ('x'); write null 5, unmapped 7, zero 3; "+
			"read 0 bytes 0; read write-only -1 Bad file descriptor; write read-only -1 Bad file descriptor\n", i)
	}
	return s
}()

// TestFastPath runs examples/fastpath's checks of the system calls
// yolk answers without its syscall shim; each prints what it found,
// which must be what Linux gives.
func TestFastPath(t *testing.T) {
	for _, c := range []struct{ name, out string }{
		{"fsgsbase", "GS base kept by three threads: yes yes yes\nin a signal handler: the same\n" +
			"forked child inherits it: yes\nFS base kept: yes\narch_prctl ARCH_SET_GS: 0, GS base then it, ARCH_GET_GS it\n"},
		{"devices", devRounds + "read 8192 bytes: 8192 zeros\ninto a read-only page: -1 Bad address\n" +
			"read-only then writable: -1 Bad address\nunmapped: -1 Bad address\ndup2 of a pipe over it: 2 hi\n" +
			"closed: -1 Bad file descriptor\nchild: right; parent's still open: 4\nreader thread: after zeros, 1 'Z', then 0\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			expect(t, run(t, "-i", example(t, "fastpath"), "-a", c.name), 0, c.out)
		})
	}
}

// TestProcesses runs examples/processes' checks; each prints what it
// prints on Linux.
func TestProcesses(t *testing.T) {
	dir := processRoot(t)
	for _, c := range []struct{ name, out string }{
		{"fork1000", "1000 children reaped\nframes back\n"},
		{"cow", "child status 0\nfork shared the pages: y\n"},
		{"munmap-race", "write ended short or with EFAULT\nwritev ended short or with EFAULT\n"},
		{"read-race", "read into an unmapped buffer: EFAULT\n"},
		{"setgid", "setgid returned\nwaiter joined\n"},
		{"kill", "status 143\n"},
		{"threads", "pthread_create: Resource temporarily unavailable after more than 1000 threads\njoined\n"},
		{"spawn", "spawned\nhi from system\nsystem: 7\n"},
		{"exec", "missing: No such file or directory\nnot executable: Permission denied\nexec'd\n"},
		{"timers", "timer: 5 ticks, siginfo right: yes, interval kept: yes\n"},
		{"cputime", "busy: CPU time over half the wall time, not above it: yes\nsleep: under a tenth of it: yes\ngetrusage's user time is most of the clock's: yes\nchild's time in wait4: yes\nand in RUSAGE_CHILDREN: yes\nopen and close: system time over a third of the wall time: yes; user and system within it: yes\nand in times: yes\nSIGPROF while busy: several: yes; while asleep: none\n"},
		{"exec-threads", "exec from threads\nstatus 5\n"},
		{"exe", "exe=/processes comm=processes\nexe=/processes comm=processes\nexe=/processes comm=p\n"},
		{"bigmap", "48 TiB at -1: failed\nticks kept coming: yes\n"},
		{"identity", "child: own pid yes, parent's pid as ppid yes, tid = pid yes\nthread: own tid yes\n" +
			"grandchild adopted: yes\nthread saw uid 1000\nsignal 10 taken while spinning on getpid\n"},
		{"clock", "monotonic: ordered with the vDSO yes\ninto an unbacked page: 0, year > 2000 yes\n" +
			"child's copy-on-write page: written, parent's still 7: yes\nread-only page: -1 Bad address\n" +
			"unmapped: -1 Bad address\nunknown clock: -1 Invalid argument\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, "-i", dir, "-o", "init=/processes", "-a", c.name)
			expect(t, r, 0, c.out)
		})
	}
}

// TestProcessesGoExec runs Go's os/exec: output, exit status, a pipeline
// through an os.Pipe, a missing program and the program itself again.
func TestProcessesGoExec(t *testing.T) {
	dir := processRoot(t)
	r := run(t, "-i", dir, "-o", "init=/goexec")
	expect(t, r, 0, `output "x\n", err <nil>
exit status 3
pipeline "5"
missing: fork/exec /bin/nope: no such file or directory
self: "child\n", err <nil>
`)
}
