package syscallshim

import (
	"fmt"
	"strings"
	"time"

	"yolk/strace"
)

// Tracing (strace=OPTS): package strace formats the calls and parses the
// options; this is where a thread's calls meet it.

// TraceWriter is a machine that can send strace's lines somewhere of
// their own (strace -o FILE: the runner's FILE); without it, or without
// -o, they go to the console (the runner's stderr).
type TraceWriter interface {
	TraceWrite(b []byte)
}

// traceMem is a thread's memory as the strace decoders read it.
type traceMem struct{ t *Thread }

func (m traceMem) CopyIn(va, n uint64) ([]byte, error) { return m.t.copyIn(va, n) }

func (m traceMem) StackPointer() uint64 {
	if m.t.ctx == nil {
		return 0
	}
	return m.t.ctx.Regs.RSP
}

// traceEnter is strace.Enter for t.
func (t *Thread) traceEnter(nr uint64, a Args) string {
	return strace.Enter(traceMem{t}, nr, strace.Args(a))
}

// traceExit writes the line for syscall nr.
func (t *Thread) traceExit(nr uint64, a Args, pre string, ret uint64, prefix, suffix string) {
	line := strace.Exit(traceMem{t}, nr, strace.Args(a), pre, ret)
	t.p.sys.traceWrite(prefix + line + suffix + "\n")
}

// traceWrite sends trace output where -o says.
func (s *System) traceWrite(text string) {
	if tw, ok := s.m.(TraceWriter); ok && s.trace.Output != "" {
		tw.TraceWrite([]byte(text))
		return
	}
	s.m.ConsoleWrite([]byte(text))
}

// traceSyscall runs one syscall under the trace options: the line (or
// the count) with its prefixes and suffixes.
func (t *Thread) traceSyscall(nr uint64, a Args) uint64 {
	p := t.p
	o := &p.sys.trace
	if !o.Traced(nr) {
		return t.dispatch(nr, a)
	}
	start := p.m.Monotonic()
	var pre string
	if o.Lines {
		pre = t.traceEnter(nr, a)
	}
	ret := t.dispatch(nr, a)
	end := p.m.Monotonic()
	failed := strace.IsErrno(ret)
	if o.Count {
		p.sys.traceStats.Add(nr, end-start, failed)
	}
	if !o.Lines || o.OnlyFailed && !failed {
		return ret
	}
	t.traceExit(nr, a, pre, ret, t.tracePrefix(start), o.Suffix(end-start))
	return ret
}

// tracePrefix is what strace puts before a line: [pid N] when there are
// several threads or processes, then the timestamp asked for.
func (t *Thread) tracePrefix(start int64) string {
	s := t.p.sys
	var b strings.Builder
	s.mu.Lock()
	several := len(s.threads) > 1 || len(s.procs) > 1
	s.mu.Unlock()
	o := &s.trace
	b.WriteString(o.Prefix(t.tid, several))
	switch {
	case o.Relative:
		s.traceMu.Lock()
		last := s.traceLast
		s.traceLast = start
		s.traceMu.Unlock()
		d := start - last
		if last == 0 {
			d = 0
		}
		fmt.Fprintf(&b, "%6d.%06d ", d/1e9, d%1e9/1e3)
	case o.Stamp > 0:
		now := time.Unix(0, t.p.m.Realtime()).UTC()
		switch o.Stamp {
		case 1:
			b.WriteString(now.Format("15:04:05 "))
		case 2:
			b.WriteString(now.Format("15:04:05.000000 "))
		default:
			fmt.Fprintf(&b, "%d.%06d ", now.Unix(), now.Nanosecond()/1e3)
		}
	}
	return b.String()
}

// traceSummary prints strace -c's table (at the end of the run).
func (s *System) traceSummary() {
	if s.trace.Count {
		s.traceWrite(s.traceStats.Table())
	}
}
