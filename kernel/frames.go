package kernel

import "math/bits"

// FrameAllocator hands out 4 KiB physical frames from a bitmap (one bit
// per frame, set = in use). It is used from the trap handler, so it never
// allocates Go memory: the bitmap lives in physical memory carved out at
// boot.
type FrameAllocator struct {
	bitmap []uint64 // bit i = frame i in use
	nframe uint64   // frames covered by the bitmap
	free   uint64   // frames currently free
	total  uint64   // frames that were ever free (usable RAM)
	peak   uint64   // most frames in use at once
	hint   uint64   // word index to start searching from
}

// Init covers frames [0, nframe) with bitmap, all initially in use.
func (fa *FrameAllocator) Init(bitmap []uint64, nframe uint64) {
	fa.bitmap = bitmap
	fa.nframe = nframe
	for i := range bitmap {
		bitmap[i] = ^uint64(0)
	}
	fa.free, fa.total, fa.peak, fa.hint = 0, 0, 0, 0
}

// AddFree marks frames [first, first+n) free: usable RAM.
func (fa *FrameAllocator) AddFree(first, n uint64) {
	for f := first; f < first+n && f < fa.nframe; f++ {
		w, b := f/64, f%64
		if fa.bitmap[w]&(1<<b) != 0 {
			fa.bitmap[w] &^= 1 << b
			fa.free++
			fa.total++
		}
	}
}

// Reserve marks frames [first, first+n) used and no longer usable.
func (fa *FrameAllocator) Reserve(first, n uint64) {
	for f := first; f < first+n && f < fa.nframe; f++ {
		w, b := f/64, f%64
		if fa.bitmap[w]&(1<<b) == 0 {
			fa.bitmap[w] |= 1 << b
			fa.free--
			fa.total--
		}
	}
}

// Alloc returns a free frame number, lowest first from the search hint.
func (fa *FrameAllocator) Alloc() (uint64, bool) {
	nw := uint64(len(fa.bitmap))
	for i := uint64(0); i < nw; i++ {
		w := (fa.hint + i) % nw
		if fa.bitmap[w] == ^uint64(0) {
			continue
		}
		b := uint64(bits.TrailingZeros64(^fa.bitmap[w]))
		f := w*64 + b
		if f >= fa.nframe {
			continue
		}
		fa.bitmap[w] |= 1 << b
		fa.hint = w
		fa.free--
		if used := fa.total - fa.free; used > fa.peak {
			fa.peak = used
		}
		return f, true
	}
	return 0, false
}

// Free returns frame f. Freeing a frame that is not in use is a kernel bug
// and reports false.
func (fa *FrameAllocator) Free(f uint64) bool {
	if f >= fa.nframe {
		return false
	}
	w, b := f/64, f%64
	if fa.bitmap[w]&(1<<b) == 0 {
		return false
	}
	fa.bitmap[w] &^= 1 << b
	fa.free++
	if w < fa.hint {
		fa.hint = w
	}
	return true
}

// Stats returns free, usable and peak-in-use frame counts.
func (fa *FrameAllocator) Stats() (free, total, peak uint64) { return fa.free, fa.total, fa.peak }

// ResetPeak makes the current use the new peak.
func (fa *FrameAllocator) ResetPeak() { fa.peak = fa.total - fa.free }
