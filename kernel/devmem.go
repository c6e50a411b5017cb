package kernel

import (
	"golang.org/x/sys/unix"

	"yolk/amd64"
)

// Device memory for drivers running as ordinary kernel Go code: DMA
// pages (physical frames, reached through the direct map) and device
// register windows (MMIO mapped uncached into the direct map). Page
// tables and frames change only in the trap handler, so both are private
// system calls.
const (
	sysDMAPage = 0x7f000100 + iota // () -> physical address of a zeroed frame
	sysMapMMIO                     // (phys, length) -> 0
)

// maxMMIO bounds one register window mapping.
const maxMMIO = 1 << 20

// deviceCall serves sysDMAPage and sysMapMMIO (trap handler).
func deviceCall(nr, a0, a1 uint64) uint64 {
	switch nr {
	case sysDMAPage:
		p, ok := physMem.Alloc()
		if !ok {
			return errnoRet(unix.ENOMEM)
		}
		return p
	case sysMapMMIO:
		start, end := pageDown(a0), pageUp(a0+a1)
		// Below 512 GiB: the direct map's one top-level entry, made at boot
		// and shared by every program address space (a new top-level entry
		// would be missing from the spaces made before it).
		if a1 == 0 || a1 > maxMMIO || end <= start || end > 1<<39 {
			return errnoRet(unix.EINVAL)
		}
		for pa := start; pa < end; pa += amd64.PageSize {
			if _, ok := kernelAS.PT.Lookup(DirectMap + pa); ok {
				continue // RAM or already mapped
			}
			if !kernelAS.PT.Map(DirectMap+pa, pa, amd64.PTE_W|amd64.PTE_NX|amd64.PTE_PCD|amd64.PTE_PWT) {
				return errnoRet(unix.ENOMEM)
			}
		}
		return 0
	}
	return errnoRet(unix.ENOSYS)
}
