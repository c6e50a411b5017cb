// Command bench runs yolk and a Linux VM side by side on the same QEMU and
// writes the comparison (docs/benchmarks.md and its SVG chart). make bench
// runs it through scripts/bench, which builds the initramfs images and
// fetches the Linux kernel first.
//
//	bench run [flags]              boot both sides, alternating, -rounds times
//	bench report -in R.json        write the report again from saved results
//	bench extract-vmlinux BZ OUT   the uncompressed kernel inside a bzImage
//	bench gendata OUT BYTES [json] deterministic text (gzip, xz) or JSON (gojq)
//
// Started as YOLK_QEMU by qemu/run (with BENCH_QEMU_LOG set), it logs the
// time and QEMU's arguments and becomes qemu-system-x86_64.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

func main() {
	if p := os.Getenv(qemuLogEnv); p != "" && (len(os.Args) < 2 || strings.HasPrefix(os.Args[1], "-")) {
		err := execQEMU(p, os.Args[1:])
		fmt.Fprintln(os.Stderr, "bench: starting QEMU:", err)
		os.Exit(1)
	}
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = cmdRun(os.Args[2:])
	case "report":
		err = cmdReport(os.Args[2:])
	case "extract-vmlinux":
		if len(os.Args) != 4 {
			usage()
		}
		err = extractVmlinux(os.Args[2], os.Args[3])
	case "gendata":
		if len(os.Args) != 4 && (len(os.Args) != 5 || os.Args[4] != "json") {
			usage()
		}
		var n int
		if n, err = strconv.Atoi(os.Args[3]); err == nil {
			gen := GenText
			if len(os.Args) == 5 {
				gen = GenJSON
			}
			err = os.WriteFile(os.Args[2], gen(n), 0o644)
		}
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: bench run [flags] | report -in RESULTS.json [-out MD] | extract-vmlinux BZIMAGE OUT | gendata OUT BYTES [json]")
	os.Exit(2)
}

type runFlags struct {
	root, work, linux, kernel, out, accel, mem string
	rounds, bzRounds, profRounds, smp, boots   int
	smpRounds                                  int
	native, icount, warmUp                     bool
	timeout                                    time.Duration
}

