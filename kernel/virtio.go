package kernel

import (
	"fmt"

	"yolk/virtio"
)

// microvm's virtio-mmio transports: 24 slots of 512 bytes (QEMU
// hw/i386/microvm.c, with its second I/O APIC; seen in `info mtree`).
const (
	microvmVirtioBase  = 0xfeb00000
	microvmVirtioSlots = 24
)

// findVirtio returns the transports of every virtio device of the given
// ID, looking first on PCI bus 0 (q35) and then, when PCI has none, in
// microvm's virtio-mmio slots. A device it cannot use (a legacy mmio
// transport, a PCI function whose capabilities do not map) is left out
// and reported in errs, one line each; what names the device in them.
func findVirtio(id uint32, what string) (ts []virtio.Transport, errs []error) {
	for dev := uint8(0); dev < 32; dev++ {
		c := pciConfig{dev: dev}
		ident := c.Read32(0)
		if uint16(ident) != virtio.PCIVendor || virtio.PCIDeviceID(uint16(ident>>16)) != id {
			continue
		}
		t, err := virtio.NewPCI(fmt.Sprintf("00:%02x.0", dev), c, mapRegs)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ts = append(ts, t)
	}
	if len(ts) > 0 || len(errs) > 0 {
		return ts, errs
	}
	r, err := mapRegs(microvmVirtioBase, microvmVirtioSlots*virtio.MMIOSize)
	if err != nil {
		return nil, []error{err}
	}
	base := r.(mmioRegs)
	for i := 0; i < microvmVirtioSlots; i++ {
		slot := base + mmioRegs(i*virtio.MMIOSize)
		devID, version, ok := virtio.ProbeMMIO(slot)
		if !ok || devID != id {
			continue
		}
		phys := uint64(microvmVirtioBase + i*virtio.MMIOSize)
		if version != 2 {
			errs = append(errs, fmt.Errorf("the %s at %#x is legacy (version %d): give QEMU -global virtio-mmio.force-legacy=false", what, phys, version))
			continue
		}
		ts = append(ts, &virtio.MMIO{R: slot, Phys: phys})
	}
	return ts, errs
}

// findOneVirtio returns the first usable device of the given ID, or the
// first reason none was usable, or none when there is no such device.
func findOneVirtio(id uint32, what string, none error) (virtio.Transport, error) {
	ts, errs := findVirtio(id, what)
	switch {
	case len(ts) > 0:
		return ts[0], nil
	case len(errs) > 0:
		return nil, errs[0]
	}
	return nil, none
}
