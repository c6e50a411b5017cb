package mm

// The VMAs of an address space live in a treap keyed by Start (a binary
// search tree kept balanced in expectation by random heap priorities),
// threaded with an address-ordered doubly linked list for neighbours and
// iteration. Each node also records the free gap below it and the largest
// such gap in its subtree, so that finding room for an mmap is
// O(log n) too (as Linux's augmented VMA tree does).
//
// Lookups (lookup, ceil) are plain loops without allocation: FaultFast
// uses them from the trap handler.

type node struct {
	VMA
	left, right *node
	prev, next  *node
	prio        uint32
	gap         uint64 // Start minus the end of the previous VMA (or lo)
	maxGap      uint64 // largest gap in this subtree
}

type tree struct {
	root        *node
	first, last *node
	n           int
	lo          uint64 // where the first gap starts
	seed        uint64
}

func (t *tree) rand() uint32 {
	// xorshift64: cheap, and good enough to balance a treap.
	if t.seed == 0 {
		t.seed = 0x9e3779b97f4a7c15
	}
	t.seed ^= t.seed << 13
	t.seed ^= t.seed >> 7
	t.seed ^= t.seed << 17
	return uint32(t.seed >> 32)
}

// lookup returns the node containing va, or nil.
func (t *tree) lookup(va uint64) *node {
	n := t.root
	for n != nil {
		switch {
		case va < n.Start:
			n = n.left
		case va >= n.End:
			n = n.right
		default:
			return n
		}
	}
	return nil
}

// ceil returns the first node ending above va, or nil.
func (t *tree) ceil(va uint64) *node {
	var c *node
	n := t.root
	for n != nil {
		if n.End > va {
			c = n
			n = n.left
		} else {
			n = n.right
		}
	}
	return c
}

// free reports whether no VMA overlaps [start, end).
func (t *tree) free(start, end uint64) bool {
	c := t.ceil(start)
	return c == nil || c.Start >= end
}

func (n *node) pull() {
	m := n.gap
	if n.left != nil && n.left.maxGap > m {
		m = n.left.maxGap
	}
	if n.right != nil && n.right.maxGap > m {
		m = n.right.maxGap
	}
	n.maxGap = m
}

func rotateRight(n *node) *node {
	l := n.left
	n.left, l.right = l.right, n
	n.pull()
	l.pull()
	return l
}

func rotateLeft(n *node) *node {
	r := n.right
	n.right, r.left = r.left, n
	n.pull()
	r.pull()
	return r
}

func (t *tree) prevEnd(n *node) uint64 {
	if n.prev != nil {
		return n.prev.End
	}
	return t.lo
}

// setGap recomputes n's gap after its Start or its predecessor's End
// changed, and the maxima above it.
func (t *tree) setGap(n *node) {
	if n == nil {
		return
	}
	n.gap = n.Start - t.prevEnd(n)
	t.root = refresh(t.root, n.Start)
}

// refresh recomputes maxGap on the path from r to the node keyed start.
func refresh(r *node, start uint64) *node {
	if r == nil {
		return nil
	}
	switch {
	case start < r.Start:
		refresh(r.left, start)
	case start > r.Start:
		refresh(r.right, start)
	}
	r.pull()
	return r
}

// insert adds x, whose range must be free.
func (t *tree) insert(x *node) {
	succ := t.ceil(x.Start)
	x.next = succ
	if succ != nil {
		x.prev = succ.prev
		succ.prev = x
	} else {
		x.prev = t.last
		t.last = x
	}
	if x.prev != nil {
		x.prev.next = x
	} else {
		t.first = x
	}
	x.left, x.right = nil, nil
	x.prio = t.rand()
	x.gap = x.Start - t.prevEnd(x)
	x.maxGap = x.gap
	t.root = insertAt(t.root, x)
	t.n++
	t.setGap(succ)
}

func insertAt(r, x *node) *node {
	if r == nil {
		return x
	}
	if x.Start < r.Start {
		r.left = insertAt(r.left, x)
		if r.left.prio > r.prio {
			return rotateRight(r)
		}
	} else {
		r.right = insertAt(r.right, x)
		if r.right.prio > r.prio {
			return rotateLeft(r)
		}
	}
	r.pull()
	return r
}

// remove takes x out of the tree.
func (t *tree) remove(x *node) {
	t.root = removeAt(t.root, x)
	if x.prev != nil {
		x.prev.next = x.next
	} else {
		t.first = x.next
	}
	succ := x.next
	if succ != nil {
		succ.prev = x.prev
	} else {
		t.last = x.prev
	}
	x.prev, x.next, x.left, x.right = nil, nil, nil, nil
	t.n--
	t.setGap(succ)
}

func removeAt(r, x *node) *node {
	if r == nil {
		return nil
	}
	if r != x {
		if x.Start < r.Start {
			r.left = removeAt(r.left, x)
		} else {
			r.right = removeAt(r.right, x)
		}
		r.pull()
		return r
	}
	// Rotate x down below its higher-priority child until it is a leaf
	// or has one child.
	switch {
	case r.left == nil:
		return r.right
	case r.right == nil:
		return r.left
	case r.left.prio > r.right.prio:
		r = rotateRight(r)
		r.right = removeAt(r.right, x)
	default:
		r = rotateLeft(r)
		r.left = removeAt(r.left, x)
	}
	r.pull()
	return r
}

// gapDown returns the highest address a such that [a, a+n) is free,
// inside [lo, top).
func (t *tree) gapDown(top, n uint64) (uint64, bool) {
	tail := t.lo
	if t.last != nil {
		tail = t.last.End
	}
	if top > tail && top-tail >= n {
		return top - n, true
	}
	return searchDown(t.root, top, n)
}

func searchDown(x *node, top, n uint64) (uint64, bool) {
	for x != nil && x.maxGap >= n {
		// Nodes right of x start above x.End; their gaps are usable only
		// if x starts below top.
		if x.Start < top {
			if a, ok := searchDown(x.right, top, n); ok {
				return a, true
			}
		}
		gs, ge := x.Start-x.gap, x.Start
		if ge > top {
			ge = top
		}
		if ge > gs && ge-gs >= n {
			return ge - n, true
		}
		x = x.left
	}
	return 0, false
}

// gapUp returns the lowest address a such that [a, a+n) is free, inside
// [lo, hi).
func (t *tree) gapUp(hi, n uint64) (uint64, bool) {
	if a, ok := searchUp(t.root, n); ok {
		if a+n <= hi {
			return a, true
		}
		return 0, false
	}
	tail := t.lo
	if t.last != nil {
		tail = t.last.End
	}
	if hi > tail && hi-tail >= n {
		return tail, true
	}
	return 0, false
}

func searchUp(x *node, n uint64) (uint64, bool) {
	for x != nil && x.maxGap >= n {
		if a, ok := searchUp(x.left, n); ok {
			return a, true
		}
		if x.gap >= n {
			return x.Start - x.gap, true
		}
		x = x.right
	}
	return 0, false
}
