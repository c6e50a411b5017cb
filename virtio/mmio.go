package virtio

import "fmt"

// virtio-mmio registers, version 2 (§4.2.2).
const (
	mmioMagic          = 0x000
	mmioVersion        = 0x004
	mmioDeviceID       = 0x008
	mmioDevFeatures    = 0x010
	mmioDevFeaturesSel = 0x014
	mmioDrvFeatures    = 0x020
	mmioDrvFeaturesSel = 0x024
	mmioQueueSel       = 0x030
	mmioQueueNumMax    = 0x034
	mmioQueueNum       = 0x038
	mmioQueueReady     = 0x044
	mmioQueueNotify    = 0x050
	mmioIntStatus      = 0x060
	mmioIntACK         = 0x064
	mmioStatus         = 0x070
	mmioQueueDescLo    = 0x080
	mmioQueueDescHi    = 0x084
	mmioQueueDriverLo  = 0x090
	mmioQueueDriverHi  = 0x094
	mmioQueueDeviceLo  = 0x0a0
	mmioQueueDeviceHi  = 0x0a4
	mmioConfig         = 0x100

	// MMIOMagic is "virt" in little-endian: the first word of a slot.
	MMIOMagic = 0x74726976
	// MMIOSize is the size of one virtio-mmio register window.
	MMIOSize = 0x200
)

// MMIO is a virtio-mmio transport.
type MMIO struct {
	R    Regs
	Phys uint64 // for messages
}

// ProbeMMIO reads the slot's identity: its device ID (0: no device) and
// transport version (2 is modern; 1 is legacy, which this package does
// not drive).
func ProbeMMIO(r Regs) (deviceID, version uint32, ok bool) {
	if r.Read32(mmioMagic) != MMIOMagic {
		return 0, 0, false
	}
	return r.Read32(mmioDeviceID), r.Read32(mmioVersion), true
}

func (m *MMIO) String() string { return fmt.Sprintf("virtio-mmio@%#x", m.Phys) }

func (m *MMIO) DeviceFeatures() uint64 {
	m.R.Write32(mmioDevFeaturesSel, 0)
	lo := m.R.Read32(mmioDevFeatures)
	m.R.Write32(mmioDevFeaturesSel, 1)
	return uint64(m.R.Read32(mmioDevFeatures))<<32 | uint64(lo)
}

func (m *MMIO) SetDriverFeatures(f uint64) {
	m.R.Write32(mmioDrvFeaturesSel, 0)
	m.R.Write32(mmioDrvFeatures, uint32(f))
	m.R.Write32(mmioDrvFeaturesSel, 1)
	m.R.Write32(mmioDrvFeatures, uint32(f>>32))
}

func (m *MMIO) Status() uint8     { return uint8(m.R.Read32(mmioStatus)) }
func (m *MMIO) SetStatus(s uint8) { m.R.Write32(mmioStatus, uint32(s)) }

func (m *MMIO) QueueMax(i int) uint16 {
	m.R.Write32(mmioQueueSel, uint32(i))
	return uint16(m.R.Read32(mmioQueueNumMax))
}

func (m *MMIO) EnableQueue(i int, q *Queue) {
	m.R.Write32(mmioQueueSel, uint32(i))
	m.R.Write32(mmioQueueNum, uint32(q.Size))
	m.R.Write32(mmioQueueDescLo, uint32(q.DescPhys))
	m.R.Write32(mmioQueueDescHi, uint32(q.DescPhys>>32))
	m.R.Write32(mmioQueueDriverLo, uint32(q.AvailPhys))
	m.R.Write32(mmioQueueDriverHi, uint32(q.AvailPhys>>32))
	m.R.Write32(mmioQueueDeviceLo, uint32(q.UsedPhys))
	m.R.Write32(mmioQueueDeviceHi, uint32(q.UsedPhys>>32))
	m.R.Write32(mmioQueueReady, 1)
}

func (m *MMIO) Notify(i int) { m.R.Write32(mmioQueueNotify, uint32(i)) }

// Config8 reads byte off of the device-specific configuration.
func (m *MMIO) Config8(off uintptr) uint8 {
	if off >= MMIOSize-mmioConfig {
		return 0
	}
	return m.R.Read8(mmioConfig + off)
}

// AckInterrupt acknowledges what the device signalled and returns it.
func (m *MMIO) AckInterrupt() uint32 {
	s := m.R.Read32(mmioIntStatus)
	if s != 0 {
		m.R.Write32(mmioIntACK, s)
	}
	return s
}
