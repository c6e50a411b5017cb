package tests

import (
	"fmt"
	"strings"
	"testing"
)

// TestSMPBoot: with several virtual CPUs the kernel finds them in the
// MADT (microvm and q35 both have one), starts every one and passes its
// self-test.
func TestSMPBoot(t *testing.T) {
	for _, c := range []struct {
		machine string
		n       int
	}{{"microvm", 2}, {"q35", 2}, {"microvm", 4}} {
		t.Run(fmt.Sprintf("%s-%d", c.machine, c.n), func(t *testing.T) {
			t.Parallel()
			r := run(t, "-M", c.machine, "--smp", fmt.Sprint(c.n), "-o", "selftest bootstats")
			if r.status != 0 {
				t.Errorf("exit status %d, want 0", r.status)
			}
			if m := summary.FindStringSubmatch(r.out); m == nil || m[2] != "0" {
				t.Errorf("no passing summary line in output")
			}
			if want := fmt.Sprintf("yolk: %d of %d CPUs online\n", c.n, c.n); !strings.Contains(r.out, want) {
				t.Errorf("output lacks %q", want)
			}
		})
	}
}
