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

	// TickNs is the timer period: preemption and sleep granularity.
	TickNs = 2_000_000
	// sliceNs is how long a thread runs before another runnable one
	// gets the CPU.
	sliceNs = 10_000_000
)

func lapicReg(off uintptr) *uint32 {
	return (*uint32)(ptr(uintptr(DirectMap+lapicPhys) + off))
}

func lapicWrite(off uintptr, v uint32) { *lapicReg(off) = v }
func lapicRead(off uintptr) uint32     { return *lapicReg(off) }

// initTimer masks the legacy PICs, enables the local APIC and starts its
// timer in periodic mode at TickNs, calibrated against the TSC.
func initTimer() {
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
	t0 := amd64.RDTSC()
	for tscToNs(amd64.RDTSC()-t0) < 10_000_000 {
	}
	elapsed := 0xffffffff - lapicRead(lapicCurCnt)
	perTick := uint64(elapsed) * TickNs / 10_000_000
	if perTick == 0 {
		perTick = 1
	}
	lapicWrite(lapicLVTT, amd64.VecTimer|lvtPeriodic)
	lapicWrite(lapicInitCnt, uint32(perTick))
}

func lapicAck() { lapicWrite(lapicEOI, 0) }
