package kernel

import (
	"strconv"
	"strings"
)

// Options is the parsed kernel command line (QEMU -append):
//
//	[option ...] [env.NAME=value ...] [-- arg ...]
//
// Options before "--" configure the kernel; env.NAME=value words become
// the program's environment; the words after "--" are the program's
// argv[1:]. Double quotes group words with spaces ("a b"), and a
// backslash escapes the next character.
type Options struct {
	Selftest  bool   // run the built-in self-test and power off
	Bootstats bool   // print the time from entry to each boot stage
	Strace    bool   // print each program syscall, strace style
	StraceOpt string // strace=OPTS: strace's options, commas for spaces
	Debug     bool   // print each program syscall request, shim style
	ProfileHz int    // profile[=HZ]: sample the program HZ times a second (default 100)
	Init      string // init=PATH: the program to run from a cpio initrd
	CrashTest string // crashtest=nil|ud: fault in kernel code on purpose (tests the crash report)
	Stdio     string // stdio=virtio: the program's streams on the virtio console (qemu/run)
	TTY       bool   // tty: with stdio=virtio, fds 0-2 are a terminal
	Rows      uint16 // winsize=ROWSxCOLS: the terminal's size at boot
	Cols      uint16
	Mounts    []Mount  // mount=TAG:PATH[:ro]: a virtio-9p share at PATH
	RootShare string   // rootshare=TAG: a virtio-9p share is the root (read-only, with a writable layer)
	Cwd       string   // cwd=DIR: the program's working directory
	P9Probe   bool     // p9probe: exercise each virtio-9p share and power off
	Net       []string // net=off|static, net.ip=, net.gw=, net.dns=, net.ip6=, net.gw6= (package net's ParseConfig)
	Env       []string
	Args      []string // the program's argv[1:]
	Ignored   []string // unknown options, reported and otherwise ignored
}

// ParseCmdline parses a kernel command line.
func ParseCmdline(s string) Options {
	var o Options
	words := splitWords(s)
	for i := 0; i < len(words); i++ {
		w := words[i]
		if w == "--" {
			o.Args = append([]string{}, words[i+1:]...)
			break
		}
		switch {
		case w == "selftest":
			o.Selftest = true
		case w == "bootstats":
			o.Bootstats = true
		case w == "strace":
			o.Strace = true
		case strings.HasPrefix(w, "strace="):
			o.Strace, o.StraceOpt = true, w[len("strace="):]
			// strace's own spacing (qemu/run -o "strace=-f,-e trace=file"):
			// an option left waiting for its value takes the next word.
			for i+1 < len(words) && words[i+1] != "--" && straceWantsValue(o.StraceOpt) {
				i++
				o.StraceOpt += "," + words[i]
			}
		case w == "profile":
			o.ProfileHz = DefaultProfileHz
		case strings.HasPrefix(w, "profile=") && parseHz(w[len("profile="):], &o):
		case w == "debug":
			o.Debug = true
		case strings.HasPrefix(w, "crashtest="):
			o.CrashTest = w[len("crashtest="):]
		case strings.HasPrefix(w, "stdio="):
			o.Stdio = w[len("stdio="):]
		case w == "tty":
			o.TTY = true
		case strings.HasPrefix(w, "winsize=") && parseWinsize(w[len("winsize="):], &o):
		case strings.HasPrefix(w, "mount=") && parseMount(w[len("mount="):], &o):
		case strings.HasPrefix(w, "rootshare=") && len(w) > len("rootshare="):
			o.RootShare = w[len("rootshare="):]
		case strings.HasPrefix(w, "cwd=") && len(w) > len("cwd="):
			o.Cwd = w[len("cwd="):]
		case w == "p9probe":
			o.P9Probe = true
		case w == "net" || strings.HasPrefix(w, "net=") || strings.HasPrefix(w, "net."):
			o.Net = append(o.Net, w)
		case strings.HasPrefix(w, "init="):
			o.Init = w[len("init="):]
		case strings.HasPrefix(w, "env.") && strings.Contains(w, "="):
			o.Env = append(o.Env, w[len("env."):])
		default:
			o.Ignored = append(o.Ignored, w)
		}
	}
	return o
}

// straceWantsValue reports whether strace options end with an option
// whose value is the next word (-e, -o).
func straceWantsValue(opts string) bool {
	last := opts[strings.LastIndexByte(opts, ',')+1:]
	return last == "-e" || last == "-o"
}

// splitWords splits on blanks, honouring double quotes and backslashes.
func splitWords(s string) []string {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == '"':
			quoted = !quoted
			inWord = true
		case (c == ' ' || c == '\t' || c == '\n') && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// parseWinsize parses ROWSxCOLS into o.
func parseWinsize(s string, o *Options) bool {
	r, c, ok := strings.Cut(s, "x")
	rows, err1 := strconv.ParseUint(r, 10, 16)
	cols, err2 := strconv.ParseUint(c, 10, 16)
	if !ok || err1 != nil || err2 != nil {
		return false
	}
	o.Rows, o.Cols = uint16(rows), uint16(cols)
	return true
}

// Mount is a mount= option: the virtio-9p share with mount tag Tag at
// the absolute path Path, read-only if ReadOnly.
type Mount struct {
	Tag      string
	Path     string
	ReadOnly bool
}

// parseMount parses TAG:PATH[:ro] into o.
func parseMount(s string, o *Options) bool {
	tag, rest, ok := strings.Cut(s, ":")
	if !ok || tag == "" {
		return false
	}
	m := Mount{Tag: tag, Path: rest}
	if p, ok := strings.CutSuffix(rest, ":ro"); ok {
		m.Path, m.ReadOnly = p, true
	} else if p, ok := strings.CutSuffix(rest, ":rw"); ok {
		m.Path = p
	}
	if !strings.HasPrefix(m.Path, "/") {
		return false
	}
	o.Mounts = append(o.Mounts, m)
	return true
}

// DefaultProfileHz is the sampling rate of -append profile, pprof's.
const DefaultProfileHz = 100

// parseHz parses a sampling rate (1 to 10000 a second) into o.
func parseHz(s string, o *Options) bool {
	hz, err := strconv.Atoi(s)
	if err != nil || hz < 1 || hz > 10000 {
		return false
	}
	o.ProfileHz = hz
	return true
}
