package syscallshim

import (
	"fmt"

	"golang.org/x/sys/unix"

	"yolk/linux/sysno"
)

// Tracing in strace's format: "name(args) = result". traceEnter formats
// the arguments known before the call (strings, flags); traceExit adds
// what the call filled in (read buffers, structs) and the result.

func (t *Thread) traceEnter(nr uint64, a Args) string {
	return fmt.Sprintf("%s(%#x, %#x, %#x)", sysno.Format(uintptr(nr)), a[0], a[1], a[2])
}

func (t *Thread) traceExit(nr uint64, a Args, pre string, ret uint64) {
	t.p.printf("%s = %s\n", pre, formatRet(ret))
}

// formatRet formats a raw return value: "-1 ENOENT (No such file or
// directory)" for errors, decimal otherwise.
func formatRet(ret uint64) string {
	if r := int64(ret); r < 0 && r > -4096 {
		e := unix.Errno(-r)
		return fmt.Sprintf("-1 %s (%s)", unix.ErrnoName(e), errnoText(e))
	}
	return fmt.Sprint(int64(ret))
}

// errnoText is strerror's text, capitalised as glibc prints it.
func errnoText(e unix.Errno) string {
	s := e.Error()
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	return s
}
