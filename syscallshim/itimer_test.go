package syscallshim

import (
	"testing"
	"time"
)

// The ITIMER_REAL re-arm: on the interval's grid from the last deadline
// (no drift from when the handler ran), and never sooner than minRearm.
func TestNextExpiry(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := time.Millisecond
	for _, c := range []struct {
		deadline time.Time
		interval time.Duration
		now      time.Time
		want     time.Time
	}{
		// Fired on time: the next point of the grid.
		{t0, 10 * ms, t0, t0.Add(10 * ms)},
		// Fired 3 ms late: still the grid, not now+interval.
		{t0, 10 * ms, t0.Add(3 * ms), t0.Add(10 * ms)},
		// Fired 25 ms late: the grid points already past are skipped.
		{t0, 10 * ms, t0.Add(25 * ms), t0.Add(30 * ms)},
		// A grid point closer than minRearm is skipped too.
		{t0, 10 * ms, t0.Add(10*ms - minRearm/2), t0.Add(20 * ms)},
		// 1 µs interval: the first grid point past now+minRearm.
		{t0, time.Microsecond, t0, t0.Add(minRearm + time.Microsecond)},
		// 1 ns interval, fired late: still at least minRearm ahead.
		{t0, 1, t0.Add(5 * ms), t0.Add(5*ms + minRearm + 1)},
	} {
		got := nextExpiry(c.deadline, c.interval, c.now)
		if !got.Equal(c.want) {
			t.Errorf("nextExpiry(t0, %v, t0+%v) = t0+%v, want t0+%v",
				c.interval, c.now.Sub(t0), got.Sub(t0), c.want.Sub(t0))
		}
		if got.Sub(c.now) < minRearm {
			t.Errorf("nextExpiry(t0, %v, t0+%v) is only %v ahead", c.interval, c.now.Sub(t0), got.Sub(c.now))
		}
	}
}
