package syscallshim

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// Credentials (credentials(7)): real, effective, saved and file-system
// user and group IDs and the supplementary groups. They are per process
// here (Linux keeps them per thread, but the C libraries make every thread
// change them together, and so do programs). A program starts as root.
// yolk checks no file permissions against them yet: they are what the
// program set, reported back, with Linux's rules for who may set what.
type creds struct {
	ruid, euid, suid, fsuid uint32
	rgid, egid, sgid, fsgid uint32
	groups                  []uint32
}

// ngroupsMax is Linux's NGROUPS_MAX.
const ngroupsMax = 65536

// noID is -1 as a uid_t/gid_t argument: "leave unchanged".
const noID = ^uint32(0)

func (t *Thread) creds() creds {
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	c := t.p.cred
	c.groups = append([]uint32(nil), c.groups...)
	return c
}

// setCreds applies fn to the process's credentials under its lock.
func (t *Thread) setCreds(fn func(c *creds) error) error {
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	c := t.p.cred
	if err := fn(&c); err != nil {
		return err
	}
	t.p.cred = c
	for _, th := range t.p.threads { // getuid and the like change
		th.withdrawFast()
	}
	return nil
}

// setresID is setresuid/setresgid's rule: an unprivileged caller may set
// each ID only to one of its current real, effective or saved IDs. The
// file-system ID follows the effective one.
func setresID(priv bool, r, e, s *uint32, fs *uint32, nr, ne, ns uint32) error {
	ok := func(v uint32) bool { return v == noID || priv || v == *r || v == *e || v == *s }
	if !ok(nr) || !ok(ne) || !ok(ns) {
		return unix.EPERM
	}
	if nr != noID {
		*r = nr
	}
	if ne != noID {
		*e = ne
	}
	if ns != noID {
		*s = ns
	}
	*fs = *e
	return nil
}

func sysGetuid(t *Thread, a Args) (uint64, error)  { return uint64(t.creds().ruid), nil }
func sysGeteuid(t *Thread, a Args) (uint64, error) { return uint64(t.creds().euid), nil }
func sysGetgid(t *Thread, a Args) (uint64, error)  { return uint64(t.creds().rgid), nil }
func sysGetegid(t *Thread, a Args) (uint64, error) { return uint64(t.creds().egid), nil }

// sysSetuid implements setuid(2): root sets all three IDs, others only the
// effective one (to the real or saved ID).
func sysSetuid(t *Thread, a Args) (uint64, error) {
	id := uint32(a[0])
	if id == noID {
		return 0, unix.EINVAL
	}
	return 0, t.setCreds(func(c *creds) error {
		if c.euid == 0 {
			c.ruid, c.euid, c.suid, c.fsuid = id, id, id, id
			return nil
		}
		if id != c.ruid && id != c.suid {
			return unix.EPERM
		}
		c.euid, c.fsuid = id, id
		return nil
	})
}

func sysSetgid(t *Thread, a Args) (uint64, error) {
	id := uint32(a[0])
	if id == noID {
		return 0, unix.EINVAL
	}
	return 0, t.setCreds(func(c *creds) error {
		if c.euid == 0 {
			c.rgid, c.egid, c.sgid, c.fsgid = id, id, id, id
			return nil
		}
		if id != c.rgid && id != c.sgid {
			return unix.EPERM
		}
		c.egid, c.fsgid = id, id
		return nil
	})
}

// sysSetreuid implements setreuid(2): the saved ID becomes the new
// effective one when the real ID is set or the effective one changes to
// something other than the old real ID.
func sysSetreuid(t *Thread, a Args) (uint64, error) {
	nr, ne := uint32(a[0]), uint32(a[1])
	return 0, t.setCreds(func(c *creds) error {
		priv := c.euid == 0
		if nr != noID && !priv && nr != c.ruid && nr != c.euid ||
			ne != noID && !priv && ne != c.ruid && ne != c.euid && ne != c.suid {
			return unix.EPERM
		}
		oldR := c.ruid
		if nr != noID {
			c.ruid = nr
		}
		if ne != noID {
			c.euid = ne
		}
		if nr != noID || ne != noID && ne != oldR {
			c.suid = c.euid
		}
		c.fsuid = c.euid
		return nil
	})
}

