package kernel

import (
	"errors"
	"fmt"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"yolk/amd64"
	"yolk/hostio"
	"yolk/virtio"
)

// The program's standard streams on a virtio console (-append
// stdio=virtio, as qemu/run boots): hostio frames on port 1 (a
// virtserialport) of a virtio-serial device, found on PCI bus 0 (q35: virtio-pci) or among
// microvm's virtio-mmio slots. The driver polls; no interrupt is wired.
// Kernel messages stay on the serial console.

var (
	stdio    *hostio.Guest
	stdioTTY bool
)

// StartStdio finds the virtio console and starts the stream protocol on
// it; on error the program's streams stay on the serial console.
func StartStdio(o Options) error {
	t, err := findConsole()
	if err != nil {
		return err
	}
	_, total, _ := MemStats()
	c, err := virtio.NewConsole(t, dmaAlloc{}, 1, consoleDepth(total), func() { time.Sleep(time.Millisecond) })
	if err != nil {
		return err
	}
	g := hostio.NewGuest(c)
	g.Report = func(msg string) { fmt.Printf("yolk: console stream broken: %s\n", msg) }
	g.SetWinsize(o.Rows, o.Cols)
	stdioTTY = o.TTY
	stdio = g
	return nil
}

// consoleDepth is how many pages each way the console keeps in flight for
// a machine with total bytes of frames: the most (1 MiB for both ways)
// from 64 MiB up, a quarter of that below, where a 16 MiB machine has
// about 6 MiB of frames for everything.
func consoleDepth(total uint64) uint16 {
	if total >= 48<<20 {
		return virtio.MaxConsoleDepth
	}
	return virtio.MaxConsoleDepth / 4
}

// StdioFlush waits until the host has taken all program output.
func StdioFlush() {
	if stdio != nil {
		if err := stdio.Flush(10 * time.Second); err != nil {
			fmt.Printf("yolk: %v\n", err)
		}
	}
}

func findConsole() (virtio.Transport, error) {
	return findOneVirtio(virtio.DeviceConsole, "virtio console", errors.New("no virtio console found (PCI bus 0, microvm's virtio-mmio slots)"))
}

// dmaAlloc hands out zeroed frames for rings and buffers.
type dmaAlloc struct{}

func (dmaAlloc) AllocPage() (virtio.Page, error) {
	p, _, _ := syscall.RawSyscall(sysDMAPage, 0, 0, 0)
	if int64(p) < 0 {
		return virtio.Page{}, errors.New("virtio: out of memory for DMA pages")
	}
	return virtio.Page{Phys: uint64(p), Buf: unsafe.Slice((*byte)(ptr(uintptr(DirectMap+uint64(p)))), virtio.PageSize)}, nil
}

func mapRegs(phys, n uint64) (virtio.Regs, error) {
	r, _, _ := syscall.RawSyscall(sysMapMMIO, uintptr(phys), uintptr(n), 0)
	if r != 0 {
		return nil, fmt.Errorf("cannot map device memory %#x+%#x", phys, n)
	}
	return mmioRegs(DirectMap + phys), nil
}

// mmioRegs is a register window at a kernel virtual address. Each access
// is one load or store the compiler keeps (the functions are not
// inlined).
type mmioRegs uintptr

//go:noinline
func (r mmioRegs) Read32(off uintptr) uint32 { return *(*uint32)(ptr(uintptr(r) + off)) }

//go:noinline
func (r mmioRegs) Write32(off uintptr, v uint32) { *(*uint32)(ptr(uintptr(r) + off)) = v }

//go:noinline
func (r mmioRegs) Read16(off uintptr) uint16 { return *(*uint16)(ptr(uintptr(r) + off)) }

//go:noinline
func (r mmioRegs) Write16(off uintptr, v uint16) { *(*uint16)(ptr(uintptr(r) + off)) = v }

//go:noinline
func (r mmioRegs) Read8(off uintptr) uint8 { return *(*uint8)(ptr(uintptr(r) + off)) }

//go:noinline
func (r mmioRegs) Write8(off uintptr, v uint8) { *(*uint8)(ptr(uintptr(r) + off)) = v }

// pciConfig is configuration space of function 0 of a device on bus 0,
// through configuration mechanism #1 (ports 0xcf8/0xcfc; the 32-bit
// data port is read as two 16-bit halves).
type pciConfig struct{ dev uint8 }

func (c pciConfig) select_(off uint8) {
	amd64.Outl(0xcf8, 1<<31|uint32(c.dev)<<11|uint32(off&0xfc))
}

func (c pciConfig) Read32(off uint8) uint32 {
	c.select_(off)
	return uint32(amd64.Inw(0xcfc)) | uint32(amd64.Inw(0xcfe))<<16
}

func (c pciConfig) Write32(off uint8, v uint32) {
	c.select_(off)
	amd64.Outw(0xcfc, uint16(v))
	amd64.Outw(0xcfe, uint16(v>>16))
}

// Streams, for syscallshim (its Streams interface).

func (Machine) StreamsOn() bool { return stdio != nil }
func (Machine) Terminal() bool  { return stdio == nil || stdioTTY }

func (Machine) StreamWrite(fd int, b []byte) (int, error) {
	t := hostio.Stdout
	if fd == 2 {
		t = hostio.Stderr
	}
	n, err := stdio.Write(t, b)
	switch {
	case err == hostio.ErrClosed:
		return n, unix.EPIPE
	case err != nil:
		return n, unix.EIO
	}
	return n, nil
}

func (Machine) StreamRead(b []byte) (int, bool)          { return stdio.Read(b) }
func (Machine) StreamReadable() bool                     { return stdio.Readable() }
func (Machine) StreamWait(d time.Duration)               { stdio.Wait(d) }
func (Machine) Winsize() (rows, cols uint16, seq uint32) { return stdio.Winsize() }
