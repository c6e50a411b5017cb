package kernel

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"yolk/virtio"
)

// Device interrupts wake goroutines through the kernel runtime's own
// netpoller: each wired device has an eventfd (one of the kernel's
// kfiles) that its interrupt handler counts up, waking a runtime thread
// blocked in epoll_pwait on it, and a goroutine reading that eventfd
// through os.File turns each wake-up into a channel send. A waiting
// driver holds no thread: the goroutine is parked in the netpoller like
// any reader of a socket on Linux.
//
// Routing: microvm's virtio-mmio slot i raises GSI 24+i, pin i of its
// second I/O APIC (QEMU hw/i386/microvm.c, with ACPI, as qemu/run boots
// it); the handler reads and acknowledges the slot's InterruptStatus
// (virtio 1.1 §4.2.2), which lowers the line, so the pin is programmed
// edge-triggered. On q35 a virtio-pci function signals MSI-X table
// entry 0 straight to the local APIC (no I/O APIC, nothing to
// acknowledge on the device).
const (
	// VecDevice is the first of maxDeviceIRQs device vectors.
	VecDevice     = 48
	maxDeviceIRQs = 8

	ioapic2Phys = 0xfec10000 // microvm's second I/O APIC (GSI 24-47)
	ioapicVer   = 0x01       // version register: max redirection entry in bits 16-23

	mmioIntStatus = 0x60 // virtio-mmio InterruptStatus; InterruptACK follows at +4

	msiAddr = 0xfee00000 // MSI address of local APIC 0 (SDM vol. 3, §11.11.1)
)

// irqLine is what the handler of one device vector does: acknowledge
// the device (ack: the kernel address of a virtio-mmio InterruptStatus,
// or 0) and count up eventfd fd (0: none yet).
type irqLine struct {
	fd  int32
	ack uintptr
}

var (
	irqLines [maxDeviceIRQs]irqLine // set before the device may interrupt
	irqCount [maxDeviceIRQs]uint64  // interrupts taken, for tests and bootstats
	irqMu    sync.Mutex
	irqNext  int
)

// deviceInterrupt handles vectors VecDevice.. (trap handler: no
// allocation, no pointer writes).
func deviceInterrupt(v uint64) {
	i := v - VecDevice
	l := &irqLines[i]
	irqCount[i]++
	if l.ack != 0 {
		if s := *(*uint32)(ptr(l.ack)); s != 0 {
			*(*uint32)(ptr(l.ack + 4)) = s
		}
	}
	if f := kfileAt(uint64(l.fd), kfEventfd); f != nil {
		f.count++
		eventfdReady(l.fd)
	}
	lapicAck()
}

// newIRQ takes a free device vector that acknowledges at ack (0: no
// acknowledgement) and returns it with the channel its interrupts wake.
func newIRQ(name string, ack uintptr) (uint8, <-chan struct{}, error) {
	irqMu.Lock()
	defer irqMu.Unlock()
	if irqNext == maxDeviceIRQs {
		return 0, nil, errors.New("no free device interrupt vector")
	}
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return 0, nil, fmt.Errorf("eventfd for the %s interrupt: %v", name, err)
	}
	i := irqNext
	irqNext++
	irqLines[i] = irqLine{fd: int32(fd), ack: ack}
	f := os.NewFile(uintptr(fd), name+" interrupt")
	ch := make(chan struct{}, 1)
	go func() {
		var b [8]byte
		for {
			if _, err := f.Read(b[:]); err != nil {
				fmt.Printf("yolk: %s interrupt: %v; the device is no longer served\n", name, err)
				return
			}
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	return uint8(VecDevice + i), ch, nil
}

// wireInterrupt routes the interrupt of the virtio device behind t to a
// new device vector and returns the channel it wakes.
func wireInterrupt(t virtio.Transport, name string) (<-chan struct{}, error) {
	switch t := t.(type) {
	case *virtio.MMIO:
		slot := (t.Phys - microvmVirtioBase) / virtio.MMIOSize
		if t.Phys < microvmVirtioBase || slot >= microvmVirtioSlots {
			return nil, fmt.Errorf("%v is not one of microvm's slots", t)
		}
		r, err := mapRegs(ioapic2Phys, 0x20)
		if err != nil {
			return nil, err
		}
		io := ioapic{r}
		if v := io.read(ioapicVer); v == 0 || v == 0xffffffff || uint64(v>>16&0xff) < slot {
			return nil, fmt.Errorf("no second I/O APIC for %v (microvm without ACPI?)", t)
		}
		vec, ch, err := newIRQ(name, uintptr(DirectMap+t.Phys+mmioIntStatus))
		if err != nil {
			return nil, err
		}
		// Edge-triggered, active high, fixed delivery to LAPIC 0, unmasked.
		io.write(ioRedTbl+2*uint32(slot)+1, 0)
		io.write(ioRedTbl+2*uint32(slot), uint32(vec))
		return ch, nil
	case *virtio.PCI:
		vec, ch, err := newIRQ(name, 0)
		if err != nil {
			return nil, err
		}
		if err := t.EnableMSIX(msiAddr, uint32(vec)); err != nil {
			return nil, err
		}
		return ch, nil
	}
	return nil, fmt.Errorf("no interrupt routing for %v", t)
}

// ioapic is an I/O APIC's register window (Intel 82093AA datasheet,
// §3.0): a select register and a data window.
type ioapic struct{ r virtio.Regs }

func (a ioapic) read(reg uint32) uint32 {
	a.r.Write32(ioRegSel, reg)
	return a.r.Read32(ioWin)
}

func (a ioapic) write(reg, v uint32) {
	a.r.Write32(ioRegSel, reg)
	a.r.Write32(ioWin, v)
}

// IRQCounts returns how many interrupts each wired device vector took.
func IRQCounts() []uint64 {
	irqMu.Lock()
	n := irqNext
	irqMu.Unlock()
	return append([]uint64(nil), irqCount[:n]...)
}
