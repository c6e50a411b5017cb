package mm

import "math/bits"

// Frames hands out 4 KiB physical frames, numbered from 0, from a bitmap
// (one bit per frame, set = in use or not RAM) and counts references to
// them. Its storage is given to it (carved out of physical memory at
// boot) and it never allocates Go memory, so the trap handler may use it.
// It does not lock: the kernel's Phys wraps it in an interrupts-off lock.
type Frames struct {
	bitmap []uint64 // bit i = frame i in use (or not usable)
	refs   []uint32 // references to each frame; 0 for free and reserved frames
	nframe uint64   // frames covered
	free   uint64   // frames currently free
	total  uint64   // frames that were ever made free (usable RAM)
	peak   uint64   // most frames in use at once since ResetPeak
	hint   uint64   // bitmap word to start searching from
}

// FramesStorage returns how many bitmap words and reference counts Init
// needs for nframe frames.
func FramesStorage(nframe uint64) (words, refs uint64) { return (nframe + 63) / 64, nframe }

// Init covers frames [0, nframe) with bitmap and refs (sized as
// FramesStorage says), all initially in use and unusable.
func (fa *Frames) Init(bitmap []uint64, refs []uint32, nframe uint64) {
	w, r := FramesStorage(nframe)
	if uint64(len(bitmap)) < w || uint64(len(refs)) < r {
		panic("mm: Frames.Init: storage too small")
	}
	fa.bitmap, fa.refs, fa.nframe = bitmap[:w], refs[:r], nframe
	for i := range fa.bitmap {
		fa.bitmap[i] = ^uint64(0)
	}
	clear(fa.refs)
	fa.free, fa.total, fa.peak, fa.hint = 0, 0, 0, 0
}

// AddFree marks frames [first, first+n) free: usable RAM. Frames beyond
// the covered range, and frames with references, are left as they are.
//
// It goes a bitmap word (64 frames) at a time: the kernel gives it all of
// RAM at boot, and frame by frame that was over 4 million instructions
// for 512 MiB, 4 ms of every boot even where the guest's instructions run
// at the host's speed.
func (fa *Frames) AddFree(first, n uint64) {
	end := min(first+n, fa.nframe)
	// Only frames in use have references, and there are total-free of
	// them: none at boot, before the first Alloc.
	anyRefs := fa.total != fa.free
	for f := first; f < end; {
		w := f / 64
		mask := wordMask(f, end)
		used := fa.bitmap[w] & mask
		for m := used; anyRefs && m != 0; m &= m - 1 {
			if fa.refs[w*64+uint64(bits.TrailingZeros64(m))] != 0 {
				used &^= m & -m // referenced: in use, not RAM to add
			}
		}
		fa.bitmap[w] &^= used
		k := uint64(bits.OnesCount64(used))
		fa.free += k
		fa.total += k
		f = (w + 1) * 64
	}
}

// wordMask has the bits of frames [f, end) within f's bitmap word.
func wordMask(f, end uint64) uint64 {
	lo := f % 64
	mask := ^uint64(0) << lo
	if end < (f/64+1)*64 {
		mask &= ^uint64(0) >> (64 - end%64)
	}
	return mask
}

// Reserve takes free frames [first, first+n) out of use for good (the
// kernel image, the allocator's own storage). Frames in use stay as they
// are.
func (fa *Frames) Reserve(first, n uint64) {
	end := min(first+n, fa.nframe)
	for f := first; f < end; {
		w := f / 64
		free := ^fa.bitmap[w] & wordMask(f, end)
		fa.bitmap[w] |= free
		k := uint64(bits.OnesCount64(free))
		fa.free -= k
		fa.total -= k
		f = (w + 1) * 64
	}
}

// Alloc returns a free frame with one reference. It does not zero it.
func (fa *Frames) Alloc() (f uint64, ok bool) {
	bm, refs := fa.bitmap, fa.refs
	nw := uint64(len(bm))
	for i := uint64(0); i < nw; i++ {
		w := fa.hint + i
		if w >= nw {
			w -= nw
		}
		if w >= uint64(len(bm)) || bm[w] == ^uint64(0) {
			continue
		}
		b := uint64(bits.TrailingZeros64(^bm[w]))
		f := w*64 + b
		if f >= fa.nframe || f >= uint64(len(refs)) {
			continue
		}
		refs[f] = 1
		bm[w] |= 1 << b
		fa.hint = w
		fa.free--
		if used := fa.total - fa.free; used > fa.peak {
			fa.peak = used
		}
		return f, true
	}
	return 0, false
}

// word returns the bitmap word and bit of frame f, nil past the end.
// Written so that the compiler needs no bounds checks: the trap handler
// uses Frames.
func (fa *Frames) word(f uint64) (*uint64, uint64) {
	w := f / 64
	if f >= fa.nframe || w >= uint64(len(fa.bitmap)) {
		return nil, 0
	}
	return &fa.bitmap[w], 1 << (f % 64)
}

// IncRef adds a reference to allocated frame f. It reports false (a
// kernel bug) for a frame that is not allocated.
func (fa *Frames) IncRef(f uint64) bool {
	if f >= uint64(len(fa.refs)) || fa.refs[f] == 0 || fa.refs[f] == ^uint32(0) {
		return false
	}
	fa.refs[f]++
	return true
}

// DecRef drops a reference to f, freeing it when none is left, and
// returns the references left. ok is false (a kernel bug: a double free)
// for a frame that is not allocated.
func (fa *Frames) DecRef(f uint64) (left uint32, ok bool) {
	wp, bit := fa.word(f)
	refs := fa.refs
	if wp == nil || f >= uint64(len(refs)) || refs[f] == 0 {
		return 0, false
	}
	refs[f]--
	if refs[f] > 0 {
		return refs[f], true
	}
	*wp &^= bit
	fa.free++
	if w := f / 64; w < fa.hint {
		fa.hint = w
	}
	return 0, true
}

// Refs returns the references to f (0 if it is free or not RAM).
func (fa *Frames) Refs(f uint64) uint32 {
	if f >= uint64(len(fa.refs)) {
		return 0
	}
	return fa.refs[f]
}

// Stats returns the free, usable and peak-in-use frame counts.
func (fa *Frames) Stats() (free, total, peak uint64) { return fa.free, fa.total, fa.peak }

// ResetPeak makes the current use the new peak.
func (fa *Frames) ResetPeak() { fa.peak = fa.total - fa.free }
