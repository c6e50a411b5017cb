// gobench: a Go program with a mix of the work Go programs do, for
// cmd/bench to time under yolk and under a Linux VM: allocation and
// garbage collection (a map of 200,000 string keys, built and rebuilt),
// sorting, hashing (SHA-256 over 8 MiB) and JSON encoding and decoding.
// It prints one checksum line, so a wrong result shows.
//
// "gobench clock" instead times Go's clock: 1,000,000 time.Now() calls
// (through the vDSO where there is one) and 20,000 clock_gettime system
// calls made directly (the forced-syscall variant), and prints examples/
// bench's lines ("bench NAME NS-PER-CALL").
package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

// monotonic reads CLOCK_MONOTONIC by a system call (no vDSO), so that
// the timing is the same everywhere.
func monotonic() int64 {
	var ts syscall.Timespec
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, 1, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

func clockBench() {
	const n = 1_000_000
	t0 := monotonic()
	var last time.Time
	for range n {
		last = time.Now()
	}
	fmt.Printf("bench timenow %.1f\n", float64(monotonic()-t0)/n)
	const m = 20_000
	t0 = monotonic()
	for range m {
		monotonic()
	}
	fmt.Printf("bench timenow_syscall %.1f\n", float64(monotonic()-t0)/m)
	if last.IsZero() {
		os.Exit(1)
	}
}

type rec struct {
	Key   string `json:"key"`
	Value int    `json:"value"`
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "clock" {
		clockBench()
		return
	}
	var sum uint64
	for round := range 2 {
		m := make(map[string]int)
		for i := range 200_000 {
			m["key-"+strconv.Itoa(i*7919%1_000_003)] = i + round
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys[:1000] {
			sum += uint64(m[k])
		}
	}

	buf := make([]byte, 8<<20)
	for i := range buf {
		buf[i] = byte(i * 31 >> 3)
	}
	h := sha256.Sum256(buf)
	sum += uint64(h[0])

	recs := make([]rec, 50_000)
	for i := range recs {
		recs[i] = rec{Key: "r" + strconv.Itoa(i), Value: i}
	}
	js, err := json.Marshal(recs)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	var back []rec
	if err := json.Unmarshal(js, &back); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	sum += uint64(back[len(back)-1].Value)
	fmt.Printf("gobench %d %d\n", sum, len(js))
}
