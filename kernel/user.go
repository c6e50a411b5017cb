package kernel

import (
	"runtime"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"yolk/amd64"
	"yolk/mm"
)

// Running a Linux program. A goroutine calls EnterUser with the
// program's register state and address space; the call is a system call
// with a private number (so the Go runtime treats it as blocking and
// keeps scheduling other goroutines), which the trap handler turns into a
// switch to ring 3 on the calling thread, with CR3 loaded with the
// address space's root: while the program runs, the trap path saves its
// state straight into the caller's Context. When the program traps in a
// way the kernel does not handle itself (a system call, a fault it cannot
// resolve, a kick), the trap handler resumes the thread in ring 0 where
// it called EnterUser, which returns the vector. Timer interrupts and
// the page faults mm.FaultFast resolves (demand-zero and copy-on-write
// of private memory) are handled without leaving the trap handler; the
// rest are resolved by Machine.Enter with mm's Fault from the goroutine.
//
// Every program address space (package mm) has its own top-level table
// whose upper half is the kernel's (copied at creation; the kernel's
// upper-half entries are all made at boot, so they never change). Program
// pages carry the user bit, the kernel's do not, so nothing the program
// does can reach kernel memory; the kernel reaches program memory only
// through mm's copy layer (the direct map), never by its user address.

