// Command yolkrun boots yolk's kernel under QEMU with a Linux program and
// relays the program's standard streams; qemu/run is a thin wrapper that
// builds and runs it. See usage.go (qemu/run -h) for the interface and
// README.md ("Running programs") for the design.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

const progName = "qemu/run"

// Exit statuses of the runner itself.
const (
	exitUsage      = 2
	exitTimeout    = 124
	exitRunner     = 125
	exitCannotExec = 126
	exitNotFound   = 127
)

// streamsByDefault: the kernel has the virtio stream console.
const streamsByDefault = true

// maxCmdline is the longest kernel command line that reaches the kernel
// on both machines (q35's PVH option ROM stops between 4000 and 4500
// bytes; the kernel keeps 4096).
const maxCmdline = 4000

// defaultPath is the program's PATH unless given, as Docker's.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func main() { os.Exit(run(os.Args[1:])) }

// failure is an error with the runner's exit status.
type failure struct {
	status int
	msg    string
}

func (f *failure) Error() string { return f.msg }

func fail(status int, format string, a ...any) error {
	return &failure{status, fmt.Sprintf(format, a...)}
}

func run(args []string) int {
	o, err := parseArgs(args, os.LookupEnv, osOpen)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\nrun '%s -h' for help\n", progName, err, progName)
		return exitUsage
	}
	if o.help {
		fmt.Print(usageText)
		return 0
	}
	if o.printRoot {
		if err := printRoot(o, repoRoot(), os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", progName, err)
			var f *failure
			if errors.As(err, &f) {
				return f.status
			}
			return exitRunner
		}
		return 0
	}
	status, err := boot(o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", progName, err)
		var f *failure
		if errors.As(err, &f) {
			return f.status
		}
		return exitRunner
	}
	return status
}

// repoRoot is the repository holding the runner: $YOLK_ROOT (set by
// qemu/run), else the parent of the directory of the executable
// (build/yolkrun).
func repoRoot() string {
	if r := os.Getenv("YOLK_ROOT"); r != "" {
		return r
	}
	exe, err := os.Executable()
	if err != nil {
		return "."
	}
	return filepath.Dir(filepath.Dir(exe))
}

// setup is everything decided before QEMU starts.
type setup struct {
	o        *options
	root     string
	qemu     string
	tmp      string
	initrd   string   // file given to QEMU, "" for none
	extra    []string // kernel words the runner adds
	terminal bool     // the program gets a terminal
	accel    string
	quitCh   chan struct{}  // closed when the user types Ctrl-A X
	prof     *profCollector // --profile
}

func (s *setup) quit() <-chan struct{} { return s.quitCh }

func boot(o *options) (int, error) {
	s := &setup{o: o, root: repoRoot(), quitCh: make(chan struct{})}
	if o.kernel == "" {
		o.kernel = filepath.Join(s.root, "build/kernel.elf")
	}
	s.qemu = os.Getenv("YOLK_QEMU")
	if s.qemu == "" {
		s.qemu = "qemu-system-x86_64"
	}
	if _, err := exec.LookPath(s.qemu); err != nil {
		return 0, fail(exitRunner, "QEMU binary '%s' not found (run scripts/setup)", s.qemu)
	}
	if f, err := os.Open(o.kernel); err != nil {
		return 0, fail(exitRunner, "kernel '%s' not found or not readable", o.kernel)
	} else {
		f.Close()
	}
	if err := checkMemory(o.kernel, o.mem); err != nil {
		return 0, err
	}
	tmp, err := os.MkdirTemp("", "yolk-run.")
	if err != nil {
		return 0, fail(exitRunner, "%v", err)
	}
	defer os.RemoveAll(tmp)
	s.tmp = tmp
	if err := s.resolveProgram(); err != nil {
		return 0, err
	}
	if err := s.resolveVolumes(); err != nil {
		return 0, err
	}
	s.terminal = o.tty == ttyOn || (o.tty == ttyAuto && isTerminal(0) && isTerminal(1))
	s.chooseAccel()
	if o.serial || !streamsByDefault {
		if o.profile != "" {
			return 0, fail(exitUsage, "--profile needs the stream console (not --serial)")
		}
		return s.runSerial()
	}
	status, err := s.runStreams()
	if err == nil && s.prof != nil {
		if perr := s.writeProfile(s.prof, o.profile); perr != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", progName, perr)
		}
	}
	return status, err
}

