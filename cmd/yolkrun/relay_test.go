package main

import (
	"bytes"
	"io"
	"net"
	"testing"

	"yolk/hostio"
)

func pipeConn() (net.Conn, net.Conn) { return net.Pipe() }

// decoderSink collects what the runner sent to the guest.
type decoderSink struct {
	stdin []byte
	eof   bool
	sizes [][2]uint16
}

func (d *decoderSink) read(t *testing.T, c net.Conn) {
	var dec hostio.Decoder
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if ferr := dec.Feed(buf[:n], func(ty hostio.Type, p []byte, end bool) {
			switch ty {
			case hostio.Stdin:
				d.stdin = append(d.stdin, p...)
			case hostio.StdinEOF:
				d.eof = true
			case hostio.Winsize:
				r, c, _ := hostio.ParseWinsize(p)
				d.sizes = append(d.sizes, [2]uint16{r, c})
			}
		}); ferr != nil {
			t.Fatal(ferr)
		}
		if err != nil {
			return
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

// TestRelayFromGuest: frames go to their streams byte for byte; a failed
// stdout is reported to the guest once and its later frames dropped.
func TestRelayFromGuest(t *testing.T) {
	client, server := pipeConn()
	var stderr, log bytes.Buffer
	r := &relay{conn: client, stdout: failWriter{}, stderr: &stderr, log: &log}
	var s []byte
	s = hostio.Append(s, hostio.Stdout, []byte("lost"))
	s = hostio.Append(s, hostio.Stderr, []byte("err\r\n\x00"))
	s = hostio.Append(s, hostio.Log, []byte("yolk: note\n"))
	s = hostio.Append(s, hostio.Stdout, []byte("lost too"))
	done := make(chan error)
	go func() { done <- r.fromGuest() }()
	got := make(chan []byte)
	go func() {
		buf := make([]byte, 64)
		n, _ := server.Read(buf)
		got <- buf[:n]
	}()
	server.Write(s)
	if b := <-got; !bytes.Equal(b, hostio.Append(nil, hostio.StdoutClosed, nil)) {
		t.Errorf("sent %q, want a stdout-closed frame", b)
	}
	server.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if stderr.String() != "err\r\n\x00" || log.String() != "yolk: note\n" {
		t.Errorf("stderr %q, log %q", stderr.String(), log.String())
	}
}
