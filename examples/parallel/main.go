// parallel: does the machine run threads at the same time? It prints the
// CPUs Go sees (runtime.NumCPU, from sched_getaffinity), then two checks
// that only parallel execution passes quickly:
//
//   - ping-pong: two goroutines locked to their own threads hand a token
//     back and forth through one atomic word, spinning (no system call,
//     no yield) 5,000 times each way. On one CPU every hand-over waits for the
//     spinning thread's time slice to end; on two it takes microseconds.
//   - burn: two goroutines spin for 500 ms of wall time each; the
//     process's CPU time (getrusage) is then about twice the wall time on
//     two CPUs, about equal on one.
//
// Usage: parallel [pingpong|burn]... (both by default). It exits 1 when a
// check fails (ping-pong not done within 20 s).
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	fmt.Printf("parallel: %d CPUs, GOMAXPROCS %d\n", runtime.NumCPU(), runtime.GOMAXPROCS(0))
	checks := os.Args[1:]
	if len(checks) == 0 {
		checks = []string{"pingpong", "burn"}
	}
	status := 0
	for _, c := range checks {
		switch c {
		case "pingpong":
			if !pingpong() {
				status = 1
			}
		case "burn":
			burn()
		default:
			fmt.Fprintf(os.Stderr, "parallel: unknown check %q\n", c)
			os.Exit(2)
		}
	}
	os.Exit(status)
}

func pingpong() bool {
	const rounds = 5000
	var token atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(20 * time.Second)
	var failed atomic.Bool
	start := time.Now()
	for side := int64(0); side < 2; side++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			for i := side; i < 2*rounds; i += 2 {
				for n := 0; token.Load() != i; n++ {
					if n&0xfffff == 0 && time.Now().After(deadline) {
						failed.Store(true)
						token.Store(-1) // the other side gives up too
						return
					}
					if token.Load() < 0 {
						return
					}
				}
				token.Store(i + 1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() || token.Load() != 2*rounds {
		fmt.Printf("parallel: ping-pong not done in 20 s (%d of %d hand-overs): the threads did not run at once\n", max(token.Load(), 0), 2*rounds)
		return false
	}
	fmt.Printf("parallel: ping-pong: %d hand-overs in %v\n", 2*rounds, time.Since(start).Round(time.Millisecond))
	return true
}

func burn() {
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	start := time.Now()
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := 0
			for time.Since(start) < 500*time.Millisecond {
				for range 100000 {
					x++
				}
			}
			_ = x
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(syscall.TimevalToNsec(after.Utime) - syscall.TimevalToNsec(before.Utime))
	fmt.Printf("parallel: burn: cpu/wall %.2f (cpu %v, wall %v)\n", float64(cpu)/float64(wall), cpu.Round(time.Millisecond), wall.Round(time.Millisecond))
}
