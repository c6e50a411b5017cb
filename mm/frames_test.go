package mm

import "testing"

func newFrames(n uint64) *Frames {
	w, r := FramesStorage(n)
	fa := new(Frames)
	fa.Init(make([]uint64, w), make([]uint32, r), n)
	return fa
}

func TestFramesAllocFree(t *testing.T) {
	fa := newFrames(200)
	fa.AddFree(10, 100) // frames 10..109
	fa.Reserve(20, 5)   // 20..24 taken for good
	if free, total, _ := fa.Stats(); free != 95 || total != 95 {
		t.Fatalf("Stats = %d free %d total, want 95 95", free, total)
	}
	seen := map[uint64]bool{}
	for i := 0; i < 95; i++ {
		f, ok := fa.Alloc()
		switch {
		case !ok:
			t.Fatalf("Alloc %d failed", i)
		case f < 10 || f >= 110 || f >= 20 && f < 25:
			t.Fatalf("Alloc returned unusable frame %d", f)
		case seen[f]:
			t.Fatalf("frame %d handed out twice", f)
		case fa.Refs(f) != 1:
			t.Fatalf("Refs(%d) = %d after Alloc", f, fa.Refs(f))
		}
		seen[f] = true
	}
	if _, ok := fa.Alloc(); ok {
		t.Fatal("Alloc succeeded with nothing free")
	}
	if free, _, peak := fa.Stats(); free != 0 || peak != 95 {
		t.Fatalf("free %d peak %d, want 0 95", free, peak)
	}
	// Reference counts: a frame is freed when the last one goes.
	if !fa.IncRef(50) {
		t.Fatal("IncRef of an allocated frame failed")
	}
	if left, ok := fa.DecRef(50); !ok || left != 1 {
		t.Fatalf("DecRef = %d %v, want 1 true", left, ok)
	}
	if free, _, _ := fa.Stats(); free != 0 {
		t.Fatal("frame freed with a reference left")
	}
	if left, ok := fa.DecRef(50); !ok || left != 0 {
		t.Fatalf("last DecRef = %d %v, want 0 true", left, ok)
	}
	if free, _, _ := fa.Stats(); free != 1 {
		t.Fatal("frame not freed by its last DecRef")
	}
	// Double free, references to free, reserved and unknown frames.
	for _, f := range []uint64{50, 22, 5, 1000} {
		if _, ok := fa.DecRef(f); ok {
			t.Errorf("DecRef(%d) of a frame not in use succeeded", f)
		}
		if fa.IncRef(f) {
			t.Errorf("IncRef(%d) of a frame not in use succeeded", f)
		}
	}
	if f, ok := fa.Alloc(); !ok || f != 50 {
		t.Fatalf("Alloc = %d %v, want the freed frame 50", f, ok)
	}
	fa.DecRef(50)
	fa.DecRef(60)
	fa.ResetPeak()
	if free, total, peak := fa.Stats(); free != 2 || total != 95 || peak != 93 {
		t.Fatalf("Stats = %d %d %d, want 2 95 93", free, total, peak)
	}
}

func TestFramesLastWord(t *testing.T) {
	// A frame count that is not a multiple of 64: the bits past it are
	// never handed out.
	fa := newFrames(70)
	fa.AddFree(0, 100)
	n := 0
	for {
		f, ok := fa.Alloc()
		if !ok {
			break
		}
		if f >= 70 {
			t.Fatalf("Alloc returned %d past the end", f)
		}
		n++
	}
	if n != 70 {
		t.Fatalf("allocated %d frames, want 70", n)
	}
}

// AddFree and Reserve work a bitmap word at a time; a frame-by-frame
// model says what they must do over ranges that start, end and lie
// inside words, with frames in use (which AddFree leaves alone, and
// Reserve too) among them.
func TestFramesRangesMatchModel(t *testing.T) {
	const n = 300 // not a multiple of 64
	rng := uint64(1)
	next := func(k uint64) uint64 {
		rng = rng*6364136223846793005 + 1442695040888963407
		return (rng >> 33) % k
	}
	for trial := 0; trial < 200; trial++ {
		fa := newFrames(n)
		free := make([]bool, n+64) // the model: frame is free
		usable := make([]bool, n+64)
		inUse := map[uint64]bool{}
		check := func(what string) {
			t.Helper()
			nfree, ntotal := uint64(0), uint64(0)
			for f := uint64(0); f < n; f++ {
				if got := fa.bitmap[f/64]&(1<<(f%64)) == 0; got != free[f] {
					t.Fatalf("trial %d, %s: frame %d free %v, want %v", trial, what, f, got, free[f])
				}
				if free[f] {
					nfree++
				}
				if usable[f] {
					ntotal++
				}
			}
			if gf, gt, _ := fa.Stats(); gf != nfree || gt != ntotal {
				t.Fatalf("trial %d, %s: Stats %d free %d total, want %d %d", trial, what, gf, gt, nfree, ntotal)
			}
		}
		for op := 0; op < 12; op++ {
			first, cnt := next(n+20), next(150)
			switch next(3) {
			case 0:
				fa.AddFree(first, cnt)
				for f := first; f < first+cnt && f < n; f++ {
					if !free[f] && !inUse[f] {
						free[f], usable[f] = true, true
					}
				}
				check("AddFree")
			case 1:
				fa.Reserve(first, cnt)
				for f := first; f < first+cnt && f < n; f++ {
					if free[f] {
						free[f], usable[f] = false, false
					}
				}
				check("Reserve")
			case 2:
				for k := next(20); k > 0; k-- {
					f, ok := fa.Alloc()
					if !ok {
						break
					}
					if !free[f] {
						t.Fatalf("trial %d: Alloc gave frame %d, not free", trial, f)
					}
					free[f], inUse[f] = false, true
				}
				check("Alloc")
			}
		}
	}
}
