package syscallshim

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"yolk/amd64"
	"yolk/mm"
)

// memory is an address space with what the process keeps about it: the
// program break, the futex waiters and the program's symbols. Processes
// created with CLONE_VM share it; the last one to leave releases it.
type memory struct {
	as    *mm.AddressSpace
	users atomic.Int32

	mu                    sync.Mutex // guards the break
	brkStart, brk, brkMax uint64

	futex futexTable[uint64]
	syms  *symtab
	// elfBase is the load bias of each ELF file the kernel mapped (the
	// program, its interpreter) by path: their mappings are anonymous
	// copies, so the profiler names their file and bias this way.
	elfBase map[string]uint64
}

func newMemory(as *mm.AddressSpace) *memory {
	m := &memory{as: as}
	m.users.Store(1)
	m.futex.init()
	return m
}

// fork returns a copy-on-write copy for a child process (fork(2)).
func (m *memory) fork() (*memory, error) {
	as, err := m.as.Fork()
	if err != nil {
		return nil, err
	}
	c := newMemory(as)
	m.mu.Lock()
	c.brkStart, c.brk, c.brkMax = m.brkStart, m.brk, m.brkMax
	m.mu.Unlock()
	c.syms = m.syms
	c.elfBase = m.elfBase
	return c, nil
}

// share adds a user (clone with CLONE_VM).
func (m *memory) share() *memory {
	m.users.Add(1)
	return m
}

// release drops a user; the last one frees the address space, after
// telling the machine (Forgetter) that it goes.
func (m *memory) release(mc Machine) {
	if m.users.Add(-1) == 0 {
		if f, ok := mc.(Forgetter); ok {
			f.Forget(nil, m.as)
		}
		m.as.Release()
	}
}

// Forgetter is a machine that keeps pointers to program Contexts and
// address spaces beyond Enter (the kernel's profiler does): Forget says
// one of them (either may be nil) is about to be freed.
type Forgetter interface {
	Forget(ctx *amd64.Context, as *mm.AddressSpace)
}

// Access to the program's memory. Every pointer the program passes goes
// through these copies (mm's copy layer): nothing keeps a slice of
// program memory, so a mapping can change under a blocked call without
// harm. Unmapped or wrongly protected memory is EFAULT.

// as returns the address space of t's process. Only exec and the
// process's end change p.mem, when no other thread of the process is left,
// so t reads it without the lock (other processes use memory()).
func (t *Thread) as() *mm.AddressSpace { return t.p.mem.as }

// copyIn returns a copy of the program's [va, va+n).
func (t *Thread) copyIn(va, n uint64) ([]byte, error) {
	if n > maxCopy {
		return nil, unix.EFAULT
	}
	b := make([]byte, n)
	if _, err := t.as().CopyIn(va, b); err != nil {
		return nil, err
	}
	return b, nil
}

// userRange reports whether [va, va+n) lies in the program's half of the
// address space (Linux's access_ok).
func userRange(va, n uint64) bool {
	return va+n >= va && va+n <= StackTop
}

// maxCopy bounds one copyIn: callers with larger inputs go chunk by chunk.
const maxCopy = 1 << 30

// readInto copies the program's [va, va+len(b)) into b.
func (t *Thread) readInto(va uint64, b []byte) error {
	_, err := t.as().CopyIn(va, b)
	return err
}

func (t *Thread) copyOut(va uint64, b []byte) error {
	_, err := t.as().CopyOut(va, b)
	return err
}

func (t *Thread) get32(va uint64) (uint32, error) {
	var b [4]byte
	if err := t.readInto(va, b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

func (t *Thread) get64(va uint64) (uint64, error) {
	var b [8]byte
	if err := t.readInto(va, b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

func (t *Thread) put32(va uint64, v uint32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	return t.copyOut(va, b[:])
}

func (t *Thread) put64(va uint64, v uint64) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return t.copyOut(va, b[:])
}

// pathMax is Linux's PATH_MAX, including the NUL.
const pathMax = 4096

// readString reads a NUL-terminated string that ends within max bytes,
// its NUL included (mm.CopyInString: ENAMETOOLONG beyond, EFAULT at a
// page reached before the NUL, so one ending just before an unmapped
// page is fine).
func (t *Thread) readString(va uint64, max int) (string, error) {
	return t.as().CopyInString(va, max)
}

// readPath reads a pathname argument.
func (t *Thread) readPath(va uint64) (string, error) {
	if va == 0 {
		return "", unix.EFAULT
	}
	return t.readString(va, pathMax)
}

// iovec is one struct iovec.
type iovec struct{ base, len uint64 }

// readIovecs reads an iovec array (at most IOV_MAX = 1024 entries) and
// checks it as Linux does before any transfer: a negative length, or a
// total beyond what ssize_t can return, is EINVAL.
func (t *Thread) readIovecs(va, n uint64) ([]iovec, error) {
	if n > 1024 {
		return nil, unix.EINVAL
	}
	b, err := t.copyIn(va, 16*n)
	if err != nil {
		return nil, err
	}
	v := make([]iovec, n)
	total := uint64(0)
	for i := range v {
		v[i] = iovec{binary.LittleEndian.Uint64(b[16*i:]), binary.LittleEndian.Uint64(b[16*i+8:])}
		if int64(v[i].len) < 0 || total+v[i].len < total || int64(total+v[i].len) < 0 {
			return nil, unix.EINVAL
		}
		total += v[i].len
	}
	return v, nil
}

// timespec reads a struct timespec as nanoseconds; EINVAL for a bad one.
func (t *Thread) timespec(va uint64) (int64, error) {
	var b [16]byte
	if err := t.readInto(va, b[:]); err != nil {
		return 0, err
	}
	sec, nsec := int64(binary.LittleEndian.Uint64(b[:])), int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, unix.EINVAL
	}
	if sec > (1<<62)/1_000_000_000 {
		sec = (1 << 62) / 1_000_000_000
	}
	return sec*1e9 + nsec, nil
}

func (t *Thread) putTimespec(va uint64, ns int64) error {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], uint64(ns/1e9))
	binary.LittleEndian.PutUint64(b[8:], uint64(ns%1e9))
	return t.copyOut(va, b[:])
}

// readStrings reads a NULL-terminated array of string pointers (argv,
// envp) of at most maxArgs entries and maxArgBytes bytes in all (E2BIG).
func (t *Thread) readStrings(va uint64) ([]string, error) {
	var out []string
	if va == 0 {
		return nil, nil // Linux accepts a NULL argv or envp as empty
	}
	total := 0
	for i := 0; ; i++ {
		if i >= maxArgs {
			return nil, unix.E2BIG
		}
		p, err := t.get64(va + 8*uint64(i))
		if err != nil {
			return nil, err
		}
		if p == 0 {
			return out, nil
		}
		s, err := t.readString(p, maxArgBytes)
		if err == unix.ENAMETOOLONG {
			return nil, unix.E2BIG
		}
		if err != nil {
			return nil, err
		}
		total += len(s) + 1
		if total > maxArgBytes {
			return nil, unix.E2BIG
		}
		out = append(out, s)
	}
}

// Bounds of execve's argument and environment strings (Linux allows a
// quarter of the stack limit, 2 MiB with the default 8 MiB).
const (
	maxArgs     = 1 << 17
	maxArgBytes = 2 << 20
)