// resolveProgram finds the initrd and the program in it.
func (s *setup) resolveProgram() error {
	o := s.o
	if o.rootDir != "" && o.initrd == "" {
		// -R: PROGRAM is a path inside the host root (no initrd).
		if o.program != "" {
			s.extra = append(s.extra, "init="+o.program)
		}
		return nil
	}
	if o.program != "" && o.initrd == "" {
		p, err := findProgram(o.program, s.root)
		if err != nil {
			return err
		}
		st, err := os.Stat(p)
		if err != nil {
			return fail(exitNotFound, "%s: %v", o.program, err)
		}
		if st.IsDir() {
			return fail(exitCannotExec, "%s is a directory (give a root directory with -i DIR PROGRAM)", p)
		}
		dir, init, err := s.dynamicRoot(p)
		if err != nil {
			return err
		}
		if dir != "" {
			o.initrd = dir
			s.extra = append(s.extra, "init="+init)
		} else {
			o.initrd = p
			if isELF(p) {
				s.extra = append(s.extra, "init=/"+filepath.Base(p))
			}
		}
	} else if o.program != "" {
		s.extra = append(s.extra, "init="+o.program)
	}
	if o.initrd == "" {
		return nil
	}
	if o.program == "" && isFile(o.initrd) && isELF(o.initrd) {
		// -i PROGRAM, dynamically linked: the runner makes its root.
		dir, init, err := s.dynamicRoot(o.initrd)
		if err != nil {
			return err
		}
		if dir != "" {
			o.initrd = dir
			if !strings.Contains(o.kopts, "init=") {
				s.extra = append(s.extra, "init="+init)
			}
		}
	}
	st, err := os.Stat(o.initrd)
	if err != nil {
		return fail(exitRunner, "initrd '%s' not found", o.initrd)
	}
	if f, err := os.Open(o.initrd); err != nil {
		return fail(exitRunner, "initrd '%s' not readable", o.initrd)
	} else {
		f.Close()
	}
	switch {
	case st.IsDir():
		if _, err := exec.LookPath("cpio"); err != nil {
			return fail(exitRunner, "cpio not found, needed to pack directory '%s' (run scripts/setup)", o.initrd)
		}
		out := filepath.Join(s.tmp, "initrd.cpio")
		cmd := exec.Command("sh", "-c", `cd "$1" && find . | cpio -o -H newc --quiet > "$2"`, "sh", o.initrd, out)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fail(exitRunner, "packing directory '%s' into a cpio archive failed", o.initrd)
		}
		s.initrd = out
	case st.Mode().IsRegular():
		s.initrd = o.initrd
		// A program given as a file is named by its file name: argv[0]
		// and /proc/self/exe become /NAME (busybox picks its applet
		// from argv[0]).
		if o.program == "" && !strings.Contains(o.kopts, "init=") && isELF(o.initrd) {
			s.extra = append(s.extra, "init=/"+filepath.Base(o.initrd))
		}
	default:
		return fail(exitRunner, "initrd '%s' is neither a file nor a directory", o.initrd)
	}
	return nil
}

