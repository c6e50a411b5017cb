package kernel

import "yolk/amd64"

// The local APIC timer drives preemption and wake-ups. tamago's
// amd64/lapic driver takes a 32-bit MMIO base, but yolk keeps the lower
// half of the address space for the Linux program, so these few
// registers are reached through the direct map instead (Intel SDM Vol. 3A
// 10.4.1 for the register map, 10.5.4 for the timer).
const (
	lapicPhys = 0xfee00000
	gedPhys   = 0xfea00000 // microvm's ACPI generic event device page

	lapicEOI     = 0x0b0
	lapicSVR     = 0x0f0
	lapicLVTT    = 0x320
	lapicInitCnt = 0x380
	lapicCurCnt  = 0x390
	lapicDivide  = 0x3e0

	lvtMasked   = 1 << 16
	lvtPeriodic = 1 << 17

	// sliceNs is how long a thread runs before another runnable one
	// gets the CPU.
	sliceNs = 10_000_000
	// idleTickNs is how long the timer is armed for when nothing is due.
	idleTickNs = 1_000_000_000
	// A busy CPU under TCG flushes its TLB tlbGapMin after it loads a
	// new address space, then at twice the last span, up to tlbGapMax.
	tlbGapMin = 2_000_000
	tlbGapMax = 256_000_000
)

// tlbTick: under TCG, a busy CPU reloads CR3 now and then (tlbFlushAt).
// QEMU's software TLB starts at 256 entries and is resized only when it
// is flushed whole, by how full it was (doubled above 70%); a tickless
// kernel that flushes only when it switches address spaces left it at
// that size for a program's whole run (Linux's boot flushes thousands of
// times and its TLB starts programs grown). Counted with a uprobe on
// x86_cpu_tlb_fill, one job a boot, before -> with -> Linux's (net of its
// boot): gobench 5.3 M -> 0.16 M (0.34 M), xz -1 of 8 MiB 8.7 M -> 0.21 M
// (8.8 M), gojq 0.39 M -> 0.09 M (0.25 M), lua 26 k -> 26 k. A flush every
// 4 ms instead cost refills: speedtest1 0.10 M -> 0.90 M. So the span
// doubles from tlbGapMin after each flush, back to it when the CPU loads
// another space. Hardware and KVM size their TLBs themselves: no flushes.
var tlbTick bool

// The timer runs in one-shot mode: every trap re-arms it for the next
// thing that must happen (the earliest sleeper's deadline, the end of the
// running thread's slice when another thread waits, the crash watchdog),
// so sleeps end on time rather than at the next periodic tick.
// Each CPU's timer is its own (kcpu.timerDeadline).
var lapicHz uint64 // timer ticks per second (after the divider)

func lapicReg(off uintptr) *uint32 {
	return (*uint32)(ptr(uintptr(DirectMap+lapicPhys) + off))
}

func lapicWrite(off uintptr, v uint32) { *lapicReg(off) = v }
func lapicRead(off uintptr) uint32     { return *lapicReg(off) }

// startTimerCount masks the legacy PICs, enables the local APIC and
// starts its timer counting down, masked, so that initTimer can measure
// its rate over the time calibrateClock takes.
func startTimerCount() {
	// Remap the 8259 PICs to vectors 32-47 and mask every line: their
	// power-on vectors 8-15 would alias CPU exceptions.
	for _, w := range [...][2]uint16{
		{0x20, 0x11}, {0xa0, 0x11}, {0x21, 0x20}, {0xa1, 0x28},
		{0x21, 4}, {0xa1, 2}, {0x21, 1}, {0xa1, 1}, {0x21, 0xff}, {0xa1, 0xff},
	} {
		amd64.Outb(w[0], uint8(w[1]))
	}
	lapicWrite(lapicSVR, 0x100|amd64.VecSpurious)
	lapicWrite(lapicDivide, 0x3) // divide by 16
	lapicWrite(lapicLVTT, lvtMasked)
	lapicWrite(lapicInitCnt, 0xffffffff)
	timerCountTSC = amd64.RDTSC()
}

var timerCountTSC uint64 // when startTimerCount started the count

