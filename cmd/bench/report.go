package main

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// fmtNum shows three significant digits or so: 4.67, 12.3, 153.
func fmtNum(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "—"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 0.1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

// fmtSummary is "median (min–max)".
func fmtSummary(s Summary) string {
	if s.N == 0 {
		return "—"
	}
	if s.N == 1 {
		return fmtNum(s.Median)
	}
	return fmt.Sprintf("%s (%s–%s)", fmtNum(s.Median), fmtNum(s.Min), fmtNum(s.Max))
}

func fmtRatio(r Row) string { return fmtRatioSpread(r.Ratio, r.RatioMin, r.RatioMax) }

func fmtCPURatio(r Row) string { return fmtRatioSpread(r.CPURatio, r.CPURatioMin, r.CPURatioMax) }

// fmtRatioSpread is "ratio (min–max)", "—" when the ratio is missing.
func fmtRatioSpread(ratio, lo, hi float64) string {
	if math.IsNaN(ratio) {
		return "—"
	}
	s := fmtNum(ratio)
	if !math.IsNaN(lo) && lo != hi {
		s += fmt.Sprintf(" (%s–%s)", fmtNum(lo), fmtNum(hi))
	}
	return s
}

// WriteMarkdown writes the report: the table, the chart, how the numbers
// were made, what is not measured, and the exact commands.
func WriteMarkdown(w io.Writer, r *Results, rows []Row, svgName string) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	cycles := r.Accel == "kvm"

	p("# Benchmarks: yolk against a Linux VM\n\n")
	by := "make bench"
	if r.ICount {
		by = "scripts/bench -icount -out docs/benchmarks-icount.md"
	}
	p("Written by `%s` (cmd/bench) on %s, yolk %s. Do not edit by hand: run `%s` again.\n\n", by, r.Date, r.Commit, by)
	p("Both sides run on the same QEMU with the same flags (%s, `-cpu %s`, `-m %s`, microvm, one vCPU), the same static\n", strings.ToUpper(r.Accel), cpuFor(r.Accel), r.Mem)
	p("programs and the same `/init` (examples/benchinit) from the same initramfs. Each of %d rounds boots every VM once\n", r.Rounds)
	if r.ICount {
		p("(here only the work boots), yolk and Linux back to back, alternating (the order flips every\n")
	} else {
		p("(Linux's bzImage, yolk's profiled boot and the -smp boots only in the first rounds), yolk and Linux back to back, alternating (the order flips every\n")
	}
	p("round). Values are medians with the spread (min–max) over the\n")
	p("rounds; the ratio is the median of the per-round ratios (each round's yolk sample over its Linux sample, the two\n")
	p("boots made back to back under the same host load), with their spread. Below 1 yolk is faster.\n\n")
	if r.ICount {
		p("**Instruction counts**: both sides ran with `-icount shift=0,sleep=off`, which makes the guest's clocks advance one\n")
		p("nanosecond per instruction executed and skip ahead over idle time. Every number is therefore a count of guest\n")
		p("instructions in the table's units (1 µs = 1,000 instructions, 1 s = 10⁹), the same however busy the host is; it\n")
		p("weighs a WRMSR or an XSAVE as one instruction, whatever it costs on hardware or under plain TCG. Only the work boots\n")
		p("run (boot to first output is host time: see benchmarks.md).\n\n")
	}
	p("- Host: %s\n- QEMU: %s\n- Linux: Debian's %s\n- Whole run: %.0f s\n", r.Host, r.QEMU, r.LinuxKernel, r.Elapsed)
	if r.Load[0] != "" {
		p("- Host load average (1, 5, 15 min) at the start: %s; at the end: %s (other work shares the host)\n", r.Load[0], r.Load[1])
	}
	p("\n")

	hasCPU := false
	for _, row := range rows {
		hasCPU = hasCPU || !math.IsNaN(row.CPURatio)
	}
	if hasCPU {
		p("The last column compares the programs by the host's measure instead of the guests' clocks: the CPU time QEMU's\n")
		p("threads used while the program ran (see below). A guest's clock also counts the time its vCPU thread waited for a\n")
		p("host CPU, which on a shared host is most of the run-to-run spread; that column does not.\n\n")
	}
	p("| metric | unit | yolk | Linux VM | native | yolk/Linux |")
	if cycles {
		p(" yolk cycles | Linux cycles |")
	}
	if hasCPU {
		p(" yolk/Linux, QEMU's CPU time |")
	}
	p("\n|---|---|---|---|---|---|")
	if hasCPU {
		p("---|")
	}
	if cycles {
		p("---|---|")
	}
	p("\n")
	for _, row := range rows {
		native := fmtSummary(row.Native)
		if r.ICount {
			native = "—" // host time: nothing to compare an instruction count with
		}
		p("| %s | %s | %s | %s | %s | %s |", row.Label, row.Unit, fmtSummary(row.Yolk), fmtSummary(row.Linux), native, fmtRatio(row))
		if cycles {
			p(" %s | %s |", fmtSummary(row.YolkCycles), fmtSummary(row.LinuxCycles))
		}
		if hasCPU {
			p(" %s |", fmtCPURatio(row))
		}
		p("\n")
	}
	p("\n![yolk/Linux ratio per metric, log scale](%s)\n\n", svgName)

	if prow := r.ProfileRows(metrics); len(prow) > 0 {
		p("## The sampling profiler's cost\n\n")
		p("yolk's work boot again under `qemu/run --profile` at the default rate (100 samples a second, each a frame-pointer\n")
		p("walk of the program's stack from the timer interrupt, drained to the runner every 100 ms); the ratio is the\n")
		p("median of the per-round ratios profiled/plain, with their spread. On a loaded host these ratios carry\n")
		p("the host's noise; the line after the table is the profiler's own time, measured in the guest, which does not.\n\n")
		p("| metric | unit | yolk | yolk --profile | profiled/plain |\n|---|---|---|---|---|\n")
		for _, row := range prow {
			p("| %s | %s | %s | %s | %s (%s–%s) |\n", row.Label, row.Unit, fmtSummary(row.Plain), fmtSummary(row.Profiled),
				fmtNum(row.Ratio), fmtNum(row.RatioMin), fmtNum(row.RatioMax))
		}
		if c := Summarize(r.ProfilerCost); c.N > 0 {
			p("\nThe profiler's own time, in the guest (the timer interrupt's sampling, on its clock, and the drain goroutine's\n")
			p("thread CPU time), over the profiled run: **%s%%** (%s–%s%%) of the run, median of %d rounds.\n", fmtNum(c.Median), fmtNum(c.Min), fmtNum(c.Max), c.N)
		}
		p("\n")
	}
	if one, two := r.Yolk[smpPair[0]], r.Yolk[smpPair[1]]; Summarize(two).N > 0 || Summarize(r.Linux[smpPair[1]]).N > 0 {
		p("## Several vCPUs\n\n")
		p("The same xz job (%s) with `-T1` on one vCPU and with `-T2` on two (the `-smp 2` boots run only it);\n", "`xz -1 --block-size=2MiB` of 8 MiB of text")
		p("the speed-up is the one-vCPU time over the two-vCPU time, median of the per-round ratios with their spread.\n\n")
		p("A kernel that runs only one thread at a time shows a speed-up near 1; on a busy host the per-round ratios swing\n")
		p("both ways, since the two boots run tens of seconds apart.\n\n")
		p("| side | -T1, -smp 1 (s) | -T2, -smp 2 (s) | speed-up |\n|---|---|---|---|\n")
		for _, side := range []struct {
			name     string
			one, two []float64
		}{{"yolk", one, two}, {"Linux VM", r.Linux[smpPair[0]], r.Linux[smpPair[1]]}} {
			sp := Summarize(PairRatios(side.one, side.two))
			p("| %s | %s | %s | %s |\n", side.name, fmtSummary(Summarize(scaled(side.one, 1e9))), fmtSummary(Summarize(scaled(side.two, 1e9))), fmtSummary(sp))
		}
		p("\n")
	}
	if len(r.Errors) > 0 {
		p("## Failed boots\n\n")
		for _, e := range r.Errors {
			p("- %s\n", e)
		}
		p("\n")
	}

	if len(r.Notes) > 0 {
		p("## Samples left out\n\n")
		for _, e := range r.Notes {
			p("- %s\n", e)
		}
		p("\n")
	}
	p("## How the numbers are made\n\n")
	p("- **Boot to first output**: the median of %d boots a round of each side, alternating, from the moment cmd/bench starts\n", max(r.Boots, 1))
	p("  the command (QEMU for Linux; for yolk `qemu/run`'s runner, whose own start and QEMU's then count) to the line\n")
	p("  `benchinit: ready` that `/init` prints first, read on the host. The boot initramfs holds only `/init`.\n")
	if rs := Summarize(scaled(r.Yolk[runnerKey], 1e6)); rs.N > 0 {
		p("  Of yolk's boot, %s ms (%s–%s, medians of the rounds) passed before QEMU started: the runner, and cmd/bench\n", fmtNum(rs.Median), fmtNum(rs.Min), fmtNum(rs.Max))
		p("  standing in as its QEMU to log QEMU's arguments.\n")
	}
	if r.WarmUp {
		p("  Before the first round each boot command ran once untimed (files in the host's page cache, QEMU's libraries loaded).\n")
	}
	p("  Linux boots the uncompressed `vmlinux` from inside Debian's bzImage through its own PVH note, as yolk boots; the\n")
	p("  bzImage line is the same kernel through microvm's firmware and its XZ decompressor.\n")
	p("- **Micro-benchmarks** (µs per operation; ms for fork, execve and the pipe): examples/bench times its loops in the guest\n")
	p("  with `clock_gettime(CLOCK_MONOTONIC)` as a system call and prints nanoseconds and rdtsc cycles per operation.\n")
	p("- Linux's clock: `/init` waits (at most 10 s) until CLOCK_MONOTONIC moves in steps under 100 µs, since Linux starts on\n")
	p("  jiffies; `tsc=reliable` keeps it on the TSC and `tsc_early_khz` (the host's TSC rate, which the guest's is) spares it the\n")
	p("  PIT calibration that a loaded host makes fail (see cmd/bench's linuxCmdline). A boot whose clock stays coarse has its\n")
	p("  micro-benchmarks left out and listed above.\n")
	p("- **Programs**: `/init` fork+execs each with its output to /dev/null and times it to the end of its wait. lua, gojq,\n")
	p("  speedtest1 and xz are built static by scripts/benchprogs: lua on Debian's liblua5.4.a, gojq at the version\n")
	p("  examples/gojq/go.mod pins, speedtest1 from Debian's sqlite3 source package on its libsqlite3.a, xz from Debian's\n")
	p("  xz-utils source package; their inputs are cmd/bench's generated text and JSON (`bench gendata`), the same every run.\n")
	p("  The profiled boot runs only the micro-benchmarks and the older programs (/jobs.profiled).\n")
	if hasCPU {
		p("- **QEMU's CPU time** (the last column): `/init` prints `benchstart NAME` before it forks a program and `bench NAME ...`\n")
		p("  after its wait; when each line reaches the host, cmd/bench adds up the time QEMU's threads have spent on a CPU\n")
		p("  (`/proc/PID/task/*/schedstat`), and the program's sample is the difference. It counts translation, the guest's\n")
		p("  execution and the host kernel's work for QEMU (its page faults on guest memory included), not the time QEMU waited\n")
		p("  for a CPU; the lines reach the host a few milliseconds late, at both ends alike. The -smp boots have none (QEMU's\n")
		p("  CPU time there adds up both vCPUs).\n")
	}
	p("- **Clocks**: `clock_gettime` through the vDSO and Go's `time.Now()` are loops of 1,000,000 calls; their forced-syscall\n")
	p("  variants (`syscall(SYS_clock_gettime)`, `syscall.RawSyscall`) loops of 20,000. The native column runs the same\n")
	p("  static programs (examples/bench, examples/gobench clock) on the host itself, once a round.\n")
	if !cycles {
		p("- Under TCG rdtsc counts host time, not guest cycles, so the cycle columns are left out; with `ACCEL=kvm` they appear.\n")
	}
	p("\n## Not measured\n\n")
	for _, s := range notMeasured {
		p("- %s\n", s)
	}
	p("\n## QEMU commands\n\n")
	p("Paths are relative to the repository; `$TMP` is the runner's temporary directory. build/bench/yolkrun is qemu/run's\n")
	p("runner (cmd/yolkrun), built once for the whole run: `qemu/run` with the same flags starts the same QEMU.\n\n")
	for _, c := range r.Commands {
		p("%s:\n\n```sh\n%s\n", c.Name, shellQuote(c.Argv))
		if len(c.QEMUArgs) > 0 && c.Argv[0] != "qemu-system-x86_64" {
			p("# which starts:\n%s\n", shellQuote(append([]string{"qemu-system-x86_64"}, c.QEMUArgs...)))
		}
		p("```\n\n")
	}
	p("## Samples\n\nPer round, in the table's units (— : that boot failed).\n\n| metric | yolk | Linux VM |\n|---|---|---|\n")
	for _, row := range rows {
		p("| %s | %s | %s |\n", row.Key, joinNums(scaled(r.Yolk[row.YolkKey], row.NSPerUnit)), joinNums(scaled(r.Linux[row.LinuxKey], row.NSPerUnit)))
	}
	for _, row := range rows {
		if !math.IsNaN(row.CPURatio) {
			p("| %s, QEMU's CPU time | %s | %s |\n", row.Key, joinNums(scaled(r.YolkCPU[row.YolkKey], row.NSPerUnit)), joinNums(scaled(r.LinuxCPU[row.LinuxKey], row.NSPerUnit)))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

var notMeasured = []string{
	"Console throughput: yolk's console is virtio-serial, the Linux VM's a 16550 UART, so the number would compare devices, not kernels (`bench stderr-write-1MiB` still runs it by name).",
	"xz on 20 MB: the xz jobs compress 8 MiB, so that a round stays under two minutes under TCG (20 MB at -1 takes about 18 s a boot here).",
	"Absolute cycles under TCG (see above); network (scripts/netbench, docs/network.md) and 9p host files.",
	"The smallest `-m` each side boots in (yolk's hello runs in 16 MiB: tests/qemu_test.go's TestHelloSmallMemory).",
}

func cpuFor(accel string) string {
	if accel == "kvm" {
		return "host"
	}
	return "max"
}

func joinNums(xs []float64) string {
	if len(xs) == 0 {
		return "—"
	}
	s := make([]string, len(xs))
	for i, x := range xs {
		if x < 0 {
			s[i] = "—"
		} else {
			s[i] = fmtNum(x)
		}
	}
	return strings.Join(s, ", ")
}

// shellQuote writes argv so that a shell reads it back the same.
func shellQuote(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && strings.IndexFunc(a, func(c rune) bool {
			return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./=:,+@%", c))
		}) < 0 {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}
