package mm_test

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"

	"yolk/amd64"
	"yolk/mm"
	"yolk/mm/mmtest"
)

func TestRemap(t *testing.T) {
	p := mmtest.NewPhys(1000)
	as := mmtest.NewASPhys(t, p)
	const (
		mayMove = unix.MREMAP_MAYMOVE
		fixed   = unix.MREMAP_FIXED
	)
	a := mustMap(t, as, 0x100000, 4*pg, rw, mm.Fixed)
	for i := uint64(0); i < 4; i++ {
		write(t, as, a+i*pg, string(rune('A'+i)))
	}
	mustMap(t, as, a+5*pg, pg, ro, mm.Fixed) // blocks growth beyond a+5*pg

	for _, c := range []struct {
		name                string
		old, oldLen, newLen uint64
		flags               uint32
		newAddr             uint64
		want                error
	}{
		{"unknown flag", a, pg, pg, 8, 0, unix.EINVAL},
		{"dontunmap", a, pg, pg, mayMove | unix.MREMAP_DONTUNMAP, 0, unix.EINVAL},
		{"fixed without maymove", a, pg, pg, fixed, 0x900000, unix.EINVAL},
		{"unaligned", a + 1, pg, pg, 0, 0, unix.EINVAL},
		{"new length 0", a, pg, 0, 0, 0, unix.EINVAL},
		{"unmapped", 0x800000, pg, 2 * pg, mayMove, 0, unix.EFAULT},
		{"beyond the VMA", a, 5 * pg, 6 * pg, mayMove, 0, unix.EFAULT},
		{"private oldLen 0", a, 0, pg, mayMove, 0, unix.EINVAL},
		{"cannot grow in place", a, 4 * pg, 6 * pg, 0, 0, unix.ENOMEM},
		{"fixed overlapping", a, 2 * pg, 2 * pg, mayMove | fixed, a + pg, unix.EINVAL},
		{"fixed unaligned", a, 2 * pg, 2 * pg, mayMove | fixed, 0x900001, unix.EINVAL},
		{"fixed beyond window", a, 2 * pg, 2 * pg, mayMove | fixed, mmtest.Hi - pg, unix.EINVAL},
	} {
		if _, err := as.Remap(c.old, c.oldLen, c.newLen, c.flags, c.newAddr); err != c.want {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}

	// Grow in place into the free page after it.
	if r, err := as.Remap(a, 4*pg, 5*pg, 0, 0); r != a || err != nil {
		t.Fatalf("grow in place: %#x %v", r, err)
	}
	if v, _ := as.Lookup(a); v.End != a+5*pg {
		t.Fatalf("grown VMA %+v", v)
	}
	mm.Check(as, t)
	// Grow by moving: entries move, frames stay, nothing is copied.
	f2 := mm.Leaf(as, a+2*pg) & amd64.PTE_ADDR
	used, res := p.InUse(), as.Resident()
	r, err := as.Remap(a, 5*pg, 64*pg, mayMove, 0)
	if err != nil || r == a {
		t.Fatalf("move: %#x %v", r, err)
	}
	if mm.Leaf(as, r+2*pg)&amd64.PTE_ADDR != f2 || as.Resident() != res {
		t.Fatal("move did not keep the frames")
	}
	if got := read(t, as, r, 1) + read(t, as, r+3*pg, 1) + read(t, as, r+63*pg, 1); got != "AD\x00" {
		t.Fatalf("moved contents %q", got)
	}
	if _, ok := as.Lookup(a); ok {
		t.Fatal("old range still mapped")
	}
	// Same frames; the old tables were freed, new ones made: no more than before.
	if p.InUse() > used+2 {
		t.Fatalf("frames in use %d, was %d", p.InUse(), used)
	}
	// Shrink in place.
	if s, err := as.Remap(r, 64*pg, 2*pg, 0, 0); s != r || err != nil {
		t.Fatalf("shrink: %#x %v", s, err)
	}
	if as.Resident() != 2 {
		t.Fatalf("resident %d after shrinking to two pages", as.Resident())
	}
	// Fixed move, shrinking at the same time.
	const to = 0x40000000
	if s, err := as.Remap(r, 2*pg, pg, mayMove|fixed, to); s != to || err != nil {
		t.Fatalf("fixed move: %#x %v", s, err)
	}
	if got := read(t, as, to, 1); got != "A" {
		t.Fatalf("after fixed move %q", got)
	}
	if v, _ := as.Lookup(to); v.Start != to || v.End != to+pg || v.Prot != rw {
		t.Fatalf("moved VMA %+v", v)
	}
	mm.Check(as, t)

	// A shared mapping mapped twice with oldLen 0.
	s := mm.NewSharedAnon(p, 2*pg)
	sh, _ := as.Map(0, 2*pg, rw, mm.Shared, s, 0, "")
	s.DecRef()
	twin, err := as.Remap(sh, 0, 2*pg, mayMove, 0)
	if err != nil {
		t.Fatal(err)
	}
	write(t, as, sh+pg, "twin")
	if got := read(t, as, twin+pg, 4); got != "twin" {
		t.Fatalf("second view sees %q", got)
	}

	as.Release()
	if n := p.InUse(); n != 0 {
		t.Fatalf("%d frames left", n)
	}
}

func TestRemapContents(t *testing.T) {
	// A move across a 2 MiB table boundary, with source and destination
	// sharing a table.
	p := mmtest.NewPhys(1000)
	as := mmtest.NewASPhys(t, p)
	const a = 0x200000 - 4*pg
	mustMap(t, as, a, 8*pg, rw, mm.Fixed)
	want := bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7, 8}, pg)
	as.CopyOut(a, want)
	as.Protect(a, 8*pg, unix.PROT_NONE) // held entries move too
	if _, err := as.Remap(a, 8*pg, 8*pg, unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, a+8*pg); err != nil {
		t.Fatal(err)
	}
	as.Protect(a+8*pg, 8*pg, rw)
	as.Protect(a+9*pg, pg, unix.PROT_NONE) // a separate VMA now: mremap refuses to span it
	if _, err := as.Remap(a+8*pg, 8*pg, 8*pg, unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, 0x40000000); err != unix.EFAULT {
		t.Fatalf("mremap over two VMAs: %v", err)
	}
	as.Protect(a+9*pg, pg, rw)
	r, err := as.Remap(a+8*pg, 8*pg, 8*pg, unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, a)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(want))
	if n, err := as.CopyIn(r, got); n != len(got) || err != nil || !bytes.Equal(got, want) {
		t.Fatalf("contents after move: %d %v", n, err)
	}
	as.Unmap(r, 8*pg)
	if n := p.InUse(); n != 1 {
		t.Fatalf("%d frames in use, want the root only", n)
	}
}