// Private system call numbers, far above Linux's.
const (
	sysEnterUser = 0x7f000000 + iota
	sysKickUser
	sysConsoleRead
	sysForgetUser
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

// ErrOutOfMemory is set in a page fault's error code returned by
// EnterUser when the access was allowed but no memory was left: the
// program is to be killed as Linux's OOM killer would. ErrSlowFault
// marks a fault the trap handler left to Machine.Enter. ErrBus marks a
// fault in a file mapping past the end of its file (mm.FaultBus): the
// program gets SIGBUS.
const (
	ErrOutOfMemory = 1 << 32
	ErrSlowFault   = 1 << 33
	ErrBus         = 1 << 34
)

// userFlags are the RFLAGS bits the program may set: arithmetic flags,
// DF, AC and ID. IF is always set and IOPL is always 0.
const userFlags = 0xcd5 | amd64.RFLAGS_DF | amd64.RFLAGS_AC | amd64.RFLAGS_ID

// EnterUser runs the program from state ctx on this thread until it traps
// in a way the kernel leaves to its caller, and returns the vector:
// amd64.VecSyscall for a system call (number in ctx.Regs.RAX), or a CPU
// exception (ctx.Regs.ErrorCode, and ctx.FaultAddr for a page fault).
// ctx must stay alive and unmoved during the call (keep it on the heap).
func EnterUser(ctx *amd64.Context, as *mm.AddressSpace) uint64 {
	syscall.Syscall(sysEnterUser, uintptr(unsafe.Pointer(ctx)), uintptr(unsafe.Pointer(as)), 0)
	runtime.KeepAlive(as)
	return ctx.Regs.Vector
}

// enterUser runs in the trap handler on the sysEnterUser call. The
// caller's Context becomes the one the trap path saves into and resumes
// from while the program runs; the thread's own Context keeps the kernel
// state of the call, which resumes (returning 0) when the program traps
// back. Nothing is copied either way.
func enterUser(t *Thread, ctxAddr, asAddr uint64) uint64 {
	if ctxAddr%16 != 0 { // FXSAVE needs 16-byte alignment
		return errnoRet(unix.EFAULT)
	}
	// Backed now, so that the trap entry never faults writing it: the
	// Context is a live heap object, whose pages the runtime keeps. A
	// thread enters with the same Context again and again; once found
	// backed it stays so until the kernel's space releases pages.
	if t.ctxChecked != ctxAddr || t.ctxReleased != kernelAS.Released {
		b, ok := kmem(ctxAddr, uint64(unsafe.Sizeof(amd64.Context{})), true)
		if !ok {
			return errnoRet(unix.EFAULT)
		}
		u := (*amd64.Context)(unsafe.Pointer(&b[0]))
		if u.XArea != 0 {
			// The XSAVE area too: XSAVE and XRSTOR need it mapped and
			// 64-byte aligned. It lies in the Context's own object
			// (amd64.NewContext), which wrote it, so a Context later
			// made at the same address has its area backed too.
			if _, ok := kmem(u.XArea, uint64(amd64.XStateSize()), true); !ok || u.XArea%64 != 0 {
				return errnoRet(unix.EFAULT)
			}
		}
		t.ctxChecked, t.ctxReleased = ctxAddr, kernelAS.Released
	}
	u := (*amd64.Context)(ptr(uintptr(ctxAddr)))
	if !amd64.Canonical(u.Regs.RIP) || u.Regs.RIP >= UserHi || !amd64.Canonical(u.FSBase) {
		u.Regs.Vector = amd64.VecGP
		u.Regs.ErrorCode = 0
		return 0
	}
	r := &u.Regs
	r.CS, r.SS = amd64.UserCS, amd64.UserDS
	u.FXUnsaved = 0 // the program's vector state is always restored
	r.RFLAGS = r.RFLAGS&userFlags | amd64.RFLAGS_IF | 2
	if asAddr == 0 {
		return errnoRet(unix.EFAULT)
	}
	t.Regs.RAX = 0 // EnterUser's system call returns 0
	t.userRun = t.cpuNs()
	t.affinity = atomic.LoadUint64(&u.Affinity)
	if t.leftCtx == ctxAddr {
		u.SysNs += t.userRun - t.leftRun
	}
	t.leftCtx = 0
	t.inUser = true
	if u.CPUAlarm != 0 {
		sched.changed() // rearmTimer arms the timer for the alarm
	}
	t.userCtx = ctxAddr
	t.userAS = asAddr
	t.userG = curG(t)
	t.cr3 = t.as().Root()
	t.kick = false
	c := cpuIndex()
	loadCR3(c, t.cr3)
	fpuHere(c, u)
	u.LastCPU = uint64(c + 1)
	amd64.SetCurrent(u)
	return 0
}

// cpuNs is how long t has run: its past slices, and the current one if
// it is running.
func (t *Thread) cpuNs() int64 {
	if t.oncpu != 0 {
		return t.RunNs + nanotime() - t.sliceStart
	}
	return t.RunNs
}

// user returns the Context of the program t runs (t.inUser).
func (t *Thread) user() *amd64.Context {
	return (*amd64.Context)(ptr(uintptr(t.userCtx)))
}

// as returns the address space of the program t runs (t.inUser).
func (t *Thread) as() *mm.AddressSpace {
	return (*mm.AddressSpace)(ptr(uintptr(t.userAS)))
}

// loadCR3 switches CPU c to root unless it is loaded already (see
// kcpu.curCR3).
func loadCR3(c int, root uint64) {
	if k := &kcpus[c]; root != k.curCR3.Load() {
		k.curCR3.Store(root)
		amd64.WriteCR3(root)
		k.tlbGap = tlbGapMin
		k.tlbFlushAt = nanotime() + tlbGapMin
	}
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
	u := t.user()
	u.FaultAddr = faultAddr
	// What the profiler needs once the program is out: the Context may
	// be freed (and its page released) while the goroutine goes on.
	t.leftVector, t.leftRAX, t.leftRIP, t.leftRBP = u.Regs.Vector, u.Regs.RAX, u.Regs.RIP, u.Regs.RBP
	now := t.cpuNs()
	u.UserNs += now - t.userRun
	t.leftCtx, t.leftRun = t.userCtx, now
	t.inUser = false
	if t.oncpu != 0 { // running here: leaveUser never sees another CPU's
		amd64.SetCurrent(&t.Context)
	}
}

// userTrap handles a system call or exception taken in ring 3
// (interrupts go through interrupt, whatever the ring). Page faults
// mm.FaultFast resolves go straight back to the program; everything else
// returns to the EnterUser caller.
func userTrap(t *Thread, v uint64) {
	r := &t.user().Regs
	cr2 := uint64(0)
	if v != amd64.VecSyscall {
		cr2 = amd64.ReadCR2()
	}
	if v == amd64.VecPageFault {
		switch t.as().FaultFast(cr2, faultAccess(r.ErrorCode)) {
		case mm.FaultMapped:
			return
		case mm.FaultSlow:
			r.ErrorCode |= ErrSlowFault
		case mm.FaultNoMem:
			r.ErrorCode |= ErrOutOfMemory
		}
	}
	leaveUser(t, cr2)
}

// faultAccess is the access a page fault's error code says was tried
// (Intel SDM Vol. 3A 4.7: bit 1 write, bit 4 instruction fetch).
func faultAccess(code uint64) mm.Access {
	switch {
	case code&2 != 0:
		return mm.Write
	case code&16 != 0:
		return mm.Exec
	}
	return mm.Read
}

// kickUser marks the threads running the program from the Context at
// ctx to leave it before running more of it.
func kickUser(ctx uint64) uint64 {
	for i := sched.first(); i < sched.top; i++ {
		if t := &sched.T[i]; t.State != Free && t.inUser && t.userCtx == ctx {
			t.kick = true
			if t.oncpu != 0 {
				// Running the program on another CPU: make it trap.
				sendIPI(uint32(amd64.CPUByIndex(int(t.oncpu)-1).APICID), VecWake)
			}
		}
	}
	return 0
}

// KickUser makes the thread running the program from ctx return from
// EnterUser with VecKick before it runs any more program code (at once if
// it is not running; if another CPU runs it, an IPI brings it back). A
// thread not in EnterUser is not affected.
func KickUser(ctx *amd64.Context) {
	syscall.RawSyscall(sysKickUser, uintptr(unsafe.Pointer(ctx)), 0, 0)
}

// ForgetUser tells the kernel that the program Context ctx, or the
// address space as (either may be nil), is about to be freed: no kernel
// thread may take it for the one it runs a system call for (the
// profiler reads both from the timer interrupt). Call it when a program
// thread ends, and before the last release of an address space.
func ForgetUser(ctx *amd64.Context, as *mm.AddressSpace) {
	syscall.RawSyscall(sysForgetUser, uintptr(unsafe.Pointer(ctx)), uintptr(unsafe.Pointer(as)), 0)
}

// forgetUser runs in the trap handler on the sysForgetUser call: threads
// not in user mode that last ran ctx or as forget the goroutine that
// called EnterUser, so profTick no longer follows their pointers.
func forgetUser(ctx, as uint64) uint64 {
	// Its vector state must not be saved into it once it is freed.
	amd64.ForgetFPU(uintptr(ctx))
	for i := sched.first(); i < sched.top; i++ {
		if t := &sched.T[i]; !t.inUser && (ctx != 0 && t.userCtx == ctx || as != 0 && t.userAS == as) {
			t.userG = 0
		}
	}
	return 0
}

// userFrames counts the frames userPhys has handed out and not yet got
// back (guarded like the frame allocator).
var userFrames uint64

// UserFrames returns how many frames program address spaces hold.
func UserFrames() uint64 {
	fl := kernelLock()
	n := userFrames
	kernelUnlock(fl)
	return n
}

// userPhys is mm.Phys for program address spaces: frames from the
// allocator, leaving kernelReserveFrames for the kernel, zeroed and
// reached through the direct map. The frame allocator is shared with the
// trap handler, so every call holds it under the kernel lock.
type userPhys struct{}

func (userPhys) Alloc() (uint64, bool) {
	fl := kernelLock()
	var f uint64
	free, _, _ := frames.Stats()
	ok := free > kernelReserveFrames
	if ok {
		f, ok = frames.Alloc()
	}
	if ok {
		userFrames++
	}
	kernelUnlock(fl)
	if !ok {
		return 0, false
	}
	p := f << amd64.PageShift
	*(*[amd64.PageSize]byte)(ptr(uintptr(DirectMap + p))) = [amd64.PageSize]byte{}
	return p, true
}

func (userPhys) IncRef(phys uint64) {
	fl := kernelLock()
	ok := frames.IncRef(phys >> amd64.PageShift)
	kernelUnlock(fl)
	if !ok {
		badFrame("adding a reference to a free frame ", phys)
	}
}

func (userPhys) DecRef(phys uint64) {
	fl := kernelLock()
	left, ok := frames.DecRef(phys >> amd64.PageShift)
	if ok && left == 0 {
		userFrames--
	}
	kernelUnlock(fl)
	if !ok {
		badFrame("freeing a free frame ", phys)
	}
}

func (userPhys) Refs(phys uint64) uint32 {
	fl := kernelLock()
	n := frames.Refs(phys >> amd64.PageShift)
	kernelUnlock(fl)
	return n
}

func (userPhys) Page(phys uint64) *[4096]byte {
	return (*[4096]byte)(ptr(uintptr(DirectMap + phys)))
}

// badFrame reports a frame-accounting bug (it does not stop the kernel).
func badFrame(what string, phys uint64) {
	kprint("yolk: ")
	kprint(what)
	kprintHex(phys)
	kprint("\n")
}

// NewUserAS returns an empty program address space sharing the kernel's
// upper half.
func NewUserAS() (*mm.AddressSpace, error) {
	return mm.New(mm.Config{
		Phys: userPhys{}, Lo: UserLo, Hi: UserHi, MmapTop: UserMmapTop,
		InitRoot:      shareKernelHalf,
		Flush:         flushUser,
		FlushAll:      flushUserAll,
		BeforeRelease: leaveRoot,
		DirectMap:     DirectMap,
	})
}

// shareKernelHalf copies the kernel's upper-half entries into a new root.
func shareKernelHalf(root *[512]uint64) {
	k := physMem.Table(kernelAS.PT.Root)
	copy(root[256:], k[256:])
}

// flushUser drops va's TLB entry on every CPU whose CR3 holds as (the
// TLB holds no other space's entries: every CR3 change flushes them).
// Called by goroutines (mm's changes) and by the trap handler (FaultFast's
// copy-on-write).
func flushUser(as *mm.AddressSpace, va uint64) { flushUserPages(as, va, 1) }

func flushUserAll(as *mm.AddressSpace) { flushUserPages(as, 0, tlbFlushAll) }

func flushUserPages(as *mm.AddressSpace, va, pages uint64) {
	fl := amd64.IRQSave()
	c, root := cpuIndex(), as.Root()
	if kcpus[c].curCR3.Load() == root {
		if pages == 1 {
			amd64.INVLPG(uintptr(va))
		} else {
			amd64.WriteCR3(root)
		}
	}
	shootdown(c, root, va, pages, false)
	amd64.IRQRestore(fl)
}

// leaveRoot moves every CPU's CR3 off a space about to be freed.
func leaveRoot(as *mm.AddressSpace) {
	fl := amd64.IRQSave()
	c, root := cpuIndex(), as.Root()
	if kcpus[c].curCR3.Load() == root {
		kcpus[c].curCR3.Store(kernelAS.PT.Root)
		amd64.WriteCR3(kernelAS.PT.Root)
	}
	shootdown(c, root, 0, 0, true)
	amd64.IRQRestore(fl)
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
