package hostio

import (
	"errors"
	"sync"
	"time"
)

// Port is the guest's end of the byte streams (a virtio console port).
type Port interface {
	// Send takes bytes from parts, in order, and returns how many it
	// took: fewer (maybe 0) when its buffers are full.
	Send(parts ...[]byte) (int, error)
	// Receive passes what arrived to fn, returning the byte count.
	Receive(fn func([]byte)) (int, error)
	// InFlight is how many sent buffers the host has not taken yet.
	InFlight() (int, error)
}

// ErrClosed is a write to a stream whose host side went away.
var ErrClosed = errors.New("hostio: the host closed the stream")

// stdinLimit is how much stdin the guest buffers before it stops taking
// more from the port (the host then blocks: flow control).
const stdinLimit = 1 << 20

// Guest is the kernel's side of the protocol: it sends the program's
// output as frames and collects stdin, its end, the terminal size and
// closed streams from the host. Nothing here waits on interrupts: callers
// poll, with Wait sleeping in short steps.
type Guest struct {
	port Port
	// Report is told once, in one line, when the stream breaks.
	Report func(msg string)

	wmu sync.Mutex // one frame at a time
	mu  sync.Mutex // guards the fields below and receiving
	dec Decoder
	in  []byte // stdin not yet read
	eof bool
	err error // the stream broke: stdin ends, writes fail
	// rows, cols and winSeq (bumped on each Winsize frame).
	rows, cols uint16
	winSeq     uint32
	closed     [3]bool // by fd: 1 stdout, 2 stderr
}

// NewGuest starts the protocol on port.
func NewGuest(port Port) *Guest { return &Guest{port: port} }

func (g *Guest) broke(err error) {
	if g.err == nil {
		g.err = err
		if g.Report != nil {
			g.Report(err.Error())
		}
	}
}

// poll takes what the port received (g.mu held).
func (g *Guest) poll() {
	if g.err != nil || len(g.in) >= stdinLimit {
		return
	}
	_, err := g.port.Receive(func(b []byte) {
		if g.err != nil {
			return
		}
		if ferr := g.dec.Feed(b, g.handle); ferr != nil {
			g.broke(ferr)
		}
	})
	if err != nil {
		g.broke(err)
	}
}

func (g *Guest) handle(t Type, p []byte, end bool) {
	switch t {
	case Stdin:
		g.in = append(g.in, p...)
	case StdinEOF:
		g.eof = true
	case Winsize:
		if r, c, ok := ParseWinsize(p); ok {
			g.rows, g.cols = r, c
			g.winSeq++
		}
	case StdoutClosed:
		g.closed[1] = true
	case StderrClosed:
		g.closed[2] = true
	}
}

// Read takes stdin bytes without waiting. eof is set when no more will
// come (the host's stdin ended, or the stream broke).
func (g *Guest) Read(b []byte) (n int, eof bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.poll()
	n = copy(b, g.in)
	g.in = g.in[n:]
	if len(g.in) == 0 {
		g.in = nil
	}
	return n, n == 0 && (g.eof || g.err != nil)
}

// Readable reports whether Read would return data or end of file.
func (g *Guest) Readable() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.poll()
	return len(g.in) > 0 || g.eof || g.err != nil
}

// Wait sleeps until stdin may be readable or timeout passes.
func (g *Guest) Wait(timeout time.Duration) {
	step := 200 * time.Microsecond
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if g.Readable() {
			return
		}
		time.Sleep(step)
		step = min(2*step, 5*time.Millisecond)
	}
}

// Winsize is the last terminal size the host sent and a sequence number
// that changes with it.
func (g *Guest) Winsize() (rows, cols uint16, seq uint32) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.poll()
	return g.rows, g.cols, g.winSeq
}

// SetWinsize sets the starting size (from the kernel command line).
func (g *Guest) SetWinsize(rows, cols uint16) {
	g.mu.Lock()
	g.rows, g.cols = rows, cols
	g.mu.Unlock()
}

// Write sends b as frames of type t. Writes to fd 1 or 2 after the host
// closed it fail with ErrClosed.
func (g *Guest) Write(t Type, b []byte) (int, error) {
	g.mu.Lock()
	g.poll()
	err := g.err
	closed := (t == Stdout && g.closed[1]) || (t == Stderr && g.closed[2])
	g.mu.Unlock()
	if err != nil {
		return 0, err
	}
	if closed {
		return 0, ErrClosed
	}
	g.wmu.Lock()
	defer g.wmu.Unlock()
	done := 0
	for done < len(b) || len(b) == 0 {
		n := min(len(b)-done, MaxPayload)
		var h [HeaderSize]byte
		PutHeader(h[:], t, n)
		if err := g.sendAll(h[:], b[done:done+n]); err != nil {
			return done, err
		}
		done += n
		if len(b) == 0 {
			break
		}
	}
	return done, nil
}

// sendAll hands the whole of parts to the port, waiting for buffers.
func (g *Guest) sendAll(parts ...[]byte) error {
	left := 0
	for _, p := range parts {
		left += len(p)
	}
	step := 50 * time.Microsecond
	for left > 0 {
		n, err := g.port.Send(parts...)
		if err != nil {
			g.mu.Lock()
			g.broke(err)
			g.mu.Unlock()
			return err
		}
		left -= n
		if n == 0 {
			time.Sleep(step)
			step = min(2*step, 2*time.Millisecond)
			continue
		}
		step = 50 * time.Microsecond
		for n > 0 || (len(parts) > 0 && len(parts[0]) == 0) {
			k := min(n, len(parts[0]))
			parts[0] = parts[0][k:]
			n -= k
			if len(parts[0]) == 0 {
				parts = parts[1:]
			}
		}
	}
	return nil
}

// Flush waits until the host has taken everything sent, or timeout.
func (g *Guest) Flush(timeout time.Duration) error {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	deadline := time.Now().Add(timeout)
	for {
		n, err := g.port.InFlight()
		if err != nil || n == 0 {
			return err
		}
		if time.Now().After(deadline) {
			return errors.New("hostio: the host did not take the last output")
		}
		time.Sleep(100 * time.Microsecond)
	}
}
