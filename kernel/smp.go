package kernel

import (
	"sync/atomic"
	"time"

	"yolk/amd64"
)

// Several processors. The boot CPU finds the others in the ACPI MADT
// at boot (Start), and StartCPUs wakes each with INIT and two start-up
// IPIs (Intel SDM Vol. 3A 10.6.1, 10.12.10 for the ICR; the MP start-up
// sequence of 9.4.4) to the trampoline page (amd64.Trampoline).

// Local APIC registers for IPIs (Intel SDM Vol. 3A table 10-1).
const (
	lapicID     = 0x020
	lapicICRLo  = 0x300
	lapicICRHi  = 0x310
	icrPending  = 1 << 12
	icrInit     = 5<<8 | 1<<14 // INIT, level assert
	icrStartup  = 6<<8 | 1<<14 // start-up, vector = page number
	trampTables = amd64.TrampolinePhys + amd64.PageSize
)

var (
	// cpuList is the enabled local APICs the MADT lists (empty when
	// there is no MADT: one CPU).
	cpuList CPUList
	// cpusOnline counts the CPUs running the kernel, the boot CPU's
	// included.
	cpusOnline atomic.Int32
	// apStacks keeps the other CPUs' trap-path stacks alive.
	apStacks [amd64.MaxCPUs][]byte
)

// findCPUs reads the MADT through read (early boot: the first GiB).
func findCPUs(read PhysReader) {
	if !ParseMADT(read, FindRSDP(read, bootInfo.RSDP), &cpuList) {
		cpuList.N = 0
	}
	cpusOnline.Store(1)
}

// NumCPUs returns how many CPUs the machine has (the MADT's enabled
// local APICs, at most amd64.MaxCPUs; 1 without a MADT).
func NumCPUs() int { return min(max(cpuList.N, 1), amd64.MaxCPUs) }

// CPUsOnline returns how many CPUs run the kernel.
func CPUsOnline() int { return int(cpusOnline.Load()) }

// StartCPUs starts every other CPU the MADT lists, one at a time, and
// reports how many run (the boot CPU included). A CPU that does not come
// up within a second is reported and left alone.
func StartCPUs() int {
	n := NumCPUs()
	if n == 1 {
		return 1
	}
	root := kernelAS.PT.Root
	if root >= 1<<32 {
		kprint("yolk: kernel page tables above 4 GiB: running on one CPU\n")
		return 1
	}
	// The trampoline's tables: the kernel's upper half, and the first
	// 2 MiB identity-mapped where the trampoline turns paging on.
	pml4 := physMem.Table(trampTables)
	pdpt := physMem.Table(trampTables + amd64.PageSize)
	pd := physMem.Table(trampTables + 2*amd64.PageSize)
	*pml4, *pdpt, *pd = amd64.Table{}, amd64.Table{}, amd64.Table{}
	copy(pml4[256:], physMem.Table(root)[256:])
	pml4[0] = (trampTables + amd64.PageSize) | amd64.PTE_P | amd64.PTE_W
	pdpt[0] = (trampTables + 2*amd64.PageSize) | amd64.PTE_P | amd64.PTE_W
	pd[0] = amd64.PTE_P | amd64.PTE_W | amd64.PTE_PS
	amd64.SetAPStart(root, apMain)
	amd64.RemoteUnload = remoteUnload

	bsp := lapicRead(lapicID) >> 24
	next := 1
	for k := 0; k < cpuList.N && next < n; k++ {
		id := cpuList.IDs[k]
		if id == bsp {
			continue
		}
		if startCPU(next, id) {
			next++
		} else {
			kprint("yolk: CPU with APIC ID ")
			kprintDec(int64(id))
			kprint(" did not start\n")
		}
	}
	return CPUsOnline()
}

// startCPU starts the CPU whose local APIC is id as CPU i.
func startCPU(i int, id uint32) bool {
	size := amd64.EntryStackSize + amd64.TrapStackSize + amd64.EmergencyStackSize
	s := make([]byte, size)
	for off := 0; off < size; off += amd64.PageSize {
		s[off] = 0 // backed now: the trap path never faults on its stack
	}
	apStacks[i] = s
	c := amd64.PrepareCPU(i, s[:amd64.EntryStackSize],
		s[amd64.EntryStackSize:amd64.EntryStackSize+amd64.TrapStackSize],
		s[amd64.EntryStackSize+amd64.TrapStackSize:])
	c.APICID = uint64(id)
	entry, stack, cpu := amd64.APStart(c)
	*(*[amd64.PageSize]byte)(ptr(uintptr(DirectMap + amd64.TrampolinePhys))) =
		amd64.Trampoline(uint32(trampTables), entry, stack, cpu)

	before := cpusOnline.Load()
	sendIPI(id, icrInit)
	time.Sleep(10 * time.Millisecond)
	for range 2 {
		sendIPI(id, icrStartup|amd64.TrampolinePhys>>amd64.PageShift)
		for t0 := nanotime(); nanotime()-t0 < 500_000_000; {
			if cpusOnline.Load() != before {
				return true
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	return false
}

// sendIPI writes the interrupt command register for the local APIC id
// and waits until it has been sent.
func sendIPI(id uint32, cmd uint32) {
	fl := amd64.IRQSave()
	lapicWrite(lapicICRHi, id<<24)
	lapicWrite(lapicICRLo, cmd)
	for lapicRead(lapicICRLo)&icrPending != 0 {
	}
	amd64.IRQRestore(fl)
}

// apMain runs on each other CPU once it is in long mode with its GDT,
// IDT, TSS and SYSCALL set (amd64.SetAPStart), on its trap stack with
// interrupts off. It enables the CPU's local APIC and timer, counts the
// CPU as online and resumes its idle thread: from its first interrupt
// on, the CPU runs whatever threads wait (trap).
func apMain() {
	c := cpuIndex()
	initAPTimer()
	initIdle(c)
	kcpus[c].curCR3.Store(kernelAS.PT.Root) // apEntry loaded it
	lockKernel(c)
	sched.Run(c, c)
	sched.T[c].sliceStart = nanotime()
	amd64.SetCurrent(&sched.T[c].Context)
	cpusOnline.Add(1)
	rearmTimer(c)
	unlockKernel()
	amd64.Resume()
}
