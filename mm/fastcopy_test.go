package mm_test

import (
	"bytes"
	"testing"

	"yolk/mm"
	"yolk/mm/mmtest"
)

// TestCopyOutFast writes only where a store would not fault: present,
// writable pages (across a page boundary too), never a copy-on-write
// page, an unbacked one, a read-only one or a busy space, and then writes
// nothing at all.
func TestCopyOutFast(t *testing.T) {
	as := mmtest.NewAS(t)
	data := mustMap(t, as, 0x600000, 4*pg, rw, mm.Fixed)
	text := mustMap(t, as, 0x400000, pg, ro, mm.Fixed)
	if _, err := as.CopyOut(data, make([]byte, 2*pg)); err != nil { // back two pages
		t.Fatal(err)
	}
	msg := []byte("0123456789abcdef")
	if !as.CopyOutFast(data+pg-8, msg) {
		t.Fatal("refused a write across two backed pages")
	}
	got := make([]byte, len(msg))
	as.CopyIn(data+pg-8, got)
	if !bytes.Equal(got, msg) {
		t.Errorf("read back %q", got)
	}
	if !as.CopyOutFast(data+16, msg) { // within one page
		t.Fatal("refused a write within a backed page")
	}
	as.CopyIn(data+16, got)
	if !bytes.Equal(got, msg) {
		t.Errorf("read back %q from one page", got)
	}
	// Backed and writable, but over three pages: more than the fast path
	// serves, so nothing is written.
	if _, err := as.CopyOut(data, make([]byte, 3*pg)); err != nil {
		t.Fatal(err)
	}
	if as.CopyOutFast(data+8, bytes.Repeat([]byte{1}, 2*pg)) {
		t.Error("wrote over three pages")
	}
	b := make([]byte, 3*pg)
	if _, err := as.CopyIn(data, b); err != nil || !bytes.Equal(b, make([]byte, 3*pg)) {
		t.Error("a refused write changed memory")
	}
	for _, c := range []struct {
		name string
		va   uint64
	}{
		{"into an unbacked page", data + 3*pg - 8},
		{"read-only", text},
		{"unmapped", 0x800000},
		{"wrapping", ^uint64(0) - 4},
	} {
		if as.CopyOutFast(c.va, msg) {
			t.Errorf("%s: wrote", c.name)
		}
	}
	// After fork the pages are copy-on-write in both spaces.
	child, err := as.Fork()
	if err != nil {
		t.Fatal(err)
	}
	if as.CopyOutFast(data, msg) || child.CopyOutFast(data, msg) {
		t.Error("wrote into a copy-on-write page")
	}
	mm.SetBusy(child, true)
	if child.CopyOutFast(data, msg) {
		t.Error("wrote into a busy space")
	}
	mm.SetBusy(child, false)
	child.Release()
}

// TestDirectMap runs the copy layer, the fast copy, faults and fork over
// a Phys whose frames are also at Config.DirectMap+phys, as the kernel's
// are: mm then walks tables and copies pages there, not through
// Phys.Page.
func TestDirectMap(t *testing.T) {
	p := mmtest.NewDirectPhys(256)
	if p.DirectMap() == 0 {
		t.Fatal("no direct map")
	}
	as := mmtest.NewASPhys(t, p)
	data := mustMap(t, as, 0x600000, 4*pg, rw, mm.Fixed)
	msg := bytes.Repeat([]byte("direct map "), 600) // over two page boundaries
	if _, err := as.CopyOut(data+100, msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := as.CopyIn(data+100, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("CopyIn: %v, equal %v", err, bytes.Equal(got, msg))
	}
	if !as.CopyOutFast(data+pg-8, []byte("0123456789abcdef")) {
		t.Fatal("CopyOutFast refused backed pages")
	}
	child, err := as.Fork()
	if err != nil {
		t.Fatal(err)
	}
	defer child.Release()
	if _, err := child.CopyOut(data, []byte("child")); err != nil { // copy-on-write
		t.Fatal(err)
	}
	a, b := make([]byte, 16), make([]byte, 16)
	as.CopyIn(data+pg-8, a)
	child.CopyIn(data+pg-8, b)
	if string(a) != "0123456789abcdef" || string(b) != "0123456789abcdef" {
		t.Errorf("after fork: parent %q, child %q", a, b)
	}
	as.CopyIn(data, a[:5])
	child.CopyIn(data, b[:5])
	if string(a[:5]) != "\x00\x00\x00\x00\x00" || string(b[:5]) != "child" { // the parent's are still zero
		t.Errorf("copy-on-write: parent %q, child %q", a[:5], b[:5])
	}
	if err := as.Unmap(data, 4*pg); err != nil {
		t.Fatal(err)
	}
	if tables, frames := mm.Audit(as); len(frames) != 0 || tables == 0 {
		t.Errorf("after unmap: %d tables, frames %v", tables, frames)
	}
}

// TestCopySmall checks the fast copy's small stores against copy for
// every length up to past its word limit: exactly the bytes given, none
// beside them.
func TestCopySmall(t *testing.T) {
	for n := 0; n <= 20; n++ {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(i + 1)
		}
		got := bytes.Repeat([]byte{0xee}, 24)
		want := bytes.Repeat([]byte{0xee}, 24)
		mm.CopySmall(got[2:], src)
		copy(want[2:], src)
		if !bytes.Equal(got, want) {
			t.Errorf("copySmall of %d bytes: %x, want %x", n, got, want)
		}
	}
}
