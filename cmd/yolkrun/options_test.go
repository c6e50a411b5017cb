package main

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/quick"
	"time"

	"yolk/kernel"
)

func noEnv(string) (string, bool) { return "", false }

func files(m map[string]string) func(string) (io.ReadCloser, error) {
	return func(p string) (io.ReadCloser, error) {
		s, ok := m[p]
		if !ok {
			return nil, errors.New("no such file")
		}
		return io.NopCloser(strings.NewReader(s)), nil
	}
}

func TestParseArgs(t *testing.T) {
	for _, c := range []struct {
		args []string
		want options
	}{
		{nil, options{}},
		{[]string{"-qP", "-T60", "-M", "q35", "-m", "64M", "-A", "tcg", "-g", "1234"},
			options{quiet: true, paused: true, timeout: 60 * time.Second, machine: "q35", mem: "64M", accel: "tcg", gdbPort: 1234}},
		{[]string{"-k", "k.elf", "-i", "prog", "-a", `x "y z"`, "-o", "strace selftest"},
			options{kernel: "k.elf", initrd: "prog", args: `x "y z"`, haveArgs: true, kopts: "strace selftest"}},
		{[]string{"-e", "A=b c", "-eB=", "-e", "C=x=y\n$z"}, options{env: []string{"A=b c", "B=", "C=x=y\n$z"}}},
		{[]string{"busybox", "sh", "-c", "echo $HOME", "-q"},
			options{program: "busybox", progArgs: []string{"sh", "-c", "echo $HOME", "-q"}}},
		{[]string{"-t", "--", "-weird", "a"}, options{tty: ttyOn, program: "-weird", progArgs: []string{"a"}}},
		{[]string{"--no-tty", "--serial", "-L", "log", "--help", "p"}, options{tty: ttyOff, serial: true, logFile: "log", help: true, program: "p"}},
		{[]string{"--log=l2", "--tty", "-h"}, options{logFile: "l2", tty: ttyOn, help: true}},
		{[]string{"--print-root", "ls", "-l"}, options{printRoot: true, program: "ls", progArgs: []string{"-l"}}},
		{[]string{"--env-file", "envs", "-e", "Z=1", "--env-file=envs"},
			options{env: []string{"A=1", "B= spaced \"q\" ", "HOMEISH=/h", "Z=1", "A=1", "B= spaced \"q\" ", "HOMEISH=/h"}}},
	} {
		got, err := parseArgs(c.args, func(n string) (string, bool) {
			if n == "HOMEISH" {
				return "/h", true
			}
			return "", false
		}, files(map[string]string{"envs": "# comment\nA=1\n\n  B= spaced \"q\" \nHOMEISH\nUNSETVAR\n"}))
		if err != nil {
			t.Errorf("%q: %v", c.args, err)
			continue
		}
		want := c.want
		if want.mem == "" {
			want.mem = "256M"
		}
		if want.machine == "" {
			want.machine = "microvm"
		}
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("%q:\n got %+v\nwant %+v", c.args, *got, want)
		}
	}
}

func TestParseArgsErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-x"}, {"-k"}, {"-M", "pc"}, {"-A", "hvf"}, {"-T", "0"}, {"-T", "1.5"}, {"-T", "-3"},
		{"-g", "0"}, {"-g", "70000"}, {"-g", "+1"}, {"-e", "1A=b"}, {"-e", "novalue"},
		{"--bogus"}, {"--help=yes"}, {"--env-file"}, {"--env-file", "missing"},
		{"-a", "x", "prog", "arg"}, {""},
	} {
		_, err := parseArgs(args, noEnv, files(nil))
		var ue *usageError
		if !errors.As(err, &ue) {
			t.Errorf("%q: error %v, want a usage error", args, err)
		}
	}
}

