package tests

import "testing"

// TestAVX runs examples/avx, built for x86-64-v3, under -cpu max (which
// offers AVX2 and no AVX-512 under TCG): four preempted AVX2 threads get
// the scalar code's result, glibc picks its AVX2 memcpy and strlen, CPUID
// and /proc/cpuinfo agree, a signal handler leaves YMM0-15 intact, and
// so do system calls of every kind, for x87 and MXCSR too.
// Each output is what the program prints on Linux on the same CPU.
func TestAVX(t *testing.T) {
	for _, c := range []struct{ name, out string }{
		{"threads", "thread 0: every lane right\nthread 1: every lane right\nthread 2: every lane right\nthread 3: every lane right\n"},
		{"ifunc", "glibc: AVX2 usable\nmemcpy: __memcpy_avx_unaligned_erms\nstrlen: __strlen_avx2\n" +
			"AT_MINSIGSTKSZ >= 1024: yes\navx2: cpu yes, /proc/cpuinfo yes\n"},
		{"signal", "YMM registers changed by the handler: 0 of 16\n"},
		{"syscalls", "thread 0: YMM, x87 and MXCSR intact\nthread 1: YMM, x87 and MXCSR intact\nthread 2: YMM, x87 and MXCSR intact\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			expect(t, run(t, "-i", example(t, "avx"), "-a", c.name), 0, c.out)
		})
	}
}
