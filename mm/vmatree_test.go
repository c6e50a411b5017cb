package mm

import (
	"math/rand"
	"sort"
	"testing"
)

// check verifies the tree's invariants: order, heap priorities, the list,
// gaps and their maxima.
type checkTB interface {
	Helper()
	Fatalf(string, ...any)
	Fatal(...any)
}

func (t *tree) check(tb checkTB) {
	tb.Helper()
	var in []*node
	var rec func(n *node) uint64
	rec = func(n *node) uint64 {
		if n == nil {
			return 0
		}
		if n.left != nil && n.left.prio > n.prio || n.right != nil && n.right.prio > n.prio {
			tb.Fatalf("heap order broken at %#x", n.Start)
		}
		m := max(rec(n.left), n.gap)
		in = append(in, n)
		m = max(m, rec(n.right))
		if m != n.maxGap {
			tb.Fatalf("maxGap at %#x = %#x, want %#x", n.Start, n.maxGap, m)
		}
		return m
	}
	rec(t.root)
	if len(in) != t.n {
		tb.Fatalf("%d nodes in the tree, count says %d", len(in), t.n)
	}
	i := 0
	prevEnd := t.lo
	var prev *node
	for n := t.first; n != nil; n = n.next {
		if i >= len(in) || in[i] != n {
			tb.Fatalf("list and tree disagree at %d", i)
		}
		if n.prev != prev || n.Start < prevEnd || n.Start >= n.End {
			tb.Fatalf("bad node %#x-%#x after end %#x", n.Start, n.End, prevEnd)
		}
		if n.gap != n.Start-prevEnd {
			tb.Fatalf("gap of %#x = %#x, want %#x", n.Start, n.gap, n.Start-prevEnd)
		}
		prevEnd, prev = n.End, n
		i++
	}
	if t.last != prev || i != len(in) {
		tb.Fatal("list end wrong")
	}
}

func TestTreeRandom(t *testing.T) {
	const lo, hi, pg = 0x1000, 0x1000 + 4096*0x1000, 0x1000
	r := rand.New(rand.NewSource(1))
	tr := tree{lo: lo}
	used := map[uint64]*node{} // by Start
	for step := 0; step < 20000; step++ {
		if r.Intn(3) > 0 || len(used) == 0 {
			n := uint64(1+r.Intn(8)) * pg
			// Compare the gap searches against a brute-force scan.
			var want, wantUp uint64
			okDown, okUp := false, false
			top := lo + uint64(r.Intn(4096))*pg
			var starts []uint64
			for s := range used {
				starts = append(starts, s)
			}
			sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
			free := func(a uint64) bool {
				for _, s := range starts {
					if x := used[s]; x.Start < a+n && a < x.End {
						return false
					}
				}
				return true
			}
			if step%50 == 0 {
				for a := top - n; top >= lo+n && a >= lo; a -= pg {
					if free(a) {
						want, okDown = a, true
						break
					}
				}
				for a := uint64(lo); a+n <= hi; a += pg {
					if free(a) {
						wantUp, okUp = a, true
						break
					}
				}
				if a, ok := tr.gapDown(top, n); ok != okDown || ok && a != want {
					t.Fatalf("gapDown(%#x, %#x) = %#x %v, want %#x %v", top, n, a, ok, want, okDown)
				}
				if a, ok := tr.gapUp(hi, n); ok != okUp || ok && a != wantUp {
					t.Fatalf("gapUp(%#x) = %#x %v, want %#x %v", n, a, ok, wantUp, okUp)
				}
			}
			a := lo + uint64(r.Intn(4096))*pg
			if a+n > hi || !tr.free(a, a+n) {
				continue
			}
			x := &node{VMA: VMA{Start: a, End: a + n}}
			tr.insert(x)
			used[a] = x
		} else {
			for s, x := range used {
				tr.remove(x)
				delete(used, s)
				break
			}
		}
		if step%97 == 0 {
			tr.check(t)
			for s, x := range used {
				if tr.lookup(s) != x || tr.lookup(x.End-1) != x {
					t.Fatalf("lookup of %#x failed", s)
				}
			}
		}
	}
	tr.check(t)
}
