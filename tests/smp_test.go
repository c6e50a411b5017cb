package tests

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestSMPBoot: with several virtual CPUs the kernel finds them in the
// MADT (microvm and q35 both have one), starts every one and passes its
// self-test.
func TestSMPBoot(t *testing.T) {
	for _, c := range []struct {
		machine string
		n       int
	}{{"microvm", 2}, {"q35", 2}, {"microvm", 4}} {
		t.Run(fmt.Sprintf("%s-%d", c.machine, c.n), func(t *testing.T) {
			t.Parallel()
			r := run(t, "-M", c.machine, "--smp", fmt.Sprint(c.n), "-o", "selftest bootstats")
			if r.status != 0 {
				t.Errorf("exit status %d, want 0", r.status)
			}
			if m := summary.FindStringSubmatch(r.out); m == nil || m[2] != "0" {
				t.Errorf("no passing summary line in output")
			}
			if want := fmt.Sprintf("yolk: %d of %d CPUs online\n", c.n, c.n); !strings.Contains(r.out, want) {
				t.Errorf("output lacks %q", want)
			}
		})
	}
}

var burnRatio = regexp.MustCompile(`parallel: burn: cpu/wall ([0-9.]+)`)

// TestParallel: with two CPUs a Go program's GOMAXPROCS is 2, two
// threads spinning on one atomic word hand it over 10,000 times (which
// needs them to run at once), and two goroutines burning 500 ms use
// about twice that CPU time; with one CPU, GOMAXPROCS 1 and the CPU time
// stays the wall time.
func TestParallel(t *testing.T) {
	t.Run("smp2", func(t *testing.T) {
		t.Parallel()
		r := run(t, "--smp", "2", filepath.Join(root, "build/examples/parallel"))
		if r.status != 0 {
			t.Errorf("exit status %d, want 0", r.status)
		}
		for _, want := range []string{"parallel: 2 CPUs, GOMAXPROCS 2\n", "parallel: ping-pong: 10000 hand-overs in "} {
			if !strings.Contains(r.out, want) {
				t.Errorf("output lacks %q", want)
			}
		}
		if m := burnRatio.FindStringSubmatch(r.out); m == nil {
			t.Errorf("no burn line")
		} else if f, _ := strconv.ParseFloat(m[1], 64); f < 1.6 || f > 2.1 {
			t.Errorf("burn: CPU time %.2f times the wall time, want 1.6 to 2.1", f)
		}
	})
	t.Run("smp1", func(t *testing.T) {
		t.Parallel()
		r := run(t, "--smp", "1", filepath.Join(root, "build/examples/parallel"), "burn")
		if r.status != 0 || !strings.Contains(r.out, "parallel: 1 CPUs, GOMAXPROCS 1\n") {
			t.Errorf("status %d, want 0 and one CPU", r.status)
		}
		if m := burnRatio.FindStringSubmatch(r.out); m == nil {
			t.Errorf("no burn line")
		} else if f, _ := strconv.ParseFloat(m[1], 64); f < 0.8 || f > 1.1 {
			t.Errorf("burn: CPU time %.2f times the wall time on one CPU, want 0.8 to 1.1", f)
		}
	})
}

// TestSMPPrograms runs a few programs with threads on two CPUs, where
// their threads run at once and move between CPUs: Go's runtime, AVX2
// threads preempted mid-computation, and threads whose vector state (kept
// in a CPU's registers between traps) must follow them from one CPU to
// the other across system calls. make test runs the whole suite with one
// CPU; YOLK_SMP=2 go test ./tests/ runs all of it with two.
func TestSMPPrograms(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		out  string
	}{
		{"goroutines", nil, "goroutines: 10 workers done, sum=45\n"},
		{"avx", []string{"-a", "threads"}, "thread 0: every lane right\nthread 1: every lane right\nthread 2: every lane right\nthread 3: every lane right\n"},
		{"avx", []string{"-a", "syscalls"}, "thread 0: YMM, x87 and MXCSR intact\nthread 1: YMM, x87 and MXCSR intact\nthread 2: YMM, x87 and MXCSR intact\n"},
		{"fastpath", []string{"-a", "fsgsbase"}, "GS base kept by three threads: yes yes yes\nin a signal handler: the same\n" +
			"forked child inherits it: yes\nFS base kept: yes\n"},
	} {
		t.Run(c.name+strings.Join(c.args, ""), func(t *testing.T) {
			t.Parallel()
			expect(t, run(t, append([]string{"--smp", "2", "-i", example(t, c.name)}, c.args...)...), 0, c.out)
		})
	}
}