func cmdRun(args []string) error {
	var f runFlags
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	fs.StringVar(&f.root, "root", ".", "the yolk repository")
	fs.StringVar(&f.work, "work", "build/bench", "directory with boot.cpio and work.cpio (scripts/bench makes them)")
	fs.StringVar(&f.linux, "linux", "build/linux", "directory with Debian's vmlinuz, vmlinux and version (scripts/linuxvm)")
	fs.StringVar(&f.kernel, "kernel", "build/kernel.elf", "the yolk kernel")
	fs.StringVar(&f.out, "out", "docs/benchmarks.md", "the report; the chart goes beside it as .svg, the raw results to WORK/results.json")
	fs.StringVar(&f.accel, "accel", "tcg", "tcg or kvm (both sides)")
	fs.StringVar(&f.mem, "m", "512M", "guest memory, both sides")
	fs.IntVar(&f.rounds, "rounds", 5, "rounds; each boots every VM once, the order alternating")
	fs.IntVar(&f.bzRounds, "bzimage", 1, "in this many rounds (the first ones), also boot Linux from its bzImage (firmware and XZ decompression: 6-25 s under TCG here)")
	fs.IntVar(&f.profRounds, "profiled", 3, "in this many rounds (the first ones), also boot yolk's work under the profiler (its cost is measured in the guest, so a few samples do)")
	fs.BoolVar(&f.icount, "icount", false, "run both sides with -icount shift=0,sleep=off: the guest's clocks count its instructions (1 ns each), so the work boots' numbers are instruction counts that a busy host does not change; only the work boots run (no boot times, profiled or -smp boots)")
	fs.IntVar(&f.boots, "boots", 3, "boots of each side for boot to first output per round (alternating); the round's sample is their median")
	fs.IntVar(&f.smpRounds, "smp-rounds", 3, "in this many rounds (the first ones), run the -smp boots")
	fs.IntVar(&f.smp, "smp", 2, "also boot both sides with this many vCPUs for xz -T2 (the jobs in /jobs.smp); 0: not")
	fs.BoolVar(&f.native, "native", true, "also run the clock benchmarks on the host itself (nativeJobs), once a round")
	fs.BoolVar(&f.warmUp, "warm-up", true, "boot each boot command once, untimed, before the first round")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Minute, "longest one boot may take")
	fs.Parse(args)
	if f.icount {
		f.smp = 0
		f.native = false // host time, no instruction count
	}

	began := time.Now()
	r := &Results{
		Date:   began.UTC().Format("2006-01-02 15:04 UTC"),
		Accel:  f.accel,
		Mem:    f.mem,
		Rounds: f.rounds,
		Boots:  max(f.boots, 1),
		ICount: f.icount,
		Yolk:   map[string][]float64{}, Linux: map[string][]float64{}, Profiled: map[string][]float64{}, Native: map[string][]float64{},
		YolkCycles: map[string][]float64{}, LinuxCycles: map[string][]float64{},
		YolkCPU: map[string][]float64{}, LinuxCPU: map[string][]float64{},
	}
	r.fillEnv(f)
	vms, groups := f.vms()
	cmdSeen := map[string]bool{}
	scratch, err := os.MkdirTemp("", "bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)

	if f.warmUp {
		// One untimed boot of each boot command: the first boot of a
		// run otherwise also reads the kernels, initramfs and QEMU's
		// libraries from disk, which only the first round's samples
		// would pay.
		for _, vm := range vms {
			if vm.bootKey == "" || vm.vm.Argv == nil {
				continue
			}
			if _, err := vm.vm.Run(f.timeout, scratch); err != nil {
				fmt.Fprintln(os.Stderr, "bench: warm-up:", err)
			}
		}
		r.WarmUp = true
	}
	profCycles := map[string][]float64{} // the profiled boot's cycles: not reported
	j := filepath.Join
	for round := range f.rounds {
		// Each group's yolk and Linux boots run back to back, yolk
		// first in even rounds and Linux first in odd ones.
		// The boot-time group (the first) runs f.boots times, its order
		// flipping each time, for a median per round: one boot of a few
		// hundred milliseconds is at the mercy of the host's scheduler.
		var order []int
		for k, g := range groups {
			reps := 1
			if k == 0 {
				reps = max(f.boots, 1)
			}
			for rep := range reps {
				gg := g
				if (round+rep)%2 == 1 {
					gg = slices.Clone(g)
					slices.Reverse(gg)
				}
				order = append(order, gg...)
			}
		}
		type bootSide struct {
			yolk bool
			key  string
		}
		bootTimes := map[bootSide][]float64{}
		// Every sample of this round starts missing and is filled in
		// by the boot that gives it, so rounds stay aligned.
		for _, mt := range metrics {
			for _, s := range []struct {
				ns, cy map[string][]float64
				key    string
			}{{r.Yolk, r.YolkCycles, mt.YolkKey}, {r.Linux, r.LinuxCycles, mt.LinuxKey}} {
				if len(s.ns[s.key]) == round {
					s.ns[s.key] = append(s.ns[s.key], Missing)
					s.cy[s.key] = append(s.cy[s.key], Missing)
				}
			}
		}
		for _, i := range order {
			vm := vms[i]
			if vm.vm.Argv == nil || vm.bootKey == "boot-bzimage" && round >= f.bzRounds || vm.profiled && round >= f.profRounds ||
				vm.smp && round >= f.smpRounds {
				continue
			}
			b, err := vm.vm.Run(f.timeout, scratch)
			if err != nil {
				msg := fmt.Sprintf("round %d: %v", round+1, err)
				r.Errors = append(r.Errors, msg)
				fmt.Fprintln(os.Stderr, "bench:", msg)
				if b != nil {
					fmt.Fprintln(os.Stderr, tail(b.Console, 30))
				}
				continue
			}
			if !cmdSeen[vm.vm.Name] {
				cmdSeen[vm.vm.Name] = true
				r.Commands = append(r.Commands, Command{vm.vm.Name, relPaths(vm.vm.Argv, f.root), relPaths(b.QEMUArgs, f.root)})
			}
			side, cyc := r.Linux, r.LinuxCycles
			switch {
			case vm.profiled:
				side, cyc = r.Profiled, profCycles
				pct, err := profilerCost(j(f.work, "work.pb.gz"))
				if err != nil {
					r.Notes = append(r.Notes, fmt.Sprintf("round %d: the profile: %v", round+1, err))
					pct = Missing
				}
				r.ProfilerCost = append(r.ProfilerCost, pct)
			case vm.yolk:
				side, cyc = r.Yolk, r.YolkCycles
			}
			if vm.bootKey != "" {
				bs := bootSide{vm.yolk, vm.bootKey}
				bootTimes[bs] = append(bootTimes[bs], float64(b.FirstOutput))
				side[vm.bootKey][round] = Summarize(bootTimes[bs]).Median
				if vm.yolk {
					rs := bootSide{true, runnerKey}
					bootTimes[rs] = append(bootTimes[rs], float64(b.BeforeQEMU))
					if len(r.Yolk[runnerKey]) < f.rounds {
						r.Yolk[runnerKey] = slices.Repeat([]float64{Missing}, f.rounds)
					}
					r.Yolk[runnerKey][round] = Summarize(bootTimes[rs]).Median
				}
			} else {
				if b.Out.Coarse {
					msg := fmt.Sprintf("round %d: %s: the guest's clock stayed at jiffies resolution (4 ms); its micro-benchmarks are left out", round+1, vm.vm.Name)
					r.Notes = append(r.Notes, msg)
					fmt.Fprintln(os.Stderr, "bench:", msg)
				}
				if !vm.profiled && !vm.smp {
					cpuSide := r.LinuxCPU
					if vm.yolk {
						cpuSide = r.YolkCPU
					}
					for k, d := range b.CPU {
						if len(cpuSide[k]) < f.rounds {
							cpuSide[k] = slices.Repeat([]float64{Missing}, f.rounds)
						}
						cpuSide[k][round] = float64(d)
					}
				}
				for k, s := range b.Out.Samples {
					if b.Out.Coarse && isMicro(k) {
						continue
					}
					if _, ok := side[k]; !ok {
						side[k] = make([]float64, f.rounds)
						cyc[k] = make([]float64, f.rounds)
						for j := range side[k] {
							side[k][j], cyc[k][j] = Missing, Missing
						}
					}
					side[k][round] = s.NS
					cyc[k][round] = s.Cycles
					if s.Cycles == 0 {
						cyc[k][round] = Missing
					}
				}
			}
			fmt.Fprintf(os.Stderr, "bench: round %d/%d: %-22s first output %6.2f s, whole run %6.2f s\n",
				round+1, f.rounds, vm.vm.Name, b.FirstOutput.Seconds(), b.Total.Seconds())
		}
		if f.native {
			if err := runNative(r, f, round); err != nil {
				msg := fmt.Sprintf("round %d: native: %v", round+1, err)
				r.Errors = append(r.Errors, msg)
				fmt.Fprintln(os.Stderr, "bench:", msg)
			}
		}
	}
	r.Elapsed = time.Since(began).Seconds()
	r.Load[1] = loadAvg()
	raw, err := json.MarshalIndent(r, "", "\t")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(f.work, "results.json"), raw, 0o644); err != nil {
		return err
	}
	if err := writeReport(r, f.out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: %d rounds in %.0f s; wrote %s\n", f.rounds, r.Elapsed, f.out)
	if len(r.Errors) > 0 {
		return fmt.Errorf("%d boots failed (listed in %s)", len(r.Errors), f.out)
	}
	return nil
}

