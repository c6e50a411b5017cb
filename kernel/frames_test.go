package kernel

import "testing"

type span struct{ first, n uint64 }

// newFA builds an allocator over nframe frames with the free and reserved
// spans applied in order.
func newFA(nframe uint64, free, reserved []span) *FrameAllocator {
	fa := new(FrameAllocator)
	fa.Init(make([]uint64, (nframe+63)/64), nframe)
	for _, s := range free {
		fa.AddFree(s.first, s.n)
	}
	for _, s := range reserved {
		fa.Reserve(s.first, s.n)
	}
	return fa
}

func TestFrameAllocatorInitAllUsed(t *testing.T) {
	fa := newFA(200, nil, nil)
	if f, ok := fa.Alloc(); ok {
		t.Errorf("Alloc after Init without AddFree = %d, want none", f)
	}
	if free, total, peak := fa.Stats(); free != 0 || total != 0 || peak != 0 {
		t.Errorf("Stats = %d, %d, %d; want 0, 0, 0", free, total, peak)
	}
	// Re-Init resets a used allocator.
	fa.AddFree(0, 100)
	fa.Alloc()
	fa.Init(fa.bitmap, 200)
	if free, total, peak := fa.Stats(); free != 0 || total != 0 || peak != 0 {
		t.Errorf("Stats after re-Init = %d, %d, %d; want 0, 0, 0", free, total, peak)
	}
	if _, ok := fa.Alloc(); ok {
		t.Error("Alloc after re-Init succeeded")
	}
}

func TestFrameAllocatorStats(t *testing.T) {
	cases := []struct {
		name      string
		nframe    uint64
		free      []span
		reserved  []span
		wantFree  uint64
		wantTotal uint64
	}{
		{"one span", 256, []span{{0, 256}}, nil, 256, 256},
		{"overlapping free spans", 256, []span{{0, 100}, {50, 100}}, nil, 150, 150},
		{"reserve inside", 256, []span{{0, 256}}, []span{{0, 16}, {100, 4}}, 236, 236},
		{"reserve twice", 256, []span{{0, 256}}, []span{{10, 10}, {15, 10}}, 241, 241},
		{"reserve outside free", 256, []span{{0, 64}}, []span{{64, 64}}, 64, 64},
		{"beyond nframe ignored", 100, []span{{90, 50}}, []span{{99, 10}}, 9, 9},
		{"starting beyond nframe", 100, []span{{100, 50}, {1000, 5}}, nil, 0, 0},
		{"not a multiple of 64", 70, []span{{0, 70}}, nil, 70, 70},
		{"empty", 0, []span{{0, 10}}, nil, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fa := newFA(c.nframe, c.free, c.reserved)
			free, total, peak := fa.Stats()
			if free != c.wantFree || total != c.wantTotal || peak != 0 {
				t.Errorf("Stats = %d, %d, %d; want %d, %d, 0", free, total, peak, c.wantFree, c.wantTotal)
			}
		})
	}
}

// TestFrameAllocatorExhaust allocates until failure: exactly the free
// frames come out, each once, none reserved or beyond nframe.
func TestFrameAllocatorExhaust(t *testing.T) {
	cases := []struct {
		name     string
		nframe   uint64
		free     []span
		reserved []span
	}{
		{"all free", 128, []span{{0, 128}}, nil},
		{"odd size", 70, []span{{0, 1000}}, nil},
		{"holes", 512, []span{{1, 10}, {63, 3}, {200, 100}, {511, 1}}, nil},
		{"reserved", 300, []span{{0, 300}}, []span{{0, 64}, {65, 1}, {128, 100}, {299, 5}}},
		{"single frame", 1, []span{{0, 1}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fa := newFA(c.nframe, c.free, c.reserved)
			usable := map[uint64]bool{}
			for _, s := range c.free {
				for f := s.first; f < s.first+s.n && f < c.nframe; f++ {
					usable[f] = true
				}
			}
			for _, s := range c.reserved {
				for f := s.first; f < s.first+s.n; f++ {
					delete(usable, f)
				}
			}
			free0, total0, _ := fa.Stats()
			if free0 != uint64(len(usable)) || total0 != free0 {
				t.Fatalf("Stats = %d free, %d total; want %d", free0, total0, len(usable))
			}
			got := map[uint64]bool{}
			for i := uint64(0); i < free0; i++ {
				f, ok := fa.Alloc()
				if !ok {
					t.Fatalf("Alloc %d of %d failed", i+1, free0)
				}
				if !usable[f] {
					t.Fatalf("Alloc returned frame %d, which is reserved, never free or beyond nframe", f)
				}
				if got[f] {
					t.Fatalf("Alloc returned frame %d twice", f)
				}
				got[f] = true
			}
			if f, ok := fa.Alloc(); ok {
				t.Fatalf("Alloc after exhausting %d frames returned %d", free0, f)
			}
			free, total, peak := fa.Stats()
			if free != 0 || total != total0 || peak != total0 {
				t.Errorf("Stats after exhaustion = %d, %d, %d; want 0, %d, %d", free, total, peak, total0, total0)
			}
			// Everything comes back.
			for f := range got {
				if !fa.Free(f) {
					t.Fatalf("Free(%d) of an allocated frame failed", f)
				}
			}
			if free, _, _ := fa.Stats(); free != total0 {
				t.Errorf("free after freeing everything = %d, want %d", free, total0)
			}
		})
	}
}

