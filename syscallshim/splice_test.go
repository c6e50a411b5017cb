package syscallshim

import (
	"encoding/binary"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSplice moves data between a file and pipes with splice and copies
// it with tee; the pipe side's offset is ESPIPE, a pair without a pipe
// EINVAL, an empty pipe with SPLICE_F_NONBLOCK EAGAIN.
func TestSplice(t *testing.T) {
	e := newHdEnv(t, hdRoot(t))
	e.pipe(0) // hdR, hdW
	fds := e.m.u64s(0x100, ^uint64(0))
	e.want(0, unix.SYS_PIPE2, fds, 0)
	r2, w2 := uint64(e.m.u32(fds)), uint64(e.m.u32(fds+4))
	file := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/etc/hello.txt"), unix.O_RDWR)
	off := e.m.put(0x3000, []byte{7, 0, 0, 0, 0, 0, 0, 0})

	// A file into a pipe, at an offset (the file's position stays).
	e.want(5, unix.SYS_SPLICE, file, off, hdW, 0, 5, 0)
	if got := e.m.u64(off); got != 12 {
		t.Errorf("offset after splice = %d, want 12", got)
	}
	e.want(0, unix.SYS_LSEEK, file, 0, unix.SEEK_CUR)
	// From the file's position.
	e.want(6, unix.SYS_SPLICE, file, 0, hdW, 0, 6, 0)
	e.want(6, unix.SYS_LSEEK, file, 0, unix.SEEK_CUR)
	// tee copies the pipe's 11 bytes into the second pipe, keeping them.
	e.want(11, unix.SYS_TEE, hdR, w2, 100, 0)
	e.read(r2, 100, "worldhello,")
	// Pipe to pipe moves them.
	e.want(11, unix.SYS_SPLICE, hdR, 0, w2, 0, 100, 0)
	e.want(hdErr(unix.EAGAIN), unix.SYS_SPLICE, hdR, 0, w2, 0, 100, unix.SPLICE_F_NONBLOCK)
	e.want(hdErr(unix.EAGAIN), unix.SYS_TEE, hdR, w2, 100, unix.SPLICE_F_NONBLOCK)
	// The second pipe into the file at offset 100.
	e.m.put(0x3000, []byte{100, 0, 0, 0, 0, 0, 0, 0})
	e.want(11, unix.SYS_SPLICE, r2, 0, file, off, 100, 0)
	e.want(11, unix.SYS_PREAD64, file, hdAt(0x4000), 100, 100)
	e.bytesAt(hdAt(0x4000), []byte("worldhello,"))

	e.want(hdErr(unix.ESPIPE), unix.SYS_SPLICE, hdR, off, file, 0, 10, 0)
	e.want(hdErr(unix.ESPIPE), unix.SYS_SPLICE, file, 0, hdW, off, 10, 0)
	e.want(hdErr(unix.EINVAL), unix.SYS_SPLICE, file, 0, file, 0, 10, 0)
	e.want(hdErr(unix.EINVAL), unix.SYS_SPLICE, hdR, 0, hdW, 0, 10, 0) // the same pipe
	e.want(hdErr(unix.EINVAL), unix.SYS_TEE, file, w2, 10, 0)
	e.want(hdErr(unix.EBADF), unix.SYS_SPLICE, hdW, 0, w2, 0, 10, 0) // a write end as input
	e.want(0, unix.SYS_SPLICE, file, 0, hdW, 0, 0, 0)
	// End of file of the pipe: every writer gone.
	e.want(0, unix.SYS_CLOSE, w2)
	e.want(0, unix.SYS_SPLICE, r2, 0, hdW, 0, 10, 0)
	// No reader: EPIPE.
	e.want(0, unix.SYS_CLOSE, hdR)
	e.want(hdErr(unix.EPIPE), unix.SYS_SPLICE, file, 0, hdW, 0, 10, 0)
}

// TestSpliceConcurrentReader: a splice and a read draining one pipe at
// once hand every byte to exactly one of them. The splice peeks, writes
// elsewhere, then consumes what it wrote; without the pipe held in
// between, the reader took the same bytes (duplicated, and as many later
// ones dropped). The stream is 4-byte words, each its own index, and
// every write, read and consume is a multiple of 4 bytes, so words stay
// whole and each must arrive exactly once.
func TestSpliceConcurrentReader(t *testing.T) {
	pp := &pipe{events: &notifier{}, readers: 2, writers: 1}
	re, we := &pipeEnd{pipe: pp}, &pipeEnd{pipe: pp, write: true}
	const words = 50_000
	var got [2][]byte
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		b := make([]byte, 4096)
		for i := 0; i < words; i += len(b) / 4 {
			m := min(len(b)/4, words-i)
			for j := range m {
				binary.LittleEndian.PutUint32(b[4*j:], uint32(i+j))
			}
			if _, err := we.Write(b[:4*m]); err != nil {
				t.Errorf("write: %v", err)
				return
			}
		}
		we.Close()
	}()
	go func() { // splice: a short write, so only part is consumed
		defer wg.Done()
		for {
			b, err := re.peek(1000, nil, false, true)
			if err != nil || len(b) == 0 {
				return
			}
			w := min(len(b), 332)
			got[0] = append(got[0], b[:w]...)
			re.consume(w)
		}
	}()
	go func() {
		defer wg.Done()
		b := make([]byte, 776)
		for {
			m, err := re.read(b, nil)
			if err != nil || m == 0 {
				return
			}
			got[1] = append(got[1], b[:m]...)
		}
	}()
	wg.Wait()
	count := make([]int, words)
	for _, s := range got {
		if len(s)%4 != 0 {
			t.Fatalf("a side got %d bytes, not whole words", len(s))
		}
		for k := 0; k < len(s); k += 4 {
			if w := binary.LittleEndian.Uint32(s[k:]); w < words {
				count[w]++
			} else {
				t.Fatalf("word %d was never written", w)
			}
		}
	}
	for w, c := range count {
		if c != 1 {
			t.Fatalf("word %d arrived %d times (splice got %d bytes, read %d)", w, c, len(got[0]), len(got[1]))
		}
	}
}
