package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ttyMode says whether the program gets a terminal.
type ttyMode int

const (
	ttyAuto ttyMode = iota // a terminal when the runner's stdin and stdout are one
	ttyOn                  // -t
	ttyOff                 // -T is taken (timeout): --no-tty
)

// options are the parsed command line.
type options struct {
	kernel, initrd string
	args           string // -a: kernel command-line syntax, passed after "--"
	haveArgs       bool
	env            []string // NAME=VALUE, from -e and --env-file in order
	kopts          string   // -o
	mem, machine   string
	gdbPort        int
	paused         bool
	accel          string // "", kvm or tcg
	timeout        time.Duration
	quiet          bool
	help           bool
	tty            ttyMode
	serial         bool   // --serial: everything over the serial console
	logFile        string // -L: kernel messages and traces
	program        string // PROGRAM: "" when not given
	progArgs       []string
	volumes        []volume  // -v, in order: share0, share1 ...
	workdir        string    // -w
	rootDir        string    // -R: a host directory is the whole root
	printRoot      bool      // --print-root: list the root built for a dynamic program
	network        string    // -n: "user" (QEMU user networking; -p implies it), "tap=IFNAME", "none" or "" (none)
	ports          []portFwd // -p, in order
	profile        string    // --profile FILE: write a pprof CPU profile of the program
	profileHz      int       // --profile-hz: samples a second (0: the kernel's default)
	smp            int       // --smp: virtual CPUs (default YOLK_SMP; 0 is 1)
}

// volume is a host directory shared with the guest (-v).
type volume struct {
	host, guest string
	readOnly    bool
	root        bool // -R: the root, not a mount
}

// usageError is a bad command line (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// parseArgs parses the runner's arguments: flags (getopts style: -qP,
// -T60, -T 60; long flags --name or --name=value), then PROGRAM and its
// arguments, which are taken as they are. getenv resolves --env-file
// lines without a value; open reads the env file.
func parseArgs(args []string, getenv func(string) (string, bool), open func(string) (io.ReadCloser, error)) (*options, error) {
	o := &options{mem: "256M", machine: "microvm"}
	if getenv == nil {
		getenv = func(string) (string, bool) { return "", false }
	}
	if v, ok := getenv("YOLK_SMP"); ok && v != "" {
		if err := o.setSMP(v, "YOLK_SMP"); err != nil {
			return nil, err
		}
	}
	withArg := "kiaeomMgATLvwRpn"
	boolean := "Pqht"
	i := 0
	for i < len(args) {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		i++
		if strings.HasPrefix(a, "--") {
			name, val, hasVal := strings.Cut(a[2:], "=")
			switch name {
			case "help", "tty", "no-tty", "serial", "print-root":
				if hasVal {
					return nil, usagef("--%s takes no value", name)
				}
				switch name {
				case "help":
					o.help = true
				case "tty":
					o.tty = ttyOn
				case "no-tty":
					o.tty = ttyOff
				case "serial":
					o.serial = true
				case "print-root":
					o.printRoot = true
				}
			case "env-file", "log", "profile", "profile-hz", "smp":
				if !hasVal {
					if i >= len(args) {
						return nil, usagef("--%s needs an argument", name)
					}
					val = args[i]
					i++
				}
				switch name {
				case "log":
					o.logFile = val
					continue
				case "profile":
					if val == "" {
						return nil, usagef("--profile wants a file name")
					}
					o.profile = val
					continue
				case "smp":
					if err := o.setSMP(val, "--smp"); err != nil {
						return nil, err
					}
					continue
				case "profile-hz":
					n, err := strconv.Atoi(val)
					if err != nil || n < 1 || n > 10000 {
						return nil, usagef("--profile-hz wants a rate from 1 to 10000 samples a second, got '%s'", val)
					}
					o.profileHz = n
					continue
				}
				if err := o.readEnvFile(val, getenv, open); err != nil {
					return nil, err
				}
			default:
				return nil, usagef("unknown flag --%s", name)
			}
			continue
		}
		for j := 1; j < len(a); j++ {
			c := a[j]
			switch {
			case strings.IndexByte(boolean, c) >= 0:
				switch c {
				case 'P':
					o.paused = true
				case 'q':
					o.quiet = true
				case 'h':
					o.help = true
				case 't':
					o.tty = ttyOn
				}
			case strings.IndexByte(withArg, c) >= 0:
				val := a[j+1:]
				if val == "" {
					if i >= len(args) {
						return nil, usagef("-%c needs an argument", c)
					}
					val = args[i]
					i++
				}
				if err := o.set(c, val); err != nil {
					return nil, err
				}
				j = len(a)
			default:
				return nil, usagef("unknown flag -%c", c)
			}
		}
	}
	if i < len(args) {
		o.program = args[i]
		if len(args) > i+1 {
			o.progArgs = args[i+1:]
		}
		if o.program == "" {
			return nil, usagef("empty PROGRAM")
		}
		if o.haveArgs && len(o.progArgs) > 0 {
			return nil, usagef("give the program's arguments either with -a or after PROGRAM, not both")
		}
	}
	if err := o.checkNetwork(); err != nil {
		return nil, err
	}
	return o, nil
}

