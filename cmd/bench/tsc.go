package main

import "time"

// rdtsc reads the host's time-stamp counter (tsc_amd64.s).
func rdtsc() uint64

// hostTSCkHz measures the host's TSC rate against its monotonic clock
// over d. Under TCG a guest's TSC runs at the host's rate (QEMU derives
// it from the host's TSC), and with KVM it is the host's too.
func hostTSCkHz(d time.Duration) uint64 {
	t0, c0 := time.Now(), rdtsc()
	time.Sleep(d)
	c1, t1 := rdtsc(), time.Now()
	return uint64(float64(c1-c0) / float64(t1.Sub(t0).Nanoseconds()) * 1e6)
}
