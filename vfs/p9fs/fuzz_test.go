package p9fs

import (
	"encoding/binary"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"yolk/vfs"
)

// replayTransport answers each request with the next reply of a fuzzed
// script. A reply is [len u16][type u8][body]: the transport puts a
// correct size and the request's tag in front of body, with message type
// type, so the fuzzer reaches deep into the decoding; type 0xff sends
// body as the whole message, header and all, to fuzz the framing.
type replayTransport struct {
	mu   sync.Mutex
	data []byte
}

func (r *replayTransport) MaxMessage() uint32 { return 16 << 10 }

func (r *replayTransport) RoundTrip(req []byte) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.data) < 3 {
		return nil, io.ErrUnexpectedEOF
	}
	n := int(binary.LittleEndian.Uint16(r.data))
	typ := r.data[2]
	r.data = r.data[3:]
	n = min(n, len(r.data))
	body := r.data[:n]
	r.data = r.data[n:]
	if typ == 0xff {
		return append([]byte(nil), body...), nil
	}
	msg := make([]byte, 7+len(body))
	binary.LittleEndian.PutUint32(msg, uint32(len(msg)))
	msg[4] = typ
	copy(msg[5:7], req[5:7])
	copy(msg[7:], body)
	return msg, nil
}

// recordTransport records the replies of a real server as a script.
type recordTransport struct {
	Transport
	mu     sync.Mutex
	script []byte
}

func (r *recordTransport) RoundTrip(req []byte) ([]byte, error) {
	resp, err := r.Transport.RoundTrip(req)
	if err == nil && len(resp) >= 7 {
		r.mu.Lock()
		r.script = binary.LittleEndian.AppendUint16(r.script, uint16(len(resp)-7))
		r.script = append(r.script, resp[4])
		r.script = append(r.script, resp[7:]...)
		r.mu.Unlock()
	}
	return resp, err
}

// exercise runs every operation once on a fresh mount over t, ignoring
// errors: the point is that nothing panics or hangs.
func exercise(t Transport) {
	fs, err := New(t, Options{})
	if err != nil {
		return
	}
	defer fs.Close()
	fs.Statfs()
	root := fs.Root()
	root.Stat()
	f, err := root.Create("f", vfs.CreateAttr{Mode: unix.S_IFREG | 0o644})
	if err == nil {
		f.Stat()
		if impl, err := f.Open(unix.O_RDWR); err == nil {
			impl.Write([]byte("hello, 9p"), 0, false)
			impl.Write([]byte("!"), 0, true)
			buf := make([]byte, 64)
			impl.Read(buf, 0)
			impl.Lseek(0, 0, io.SeekEnd)
			impl.Truncate(3)
			impl.Sync(false)
			impl.Stat()
			impl.Release()
		}
		f.SetAttr(&vfs.SetAttr{Mask: vfs.SetMode | vfs.SetMtimeNow | vfs.SetSize, Mode: 0o600, Size: 1})
		root.Link("h", f)
	}
	d, err := root.Create("d", vfs.CreateAttr{Mode: unix.S_IFDIR | 0o755})
	if err == nil {
		if l, err := d.Create("l", vfs.CreateAttr{Mode: unix.S_IFLNK | 0o777, Target: "../f"}); err == nil {
			l.Readlink()
		}
		if impl, err := d.Open(unix.O_RDONLY); err == nil {
			impl.ReadDir(vfs.FirstCookie-1, func(vfs.Dirent) bool { return true })
			impl.Release()
		}
	}
	if f != nil && d != nil {
		root.Rename("f", f, d, "g", nil, 0)
		d.Remove("g", f)
		root.Remove("d", d)
	}
	if l, err := root.Lookup("h"); err == nil {
		l.Stat()
	}
}

func FuzzReplies(f *testing.F) {
	// Seed with a real session's replies.
	dir := f.TempDir()
	rec := &recordTransport{Transport: newPipeTransport(f, dir, 16<<10)}
	exercise(rec)
	f.Add(rec.script)
	// A bad Rversion, an Rlerror of 0, a raw short message.
	f.Add([]byte{4, 0, 101, 0, 0, 1, 0})
	f.Add([]byte{4, 0, 7, 0, 0, 0, 0})
	f.Add([]byte{3, 0, 0xff, 3, 0, 0})
	f.Fuzz(func(t *testing.T, script []byte) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			exercise(&replayTransport{data: script})
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the client hangs on this script")
		}
	})
}

// TestConnFraming checks the replies conn lets through.
func TestConnFraming(t *testing.T) {
	c := newConn(nil, 8192)
	tread := func(count uint32) []byte {
		b := make([]byte, 23)
		binary.LittleEndian.PutUint32(b, 23)
		b[4] = msgTread
		b[5] = 9
		binary.LittleEndian.PutUint32(b[19:], count)
		return b
	}
	rread := func(tag byte, count uint32, data int) []byte {
		b := make([]byte, 11+data)
		binary.LittleEndian.PutUint32(b, uint32(len(b)))
		b[4] = msgTread + 1
		b[5] = tag
		binary.LittleEndian.PutUint32(b[7:], count)
		return b
	}
	isEIO := func(b []byte) bool {
		return len(b) == 11 && b[4] == msgRlerror && b[5] == 9 && binary.LittleEndian.Uint32(b[7:]) == uint32(unix.EIO)
	}
	for _, tc := range []struct {
		name string
		resp []byte
		err  error
		ok   bool
	}{
		{"good", rread(9, 4, 4), nil, true},
		{"transport error", nil, errors.New("x"), false},
		{"short", []byte{1, 2, 3}, nil, false},
		{"other tag", rread(8, 4, 4), nil, false},
		{"more than asked", rread(9, 200, 200), nil, false},
		{"count past the message", rread(9, 50, 4), nil, false},
		{"size past the buffer", func() []byte { b := rread(9, 4, 4); b[0] = 200; return b }(), nil, false},
		{"wrong type", func() []byte { b := rread(9, 4, 4); b[4] = 41; return b }(), nil, false},
		{"rlerror 0", func() []byte { b := rread(9, 0, 0); b[4] = msgRlerror; return b }(), nil, false},
	} {
		got := c.check(tread(100), tc.resp, tc.err)
		if tc.ok != !isEIO(got) {
			t.Errorf("%s: got %x", tc.name, got)
		}
	}
}
