package main

import (
	"math"
)

// Results are the samples of a whole run, in nanoseconds, one per round
// (Missing where a boot failed), as saved to results.json.
type Results struct {
	Date, Commit            string
	Accel, Mem              string
	Host, QEMU, LinuxKernel string
	Rounds                  int
	Boots                   int       // boots a round for boot to first output
	ICount                  bool      // -icount shift=0: work numbers are instruction counts
	WarmUp                  bool      // the boot commands ran once untimed before the rounds
	Elapsed                 float64   // seconds, the whole run
	Load                    [2]string // the host's /proc/loadavg at the start and the end
	Yolk, Linux             map[string][]float64
	// Native are the host's own samples of the programs that run
	// outside a VM too (nativeJobs), one run per round.
	Native map[string][]float64
	// Profiled are yolk's samples of the work boot run under the
	// sampling profiler (qemu/run --profile, default rate): its cost.
	Profiled map[string][]float64
	// ProfilerCost is, per round, the profiler's own time (sampling in
	// the timer interrupt and draining) as a percentage of the profiled
	// run, in guest time, from the profile's cost comment.
	ProfilerCost            []float64
	YolkCycles, LinuxCycles map[string][]float64
	// YolkCPU and LinuxCPU are, for the programs /init times, the CPU
	// time QEMU's threads used while each ran, in nanoseconds, one per
	// round (Boot.CPU): the host's measure, which waiting for a CPU on a
	// shared host does not inflate.
	YolkCPU, LinuxCPU map[string][]float64
	Commands          []Command
	Errors            []string
	Notes             []string // samples left out, and why
}

// A Command is how one kind of boot was started: the runner's command
// line and QEMU's arguments exactly (they are the same for the Linux VM).
type Command struct {
	Name     string
	Argv     []string
	QEMUArgs []string
}

// A Row is one metric summarised on both sides.
type Row struct {
	Metric
	Yolk, Linux             Summary // in Metric.Unit
	Native                  Summary
	YolkCycles, LinuxCycles Summary // per operation, rdtsc
	// Ratio is the median of the per-round ratios yolk/Linux (each
	// round's two boots run back to back, so a ratio shares the host's
	// state of the moment, which the medians of the two sides alone do
	// not); RatioMin and RatioMax are their spread.
	Ratio              float64
	RatioMin, RatioMax float64
	// The same for QEMU's CPU time (Results.YolkCPU), NaN where there
	// is none.
	YolkCPU, LinuxCPU        Summary
	CPURatio                 float64
	CPURatioMin, CPURatioMax float64
}

// Rows summarises every metric that has samples on either side.
func (r *Results) Rows(ms []Metric) []Row {
	var rows []Row
	for _, m := range ms {
		y, l := scaled(r.Yolk[m.YolkKey], m.NSPerUnit), scaled(r.Linux[m.LinuxKey], m.NSPerUnit)
		row := Row{Metric: m, Yolk: Summarize(y), Linux: Summarize(l), Native: Summarize(scaled(r.Native[m.YolkKey], m.NSPerUnit)),
			YolkCycles: Summarize(r.YolkCycles[m.YolkKey]), LinuxCycles: Summarize(r.LinuxCycles[m.LinuxKey])}
		if row.Yolk.N == 0 && row.Linux.N == 0 {
			continue
		}
		pr := Summarize(PairRatios(y, l))
		row.Ratio, row.RatioMin, row.RatioMax = pr.Median, pr.Min, pr.Max
		yc, lc := scaled(r.YolkCPU[m.YolkKey], m.NSPerUnit), scaled(r.LinuxCPU[m.LinuxKey], m.NSPerUnit)
		row.YolkCPU, row.LinuxCPU = Summarize(yc), Summarize(lc)
		cr := Summarize(PairRatios(yc, lc))
		row.CPURatio, row.CPURatioMin, row.CPURatioMax = cr.Median, cr.Min, cr.Max
		rows = append(rows, row)
	}
	return rows
}

func scaled(xs []float64, div float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = x / div
		if x < 0 || math.IsNaN(x) {
			out[i] = Missing
		}
	}
	return out
}

// A ProfileRow is a work metric with and without the profiler.
type ProfileRow struct {
	Metric
	Plain, Profiled    Summary
	Ratio              float64 // median of the per-round ratios profiled/plain
	RatioMin, RatioMax float64
}

// ProfileRows summarises the profiler's cost on the work boot's metrics.
func (r *Results) ProfileRows(ms []Metric) []ProfileRow {
	var rows []ProfileRow
	for _, m := range ms {
		pl, pr := scaled(r.Yolk[m.YolkKey], m.NSPerUnit), scaled(r.Profiled[m.YolkKey], m.NSPerUnit)
		row := ProfileRow{Metric: m, Plain: Summarize(pl), Profiled: Summarize(pr)}
		if row.Profiled.N == 0 || row.Plain.N == 0 {
			continue
		}
		s := Summarize(PairRatios(pr, pl))
		row.Ratio, row.RatioMin, row.RatioMax = s.Median, s.Min, s.Max
		rows = append(rows, row)
	}
	return rows
}
