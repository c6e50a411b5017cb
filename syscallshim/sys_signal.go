package syscallshim

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"yolk/linux/abi"
)

// Signals are recorded, not yet delivered to handlers (a later issue).
// What is real: the actions and masks programs set and read back, and
// the default action of a signal a program sends itself (abort() ends
// the program with 128+SIGABRT, as on Linux).

func sysRtSigaction(t *Thread, a Args) (uint64, error) {
	sig, act, oact, size := a[0], a[1], a[2], a[3]
	if size != 8 || sig < 1 || sig > 64 {
		return 0, unix.EINVAL
	}
	if act != 0 && (sig == uint64(unix.SIGKILL) || sig == uint64(unix.SIGSTOP)) {
		return 0, unix.EINVAL
	}
	var newAct []byte
	if act != 0 {
		b, err := t.copyIn(act, 32)
		if err != nil {
			return 0, err
		}
		newAct = b
	}
	t.p.mu.Lock()
	old := t.p.sigact[sig]
	if newAct != nil {
		copy(t.p.sigact[sig][:], newAct)
	}
	t.p.mu.Unlock()
	if oact != 0 {
		return 0, t.copyOut(oact, old[:])
	}
	return 0, nil
}

func sysRtSigprocmask(t *Thread, a Args) (uint64, error) {
	how, set, oset, size := a[0], a[1], a[2], a[3]
	if size != 8 {
		return 0, unix.EINVAL
	}
	old := t.sigmask
	if set != 0 {
		v, err := t.get64(set)
		if err != nil {
			return 0, err
		}
		v &^= 1<<(unix.SIGKILL-1) | 1<<(unix.SIGSTOP-1)
		switch how {
		case unix.SIG_BLOCK:
			t.sigmask |= v
		case unix.SIG_UNBLOCK:
			t.sigmask &^= v
		case unix.SIG_SETMASK:
			t.sigmask = v
		default:
			return 0, unix.EINVAL
		}
	}
	if oset != 0 {
		return 0, t.put64(oset, old)
	}
	return 0, nil
}

func sysSigaltstack(t *Thread, a Args) (uint64, error) {
	old := t.altstack
	if a[0] != 0 {
		b, err := t.copyIn(a[0], 24)
		if err != nil {
			return 0, err
		}
		flags := binary.LittleEndian.Uint32(b[8:])
		if flags&^(abi.SS_DISABLE|abi.SS_AUTODISARM) != 0 {
			return 0, unix.EINVAL
		}
		if flags&abi.SS_DISABLE == 0 && binary.LittleEndian.Uint64(b[16:]) < 2048 {
			return 0, unix.ENOMEM
		}
		for i := range t.altstack {
			t.altstack[i] = binary.LittleEndian.Uint64(b[8*i:])
		}
	}
	if a[1] != 0 {
		var b [24]byte
		for i, v := range old {
			binary.LittleEndian.PutUint64(b[8*i:], v)
		}
		if old[0] == 0 && old[2] == 0 {
			binary.LittleEndian.PutUint64(b[8:], abi.SS_DISABLE)
		}
		return 0, t.copyOut(a[1], b[:])
	}
	return 0, nil
}

// sigDefaultIgnored lists the signals whose default action is to ignore.
func sigDefaultIgnored(sig uint64) bool {
	switch sig {
	case uint64(unix.SIGCHLD), uint64(unix.SIGURG), uint64(unix.SIGWINCH), uint64(unix.SIGCONT):
		return true
	}
	return false
}

// signalSelf applies a signal the program sent to itself: SIG_IGN and
// default-ignored signals are dropped, a default action of termination
// ends the program with 128+sig; a signal with a handler cannot be
// delivered yet (ENOSYS, logged).
func (t *Thread) signalSelf(sig uint64) (uint64, error) {
	if sig == 0 {
		return 0, nil // existence check
	}
	if sig > 64 {
		return 0, unix.EINVAL
	}
	t.p.mu.Lock()
	handler := binary.LittleEndian.Uint64(t.p.sigact[sig][:8])
	t.p.mu.Unlock()
	const sigDFL, sigIGN = 0, 1
	switch {
	case handler == sigIGN || (handler == sigDFL && sigDefaultIgnored(sig)):
		return 0, nil
	case handler == sigDFL || sig == uint64(unix.SIGKILL):
		t.p.printf("yolk: %s[%d]: killed by signal %s\n", t.p.comm, t.tid, unix.SignalName(unix.Signal(sig)))
		t.exited = true
		t.p.exit(128 + int(sig))
		return 0, nil
	}
	return t.nosysArg("signal delivery to a handler, signal", sig)
}

func sysKill(t *Thread, a Args) (uint64, error) {
	pid := int32(a[0])
	if pid != t.p.pid && pid != 0 && pid != -1 {
		return 0, unix.ESRCH
	}
	return t.signalSelf(a[1])
}

func sysTgkill(t *Thread, a Args) (uint64, error) {
	if int32(a[0]) != t.p.pid {
		return 0, unix.ESRCH
	}
	return sysTkill(t, Args{a[1], a[2]})
}

func sysTkill(t *Thread, a Args) (uint64, error) {
	t.p.mu.Lock()
	_, ok := t.p.threads[int32(a[0])]
	t.p.mu.Unlock()
	if !ok {
		return 0, unix.ESRCH
	}
	return t.signalSelf(a[1])
}
