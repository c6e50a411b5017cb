package kernel

import (
	"encoding/binary"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"yolk/amd64"
)

// fastSyscall answers some of a program's system calls in the trap
// handler, without waking the thread's goroutine, when its Context
// allows it (FastCalls.N set: no signal pending, no tracing): it reports
// whether it answered (RAX holds the result). Anything it is not sure to
// answer exactly as the syscall shim would goes to the shim.
//
// clock_gettime (when FastCalls.Clock allows it) is answered if the
// result can be stored as the program's own store would be (mm's
// CopyOutFast). The clocks are the ones the shim answers from the
// Machine (Monotonic is nanotime, Realtime walltime), so both paths
// agree; the CPU-time clocks and bad arguments go to the shim.
func fastSyscall(t *Thread, r *amd64.Frame) bool {
	f := &t.user().Fast
	if f.N == 0 {
		return false
	}
	if r.RAX == unix.SYS_READ || r.RAX == unix.SYS_WRITE {
		return fastFD(t, f, r)
	}
	if r.RAX != unix.SYS_CLOCK_GETTIME || f.Clock == 0 {
		return false
	}
	var ns int64
	switch r.RDI {
	case unix.CLOCK_MONOTONIC, unix.CLOCK_MONOTONIC_RAW, unix.CLOCK_MONOTONIC_COARSE, unix.CLOCK_BOOTTIME:
		ns = nanotime()
	case unix.CLOCK_REALTIME, unix.CLOCK_REALTIME_COARSE, unix.CLOCK_TAI:
		ns = walltime()
	default:
		return false
	}
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(ns/1e9))
	binary.LittleEndian.PutUint64(b[8:], uint64(ns%1e9))
	if !t.as().CopyOutFast(r.RSI, b[:]) {
		return false
	}
	r.RAX = 0
	fastClockCalls++
	return true
}

// fastFD answers read and write on the descriptors FastCalls.FD lists
// (/dev/zero and /dev/null), as the shim does: a write takes the count
// (at most Linux's MAX_RW_COUNT) without reading the buffer, a read of
// /dev/null returns 0, a read of /dev/zero stores zeros where the
// program's own store would not fault. The list holds only while the
// descriptor table's generation is the one it was filled at: any change
// of the table (close, dup2, exec...) sends the next call to the shim.
// A read of more than fastZeroMax bytes goes to the shim too.
func fastFD(t *Thread, f *amd64.FastCalls, r *amd64.Frame) bool {
	if f.Files == 0 || r.RDI >= amd64.MaxFastFDs ||
		atomic.LoadUint64((*uint64)(ptr(uintptr(f.Files)))) != f.FilesGen {
		return false
	}
	k := f.FD[r.RDI]
	n := min(r.RDX, maxRW)
	switch {
	case r.RAX == unix.SYS_WRITE:
		if k&amd64.FastFDSink == 0 {
			return false
		}
	case k&amd64.FastFDEOF != 0:
		n = 0
	case k&amd64.FastFDZero != 0:
		if n > uint64(len(fastZeros)) || n > 0 && !t.as().CopyOutFast(r.RSI, fastZeros[:n]) {
			return false
		}
	default:
		return false
	}
	r.RAX = n
	fastFDCalls++
	return true
}

// maxRW is Linux's MAX_RW_COUNT: longer reads and writes are shortened
// to it.
const maxRW = 0x7ffff000

// fastZeros is the source of fastFD's /dev/zero reads.
var fastZeros [fastZeroMax]byte

// fastZeroMax is the longest /dev/zero read fastFD answers: CopyOutFast
// serves at most two pages.
const fastZeroMax = amd64.PageSize

// fastClockCalls and fastFDCalls count the calls fastSyscall answered.
var fastClockCalls, fastFDCalls uint64