// TestQuoting: every argv word and environment value the runner quotes
// comes out of the kernel's command-line parser unchanged.
func TestQuoting(t *testing.T) {
	words := []string{"", " ", "a b", `"`, `\`, `\"`, `'x'`, "$HOME", "--", "-- x", "tab\there",
		"new\nline", "\xff\x01", `a\ b "c d"`, "env.X=y", "selftest", "init=/x"}
	check := func(args []string, env []string) bool {
		for _, w := range append(append([]string{}, args...), env...) {
			if strings.IndexByte(w, 0) >= 0 {
				return true // argv words cannot hold NUL
			}
		}
		var envs []string
		for i, v := range env {
			envs = append(envs, string(rune('A'+i%26))+"="+v)
		}
		line := kernelCmdline("strace", []string{"init=/p q"}, envs, false, "", args)
		o := kernel.ParseCmdline(line)
		if len(args) == 0 {
			args = nil
		}
		if !reflect.DeepEqual(o.Args, args) || !reflect.DeepEqual(o.Env, envs) || o.Init != "/p q" || !o.Strace || len(o.Ignored) > 0 {
			t.Errorf("cmdline %q parsed to %+v; want args %q env %q", line, o, args, envs)
			return false
		}
		return true
	}
	check(words, words)
	for _, w := range words {
		check([]string{w}, []string{w})
	}
	if err := quick.Check(check, nil); err != nil {
		t.Error(err)
	}
}

func TestCRLFWriter(t *testing.T) {
	var b bytes.Buffer
	w := &crlfWriter{w: &b}
	for _, p := range []string{"a\r\nb\r", "\nc\r", "d\r\r\n", "\r"} {
		n, err := w.Write([]byte(p))
		if n != len(p) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	if got, want := b.String(), "a\nb\nc\rd\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestRelayStdin(t *testing.T) {
	for _, c := range []struct {
		in       string
		terminal bool
		want     []byte
		quit     bool
	}{
		{"hello\x01x\n", false, []byte("hello\x01x\n"), false},
		{"ab\x01\x01c\x01d", true, []byte("ab\x01c\x01d"), false},
		{"ab\x01xzz", true, []byte("ab"), true},
	} {
		client, server := pipeConn()
		r := &relay{conn: client, terminal: c.terminal, quit: make(chan struct{})}
		go func() { r.fromStdin(strings.NewReader(c.in)); client.Close() }()
		var d decoderSink
		d.read(t, server)
		quit := false
		select {
		case <-r.quit:
			quit = true
		default:
		}
		if !bytes.Equal(d.stdin, c.want) || quit != c.quit {
			t.Errorf("%q: stdin %q eof %v quit %v", c.in, d.stdin, d.eof, quit)
		}
		if !c.quit && !d.eof {
			t.Errorf("%q: no end of file", c.in)
		}
	}
}

func TestStraceOutput(t *testing.T) {
	for in, want := range map[string]string{
		"strace":                      "",
		"strace=-f,-c":                "",
		"strace=-f,-o,trace.txt":      "trace.txt",
		"selftest strace=-otrace.txt": "trace.txt",
		"strace=-f,-e trace=process,file,-o out.txt": "out.txt",
		"strace=-f,-e trace=file,-o /tmp/x net=off":  "/tmp/x",
		"strace=-o /tmp/y":                           "/tmp/y",
		"bootstats -o x":                             "",
	} {
		if got := straceOutput(in); got != want {
			t.Errorf("straceOutput(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSMP(t *testing.T) {
	env := func(v string) func(string) (string, bool) {
		return func(k string) (string, bool) { return v, k == "YOLK_SMP" && v != "" }
	}
	for _, tc := range []struct {
		args []string
		env  string
		want int
		bad  bool
	}{
		{[]string{"p"}, "", 0, false},
		{[]string{"p"}, "2", 2, false},
		{[]string{"--smp", "4", "p"}, "2", 4, false},
		{[]string{"--smp=3", "p"}, "", 3, false},
		{[]string{"--smp", "0", "p"}, "", 0, true},
		{[]string{"--smp", "17", "p"}, "", 0, true},
		{[]string{"p"}, "x", 0, true},
	} {
		o, err := parseArgs(tc.args, env(tc.env), nil)
		if tc.bad {
			if err == nil {
				t.Errorf("%q with YOLK_SMP=%q: no error", tc.args, tc.env)
			}
			continue
		}
		if err != nil || o.smp != tc.want {
			t.Errorf("%q with YOLK_SMP=%q: smp %v, %v; want %d", tc.args, tc.env, o, err, tc.want)
		}
	}
}
