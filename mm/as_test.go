package mm_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"yolk/amd64"
	"yolk/mm"
	"yolk/mm/mmtest"
)

const (
	pg  = 4096
	rw  = unix.PROT_READ | unix.PROT_WRITE
	ro  = unix.PROT_READ
	rwx = rw | unix.PROT_EXEC
)

func mustMap(t testing.TB, as *mm.AddressSpace, addr, n uint64, prot uint32, f mm.MapFlags) uint64 {
	t.Helper()
	a, err := as.Map(addr, n, prot, f, nil, 0, "")
	if err != nil {
		t.Fatalf("Map(%#x, %#x, %d, %d): %v", addr, n, prot, f, err)
	}
	return a
}

func TestMapErrors(t *testing.T) {
	as := mmtest.NewAS(t)
	base := mustMap(t, as, 0x100000, 4*pg, rw, mm.Fixed)
	shm := mm.NewSharedAnon(mmtest.NewPhys(10), pg)
	defer shm.DecRef()
	for _, c := range []struct {
		name   string
		addr   uint64
		length uint64
		flags  mm.MapFlags
		b      mm.Backing
		off    uint64
		want   error
	}{
		{"length 0", 0, 0, 0, nil, 0, unix.EINVAL},
		{"length overflow", 0, ^uint64(0) - 10, 0, nil, 0, unix.ENOMEM},
		{"too big", 0, mmtest.Hi, 0, nil, 0, unix.ENOMEM},
		{"fixed unaligned", 0x200001, pg, mm.Fixed, nil, 0, unix.EINVAL},
		{"fixed beyond window", mmtest.Hi - pg, 2 * pg, mm.Fixed, nil, 0, unix.ENOMEM},
		{"fixed at window top", mmtest.Hi, pg, mm.Fixed, nil, 0, unix.ENOMEM},
		{"fixed wrapping", ^uint64(0) &^ (pg - 1), 2 * pg, mm.Fixed, nil, 0, unix.ENOMEM},
		{"fixed below window", 0x1000, pg, mm.Fixed, nil, 0, unix.EPERM},
		{"noreplace over mapping", base + pg, pg, mm.FixedNoReplace, nil, 0, unix.EEXIST},
		{"noreplace overlapping end", base - pg, 2 * pg, mm.FixedNoReplace, nil, 0, unix.EEXIST},
		{"shared without backing", 0, pg, mm.Shared, nil, 0, unix.EINVAL},
		{"unaligned offset", 0, pg, mm.Shared, shm, 10, unix.EINVAL},
		{"offset overflow", 0, 2 * pg, mm.Shared, shm, ^uint64(0) &^ (pg - 1), unix.EOVERFLOW},
	} {
		if _, err := as.Map(c.addr, c.length, rw, c.flags, c.b, c.off, ""); err != c.want {
			t.Errorf("%s: Map error %v, want %v", c.name, err, c.want)
		}
	}
	if v := as.VMAs(); len(v) != 1 || v[0].Start != base || v[0].End != base+4*pg {
		t.Errorf("failed Maps changed the VMAs: %+v", v)
	}
}

func TestUnmapProtectErrors(t *testing.T) {
	as := mmtest.NewAS(t)
	base := mustMap(t, as, 0x100000, 4*pg, rw, mm.Fixed)
	mustMap(t, as, base+5*pg, pg, rw, mm.Fixed) // a hole at base+4*pg
	for _, c := range []struct {
		name         string
		addr, length uint64
		unmap, prot  error
	}{
		{"unaligned", base + 1, pg, unix.EINVAL, unix.EINVAL},
		{"length 0", base, 0, unix.EINVAL, nil},
		{"wrapping", base, ^uint64(0) - pg, unix.EINVAL, unix.ENOMEM},
		{"beyond window", mmtest.Hi - pg, 2 * pg, unix.EINVAL, unix.ENOMEM},
		{"hole", base + 3*pg, 3 * pg, nil, unix.ENOMEM},
	} {
		if err := as.Protect(c.addr, c.length, ro); err != c.prot {
			t.Errorf("%s: Protect error %v, want %v", c.name, err, c.prot)
		}
	}
	// Nothing changed by the failed mprotect over the hole.
	if v, _ := as.Lookup(base + 3*pg); v.Prot != rw {
		t.Errorf("failed Protect changed the protection to %d", v.Prot)
	}
	for _, c := range []struct {
		name         string
		addr, length uint64
		want         error
	}{
		{"unaligned", base + 1, pg, unix.EINVAL},
		{"length 0", base, 0, unix.EINVAL},
		{"wrapping", base, ^uint64(0) - pg, unix.EINVAL},
		{"beyond window", mmtest.Hi - pg, 2 * pg, unix.EINVAL},
		{"nothing mapped", 0x40000000, 16 * pg, nil},
		{"across the hole", base + 3*pg, 3 * pg, nil},
	} {
		if err := as.Unmap(c.addr, c.length); err != c.want {
			t.Errorf("%s: Unmap error %v, want %v", c.name, err, c.want)
		}
	}
	if v := as.VMAs(); len(v) != 1 || v[0].Start != base || v[0].End != base+3*pg {
		t.Errorf("VMAs after unmapping across the hole: %+v", v)
	}
}

