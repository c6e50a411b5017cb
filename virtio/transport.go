package virtio

import (
	"errors"
	"fmt"
)

// Regs is a window of device registers (MMIO); offsets are in bytes.
type Regs interface {
	Read32(off uintptr) uint32
	Write32(off uintptr, v uint32)
	Read16(off uintptr) uint16
	Write16(off uintptr, v uint16)
	Read8(off uintptr) uint8
	Write8(off uintptr, v uint8)
}

// Transport is how a driver reaches its device (§4).
type Transport interface {
	DeviceFeatures() uint64
	SetDriverFeatures(f uint64)
	Status() uint8
	SetStatus(s uint8)
	QueueMax(i int) uint16
	// EnableQueue gives the device queue i and turns it on.
	EnableQueue(i int, q *Queue)
	Notify(i int)
	String() string
}

// Device status bits (§2.1).
const (
	StatusAcknowledge = 1
	StatusDriver      = 2
	StatusDriverOK    = 4
	StatusFeaturesOK  = 8
	StatusFailed      = 128
)

// FeatureVersion1 is VIRTIO_F_VERSION_1: the device is modern.
const FeatureVersion1 = 1 << 32

var errFeatures = errors.New("virtio: the device refused the features")

// Start runs the initialisation sequence up to the features (§3.1.1):
// reset, ACKNOWLEDGE, DRIVER, negotiate (want & offered; VERSION_1 is
// required), FEATURES_OK. The driver then sets up its queues and calls
// Ready.
func Start(t Transport, want uint64) (uint64, error) {
	t.SetStatus(0)
	t.SetStatus(StatusAcknowledge)
	t.SetStatus(StatusAcknowledge | StatusDriver)
	offered := t.DeviceFeatures()
	if offered&FeatureVersion1 == 0 {
		t.SetStatus(StatusFailed)
		return 0, fmt.Errorf("virtio: %v is a legacy device (no VERSION_1)", t)
	}
	f := offered & (want | FeatureVersion1)
	t.SetDriverFeatures(f)
	t.SetStatus(StatusAcknowledge | StatusDriver | StatusFeaturesOK)
	if t.Status()&StatusFeaturesOK == 0 {
		t.SetStatus(StatusFailed)
		return 0, errFeatures
	}
	return f, nil
}

// Ready tells the device the driver is up (DRIVER_OK).
func Ready(t Transport) {
	t.SetStatus(StatusAcknowledge | StatusDriver | StatusFeaturesOK | StatusDriverOK)
}
