package syscallshim

import (
	"bytes"
	"testing"
	"time"
)

// TestPipeWakeups: a reader and a writer that keep blocking on each other
// (the writer fills the pipe, the reader drains it a few bytes at a time,
// then waits on an empty pipe) move every byte in order, with no wake-up
// lost; a call that does not wait makes no wake-up channel.
func TestPipeWakeups(t *testing.T) {
	pp := &pipe{events: &notifier{}, readers: 1, writers: 1}
	r, w := &pipeEnd{pipe: pp}, &pipeEnd{pipe: pp, write: true}
	one, b := []byte("x"), make([]byte, 1)
	allocs := testing.AllocsPerRun(100, func() {
		if n, err := w.Write(one); n != 1 || err != nil {
			t.Fatalf("write = %d, %v", n, err)
		}
		if n, err := r.Read(b); n != 1 || err != nil {
			t.Fatalf("read = %d, %v", n, err)
		}
	})
	if allocs >= 1 {
		t.Errorf("a write and a read that do not wait allocate %v times (a wake-up channel each?)", allocs)
	}

	const total = 3 * pipeSize
	src := make([]byte, total)
	for i := range src {
		src[i] = byte(i * 7)
	}
	done := make(chan []byte)
	go func() {
		var got []byte
		b := make([]byte, 333)
		for len(got) < total {
			n, err := r.Read(b)
			if err != nil {
				break
			}
			got = append(got, b[:n]...)
		}
		done <- got
	}()
	go func() {
		for off := 0; off < total; off += 1000 {
			w.Write(src[off:min(off+1000, total)])
		}
	}()
	select {
	case got := <-done:
		if !bytes.Equal(got, src) {
			t.Errorf("%d bytes through the pipe, not the %d written", len(got), total)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the reader or the writer never woke")
	}
}