func TestHintAndSearch(t *testing.T) {
	as := mmtest.NewAS(t)
	// Top-down below MmapTop.
	a := mustMap(t, as, 0, 2*pg, rw, 0)
	if a != mmtest.MmapTop-2*pg {
		t.Fatalf("first mmap at %#x, want %#x", a, mmtest.MmapTop-2*pg)
	}
	b := mustMap(t, as, 0, pg, ro, 0)
	if b != a-pg {
		t.Fatalf("second mmap at %#x, want %#x", b, a-pg)
	}
	// A free aligned hint is honoured; an unaligned, taken or outside one is not.
	if h := mustMap(t, as, 0x500000000, pg, rw, 0); h != 0x500000000 {
		t.Errorf("free hint: mapped at %#x", h)
	}
	if h := mustMap(t, as, 0x600000123, pg, rw, 0); h != b-pg {
		t.Errorf("unaligned hint: mapped at %#x, want %#x", h, b-pg)
	}
	if h := mustMap(t, as, a, pg, ro, 0); h != b-2*pg {
		t.Errorf("taken hint: mapped at %#x, want %#x", h, b-2*pg)
	}
	if h := mustMap(t, as, 0x1000, pg, ro, 0); h != b-3*pg {
		t.Errorf("hint below the window: mapped at %#x, want %#x", h, b-3*pg)
	}
	// A freed range is reused.
	if err := as.Unmap(a, 2*pg); err != nil {
		t.Fatal(err)
	}
	if h := mustMap(t, as, 0, 2*pg, rw, 0); h != a {
		t.Errorf("after munmap: mapped at %#x, want %#x", h, a)
	}
	// Nothing below MmapTop big enough: the search goes above it.
	as = mmtest.NewAS(t)
	mustMap(t, as, mmtest.Lo, mmtest.MmapTop-mmtest.Lo, ro, mm.Fixed)
	if h := mustMap(t, as, 0, 0x100000, ro, 0); h != mmtest.MmapTop {
		t.Errorf("fallback mapping at %#x, want MmapTop", h)
	}
	if _, err := as.Map(0, mmtest.Hi-mmtest.MmapTop, ro, 0, nil, 0, ""); err != unix.ENOMEM {
		t.Errorf("no room: %v, want ENOMEM", err)
	}
	mm.Check(as, t)
}

func TestBottomUp(t *testing.T) {
	as, err := mm.New(mm.Config{Phys: mmtest.NewPhys(100), Lo: 0x10000, Hi: 0x100000})
	if err != nil {
		t.Fatal(err)
	}
	defer as.Release()
	for i := uint64(0); i < 4; i++ {
		if a := mustMap(t, as, 0, pg, uint32(i%2+1), 0); a != 0x10000+i*pg {
			t.Fatalf("mmap %d at %#x", i, a)
		}
	}
	as.Unmap(0x11000, pg)
	if a := mustMap(t, as, 0, pg, rw, 0); a != 0x11000 {
		t.Fatalf("hole not reused: %#x", a)
	}
	if _, err := as.Map(0, 0x100000, rw, 0, nil, 0, ""); err != unix.ENOMEM {
		t.Fatalf("too big: %v", err)
	}
}