func cmdReport(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	in := fs.String("in", "build/bench/results.json", "results saved by bench run")
	out := fs.String("out", "docs/benchmarks.md", "the report")
	fs.Parse(args)
	raw, err := os.ReadFile(*in)
	if err != nil {
		return err
	}
	var r Results
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("%s: %v", *in, err)
	}
	return writeReport(&r, *out)
}

func writeReport(r *Results, out string) error {
	rows := r.Rows(metrics)
	svgPath := strings.TrimSuffix(out, ".md") + ".svg"
	var md, svg strings.Builder
	if err := WriteSVG(&svg, rows, r.Accel); err != nil {
		return err
	}
	if err := WriteMarkdown(&md, r, rows, filepath.Base(svgPath)); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(svgPath, []byte(svg.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(out, []byte(md.String()), 0o644)
}

// linuxCmdline is the Linux VM's kernel command line. tsc=reliable: with
// no HPET or ACPI PM timer on microvm, the clocksource watchdog checks the
// TSC against jiffies, which a loaded TCG host delivers late, and then
// drops to a 4 ms jiffies clock halfway through the benchmarks (seen
// here); yolk reads the TSC directly too. reboot=t: the init's reboot is a
// triple fault at once (QEMU exits, -no-reboot) instead of seconds of
// keyboard-controller attempts. no_timer_check: Linux checks at boot that
// the IO-APIC delivers timer interrupts within a few ticks of its own
// clock, and on a host at load 8-10 one boot in a make bench run panicked
// ("IO-APIC + timer doesn't work!"); the check is for broken chipsets,
// which QEMU's is not (KVM guests commonly skip it too). cmdRun adds
// tsc_early_khz (linuxTSC).
const linuxCmdline = "console=ttyS0 quiet loglevel=1 panic=-1 tsc=reliable no_timer_check reboot=t rdinit=/init"

// linuxTSC is the tsc_early_khz= word for the Linux VM: the host's TSC
// rate, which is the guest's. Without it a loaded host makes Linux's PIT
// calibration fail ("tsc: Unable to calibrate against PIT", "Marking TSC
// unstable due to could not calculate TSC khz": no HPET or PM timer to
// fall back on with microvm's acpi=off), and Linux runs on a 4 ms jiffies
// clock, which leaves its micro-benchmarks out (every round of a run at
// load 6 here). yolk's calibration (the median of three PIT spans, each
// restarted when the counter wraps) got the same 2,596 MHz as the host.
func linuxTSC() string { return fmt.Sprintf("tsc_early_khz=%d", hostTSCkHz(200*time.Millisecond)) }

// A benchVM is one of the boots of a round.
type benchVM struct {
	vm       VM
	yolk     bool
	bootKey  string // the boot's first output is this sample; "" for the work boots
	profiled bool   // yolk's work boot under the sampling profiler
	smp      bool   // one of the -smp boots
}

// vms returns the boots of a round and how they group: each group's boots
// run back to back, in the group's order in even rounds and reversed in
// odd ones.
func (f runFlags) vms() ([]benchVM, [][]int) {
	j := func(p ...string) string { return filepath.Join(p...) }
	cpu := "max"
	if f.accel == "kvm" {
		cpu = "host"
	}
	// linux boots Debian's kernel; jobs, when set, is the init's argument
	// (the words after "--" on the command line reach init as argv).
	tsc := linuxTSC()
	var extra []string
	if f.icount {
		// The guest's TSC then counts nanoseconds of instructions.
		// sleep=off: idle time is skipped, not spent at the host's pace.
		tsc, extra = "tsc_early_khz=1000000", []string{"-icount", "shift=0,sleep=off"}
	}
	linux := func(name, kernel, initrd, jobs string, smp int) VM {
		accel, cmdline := f.accel, linuxCmdline+" "+tsc
		if jobs != "" {
			cmdline += " -- " + jobs
		}
		argv := []string{"qemu-system-x86_64", "-M", "microvm,acpi=off"}
		if smp > 1 {
			if accel == "tcg" {
				accel += ",thread=multi" // as qemu/run: a host thread per vCPU
			}
			argv = append(argv, "-smp", strconv.Itoa(smp))
		}
		return VM{Name: name, Argv: append(append(argv, "-accel", accel, "-cpu", cpu, "-m", f.mem,
			"-display", "none", "-no-reboot", "-nic", "none",
			"-kernel", kernel, "-initrd", initrd,
			"-append", cmdline,
			"-serial", "stdio"), extra...)}
	}
	yolk := func(name, initrd, jobs string, flags ...string) VM {
		argv := append(append([]string{j(f.work, "yolkrun"),
			"-q", "-k", f.kernel, "-A", f.accel, "-m", f.mem, "-T", strconv.Itoa(int(f.timeout.Seconds()))},
			flags...), "-i", initrd, "/init")
		if jobs != "" {
			argv = append(argv, jobs)
		}
		return VM{Name: name, Wrapped: true, Root: f.root, Argv: argv, Extra: extra}
	}
	boot, work := j(f.work, "boot.cpio"), j(f.work, "work.cpio")
	vmlinux := j(f.linux, "vmlinux")
	vms := []benchVM{
		{vm: yolk("yolk boot", boot, ""), yolk: true, bootKey: "boot"},
		{vm: linux("Linux boot (PVH)", vmlinux, boot, "", 1), bootKey: "boot"},
		{vm: linux("Linux boot (bzImage)", j(f.linux, "vmlinuz"), boot, "", 1), bootKey: "boot-bzimage"},
		{vm: yolk("yolk work", work, ""), yolk: true},
		{vm: linux("Linux work (PVH)", vmlinux, work, "", 1)},
		{vm: yolk("yolk work (profiled)", work, "/jobs.profiled", "--profile", j(f.work, "work.pb.gz")), yolk: true, profiled: true},
	}
	groups := [][]int{{0, 1}, {2}, {3, 4}, {5}}
	if f.icount {
		// Boot time is host time, and the profiler's cost is measured
		// without icount: only the work boots run. (Linux takes about
		// 25 s to boot under icount here, yolk under 1 s.)
		for _, i := range []int{0, 1, 2, 5} {
			vms[i].vm.Argv = nil
		}
	}
	if f.smp > 1 {
		n := strconv.Itoa(f.smp)
		vms = append(vms,
			benchVM{vm: yolk("yolk xz (-smp "+n+")", work, "/jobs.smp", "--smp", n), yolk: true, smp: true},
			benchVM{vm: linux("Linux xz (PVH, -smp "+n+")", vmlinux, work, "/jobs.smp", f.smp), smp: true})
		groups = append(groups, []int{6, 7})
	}
	return vms, groups
}

// loadAvg is the host's 1, 5 and 15-minute load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

// fillEnv records what the numbers depend on.
func (r *Results) fillEnv(f runFlags) {
	r.Load[0] = loadAvg()
	r.Host = fmt.Sprintf("%d CPUs", runtime.NumCPU())
	if fh, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				r.Host = strings.TrimSpace(v) + ", " + r.Host
				break
			}
		}
		fh.Close()
	}
	if out, err := exec.Command("qemu-system-x86_64", "--version").Output(); err == nil {
		r.QEMU, _, _ = strings.Cut(strings.TrimSpace(string(out)), "\n")
	}
	if b, err := os.ReadFile(filepath.Join(f.linux, "version")); err == nil {
		r.LinuxKernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("git", "-C", f.root, "describe", "--always", "--dirty").Output(); err == nil {
		r.Commit = strings.TrimSpace(string(out))
	}
}

