package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Output lines of examples/bench and examples/benchinit.
const (
	readyLine  = "benchinit: ready"
	doneLine   = "benchinit: done"
	coarseLine = "benchinit: the clock stayed coarse"
	startLine  = "benchstart " // benchstart NAME: a timed job starts
)

// A Sample is one measurement of one metric in one run.
type Sample struct {
	NS     float64 // nanoseconds (per operation for micro-benchmarks)
	Cycles float64 // rdtsc cycles, 0 when not reported
}

// Output is what one VM run printed, parsed.
type Output struct {
	Ready   bool              // "benchinit: ready" seen
	Done    bool              // "benchinit: done" seen
	Coarse  bool              // the guest's clock stayed at jiffies resolution
	Samples map[string]Sample // "bench NAME NS [CYCLES]"
	Fails   []string          // "benchfail NAME WHY", as "NAME: WHY"
}

// ParseOutput reads a run's console output. Lines may end in \r\n (a
// serial console) and may have kernel messages before them on the same
// line, so a marker is looked for anywhere in the line. A malformed bench
// line is an error: it means the programs and this parser disagree.
func ParseOutput(r io.Reader) (*Output, error) {
	o := &Output{Samples: map[string]Sample{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		if err := o.parseLine(sc.Text()); err != nil {
			return o, fmt.Errorf("line %d: %w", n, err)
		}
	}
	return o, sc.Err()
}

func (o *Output) parseLine(line string) error {
	line = strings.TrimRight(line, "\r")
	switch {
	case strings.Contains(line, readyLine):
		o.Ready = true
		return nil
	case strings.Contains(line, doneLine):
		o.Done = true
		return nil
	case strings.Contains(line, coarseLine):
		o.Coarse = true
		return nil
	}
	if i := strings.Index(line, "benchfail"); i >= 0 {
		f := strings.Fields(line[i:])
		if len(f) < 2 {
			return fmt.Errorf("malformed %q", line)
		}
		o.Fails = append(o.Fails, f[1]+": "+strings.Join(f[2:], " "))
		return nil
	}
	i := strings.Index(line, "bench ")
	if i < 0 {
		return nil
	}
	f := strings.Fields(line[i:])
	if len(f) < 3 || len(f) > 4 {
		return fmt.Errorf("malformed %q: want bench NAME NS [CYCLES]", line)
	}
	var s Sample
	var err error
	if s.NS, err = strconv.ParseFloat(f[2], 64); err != nil || s.NS < 0 {
		return fmt.Errorf("malformed %q: bad time %q", line, f[2])
	}
	if len(f) == 4 {
		if s.Cycles, err = strconv.ParseFloat(f[3], 64); err != nil || s.Cycles < 0 {
			return fmt.Errorf("malformed %q: bad cycle count %q", line, f[3])
		}
	}
	if _, dup := o.Samples[f[1]]; dup {
		return fmt.Errorf("%s reported twice", f[1])
	}
	o.Samples[f[1]] = s
	return nil
}