func TestMergeSplit(t *testing.T) {
	as := mmtest.NewAS(t)
	const base = 0x100000
	for i := uint64(0); i < 3; i++ {
		mustMap(t, as, base+i*pg, pg, rw, mm.Fixed)
	}
	want := func(step string, spans ...uint64) {
		t.Helper()
		v := as.VMAs()
		if len(v) != len(spans)/2 {
			t.Fatalf("%s: %d VMAs %+v, want %d", step, len(v), v, len(spans)/2)
		}
		for i := range v {
			if v[i].Start != spans[2*i] || v[i].End != spans[2*i+1] {
				t.Fatalf("%s: VMA %d is %#x-%#x, want %#x-%#x", step, i, v[i].Start, v[i].End, spans[2*i], spans[2*i+1])
			}
		}
		mm.Check(as, t)
	}
	want("adjacent maps", base, base+3*pg)
	as.Protect(base+pg, pg, ro)
	want("protect middle", base, base+pg, base+pg, base+2*pg, base+2*pg, base+3*pg)
	as.Protect(base+pg, pg, rw)
	want("protect back", base, base+3*pg)
	as.Unmap(base+pg, pg)
	want("unmap middle", base, base+pg, base+2*pg, base+3*pg)
	if _, err := as.Map(base+pg, pg, rw, mm.Fixed, nil, 0, "[heap]"); err != nil {
		t.Fatal(err)
	}
	want("named middle", base, base+pg, base+pg, base+2*pg, base+2*pg, base+3*pg)
	// MAP_FIXED over the three replaces them with one.
	mustMap(t, as, base, 3*pg, ro, mm.Fixed)
	want("fixed over", base, base+3*pg)

	// Shared mappings merge only with contiguous offsets of one Backing.
	p := mmtest.NewPhys(100)
	s1 := mm.NewSharedAnon(p, 16*pg)
	s2 := mm.NewSharedAnon(p, 16*pg)
	const sb = 0x200000
	as.Map(sb, pg, rw, mm.Fixed|mm.Shared, s1, 0, "")
	as.Map(sb+pg, pg, rw, mm.Fixed|mm.Shared, s1, pg, "")
	as.Map(sb+2*pg, pg, rw, mm.Fixed|mm.Shared, s1, 5*pg, "")
	as.Map(sb+3*pg, pg, rw, mm.Fixed|mm.Shared, s2, 6*pg, "")
	s1.DecRef()
	s2.DecRef()
	want("shared", base, base+3*pg, sb, sb+2*pg, sb+2*pg, sb+3*pg, sb+3*pg, sb+4*pg)
	as.Protect(sb, 4*pg, ro)
	if v, _ := as.Lookup(sb + pg); v.Offset != 0 {
		t.Errorf("offset of the first shared VMA %#x", v.Offset)
	}
	if v, _ := as.Lookup(sb + 2*pg); v.Offset != 5*pg {
		t.Errorf("offset of the third shared VMA %#x", v.Offset)
	}
	// Splitting a shared VMA keeps offsets right.
	as.Protect(sb+pg, pg, rw)
	if v, _ := as.Lookup(sb + pg); v.Offset != pg || v.Start != sb+pg {
		t.Errorf("split shared VMA: %+v", v)
	}
	as.Release()
	if n := p.InUse(); n != 0 {
		t.Errorf("shared frames left after Release: %d", n)
	}
}

