package strace

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Stats are strace -c's counts: calls, errors and time per syscall.
type Stats struct {
	mu    sync.Mutex
	calls map[uint64]*count
}

type count struct {
	calls, errors int
	ns            int64
}

// Add counts one call of nr that took ns.
func (st *Stats) Add(nr uint64, ns int64, failed bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.calls == nil {
		st.calls = map[uint64]*count{}
	}
	c := st.calls[nr]
	if c == nil {
		c = &count{}
		st.calls[nr] = c
	}
	c.calls++
	c.ns += ns
	if failed {
		c.errors++
	}
}

// Table formats the counts in strace -c's layout, most time first (then
// most calls, then by name, so equal rows keep one order).
func (st *Stats) Table() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	type row struct {
		nr uint64
		c  count
	}
	var rows []row
	var total count
	for nr, c := range st.calls {
		rows = append(rows, row{nr, *c})
		total.calls += c.calls
		total.errors += c.errors
		total.ns += c.ns
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].c.ns != rows[j].c.ns {
			return rows[i].c.ns > rows[j].c.ns
		}
		if rows[i].c.calls != rows[j].c.calls {
			return rows[i].c.calls > rows[j].c.calls
		}
		return Name(rows[i].nr) < Name(rows[j].nr)
	})
	var b strings.Builder
	const rule = "------ ----------- ----------- --------- --------- ----------------\n"
	b.WriteString("% time     seconds  usecs/call     calls    errors syscall\n" + rule)
	pct := func(ns int64) float64 {
		if total.ns == 0 {
			return 0
		}
		return 100 * float64(ns) / float64(total.ns)
	}
	errs := func(n int) string {
		if n == 0 {
			return ""
		}
		return fmt.Sprint(n)
	}
	for _, r := range rows {
		fmt.Fprintf(&b, "%6.2f %11.6f %11d %9d %9s %s\n", pct(r.c.ns), float64(r.c.ns)/1e9,
			r.c.ns/1000/int64(r.c.calls), r.c.calls, errs(r.c.errors), Name(r.nr))
	}
	b.WriteString(rule)
	fmt.Fprintf(&b, "%6.2f %11.6f %11s %9d %9s total\n", 100.0, float64(total.ns)/1e9, "", total.calls, errs(total.errors))
	return b.String()
}
