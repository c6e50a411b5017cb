package virtio

import (
	"errors"
	"fmt"
)

// PCI identity of virtio devices (§4.1.2): vendor 0x1af4, device
// 0x1040+ID (modern) or 0x1000-0x103f (transitional).
const (
	PCIVendor = 0x1af4
)

// PCIDeviceID returns the virtio device ID of a PCI device ID, or 0.
func PCIDeviceID(pciDevice uint16) uint32 {
	switch {
	case pciDevice >= 0x1041 && pciDevice <= 0x107f:
		return uint32(pciDevice - 0x1040)
	case pciDevice == 0x1000:
		return 1 // transitional network card
	case pciDevice == 0x1003:
		return 3 // transitional console
	case pciDevice == 0x1009:
		return 9 // transitional 9P transport
	}
	return 0
}

// Config is one PCI function's configuration space.
type Config interface {
	Read32(off uint8) uint32
	Write32(off uint8, v uint32)
}

// capIDMSIX is the PCI capability ID of MSI-X (PCI Local Bus 3.0, §6.8.2).
const capIDMSIX = 0x11

// NoVector is VIRTIO_MSI_NO_VECTOR: a queue or the configuration that
// raises no MSI-X message.
const NoVector = 0xffff

// Capability types (§4.1.4).
const (
	capCommon = 1
	capNotify = 2
	capISR    = 3
	capDevice = 4
)

// Mapper maps [phys, phys+n) of device memory and returns its registers.
type Mapper func(phys, n uint64) (Regs, error)

// PCI is a virtio-pci transport (modern interface only).
type PCI struct {
	Name       string
	common     Regs
	notify     Regs
	device     Regs // device-specific configuration, nil if none
	deviceLen  uint32
	notifyMult uint32
	notifyOff  []uint16 // per queue

	cfg     Config
	mapBAR  Mapper
	msixCap uint8 // offset of the MSI-X capability, 0 if none
	msix    bool  // queues signal MSI-X table entry 0 (EnableMSIX)
}

// Common configuration layout (§4.1.4.3).
const (
	pciDevFeatureSel = 0x00
	pciDevFeature    = 0x04
	pciDrvFeatureSel = 0x08
	pciDrvFeature    = 0x0c
	pciNumQueues     = 0x12
	pciStatus        = 0x14
	pciMSIXConfig    = 0x10
	pciQueueSel      = 0x16
	pciQueueSize     = 0x18
	pciQueueMSIX     = 0x1a
	pciQueueEnable   = 0x1c
	pciQueueNotify   = 0x1e
	pciQueueDesc     = 0x20
	pciQueueDriver   = 0x28
	pciQueueDevice   = 0x30
)

// NewPCI finds the device's modern capabilities, turns on memory decoding
// and bus mastering, and maps the common and notify structures.
func NewPCI(name string, c Config, mapBAR Mapper) (*PCI, error) {
	p := &PCI{Name: name, cfg: c, mapBAR: mapBAR}
	cmd := c.Read32(0x04)
	c.Write32(0x04, cmd&0xffff|0x6) // memory space, bus master
	if c.Read32(0x04)>>16&0x10 == 0 {
		return nil, fmt.Errorf("virtio: %s has no capability list", name)
	}
	off := uint8(c.Read32(0x34))
	for n := 0; off != 0 && n < 48; n++ {
		off &^= 3
		h := c.Read32(off)
		next := uint8(h >> 8)
		if uint8(h) == capIDMSIX && p.msixCap == 0 {
			p.msixCap = off
		}
		if uint8(h) == 0x09 { // vendor-specific: a virtio structure
			typ, bar := uint8(h>>24), uint8(c.Read32(off+4))
			offset, length := c.Read32(off+8), c.Read32(off+12)
			if typ == capCommon || typ == capNotify || typ == capDevice {
				if bar > 5 {
					return nil, fmt.Errorf("virtio: %s: capability names BAR %d", name, bar)
				}
				base, err := barAddress(c, bar)
				if err != nil {
					return nil, fmt.Errorf("virtio: %s: %v", name, err)
				}
				r, err := mapBAR(base+uint64(offset), uint64(length))
				if err != nil {
					return nil, err
				}
				if typ == capCommon && p.common == nil {
					p.common = r
				}
				if typ == capDevice && p.device == nil {
					p.device, p.deviceLen = r, length
				}
				if typ == capNotify && p.notify == nil {
					p.notify = r
					p.notifyMult = c.Read32(off + 16)
				}
			}
		}
		off = next
	}
	if p.common == nil || p.notify == nil {
		return nil, fmt.Errorf("virtio: %s lacks the modern common or notify capability", name)
	}
	return p, nil
}

