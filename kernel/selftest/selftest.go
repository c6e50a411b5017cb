// Package selftest is the kernel's built-in self-test (-append selftest):
// it exercises the Go runtime on top of yolk's runtime host — goroutines,
// channels, timers, GC with memory returned to the allocator, mutexes,
// panics, preemption and the wall clock — and prints one line per check
// and a last line "selftest: N passed, M failed".
package selftest

import (
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Env is what the self-test needs from the kernel.
type Env struct {
	// MemStats returns free, usable and peak-in-use physical bytes.
	MemStats     func() (free, total, peak uint64)
	ResetMemPeak func()
	// RTC reads the hardware clock directly (not through time.Now).
	RTC func() (time.Time, error)
}

type check struct {
	name string
	run  func(Env) (string, error)
}

var checks = []check{
	{"goroutines", goroutineRing},
	{"sleep", sleep},
	{"ticker", ticker},
	{"gc", gcRounds},
	{"mutex", mutex},
	{"recover", recovered},
	{"preemption", preemption},
	{"wallclock", wallclock},
}

// Run runs every check, prints the results to w and returns the number of
// failures.
func Run(w io.Writer, env Env) int {
	passed, failed := 0, 0
	for _, c := range checks {
		start := time.Now()
		detail, err := c.run(env)
		d := time.Since(start).Round(time.Millisecond)
		if err != nil {
			failed++
			fmt.Fprintf(w, "selftest: FAIL %s: %v (%v)\n", c.name, err, d)
			continue
		}
		passed++
		fmt.Fprintf(w, "selftest: ok   %s: %s (%v)\n", c.name, detail, d)
	}
	fmt.Fprintf(w, "selftest: %d passed, %d failed\n", passed, failed)
	return failed
}

// goroutineRing passes a token around a ring of 1000 goroutines.
func goroutineRing(Env) (string, error) {
	const n, laps = 1000, 10
	first := make(chan int)
	in := first
	for i := 0; i < n; i++ {
		out := make(chan int)
		go func(in <-chan int, out chan<- int) {
			for v := range in {
				out <- v + 1
			}
			close(out)
		}(in, out)
		in = out
	}
	last := in
	total := 0
	for lap := 0; lap < laps; lap++ {
		first <- 0
		total += <-last
	}
	close(first)
	for range last {
	}
	if total != n*laps {
		return "", fmt.Errorf("token counted %d hops, want %d", total, n*laps)
	}
	return fmt.Sprintf("%d goroutines, %d hops", n, total), nil
}

func sleep(Env) (string, error) {
	start := time.Now()
	time.Sleep(10 * time.Millisecond)
	d := time.Since(start)
	// The upper bound only catches a timer that does not fire at all
	// until something else wakes the machine: under TCG on a loaded host
	// (CI with other VMs) a guest loses hundreds of milliseconds.
	if d < 10*time.Millisecond || d > time.Second {
		return "", fmt.Errorf("time.Sleep(10ms) took %v, want [10ms, 1s]", d)
	}
	return fmt.Sprintf("time.Sleep(10ms) took %v", d.Round(100*time.Microsecond)), nil
}

func ticker(Env) (string, error) {
	const period, n = 5 * time.Millisecond, 10
	tk := time.NewTicker(period)
	defer tk.Stop()
	start := time.Now()
	for i := 0; i < n; i++ {
		<-tk.C
	}
	d := time.Since(start)
	// The lower bound leaves 20% for a host stall that makes the runtime
	// skip ticks and re-phase; the upper one catches a ticker that stalls
	// (loosely: a loaded host takes hundreds of milliseconds from a
	// guest, as with sleep).
	if d < n*period*8/10 || d > time.Second {
		return "", fmt.Errorf("%d ticks of %v took %v", n, period, d)
	}
	return fmt.Sprintf("%d ticks of %v in %v", n, period, d.Round(100*time.Microsecond)), nil
}

var sink [][]byte

// gcRounds allocates 1 GiB in total, 8 MiB per round with a GC between
// rounds, touching every page, and checks that the physical memory in
// use stays bounded.
func gcRounds(env Env) (string, error) {
	const round, chunk, total = 4 << 20, 1 << 20, 1 << 30
	runtime.GC()
	free0, usable, _ := env.MemStats()
	used0 := usable - free0
	env.ResetMemPeak()
	for done := 0; done < total; done += round {
		sink = sink[:0]
		for i := 0; i < round/chunk; i++ {
			b := make([]byte, chunk)
			for j := 0; j < len(b); j += 4096 {
				b[j] = byte(j)
			}
			sink = append(sink, b)
		}
		runtime.GC()
	}
	sink = nil
	runtime.GC()
	_, _, peak := env.MemStats()
	grew := int64(peak) - int64(used0)
	const bound = 48 << 20
	if grew > bound {
		return "", fmt.Errorf("peak resident memory grew by %d MiB (bound %d MiB)", grew>>20, bound>>20)
	}
	return fmt.Sprintf("1 GiB allocated in %d rounds; peak resident %d MiB (+%d MiB over %d MiB at start)",
		total/round, peak>>20, grew>>20, used0>>20), nil
}

func mutex(Env) (string, error) {
	const workers, iters = 8, 2000
	var mu sync.Mutex
	var wg sync.WaitGroup
	count := 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < iters; i++ {
				mu.Lock()
				c := count
				if i%100 == 0 {
					runtime.Gosched() // hold the lock across a reschedule
				}
				count = c + 1
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if count != workers*iters {
		return "", fmt.Errorf("count %d, want %d", count, workers*iters)
	}
	return fmt.Sprintf("%d goroutines x %d increments", workers, iters), nil
}

func recovered(Env) (msg string, err error) {
	defer func() {
		r := recover()
		if r == nil {
			err = fmt.Errorf("nothing to recover")
			return
		}
		msg = fmt.Sprintf("recovered %q", fmt.Sprint(r))
	}()
	var m map[string]int
	m["x"] = 1 // assignment to a nil map panics
	return "", fmt.Errorf("no panic")
}

// preemption runs a goroutine in a loop with no function calls (no
// cooperative preemption point) while another sleeps; the sleeper must
// wake on time, which needs the kernel to time-slice its threads. The
// sleep starts once the spinner runs: with several CPUs the spinner may
// start on another one, later (a busy host runs vCPUs when it can).
func preemption(Env) (string, error) {
	var stop, started atomic.Bool
	spins := make(chan uint64)
	go func() {
		started.Store(true)
		n := uint64(1)
		for !stop.Load() {
			n++
		}
		spins <- n
	}()
	for t0 := time.Now(); !started.Load(); time.Sleep(time.Millisecond) {
		if time.Since(t0) > 5*time.Second {
			stop.Store(true)
			return "", fmt.Errorf("spinner never ran")
		}
	}
	start := time.Now()
	time.Sleep(20 * time.Millisecond)
	d := time.Since(start)
	stop.Store(true)
	n := <-spins
	if d > 200*time.Millisecond {
		return "", fmt.Errorf("sleeper woke after %v with a spinning goroutine", d)
	}
	return fmt.Sprintf("sleeper woke after %v while a goroutine spun %d times", d.Round(100*time.Microsecond), n), nil
}

func wallclock(env Env) (string, error) {
	var rtc time.Time
	var err error
	for i := 0; i < 10; i++ { // the RTC refuses reads during its update cycle
		if rtc, err = env.RTC(); err == nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err != nil {
		return "", fmt.Errorf("reading the RTC: %v", err)
	}
	now := time.Now()
	diff := now.Sub(rtc)
	if diff < -2*time.Second || diff > 2*time.Second {
		return "", fmt.Errorf("time.Now() %v is %v from the RTC %v", now.UTC(), diff, rtc.UTC())
	}
	return fmt.Sprintf("now=%d (%s), %v from the RTC", now.Unix(), now.UTC().Format(time.RFC3339), diff.Round(time.Millisecond)), nil
}
