package kernel

import (
	"sync"

	"golang.org/x/sys/unix"

	"yolk/amd64"
)

// Machine gives the syscall shim the machine: user-mode entry, the
// program's address space, the console, clocks and randomness. It
// implements syscallshim.Machine.
type Machine struct{}

var consoleMu sync.Mutex

func (Machine) Enter(ctx *amd64.Context) uint64 { return EnterUser(ctx) }

// Kick makes the thread running the program from ctx come back to the
// kernel (EnterUser returns VecKick) before it runs more program code.
func (Machine) Kick(ctx *amd64.Context) { KickUser(ctx) }

func (Machine) Map(addr, length uint64, prot uint32, fixed bool) (uint64, unix.Errno) {
	return UserMap(addr, length, prot, fixed)
}

func (Machine) Unmap(addr, length uint64) unix.Errno { return UserUnmap(addr, length) }

func (Machine) Protect(addr, length uint64, prot uint32) unix.Errno {
	return UserProtect(addr, length, prot)
}

func (Machine) Discard(addr, length uint64) unix.Errno { return UserDiscard(addr, length) }

func (Machine) Bytes(va, n uint64, write bool) ([]byte, bool) { return UserBytes(va, n, write) }

// ConsoleWrite writes to the serial console; concurrent writers do not
// interleave within one call.
func (Machine) ConsoleWrite(b []byte) {
	consoleMu.Lock()
	consoleWrite(b)
	consoleMu.Unlock()
}

// ConsoleRead returns what the UART has received, without waiting.
func (Machine) ConsoleRead(b []byte) int {
	n := 0
	for n < len(b) {
		c, ok := com1.Rx()
		if !ok {
			break
		}
		b[n] = c
		n++
	}
	return n
}

func (Machine) Monotonic() int64 { return nanotime() }
func (Machine) Realtime() int64  { return walltime() }

func (Machine) Random(b []byte) {
	for i := 0; i < len(b); i += 8 {
		v := randomWord()
		for j := 0; j < 8 && i+j < len(b); j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
}

// MemInfo reports total and free physical memory in bytes.
func MemInfo() (total, free uint64) {
	f, t, _ := MemStats()
	return t, f
}

// Mappings lists the program's mappings: start, end and protection.
func (Machine) Mappings() [][3]uint64 {
	vs := UserVMAs()
	out := make([][3]uint64, len(vs))
	for i, v := range vs {
		out[i] = [3]uint64{v.Start, v.End, uint64(v.Prot)}
	}
	return out
}
