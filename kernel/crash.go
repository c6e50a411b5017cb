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
	crashFault    report.Fault
	crashThread   int32
	crashCode     [16]byte
	crashCodeLen  int
)

// recordCrash keeps the fault for the reporter and returns whether the
// reporter will print it.
func recordCrash(t *Thread, cr2 uint64) bool {
	r := &t.Regs
	crashCodeLen = readKernel(r.RIP, crashCode[:])
	crashFault = report.Fault{
		Vector: r.Vector, ErrorCode: r.ErrorCode, CR2: cr2,
		Regs: report.Regs{
			RAX: r.RAX, RBX: r.RBX, RCX: r.RCX, RDX: r.RDX, RSI: r.RSI, RDI: r.RDI,
			RBP: r.RBP, RSP: r.RSP, R8: r.R8, R9: r.R9, R10: r.R10, R11: r.R11,
			R12: r.R12, R13: r.R13, R14: r.R14, R15: r.R15, RIP: r.RIP,
			RFLAGS: r.RFLAGS, CS: r.CS, SS: r.SS, FSBase: t.FSBase,
		},
	}
	crashThread = t.Tid
	if !crashReady {
		return false
	}
	crashWord = 1
	crashDeadline = nanotime() + crashWatchdogNs
	sched.Block(sched.Cur, waitNone, 0) // frozen for good
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
	f := &crashFault
	kprint("yolk: kernel fault: ")
	kprint(amd64.VectorName(f.Vector))
	kprint(" error ")
	kprintHex(f.ErrorCode)
	kprint(" cr2 ")
	kprintHex(f.CR2)
	kprint(" thread ")
	kprintDec(int64(crashThread))
	kprint("\n")
	r := &f.Regs
	printRegs(&amd64.Frame{
		RIP: r.RIP, RSP: r.RSP, RFLAGS: r.RFLAGS, CS: r.CS, SS: r.SS,
		RAX: r.RAX, RBX: r.RBX, RCX: r.RCX, RDX: r.RDX, RSI: r.RSI, RDI: r.RDI,
		RBP: r.RBP, R8: r.R8, R9: r.R9, R10: r.R10, R11: r.R11, R12: r.R12,
		R13: r.R13, R14: r.R14, R15: r.R15,
	})
	printCode(r.RIP)
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
		f := crashFault
		f.Code = crashCode[:crashCodeLen]
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
