// govdso: Go's clocks through the vDSO. The runtime finds
// __vdso_clock_gettime (version LINUX_2.6) through AT_SYSINFO_EHDR;
// time.Now and time.Since then make no system call. Checks a loop is
// monotonic and agrees with the clock_gettime system call, and shows
// [vdso] and [vvar] in /proc/self/maps.
package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

func sysClock(clock uintptr) int64 {
	var ts syscall.Timespec
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clock, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

func main() {
	failed := false
	fail := func(format string, a ...any) {
		fmt.Printf("govdso: FAIL "+format+"\n", a...)
		failed = true
	}
	n := 100000 // govdso [N [M]]: N clock reads, M system calls to compare
	if len(os.Args) > 1 {
		fmt.Sscan(os.Args[1], &n)
	}
	m := n/10 + 1
	if len(os.Args) > 2 {
		fmt.Sscan(os.Args[2], &m)
	}
	const slack = 20000 // ns
	before := sysClock(0)
	now := time.Now().UnixNano()
	after := sysClock(0)
	if now < before-slack || now > after+slack {
		fail("time.Now %d not within [%d, %d]", now, before, after)
	}
	start := time.Now()
	prev := time.Duration(0)
	for i := 0; i < n; i++ {
		d := time.Since(start) // monotonic reading
		if d < prev {
			fail("time went backwards: %v after %v", d, prev)
			break
		}
		prev = d
	}
	perCall := float64(time.Since(start).Nanoseconds()) / float64(n)
	sysStart := time.Now()
	for i := 0; i < m; i++ {
		sysClock(1)
	}
	sysPerCall := float64(time.Since(sysStart).Nanoseconds()) / float64(m)
	fmt.Printf("govdso: time.Since %.1f ns/call, system call %.1f ns/call\n", perCall, sysPerCall)
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		fail("%v", err)
	}
	seen := 0
	for _, l := range strings.Split(string(maps), "\n") {
		if strings.HasSuffix(l, "[vdso]") || strings.HasSuffix(l, "[vvar]") {
			fmt.Println(l)
			seen++
		}
	}
	if seen != 2 {
		fail("/proc/self/maps shows %d of [vdso] and [vvar]", seen)
	}
	if failed {
		os.Exit(1)
	}
	fmt.Println("govdso: OK")
}
