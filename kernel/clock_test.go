package kernel

import "testing"

// simPIT is PIT channel 0 in mode 2 with reload 0xffff beside a TSC at
// tscHz: each sample advances time by step ns (what a latch and two
// reads cost), and a stall of stallNs happens before sample stallAt.
type simPIT struct {
	tscHz   float64
	ns      float64
	step    float64
	stallAt int
	stallNs float64
	n       int

	preemptEvery int
	preemptNs    float64
}

func (p *simPIT) sample() (tsc, took uint64, count uint16) {
	p.n++
	if p.n == p.stallAt {
		p.ns += p.stallNs
	}
	p.ns += p.step
	tsc = uint64(p.ns * p.tscHz / 1e9)
	ticks := uint64(p.ns * pitHz / 1e9)
	// A preemption between the TSC read and the latch, every
	// preemptEvery-th sample: the latch sees the later time.
	took = uint64(p.step * p.tscHz / 2e9)
	if p.preemptEvery > 0 && p.n%p.preemptEvery == 0 {
		ticks = uint64((p.ns + p.preemptNs) * pitHz / 1e9)
		took += uint64(p.preemptNs * p.tscHz / 1e9)
		p.ns += p.preemptNs
	}
	return tsc, took, uint16(0xffff - ticks%0xffff)
}

func TestCalibratePIT(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    simPIT
	}{
		{"fast reads", simPIT{tscHz: 2_596_000_000, step: 300}},
		{"slow reads", simPIT{tscHz: 2_596_000_000, step: 5_000}},
		{"starts just before a reload", simPIT{tscHz: 1e9, ns: 54_900_000, step: 700}},
		// A vCPU descheduled for 80 ms: the count wraps unnoticed in
		// one span, which the median leaves out.
		{"stall in the first span", simPIT{tscHz: 3_000_000_000, step: 1000, stallAt: 100, stallNs: 80e6}},
		// Preempted for 50 us between the TSC read and the latch in
		// one reading of 7: such readings neither start nor end a
		// span (taken, each would put a span 2.5% off).
		{"preempted readings", simPIT{tscHz: 2_596_000_000, step: 1000, preemptEvery: 7, preemptNs: 50_000}},
	} {
		p := tc.p
		got := calibratePIT(p.sample)
		if err := float64(got)/p.tscHz - 1; err > 0.001 || err < -0.001 {
			t.Errorf("%s: %d Hz for a %.0f Hz TSC (%.3f%% off)", tc.name, got, p.tscHz, err*100)
		}
		// Three 2 ms spans, plus at most one restart after a reload.
		if took := p.ns - tc.p.ns - p.stallNs - float64(p.n/max(p.preemptEvery, 1))*p.preemptNs*float64(min(p.preemptEvery, 1)); took > 8.5e6 {
			t.Errorf("%s: calibration took %.1f ms", tc.name, took/1e6)
		}
	}
}

// TestPITSpansSkipSlowReadings checks every span, not only the median:
// with readings preempted between the TSC read and the latch, spans that
// started or ended at them would be off by the preemption.
func TestPITSpansSkipSlowReadings(t *testing.T) {
	p := simPIT{tscHz: 2_596_000_000, step: 1000, preemptEvery: 5, preemptNs: 30_000}
	m := pitMeasure{sample: p.sample}
	m.start()
	for i := 0; i < 10; i++ {
		hz := m.span()
		if err := float64(hz)/p.tscHz - 1; err > 0.001 || err < -0.001 {
			t.Errorf("span %d: %d Hz for a %.0f Hz TSC (%.3f%% off)", i, hz, p.tscHz, err*100)
		}
	}
}

// fakeCPUID answers CPUID as a CPU with the hypervisor bit hv whose
// hypervisor leaves go up to max, with signature sig (12 bytes) and a TSC
// rate of khz in leaf 0x40000010.
func fakeCPUID(hv bool, max uint32, sig string, khz uint32) func(uint32, uint32) (uint32, uint32, uint32, uint32) {
	word := func(i int) uint32 {
		return uint32(sig[i]) | uint32(sig[i+1])<<8 | uint32(sig[i+2])<<16 | uint32(sig[i+3])<<24
	}
	return func(leaf, _ uint32) (uint32, uint32, uint32, uint32) {
		switch leaf {
		case 1:
			if hv {
				return 0, 0, 1 << 31, 0
			}
		case 0x40000000:
			return max, word(0), word(4), word(8)
		case 0x40000010:
			return khz, 0, 0, 0
		}
		return 0, 0, 0, 0
	}
}

func TestHypervisorTSCHz(t *testing.T) {
	for _, tc := range []struct {
		name    string
		hv      bool
		max, kz uint32
		want    uint64
	}{
		{"KVM with the timing leaf", true, 0x40000010, 2_596_000, 2_596_000_000},
		{"TCG: leaves up to 0x40000001", true, 0x40000001, 2_596_000, 0},
		{"leaf present, rate unknown", true, 0x40000010, 0, 0},
		{"bare metal", false, 0x40000010, 2_596_000, 0},
	} {
		if got := hypervisorTSCHz(fakeCPUID(tc.hv, tc.max, "KVMKVMKVM\x00\x00\x00", tc.kz)); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestUnderTCG(t *testing.T) {
	for _, tc := range []struct {
		hv   bool
		sig  string
		want bool
	}{
		{true, "TCGTCGTCGTCG", true},
		{true, "KVMKVMKVM\x00\x00\x00", false},
		{true, "Microsoft Hv", false},
		{false, "TCGTCGTCGTCG", false}, // no hypervisor bit: leaves not to be trusted
	} {
		if got := underTCG(fakeCPUID(tc.hv, 0x40000001, tc.sig, 0)); got != tc.want {
			t.Errorf("hypervisor bit %v, signature %q: %v, want %v", tc.hv, tc.sig, got, tc.want)
		}
	}
}
