package syscallshim

import (
	"golang.org/x/sys/unix"

	"yolk/mm"
	"yolk/vdso"
)

// mapVDSO maps the vDSO into a new address space where Linux puts it with
// ASLR off: the next free range below the mmap base (after the
// interpreter), the vvar page ("[vvar]", read-only) just below the image
// ("[vdso]", read and execute), as the image's code expects. Both are
// private mappings of the machine's backings, so a program that writes
// to them (mprotect first) changes only its own copy. It returns the
// image's address for AT_SYSINFO_EHDR, or 0 when the machine has no
// vDSO.
func mapVDSO(as *mm.AddressSpace, image, vvar mm.Backing) (uint64, error) {
	if image == nil || vvar == nil {
		return 0, nil
	}
	n := pageUp(uint64(len(vdso.Image)))
	at, err := as.Map(0, vdso.VVarSize+n, unix.PROT_NONE, 0, nil, 0, "")
	if err != nil {
		return 0, err
	}
	as.Unmap(at, vdso.VVarSize+n)
	if _, err := as.Map(at, vdso.VVarSize, unix.PROT_READ, mm.FixedNoReplace, vvar, 0, "[vvar]"); err != nil {
		return 0, err
	}
	base := at + vdso.VVarSize
	if _, err := as.Map(base, n, unix.PROT_READ|unix.PROT_EXEC, mm.FixedNoReplace, image, 0, "[vdso]"); err != nil {
		return 0, err
	}
	return base, nil
}