func sysSetregid(t *Thread, a Args) (uint64, error) {
	nr, ne := uint32(a[0]), uint32(a[1])
	return 0, t.setCreds(func(c *creds) error {
		priv := c.euid == 0
		if nr != noID && !priv && nr != c.rgid && nr != c.egid ||
			ne != noID && !priv && ne != c.rgid && ne != c.egid && ne != c.sgid {
			return unix.EPERM
		}
		oldR := c.rgid
		if nr != noID {
			c.rgid = nr
		}
		if ne != noID {
			c.egid = ne
		}
		if nr != noID || ne != noID && ne != oldR {
			c.sgid = c.egid
		}
		c.fsgid = c.egid
		return nil
	})
}

func sysSetresuid(t *Thread, a Args) (uint64, error) {
	return 0, t.setCreds(func(c *creds) error {
		return setresID(c.euid == 0, &c.ruid, &c.euid, &c.suid, &c.fsuid, uint32(a[0]), uint32(a[1]), uint32(a[2]))
	})
}

func sysSetresgid(t *Thread, a Args) (uint64, error) {
	return 0, t.setCreds(func(c *creds) error {
		return setresID(c.euid == 0, &c.rgid, &c.egid, &c.sgid, &c.fsgid, uint32(a[0]), uint32(a[1]), uint32(a[2]))
	})
}

// putIDs writes three IDs to three program addresses (getresuid(2)).
func (t *Thread) putIDs(p [3]uint64, v [3]uint32) error {
	for i := range p {
		if err := t.put32(p[i], v[i]); err != nil {
			return err
		}
	}
	return nil
}

func sysGetresuid(t *Thread, a Args) (uint64, error) {
	c := t.creds()
	return 0, t.putIDs([3]uint64{a[0], a[1], a[2]}, [3]uint32{c.ruid, c.euid, c.suid})
}

func sysGetresgid(t *Thread, a Args) (uint64, error) {
	c := t.creds()
	return 0, t.putIDs([3]uint64{a[0], a[1], a[2]}, [3]uint32{c.rgid, c.egid, c.sgid})
}

// sysSetfsuid implements setfsuid(2): it returns the old ID, whether or
// not the change was allowed.
func sysSetfsuid(t *Thread, a Args) (uint64, error) {
	id := uint32(a[0])
	var old uint32
	t.setCreds(func(c *creds) error {
		old = c.fsuid
		if id != noID && (c.euid == 0 || id == c.ruid || id == c.euid || id == c.suid || id == c.fsuid) {
			c.fsuid = id
		}
		return nil
	})
	return uint64(old), nil
}

func sysSetfsgid(t *Thread, a Args) (uint64, error) {
	id := uint32(a[0])
	var old uint32
	t.setCreds(func(c *creds) error {
		old = c.fsgid
		if id != noID && (c.euid == 0 || id == c.rgid || id == c.egid || id == c.sgid || id == c.fsgid) {
			c.fsgid = id
		}
		return nil
	})
	return uint64(old), nil
}

// sysGetgroups implements getgroups(2): size 0 asks for the count.
func sysGetgroups(t *Thread, a Args) (uint64, error) {
	size := int32(a[0])
	g := t.creds().groups
	switch {
	case size < 0:
		return 0, unix.EINVAL
	case size == 0:
		return uint64(len(g)), nil
	case int(size) < len(g):
		return 0, unix.EINVAL
	}
	b := make([]byte, 4*len(g))
	for i, v := range g {
		binary.LittleEndian.PutUint32(b[4*i:], v)
	}
	return uint64(len(g)), t.copyOut(a[1], b)
}

