package kernel

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"yolk/amd64"
)

// Running a Linux program. A goroutine calls EnterUser with the
// program's register state; the call is a system call with a private
// number (so the Go runtime treats it as blocking and keeps scheduling
// other goroutines), which the trap handler turns into a switch to ring 3
// on the calling thread: while the program runs, the trap path saves its
// state straight into the caller's Context. When the program traps in a
// way the kernel does not handle itself (a system call, a fault it cannot
// resolve, a kick), the trap handler resumes the thread in ring 0 where
// it called EnterUser, which returns the vector. Timer interrupts and
// demand-paging faults in the program are handled without leaving the
// trap handler.
//
// The program's address space (UserAS) is the lower half of the kernel's
// page tables; its pages carry the user bit, the kernel's do not, so
// nothing the program does can reach kernel memory. Mappings change only
// in the trap handler (through UserMap & co., private system calls too),
// which keeps the frame allocator single-threaded.

// Private system call numbers, far above Linux's.
const (
	sysEnterUser = 0x7f000000 + iota
	sysUserMap
	sysUserUnmap
	sysUserProtect
	sysUserEnsure
	sysUserDiscard
	sysKickUser
	sysConsoleRead
)

// VecKick is the vector EnterUser returns when another thread asked
// (KickUser) for this one to come back to the kernel, e.g. to take a
// signal.
const VecKick = amd64.VecSyscall + 1

// User address-space window: above mmap_min_addr (64 KiB, as Linux) and
// below the top of the canonical lower half.
const (
	UserLo = 0x10000
	UserHi = 0x7ffffffff000
)

// UserMmapTop is where the program's mmaps start, growing down: Linux's
// mmap_base with ASLR off (the top minus a 128 MiB stack gap).
const UserMmapTop = UserHi - 128<<20

var userAS AddressSpace

// ErrOutOfMemory is set in a page fault's error code returned by
// EnterUser when the access was allowed but no memory was left: the
// program is to be killed as Linux's OOM killer would.
const ErrOutOfMemory = 1 << 32

// userFlags are the RFLAGS bits the program may set: arithmetic flags,
// DF, AC and ID. IF is always set and IOPL is always 0.
const userFlags = 0xcd5 | amd64.RFLAGS_DF | amd64.RFLAGS_AC | amd64.RFLAGS_ID

// EnterUser runs the program from state ctx on this thread until it traps
// in a way the kernel leaves to its caller, and returns the vector:
// amd64.VecSyscall for a system call (number in ctx.Regs.RAX), or a CPU
// exception (ctx.Regs.ErrorCode, and ctx.FaultAddr for a page fault).
// ctx must stay alive and unmoved during the call (keep it on the heap).
func EnterUser(ctx *amd64.Context) uint64 {
	syscall.Syscall(sysEnterUser, uintptr(unsafe.Pointer(ctx)), 0, 0)
	return ctx.Regs.Vector
}

// enterUser runs in the trap handler on the sysEnterUser call. The
// caller's Context becomes the one the trap path saves into and resumes
// from while the program runs; the thread's own Context keeps the kernel
// state of the call, which resumes (returning 0) when the program traps
// back. Nothing is copied either way.
func enterUser(t *Thread, ctxAddr uint64) uint64 {
	// Backed now, so that the trap entry never faults writing it: the
	// Context is a live heap object, whose pages the runtime keeps.
	b, ok := kmem(ctxAddr, uint64(unsafe.Sizeof(amd64.Context{})), true)
	if !ok || ctxAddr%16 != 0 { // FXSAVE needs 16-byte alignment
		return errnoRet(unix.EFAULT)
	}
	u := (*amd64.Context)(unsafe.Pointer(&b[0]))
	if !amd64.Canonical(u.Regs.RIP) || u.Regs.RIP >= UserHi || !amd64.Canonical(u.FSBase) {
		u.Regs.Vector = amd64.VecGP
		u.Regs.ErrorCode = 0
		return 0
	}
	r := &u.Regs
	r.CS, r.SS = amd64.UserCS, amd64.UserDS
	r.RFLAGS = r.RFLAGS&userFlags | amd64.RFLAGS_IF | 2
	t.Regs.RAX = 0 // EnterUser's system call returns 0
	t.inUser = true
	t.userCtx = ctxAddr
	t.kick = false
	amd64.SetCurrent(u)
	return 0
}

// user returns the Context of the program t runs (t.inUser).
func (t *Thread) user() *amd64.Context {
	return (*amd64.Context)(ptr(uintptr(t.userCtx)))
}

// context returns what the trap path saves t into: the program's Context
// while t runs the program, else its own.
func (t *Thread) context() *amd64.Context {
	if t.inUser {
		return t.user()
	}
	return &t.Context
}

// leaveUser ends a user-mode run: the caller's Context holds the
// program's state (saved there by the trap path), and the thread resumes
// in ring 0 where it called EnterUser.
func leaveUser(t *Thread, faultAddr uint64) {
	t.user().FaultAddr = faultAddr
	t.inUser = false
	if &sched.T[sched.Cur] == t {
		amd64.SetCurrent(&t.Context)
	}
}

