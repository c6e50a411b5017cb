package syscallshim

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// Access to the program's memory. Every pointer the program passes goes
// through these: unmapped or wrongly protected memory is EFAULT.

func (t *Thread) bytes(va, n uint64, write bool) ([]byte, error) {
	b, ok := t.p.m.Bytes(va, n, write)
	if !ok {
		return nil, unix.EFAULT
	}
	return b, nil
}

// copyIn returns a copy of the program's [va, va+n).
func (t *Thread) copyIn(va, n uint64) ([]byte, error) {
	b, err := t.bytes(va, n, false)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), b...), nil
}

func (t *Thread) copyOut(va uint64, b []byte) error {
	dst, err := t.bytes(va, uint64(len(b)), true)
	if err != nil {
		return err
	}
	copy(dst, b)
	return nil
}

func (t *Thread) get32(va uint64) (uint32, error) {
	b, err := t.bytes(va, 4, false)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (t *Thread) get64(va uint64) (uint64, error) {
	b, err := t.bytes(va, 8, false)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

func (t *Thread) put32(va uint64, v uint32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	return t.copyOut(va, b[:])
}

func (t *Thread) put64(va uint64, v uint64) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return t.copyOut(va, b[:])
}

// pathMax is Linux's PATH_MAX, including the NUL.
const pathMax = 4096

// readString reads a NUL-terminated string of at most max bytes
// (ENAMETOOLONG beyond), page by page so that a string ending just
// before an unmapped page is fine.
func (t *Thread) readString(va uint64, max int) (string, error) {
	var out []byte
	for len(out) < max {
		n := 4096 - va%4096
		b, err := t.bytes(va, n, false)
		if err != nil {
			return "", err
		}
		for i, c := range b {
			if c == 0 {
				return string(append(out, b[:i]...)), nil
			}
		}
		out = append(out, b...)
		va += n
	}
	return "", unix.ENAMETOOLONG
}

// readPath reads a pathname argument.
func (t *Thread) readPath(va uint64) (string, error) {
	if va == 0 {
		return "", unix.EFAULT
	}
	return t.readString(va, pathMax)
}

// iovec is one struct iovec.
type iovec struct{ base, len uint64 }

// readIovecs reads an iovec array (at most IOV_MAX = 1024 entries).
func (t *Thread) readIovecs(va, n uint64) ([]iovec, error) {
	if n > 1024 {
		return nil, unix.EINVAL
	}
	b, err := t.bytes(va, 16*n, false)
	if err != nil {
		return nil, err
	}
	v := make([]iovec, n)
	for i := range v {
		v[i] = iovec{binary.LittleEndian.Uint64(b[16*i:]), binary.LittleEndian.Uint64(b[16*i+8:])}
	}
	return v, nil
}

// timespec reads a struct timespec as nanoseconds; EINVAL for a bad one.
func (t *Thread) timespec(va uint64) (int64, error) {
	b, err := t.bytes(va, 16, false)
	if err != nil {
		return 0, err
	}
	sec, nsec := int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, unix.EINVAL
	}
	if sec > (1<<62)/1_000_000_000 {
		sec = (1 << 62) / 1_000_000_000
	}
	return sec*1e9 + nsec, nil
}

func (t *Thread) putTimespec(va uint64, ns int64) error {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], uint64(ns/1e9))
	binary.LittleEndian.PutUint64(b[8:], uint64(ns%1e9))
	return t.copyOut(va, b[:])
}
