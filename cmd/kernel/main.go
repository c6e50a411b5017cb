// Command kernel is yolk's kernel image: the boot package's PVH entry
// brings up the machine and starts the Go runtime, whose main runs here.
package main

import (
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/usbarmory/tamago/soc/intel/rtc"

	"yolk/amd64"
	"yolk/boot"
	"yolk/kernel"
	"yolk/kernel/selftest"
)

func main() {
	kernel.MarkMain()
	online := kernel.StartCPUs()
	sc, pf, ticks, idle := kernel.TrapCounts()
	opts := kernel.ParseCmdline(kernel.Cmdline())
	for _, w := range opts.Ignored {
		fmt.Printf("yolk: ignoring unknown option %q\n", w)
	}
	kernel.DebugLog = opts.Debug
	// The runtime started with kernel.RuntimeProcs Ps (GOMAXPROCS in
	// its environment); a different count would be a stop-the-world.
	if n := runtime.GOMAXPROCS(0); n != kernel.RuntimeProcs() {
		fmt.Printf("yolk: the kernel's runtime has %d Ps, not %d\n", n, kernel.RuntimeProcs())
		runtime.GOMAXPROCS(kernel.RuntimeProcs())
	}
	setWallClock()
	kernel.StartCrashReporter()

	if opts.Bootstats {
		names, us := kernel.BootStats()
		fmt.Printf("yolk: boot stats (TSC %d MHz, PVH entry %#x)\n", kernel.TSCHz()/1e6, boot.EntryPC())
		for i := range names {
			fmt.Printf("yolk:   %-14s %8d us\n", names[i], us[i])
		}
		fmt.Printf("yolk: %d of %d CPUs online\n", online, kernel.NumCPUs())
		fmt.Printf("yolk: before main: %d syscalls, %d page faults, %d timer interrupts, %d us idle\n", sc, pf, ticks, idle/1000)
		names, counts, us := kernel.BootSyscalls(4)
		for i := range names {
			fmt.Printf("yolk:   %-14s %8d us in %d calls\n", names[i], us[i], counts[i])
		}
	}
	switch opts.CrashTest {
	case "nil":
		var p *int
		*nilPointer(p) = 1
	case "ud":
		amd64.UD2()
	}
	if opts.Selftest {
		failed := selftest.Run(os.Stdout, selftest.Env{
			MemStats:     kernel.MemStats,
			ResetMemPeak: kernel.ResetMemPeak,
			RTC:          readRTC,
		})
		os.Exit(min(failed, 1))
	}
	if opts.P9Probe {
		os.Exit(min(p9probe(opts), 1))
	}
	if opts.Stdio == "virtio" {
		if err := kernel.StartStdio(opts); err != nil {
			fmt.Printf("yolk: %v; the program's streams stay on the serial console\n", err)
		}
	} else if opts.Stdio != "" {
		fmt.Printf("yolk: unknown stdio=%s; the program's streams stay on the serial console\n", opts.Stdio)
	}
	status := runProgram(opts)
	kernel.StdioFlush()
	os.Exit(status)
}

//go:noinline
func nilPointer(p *int) *int { return p }

var clock rtc.RTC

func readRTC() (time.Time, error) { return clock.Now() }

// setWallClock sets CLOCK_REALTIME from the CMOS RTC, which QEMU keeps in
// UTC.
func setWallClock() {
	for i := 0; i < 100; i++ {
		if t, err := readRTC(); err == nil {
			kernel.SetWallClock(t.UnixNano())
			return
		}
		time.Sleep(time.Millisecond)
	}
	fmt.Println("yolk: cannot read the RTC; the wall clock starts at 1970")
}
