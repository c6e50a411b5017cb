package kernel

import (
	"encoding/binary"
	"testing"
)

// acpiTable builds a table with a 36-byte header (signature sig, revision
// rev) and body, checksummed.
func acpiTable(sig string, body []byte) []byte {
	b := make([]byte, 36, 36+len(body))
	copy(b, sig)
	b = append(b, body...)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)))
	b[8] = 1
	b[9] = -checksum(b)
	return b
}

func rsdpBytes(rev byte, rsdt uint32, xsdt uint64) []byte {
	b := make([]byte, 36)
	copy(b, "RSD PTR ")
	b[15] = rev
	binary.LittleEndian.PutUint32(b[16:], rsdt)
	binary.LittleEndian.PutUint32(b[20:], 36)
	binary.LittleEndian.PutUint64(b[24:], xsdt)
	b[8] = -checksum(b[:20])
	b[32] = -checksum(b)
	return b
}

func madtBody(entries ...[]byte) []byte {
	b := make([]byte, 8) // local APIC address, flags
	binary.LittleEndian.PutUint32(b, 0xfee00000)
	for _, e := range entries {
		b = append(b, e...)
	}
	return b
}

func lapicEntry(id byte, flags uint32) []byte {
	e := []byte{0, 8, id, id, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(e[4:], flags)
	return e
}

func x2apicEntry(id, flags uint32) []byte {
	e := make([]byte, 16)
	e[0], e[1] = 9, 16
	binary.LittleEndian.PutUint32(e[4:], id)
	binary.LittleEndian.PutUint32(e[8:], flags)
	return e
}

func TestParseMADT(t *testing.T) {
	ioapic := []byte{1, 12, 0, 0, 0, 0, 0xc0, 0xfe, 0, 0, 0, 0}
	madt := acpiTable("APIC", madtBody(lapicEntry(0, 1), ioapic, lapicEntry(1, 1), lapicEntry(2, 2), lapicEntry(3, 0), x2apicEntry(300, 1), lapicEntry(1, 1)))
	fadt := acpiTable("FACP", make([]byte, 80))
	rsdt := acpiTable("RSDT", binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 0x3000), 0x2000))
	xsdt := acpiTable("XSDT", binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 0x3000), 0x2000))
	for _, tc := range []struct {
		name string
		mem  physMap
		hint uint64
	}{
		{"rsdt by hint", physMap{0x1000: rsdpBytes(0, 0x4000, 0), 0x2000: madt, 0x3000: fadt, 0x4000: rsdt}, 0x1000},
		{"xsdt by scan", physMap{0x400: make([]byte, 16), 0xe0000: append(make([]byte, 0x40), rsdpBytes(2, 0x4000, 0x5000)...), 0x2000: madt, 0x3000: fadt, 0x5000: xsdt}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := FindRSDP(tc.mem.read, tc.hint)
			var l CPUList
			if !ParseMADT(tc.mem.read, p, &l) {
				t.Fatalf("ParseMADT(%#x) failed", p)
			}
			// Enabled only (not the online-capable 2 nor the disabled
			// 3), each once, in order.
			want := []uint32{0, 1, 300}
			if got := l.IDs[:l.N]; len(got) != len(want) || got[0] != 0 || got[1] != 1 || got[2] != 300 {
				t.Errorf("APIC IDs %v, want %v", got, want)
			}
		})
	}
	bad := append([]byte(nil), madt...)
	bad[40]++
	var l CPUList
	if ParseMADT(physMap{0x1000: rsdpBytes(0, 0x4000, 0), 0x2000: bad, 0x3000: fadt, 0x4000: rsdt}.read, 0x1000, &l) {
		t.Errorf("a MADT with a bad checksum was accepted")
	}
	if FindRSDP(physMap{0x400: make([]byte, 16), 0xe0000: make([]byte, 0x20000)}.read, 0) != 0 {
		t.Errorf("found an RSDP in empty memory")
	}
}
