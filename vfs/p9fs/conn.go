package p9fs

import (
	"encoding/binary"
	"errors"
	"io"
	"sync"

	"golang.org/x/sys/unix"
)

// Transport carries 9P messages the way virtio-9p does: each request is
// one buffer, and its reply comes back whole in another (one descriptor
// chain per pair), so there is no byte stream to resynchronise.
// RoundTrip may be called from several goroutines at once.
type Transport interface {
	// RoundTrip sends one whole request message (size[4] type[1]
	// tag[2] ...) and returns the device's reply message.
	RoundTrip(req []byte) ([]byte, error)
	// MaxMessage is the largest message the transport carries either
	// way: the msize the client asks for.
	MaxMessage() uint32
}

// 9P message types conn looks into (9P2000.L, Linux's net/9p).
const (
	msgRlerror  = 7
	msgTfsync   = 50
	msgTreaddir = 40
	msgTversion = 100
	msgTread    = 116
	msgTwrite   = 118
)

// headerLen is size[4] type[1] tag[2].
const headerLen = 7

// conn turns a Transport into the io.ReadWriteCloser the 9P client
// speaks: Write collects one request message and starts its round trip;
// Read hands out the replies, each checked and whole, in the order they
// complete.
//
// The checks are the reply framing the client must not see broken: a
// reply that is short, longer than msize, carries another tag, answers
// with another message type, or returns more bytes than a Tread or
// Treaddir asked for (or counts more written than a Twrite sent) becomes
// Rlerror(EIO) for the request's own tag. Each request's reply is known
// by its descriptor chain, so a bad reply never desynchronises the rest.
type conn struct {
	t     Transport
	msize uint32

	wbuf []byte // the request being written; the client serialises writes

	mu       sync.Mutex
	cond     sync.Cond
	replies  [][]byte         // checked replies not yet read
	cur      []byte           // the rest of the reply being read
	inflight map[uint16]*call // by tag
	closed   bool

	serverMsize uint32 // from Rversion, 0 until then
}

// call is one request in flight.
type call struct {
	orphan bool // the client reused its tag: drop the reply
}

func newConn(t Transport, msize uint32) *conn {
	c := &conn{t: t, msize: msize, inflight: make(map[uint16]*call)}
	c.cond.L = &c.mu
	return c
}

var errClosed = errors.New("p9fs: connection closed")

// Write implements io.Writer for the client's requests.
func (c *conn) Write(p []byte) (int, error) {
	c.wbuf = append(c.wbuf, p...)
	for len(c.wbuf) >= 4 {
		size := binary.LittleEndian.Uint32(c.wbuf)
		if size < headerLen || size > c.msize {
			c.wbuf = c.wbuf[:0]
			return 0, errors.New("p9fs: the client wrote a malformed request")
		}
		if uint32(len(c.wbuf)) < size {
			break
		}
		msg := append([]byte(nil), c.wbuf[:size]...)
		c.wbuf = append(c.wbuf[:0], c.wbuf[size:]...)
		if err := c.submit(msg); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// submit starts the round trip of one request.
func (c *conn) submit(req []byte) error {
	switch req[4] {
	case msgTversion:
		req = plainVersion(req)
	case msgTfsync:
		req = fullFsync(req)
	}
	tag := binary.LittleEndian.Uint16(req[5:])
	cl := &call{}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errClosed
	}
	if old := c.inflight[tag]; old != nil {
		// The client gave up on the old request (a reply it could
		// not decode fails every waiter) and reused the tag.
		old.orphan = true
	}
	c.inflight[tag] = cl
	c.mu.Unlock()
	go func() {
		resp, err := c.t.RoundTrip(req)
		reply := c.check(req, resp, err)
		c.mu.Lock()
		if c.inflight[tag] == cl {
			delete(c.inflight, tag)
		}
		if !cl.orphan && !c.closed {
			c.replies = append(c.replies, reply)
			c.cond.Broadcast()
		}
		c.mu.Unlock()
	}()
	return nil
}

// Read implements io.Reader for the client's replies.
func (c *conn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.cur) == 0 {
		if c.closed {
			return 0, io.EOF
		}
		if len(c.replies) > 0 {
			c.cur = c.replies[0]
			c.replies[0] = nil
			c.replies = c.replies[1:]
			continue
		}
		c.cond.Wait()
	}
	n := copy(p, c.cur)
	c.cur = c.cur[n:]
	return n, nil
}

