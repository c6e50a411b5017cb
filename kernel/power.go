package kernel

import "yolk/amd64"

// Power-off, in order of preference:
//   - the status as decimal text on the debug console (port 0xe9), where
//     qemu/run reads the exact value;
//   - isa-debug-exit at port 0xf4, when QEMU has one: QEMU exits with
//     (status<<1)|1, of which the shell sees the low 8 bits;
//   - ACPI S5: the PM1a control block of q35's ICH9 (port 0x604,
//     SLP_TYP=0 | SLP_EN) and microvm's hardware-reduced sleep control
//     register in the generic event device (MMIO 0xfea00200,
//     SLP_TYP=5<<2 | SLP_EN=1<<5). QEMU then exits with status 0.
//
// Writes to a device that is absent are ignored, so all are tried.
const (
	debugConPort  = 0xe9
	debugExitPort = 0xf4
	q35PM1aCnt    = 0x604
	gedSleepCtl   = gedPhys + 0x200
)

func poweroff(status int) {
	var buf [4]byte
	n := 0
	s := status & 0xff
	if s >= 100 {
		buf[n] = byte('0' + s/100)
		n++
	}
	if s >= 10 {
		buf[n] = byte('0' + s/10%10)
		n++
	}
	buf[n] = byte('0' + s%10)
	buf[n+1] = '\n'
	for _, c := range buf[:n+2] {
		amd64.Outb(debugConPort, c)
	}
	amd64.Outl(debugExitPort, uint32(s))
	amd64.Outw(q35PM1aCnt, 1<<13)
	if kernelAS.PT.Root != 0 {
		*(*uint8)(ptr(uintptr(DirectMap + gedSleepCtl))) = 5<<2 | 1<<5
	}
	amd64.Halt()
}

// PowerOff stops the machine with status as the run's exit status.
func PowerOff(status int) { poweroff(status) }
