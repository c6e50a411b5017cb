package mm_test

import (
	"testing"

	"yolk/mm"
	"yolk/mm/mmtest"
)

// BenchmarkFaultFast measures a demand-zero fault (frame, entry, and a
// page table every 512 pages).
func BenchmarkFaultFast(b *testing.B) {
	p := mmtest.NewPhys(1 << 30)
	as := mmtest.NewASPhys(b, p)
	a := mustMap(b, as, 0, uint64(b.N+1)*pg, rw, 0)
	p.Grow(b.N + b.N/512 + 16)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if as.FaultFast(a+uint64(i)*pg, mm.Write) != mm.FaultMapped {
			b.Fatal("fault failed")
		}
	}
}

// BenchmarkForkRelease forks and releases a space of 1024 resident pages
// (4 MiB).
func BenchmarkForkRelease(b *testing.B) {
	p := mmtest.NewPhys(1 << 20)
	as := mmtest.NewASPhys(b, p)
	a := mustMap(b, as, 0, 1024*pg, rw, 0)
	as.ZeroOut(a, 1024*pg)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := as.Fork()
		if err != nil {
			b.Fatal(err)
		}
		c.Release()
	}
}

// BenchmarkCopyOut copies 64 KiB into resident memory.
func BenchmarkCopyOut(b *testing.B) {
	as := mmtest.NewAS(b)
	a := mustMap(b, as, 0, 16*pg, rw, 0)
	buf := make([]byte, 16*pg)
	as.CopyOut(a, buf)
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		as.CopyOut(a, buf)
	}
}