// Close implements io.Closer: readers get EOF, requests errClosed.
func (c *conn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.cond.Broadcast()
	c.mu.Unlock()
	return nil
}

// check returns resp if it is a well-formed reply to req, else an
// Rlerror(EIO) with req's tag.
func (c *conn) check(req, resp []byte, err error) []byte {
	le := binary.LittleEndian
	typ, tag := req[4], le.Uint16(req[5:])
	if err != nil || !c.wellFormed(req, resp) {
		return rlerror(tag, unix.EIO)
	}
	size := le.Uint32(resp)
	resp = resp[:size]
	if resp[4] == msgRlerror && le.Uint32(resp[7:]) == 0 {
		return rlerror(tag, unix.EIO) // "error 0" is no error to report
	}
	if typ == msgTversion && resp[4] == msgTversion+1 {
		c.mu.Lock()
		c.serverMsize = le.Uint32(resp[7:])
		c.mu.Unlock()
	}
	return resp
}

func (c *conn) wellFormed(req, resp []byte) bool {
	le := binary.LittleEndian
	if len(resp) < headerLen {
		return false
	}
	size := le.Uint32(resp)
	if size < headerLen || size > uint32(len(resp)) || size > c.msize {
		return false
	}
	resp = resp[:size]
	if le.Uint16(resp[5:]) != le.Uint16(req[5:]) {
		return false
	}
	typ := req[4]
	switch resp[4] {
	case msgRlerror:
		return size == headerLen+4
	case typ + 1:
	default:
		return false
	}
	// Replies that carry a count the client trusts.
	switch typ {
	case msgTversion:
		return size >= headerLen+4+2 && le.Uint32(resp[7:]) >= 4096 && le.Uint32(resp[7:]) <= c.msize
	case msgTread, msgTreaddir:
		if len(req) < 23 || size < headerLen+4 {
			return false
		}
		n := le.Uint32(resp[7:])
		return n <= le.Uint32(req[19:]) && uint64(size) == uint64(headerLen+4)+uint64(n)
	case msgTwrite:
		if len(req) < 23 {
			return false
		}
		return size == headerLen+4 && le.Uint32(resp[7:]) <= le.Uint32(req[19:])
	}
	return true
}

// rlerror encodes Rlerror(errno) for tag.
func rlerror(tag uint16, e unix.Errno) []byte {
	b := make([]byte, headerLen+4)
	le := binary.LittleEndian
	le.PutUint32(b, uint32(len(b)))
	b[4] = msgRlerror
	le.PutUint16(b[5:], tag)
	le.PutUint32(b[7:], uint32(e))
	return b
}

// fullFsync adds the datasync field 9P2000.L's Tfsync has (size[4]
// Tfsync tag[2] fid[4] datasync[4]) to the client's, which stops after the
// fid: QEMU cannot decode the short form and never answers it.
func fullFsync(req []byte) []byte {
	if len(req) != headerLen+4 {
		return req
	}
	b := append(append([]byte(nil), req...), 0, 0, 0, 0) // datasync 0: a full fsync
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	return b
}

// plainVersion rewrites a Tversion to ask for "9P2000.L" itself. The
// client asks for "9P2000.L.Google.N" and steps N down only when the
// server says EAGAIN, but QEMU answers any version it does not know with
// "unknown"; plain 9P2000.L is what both servers speak.
func plainVersion(req []byte) []byte {
	const v = "9P2000.L"
	if len(req) < headerLen+4 {
		return req
	}
	le := binary.LittleEndian
	b := make([]byte, 0, headerLen+4+2+len(v))
	b = le.AppendUint32(b, uint32(cap(b)))
	b = append(b, req[4:headerLen+4]...) // type, tag, msize
	b = le.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}
