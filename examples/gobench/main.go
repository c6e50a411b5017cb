// gobench: a Go program with a mix of the work Go programs do, for
// cmd/bench to time under yolk and under a Linux VM: allocation and
// garbage collection (a map of 200,000 string keys, built and rebuilt),
// sorting, hashing (SHA-256 over 8 MiB) and JSON encoding and decoding.
// It prints one checksum line, so a wrong result shows.
package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
)

type rec struct {
	Key   string `json:"key"`
	Value int    `json:"value"`
}

func main() {
	var sum uint64
	for round := range 2 {
		m := make(map[string]int)
		for i := range 200_000 {
			m["key-"+strconv.Itoa(i*7919%1_000_003)] = i + round
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys[:1000] {
			sum += uint64(m[k])
		}
	}

	buf := make([]byte, 8<<20)
	for i := range buf {
		buf[i] = byte(i * 31 >> 3)
	}
	h := sha256.Sum256(buf)
	sum += uint64(h[0])

	recs := make([]rec, 50_000)
	for i := range recs {
		recs[i] = rec{Key: "r" + strconv.Itoa(i), Value: i}
	}
	js, err := json.Marshal(recs)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	var back []rec
	if err := json.Unmarshal(js, &back); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	sum += uint64(back[len(back)-1].Value)
	fmt.Printf("gobench %d %d\n", sum, len(js))
}
