package kernel

import (
	"unsafe"

	"yolk/amd64"
)

// Console input by interrupt: COM1's receive interrupt (ISA IRQ 4, I/O
// APIC pin 4 on both microvm and q35) is routed to VecConsole; the
// handler moves the received bytes into a ring and wakes whoever waits
// (ConsoleWait). tamago's soc/intel/ioapic takes a 32-bit MMIO base, like
// its LAPIC driver, so the two I/O APIC registers are reached through the
// direct map here (Intel 82093AA datasheet, sections 3.0 and 3.2.4).
const (
	ioapicPhys = 0xfec00000
	ioRegSel   = 0x00
	ioWin      = 0x10
	ioRedTbl   = 0x10 // redirection entry n: registers 0x10+2n (low), +1 (high)

	com1IRQ = 4
	// VecConsole is the vector of the UART's receive interrupt.
	VecConsole = 36

	uartIER     = 1
	uartIERRx   = 1 << 0 // received data available
	uartLSR     = 5
	uartLSRData = 1 << 0
)

func ioapicWrite(reg, v uint32) {
	base := uintptr(DirectMap + ioapicPhys)
	*(*uint32)(ptr(base + ioRegSel)) = reg
	*(*uint32)(ptr(base + ioWin)) = v
}

// The receive ring: the trap handler fills it, ConsoleRead drains it
// (both with interrupts off).
var (
	rxRing       [4096]byte
	rxHead       uint64 // next byte to read
	rxTail       uint64 // next byte to write
	consoleSeq   uint32 // futex word: bumped on every received burst
	consoleIRQOn bool
)

// initConsoleIRQ routes COM1's receive interrupt to VecConsole and
// enables it in the UART.
func initConsoleIRQ() {
	// Edge-triggered, active high, fixed delivery to LAPIC 0, unmasked.
	ioapicWrite(ioRedTbl+2*com1IRQ+1, 0)
	ioapicWrite(ioRedTbl+2*com1IRQ, VecConsole)
	amd64.Outb(com1.Base+uartIER, uartIERRx)
	consoleIRQOn = true
}

// uartDrain moves what the UART holds into the ring (trap handler).
func uartDrain() bool {
	got := false
	for amd64.Inb(com1.Base+uartLSR)&uartLSRData != 0 {
		c := amd64.Inb(com1.Base)
		if rxTail-rxHead < uint64(len(rxRing)) {
			rxRing[rxTail%uint64(len(rxRing))] = c
			rxTail++
		}
		got = true
	}
	return got
}

// consoleInterrupt handles VecConsole.
func consoleInterrupt() {
	if uartDrain() {
		consoleSeq++
		sched.FutexWake(uint64(uintptr(unsafe.Pointer(&consoleSeq))), maxThreads)
	}
	lapicAck()
}

// consoleRead copies received bytes into the kernel memory at buf
// (private system call, trap handler).
func consoleRead(buf, n uint64) uint64 {
	uartDrain() // polled too, where the interrupt is not wired
	b, ok := kmem(buf, n, true)
	if !ok {
		return 0
	}
	i := uint64(0)
	for ; i < n && rxHead < rxTail; i++ {
		b[i] = rxRing[rxHead%uint64(len(rxRing))]
		rxHead++
	}
	return i
}