// findProgram resolves PROGRAM on the host: a path when it holds a slash,
// else a name in build/examples, then in PATH.
func findProgram(name, root string) (string, error) {
	if strings.Contains(name, "/") {
		if _, err := os.Stat(name); err != nil {
			return "", fail(exitNotFound, "%s: no such file", name)
		}
		return name, nil
	}
	if p := filepath.Join(root, "build/examples", name); isFile(p) {
		return p, nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fail(exitNotFound, "%s: not found in build/examples or PATH", name)
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func isELF(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [4]byte
	_, err = io.ReadFull(f, b[:])
	return err == nil && bytes.Equal(b[:], []byte("\x7fELF"))
}

// chooseAccel picks KVM or TCG as scripts/kvmcheck says, and says which.
func (s *setup) chooseAccel() {
	check := func() (string, string) {
		kc := filepath.Join(s.root, "scripts/kvmcheck")
		if _, err := os.Stat(kc); err != nil {
			return "tcg", "scripts/kvmcheck not found"
		}
		var why bytes.Buffer
		cmd := exec.Command(kc)
		cmd.Stderr = &why
		out, err := cmd.Output()
		accel := strings.TrimSpace(string(out))
		reason, _, _ := strings.Cut(why.String(), "\n")
		if err != nil || accel != "kvm" {
			if reason == "" {
				reason = "scripts/kvmcheck gave no reason"
			}
			return "tcg", reason
		}
		return "kvm", "/dev/kvm usable"
	}
	var why string
	if s.o.accel == "" {
		s.accel, why = check()
	} else {
		s.accel, why = s.o.accel, "forced with -A "+s.o.accel
		if s.accel == "kvm" {
			if a, reason := check(); a != "kvm" {
				fmt.Fprintf(os.Stderr, "%s: warning: -A kvm forced, but scripts/kvmcheck says KVM is not usable: %s\n", progName, reason)
			}
		}
	}
	if !s.o.quiet {
		fmt.Fprintf(os.Stderr, "%s: using %s (%s)\n", progName, strings.ToUpper(s.accel), why)
	}
}

// env is the program's environment as passed to the kernel: the given
// variables, then PATH and (with a terminal) TERM unless given.
func (s *setup) env() []string {
	env := append([]string{}, s.o.env...)
	has := func(name string) bool {
		for _, e := range env {
			if strings.HasPrefix(e, name+"=") {
				return true
			}
		}
		return false
	}
	if !has("PATH") {
		env = append(env, "PATH="+defaultPath)
	}
	if s.terminal && !has("TERM") {
		if t := os.Getenv("TERM"); t != "" {
			env = append(env, "TERM="+t)
		}
	}
	return env
}

// qemuArgs are QEMU's arguments shared by both console modes.
func (s *setup) qemuArgs(cmdline string) ([]string, error) {
	if len(cmdline) > maxCmdline {
		return nil, fail(exitUsage, "the kernel command line (arguments, environment, options) is %d bytes, more than the %d that reach the kernel", len(cmdline), maxCmdline)
	}
	cpu := "max"
	if s.accel == "kvm" {
		cpu = "host"
	}
	accel := s.accel
	smp := max(s.o.smp, 1)
	if accel == "tcg" && smp > 1 {
		accel += ",thread=multi" // one host thread per vCPU
	}
	a := []string{
		"-M", s.o.machine, "-accel", accel, "-cpu", cpu, "-m", s.o.mem,
		"-smp", strconv.Itoa(smp),
		"-display", "none", "-no-reboot",
		"-kernel", s.o.kernel,
	}
	a = append(a, s.netArgs()...) // ports.go
	if s.initrd != "" {
		a = append(a, "-initrd", s.initrd)
	}
	a = append(a, "-append", cmdline,
		"-device", "isa-debug-exit,iobase=0xf4,iosize=4",
		"-device", "isa-debugcon,iobase=0xe9,chardev=yolkstatus",
		"-chardev", "file,id=yolkstatus,path="+qemuEscape(s.statusFile()))
	a = append(a, s.shareArgs()...)
	if s.o.gdbPort != 0 {
		a = append(a, "-gdb", "tcp::"+strconv.Itoa(s.o.gdbPort))
	}
	if s.o.paused {
		a = append(a, "-S")
	}
	return a, nil
}

func (s *setup) statusFile() string { return filepath.Join(s.tmp, "status") }

// qemuEscape doubles commas, QEMU's option separator.
func qemuEscape(v string) string { return strings.ReplaceAll(v, ",", ",,") }

// exitStatus turns how QEMU ended into the run's status: the status the
// kernel wrote to debugcon, else what isa-debug-exit made QEMU exit with
// ((status << 1) | 1, so only 7 bits), else a failure. QEMU's own errors
// also exit 1, which isa-debug-exit would give for status 0; without a
// status line, 1 is taken as an error.
func (s *setup) exitStatus(ps *os.ProcessState) (int, error) {
	if b, err := os.ReadFile(s.statusFile()); err == nil {
		lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(string(b), "\r", "")), "\n")
		last := lines[len(lines)-1]
		if n, err := strconv.Atoi(last); err == nil && n >= 0 && n <= 255 && len(last) <= 3 {
			return n, nil
		}
	}
	rc := ps.ExitCode()
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 0, fail(exitRunner, "qemu killed by signal %d", ws.Signal())
	}
	if rc%2 == 1 && rc != 1 {
		return rc >> 1, nil
	}
	if rc == 0 {
		return 0, fail(exitRunner, "kernel powered off without reporting a status (or QEMU was quit)")
	}
	return 0, fail(exitRunner, "qemu failed (status %d)", rc)
}
