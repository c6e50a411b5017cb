package kernel

import (
	"math/bits"

	"yolk/amd64"
)

// The clock is the TSC, calibrated at boot against PIT channel 0 (whose
// count can be latched and read on both microvm and q35; microvm has no
// port 0x61, so the usual channel-2 gate method does not work there).
// Wall-clock time is the RTC's reading at boot (SetWallClock) plus the
// monotonic clock since.
var (
	tscHz      uint64
	tscBase    uint64
	wallOffset int64 // realtime ns = monotonic ns + wallOffset
)

const (
	pitHz      = 1193182
	pitCmd     = 0x43
	pitCh0     = 0x40
	pitLatch0  = 0x00 // channel 0, latch count
	pitMode2LH = 0x34 // channel 0, lobyte/hibyte, mode 2 (rate generator)
)

func pitRead() uint16 {
	amd64.Outb(pitCmd, pitLatch0)
	lo := amd64.Inb(pitCh0)
	hi := amd64.Inb(pitCh0)
	return uint16(hi)<<8 | uint16(lo)
}

// calibrateClock measures the TSC frequency against the PIT: three
// 5 ms measurements, of which it keeps the median, so one disturbed by
// the host (a VM can be descheduled long enough for the PIT count to wrap
// unnoticed) does not skew the clock.
func calibrateClock() {
	amd64.Outb(pitCmd, pitMode2LH)
	amd64.Outb(pitCh0, 0xff)
	amd64.Outb(pitCh0, 0xff)
	var hz [3]uint64
	for i := range hz {
		hz[i] = measureTSC()
	}
	for i := 0; i < len(hz); i++ { // sort three values
		for j := i + 1; j < len(hz); j++ {
			if hz[j] < hz[i] {
				hz[i], hz[j] = hz[j], hz[i]
			}
		}
	}
	tscHz = hz[1]
	if tscHz == 0 {
		tscHz = 1e9
	}
	tscBase = params.EntryTSC
}

// measureTSC counts TSC ticks over about 5 ms of PIT ticks.
func measureTSC() uint64 {
	const span = pitHz / 200
	c0 := pitRead()
	for c0 < span+0x1000 { // start well away from the reload
		c0 = pitRead()
	}
	t0 := amd64.RDTSC()
	var c uint16
	for {
		c = pitRead()
		if c > c0 { // reloaded: start again
			c0, t0 = c, amd64.RDTSC()
			continue
		}
		if uint32(c0-c) >= span {
			break
		}
	}
	return (amd64.RDTSC() - t0) * pitHz / uint64(c0-c)
}

// tscToNs converts a TSC delta to nanoseconds.
func tscToNs(d uint64) int64 {
	hi, lo := bits.Mul64(d, 1e9)
	if hi >= tscHz {
		return 1<<63 - 1
	}
	q, _ := bits.Div64(hi, lo, tscHz)
	return int64(q)
}

// nanotime is the monotonic clock: nanoseconds since the kernel's first
// instruction.
func nanotime() int64 { return tscToNs(amd64.RDTSC() - tscBase) }

// walltime is CLOCK_REALTIME in nanoseconds since the Unix epoch.
func walltime() int64 { return nanotime() + wallOffset }

// SetWallClock sets CLOCK_REALTIME to unixNs now (for the vDSO too).
func SetWallClock(unixNs int64) {
	wallOffset = unixNs - nanotime()
	updateVvar()
}

// TSCHz returns the calibrated TSC frequency.
func TSCHz() uint64 { return tscHz }

// Boot stages timed for the bootstats option.
const (
	stageEntry = iota
	stageGo
	stageMemory
	stageClock
	stageRuntime
	stageMain
	nStages
)

var stageNames = [nStages]string{"pvh entry", "go code", "memory", "clock+timer", "runtime start", "kernel main"}

var stageTSC [nStages]uint64

func stamp(stage int, tsc uint64) { stageTSC[stage] = tsc }

// BootStats returns each boot stage's name and its time since the first
// instruction, in microseconds.
func BootStats() (names []string, us []int64) {
	stamp(stageMain, stageTSCMain)
	for i := 0; i < nStages; i++ {
		names = append(names, stageNames[i])
		us = append(us, tscToNs(stageTSC[i]-stageTSC[stageEntry])/1000)
	}
	return names, us
}

var stageTSCMain uint64

// MarkMain records that the kernel's main function started.
//
// It also gives programs the whole vector unit: the kernel's runtime has
// read XCR0 by now (and found AVX off), so turning the rest on cannot make
// the kernel's own code use it (amd64.EnableProgramXState).
func MarkMain() {
	stageTSCMain = amd64.RDTSC()
	amd64.EnableProgramXState()
}
