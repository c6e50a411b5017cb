package syscallshim

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestPipeRingModel runs random writes, reads, peeks and drops against a
// plain byte slice: the ring must hold the same bytes in the same order
// through wrap-arounds and growth, and never grow past what it held.
func TestPipeRingModel(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for run := range 50 {
		var r pipeRing
		var model []byte
		next := byte(0)
		for step := range 2000 {
			switch op := rnd.IntN(4); {
			case op == 0 || op == 1 && len(model) < 100:
				n := rnd.IntN(min(pipeSize-len(model), 9000) + 1)
				p := make([]byte, n)
				for i := range p {
					p[i] = next
					next++
				}
				r.write(p)
				model = append(model, p...)
			case op == 1:
				p := make([]byte, rnd.IntN(9000))
				n := r.read(p)
				if want := min(len(p), len(model)); n != want || !bytes.Equal(p[:n], model[:n]) {
					t.Fatalf("run %d step %d: read %d bytes %v, want %d %v", run, step, n, p[:min(n, 8)], want, model[:min(want, 8)])
				}
				model = model[n:]
			case op == 2:
				p := make([]byte, rnd.IntN(9000))
				n := r.peek(p)
				if want := min(len(p), len(model)); n != want || !bytes.Equal(p[:n], model[:n]) {
					t.Fatalf("run %d step %d: peek %d bytes, want %d", run, step, n, want)
				}
			default:
				n := rnd.IntN(len(model) + 1)
				r.drop(n)
				model = model[n:]
			}
			if r.Len() != len(model) {
				t.Fatalf("run %d step %d: Len %d, want %d", run, step, r.Len(), len(model))
			}
			if len(r.b) > pipeSize {
				t.Fatalf("run %d step %d: storage %d bytes, more than the pipe's %d", run, step, len(r.b), pipeSize)
			}
		}
	}
}

// TestPipeRingReuse: once grown, the ring's storage serves every later
// write without a new allocation.
func TestPipeRingReuse(t *testing.T) {
	var r pipeRing
	p := make([]byte, pipeSize)
	r.write(p)
	r.read(p)
	if a := testing.AllocsPerRun(20, func() {
		r.write(p[:pipeSize-100])
		r.read(p[:1000])
		r.write(p[:1000])
		r.read(p)
	}); a != 0 {
		t.Errorf("%v allocations per round of 64 KiB through a grown ring", a)
	}
}
