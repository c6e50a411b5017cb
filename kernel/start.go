package kernel

import (
	"unsafe"

	"yolk/amd64"
	"yolk/linux/abi"
	"yolk/mm"
)

// Start brings the machine from the boot page tables to the Go runtime:
// memory map and frame allocator, the kernel's page tables, GDT/IDT/TSS
// and SYSCALL, clocks and the timer, the idle thread and the runtime's
// first thread, which it resumes at the runtime's Linux entry point with
// a Linux initial stack. It runs on the boot stack before the runtime is
// initialised: no allocation, no package-level values that need init
// code, no error values.
func Start(p BootParams) {
	params = p
	stamp(stageEntry, p.EntryTSC)
	stamp(stageGo, amd64.RDTSC())
	com1.Init()
	amd64.InitTrapStacks()
	amd64.SetCurrent(&bootCtx)
	amd64.SetTrapHandler(trap)
	amd64.SetNestedHandler(nestedFault)
	amd64.InitCPU()
	amd64.InitFPU() // SSE (already on from entry.s) and CR0.WP: read-only pages bind the kernel too
	amd64.InitXSave()

	bootRead := func(phys uint64, n int) []byte {
		if phys+uint64(n) > 1<<30 || phys == 0 {
			return nil // only the first GiB is mapped this early
		}
		return physBytes(phys, n)
	}
	if !ParseStartInfo(bootRead, p.StartInfo, &bootInfo) {
		kprint("yolk: no usable hvm_start_info (needs a PVH loader with memory map)\n")
		poweroff(ExitKernelFault)
	}
	findCPUs(bootRead)
	initMemory()
	initThreadTable()
	stamp(stageMemory, amd64.RDTSC())
	startTimerCount()
	calibrateClock()
	initTimer()
	initConsoleIRQ()
	stamp(stageClock, amd64.RDTSC())

	// Threads 0 to NumCPUs()-1: each CPU's idle thread.
	sched.SetCPUs(NumCPUs())
	initIdle(0)

	// The Go runtime's m0, entering like a Linux process.
	i, _ := sched.Spawn()
	t := &sched.T[i]
	t.State = Runnable
	t.FX.InitFX()
	t.Regs = amd64.Frame{
		RIP: uint64(p.RuntimeEntry), CS: amd64.KernelCS, SS: amd64.KernelDS,
		RFLAGS: amd64.RFLAGS_IF | 2,
		RSP:    runtimeStack(),
	}
	t.FSBase = uint64(uintptr(unsafe.Pointer(&dummyTLS[2])))
	sched.Run(0, i)
	t.sliceStart = nanotime()
	amd64.SetCurrent(&t.Context)
	stamp(stageRuntime, amd64.RDTSC())
	amd64.Resume()
}

// runtimeStack lays out the Linux initial process stack for the Go
// runtime at the top of m0Stack: argc, argv, envp, auxv (AT_PAGESZ and
// AT_RANDOM are all the runtime needs from it), and returns its address.
// The environment holds GOMAXPROCS, one P more than CPUs (see
// RuntimeProcs): the runtime sizes its Ps once at start, instead of the
// kernel's main changing their number with a stop-the-world, which under
// TCG ran several milliseconds of code for the first time at every boot.
func runtimeStack() uint64 {
	top := uintptr(unsafe.Pointer(&m0Stack[0])) + uintptr(len(m0Stack))
	// Strings and random bytes at the very top.
	name := top - 16
	putString(name, "yolk")
	env := name - 32
	putDecimal(putString(env, "GOMAXPROCS="), uint64(RuntimeProcs()))
	rnd := env - 16
	r := unsafe.Slice((*byte)(ptr(rnd)), 16)
	for k := 0; k < 16; k += 8 {
		v := randomWord()
		for j := 0; j < 8; j++ {
			r[k+j] = byte(v >> (8 * j))
		}
	}
	words := [...]uint64{
		1, uint64(name), 0, // argc, argv[0], end of argv
		uint64(env), 0, // envp
		abi.AT_PAGESZ, amd64.PageSize,
		abi.AT_RANDOM, uint64(rnd),
		abi.AT_NULL, 0,
	}
	sp := (rnd - uintptr(len(words))*8) &^ 15
	for k, w := range words {
		*(*uint64)(ptr(sp + uintptr(8*k))) = w
	}
	return uint64(sp)
}

