package kernel

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"yolk/amd64"
)

// fastSyscall answers a program's clock_gettime in the trap handler,
// without waking the thread's goroutine, when its Context allows it
// (FastCalls.N and Clock: no signal pending, no tracing) and the result
// can be stored as the program's own store would be (mm's CopyOutFast).
// The clocks are the ones the syscall shim answers from the Machine
// (Monotonic is nanotime, Realtime walltime), so both paths agree; the
// CPU-time clocks and bad arguments go to the shim. It reports whether it
// answered (RAX holds the result).
func fastSyscall(t *Thread, r *amd64.Frame) bool {
	f := &t.user().Fast
	if f.N == 0 || f.Clock == 0 || r.RAX != unix.SYS_CLOCK_GETTIME {
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

// fastClockCalls counts the clock_gettime calls fastSyscall answered.
var fastClockCalls uint64
