package syscallshim

import (
	"path"

	"golang.org/x/sys/unix"

	"yolk/initrd"
)

// Device files. Any character-device node with a number below opens as
// that device, whether it comes from the initrd or not; and the usual
// /dev entries exist even when the initrd has no /dev (a raw ELF initrd
// has nothing else), so `2>/dev/null`, /dev/urandom and /dev/tty work.

type devKind int

const (
	devNull devKind = iota + 1
	devZero
	devFull
	devRandom
	devTTY
)

var devNumbers = map[uint64]devKind{
	unix.Mkdev(1, 3):  devNull,
	unix.Mkdev(1, 5):  devZero,
	unix.Mkdev(1, 7):  devFull,
	unix.Mkdev(1, 8):  devRandom,
	unix.Mkdev(1, 9):  devRandom,
	unix.Mkdev(5, 0):  devTTY,
	unix.Mkdev(5, 1):  devTTY,
	unix.Mkdev(4, 64): devTTY,
}

// devNodes are the /dev entries that exist without the initrd.
var devNodes = map[string]*initrd.Node{}

func init() {
	for i, d := range []struct {
		name         string
		major, minor uint32
		perm         uint32
	}{
		{"null", 1, 3, 0o666}, {"zero", 1, 5, 0o666}, {"full", 1, 7, 0o666},
		{"random", 1, 8, 0o666}, {"urandom", 1, 9, 0o666},
		{"tty", 5, 0, 0o666}, {"console", 5, 1, 0o600}, {"ttyS0", 4, 64, 0o660},
	} {
		devNodes["/dev/"+d.name] = &initrd.Node{
			Path: "/dev/" + d.name, Name: d.name, Mode: unix.S_IFCHR | d.perm,
			Rdev: unix.Mkdev(d.major, d.minor), Ino: uint64(0x10000 + i), Nlink: 1,
		}
	}
}

// devNode returns the built-in /dev entry for p (relative to cwd).
func devNode(cwd, p string) (*initrd.Node, bool) {
	if !path.IsAbs(p) {
		p = path.Join(cwd, p)
	}
	n, ok := devNodes[path.Clean(p)]
	return n, ok
}

// openDevice returns the File for a device node, if yolk has that device.
func (t *Thread) openDevice(n *initrd.Node) (File, bool) {
	if n.Type() != unix.S_IFCHR {
		return nil, false
	}
	k, ok := devNumbers[n.Rdev]
	if !ok {
		return nil, false
	}
	if k == devTTY {
		if s := machineStreams(t.p.m); s != nil && !s.Terminal() {
			return &other{node: n}, true // no terminal: reads and writes fail (ENXIO)
		}
		return t.p.sys.con, true // the controlling terminal: the console
	}
	return &device{kind: k, node: n, m: t.p.m}, true
}

// device is /dev/null, /dev/zero, /dev/full or /dev/(u)random.
type device struct {
	kind devKind
	node *initrd.Node
	m    Machine
}

func (d *device) Read(b []byte) (int, error) {
	switch d.kind {
	case devNull:
		return 0, nil
	case devRandom:
		d.m.Random(b)
	default:
		clear(b)
	}
	return len(b), nil
}

func (d *device) Write(b []byte) (int, error) {
	if d.kind == devFull {
		return 0, unix.ENOSPC
	}
	return len(b), nil
}

func (d *device) Pread(b []byte, off int64) (int, error) { return d.Read(b) }
func (d *device) Seek(int64, int) (int64, error)         { return 0, nil }
func (d *device) Close() error                           { return nil }
func (d *device) Stat() stat                             { return nodeStat(d.node) }
func (d *device) poll() uint32                           { return unix.EPOLLIN | unix.EPOLLOUT }