// RuntimeProcs is the kernel runtime's GOMAXPROCS: one P more than CPUs,
// since a kernel fault freezes the faulting thread with the P it holds,
// and the crash reporter needs another to run.
func RuntimeProcs() int { return NumCPUs() + 1 }

// putString stores s and a NUL at addr and returns the NUL's address
// (where a string to append goes).
func putString(addr uintptr, s string) uintptr {
	for k := 0; k < len(s); k++ {
		*(*byte)(ptr(addr + uintptr(k))) = s[k]
	}
	*(*byte)(ptr(addr + uintptr(len(s)))) = 0
	return addr + uintptr(len(s))
}

// putDecimal stores v in decimal and a NUL at addr.
func putDecimal(addr uintptr, v uint64) {
	n := uintptr(1)
	for w := v; w >= 10; w /= 10 {
		n++
	}
	*(*byte)(ptr(addr + n)) = 0
	for ; n > 0; n-- {
		*(*byte)(ptr(addr + n - 1)) = byte('0' + v%10)
		v /= 10
	}
}

// initIdle makes slot c CPU c's idle thread, running amd64.IdleLoop
// (which touches no stack: interrupts arrive on the IST stacks, so
// every idle thread can have the same one).
func initIdle(c int) {
	idle := &sched.T[c]
	idle.State = Runnable
	idle.FX.InitFX()
	idle.Regs = amd64.Frame{
		RIP: amd64.IdlePC(), CS: amd64.KernelCS, SS: amd64.KernelDS,
		RFLAGS: amd64.RFLAGS_IF | 2,
		RSP:    uint64(uintptr(unsafe.Pointer(&idleStack[0]))+uintptr(len(idleStack))) &^ 15,
	}
	idle.FSBase = amd64.TrapFSBase()
}

// randomWord returns RDRAND output where the CPU has it, else a TSC-based
// mix. Used for seeds: the runtime's (sysGetrandom) and the programs'
// generator's (Machine.Random).
func randomWord() uint64 {
	if rdrand == 0 {
		rdrand = 2
		if amd64.HasFeature(true, 30) { // CPUID.1:ECX.RDRAND
			rdrand = 1
		}
	}
	if rdrand == 1 {
		for i := 0; i < 10; i++ {
			if v, ok := amd64.RDRAND(); ok {
				return v
			}
		}
	}
	return splitmix(amd64.RDTSC())
}

var mixState uint64

// rdrand caches whether the CPU has RDRAND: 0 not asked yet, 1 yes, 2 no
// (randomWord runs before package initialisation, and on the trap path).
var rdrand uint8

