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
