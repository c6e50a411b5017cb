package syscallshim

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"yolk/linux/abi"
)

// Signal actions, masks and alternate stacks; delivery is in signal.go.

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
	old := t.mask()
	if set != 0 {
		v, err := t.get64(set)
		if err != nil {
			return 0, err
		}
		m, ok := abi.ApplySigmask(t.mask(), int(how), v)
		if !ok {
			return 0, unix.EINVAL
		}
		t.setMask(m)
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
