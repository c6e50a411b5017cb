// Package vdso is yolk's virtual dynamic shared object: a small ELF
// shared object the kernel maps into every process (AT_SYSINFO_EHDR,
// "[vdso]" in /proc/PID/maps) whose functions answer the clock system
// calls from the TSC without trapping, and the data page ("[vvar]",
// mapped read-only one page below the image) they read the clock's
// parameters from.
//
// The image (Image, image_gen.go) is made by gen.go: GNU as assembles
// code.asm into bare machine code, and gen.go writes the ELF around it
// itself (headers, DT_HASH, dynsym, dynstr, versym/verdef with version
// LINUX_2.6, dynamic section), so the result depends only on the sources
// and the instruction encodings. It exports what Linux's x86-64 vDSO does
// (vdso(7)): __vdso_clock_gettime, __vdso_gettimeofday, __vdso_time,
// __vdso_getcpu and __vdso_clock_getres, each also without the prefix,
// all at version LINUX_2.6, which glibc (dl_vdso_vsym) and Go's runtime
// require and musl accepts.
//
// The data page holds a VVar under a sequence lock (Store and Load): the
// kernel's monotonic clock is
//
//	ns = NsBase + (tsc - TSCBase) * Mult >> Shift   (128-bit product)
//
// and CLOCK_REALTIME is that plus WallOffset. Mult and Shift (NewParams)
// are precise enough that the result stays within a nanosecond of the
// kernel's own tsc*1e9/hz for years of uptime, so the page changes only
// when the wall clock is set.
package vdso

import (
	"math/bits"
	"sync/atomic"
)

//go:generate go run gen.go

// VVarSize is the size of the data page mapped just below the image.
const VVarSize = 4096

// VVar is the start of the data page. gen.go passes the field offsets to
// the assembler; the layout is fixed by the image in use.
type VVar struct {
	Seq        uint32 // odd while the kernel writes
	_          uint32
	TSCBase    uint64 // TSC value at which the monotonic clock was NsBase
	NsBase     uint64
	Mult       uint64 // ns per TSC tick, times 2^Shift
	Shift      uint32 // at most 63
	_          uint32
	WallOffset int64 // CLOCK_REALTIME - CLOCK_MONOTONIC, ns
	// GetCPU says how __vdso_getcpu finds the CPU it runs on: GetCPUSyscall
	// (the getcpu system call), GetCPURDPID or GetCPURDTSCP (IA32_TSC_AUX,
	// which the kernel sets to the CPU's number on every CPU, as Linux
	// does, node 0 in bits 12 and up). Set once (SetGetCPU), outside the
	// sequence lock.
	GetCPU uint32
	_      uint32
}

// How __vdso_getcpu finds the CPU (VVar.GetCPU).
const (
	GetCPUSyscall = 0
	GetCPURDTSCP  = 1
	GetCPURDPID   = 2
)

// SetGetCPU publishes how __vdso_getcpu finds the CPU.
func (v *VVar) SetGetCPU(how uint32) { atomic.StoreUint32(&v.GetCPU, how) }

// Params are the clock parameters a VVar publishes.
type Params struct {
	TSCBase, NsBase uint64
	Mult            uint64
	Shift           uint32
	WallOffset      int64
}

// NewParams returns the parameters of a clock counting nanoseconds from
// tscBase at tscHz, with realtime = monotonic + wallOffset: the largest
// Shift (up to 63) that keeps Mult = 1e9·2^Shift/tscHz below 2^63.
func NewParams(tscHz, tscBase uint64, wallOffset int64) Params {
	if tscHz == 0 {
		tscHz = 1
	}
	p := Params{TSCBase: tscBase, WallOffset: wallOffset}
	for s := uint32(63); ; s-- {
		hi, lo := uint64(1e9)>>(64-s), uint64(1e9)<<s
		if hi < tscHz {
			if q, _ := bits.Div64(hi, lo, tscHz); q < 1<<63 || s == 0 {
				p.Mult, p.Shift = q, s
				return p
			}
		}
	}
}

// Monotonic is what the image computes for CLOCK_MONOTONIC at TSC value
// tsc.
func (p Params) Monotonic(tsc uint64) int64 {
	hi, lo := bits.Mul64(tsc-p.TSCBase, p.Mult)
	// SHRD: the low 64 bits of hi:lo >> Shift.
	ns := lo >> p.Shift
	if p.Shift != 0 {
		ns |= hi << (64 - p.Shift)
	}
	return int64(ns + p.NsBase)
}

// Realtime is what the image computes for CLOCK_REALTIME at tsc.
func (p Params) Realtime(tsc uint64) int64 { return p.Monotonic(tsc) + p.WallOffset }

// Store publishes p. There must be one writer at a time.
func (v *VVar) Store(p Params) {
	atomic.AddUint32(&v.Seq, 1) // odd: readers retry
	atomic.StoreUint64(&v.TSCBase, p.TSCBase)
	atomic.StoreUint64(&v.NsBase, p.NsBase)
	atomic.StoreUint64(&v.Mult, p.Mult)
	atomic.StoreUint32(&v.Shift, p.Shift)
	atomic.StoreInt64(&v.WallOffset, p.WallOffset)
	atomic.AddUint32(&v.Seq, 1)
}

// Load reads the parameters as the image does: again while the sequence
// is odd or changed under it.
func (v *VVar) Load() Params {
	for {
		s := atomic.LoadUint32(&v.Seq)
		if s&1 != 0 {
			continue
		}
		p := Params{
			TSCBase:    atomic.LoadUint64(&v.TSCBase),
			NsBase:     atomic.LoadUint64(&v.NsBase),
			Mult:       atomic.LoadUint64(&v.Mult),
			Shift:      atomic.LoadUint32(&v.Shift),
			WallOffset: atomic.LoadInt64(&v.WallOffset),
		}
		if atomic.LoadUint32(&v.Seq) == s {
			return p
		}
	}
}
