package kernel

import (
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"yolk/amd64"
	"yolk/hostio"
	"yolk/linux/abi"
	"yolk/mm"
)

// Machine gives the syscall shim the machine: user-mode entry, the
// program's address space, the console, clocks and randomness. It
// implements syscallshim.Machine.
type Machine struct{}

var consoleMu sync.Mutex

// Enter runs the program in as until it traps back, resolving the page
// faults the trap handler left to it (mm.FaultSlow: shared and file
// mappings, or a fault taken while another thread changed the space).
func (Machine) Enter(ctx *amd64.Context, as *mm.AddressSpace) uint64 {
	for {
		v := EnterUser(ctx, as)
		r := &ctx.Regs
		if v != amd64.VecPageFault || r.ErrorCode&ErrSlowFault == 0 {
			return v
		}
		r.ErrorCode &^= ErrSlowFault
		switch as.Fault(ctx.FaultAddr, faultAccess(r.ErrorCode)) {
		case mm.FaultMapped:
			continue
		case mm.FaultNoMem:
			r.ErrorCode |= ErrOutOfMemory
		case mm.FaultBus:
			r.ErrorCode |= ErrBus
		}
		return v
	}
}

// NewAddressSpace returns an empty program address space.
func (Machine) NewAddressSpace() (*mm.AddressSpace, error) { return NewUserAS() }

// SharedMemory returns anonymous shared memory (MAP_SHARED|MAP_ANONYMOUS).
func (Machine) SharedMemory(size uint64) mm.Backing { return mm.NewSharedAnon(userPhys{}, size) }

// Phys returns the physical memory program pages come from.
func (Machine) Phys() mm.Phys { return userPhys{} }

// UserFrames returns how many frames program memory holds.
func (Machine) UserFrames() uint64 { return UserFrames() }

// Kick makes the thread running the program from ctx come back to the
// kernel (EnterUser returns VecKick) before it runs more program code.
func (Machine) Kick(ctx *amd64.Context) { KickUser(ctx) }

// ConsoleWrite writes to the serial console; concurrent writers do not
// interleave within one call.
func (Machine) ConsoleWrite(b []byte) {
	if stdio != nil {
		stdio.Write(hostio.Log, b) // traces and notices: the runner's stderr
		return
	}
	consoleMu.Lock()
	consoleWrite(b)
	consoleMu.Unlock()
}

// TraceWrite writes strace lines for strace's -o: the runner's trace
// file (the serial console without the runner).
func (m Machine) TraceWrite(b []byte) {
	if stdio != nil {
		stdio.Write(hostio.Trace, b)
		return
	}
	m.ConsoleWrite(b)
}

// ProfileWrite sends the profiler's records to the runner (dropped
// without it: the serial console is no place for them).
func (Machine) ProfileWrite(b []byte) {
	if stdio != nil {
		stdio.Write(hostio.Prof, b)
	}
}

// ProfilePeriod is the time between profiler samples (0: off).
func (Machine) ProfilePeriod() int64 { return ProfilePeriod() }

// Forget says that ctx or as (either may be nil) is about to be freed
// (see ForgetUser).
func (Machine) Forget(ctx *amd64.Context, as *mm.AddressSpace) { ForgetUser(ctx, as) }

// ProfilePending reports whether samples wait to be drained.
func (Machine) ProfilePending() bool { return ProfilePending() }

// ProfileCost is the sampler's own cost (see ProfileCost).
func (Machine) ProfileCost() (tickNs, ticks, sinceNs int64) { return ProfileCost() }

// ProfileDrain hands over the profiler's samples (see ProfileDrain).
func (Machine) ProfileDrain(fn func(as uintptr, kind int, nr uint64, pcs, kpcs []uint64)) uint64 {
	return ProfileDrain(fn)
}

// ConsoleRead returns what the UART has received, without waiting.
func (Machine) ConsoleRead(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	// The pointer conversion stays in the call expression: b may be on
	// the goroutine's stack.
	n, _, _ := syscall.RawSyscall(sysConsoleRead, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0)
	return int(n)
}

// ConsoleWait blocks until console input may have arrived or timeout
// passes, whichever is first.
func (Machine) ConsoleWait(timeout time.Duration) {
	seq := atomic.LoadUint32(&consoleSeq)
	ts := unix.NsecToTimespec(int64(timeout))
	syscall.Syscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(&consoleSeq)), abi.FUTEX_WAIT, uintptr(seq), uintptr(unsafe.Pointer(&ts)), 0, 0)
}

func (Machine) Monotonic() int64 { return nanotime() }
func (Machine) Realtime() int64  { return walltime() }

// Random fills b from the programs' generator (progRand).
func (Machine) Random(b []byte) {
	progRand.mu.Lock()
	defer progRand.mu.Unlock()
	for len(b) > 0 {
		if progRand.left == 0 {
			var seed [32]byte
			for i := 0; i < len(seed); i += 8 {
				binary.LittleEndian.PutUint64(seed[i:], randomWord())
			}
			progRand.c, progRand.left = rand.NewChaCha8(seed), reseedBytes
		}
		n := min(len(b), progRand.left)
		progRand.c.Read(b[:n])
		b, progRand.left = b[n:], progRand.left-n
	}
}

// progRand is the programs' random generator (getrandom, /dev/urandom,
// AT_RANDOM): a ChaCha8 stream (Go's cryptographically strong one), as
// Linux's urandom is a ChaCha20 stream, seeded from RDRAND and seeded
// again every reseedBytes. It was an RDRAND per 8 bytes, which under TCG
// is a call out to the host's random source each: 20 MiB from
// /dev/urandom took 62% of a dd's time in it.
var progRand struct {
	mu   sync.Mutex
	c    *rand.ChaCha8
	left int // bytes to give before the next seeding
}

const reseedBytes = 1 << 20

// VDSO returns the vDSO image and the vvar page the kernel keeps current.
func (Machine) VDSO() (image, vvar mm.Backing) { return vdsoBackings() }

// MemInfo reports total and free physical memory in bytes.
func MemInfo() (total, free uint64) {
	f, t, _ := MemStats()
	return t, f
}

// NumCPUs is how many CPUs run programs (CPUsOnline).
func (Machine) NumCPUs() int { return CPUsOnline() }

// CPUTimes is CPU c's time in programs, the kernel and idle (ns), for
// /proc/stat.
func (Machine) CPUTimes(c int) (user, system, idle int64) { return CPUTimes(c) }

// CPUCounts is /proc/stat's context switches, interrupts and running
// threads.
func (Machine) CPUCounts() (switches, interrupts uint64, running int) { return CPUCounts() }