// timerMinNs is the shortest span the timer's rate is measured over
// (calibrateClock's PIT spans usually take longer).
const timerMinNs = 2_000_000

// initTimer measures the local APIC timer's rate against the TSC since
// startTimerCount and leaves the timer in one-shot mode, stopped.
func initTimer() {
	var ns int64
	for ns < timerMinNs {
		ns = tscToNs(amd64.RDTSC() - timerCountTSC)
	}
	elapsed := 0xffffffff - lapicRead(lapicCurCnt)
	lapicHz = uint64(elapsed) * 1e9 / uint64(ns)
	if lapicHz == 0 {
		lapicHz = 1
	}
	lapicWrite(lapicInitCnt, 0)
	lapicWrite(lapicLVTT, amd64.VecTimer) // one-shot
	tlbTick = underTCG(amd64.CPUID)
}

// underTCG reports whether the CPU is QEMU's TCG emulator: the hypervisor
// bit and TCG's signature in CPUID 0x40000000.
func underTCG(cpuid func(leaf, sub uint32) (a, b, c, d uint32)) bool {
	if _, _, c, _ := cpuid(1, 0); c&(1<<31) == 0 {
		return false
	}
	_, b, c, d := cpuid(0x40000000, 0)
	return b == 0x54474354 && c == 0x43544743 && d == 0x47435447 // "TCGT" "CGTC" "GTCG"
}

// initAPTimer enables another CPU's local APIC and its timer, at the
// rate the boot CPU measured (QEMU's timers all count at one rate).
func initAPTimer() {
	lapicWrite(lapicSVR, 0x100|amd64.VecSpurious)
	lapicWrite(lapicDivide, 0x3)
	lapicWrite(lapicInitCnt, 0)
	lapicWrite(lapicLVTT, amd64.VecTimer)
}

// armTimer makes CPU c's timer fire at monotonic time at (ns).
func armTimer(c int, now, at int64) {
	d := at - now
	if d < 20_000 {
		d = 20_000 // a floor keeps a late deadline from interrupt storms
	}
	count := uint64(d) * lapicHz / 1e9
	if count == 0 {
		count = 1
	}
	if count > 0xffffffff {
		count = 0xffffffff
		d = int64(count * 1e9 / lapicHz)
	}
	kcpus[c].timerDeadline = now + d
	lapicWrite(lapicInitCnt, uint32(count))
}

// timerStale reports whether CPU c's timer may need arming (rearmTimer's
// test, which the fast system calls' return inlines).
func timerStale(c int) bool { return sched.dirty&(1<<c) != 0 || kcpus[c].timerDeadline == 0 }

// rearmTimer arms the timer for the next event if it is not armed for an
// earlier one already. Most traps (a system call that neither blocks nor
// wakes anyone) change nothing the timer depends on and skip the work.
func rearmTimer(c int) {
	k := &kcpus[c]
	if !timerStale(c) {
		return
	}
	sched.dirty &^= 1 << c
	now := nanotime()
	next := now + idleTickNs
	if d := sched.NextDeadline(); d != 0 && d < next {
		next = d
	}
	busy := sched.Cur(c) >= sched.first()
	if busy && sched.othersRunnable(c) {
		if s := sched.Current(c).sliceStart + sliceNs; s < next {
			next = s
		}
	}
	if prof != nil && profNext[c] < next {
		next = profNext[c]
	}
	if t := sched.Current(c); busy && t.inUser {
		if u := t.user(); u.CPUAlarm != 0 {
			// The CPU-time alarm, at the earliest: running without
			// interruption, the program reaches it then.
			if at := now + u.CPUAlarm - (u.UserNs + t.cpuNs() - t.userRun); at < next {
				next = max(at, now+1000)
			}
		}
	}
	if tlbTick && busy && k.tlbFlushAt < next {
		next = k.tlbFlushAt
	}
	if crashDeadline != 0 && crashDeadline < next {
		next = crashDeadline
	}
	if k.timerDeadline == 0 || next < k.timerDeadline || k.timerDeadline <= now {
		armTimer(c, now, next)
	}
}

func lapicAck() { lapicWrite(lapicEOI, 0) }
