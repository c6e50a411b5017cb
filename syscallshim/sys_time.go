package syscallshim

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"
)

// Clocks: CLOCK_REALTIME is the RTC at boot plus the TSC since;
// MONOTONIC, BOOTTIME and their RAW/COARSE variants are the TSC. The
// CPU-time clocks are the user-mode time the kernel measures per thread
// (as of the thread's last return to the kernel; the time its system
// calls take in yolk's handlers is not counted).

func (t *Thread) clock(id uint64) (int64, error) {
	switch id {
	case unix.CLOCK_REALTIME, unix.CLOCK_REALTIME_COARSE, unix.CLOCK_TAI:
		return t.p.m.Realtime(), nil
	case unix.CLOCK_MONOTONIC, unix.CLOCK_MONOTONIC_RAW, unix.CLOCK_MONOTONIC_COARSE, unix.CLOCK_BOOTTIME:
		return t.p.m.Monotonic(), nil
	case unix.CLOCK_PROCESS_CPUTIME_ID:
		return t.p.times().total(), nil
	case unix.CLOCK_THREAD_CPUTIME_ID:
		return t.times().total(), nil
	}
	return 0, unix.EINVAL
}

func sysClockGettime(t *Thread, a Args) (uint64, error) {
	ns, err := t.clock(a[0])
	if err != nil {
		return 0, err
	}
	return 0, t.putTimespec(a[1], ns)
}

func sysClockGetres(t *Thread, a Args) (uint64, error) {
	if _, err := t.clock(a[0]); err != nil {
		return 0, err
	}
	if a[1] == 0 {
		return 0, nil
	}
	return 0, t.putTimespec(a[1], 1)
}

func sysGettimeofday(t *Thread, a Args) (uint64, error) {
	if a[0] != 0 {
		ns := t.p.m.Realtime()
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:], uint64(ns/1e9))
		binary.LittleEndian.PutUint64(b[8:], uint64(ns%1e9/1e3))
		if err := t.copyOut(a[0], b[:]); err != nil {
			return 0, err
		}
	}
	if a[1] != 0 {
		if err := t.copyOut(a[1], make([]byte, 8)); err != nil { // UTC
			return 0, err
		}
	}
	return 0, nil
}

func sysTime(t *Thread, a Args) (uint64, error) {
	s := uint64(t.p.m.Realtime() / 1e9)
	if a[0] != 0 {
		if err := t.put64(a[0], s); err != nil {
			return 0, err
		}
	}
	return s, nil
}

// sleep blocks the thread (its goroutine) for ns, or until a signal is
// caught: then it returns EINTR and how much was left.
func (t *Thread) sleep(ns int64) (int64, error) {
	if ns <= 0 {
		return 0, nil
	}
	end := time.Now().Add(time.Duration(ns))
	tm := time.NewTimer(time.Duration(ns))
	defer tm.Stop()
	if t.waitSignal(tm.C) {
		return max(int64(time.Until(end)), 0), unix.EINTR
	}
	return 0, nil
}

func sysNanosleep(t *Thread, a Args) (uint64, error) {
	ns, err := t.timespec(a[0])
	if err != nil {
		return 0, err
	}
	left, err := t.sleep(ns)
	if err == unix.EINTR && a[1] != 0 {
		t.putTimespec(a[1], left)
	}
	return 0, err
}

func sysClockNanosleep(t *Thread, a Args) (uint64, error) {
	id, flags := a[0], a[1]
	now, err := t.clock(id)
	if err != nil {
		return 0, err
	}
	if id == unix.CLOCK_PROCESS_CPUTIME_ID || id == unix.CLOCK_THREAD_CPUTIME_ID {
		return 0, unix.EINVAL
	}
	ns, err := t.timespec(a[2])
	if err != nil {
		return 0, err
	}
	abs := flags&unix.TIMER_ABSTIME != 0
	if abs {
		ns -= now
	}
	left, err := t.sleep(ns)
	if err == unix.EINTR && !abs && a[3] != 0 {
		t.putTimespec(a[3], left)
	}
	return 0, err
}
