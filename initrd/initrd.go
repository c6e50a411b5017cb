package initrd

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// Kind is the form of a boot module.
type Kind int

const (
	// Unknown is anything that is neither an ELF file nor a newc archive.
	Unknown Kind = iota
	// RawELF is an ELF executable to be run as it is.
	RawELF
	// Cpio is a newc ("070701") or newc-with-checksum ("070702") cpio
	// archive holding the root filesystem.
	Cpio
)

// String implements fmt.Stringer.
func (k Kind) String() string {
	switch k {
	case RawELF:
		return "raw ELF"
	case Cpio:
		return "newc cpio"
	case Unknown:
		return "unknown"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

const (
	magicNewc    = "070701"
	magicNewcCRC = "070702"
	magicELF     = "\x7fELF"
)

// Detect tells which form the boot module b has, from its first bytes.
func Detect(b []byte) Kind {
	switch {
	case bytes.HasPrefix(b, []byte(magicELF)):
		return RawELF
	case bytes.HasPrefix(b, []byte(magicNewc)), bytes.HasPrefix(b, []byte(magicNewcCRC)):
		return Cpio
	}
	return Unknown
}

// FormatError reports a malformed archive.
type FormatError struct {
	Offset int64  // byte offset in the archive of the offending record
	Msg    string // what is wrong
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("initrd: malformed cpio archive at offset %d: %s", e.Offset, e.Msg)
}

func formatErr(off int64, format string, args ...any) *FormatError {
	return &FormatError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// Linux limits.
const (
	// MaxNameLen is the longest path component, NAME_MAX.
	MaxNameLen = 255
	// MaxPathLen is the longest path, PATH_MAX less its NUL.
	MaxPathLen = 4095
	// MaxSymlinks is the most symlinks one lookup follows, MAXSYMLINKS.
	MaxSymlinks = 40
)

// newc header layout: magic, then 13 fields of 8 hex digits.
const (
	headerLen = 6 + 13*8
	fIno      = iota - 1
	fMode
	fUID
	fGID
	fNlink
	fMtime
	fFileSize
	fDevMajor
	fDevMinor
	fRdevMajor
	fRdevMinor
	fNameSize
	fCheck
	nFields
)

// rawRecord is one header as walked and bounded by scan.
type rawRecord struct {
	off     int64 // header offset in the archive
	crc     bool  // magic is 070702
	f       [nFields]uint32
	name    string // raw name, without its NUL
	dataOff int64
	size    int64
}

func align4(n int64) int64 { return (n + 3) &^ 3 }

func hexField(b []byte) (uint32, bool) {
	var v uint32
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint32(c)
	}
	return v, true
}

// short shortens an archive name for error messages.
func short(name string) string {
	if len(name) > 64 {
		return name[:61] + "..."
	}
	return name
}

// trailer is the name of the record that ends a newc archive.
const trailerName = "TRAILER!!!"

// isTrailer says whether an archive name is the trailer's, leading slashes
// and dot components ignored as cpio's readers do.
func isTrailer(name string) bool { return path.Clean(strings.TrimLeft(name, "/")) == trailerName }

// scan walks every header of b, bounding each field against len(b), and
// returns the records, trailers excluded.
func scan(b []byte) ([]rawRecord, error) {
	end := int64(len(b))
	if end == 0 {
		return nil, formatErr(0, "empty archive")
	}
	var recs []rawRecord
	pos := int64(0)
	for {
		off := pos
		if off == end {
			return nil, formatErr(off, "archive ends without a %s record", trailerName)
		}
		if end-off < headerLen {
			return nil, formatErr(off, "truncated header: %d bytes left, need %d", end-off, headerLen)
		}
		h := b[off : off+headerLen]
		r := rawRecord{off: off}
		switch string(h[:6]) {
		case magicNewc:
		case magicNewcCRC:
			r.crc = true
		default:
			return nil, formatErr(off, "bad magic %q", h[:6])
		}
		for i := range r.f {
			v, ok := hexField(h[6+8*i : 6+8*i+8])
			if !ok {
				return nil, formatErr(off, "header field %d is not hex: %q", i, h[6+8*i:6+8*i+8])
			}
			r.f[i] = v
		}
		ns := int64(r.f[fNameSize])
		nameOff := off + headerLen
		switch {
		case ns == 0:
			return nil, formatErr(off, "name size 0")
		case ns > MaxPathLen+1:
			return nil, formatErr(off, "name size %d exceeds PATH_MAX", ns)
		case ns > end-nameOff:
			return nil, formatErr(off, "name size %d runs past the end of the archive (%d bytes left)", ns, end-nameOff)
		}
		nb := b[nameOff : nameOff+ns]
		if nb[ns-1] != 0 {
			return nil, formatErr(off, "name is not NUL-terminated")
		}
		if bytes.IndexByte(nb[:ns-1], 0) >= 0 {
			return nil, formatErr(off, "name contains NUL")
		}
		r.name = string(nb[:ns-1])
		r.dataOff = align4(nameOff + ns)
		r.size = int64(r.f[fFileSize])
		if r.dataOff > end || r.size > end-r.dataOff {
			return nil, formatErr(off, "%q: file size %d runs past the end of the archive", short(r.name), r.size)
		}
		pos = align4(r.dataOff + r.size)
		if !isTrailer(r.name) {
			recs = append(recs, r)
			continue
		}
		// Trailer: skip zero padding, then either the end or another
		// archive at an aligned offset.
		pos = min(pos, end)
		for pos < end && b[pos] == 0 {
			pos++
		}
		if pos == end {
			return recs, nil
		}
		if pos&3 != 0 {
			return nil, formatErr(pos, "data after trailer at unaligned offset")
		}
	}
}

// Parse reads the newc archive b into an FS. See the package documentation
// for what it accepts. Errors are *FormatError.
func Parse(b []byte) (*FS, error) {
	raws, err := scan(b)
	if err != nil {
		return nil, err
	}
	bd := newBuilder(b)
	for i := range raws {
		if err := bd.add(&raws[i]); err != nil {
			return nil, err
		}
	}
	return bd.finish(), nil
}

// Single returns an FS holding one regular file, data at path p (its
// directories made as Parse makes missing ones), with permissions perm:
// the root a raw ELF initrd runs in. data is not copied.
func Single(p string, data []byte, perm uint32) (*FS, error) {
	raw := rawRecord{name: p, size: int64(len(data))}
	raw.f[fMode] = unix.S_IFREG | perm&0o7777
	raw.f[fNlink] = 1
	bd := newBuilder(data)
	if err := bd.add(&raw); err != nil {
		return nil, err
	}
	return bd.finish(), nil
}

// cleanPath turns an archive name into a clean absolute path; ".." cannot
// climb above "/".
func cleanPath(name string) string { return path.Clean("/" + name) }
