package syscallshim

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestGetMempolicy: one node, MPOL_DEFAULT, as Linux answers without a
// policy set (mm/mempolicy.c do_get_mempolicy).
func TestGetMempolicy(t *testing.T) {
	e := newHdEnv(t, nil)
	mode := e.m.fill(0, 4, 0xee)
	mask := e.m.fill(0x10, 16, 0xee)
	e.want(0, unix.SYS_GET_MEMPOLICY, mode, mask, 128, 0, 0)
	e.bytesAt(mode, []byte{0, 0, 0, 0})
	e.bytesAt(mask, make([]byte, 16)) // MPOL_DEFAULT: no nodes
	e.want(0, unix.SYS_GET_MEMPOLICY, mode, mask, 65, 0, unix.MPOL_F_MEMS_ALLOWED)
	e.bytesAt(mask, []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	e.m.fill(0, 4, 0xee)
	e.want(0, unix.SYS_GET_MEMPOLICY, mode, 0, 0, mask, unix.MPOL_F_NODE|unix.MPOL_F_ADDR)
	e.bytesAt(mode, []byte{0, 0, 0, 0}) // node 0
	for _, c := range []struct {
		args []uint64
		want unix.Errno
	}{
		{[]uint64{mode, 0, 0, 0, unix.MPOL_F_NODE}, unix.EINVAL},
		{[]uint64{mode, 0, 0, 0x10, unix.MPOL_F_NODE | unix.MPOL_F_ADDR}, unix.EFAULT},
		{[]uint64{mode, 0, 0, 0, unix.MPOL_F_MEMS_ALLOWED | unix.MPOL_F_ADDR}, unix.EINVAL},
		{[]uint64{mode, mask, 0, 0, 0}, unix.EINVAL},
		{[]uint64{mode, 0, 0, 0, 0x100}, unix.EINVAL},
		{[]uint64{8, 0, 0, 0, 0}, unix.EFAULT},
	} {
		e.want(hdErr(c.want), unix.SYS_GET_MEMPOLICY, c.args...)
	}
}

func TestSetMempolicy(t *testing.T) {
	e := newHdEnv(t, nil)
	zero := e.m.fill(0, 16, 0)
	e.want(0, unix.SYS_SET_MEMPOLICY, unix.MPOL_DEFAULT, 0, 0)
	e.want(0, unix.SYS_SET_MEMPOLICY, unix.MPOL_DEFAULT, zero, 128)
	one := e.m.put(0x20, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	e.want(hdErr(unix.EINVAL), unix.SYS_SET_MEMPOLICY, unix.MPOL_DEFAULT, one, 64)
	e.want(hdErr(unix.EINVAL), unix.SYS_SET_MEMPOLICY, unix.MPOL_BIND, one, 64)
	e.want(hdErr(unix.EFAULT), unix.SYS_SET_MEMPOLICY, unix.MPOL_DEFAULT, 8, 64)
}