// maxSMP is the most virtual CPUs --smp gives (the kernel's
// amd64.MaxCPUs).
const maxSMP = 16

// setSMP sets the number of virtual CPUs from v (what names where it
// came from, for the error).
func (o *options) setSMP(v, what string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxSMP {
		return usagef("%s wants a number of CPUs from 1 to %d, got '%s'", what, maxSMP, v)
	}
	o.smp = n
	return nil
}

// set applies a flag that takes a value.
func (o *options) set(c byte, v string) error {
	switch c {
	case 'k':
		o.kernel = v
	case 'i':
		o.initrd = v
	case 'a':
		o.args, o.haveArgs = v, true
	case 'e':
		return o.addEnv(v, "-e")
	case 'o':
		o.kopts = v
	case 'm':
		o.mem = v
	case 'M':
		if v != "microvm" && v != "q35" {
			return usagef("-M wants microvm or q35, got '%s'", v)
		}
		o.machine = v
	case 'g':
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 || strings.TrimLeft(v, "0123456789") != "" {
			return usagef("-g wants a TCP port number, got '%s'", v)
		}
		o.gdbPort = n
	case 'A':
		if v != "kvm" && v != "tcg" {
			return usagef("-A wants kvm or tcg, got '%s'", v)
		}
		o.accel = v
	case 'T':
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || len(v) > 9 || strings.TrimLeft(v, "0123456789") != "" {
			return usagef("-T wants a positive whole number of seconds, got '%s'", v)
		}
		o.timeout = time.Duration(n) * time.Second
	case 'L':
		o.logFile = v
	case 'v':
		return o.addVolume(v)
	case 'p':
		return o.addPort(v)
	case 'n':
		return o.setNetwork(v)
	case 'R':
		o.rootDir = v
	case 'w':
		if !strings.HasPrefix(v, "/") {
			return usagef("-w wants an absolute guest path, got '%s'", v)
		}
		o.workdir = v
	}
	return nil
}

// addVolume parses HOSTDIR:GUESTPATH[:ro|:rw].
func (o *options) addVolume(v string) error {
	parts := strings.Split(v, ":")
	bad := func() error { return usagef("-v wants HOSTDIR:GUESTPATH[:ro], got '%s'", v) }
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
		case "rw":
		default:
			return bad()
		}
	} else if len(parts) != 2 {
		return bad()
	}
	vol := volume{host: parts[0], guest: parts[1], readOnly: len(parts) == 3 && parts[2] == "ro"}
	if vol.host == "" || !strings.HasPrefix(vol.guest, "/") {
		return bad()
	}
	o.volumes = append(o.volumes, vol)
	return nil
}

// addEnv adds NAME=VALUE; the value may hold anything.
func (o *options) addEnv(kv, from string) error {
	name, _, ok := strings.Cut(kv, "=")
	if !ok || !envName.MatchString(name) {
		return usagef("%s wants NAME=VALUE, got '%s'", from, kv)
	}
	o.env = append(o.env, kv)
	return nil
}

// readEnvFile reads docker's env-file format: NAME=VALUE lines taken
// literally, NAME alone for the runner's own value (skipped when unset),
// blank lines and lines starting with # ignored.
func (o *options) readEnvFile(path string, getenv func(string) (string, bool), open func(string) (io.ReadCloser, error)) error {
	f, err := open(path)
	if err != nil {
		return usagef("--env-file: %v", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Buffer(nil, 1<<20)
	for n := 1; s.Scan(); n++ {
		line := strings.TrimSuffix(s.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimLeft(line, " \t"), "#") {
			continue
		}
		if !strings.Contains(line, "=") {
			name := strings.TrimSpace(line)
			if !envName.MatchString(name) {
				return usagef("--env-file %s:%d: bad variable name '%s'", path, n, name)
			}
			if v, ok := getenv(name); ok {
				o.env = append(o.env, name+"="+v)
			}
			continue
		}
		if err := o.addEnv(strings.TrimLeft(line, " \t"), fmt.Sprintf("--env-file %s:%d", path, n)); err != nil {
			return err
		}
	}
	return s.Err()
}

func osOpen(p string) (io.ReadCloser, error) { return os.Open(p) }
