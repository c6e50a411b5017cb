package main

import (
	"fmt"
	"strings"
)

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

// GenJSON returns a JSON array of records of about n bytes, the same every
// time, for the gojq job: ids, names from GenText's words, scores, flags,
// tag arrays and a nested object.
func GenJSON(n int) []byte {
	words := strings.Fields(string(GenText(4096)))
	out := make([]byte, 0, n+512)
	out = append(out, "[\n"...)
	x := uint32(54321)
	next := func() uint32 { x = x*1664525 + 1013904223; return x >> 8 }
	for i := 0; len(out) < n; i++ {
		if i > 0 {
			out = append(out, ",\n"...)
		}
		w := func() string { return words[next()%uint32(len(words))] }
		out = fmt.Appendf(out, `{"id":%d,"name":"%s %s","score":%d.%02d,"active":%t,"tags":[`,
			i, w(), w(), next()%100, next()%100, next()%3 != 0)
		for k := range next() % 5 {
			if k > 0 {
				out = append(out, ',')
			}
			out = fmt.Appendf(out, `"%s"`, w())
		}
		out = fmt.Appendf(out, `],"owner":{"uid":%d,"group":"%s"}}`, next()%1000, w())
	}
	return append(out, "\n]\n"...)
}
