package tests

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
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
			"forked child inherits it: yes\nFS base kept: yes\narch_prctl ARCH_SET_GS: 0, GS base then it, ARCH_GET_GS it\n"},
	} {
		t.Run(c.name+strings.Join(c.args, ""), func(t *testing.T) {
			t.Parallel()
			expect(t, run(t, append([]string{"--smp", "2", "-i", example(t, c.name)}, c.args...)...), 0, c.out)
		})
	}
}

// TestSMPAffinity: examples/affinity pins one thread to each CPU with
// sched_setaffinity and checks, 200 times each while it works and
// yields, that sched_getcpu (the vDSO's getcpu: RDPID or RDTSCP reading
// the CPU's IA32_TSC_AUX) and the getcpu system call name that CPU;
// glibc's get_nprocs (/sys/devices/system/cpu/online), sysconf and
// sched_getaffinity agree on the count, and a mask with no CPU of the
// machine is EINVAL.
func TestSMPAffinity(t *testing.T) {
	for _, n := range []int{1, 2, 4} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			want := fmt.Sprintf("affinity: %d CPUs online (get_nprocs), sysconf %d, %d in the mask\n", n, n, n)
			for c := range n {
				want += fmt.Sprintf("affinity: thread pinned to CPU %d: setaffinity 0, sched_getcpu right 200 of 200, getcpu right 200 of 200\n", c)
			}
			want += fmt.Sprintf("affinity: main thread on CPU %d: yes, mask read back: yes\n", n-1)
			want += fmt.Sprintf("affinity: mask of CPU %d only: -1 Invalid argument\naffinity: all passed\n", n)
			expect(t, run(t, "--smp", fmt.Sprint(n), example(t, "affinity")), 0, want)
		})
	}
}

var (
	procStatCPU = regexp.MustCompile(`^(cpu[0-9]*) +([0-9]+) ([0-9]+) ([0-9]+) ([0-9]+) 0 0 0 0 0 0$`)
	procStatKey = regexp.MustCompile(`^(intr|ctxt|btime|processes|procs_running|procs_blocked) ([0-9]+)`)
)

// procStat parses /proc/stat's text: each cpu line's user, nice, system
// and idle, and the counters.
func procStat(t *testing.T, text string) (cpus map[string][4]int64, keys map[string]int64, names []string) {
	t.Helper()
	cpus, keys = map[string][4]int64{}, map[string]int64{}
	for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
		if m := procStatCPU.FindStringSubmatch(l); m != nil {
			var v [4]int64
			for i := range v {
				v[i], _ = strconv.ParseInt(m[2+i], 10, 64)
			}
			cpus[m[1]] = v
			names = append(names, m[1])
		} else if m := procStatKey.FindStringSubmatch(l); m != nil {
			keys[m[1]], _ = strconv.ParseInt(m[2], 10, 64)
			names = append(names, m[1])
		} else if strings.HasPrefix(l, "softirq ") {
			names = append(names, "softirq")
		} else {
			t.Errorf("/proc/stat line %q is not Linux's", l)
		}
	}
	return cpus, keys, names
}

// TestSMPCPUFiles: what busybox and Linux's own files say of the CPUs:
// nproc, /sys/devices/system/cpu, taskset, top and /proc/stat, whose
// per-CPU times come from the kernel's accounting (a shell loop on one
// CPU adds user time, the other CPUs idle meanwhile).
func TestSMPCPUFiles(t *testing.T) {
	const script = `nproc; taskset -c 1 nproc
cat /sys/devices/system/cpu/online /sys/devices/system/cpu/possible /sys/devices/system/cpu/present /sys/devices/system/cpu/cpu1/online
ls /sys/devices/system/cpu
taskset -c 1 sh -c 'taskset -p $$' | sed 's/pid [0-9]*/pid N/'
taskset -c 7 true 2>/dev/null; echo "taskset -c 7: $?"
top -bn1 | grep -c '^CPU: *[0-9]*% usr *[0-9]*% sys *[0-9]*% nic *[0-9]*% idle'
echo ---; cat /proc/stat; echo ---
taskset -c 1 sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done'
echo ---; cat /proc/stat`
	r := run(t, "--smp", "3", "/bin/busybox", "sh", "-c", script)
	parts := strings.Split(r.out, "---\n")
	if r.status != 0 || len(parts) != 4 {
		t.Fatalf("status %d, output:\n%s", r.status, r.out)
	}
	want := "3\n1\n0-2\n0-2\n0-2\n1\ncpu0\ncpu1\ncpu2\nkernel_max\noffline\nonline\npossible\npresent\n" +
		"pid N's current affinity mask: 2\ntaskset -c 7: 1\n1\n"
	if got := progOut(parts[0]); got != want {
		t.Errorf("CPU files and tools said\n%s\nwant\n%s", got, want)
	}
	before, keys, names := procStat(t, parts[1])
	after, keys2, _ := procStat(t, parts[3])
	if got := strings.Join(names, " "); got != "cpu cpu0 cpu1 cpu2 intr ctxt btime processes procs_running procs_blocked softirq" {
		t.Errorf("/proc/stat has %s", got)
	}
	for _, s := range []map[string][4]int64{before, after} {
		for i := range 4 {
			if sum := s["cpu0"][i] + s["cpu1"][i] + s["cpu2"][i]; s["cpu"][i] < sum || s["cpu"][i] > sum+2 {
				t.Errorf("/proc/stat: column %d: cpu %d, the CPUs' sum %d", i, s["cpu"][i], sum)
			}
		}
	}
	// The loop ran on CPU 1 (a second or more under TCG): its user time
	// grew, and CPU 2 was idle meanwhile.
	if d := after["cpu1"][0] - before["cpu1"][0]; d < 20 {
		t.Errorf("cpu1 user time grew by %d ticks over the loop, want at least 20", d)
	}
	loop := after["cpu1"][0] + after["cpu1"][2] - before["cpu1"][0] - before["cpu1"][2]
	if d := after["cpu2"][3] - before["cpu2"][3]; d < loop/2 {
		t.Errorf("cpu2 idled %d ticks while cpu1 ran %d", d, loop)
	}
	if keys2["ctxt"] <= keys["ctxt"] || keys2["intr"] < keys["intr"] || keys2["processes"] <= keys["processes"] || keys["procs_running"] < 1 {
		t.Errorf("/proc/stat counters before %v, after %v", keys, keys2)
	}
	if d := keys["btime"] - time.Now().Unix(); d < -3600 || d > 60 {
		t.Errorf("btime %d is %d s from now", keys["btime"], d)
	}
}
