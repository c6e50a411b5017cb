// Package hostio is the framing protocol between yolk's kernel and the
// runner (cmd/yolkrun) on the one virtio-console port they share.
//
// One byte stream in each direction carries frames: a 4-byte header (the
// frame type, then the payload length as a 24-bit little-endian number)
// and the payload. The guest sends the program's stdout and stderr and
// the kernel's log (strace lines, notices) as separate frame types, so
// the runner can put each on its own file descriptor byte for byte; the
// runner sends stdin, the end of stdin, terminal size changes and the
// news that its stdout or stderr reader went away. Carrying these in
// band keeps the kernel independent of how a QEMU character device
// reports a closed peer, and keeps the order of stdout and stderr as the
// program wrote them.
package hostio

import "fmt"

// Type is a frame type.
type Type uint8

// Frame types, guest to host.
const (
	Stdout Type = 1 // program output for fd 1
	Stderr Type = 2 // program output for fd 2
	Log    Type = 3 // kernel messages and traces (the runner's stderr or -L file)
	Trace  Type = 4 // strace lines for strace's -o FILE (the runner writes FILE)
	Prof   Type = 5 // the sampling profiler's records (qemu/run --profile)
)

// Frame types, host to guest.
const (
	Stdin        Type = 16 // bytes for the program's fd 0
	StdinEOF     Type = 17 // no payload: the runner's stdin ended
	Winsize      Type = 18 // rows, cols: two 16-bit little-endian numbers
	StdoutClosed Type = 19 // no payload: writes to fd 1 now fail with EPIPE
	StderrClosed Type = 20 // no payload: writes to fd 2 now fail with EPIPE
)

var typeNames = [...]string{
	Stdout: "stdout", Stderr: "stderr", Log: "log", Trace: "trace", Prof: "profile",
	Stdin: "stdin", StdinEOF: "stdin-eof", Winsize: "winsize",
	StdoutClosed: "stdout-closed", StderrClosed: "stderr-closed",
}

func (t Type) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return fmt.Sprintf("type-%d", uint8(t))
}

// HeaderSize is the size of a frame header; MaxPayload the largest
// payload a header can describe.
const (
	HeaderSize = 4
	MaxPayload = 1<<24 - 1
)

// control reports whether frames of type t are delivered whole (small
// fixed-size messages) rather than streamed in pieces.
func (t Type) control() bool { return t == Winsize }

// maxControl is the largest control payload the decoder accepts.
const maxControl = 64

// PutHeader writes the header of a frame of type t with an n-byte payload
// into b[:HeaderSize].
func PutHeader(b []byte, t Type, n int) {
	_ = b[HeaderSize-1]
	b[0] = byte(t)
	b[1] = byte(n)
	b[2] = byte(n >> 8)
	b[3] = byte(n >> 16)
}

// Append appends a whole frame to dst.
func Append(dst []byte, t Type, payload []byte) []byte {
	var h [HeaderSize]byte
	PutHeader(h[:], t, len(payload))
	return append(append(dst, h[:]...), payload...)
}

// WinsizePayload encodes a terminal size.
func WinsizePayload(rows, cols uint16) []byte {
	return []byte{byte(rows), byte(rows >> 8), byte(cols), byte(cols >> 8)}
}

// ParseWinsize decodes a Winsize payload.
func ParseWinsize(p []byte) (rows, cols uint16, ok bool) {
	if len(p) != 4 {
		return 0, 0, false
	}
	return uint16(p[0]) | uint16(p[1])<<8, uint16(p[2]) | uint16(p[3])<<8, true
}

// A FormatError is a malformed byte stream: the offset counts the bytes
// fed to the decoder before the bad header.
type FormatError struct {
	Offset int64
	Msg    string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("hostio: bad frame at byte %d: %s", e.Offset, e.Msg)
}

// Decoder splits a byte stream into frames as the bytes arrive, in any
// pieces. Data frames reach the handler in pieces as their bytes come
// (the last piece with end set; a frame without payload arrives as one
// empty piece with end set); control frames arrive whole. The zero value
// is ready for use.
type Decoder struct {
	hdr    [HeaderSize]byte
	nhdr   int  // header bytes collected
	typ    Type // current frame, when nhdr == HeaderSize
	left   int  // payload bytes still to come
	ctl    []byte
	off    int64 // bytes consumed so far
	broken error
}

// Feed consumes p, calling handle for each frame piece. After an error the
// decoder stays broken: the stream has lost its framing.
func (d *Decoder) Feed(p []byte, handle func(t Type, piece []byte, end bool)) error {
	if d.broken != nil {
		return d.broken
	}
	for len(p) > 0 {
		if d.nhdr < HeaderSize {
			n := copy(d.hdr[d.nhdr:], p)
			d.nhdr += n
			p = p[n:]
			d.off += int64(n)
			if d.nhdr < HeaderSize {
				return nil
			}
			d.typ = Type(d.hdr[0])
			d.left = int(d.hdr[1]) | int(d.hdr[2])<<8 | int(d.hdr[3])<<16
			if d.typ == 0 {
				d.broken = &FormatError{d.off - HeaderSize, "frame type 0"}
				return d.broken
			}
			if d.typ.control() && d.left > maxControl {
				d.broken = &FormatError{d.off - HeaderSize, fmt.Sprintf("%v frame of %d bytes", d.typ, d.left)}
				return d.broken
			}
			d.ctl = d.ctl[:0]
			if d.left == 0 {
				d.nhdr = 0
				handle(d.typ, nil, true)
				continue
			}
		}
		n := min(d.left, len(p))
		piece := p[:n]
		p = p[n:]
		d.left -= n
		d.off += int64(n)
		end := d.left == 0
		if end {
			d.nhdr = 0
		}
		if d.typ.control() {
			d.ctl = append(d.ctl, piece...)
			if end {
				handle(d.typ, d.ctl, true)
			}
			continue
		}
		handle(d.typ, piece, end)
	}
	return nil
}
