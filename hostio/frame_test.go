package hostio

import (
	"bytes"
	"errors"
	"math/rand"
	"testing"
)

type got struct {
	t    Type
	data []byte
}

// collect decodes s fed in pieces of the given sizes and joins each
// frame's pieces.
func collect(t *testing.T, s []byte, sizes func() int) ([]got, error) {
	t.Helper()
	var d Decoder
	var out []got
	var cur []byte
	for len(s) > 0 {
		n := min(sizes(), len(s))
		err := d.Feed(s[:n], func(ty Type, piece []byte, end bool) {
			cur = append(cur, piece...)
			if end {
				out = append(out, got{ty, cur})
				cur = nil
			}
		})
		if err != nil {
			return out, err
		}
		s = s[n:]
	}
	return out, nil
}

func TestRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789\n\r\x00\xff"), 10000)
	var s []byte
	want := []got{
		{Stdout, []byte("hello\n")},
		{Stderr, nil},
		{Winsize, WinsizePayload(50, 132)},
		{Stdout, big},
		{StdinEOF, nil},
		{Log, []byte("yolk: x\r\n")},
	}
	for _, w := range want {
		s = Append(s, w.t, w.data)
	}
	rng := rand.New(rand.NewSource(1))
	for _, sizes := range []func() int{
		func() int { return 1 },
		func() int { return 3 },
		func() int { return 4096 },
		func() int { return 1 + rng.Intn(9000) },
		func() int { return len(s) },
	} {
		out, err := collect(t, s, sizes)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != len(want) {
			t.Fatalf("%d frames, want %d", len(out), len(want))
		}
		for i := range want {
			if out[i].t != want[i].t || !bytes.Equal(out[i].data, want[i].data) {
				t.Errorf("frame %d: %v %d bytes, want %v %d bytes", i, out[i].t, len(out[i].data), want[i].t, len(want[i].data))
			}
		}
	}
	r, c, ok := ParseWinsize(out0(t, s))
	if !ok || r != 50 || c != 132 {
		t.Errorf("winsize %d %d %v", r, c, ok)
	}
}

func out0(t *testing.T, s []byte) []byte {
	out, _ := collect(t, s, func() int { return 7 })
	return out[2].data
}

func TestBadStreams(t *testing.T) {
	for _, s := range [][]byte{
		{0, 0, 0, 0},
		{byte(Winsize), 0xff, 0, 0},
	} {
		var d Decoder
		err := d.Feed(s, func(Type, []byte, bool) {})
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%x: error %v, want a FormatError", s, err)
		}
		if d.Feed([]byte{1}, func(Type, []byte, bool) { t.Error("handler called after error") }) == nil {
			t.Error("decoder recovered after an error")
		}
	}
}

func FuzzDecoder(f *testing.F) {
	f.Add(Append(Append(nil, Stdout, []byte("x")), Winsize, WinsizePayload(1, 2)))
	f.Fuzz(func(t *testing.T, s []byte) {
		var d Decoder
		total := 0
		d.Feed(s, func(ty Type, piece []byte, end bool) { total += len(piece) })
		if total > len(s) {
			t.Fatalf("delivered %d bytes of %d", total, len(s))
		}
	})
}
