package kernel

import "encoding/binary"

// Finding the processors: the ACPI MADT (ACPI 6.5 section 5.2.12, the
// "APIC" table) lists every local APIC; those marked enabled are the
// CPUs the machine has (QEMU lists exactly -smp's). The RSDP is where
// PVH's start info says (rsdp_paddr), or found by its signature in the
// BIOS area (ACPI 6.5 5.2.5.1) when the loader left that 0.

// maxAPICs bounds the local APICs a MADT parse reports.
const maxAPICs = 64

// CPUList is the enabled local APICs' IDs, the boot processor's among
// them, in the MADT's order.
type CPUList struct {
	IDs [maxAPICs]uint32
	N   int
}

// FindRSDP returns the physical address of the ACPI RSDP: hint if it
// holds one, else the first found on a 16-byte boundary in the EBDA's
// first KiB or in 0xe0000-0xfffff; 0 if none.
func FindRSDP(read PhysReader, hint uint64) uint64 {
	if hint != 0 && validRSDP(read, hint) {
		return hint
	}
	var ranges [2][2]uint64
	if b := read(0x40e, 2); b != nil {
		ebda := uint64(binary.LittleEndian.Uint16(b)) << 4
		ranges[0] = [2]uint64{ebda, ebda + 1024}
	}
	ranges[1] = [2]uint64{0xe0000, 0x100000}
	for _, r := range ranges {
		for p := r[0]; p != 0 && p+20 <= r[1]; p += 16 {
			if validRSDP(read, p) {
				return p
			}
		}
	}
	return 0
}

func validRSDP(read PhysReader, p uint64) bool {
	b := read(p, 20)
	return b != nil && string(b[:8]) == "RSD PTR " && checksum(b) == 0
}

func checksum(b []byte) byte {
	var s byte
	for _, c := range b {
		s += c
	}
	return s
}

// ParseMADT reads the enabled local APICs from the MADT the RSDP at rsdp
// leads to (through the XSDT when the RSDP has one, else the RSDT). It
// reports false when there is no valid MADT. Processor entries (type 0)
// and x2APIC entries (type 9) count when their enabled flag is set;
// online-capable but disabled ones do not (yolk does not hot-add CPUs).
func ParseMADT(read PhysReader, rsdp uint64, cpus *CPUList) bool {
	cpus.N = 0
	if rsdp == 0 || !validRSDP(read, rsdp) {
		return false
	}
	le := binary.LittleEndian
	r := read(rsdp, 20)
	root, entry := uint64(le.Uint32(r[16:])), uint64(4)
	if r[15] >= 2 {
		if x := read(rsdp, 36); x != nil && le.Uint64(x[24:]) != 0 {
			root, entry = le.Uint64(x[24:]), 8
		}
	}
	h := read(root, 36)
	if h == nil {
		return false
	}
	n := uint64(le.Uint32(h[4:]))
	if n < 36 || n > 1<<16 {
		return false
	}
	tbl := read(root, int(n))
	if tbl == nil || checksum(tbl) != 0 {
		return false
	}
	for off := uint64(36); off+entry <= n; off += entry {
		var p uint64
		if entry == 8 {
			p = le.Uint64(tbl[off:])
		} else {
			p = uint64(le.Uint32(tbl[off:]))
		}
		th := read(p, 36)
		if th == nil || string(th[:4]) != "APIC" {
			continue
		}
		return parseMADTBody(read, p, cpus)
	}
	return false
}

func parseMADTBody(read PhysReader, p uint64, cpus *CPUList) bool {
	le := binary.LittleEndian
	h := read(p, 8)
	if h == nil {
		return false
	}
	n := uint64(le.Uint32(h[4:]))
	if n < 44 || n > 1<<20 {
		return false
	}
	t := read(p, int(n))
	if t == nil || checksum(t) != 0 {
		return false
	}
	for off := uint64(44); off+2 <= n; {
		typ, l := t[off], uint64(t[off+1])
		if l < 2 || off+l > n {
			return false
		}
		e := t[off : off+l]
		switch {
		case typ == 0 && l >= 8 && le.Uint32(e[4:])&1 != 0:
			cpus.add(uint32(e[3]))
		case typ == 9 && l >= 16 && le.Uint32(e[8:])&1 != 0:
			cpus.add(le.Uint32(e[4:]))
		}
		off += l
	}
	return cpus.N > 0
}

func (c *CPUList) add(id uint32) {
	for i := 0; i < c.N; i++ {
		if c.IDs[i] == id {
			return
		}
	}
	if c.N < len(c.IDs) {
		c.IDs[c.N] = id
		c.N++
	}
}
