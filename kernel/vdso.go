package kernel

import (
	"sync"
	"unsafe"

	"yolk/amd64"
	"yolk/mm"
	"yolk/vdso"
)

// The vDSO's pages, made on first use and shared by every process: the
// image (read-only code, mapped privately so that a write copies) and
// the vvar page, whose frame the kernel writes through the direct map
// (vdso.VVar.Store is its sequence lock).
var vdsoPages struct {
	once        sync.Once
	mu          sync.Mutex // one writer of vvar
	image, data mm.Backing
	vvar        *vdso.VVar
}

// vdsoBackings returns the vDSO image and the vvar page.
func vdsoBackings() (image, vvar mm.Backing) {
	v := &vdsoPages
	v.once.Do(func() {
		img := mm.NewSharedAnon(userPhys{}, uint64(len(vdso.Image)))
		for off := 0; off < len(vdso.Image); off += 4096 {
			p, err := img.Page(uint64(off))
			if err != nil {
				img.DecRef()
				return
			}
			copy(userPhys{}.Page(p)[:], vdso.Image[off:])
			userPhys{}.DecRef(p)
		}
		data := mm.NewSharedAnon(userPhys{}, vdso.VVarSize)
		p, err := data.Page(0)
		if err != nil {
			img.DecRef()
			data.DecRef()
			return
		}
		// The reference Page took stays: the frame lives as long as the
		// kernel writes it.
		v.mu.Lock()
		v.vvar = (*vdso.VVar)(unsafe.Pointer(userPhys{}.Page(p)))
		switch { // every CPU's IA32_TSC_AUX is its number (amd64.InitCPU)
		case amd64.HasRDPID():
			v.vvar.SetGetCPU(vdso.GetCPURDPID)
		case amd64.HasRDTSCP():
			v.vvar.SetGetCPU(vdso.GetCPURDTSCP)
		}
		v.image, v.data = img, data
		v.mu.Unlock()
		updateVvar()
	})
	return v.image, v.data
}

// updateVvar publishes the clock's parameters to the vvar page (once it
// exists): at its creation and whenever the wall clock is set.
func updateVvar() {
	v := &vdsoPages
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.vvar != nil {
		v.vvar.Store(vdso.NewParams(tscHz, tscBase, wallOffset))
	}
}
