package syscallshim

// pipeRing is a pipe's buffer: a ring of bytes whose storage grows by
// doubling, from pipeRingMin up to the pipe's capacity, as what it holds
// needs it, and is reused from then on. The old buffer was a slice
// appended to and cut from the front: once drained its storage was gone,
// so every write made new storage (a 64 KiB write, a new 64 KiB) and the
// kernel's collector took it back.
type pipeRing struct {
	b    []byte // storage, a power of two long (nil until the first write)
	head int    // where the oldest byte is
	n    int    // how many bytes it holds
}

const pipeRingMin = 4096

// Len is how many bytes the ring holds.
func (r *pipeRing) Len() int { return r.n }

// write appends all of p; the caller makes sure the ring may hold
// r.Len()+len(p) bytes (at most the pipe's capacity).
func (r *pipeRing) write(p []byte) {
	if need := r.n + len(p); need > len(r.b) {
		r.grow(need)
	}
	tail := (r.head + r.n) & (len(r.b) - 1)
	k := copy(r.b[tail:], p)
	copy(r.b, p[k:])
	r.n += len(p)
}

// grow makes the storage at least need bytes long, the bytes held first.
func (r *pipeRing) grow(need int) {
	size := max(len(r.b), pipeRingMin)
	for size < need {
		size *= 2
	}
	nb := make([]byte, size)
	r.peek(nb)
	r.b, r.head = nb, 0
}

// peek copies the oldest bytes into p without taking them and returns how
// many it copied.
func (r *pipeRing) peek(p []byte) int {
	m := min(len(p), r.n)
	if m == 0 {
		return 0
	}
	k := copy(p[:m], r.b[r.head:])
	copy(p[k:m], r.b)
	return m
}

// drop takes the n oldest bytes (n at most r.Len()).
func (r *pipeRing) drop(n int) {
	r.n -= n
	if r.n == 0 {
		r.head = 0
		return
	}
	r.head = (r.head + n) & (len(r.b) - 1)
}

// read moves the oldest bytes into p and returns how many.
func (r *pipeRing) read(p []byte) int {
	m := r.peek(p)
	r.drop(m)
	return m
}
