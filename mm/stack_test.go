package mm_test

import (
	"encoding/binary"
	"slices"
	"testing"

	"yolk/mm"
	"yolk/mm/mmtest"
)

// TestUserStack walks a frame-pointer chain laid out in program memory:
// three frames whose return addresses are in executable memory, then one
// whose return address is not (the walk stops there).
func TestUserStack(t *testing.T) {
	as := mmtest.NewAS(t)
	text := mustMap(t, as, 0x400000, 4*pg, rwx, mm.Fixed)
	data := mustMap(t, as, 0x600000, pg, rw, mm.Fixed)
	stack := mustMap(t, as, 0x700000, 2*pg, rw, mm.Fixed)
	// frames at stack+0x100 -> +0x200 -> +0x1100 (on the second page) -> +0x1200
	frames := []struct{ at, next, ret uint64 }{
		{stack + 0x100, stack + 0x200, text + 0x10},
		{stack + 0x200, stack + 0x1100, text + 0x2020},
		{stack + 0x1100, stack + 0x1200, text + 0x30},
		{stack + 0x1200, stack + 0x1300, data + 8}, // not executable: stop
	}
	for _, f := range frames {
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:], f.next)
		binary.LittleEndian.PutUint64(b[8:], f.ret)
		if _, err := as.CopyOut(f.at, b[:]); err != nil {
			t.Fatal(err)
		}
	}
	pcs := make([]uint64, 8)
	n := as.UserStack(text+0x999, stack+0x100, pcs)
	want := []uint64{text + 0x999, text + 0x10, text + 0x2020, text + 0x30}
	if !slices.Equal(pcs[:n], want) {
		t.Errorf("walk %#x, want %#x", pcs[:n], want)
	}
	// A depth limit, a bad frame pointer, an unmapped one, a busy space.
	if n := as.UserStack(1, stack+0x100, pcs[:2]); n != 2 {
		t.Errorf("depth 2 gave %d", n)
	}
	for _, rbp := range []uint64{stack + 0x101, 0x900000, 0, ^uint64(0) - 7} {
		if n := as.UserStack(1, rbp, pcs); n != 1 {
			t.Errorf("rbp %#x gave %d frames %#x", rbp, n, pcs[:n])
		}
	}
	mm.SetBusy(as, true)
	if n := as.UserStack(1, stack+0x100, pcs); n != 1 {
		t.Errorf("busy space walked %d frames", n)
	}
	mm.SetBusy(as, false)
	// The chain must go up: a loop stops after one frame.
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], stack+0x100)
	binary.LittleEndian.PutUint64(b[8:], text)
	as.CopyOut(stack+0x100, b[:])
	if n := as.UserStack(1, stack+0x100, pcs); n != 2 {
		t.Errorf("looping chain gave %d frames", n)
	}
}

// TestUserStackReleased: a sample of a thread whose space was released
// (the process exiting or execing as the timer fires) gives the leaf
// only; the walk must not follow the freed root (it did, and the kernel
// took a #GP in the trap handler under make bench's profiled run).
func TestUserStackReleased(t *testing.T) {
	as := mmtest.NewAS(t)
	stack := mustMap(t, as, 0x700000, pg, rw, mm.Fixed)
	as.Release()
	pcs := make([]uint64, 4)
	if n := as.UserStack(1, stack+0x100, pcs); n != 1 {
		t.Errorf("a released space walked %d frames", n)
	}
}
