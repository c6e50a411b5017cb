package syscallshim

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"yolk/linux/sysno"
)

// strace's options that yolk honours, given on the kernel command line as
// strace=OPTS, the options separated by commas instead of spaces (e.g.
// strace=-f,-tt,-T,-e,trace=file or strace=-c). Every process is traced
// (as with -f); lines carry "[pid N] " once there is more than one
// thread or process, as strace -f prints them.

// TraceOptions are the parsed options.
type TraceOptions struct {
	On         bool            // trace at all
	Only       map[uint64]bool // -e trace=SET: the syscalls traced (nil: all)
	OnlyFailed bool            // -e status=failed, -Z
	Stamp      int             // -t 1, -tt 2, -ttt 3
	Relative   bool            // -r
	Durations  bool            // -T
	Count      bool            // -c: a table at the end instead of lines
}

// traceClasses are strace's syscall classes (-e trace=%file or =file).
var traceClasses = map[string][]string{
	"file": {"open", "openat", "openat2", "creat", "stat", "lstat", "newfstatat", "statx", "access", "faccessat",
		"faccessat2", "execve", "execveat", "truncate", "chdir", "mkdir", "mkdirat", "rmdir", "rename", "renameat",
		"renameat2", "link", "linkat", "unlink", "unlinkat", "symlink", "symlinkat", "readlink", "readlinkat",
		"chmod", "fchmodat", "chown", "lchown", "fchownat", "utime", "utimes", "utimensat", "futimesat", "mknod",
		"mknodat", "statfs", "mount", "umount2", "getxattr", "lgetxattr", "setxattr", "lsetxattr", "listxattr",
		"llistxattr", "removexattr", "lremovexattr", "chroot"},
	"process": {"fork", "vfork", "clone", "clone3", "execve", "execveat", "exit", "exit_group", "wait4", "waitid",
		"kill", "tkill", "tgkill", "pidfd_open", "pidfd_send_signal"},
	"network": {"socket", "socketpair", "bind", "listen", "accept", "accept4", "connect", "getsockname",
		"getpeername", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown",
		"setsockopt", "getsockopt"},
	"memory": {"brk", "mmap", "munmap", "mprotect", "mremap", "madvise", "msync", "mlock", "munlock",
		"mincore", "memfd_create"},
	"signal": {"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend", "rt_sigpending",
		"rt_sigtimedwait", "rt_sigqueueinfo", "sigaltstack", "kill", "tkill", "tgkill", "pause", "alarm",
		"signalfd4"},
	"desc": {"read", "write", "readv", "writev", "pread64", "pwrite64", "close", "close_range", "dup", "dup2",
		"dup3", "fcntl", "ioctl", "lseek", "fstat", "fstatfs", "getdents64", "poll", "ppoll", "select",
		"pselect6", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "eventfd2",
		"pipe", "pipe2", "sendfile", "copy_file_range", "fsync", "fdatasync", "ftruncate", "fallocate",
		"fchdir", "fchmod", "fchown", "flock", "openat", "open", "memfd_create", "mmap"},
}

// ParseTraceOptions parses strace=OPTS (words separated by commas; an
// option's value may be the next word or joined with '=' or directly, as
// -e trace=file, -etrace=file).
func ParseTraceOptions(s string) (TraceOptions, error) {
	o := TraceOptions{On: true}
	words := strings.Split(s, ",")
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "":
		case w == "-f" || w == "-ff":
			// Every process is traced already.
		case w == "-t":
			o.Stamp = max(o.Stamp, 1)
		case w == "-tt":
			o.Stamp = max(o.Stamp, 2)
		case w == "-ttt":
			o.Stamp = 3
		case w == "-r":
			o.Relative = true
		case w == "-T":
			o.Durations = true
		case w == "-c":
			o.Count = true
		case w == "-Z":
			o.OnlyFailed = true
		case strings.HasPrefix(w, "-e"):
			expr := strings.TrimPrefix(strings.TrimPrefix(w, "-e"), "=")
			if expr == "" {
				if i+1 == len(words) {
					return o, fmt.Errorf("strace: -e needs an expression")
				}
				i++
				expr = words[i]
			}
			if err := o.expr(expr); err != nil {
				return o, err
			}
		default:
			return o, fmt.Errorf("strace: option %q is not supported (supported: -f -t -tt -ttt -r -T -c -Z -e trace=SET -e status=failed)", w)
		}
	}
	return o, nil
}

