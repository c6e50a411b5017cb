package syscallshim

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseTraceOptions(t *testing.T) {
	o, err := ParseTraceOptions("-f,-tt,-T,-e,trace=file+process,-Z")
	if err != nil {
		t.Fatal(err)
	}
	if !o.On || o.Stamp != 2 || !o.Durations || !o.OnlyFailed {
		t.Errorf("options %+v", o)
	}
	for nr, want := range map[uint64]bool{unix.SYS_OPENAT: true, unix.SYS_CLONE: true, unix.SYS_READ: false, unix.SYS_MMAP: false} {
		if o.traced(nr) != want {
			t.Errorf("syscall %d traced %v, want %v", nr, !want, want)
		}
	}
	o, err = ParseTraceOptions("-etrace=read+write,-c")
	if err != nil || !o.Count || !o.traced(unix.SYS_READ) || o.traced(unix.SYS_OPENAT) {
		t.Errorf("-etrace=read+write,-c: %+v, %v", o, err)
	}
	for _, bad := range []string{"-x", "-e", "-e,trace=nosuchcall", "-e,status=successful", "-e,abbrev=none"} {
		if _, err := ParseTraceOptions(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestTraceStatsTable(t *testing.T) {
	var st traceStats
	st.add(unix.SYS_READ, 3000, false)
	st.add(unix.SYS_READ, 1000, true)
	st.add(unix.SYS_WRITE, 1000, false)
	got := st.table()
	for _, want := range []string{
		"% time     seconds  usecs/call     calls    errors syscall\n",
		" 80.00    0.000004           2         2         1 read\n",
		" 20.00    0.000001           1         1           write\n",
		"100.00    0.000005                     3         1 total\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
}