func TestManyVMAs(t *testing.T) {
	as := mmtest.NewAS(t)
	const n = 100000
	start := time.Now()
	base := mustMap(t, as, 0, n*pg, rw, 0)
	for i := uint64(0); i < n; i += 2 {
		if err := as.Protect(base+i*pg, pg, ro); err != nil {
			t.Fatal(err)
		}
	}
	if v := as.VMAs(); len(v) != n {
		t.Fatalf("%d VMAs, want %d", len(v), n)
	}
	mm.Check(as, t)
	// Non-fixed mmaps still find room at once.
	for i := 0; i < 1000; i++ {
		mustMap(t, as, 0, pg, rwx, 0)
	}
	for i := uint64(0); i < n; i += 2 {
		if v, ok := as.Lookup(base + i*pg + 5); !ok || v.Prot != ro || v.Start != base+i*pg {
			t.Fatalf("Lookup(%#x) = %+v %v", base+i*pg, v, ok)
		}
	}
	for i := uint64(0); i < n; i += 2 {
		as.Protect(base+i*pg, pg, rw)
	}
	if v, _ := as.Lookup(base); v.Start != base || v.End != base+n*pg {
		t.Fatalf("not merged back: %+v", v)
	}
	t.Logf("%d VMAs made, searched, looked up and merged in %v", n, time.Since(start))
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestHugeRanges(t *testing.T) {
	p := mmtest.NewPhys(1 << 16)
	as := mmtest.NewASPhys(t, p)
	start := time.Now()
	const huge = 48 << 40
	a, err := as.Map(0x100000000, huge, ro, mm.FixedNoReplace, nil, 0, "")
	if err != nil || a != 0x100000000 {
		t.Fatalf("48 TiB FIXED_NOREPLACE: %#x %v", a, err)
	}
	if _, err := as.Map(a+huge-pg, pg, ro, mm.FixedNoReplace, nil, 0, ""); err != unix.EEXIST {
		t.Fatalf("over the 48 TiB: %v", err)
	}
	if err := as.Unmap(a, huge); err != nil {
		t.Fatal(err)
	}
	t.Logf("48 TiB map + munmap: %v", time.Since(start))

	start = time.Now()
	const big = 64 << 30
	b := mustMap(t, as, 0, big, unix.PROT_NONE, 0)
	if err := as.Protect(b, big, rw); err != nil {
		t.Fatal(err)
	}
	for _, off := range []uint64{0, 1 << 30, 13<<30 + 12345, big - 1} {
		if _, err := as.CopyOut(b+off, []byte{1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := as.Protect(b, big, unix.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	if err := as.Discard(b, big); err != nil {
		t.Fatal(err)
	}
	if err := as.Unmap(b, big); err != nil {
		t.Fatal(err)
	}
	d := time.Since(start)
	t.Logf("64 GiB reserve, mprotect, touch 4 pages, mprotect, madvise, munmap: %v", d)
	if n := p.InUse(); n != 1 {
		t.Errorf("%d frames in use after munmap, want 1 (the root): tables not freed", n)
	}
	if d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestDemandZeroAndProtNone(t *testing.T) {
	p := mmtest.NewPhys(100)
	as := mmtest.NewASPhys(t, p)
	a := mustMap(t, as, 0, 3*pg, rw, 0)
	if as.Resident() != 0 {
		t.Fatal("resident before touching")
	}
	buf := make([]byte, 3*pg)
	buf[0] = 9
	if n, err := as.CopyIn(a, buf); n != 3*pg || err != nil {
		t.Fatalf("CopyIn = %d %v", n, err)
	}
	if !bytes.Equal(buf, make([]byte, 3*pg)) {
		t.Fatal("demand-zero pages not zero")
	}
	if as.Resident() != 3 {
		t.Fatalf("resident %d, want 3", as.Resident())
	}
	as.CopyOut(a+pg, []byte("kept"))
	// PROT_NONE keeps the frame; reading faults; mprotect brings it back.
	as.Protect(a, 3*pg, unix.PROT_NONE)
	if e := mm.Leaf(as, a+pg); e&amd64.PTE_P != 0 || e == 0 {
		t.Fatalf("PROT_NONE entry %#x", e)
	}
	if n, err := as.CopyIn(a+pg, buf[:4]); n != 0 || err != unix.EFAULT {
		t.Fatalf("CopyIn of PROT_NONE = %d %v", n, err)
	}
	if r := as.Fault(a+pg, mm.Read); r != mm.FaultDenied {
		t.Fatalf("Fault on PROT_NONE: %v", r)
	}
	if as.Resident() != 3 {
		t.Fatalf("PROT_NONE dropped frames: resident %d", as.Resident())
	}
	as.Protect(a, 3*pg, ro)
	if n, err := as.CopyIn(a+pg, buf[:4]); n != 4 || err != nil || string(buf[:4]) != "kept" {
		t.Fatalf("after mprotect back: %d %v %q", n, err, buf[:4])
	}
	if e := mm.Leaf(as, a+pg); e&amd64.PTE_W != 0 || e&amd64.PTE_NX == 0 || e&amd64.PTE_U == 0 {
		t.Fatalf("read-only entry %#x", e)
	}
	as.Protect(a, 3*pg, rwx)
	if e := mm.Leaf(as, a+pg); e&amd64.PTE_W == 0 || e&amd64.PTE_NX != 0 {
		t.Fatalf("rwx entry %#x", e)
	}
}

func TestDiscard(t *testing.T) {
	p := mmtest.NewPhys(100)
	as := mmtest.NewASPhys(t, p)
	a := mustMap(t, as, 0, 2*pg, rw, 0)
	as.CopyOut(a, bytes.Repeat([]byte{7}, 2*pg))
	before := p.InUse()
	if err := as.Discard(a, pg); err != nil {
		t.Fatal(err)
	}
	if p.InUse() != before-1 || as.Resident() != 1 {
		t.Fatalf("Discard freed %d frames, resident %d", before-p.InUse(), as.Resident())
	}
	buf := make([]byte, 2)
	as.CopyIn(a+pg-1, buf)
	if buf[0] != 0 || buf[1] != 7 {
		t.Fatalf("after Discard: %v, want [0 7]", buf)
	}
	if err := as.Discard(a, 3*pg); err != unix.ENOMEM {
		t.Fatalf("Discard over a hole: %v", err)
	}
	// Shared pages come back from the Backing.
	s := mm.NewSharedAnon(p, pg)
	b, _ := as.Map(0, pg, rw, mm.Shared, s, 0, "")
	s.DecRef()
	as.CopyOut(b, []byte("shared"))
	as.Discard(b, pg)
	as.CopyIn(b, buf)
	if string(buf) != "sh" {
		t.Fatalf("shared page after Discard: %q", buf)
	}
}

func TestCopyBoundaries(t *testing.T) {
	as := mmtest.NewAS(t)
	a := mustMap(t, as, 0x100000, 2*pg, rw, mm.Fixed)
	mustMap(t, as, a+2*pg, pg, ro, mm.Fixed)
	mustMap(t, as, a+3*pg, pg, unix.PROT_NONE, mm.Fixed)
	msg := bytes.Repeat([]byte("0123456789"), 1000) // 10000 bytes: three pages' worth
	if n, err := as.CopyOut(a+100, msg[:2*pg-100]); n != 2*pg-100 || err != nil {
		t.Fatalf("CopyOut across a page = %d %v", n, err)
	}
	got := make([]byte, 2*pg-100)
	if n, err := as.CopyIn(a+100, got); n != len(got) || err != nil || !bytes.Equal(got, msg[:len(got)]) {
		t.Fatalf("CopyIn back = %d %v", n, err)
	}
	for _, c := range []struct {
		name  string
		va    uint64
		write bool
		n     int
		want  int
	}{
		{"write into read-only", a + 2*pg - 10, true, 100, 10},
		{"read into PROT_NONE", a + 3*pg - 10, false, 100, 10},
		{"read into unmapped", a + 4*pg - 10, false, 100, 0}, // a+3*pg is PROT_NONE: 0 done
		{"read at Hi", mmtest.Hi - 10, false, 100, 0},
		{"read kernel address", 0xffff800000000000, false, 10, 0},
		{"read wrapping", ^uint64(0) - 5, false, 10, 0},
		{"read below Lo", 0x1000, false, 10, 0},
	} {
		buf := make([]byte, c.n)
		var n int
		var err error
		if c.write {
			n, err = as.CopyOut(c.va, buf)
		} else {
			n, err = as.CopyIn(c.va, buf)
		}
		if n != c.want || err != unix.EFAULT {
			t.Errorf("%s: %d %v, want %d EFAULT", c.name, n, err, c.want)
		}
	}
	// Partial read into a mapped page at the top of the window.
	top := mustMap(t, as, mmtest.Hi-pg, pg, rw, mm.Fixed)
	if n, err := as.CopyIn(top+pg-10, make([]byte, 100)); n != 10 || err != unix.EFAULT {
		t.Errorf("read past Hi: %d %v", n, err)
	}
	if n, err := as.ZeroOut(a+50, 2*pg-50); n != 2*pg-50 || err != nil {
		t.Fatalf("ZeroOut: %d %v", n, err)
	}
	b := make([]byte, 2*pg-50)
	as.CopyIn(a+50, b)
	if !bytes.Equal(b, make([]byte, len(b))) {
		t.Fatal("ZeroOut left bytes")
	}
	if n, err := as.ZeroOut(a+2*pg-1, 2); n != 1 || err != unix.EFAULT {
		t.Errorf("ZeroOut into read-only: %d %v", n, err)
	}
}

func TestNoMem(t *testing.T) {
	p := mmtest.NewPhys(1 + 3) // root and three tables
	as := mmtest.NewASPhys(t, p)
	a := mustMap(t, as, 0, 2*pg, rw, 0)
	if r := as.Fault(a, mm.Write); r != mm.FaultNoMem {
		t.Fatalf("Fault with no frame for the page: %v", r)
	}
	if n, err := as.CopyOut(a, []byte{1}); n != 0 || err != unix.ENOMEM {
		t.Fatalf("CopyOut: %d %v", n, err)
	}
	p.SetMax(5)
	if r := as.FaultFast(a, mm.Write); r != mm.FaultMapped {
		t.Fatalf("FaultFast: %v", r)
	}
	if r := as.FaultFast(a+pg, mm.Write); r != mm.FaultNoMem {
		t.Fatalf("FaultFast with no frame: %v", r)
	}
	if _, err := as.Fork(); err != unix.ENOMEM {
		t.Fatalf("Fork with no frame: %v", err)
	}
	if n := p.InUse(); n != 5 {
		t.Fatalf("failed Fork leaked: %d frames in use", n)
	}
	if _, err := mm.New(mm.Config{Phys: p, Lo: mmtest.Lo, Hi: mmtest.Hi}); !errors.Is(err, unix.ENOMEM) {
		t.Fatalf("New with no frame: %v", err)
	}
}

// TestCopyInString: a string is read up to its NUL, which must come
// within max bytes; it may cross pages and end just before an unmapped
// one; a page reached before the NUL that cannot be read is EFAULT.
func TestCopyInString(t *testing.T) {
	as := mmtest.NewASPhys(t, mmtest.NewPhys(100))
	a := mustMap(t, as, 0, 2*pg, rw, 0) // a third page, unmapped, follows
	put := func(va uint64, s string) {
		t.Helper()
		if _, err := as.CopyOut(va, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	long := string(bytes.Repeat([]byte("x"), 100))
	put(a, "short\x00")
	put(a+pg-3, "cross\x00")
	put(a+2*pg-4, "end\x00")
	put(a+100, long+"\x00")
	put(a+pg+8, "nonul")                          // then zeros: the NUL at +13
	b := mustMap(t, as, a+4*pg, pg, rw, mm.Fixed) // unmapped on both sides
	put(b+pg-3, "abc")                            // no NUL before the unmapped page
	for _, c := range []struct {
		name string
		va   uint64
		max  int
		want string
		err  error
	}{
		{"in a page", a, 4096, "short", nil},
		{"across pages", a + pg - 3, 4096, "cross", nil},
		{"ending before an unmapped page", a + 2*pg - 4, 4096, "end", nil},
		{"NUL at the last byte max allows", a, 6, "short", nil},
		{"NUL one byte past max", a, 5, "short", unix.ENAMETOOLONG},
		{"long, max cut inside it", a + 100, 10, long[:10], unix.ENAMETOOLONG},
		{"long, fits", a + 100, 101, long, nil},
		{"empty", a + pg + 13, 1, "", nil},
		{"unmapped before the NUL", b + pg - 3, 4096, "", unix.EFAULT},
		{"unmapped start", a + 2*pg, 4096, "", unix.EFAULT},
		{"NULL", 0, 4096, "", unix.EFAULT},
		{"past the top", ^uint64(0) - 1, 4096, "", unix.EFAULT},
	} {
		got, err := as.CopyInString(c.va, c.max)
		if got != c.want || err != c.err {
			t.Errorf("%s: %q, %v; want %q, %v", c.name, got, err, c.want, c.err)
		}
	}
}