// barAddress decodes memory BAR i (a 64-bit BAR takes the next one too).
func barAddress(c Config, i uint8) (uint64, error) {
	v := c.Read32(0x10 + 4*i)
	if v&1 != 0 {
		return 0, fmt.Errorf("BAR %d is an I/O BAR", i)
	}
	addr := uint64(v &^ 0xf)
	if v>>1&3 == 2 {
		if i == 5 {
			return 0, fmt.Errorf("64-bit BAR %d has no upper half", i)
		}
		addr |= uint64(c.Read32(0x10+4*(i+1))) << 32
	}
	if addr == 0 {
		return 0, fmt.Errorf("BAR %d is not assigned", i)
	}
	return addr, nil
}

func (p *PCI) String() string { return "virtio-pci " + p.Name }

// Config8 reads byte off of the device-specific configuration (0 if the
// device has none).
func (p *PCI) Config8(off uintptr) uint8 {
	if p.device == nil || off >= uintptr(p.deviceLen) {
		return 0
	}
	return p.device.Read8(off)
}

func (p *PCI) DeviceFeatures() uint64 {
	p.common.Write32(pciDevFeatureSel, 0)
	lo := p.common.Read32(pciDevFeature)
	p.common.Write32(pciDevFeatureSel, 1)
	return uint64(p.common.Read32(pciDevFeature))<<32 | uint64(lo)
}

func (p *PCI) SetDriverFeatures(f uint64) {
	p.common.Write32(pciDrvFeatureSel, 0)
	p.common.Write32(pciDrvFeature, uint32(f))
	p.common.Write32(pciDrvFeatureSel, 1)
	p.common.Write32(pciDrvFeature, uint32(f>>32))
}

func (p *PCI) Status() uint8     { return p.common.Read8(pciStatus) }
func (p *PCI) SetStatus(s uint8) { p.common.Write8(pciStatus, s) }

func (p *PCI) QueueMax(i int) uint16 {
	if i >= int(p.common.Read16(pciNumQueues)) {
		return 0
	}
	p.common.Write16(pciQueueSel, uint16(i))
	return p.common.Read16(pciQueueSize)
}

func (p *PCI) EnableQueue(i int, q *Queue) {
	c := p.common
	c.Write16(pciQueueSel, uint16(i))
	c.Write16(pciQueueSize, q.Size)
	vec := uint16(NoVector)
	if p.msix {
		vec = 0
	}
	c.Write16(pciQueueMSIX, vec)
	for _, r := range [...]struct {
		off  uintptr
		phys uint64
	}{{pciQueueDesc, q.DescPhys}, {pciQueueDriver, q.AvailPhys}, {pciQueueDevice, q.UsedPhys}} {
		c.Write32(r.off, uint32(r.phys))
		c.Write32(r.off+4, uint32(r.phys>>32))
	}
	for len(p.notifyOff) <= i {
		p.notifyOff = append(p.notifyOff, 0)
	}
	p.notifyOff[i] = c.Read16(pciQueueNotify)
	c.Write16(pciQueueEnable, 1)
}

func (p *PCI) Notify(i int) {
	p.notify.Write16(uintptr(uint32(p.notifyOff[i])*p.notifyMult), uint16(i))
}

// ErrNoMSIX is EnableMSIX's error for a function without MSI-X.
var ErrNoMSIX = errors.New("virtio: no MSI-X capability")

// EnableMSIX makes every queue enabled afterwards signal MSI-X table
// entry 0 with the message (addr, data), e.g. 0xfee00000 and a vector
// for the local APIC of CPU 0 (Intel SDM vol. 3, §11.11); configuration
// changes signal nothing. It programs and unmasks entry 0 and turns
// MSI-X on, which also turns INTx off (PCI Local Bus 3.0, §6.8.2).
func (p *PCI) EnableMSIX(addr uint64, data uint32) error {
	if p.msixCap == 0 {
		return ErrNoMSIX
	}
	c := p.cfg
	ctl := c.Read32(p.msixCap)
	table := c.Read32(p.msixCap + 4)
	bar := uint8(table & 7)
	if bar > 5 {
		return fmt.Errorf("virtio: %s: MSI-X table in BAR %d", p.Name, bar)
	}
	base, err := barAddress(c, bar)
	if err != nil {
		return fmt.Errorf("virtio: %s: MSI-X table: %v", p.Name, err)
	}
	r, err := p.mapBAR(base+uint64(table&^7), 16)
	if err != nil {
		return err
	}
	// Function mask on while the entry changes; then enable, unmasked.
	const enable, funcMask = 1 << 31, 1 << 30
	c.Write32(p.msixCap, ctl|funcMask)
	r.Write32(0, uint32(addr))
	r.Write32(4, uint32(addr>>32))
	r.Write32(8, data)
	r.Write32(12, 0) // vector control: unmasked
	c.Write32(p.msixCap, (ctl|enable)&^funcMask)
	p.common.Write16(pciMSIXConfig, NoVector)
	p.msix = true
	return nil
}
