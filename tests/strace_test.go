package tests

import (
	"regexp"
	"strings"
	"testing"
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
