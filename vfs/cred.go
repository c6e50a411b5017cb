package vfs

import (
	"slices"

	"golang.org/x/sys/unix"
)

// Cred is the identity file access is checked against: the filesystem
// uid and gid and the supplementary groups. UID 0 has Linux's
// CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_CHOWN, CAP_FSETID
// and CAP_MKNOD.
type Cred struct {
	UID    uint32
	GID    uint32
	Groups []uint32
}

// Root is the credential of uid 0.
var Root = Cred{}

// IsRoot reports whether c has the capabilities of uid 0.
func (c *Cred) IsRoot() bool { return c.UID == 0 }

// InGroup reports whether gid is c's group or one of its supplementary
// groups.
func (c *Cred) InGroup(gid uint32) bool {
	return c.GID == gid || slices.Contains(c.Groups, gid)
}

// Access bits for Permits, as access(2)'s R_OK, W_OK, X_OK.
const (
	MayRead  = 4
	MayWrite = 2
	MayExec  = 1
)

// Permits reports whether c may access a file with metadata s in the ways
// want (MayRead|MayWrite|MayExec) by its mode bits: the owner's bits if c
// owns it, else the group's if c is in its group, else the others'. Root
// may read and write anything, and execute what anyone may execute (and
// search any directory).
func (c *Cred) Permits(s *Stat, want uint32) bool {
	if c.IsRoot() {
		if want&MayExec == 0 || s.IsDir() || s.Mode&0o111 != 0 {
			return true
		}
		return false
	}
	var bits uint32
	switch {
	case c.UID == s.UID:
		bits = s.Mode >> 6
	case c.InGroup(s.GID):
		bits = s.Mode >> 3
	default:
		bits = s.Mode
	}
	return bits&want&7 == want
}

func (c *Cred) check(s *Stat, want uint32) error {
	if !c.Permits(s, want) {
		return unix.EACCES
	}
	return nil
}

// isOwner reports whether c may change s's attributes as its owner.
func (c *Cred) isOwner(s *Stat) bool { return c.IsRoot() || c.UID == s.UID }
