package kernel

import (
	"bytes"
	"math/bits"
	"testing"
)

// TestRandom: the programs' generator gives different bytes every call,
// across its reseeding, with about half the bits set.
func TestRandom(t *testing.T) {
	var m Machine
	a, b := make([]byte, 64), make([]byte, 64)
	m.Random(a)
	m.Random(b)
	if bytes.Equal(a, b) || bytes.Equal(a, make([]byte, 64)) {
		t.Fatalf("two reads: %x and %x", a, b)
	}
	big := make([]byte, 3*reseedBytes+12345) // crosses three seedings
	m.Random(big)
	ones := 0
	for _, c := range big {
		ones += bits.OnesCount8(c)
	}
	if frac := float64(ones) / float64(8*len(big)); frac < 0.499 || frac > 0.501 {
		t.Errorf("%.4f of the bits set in %d bytes", frac, len(big))
	}
	// The stream after a seeding is not the one before it again.
	if i := bytes.Index(big[reseedBytes:], big[:64]); i >= 0 {
		t.Errorf("the first 64 bytes come back at %d", reseedBytes+i)
	}
}
