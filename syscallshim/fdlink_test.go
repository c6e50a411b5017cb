package syscallshim

import (
	"regexp"
	"testing"
)

// TestFdLink checks fdLink against the regular expression it replaced.
func TestFdLink(t *testing.T) {
	re := regexp.MustCompile(`^/proc/([0-9]+)/fd/([0-9]+)$`)
	for _, name := range []string{
		"/proc/1/fd/0", "/proc/123/fd/45", "/proc/007/fd/10",
		"/proc/self/fd/1", "/proc//fd/1", "/proc/1/fd/", "/proc/1/fd/1/", "/proc/1/fd/1x",
		"/proc/1/fdinfo/1", "proc/1/fd/1", "//proc/1/fd/1", "/proc/1/fd/1/fd/2", "/proc/1/fd/-1",
		"/proc/1x/fd/1", "/proc/1/fd//1", "", "/proc/", "/proc/1/fd/1\n",
	} {
		pid, n, ok := fdLink(name)
		m := re.FindStringSubmatch(name)
		if ok != (m != nil) || ok && (pid != m[1] || n != m[2]) {
			t.Errorf("fdLink(%q) = %q, %q, %v; the expression: %q", name, pid, n, ok, m)
		}
	}
}