func TestFrameAllocatorLowestFirst(t *testing.T) {
	fa := newFA(256, []span{{5, 3}, {100, 10}}, nil)
	want := []uint64{5, 6, 7, 100, 101}
	for i, w := range want {
		if f, ok := fa.Alloc(); !ok || f != w {
			t.Fatalf("Alloc %d = %d, %v; want %d", i, f, ok, w)
		}
	}
	// A freed low frame is reused before higher free ones (102...).
	fa.Free(6)
	if f, ok := fa.Alloc(); !ok || f != 6 {
		t.Errorf("Alloc after Free(6) = %d, %v; want 6", f, ok)
	}
}

func TestFrameAllocatorFree(t *testing.T) {
	fa := newFA(128, []span{{0, 100}}, []span{{0, 10}})
	f, _ := fa.Alloc()
	if f != 10 {
		t.Fatalf("first Alloc = %d, want 10 (0-9 reserved)", f)
	}
	cases := []struct {
		name  string
		frame uint64
		want  bool
	}{
		{"allocated", f, true},
		{"double free", f, false},
		{"never allocated", 50, false},
		{"beyond nframe", 128, false},
		{"far beyond nframe", 1 << 40, false},
	}
	for _, c := range cases {
		free0, _, _ := fa.Stats()
		if got := fa.Free(c.frame); got != c.want {
			t.Errorf("%s: Free(%d) = %v, want %v", c.name, c.frame, got, c.want)
		}
		free1, _, _ := fa.Stats()
		wantFree := free0
		if c.want {
			wantFree++
		}
		if free1 != wantFree {
			t.Errorf("%s: free count %d -> %d, want %d", c.name, free0, free1, wantFree)
		}
	}
}

func TestFrameAllocatorPeak(t *testing.T) {
	fa := newFA(64, []span{{0, 64}}, nil)
	var got []uint64
	for i := 0; i < 10; i++ {
		f, _ := fa.Alloc()
		got = append(got, f)
	}
	for _, f := range got[:6] {
		fa.Free(f)
	}
	free, total, peak := fa.Stats()
	if free != 60 || total != 64 || peak != 10 {
		t.Fatalf("Stats = %d, %d, %d; want 60, 64, 10", free, total, peak)
	}
	// Use below the peak leaves it alone.
	for i := 0; i < 6; i++ {
		fa.Alloc()
	}
	if _, _, peak := fa.Stats(); peak != 10 {
		t.Errorf("peak = %d after returning to 10 in use, want 10", peak)
	}
	fa.Alloc()
	if _, _, peak := fa.Stats(); peak != 11 {
		t.Errorf("peak = %d with 11 in use, want 11", peak)
	}
	for _, f := range got[6:] {
		fa.Free(f)
	}
	fa.ResetPeak()
	if _, _, peak := fa.Stats(); peak != 7 {
		t.Errorf("peak after ResetPeak = %d, want 7 (current use)", peak)
	}
}

func TestFrameAllocatorReserveBeforePeak(t *testing.T) {
	// Reserved frames count neither as usable nor as in use.
	fa := newFA(64, []span{{0, 64}}, []span{{0, 32}})
	fa.ResetPeak()
	if _, _, peak := fa.Stats(); peak != 0 {
		t.Errorf("peak with reserved frames only = %d, want 0", peak)
	}
	fa.Alloc()
	if free, total, peak := fa.Stats(); free != 31 || total != 32 || peak != 1 {
		t.Errorf("Stats = %d, %d, %d; want 31, 32, 1", free, total, peak)
	}
}