func tail(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}

var tmpDir = regexp.MustCompile(`/tmp/yolk-run\.[^/,]+`)

// relPaths makes argv's paths relative to the repository and names
// qemu/run's temporary directory $TMP, so the report does not change with
// where it ran.
func relPaths(argv []string, root string) []string {
	abs, _ := filepath.Abs(root)
	out := make([]string, len(argv))
	for i, a := range argv {
		a = strings.ReplaceAll(a, abs+"/", "")
		if root != "." {
			a = strings.ReplaceAll(a, root+"/", "")
		}
		out[i] = tmpDir.ReplaceAllString(a, "$$TMP")
	}
	return out
}

// nativeJobs run on the host itself (from the work initramfs's tree):
// the clock loops, whose point is the cost of a call beside a VM's.
var nativeJobs = [][]string{
	{"bin/bench", "-n", "20000", "getppid", "clock_gettime", "clock_gettime_vdso"},
	{"bin/gobench", "clock"},
}

// runNative runs nativeJobs once and records their samples for round.
func runNative(r *Results, f runFlags, round int) error {
	for _, job := range nativeJobs {
		cmd := exec.Command(filepath.Join(f.work, "work", job[0]), job[1:]...)
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("%s: %v", strings.Join(job, " "), err)
		}
		o, err := ParseOutput(strings.NewReader(string(out)))
		if err != nil {
			return fmt.Errorf("%s: %v", strings.Join(job, " "), err)
		}
		for k, s := range o.Samples {
			if _, ok := r.Native[k]; !ok {
				r.Native[k] = make([]float64, f.rounds)
				for j := range r.Native[k] {
					r.Native[k][j] = Missing
				}
			}
			r.Native[k][round] = s.NS
		}
	}
	return nil
}

// isMicro says whether sample k is one of examples/bench's loops, timed in
// microseconds or milliseconds, which a 4 ms clock cannot time.
func isMicro(k string) bool {
	for _, m := range metrics {
		if m.LinuxKey == k {
			return m.NSPerUnit < 1e9
		}
	}
	return true
}

// profilerCost reads the profiler's own cost from a profile qemu/run
// --profile wrote: the percentage of the run it spent sampling and
// draining (cmd/yolkrun's "yolk profiler cost:" comment).
func profilerCost(path string) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		return 0, err
	}
	for _, c := range p.Comments {
		var tick, ticks, drain, run int64
		if n, _ := fmt.Sscanf(c, "yolk profiler cost: %d %d %d %d", &tick, &ticks, &drain, &run); n == 4 && run > 0 {
			return 100 * float64(tick+drain) / float64(run), nil
		}
	}
	return 0, fmt.Errorf("%s has no cost comment", path)
}
