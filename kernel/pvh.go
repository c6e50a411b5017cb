package kernel

import "encoding/binary"

// PVH boot information (xen/include/public/arch-x86/hvm/start_info.h).
const (
	pvhMagic   = 0x336ec578
	e820RAM    = 1
	maxMemmap  = 64
	maxModules = 4
)

// MemRegion is one entry of the firmware memory map.
type MemRegion struct {
	Addr, Size uint64
	Type       uint32
}

// Module is a boot module (the initrd).
type Module struct {
	Addr, Size uint64
}

// StartInfo is the decoded hvm_start_info. It holds no pointers so that
// early boot code can fill it without write barriers.
type StartInfo struct {
	Version    uint32
	Memmap     [maxMemmap]MemRegion
	NMemmap    int
	Modules    [maxModules]Module
	NModules   int
	Cmdline    [4096]byte
	CmdlineLen int
	RSDP       uint64
}

// PhysReader reads physical memory; early boot reads through the boot
// page tables' direct map, tests from a byte slice.
type PhysReader func(phys uint64, n int) []byte

// ParseStartInfo decodes the hvm_start_info at phys into si. It reports
// false for a bad magic number, a version without a memory map, or an
// unreadable table. (It returns no error value: early boot runs before
// package initialisation, when error variables are still nil.)
func ParseStartInfo(read PhysReader, phys uint64, si *StartInfo) bool {
	b := read(phys, 56)
	if b == nil || binary.LittleEndian.Uint32(b[0:]) != pvhMagic {
		return false
	}
	le := binary.LittleEndian
	si.Version = le.Uint32(b[4:])
	nmod := int(le.Uint32(b[12:]))
	modlist := le.Uint64(b[16:])
	cmdline := le.Uint64(b[24:])
	si.RSDP = le.Uint64(b[32:])
	if si.Version < 1 {
		return false // no memory map before version 1
	}
	mm := le.Uint64(b[40:])
	nmm := int(le.Uint32(b[48:]))
	if nmm > maxMemmap {
		nmm = maxMemmap
	}
	for i := 0; i < nmm; i++ {
		e := read(mm+uint64(24*i), 24)
		if e == nil {
			return false
		}
		si.Memmap[i] = MemRegion{Addr: le.Uint64(e[0:]), Size: le.Uint64(e[8:]), Type: le.Uint32(e[16:])}
	}
	si.NMemmap = nmm
	if nmod > maxModules {
		nmod = maxModules
	}
	for i := 0; i < nmod; i++ {
		e := read(modlist+uint64(32*i), 32)
		if e == nil {
			return false
		}
		si.Modules[i] = Module{Addr: le.Uint64(e[0:]), Size: le.Uint64(e[8:])}
	}
	si.NModules = nmod
	si.CmdlineLen = 0
	if cmdline != 0 {
		for si.CmdlineLen < len(si.Cmdline) {
			c := read(cmdline+uint64(si.CmdlineLen), 1)
			if c == nil || c[0] == 0 {
				break
			}
			si.Cmdline[si.CmdlineLen] = c[0]
			si.CmdlineLen++
		}
	}
	return true
}