// sysSetgroups implements setgroups(2) (root only, as without
// CAP_SETGID).
func sysSetgroups(t *Thread, a Args) (uint64, error) {
	n := a[0]
	if n > ngroupsMax {
		return 0, unix.EINVAL
	}
	var g []uint32
	if n > 0 {
		b, err := t.copyIn(a[1], 4*n)
		if err != nil {
			return 0, err
		}
		g = make([]uint32, n)
		for i := range g {
			g[i] = binary.LittleEndian.Uint32(b[4*i:])
		}
	}
	return 0, t.setCreds(func(c *creds) error {
		if c.euid != 0 {
			return unix.EPERM
		}
		c.groups = g
		return nil
	})
}

// Capabilities (capabilities(7)) follow the effective user ID: a process
// whose euid is 0 has every capability in its permitted and effective
// sets, any other none, which is what yolk's permission checks assume
// (they ask for root, not for a capability). capset can therefore only
// confirm the sets a process has.
const (
	capVersion1 = 0x19980330 // one 32-bit set per field
	capVersion2 = 0x20071026 // two (deprecated, same layout as 3)
	capVersion3 = 0x20080522
	capAll      = 1<<(capLastCap+1) - 1 // every capability
)

// capSets returns the permitted (= effective) set of creds c; the
// inheritable set is empty.
func capSets(c creds) uint64 {
	if c.euid == 0 {
		return capAll
	}
	return 0
}

// capHeader reads a __user_cap_header_struct: the version (a wrong one is
// EINVAL after writing the preferred version back, as Linux) and the
// process it names (0: the caller).
func (t *Thread) capHeader(va uint64) (words int, p *Process, err error) {
	b, err := t.copyIn(va, 8)
	if err != nil {
		return 0, nil, err
	}
	switch binary.LittleEndian.Uint32(b) {
	case capVersion1:
		words = 1
	case capVersion2, capVersion3:
		words = 2
	default:
		if err := t.put32(va, capVersion3); err != nil {
			return 0, nil, err
		}
		return 0, nil, unix.EINVAL
	}
	pid := int32(binary.LittleEndian.Uint32(b[4:]))
	switch {
	case pid < 0:
		return 0, nil, unix.EINVAL
	case pid == 0 || pid == t.p.pid:
		return words, t.p, nil
	}
	q := t.p.sys.live(pid)
	if q == nil {
		return 0, nil, unix.ESRCH
	}
	return words, q, nil
}

// sysCapget implements capget(2).
func sysCapget(t *Thread, a Args) (uint64, error) {
	words, p, err := t.capHeader(a[0])
	if err != nil || a[1] == 0 {
		return 0, err // a null data pointer asks only for the version
	}
	p.mu.Lock()
	set := capSets(p.cred)
	p.mu.Unlock()
	b := make([]byte, 12*words) // {effective, permitted, inheritable} per word
	for w := 0; w < words; w++ {
		v := uint32(set >> (32 * w))
		binary.LittleEndian.PutUint32(b[12*w:], v)
		binary.LittleEndian.PutUint32(b[12*w+4:], v)
	}
	return 0, t.copyOut(a[1], b)
}

// sysCapset implements capset(2) for the sets the caller already has;
// changing them (dropping capabilities) is EPERM, logged once, since yolk
// does not model capabilities apart from the user ID.
func sysCapset(t *Thread, a Args) (uint64, error) {
	words, p, err := t.capHeader(a[0])
	if err != nil {
		return 0, err
	}
	if p != t.p {
		return 0, unix.EPERM // only the caller's own sets, as since Linux 2.6.24
	}
	b, err := t.copyIn(a[1], uint64(12*words))
	if err != nil {
		return 0, err
	}
	set := capSets(t.creds())
	for w := 0; w < words; w++ {
		v := uint32(set >> (32 * w))
		le := binary.LittleEndian
		if le.Uint32(b[12*w:]) != v || le.Uint32(b[12*w+4:]) != v || le.Uint32(b[12*w+8:]) != 0 {
			t.logOnce("capset", "capset changing the capability sets is not supported (capabilities follow the euid): EPERM")
			return 0, unix.EPERM
		}
	}
	return 0, nil
}
