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
	data := mustMap(t, as, 0x600000, 3*pg, rw, mm.Fixed)
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
	for _, c := range []struct {
		name string
		va   uint64
	}{
		{"into an unbacked page", data + 2*pg - 8},
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
