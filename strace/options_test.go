package strace

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParse(t *testing.T) {
	o, err := Parse("-f,-tt,-T,-e,trace=file+process,-Z")
	if err != nil {
		t.Fatal(err)
	}
	if !o.On || o.Stamp != 2 || !o.Durations || !o.OnlyFailed || o.Output != "" {
		t.Errorf("options %+v", o)
	}
	for nr, want := range map[uint64]bool{unix.SYS_OPENAT: true, unix.SYS_CLONE: true, unix.SYS_READ: false, unix.SYS_MMAP: false} {
		if o.Traced(nr) != want {
			t.Errorf("syscall %d traced %v, want %v", nr, !want, want)
		}
	}
	o, err = Parse("-etrace=read+write,-c")
	if err != nil || !o.Count || o.Lines || !o.Traced(unix.SYS_READ) || o.Traced(unix.SYS_OPENAT) {
		t.Errorf("-etrace=read+write,-c: %+v, %v", o, err)
	}
	if o, err := Parse("-C"); err != nil || !o.Count || !o.Lines {
		t.Errorf("-C: %+v, %v", o, err)
	}
	for _, c := range []struct {
		opts    string
		several bool
		want    string
	}{
		{"", false, ""}, {"", true, "[pid    12] "}, {"-f", true, "[pid    12] "},
		{"-o,f", true, ""}, {"-f,-o,f", false, "12    "}, {"-f,-o,f", true, "12    "},
	} {
		o, _ := Parse(c.opts)
		if got := o.Prefix(12, c.several); got != c.want {
			t.Errorf("%q: prefix %q, want %q", c.opts, got, c.want)
		}
	}
	for _, bad := range []string{"-x", "-e", "-o", "-e,trace=nosuchcall", "-e,status=successful", "-e,abbrev=none", "-e,trace=file,nosuchcall"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestParseSets: strace's own set syntax, as qemu/run -o "strace=-f,-e
// trace=process,file" brings it (the kernel joins the words), negation,
// %classes, -o FILE and status.
func TestParseSets(t *testing.T) {
	for _, c := range []struct {
		opts      string
		traced    []uint64
		notTraced []uint64
		output    string
		failed    bool
	}{
		{"-f,-e,trace=process,file", []uint64{unix.SYS_CLONE, unix.SYS_EXECVE, unix.SYS_OPENAT, unix.SYS_EXIT_GROUP}, []uint64{unix.SYS_READ, unix.SYS_MMAP, unix.SYS_WRITE}, "", false},
		{"-e,trace=process,file,-T", []uint64{unix.SYS_CLONE, unix.SYS_OPENAT}, []uint64{unix.SYS_READ}, "", false},
		{"-etrace=%network,-o,trace.txt", []uint64{unix.SYS_SOCKET, unix.SYS_SENDMSG}, []uint64{unix.SYS_READ, unix.SYS_OPENAT}, "trace.txt", false},
		{"-e,trace=!file,-otrace.txt", []uint64{unix.SYS_READ, unix.SYS_MMAP, unix.SYS_CLONE}, []uint64{unix.SYS_OPENAT, unix.SYS_STAT, unix.SYS_EXECVE}, "trace.txt", false},
		{"-e,trace=!%memory,read", []uint64{unix.SYS_WRITE, unix.SYS_OPENAT}, []uint64{unix.SYS_MMAP, unix.SYS_BRK, unix.SYS_READ}, "", false},
		{"-e,trace=signal,-e,status=failed", []uint64{unix.SYS_RT_SIGACTION, unix.SYS_KILL}, []uint64{unix.SYS_READ}, "", true},
		{"-e,trace=desc,-e,trace=memory", []uint64{unix.SYS_BRK, unix.SYS_MMAP}, []uint64{unix.SYS_READ}, "", false}, // the last trace= wins
		{"-e,trace=none", nil, []uint64{unix.SYS_READ, unix.SYS_EXIT_GROUP}, "", false},
		{"-e,trace=all,-e,status=!successful", []uint64{unix.SYS_READ, unix.SYS_EXIT_GROUP}, nil, "", true},
	} {
		o, err := Parse(c.opts)
		if err != nil {
			t.Errorf("%s: %v", c.opts, err)
			continue
		}
		for _, nr := range c.traced {
			if !o.Traced(nr) {
				t.Errorf("%s: %s not traced", c.opts, Name(nr))
			}
		}
		for _, nr := range c.notTraced {
			if o.Traced(nr) {
				t.Errorf("%s: %s traced", c.opts, Name(nr))
			}
		}
		if o.Output != c.output || o.OnlyFailed != c.failed {
			t.Errorf("%s: output %q, failed %v; want %q, %v", c.opts, o.Output, o.OnlyFailed, c.output, c.failed)
		}
	}
}

func TestStatsTable(t *testing.T) {
	var st Stats
	st.Add(unix.SYS_READ, 3000, false)
	st.Add(unix.SYS_READ, 1000, true)
	st.Add(unix.SYS_WRITE, 1000, false)
	st.Add(unix.SYS_CLOSE, 0, false)
	st.Add(unix.SYS_BRK, 0, false)
	want := "% time     seconds  usecs/call     calls    errors syscall\n" +
		"------ ----------- ----------- --------- --------- ----------------\n" +
		" 80.00    0.000004           2         2         1 read\n" +
		" 20.00    0.000001           1         1           write\n" +
		"  0.00    0.000000           0         1           brk\n" +
		"  0.00    0.000000           0         1           close\n" +
		"------ ----------- ----------- --------- --------- ----------------\n" +
		"100.00    0.000005                     5         1 total\n"
	if got := st.Table(); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
}

// TestTable: the generated table names every syscall as linux/sysno
// does, and gives formats and classes.
func TestTable(t *testing.T) {
	enosys := ^uint64(unix.ENOSYS) + 1
	if Name(unix.SYS_OPENAT) != "openat" || Name(unix.SYS_CLONE3) != "clone3" || Name(400) != "syscall_0x190" {
		t.Errorf("names: %s %s %s", Name(unix.SYS_OPENAT), Name(unix.SYS_CLONE3), Name(400))
	}
	if !table[unix.SYS_SOCKET].known || table[unix.SYS_SOCKET].class != cNetwork {
		t.Errorf("socket: %+v", table[unix.SYS_SOCKET])
	}
	if table[unix.SYS_OPENAT].class != cFile|cDesc {
		t.Errorf("openat's classes %b", table[unix.SYS_OPENAT].class)
	}
	// A call with no line in syscalls.txt: six hexadecimal arguments.
	if got := Exit(nil, unix.SYS_KEXEC_LOAD, Args{1, 2, 3, 4, 5, 6}, Enter(nil, unix.SYS_KEXEC_LOAD, Args{1, 2, 3, 4, 5, 6}), enosys); !strings.HasPrefix(got, "kexec_load(0x1, 0x2, 0x3, 0x4, 0x5, 0x6) = -1 ENOSYS") {
		t.Errorf("kexec_load: %s", got)
	}
	// One yolk answers ENOSYS, decoded from its line.
	if got := Exit(nil, unix.SYS_LISTEN, Args{3, 128}, Enter(nil, unix.SYS_LISTEN, Args{3, 128}), enosys); got != "listen(3, 128) = -1 ENOSYS (Function not implemented)" {
		t.Errorf("listen: %s", got)
	}
}