func splitmix(seed uint64) uint64 {
	mixState += 0x9e3779b97f4a7c15 ^ seed
	z := mixState
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// loadedEnd returns the end of what the loader placed of the image that
// starts at img, by the program headers there (the first segment holds
// the ELF header), at most linkEnd, the linker's end of bss. pvhnote
// -trim may end the last segment before a bss buffer the kernel never
// touches (Go's FIPS entropy scratch, 32 MiB); the kernel neither maps
// nor reserves memory for it.
func loadedEnd(img, linkEnd uint64) uint64 {
	if *(*uint32)(ptr(uintptr(img))) != 0x464c457f { // "\x7fELF"
		return linkEnd
	}
	phoff := *(*uint64)(ptr(uintptr(img + 32)))
	phentsize := uint64(*(*uint16)(ptr(uintptr(img + 54))))
	phnum := uint64(*(*uint16)(ptr(uintptr(img + 56))))
	if phoff+phnum*phentsize > amd64.PageSize || phentsize < 56 {
		return linkEnd
	}
	var end uint64
	for i := uint64(0); i < phnum; i++ {
		ph := img + phoff + i*phentsize
		if *(*uint32)(ptr(uintptr(ph))) != 1 { // PT_LOAD
			continue
		}
		if e := *(*uint64)(ptr(uintptr(ph + 16))) + *(*uint64)(ptr(uintptr(ph + 40))); e > end {
			end = e
		}
	}
	if end == 0 || end > linkEnd {
		return linkEnd
	}
	return end
}

// initMemory builds the frame allocator from the PVH memory map and
// replaces the boot page tables with the kernel's own.
func initMemory() {
	etext, erodata, end := amd64.ImageBounds()
	data := pageUp(erodata)
	base := params.KernelVirtBase
	kernelStartPhys = kernelPhys
	kernelEndPhys = pageUp(loadedEnd(base+kernelPhys, end) - base)

	var ram uint64
	for i := 0; i < bootInfo.NMemmap; i++ {
		m := bootInfo.Memmap[i]
		if m.Type != e820RAM {
			continue
		}
		ram += m.Size
		if m.Addr+m.Size > maxPhys {
			maxPhys = m.Addr + m.Size
		}
	}
	// Compare the top of RAM, which is what -m sets for small machines
	// (the usable total is a little less: firmware keeps low memory).
	// Refused only once the kernel's page tables exist: powering off a
	// microvm writes to the ACPI event device, which the boot page tables
	// do not map (bare QEMU would stay on).
	tooSmall := (maxPhys+1<<20-1)>>20 < MinMemMiB

	// The bitmap goes in the first RAM above the kernel that holds it,
	// inside the first GiB (all the boot tables map).
	nframe := pageUp(maxPhys) >> amd64.PageShift
	words, nrefs := mm.FramesStorage(nframe)
	need := pageUp(words*8 + nrefs*4)
	var bm uint64
	for i := 0; i < bootInfo.NMemmap && bm == 0; i++ {
		m := bootInfo.Memmap[i]
		start := pageUp(m.Addr)
		if start < kernelEndPhys {
			start = kernelEndPhys
		}
		if m.Type == e820RAM && start+need <= m.Addr+m.Size && start+need <= 1<<30 && !overlapsModule(start, need) {
			bm = start
		}
	}
	if bm == 0 {
		kprint("yolk: no room for the frame bitmap\n")
		poweroff(ExitNoMemory)
	}
	frames.Init(unsafe.Slice((*uint64)(ptr(uintptr(DirectMap+bm))), words),
		unsafe.Slice((*uint32)(ptr(uintptr(DirectMap+bm+words*8))), nrefs), nframe)
	for i := 0; i < bootInfo.NMemmap; i++ {
		m := bootInfo.Memmap[i]
		if m.Type == e820RAM {
			first := pageUp(m.Addr) >> amd64.PageShift
			last := pageDown(m.Addr+m.Size) >> amd64.PageShift
			if last > first {
				frames.AddFree(first, last-first)
			}
		}
	}
	frames.Reserve(0, 0x100000>>amd64.PageShift) // firmware, start_info
	frames.Reserve(kernelStartPhys>>amd64.PageShift, (kernelEndPhys-kernelStartPhys)>>amd64.PageShift)
	frames.Reserve(bm>>amd64.PageShift, need>>amd64.PageShift)
	for i := 0; i < bootInfo.NModules; i++ {
		m := bootInfo.Modules[i]
		first := pageDown(m.Addr)
		frames.Reserve(first>>amd64.PageShift, (pageUp(m.Addr+m.Size)-first)>>amd64.PageShift)
	}
	frames.ResetPeak()

	// The kernel's page tables.
	root, ok := physMem.Alloc()
	if !ok {
		poweroff(ExitNoMemory)
	}
	pt := amd64.PageTable{Root: root, Mem: physMem}
	imgStart := base + kernelPhys
	for va := imgStart; va < base+kernelEndPhys; va += amd64.PageSize {
		flags := uint64(amd64.PTE_G)
		switch {
		case va >= imgStart+amd64.PageSize && va < etext:
			// text: executable, read-only
		case va < data:
			flags |= amd64.PTE_NX // headers and read-only data
		default:
			flags |= amd64.PTE_NX | amd64.PTE_W
		}
		if !pt.Map(va, va-base, flags) {
			poweroff(ExitNoMemory)
		}
	}
	for i := 0; i < bootInfo.NMemmap; i++ {
		m := bootInfo.Memmap[i]
		if m.Type != e820RAM {
			continue
		}
		for pa := m.Addr &^ (amd64.HugeSize - 1); pa < m.Addr+m.Size; pa += amd64.HugeSize {
			if e, ok := pt.Lookup(DirectMap + pa); ok && e&amd64.PTE_PS != 0 {
				continue // shared with the previous region
			}
			if !pt.MapHuge(DirectMap+pa, pa, amd64.PTE_W|amd64.PTE_NX|amd64.PTE_G) {
				poweroff(ExitNoMemory)
			}
		}
	}
	for _, mmio := range [...]uint64{lapicPhys, gedPhys, ioapicPhys} {
		if !pt.Map(DirectMap+mmio, mmio, amd64.PTE_W|amd64.PTE_NX|amd64.PTE_PCD|amd64.PTE_PWT) {
			poweroff(ExitNoMemory)
		}
	}
	// Every top-level entry of the runtime's window and of the thread
	// table exists from now on, so program address spaces can share the
	// kernel's half by copying the top-level entries once
	// (shareKernelHalf).
	top := physMem.Table(root)
	for va := uint64(RuntimeLo); va <= ThreadTable; va += 1 << 39 {
		i := va >> 39 & 511
		if top[i]&amd64.PTE_P == 0 {
			t, ok := physMem.Alloc()
			if !ok {
				poweroff(ExitNoMemory)
			}
			top[i] = t | amd64.PTE_P | amd64.PTE_W
		}
	}
	kernelAS.PT = pt
	kernelAS.Mem = physMem
	kernelAS.Lo, kernelAS.Hi = RuntimeLo, RuntimeHi
	kernelAS.Flush = flushPage
	kcpus[0].curCR3.Store(root)
	amd64.WriteCR3(root)
	if tooSmall {
		kprint("yolk: need at least ")
		kprintDec(MinMemMiB)
		kprint(" MiB of memory, have ")
		kprintDec(int64((maxPhys + 1<<20 - 1) >> 20))
		kprint(" MiB (")
		kprintDec(int64(ram >> 10))
		kprint(" KiB usable)\n")
		poweroff(ExitNoMemory)
	}
}

// threadTableMapped is how many bytes of the thread table have memory.
var threadTableMapped uintptr

// initThreadTable points the scheduler at its table, with memory for the
// idle threads and the runtime's first one.
func initThreadTable() {
	sched.T = (*[maxThreads]Thread)(ptr(ThreadTable))
	sched.back = backThreadTable
	if !sched.grow(NumCPUs() + 1) {
		kprint("yolk: no memory for the thread table\n")
		poweroff(ExitNoMemory)
	}
}

// backThreadTable maps zeroed frames behind the thread table's first n
// bytes (Scheduler.back). It runs in the trap handler (the runtime's
// clone): frames and page tables come from the frame allocator, nothing
// is allocated in Go. The frames stay with the table.
func backThreadTable(n uintptr) bool {
	const tableSize = unsafe.Sizeof([maxThreads]Thread{})
	n = min(n, (tableSize+amd64.PageSize-1)&^(amd64.PageSize-1))
	for threadTableMapped < n {
		f, ok := physMem.Alloc()
		if !ok {
			return false
		}
		if !kernelAS.PT.Map(uint64(ThreadTable+threadTableMapped), f, amd64.PTE_W|amd64.PTE_NX|amd64.PTE_G) {
			physMem.Free(f)
			return false
		}
		threadTableMapped += amd64.PageSize
	}
	return true
}

func overlapsModule(start, n uint64) bool {
	for i := 0; i < bootInfo.NModules; i++ {
		m := bootInfo.Modules[i]
		if start < m.Addr+m.Size && m.Addr < start+n {
			return true
		}
	}
	return false
}
