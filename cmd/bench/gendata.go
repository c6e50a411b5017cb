package main

// GenText returns n bytes of English-like text, the same every time (a
// fixed linear congruential generator picks the words), so gzip has the
// same work on both sides and in every run.
func GenText(n int) []byte {
	words := []string{"the", "kernel", "maps", "a", "page", "of", "memory", "when", "program",
		"first", "touches", "it", "and", "returns", "to", "user", "mode", "with", "sysret",
		"while", "scheduler", "picks", "next", "thread", "from", "its", "queue", "every", "tick",
		"file", "system", "reads", "blocks", "into", "cache", "so", "that", "later", "calls", "hit"}
	out := make([]byte, 0, n+16)
	x := uint32(12345)
	col := 0
	for len(out) < n {
		x = x*1664525 + 1013904223
		w := words[(x>>16)%uint32(len(words))]
		out = append(out, w...)
		col += len(w) + 1
		if col > 72 {
			out = append(out, '\n')
			col = 0
		} else {
			out = append(out, ' ')
		}
	}
	return out[:n]
}
