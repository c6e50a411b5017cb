// goroutines: a Go program using goroutines, channels and time.Sleep: 10
// workers each sleep 10 ms and send their index on a channel; main sums
// them. Tests the Go runtime as a guest: threads (clone, or clone3 through
// glibc in the static-PIE build), futexes, timers and nanosleep/epoll.
// Built twice: goroutines (CGO_ENABLED=0, static ET_EXEC) and
// goroutines-pie (cgo, external linker, -static-pie: ET_DYN, no interpreter).
package main

import (
	"fmt"
	"sync"
	"time"
)

func main() {
	const workers = 10
	results := make(chan int)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(10 * time.Millisecond)
			results <- i
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()
	sum, n := 0, 0
	for r := range results {
		sum += r
		n++
	}
	fmt.Printf("goroutines: %d workers done, sum=%d\n", n, sum)
}
