package syscallshim

import (
	"bytes"
	"fmt"
	"strconv"
)

// What programs read about the CPUs: /proc/stat's time per CPU and
// counters, and /sys/devices/system/cpu (glibc's get_nprocs reads its
// online file; nproc, lscpu and the like the rest).

// cpuStater is implemented by machines that account time per CPU
// (kernel.Machine); others show one CPU that has been idle since boot.
type cpuStater interface {
	// CPUTimes returns CPU c's time running programs, in the kernel and
	// idle, in nanoseconds.
	CPUTimes(c int) (user, system, idle int64)
	// CPUCounts returns the context switches and interrupts since boot,
	// and how many threads run a program or wait to.
	CPUCounts() (switches, interrupts uint64, running int)
}

// procStatGen writes /proc/stat as Linux's show_stat does: the
// aggregate cpu line and one per CPU (user, nice, system, idle, iowait,
// irq, softirq, steal, guest, guest_nice in USER_HZ ticks), intr (the
// total only: there are no numbered IRQ lines to list), ctxt, btime,
// processes (threads and processes made since boot, Linux's
// total_forks), procs_running (program threads running or runnable,
// the reader's own included) and procs_blocked (0: no wait here is
// uninterruptible), then softirq.
func procStatGen(s *System, _ *Process) []byte {
	n := numCPUs(s.m)
	times := make([][3]int64, n)
	var switches, interrupts uint64
	running := 1
	if st, ok := s.m.(cpuStater); ok {
		for c := range times {
			u, sys, idle := st.CPUTimes(c)
			times[c] = [3]int64{u, sys, idle}
		}
		switches, interrupts, running = st.CPUCounts()
		running = max(running, 1) // the reader is running
	} else {
		times = [][3]int64{{0, 0, s.m.Monotonic()}}
	}
	line := func(b *bytes.Buffer, name string, t [3]int64) {
		fmt.Fprintf(b, "%s %d 0 %d %d 0 0 0 0 0 0\n", name, clockTicks(t[0]), clockTicks(t[1]), clockTicks(t[2]))
	}
	var all [3]int64
	for _, t := range times {
		for i := range all {
			all[i] += t[i]
		}
	}
	var b bytes.Buffer
	line(&b, "cpu ", all)
	for c, t := range times {
		line(&b, "cpu"+strconv.Itoa(c), t)
	}
	s.mu.Lock()
	forks := s.forks
	s.mu.Unlock()
	btime := (s.m.Realtime() - s.m.Monotonic()) / 1e9
	fmt.Fprintf(&b, "intr %d\nctxt %d\nbtime %d\nprocesses %d\nprocs_running %d\nprocs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n",
		interrupts, switches, btime, forks, running)
	return b.Bytes()
}

// cpuRange writes CPUs 0..n-1 as Linux's cpulist format does ("0" or
// "0-3"), with a newline.
func cpuRange(n int) string {
	if n <= 1 {
		return "0\n"
	}
	return fmt.Sprintf("0-%d\n", n-1)
}

// sysFiles are the files of a /sys for a machine of n CPUs, keyed by
// path: devices/system/cpu with online, possible, present (every CPU
// runs from boot to power-off: they are all three alike, and offline is
// empty), kernel_max, and a directory per CPU, each but cpu0 with an
// online file (1), as Linux shows CPUs that can be taken offline.
func sysFiles(n int) map[string]procGen {
	all := procText(cpuRange(n)[:len(cpuRange(n))-1])
	f := map[string]procGen{
		"devices/system/cpu/online":     all,
		"devices/system/cpu/possible":   all,
		"devices/system/cpu/present":    all,
		"devices/system/cpu/offline":    func(*System, *Process) []byte { return []byte("\n") },
		"devices/system/cpu/kernel_max": procText("63"),
	}
	for c := range n {
		dir := "devices/system/cpu/cpu" + strconv.Itoa(c) + "/"
		f[dir+"topology/physical_package_id"] = procText("0")
		f[dir+"topology/core_id"] = procText(strconv.Itoa(c))
		if c > 0 {
			f[dir+"online"] = procText("1")
		}
	}
	return f
}
