package mm

// Test hooks.

// SetBusy marks as busy as a goroutine holding its lock would.
func SetBusy(as *AddressSpace, busy bool) {
	if busy {
		as.state.Store(stBusy)
	} else {
		as.state.Store(stIdle)
	}
}

// Leaf returns the leaf entry for va (0 when its tables are absent).
func Leaf(as *AddressSpace, va uint64) uint64 {
	as.lock()
	defer as.unlock()
	if e := as.slot(va, false); e != nil {
		return *e
	}
	return 0
}

const PTECOW = pteCOW

// Check verifies the VMA tree's invariants.
func Check(as *AddressSpace, tb checkTB) {
	as.lock()
	defer as.unlock()
	as.vmas.check(tb)
}

// Audit returns how many page-table frames as uses (the root included)
// and how many of its leaf entries reference each data frame.
func Audit(as *AddressSpace) (tables int, frames map[uint64]int) {
	as.lock()
	defer as.unlock()
	frames = map[uint64]int{}
	if as.released {
		return 0, frames
	}
	var rec func(tp uint64, level int)
	rec = func(tp uint64, level int) {
		tables++
		t := as.table(tp)
		lo, hi := 0, 512
		if level == 3 { // only the lower half is the program's
			hi = 256
		}
		for i := lo; i < hi; i++ {
			e := t[i]
			switch {
			case level == 0 && framed(e):
				frames[e&0x000ffffffffff000]++
			case level > 0 && e&1 != 0:
				rec(e&0x000ffffffffff000, level-1)
			}
		}
	}
	rec(as.root, 3)
	return tables, frames
}

// CopySmall is copySmall, for TestCopySmall.
var CopySmall = copySmall
