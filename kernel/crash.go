package kernel

import (
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"unsafe"

	"yolk/amd64"
	"yolk/kernel/report"
	"yolk/linux/abi"
)

// Kernel crash reports. The trap handler cannot allocate, so it cannot
// decode instructions or look up symbols. When a kernel fault happens
// after main started, the handler freezes the faulting thread, records
// the fault, and wakes the reporter goroutine (StartCrashReporter), which
// prints the full report (x86asm decoding, Go symbols) and powers off. If
// the reporter cannot run — the frozen thread may hold a runtime lock —
// the timer prints the raw report after crashWatchdogNs and powers off.
// Before main, the raw report is printed at once. The frozen thread keeps
// its P, so the kernel runs with one P more than it has CPUs.

const crashWatchdogNs = 2_000_000_000

var (
	crashWord     uint32 // futex word: 1 once a crash is recorded
	crashReady    bool   // the reporter goroutine is waiting
	crashDeadline int64
	crashFrame    amd64.Frame // the faulting registers
	crashFS       uint64
	crashCR2      uint64
	crashThread   int32
	crashCode     [16]byte
	crashCodeLen  int
)

// recordCrash keeps the fault for the reporter and returns whether the
// reporter will print it.
func recordCrash(t *Thread, cr2 uint64) bool {
	r := &t.Regs
	crashCodeLen = readKernel(r.RIP, crashCode[:])
	crashFrame, crashFS, crashCR2 = *r, t.FSBase, cr2
	crashThread = t.Tid
	if !crashReady {
		return false
	}
	crashWord = 1
	crashDeadline = nanotime() + crashWatchdogNs
	sched.Block(sched.Cur(cpuIndex()), waitNone, 0) // frozen for good
	sched.FutexWake(uint64(uintptr(unsafe.Pointer(&crashWord))), 1)
	return true
}

// crashWatchdog runs on every tick.
func crashWatchdog(now int64) {
	if crashDeadline != 0 && now > crashDeadline {
		kprint("yolk: crash reporter did not run; raw report:\n")
		rawCrash()
		poweroff(ExitKernelFault)
	}
}

func rawCrash() {
	f := &crashFrame
	kprint("yolk: kernel fault: ")
	kprint(amd64.VectorName(f.Vector))
	kprint(" error ")
	kprintHex(f.ErrorCode)
	kprint(" cr2 ")
	kprintHex(crashCR2)
	kprint(" thread ")
	kprintDec(int64(crashThread))
	kprint("\n")
	printRegs(f)
	printCode(f.RIP)
}

// StartCrashReporter starts the goroutine that prints kernel crash
// reports with decoded instructions and symbols.
func StartCrashReporter() {
	started := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		addr := uintptr(unsafe.Pointer(&crashWord))
		close(started)
		for atomic.LoadUint32(&crashWord) == 0 {
			syscall.Syscall6(syscall.SYS_FUTEX, addr, abi.FUTEX_WAIT, 0, 0, 0, 0)
		}
		f := report.Fault{
			Vector: crashFrame.Vector, ErrorCode: crashFrame.ErrorCode, CR2: crashCR2,
			Regs: report.FrameRegs(&crashFrame, crashFS), Code: crashCode[:crashCodeLen],
		}
		os.Stdout.WriteString("\n")
		report.Kernel(os.Stdout, f, symbolize)
		os.Stdout.WriteString("yolk: faulting kernel thread " + strconv.Itoa(int(crashThread)) + "\n")
		poweroff(ExitKernelFault)
	}()
	<-started
	crashReady = true
}

// symbolize names the Go function containing pc in the kernel image.
func symbolize(pc uint64) (string, uint64, bool) {
	f := runtime.FuncForPC(uintptr(pc))
	if f == nil {
		return "", 0, false
	}
	return f.Name(), pc - uint64(f.Entry()), true
}
