package kernel

import (
	"sync/atomic"
	"unsafe"

	"yolk/amd64"
)

// TLB shootdowns (Intel SDM Vol. 3A 4.10.5). A CPU caches translations
// of the address space its CR3 holds; when the kernel changes or removes
// a page's mapping, every other CPU that may cache it must drop it
// before the frame is used for something else. The changer asks with an
// IPI (VecTLB) the CPUs whose CR3 holds that space (every CPU for the
// kernel's runtime window, which all spaces share) and waits until each
// has flushed. One request at a time (tlbLock); a CPU spinning for a
// lock serves requests while it spins (pollTLB), so nobody waits on a
// CPU that waits for it.

// VecTLB is the shootdown IPI's vector, VecWake the one that makes an
// idle CPU look for threads to run (or a CPU running a kicked program
// leave it).
const (
	VecTLB  = 0xf0
	VecWake = 0xf1
)

// tlbFlushAll in a request's pages asks for the whole space.
const tlbFlushAll = ^uint64(0)

var (
	tlbLock atomic.Uint32
	// The request, written under tlbLock before the IPIs go out.
	tlbRoot  uint64  // the space: a program's root, or 0 for the kernel's window
	tlbVA    uint64  // the page, when tlbPages is 1
	tlbPages uint64  // 1, or tlbFlushAll
	tlbLeave bool    // leave tlbRoot (about to be freed) instead
	tlbFPU   uintptr // or save this Context's vector state (remoteUnload)
	// shootdowns counts requests that reached another CPU.
	shootdowns atomic.Uint64
)

// shootdown makes every other CPU caching translations of root (0: the
// kernel's window) flush va (pages 1) or all of it (tlbFlushAll), or,
// with leave, switch its CR3 away from root. Interrupts are off; c is
// this CPU, which flushes its own TLB itself.
func shootdown(c int, root, va, pages uint64, leave bool) {
	if cpusOnline.Load() == 1 {
		return
	}
	for !tlbLock.CompareAndSwap(0, 1) {
		pollTLB(c)
		amd64.Pause()
	}
	tlbRoot, tlbVA, tlbPages, tlbLeave, tlbFPU = root, va, pages, leave, 0
	var sent [amd64.MaxCPUs]bool
	any := false
	for d := range int(cpusOnline.Load()) {
		if d == c || root != 0 && kcpus[d].curCR3.Load() != root {
			continue
		}
		ask(d)
		sent[d], any = true, true
	}
	for d := range sent {
		for sent[d] && kcpus[d].tlbPending.Load() != 0 {
			amd64.Pause()
		}
	}
	if any {
		shootdowns.Add(1)
	}
	tlbLock.Store(0)
}

// ask posts the request to CPU d.
func ask(d int) {
	kcpus[d].tlbPending.Store(1)
	sendIPI(uint32(amd64.CPUByIndex(d).APICID), VecTLB)
}

// remoteUnload has CPU d save the vector state of u that its registers
// hold (amd64.RemoteUnload; the same requests as shootdowns), and waits
// until it has. Interrupts are off.
func remoteUnload(d int, u uintptr) {
	c := cpuIndex()
	for !tlbLock.CompareAndSwap(0, 1) {
		pollTLB(c)
		amd64.Pause()
	}
	tlbRoot, tlbLeave, tlbFPU = 0, false, u
	ask(d)
	for kcpus[d].tlbPending.Load() != 0 {
		amd64.Pause()
	}
	tlbFPU = 0
	tlbLock.Store(0)
}

// fpuHere makes sure u, about to be resumed on CPU c, has its whole
// vector state in its area or in c's registers (trap handler).
func fpuHere(c int, u *amd64.Context) {
	if l := u.FPULive; u.XArea != 0 && l != 0 && int(l-1) != c {
		remoteUnload(int(l-1), uintptr(unsafe.Pointer(u)))
	}
}

// pollTLB serves a shootdown request for CPU c if one is pending.
func pollTLB(c int) {
	k := &kcpus[c]
	if k.tlbPending.Load() == 0 {
		return
	}
	cr3 := k.curCR3.Load()
	switch {
	case tlbFPU != 0:
		amd64.UnloadFPUHere(tlbFPU)
	case tlbLeave:
		if cr3 == tlbRoot {
			k.curCR3.Store(kernelAS.PT.Root)
			amd64.WriteCR3(kernelAS.PT.Root)
		}
	case tlbRoot != 0 && cr3 != tlbRoot:
		// Not loaded any more: the CR3 change flushed it.
	case tlbPages == 1:
		amd64.INVLPG(uintptr(tlbVA))
	default:
		amd64.WriteCR3(cr3) // the runtime window's pages are not global
	}
	k.tlbPending.Store(0)
}

// Kernel-window flushes are gathered while the trap handler runs (a
// munmap of the runtime's releases many pages) and sent once, before the
// kernel lock is released: until then no other CPU can allocate the
// frames freed, and the runtime no longer uses the addresses.
var (
	kflushVA    uint64
	kflushPages uint64 // 0: nothing pending
)

// flushPage is the kernel address space's Flush: va's entry changed.
func flushPage(va uint64) {
	amd64.INVLPG(uintptr(va))
	if kflushPages == 0 {
		kflushVA, kflushPages = va, 1
	} else if kflushPages != 1 || kflushVA != va {
		kflushPages = tlbFlushAll
	}
}

// flushKernelPending sends the gathered kernel-window flush (trap
// handler, kernel lock held).
func flushKernelPending(c int) {
	if kflushPages != 0 {
		shootdown(c, 0, kflushVA, kflushPages, false)
		kflushPages = 0
	}
}