// userTrap handles a system call or exception taken in ring 3
// (interrupts go through interrupt, whatever the ring). Page faults the
// program's mappings allow are resolved here; everything else returns to
// the EnterUser caller.
func userTrap(t *Thread, v uint64) {
	r := &t.user().Regs
	cr2 := uint64(0)
	if v != amd64.VecSyscall {
		cr2 = amd64.ReadCR2()
	}
	if v == amd64.VecPageFault && r.ErrorCode&1 == 0 {
		switch userAS.Resolve(cr2, r.ErrorCode&2 != 0, r.ErrorCode&16 != 0) {
		case FaultMapped:
			return
		case FaultNoMem:
			r.ErrorCode |= ErrOutOfMemory
		}
	}
	leaveUser(t, cr2)
}

// userMM runs an address-space operation for the program in the trap
// handler.
func userMM(nr, a0, a1, a2 uint64) uint64 {
	switch nr {
	case sysUserMap:
		fixed := a2&(1<<32) != 0
		va, e := userAS.Map(a0, a1, uint32(a2), fixed)
		return errnoOr(e, va)
	case sysUserUnmap:
		return errnoOr(userAS.Unmap(a0, a1), 0)
	case sysUserProtect:
		return errnoOr(userAS.Protect(a0, a1, uint32(a2)), 0)
	case sysUserDiscard:
		return errnoOr(userAS.Discard(a0, a1), 0)
	case sysUserEnsure:
		if !userAS.Ensure(a0, a1, a2 != 0) {
			return errnoRet(unix.EFAULT)
		}
		return 0
	case sysKickUser:
		for i := 1; i < maxThreads; i++ {
			if t := &sched.T[i]; t.State != Free && t.inUser && t.userCtx == a0 {
				t.kick = true
			}
		}
		return 0
	}
	return errnoRet(unix.ENOSYS)
}

func mmCall(nr uintptr, a0, a1, a2 uint64) (uint64, unix.Errno) {
	r, _, _ := syscall.RawSyscall(nr, uintptr(a0), uintptr(a1), uintptr(a2))
	if int64(r) < 0 && int64(r) > -4096 {
		return 0, unix.Errno(-int64(r))
	}
	return uint64(r), 0
}

// UserMap maps anonymous memory for the program (mmap(2) semantics: addr
// is a hint unless fixed). Pages are backed on first touch.
func UserMap(addr, length uint64, prot uint32, fixed bool) (uint64, unix.Errno) {
	f := uint64(prot)
	if fixed {
		f |= 1 << 32
	}
	return mmCall(sysUserMap, addr, length, f)
}

// UserUnmap implements munmap(2) for the program.
func UserUnmap(addr, length uint64) unix.Errno {
	_, e := mmCall(sysUserUnmap, addr, length, 0)
	return e
}

// UserProtect implements mprotect(2) for the program.
func UserProtect(addr, length uint64, prot uint32) unix.Errno {
	_, e := mmCall(sysUserProtect, addr, length, uint64(prot))
	return e
}

// UserDiscard implements madvise(MADV_DONTNEED) for the program.
func UserDiscard(addr, length uint64) unix.Errno {
	_, e := mmCall(sysUserDiscard, addr, length, 0)
	return e
}

// UserMapped reports whether the program's [va, va+n) is mapped (for
// writing if write is set), backing its pages so the kernel can access
// them without faulting.
func UserMapped(va, n uint64, write bool) bool {
	if va < UserLo || va+n > UserHi || va+n < va {
		return false
	}
	w := uint64(0)
	if write {
		w = 1
	}
	_, e := mmCall(sysUserEnsure, va, n, w)
	return e == 0
}

// UserBytes returns the program's memory [va, va+n) for the kernel to read
// or write, or false (EFAULT) if it is not all mapped with that access.
// The slice is valid until the program's mappings change.
func UserBytes(va, n uint64, write bool) ([]byte, bool) {
	if n == 0 {
		return nil, true
	}
	if !UserMapped(va, n, write) {
		return nil, false
	}
	return unsafeBytes(va, n), true
}

// KickUser makes the thread running the program from ctx return from
// EnterUser with VecKick before it runs any more program code (at once if
// it is not running; it cannot be, on one CPU, while the caller runs). A
// thread not in EnterUser is not affected.
func KickUser(ctx *amd64.Context) {
	mmCall(sysKickUser, uint64(uintptr(unsafe.Pointer(ctx))), 0, 0)
}

// UserVMAs returns a copy of the program's mappings.
func UserVMAs() []VMA { return append([]VMA(nil), userAS.VMAs()...) }

// initUserAS sets up the program's address space in the lower half of
// the kernel's page tables.
func initUserAS() {
	userAS.PT = kernelAS.PT
	userAS.Mem = userPhys{}
	userAS.Lo, userAS.Hi = UserLo, UserHi
	userAS.User = true
	userAS.MmapTop = UserMmapTop
	userAS.Flush = flushPage
}

// MemStats reports physical memory in bytes: free, usable, and the most
// ever in use since ResetPeak.
func MemStats() (free, total, peak uint64) {
	f, t, p := frames.Stats()
	return f << amd64.PageShift, t << amd64.PageShift, p << amd64.PageShift
}

// ResetMemPeak starts a new peak measurement.
func ResetMemPeak() { frames.ResetPeak() }

// kernelReserveFrames is memory the program cannot take: the kernel's
// runtime keeps working (and reports the program's end) when the program
// has used up everything else.
const kernelReserveFrames = 512 // 2 MiB

// userPhys serves the program's pages, leaving kernelReserveFrames free.
type userPhys struct{ directPhys }

func (u userPhys) Alloc() (uint64, bool) {
	if free, _, _ := frames.Stats(); free <= kernelReserveFrames {
		return 0, false
	}
	return u.directPhys.Alloc()
}
