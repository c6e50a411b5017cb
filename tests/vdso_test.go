package tests

import (
	"regexp"
	"strings"
	"testing"
)

// TestVDSO runs the vDSO checks (examples/vdso with glibc and musl,
// examples/govdso with Go's runtime): the clock functions answer without
// a system call, agree with clock_gettime(2), never go backwards, and
// /proc/self/maps names [vvar] just below [vdso].
func TestVDSO(t *testing.T) {
	maps := regexp.MustCompile(`(?m)^([0-9a-f]+)-([0-9a-f]+) r--p 00000000 00:00 0 +\[vvar\]\n([0-9a-f]+)-[0-9a-f]+ r-xp 00000000 00:00 0 +\[vdso\]$`)
	for _, c := range []struct{ prog, ok string }{
		{"vdso", "vdso: OK"},
		{"vdso-musl", "vdso: OK"},
		{"govdso", "govdso: OK"},
	} {
		t.Run(c.prog, func(t *testing.T) {
			t.Parallel()
			r := run(t, "-i", example(t, c.prog), "-a", "20000")
			out := progOut(r.out)
			if r.status != 0 || !strings.Contains(out, c.ok) {
				t.Fatalf("status %d, output:\n%s", r.status, r.out)
			}
			m := maps.FindStringSubmatch(out)
			if m == nil || m[2] != m[3] {
				t.Errorf("no [vvar] page just below [vdso] in:\n%s", out)
			}
			t.Logf("%s", out)
		})
	}
}

// TestVDSONoSyscalls: under strace, the 1,000,000 clock reads of each
// program's loop (glibc's clock_gettime, Go's time.Since) do not appear;
// only its explicit system calls (2,000 in the timing loop, a few for
// the comparisons) do.
func TestVDSONoSyscalls(t *testing.T) {
	for _, prog := range []string{"vdso", "govdso"} {
		t.Run(prog, func(t *testing.T) {
			t.Parallel()
			r := run(t, "-i", example(t, prog), "-o", "strace", "-a", "1000000 2000")
			if r.status != 0 {
				t.Fatalf("status %d, output:\n%s", r.status, r.out)
			}
			// Lines name their thread ([pid N]) once a program has several.
			n := len(regexp.MustCompile(`(?m)^(\[pid +\d+\] )?clock_gettime\(`).FindAllStringIndex(r.out, -1))
			if n < 2000 || n > 2100 {
				t.Errorf("%d clock_gettime system calls, want 2000 from the timing loop and a few more", n)
			}
			t.Logf("%s", regexp.MustCompile(`(?m)^(vdso|govdso): .*ns/call.*$`).FindString(r.out))
		})
	}
}