// expr applies one -e expression: trace=SET or status=failed.
func (o *TraceOptions) expr(e string) error {
	key, val, ok := strings.Cut(e, "=")
	if !ok {
		key, val = "trace", e
	}
	switch key {
	case "trace", "t":
		o.Only = map[uint64]bool{}
		for _, name := range strings.Split(val, "+") {
			// strace separates a set with commas, which the kernel command
			// line form uses between options: join a set's names with '+'.
			name = strings.TrimPrefix(name, "%")
			if cls, ok := traceClasses[name]; ok {
				for _, n := range cls {
					o.add(n)
				}
				continue
			}
			if name == "all" {
				o.Only = nil
				return nil
			}
			if !o.add(name) {
				return fmt.Errorf("strace: unknown syscall or class %q", name)
			}
		}
	case "status":
		if val != "failed" {
			return fmt.Errorf("strace: -e status=%s is not supported (only failed)", val)
		}
		o.OnlyFailed = true
	default:
		return fmt.Errorf("strace: -e %s= is not supported", key)
	}
	return nil
}

// add traces the syscall called name; false if there is none.
func (o *TraceOptions) add(name string) bool {
	for nr := uint64(0); nr < uint64(sysno.Max); nr++ {
		if sysno.Name(uintptr(nr)) == name {
			o.Only[nr] = true
			return true
		}
	}
	return false
}

func (o *TraceOptions) traced(nr uint64) bool { return o.On && (o.Only == nil || o.Only[nr]) }

// traceStats is strace -c's table.
type traceStats struct {
	mu    sync.Mutex
	calls map[uint64]*traceCount
	last  int64 // monotonic ns of the last line, for -r
}

type traceCount struct {
	calls, errors int
	ns            int64
}

func (st *traceStats) add(nr uint64, ns int64, failed bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.calls == nil {
		st.calls = map[uint64]*traceCount{}
	}
	c := st.calls[nr]
	if c == nil {
		c = &traceCount{}
		st.calls[nr] = c
	}
	c.calls++
	c.ns += ns
	if failed {
		c.errors++
	}
}

// table formats the counts in strace -c's layout, most time first.
func (st *traceStats) table() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	type row struct {
		nr uint64
		c  traceCount
	}
	var rows []row
	var total traceCount
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
		return rows[i].c.calls > rows[j].c.calls
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
			r.c.ns/1000/int64(r.c.calls), r.c.calls, errs(r.c.errors), traceName(r.nr))
	}
	b.WriteString(rule)
	fmt.Fprintf(&b, "%6.2f %11.6f %11s %9d %9s total\n", 100.0, float64(total.ns)/1e9, "", total.calls, errs(total.errors))
	return b.String()
}

// traceSyscall runs one syscall under the trace options: the line (or
// the count) with its prefixes and suffixes.
func (t *Thread) traceSyscall(nr uint64, a Args) uint64 {
	p := t.p
	o := &p.sys.trace
	if !o.traced(nr) {
		return t.dispatch(nr, a)
	}
	start := p.m.Monotonic()
	var pre string
	if !o.Count {
		pre = t.traceEnter(nr, a)
	}
	ret := t.dispatch(nr, a)
	end := p.m.Monotonic()
	failed := traceIsErrno(ret)
	if o.Count {
		p.sys.traceStats.add(nr, end-start, failed)
		return ret
	}
	if o.OnlyFailed && !failed {
		return ret
	}
	t.traceExit(nr, a, pre, ret, t.tracePrefix(start), traceSuffix(o, end-start))
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
	if several {
		fmt.Fprintf(&b, "[pid %5d] ", t.tid)
	}
	o := &s.trace
	switch {
	case o.Relative:
		s.traceStats.mu.Lock()
		last := s.traceStats.last
		s.traceStats.last = start
		s.traceStats.mu.Unlock()
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

// traceSuffix is -T's " <seconds>".
func traceSuffix(o *TraceOptions, ns int64) string {
	if !o.Durations {
		return ""
	}
	return fmt.Sprintf(" <%d.%06d>", ns/1e9, ns%1e9/1e3)
}

// traceSummary prints strace -c's table (at the end of the run).
func (s *System) traceSummary() {
	if s.trace.Count {
		s.m.ConsoleWrite([]byte(s.traceStats.table()))
	}
}
