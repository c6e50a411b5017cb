package syscallshim

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"

	"yolk/mm"
	"yolk/mm/mmtest"
	"yolk/vdso"
)

// TestMapVDSO: [vvar] read-only just below [vdso] (read+exec), under the
// mmap base; the image and the page are the backings' frames, a write
// after mprotect copies (the shared frames stay intact), and the frames
// come back when the space goes.
func TestMapVDSO(t *testing.T) {
	phys := mmtest.NewPhys(1 << 10)
	const mmapTop = StackTop - 128<<20
	as, err := mm.New(mm.Config{Phys: phys, Lo: MinAddr, Hi: StackTop, MmapTop: mmapTop})
	if err != nil {
		t.Fatal(err)
	}
	image := mm.NewSharedAnon(phys, uint64(len(vdso.Image)))
	p, _ := image.Page(0)
	copy(phys.Page(p)[:], vdso.Image)
	phys.DecRef(p)
	vvar := mm.NewSharedAnon(phys, vdso.VVarSize)
	vp, _ := vvar.Page(0)
	phys.Page(vp)[8] = 0x5a
	base, err := mapVDSO(as, image, vvar)
	if err != nil {
		t.Fatal(err)
	}
	if base == 0 || base > mmapTop || base&4095 != 0 {
		t.Fatalf("vDSO at %#x", base)
	}
	vmas := as.VMAs()
	if len(vmas) != 2 {
		t.Fatalf("VMAs %+v", vmas)
	}
	if v := vmas[0]; v.Name != "[vvar]" || v.Start != base-vdso.VVarSize || v.End != base || v.Prot != unix.PROT_READ || v.Shared {
		t.Errorf("vvar VMA %+v", v)
	}
	if v := vmas[1]; v.Name != "[vdso]" || v.Start != base || v.End != base+pageUp(uint64(len(vdso.Image))) ||
		v.Prot != unix.PROT_READ|unix.PROT_EXEC || v.Shared {
		t.Errorf("vdso VMA %+v", v)
	}
	for _, va := range []uint64{base - vdso.VVarSize, base} {
		if r := as.Fault(va, mm.Read); r != mm.FaultMapped {
			t.Fatalf("read fault at %#x: %v", va, r)
		}
	}
	got := make([]byte, len(vdso.Image))
	if _, err := as.CopyIn(base, got); err != nil || !bytes.Equal(got, vdso.Image) {
		t.Errorf("image at %#x differs (%v)", base, err)
	}
	// The kernel's later writes show through.
	phys.Page(vp)[9] = 0xa5
	var b [2]byte
	if _, err := as.CopyIn(base-vdso.VVarSize+8, b[:]); err != nil || b != [2]byte{0x5a, 0xa5} {
		t.Errorf("vvar bytes %x (%v), want 5aa5", b, err)
	}
	if err := as.Protect(base-vdso.VVarSize, vdso.VVarSize, unix.PROT_READ|unix.PROT_WRITE); err != nil {
		t.Fatal(err)
	}
	if _, err := as.CopyOut(base-vdso.VVarSize+8, []byte{1}); err != nil {
		t.Fatal(err)
	}
	if phys.Page(vp)[8] != 0x5a {
		t.Error("a program's write reached the shared vvar frame")
	}
	as.Release()
	phys.DecRef(vp)
	image.DecRef()
	vvar.DecRef()
	if n := phys.InUse(); n != 0 {
		t.Errorf("%d frames left in use", n)
	}
	if base, err := mapVDSO(as, nil, nil); base != 0 || err != nil {
		t.Errorf("no vDSO: %#x, %v", base, err)
	}
}
