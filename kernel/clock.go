package kernel

import (
	"math/bits"

	"yolk/amd64"
)

// The clock is the TSC. Its rate comes from the hypervisor's timing
// leaf (CPUID 0x40000010, which KVM under QEMU fills in with an
// invariant TSC) when there is one, else from a calibration against PIT
// channel 0 (whose count can be latched and read on both microvm and
// q35; microvm has no port 0x61, so the usual channel-2 gate method does
// not work there). Wall-clock time is the RTC's reading at boot
// (SetWallClock) plus the monotonic clock since.
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

	// calibSpan is one PIT measurement: 2 ms of PIT ticks. Each end of
	// a span is off by at most one tick (0.84 us), so one span is
	// within 0.09% and the median of three usually well inside that;
	// three 5 ms spans (0.03%) kept every boot waiting 15-25 ms.
	calibSpan = pitHz / 500
)

// pitSample latches PIT channel 0 and returns the TSC just before the
// latch (the latch is the first port access), the TSC ticks the whole
// reading took, and the latched count.
func pitSample() (tsc, took uint64, count uint16) {
	tsc = amd64.RDTSC()
	amd64.Outb(pitCmd, pitLatch0)
	lo := amd64.Inb(pitCh0)
	hi := amd64.Inb(pitCh0)
	return tsc, amd64.RDTSC() - tsc, uint16(hi)<<8 | uint16(lo)
}

// calibrateClock sets the TSC's rate: the hypervisor's word for it, else
// the median of three PIT spans measured back to back, so one disturbed
// by the host (a VM can be descheduled long enough for the PIT count to
// wrap unnoticed) does not skew the clock.
func calibrateClock() {
	tscBase = params.EntryTSC
	if hz := hypervisorTSCHz(amd64.CPUID); hz != 0 {
		tscHz = hz
		return
	}
	amd64.Outb(pitCmd, pitMode2LH)
	amd64.Outb(pitCh0, 0xff)
	amd64.Outb(pitCh0, 0xff)
	tscHz = calibratePIT(pitSample)
}

// A pitSampler reads the TSC and PIT channel 0 (pitSample).
type pitSampler func() (tsc, took uint64, count uint16)

// calibratePIT returns the median of three TSC rates, each measured over
// calibSpan PIT ticks from sample's readings (the next span starts where
// the last ended); 1 GHz if every measurement came out 0.
func calibratePIT(sample pitSampler) uint64 {
	var hz [3]uint64
	var m pitMeasure
	m.sample = sample
	m.start()
	for i := range hz {
		hz[i] = m.span()
	}
	for i := 0; i < len(hz); i++ { // sort three values
		for j := i + 1; j < len(hz); j++ {
			if hz[j] < hz[i] {
				hz[i], hz[j] = hz[j], hz[i]
			}
		}
	}
	if hz[1] == 0 {
		return 1e9
	}
	return hz[1]
}

// pitMeasure measures spans of PIT ticks in TSC ticks. A span starts
// and ends only at readings that took at most four times the quickest
// one seen (the latch's TSC is then close to the latch): a host that
// preempts the vCPU between the TSC read and the latch would otherwise
// stretch or shrink a 2 ms span by the preemption.
type pitMeasure struct {
	sample   pitSampler
	quickest uint64
	t0       uint64 // the span's start
	c0       uint16
}

// read takes readings until one is quick enough.
func (m *pitMeasure) read() (uint64, uint16) {
	for {
		t, took, c := m.sample()
		if m.quickest == 0 || took < m.quickest {
			m.quickest = max(took, 1)
		}
		if took <= 4*m.quickest {
			return t, c
		}
	}
}

func (m *pitMeasure) start() { m.t0, m.c0 = m.read() }

// span measures calibSpan PIT ticks from the last reading, starting
// again when the count reloads (it counts down from 0xffff), and returns
// the TSC rate; the next span starts at its end.
func (m *pitMeasure) span() uint64 {
	for {
		t, c := m.read()
		if c > m.c0 { // reloaded: start again
			m.t0, m.c0 = t, c
			continue
		}
		if d := uint32(m.c0 - c); d >= calibSpan {
			hz := (t - m.t0) * pitHz / uint64(d)
			m.t0, m.c0 = t, c
			return hz
		}
	}
}

// hypervisorTSCHz is the TSC rate a hypervisor gives in its timing leaf
// (CPUID 0x40000010 EAX, in kHz: the leaf VMware defined and QEMU fills
// in under KVM when the TSC rate is known), or 0 when the CPU is not
// virtual, the hypervisor's leaves stop below it, or it says 0 (TCG has
// leaves up to 0x40000001 only).
func hypervisorTSCHz(cpuid func(leaf, sub uint32) (a, b, c, d uint32)) uint64 {
	if _, _, c, _ := cpuid(1, 0); c&(1<<31) == 0 { // CPUID.1:ECX.hypervisor
		return 0
	}
	if max, _, _, _ := cpuid(0x40000000, 0); max < 0x40000010 {
		return 0
	}
	khz, _, _, _ := cpuid(0x40000010, 0)
	return uint64(khz) * 1000
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

// MarkMain records that the kernel's main function started. It also
// gives programs the whole vector unit, should the runtime have started
// without making a thread (it cannot: see enableProgramXState).
func MarkMain() {
	stageTSCMain = amd64.RDTSC()
	enableProgramXState()
}

// xstateOn says enableProgramXState ran.
var xstateOn bool

// enableProgramXState gives programs the whole vector unit
// (amd64.EnableProgramXState) once the kernel's runtime has read XCR0 and
// found AVX off for good. The runtime reads it in schedinit (cpuinit,
// before alginit), before it can make any thread, so its first clone
// (sysClone) is the earliest safe point; main is the fallback.
//
// Why so early: QEMU's TCG keys its translations on, among other flags,
// whether XCR0 enables AVX (HF_AVX_EN), so every guest instruction that
// runs both before and after the switch is translated twice. Switching
// at main, after every package initialiser, had 3,500 of the 19,000
// translation blocks of a boot to a program's first output translated
// again (QEMU -d exec), about a fifth of the boot's translation work;
// switching at the first clone leaves only the runtime's own start
// (schedinit) on the other side. Called from the trap path: no
// allocation.
func enableProgramXState() {
	if !xstateOn {
		xstateOn = true
		amd64.EnableProgramXState()
	}
}
