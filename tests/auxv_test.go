package tests

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// auxdump is the parsed output of elfload/testdata/auxdump.c.
type auxdump struct {
	sp      uint64
	strs    map[string]uint64 // "argv 0", "envp 1", "execfn", ... -> address
	auxKeys []uint64
	aux     map[uint64]uint64
}

func parseAuxdump(t *testing.T, out string) auxdump {
	t.Helper()
	d := auxdump{strs: map[string]uint64{}, aux: map[uint64]uint64{}}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		num := func(s string) uint64 {
			v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), map[bool]int{true: 16, false: 10}[strings.HasPrefix(s, "0x")], 64)
			if err != nil {
				t.Fatalf("auxdump line %q: %v", sc.Text(), err)
			}
			return v
		}
		switch f[0] {
		case "sp":
			d.sp = num(f[1])
		case "argv", "envp":
			d.strs[f[0]+" "+f[1]] = num(f[2])
		case "execfn", "random", "platform":
			d.strs[f[0]] = num(f[1])
		case "auxv":
			k := num(f[1])
			d.auxKeys = append(d.auxKeys, k)
			d.aux[k] = num(f[2])
		}
	}
	if d.sp == 0 || len(d.auxKeys) == 0 {
		t.Fatalf("no auxdump output in %q", out)
	}
	for k, off := range d.strs {
		d.strs[k] = d.sp + off // offsets are relative to sp
	}
	return d
}

// TestAuxvMatchesLinux runs the same static program natively (ASLR off)
// and under yolk with the same argv, environment and execfn, and checks
// that the initial stack is the same: auxv keys in Linux's order (less
// the ones yolk does not provide), their values where they do not depend
// on the CPU, and every string at the same address.
func TestAuxvMatchesLinux(t *testing.T) {
	setarch, err := exec.LookPath("setarch")
	if err != nil {
		t.Skip("setarch not available")
	}
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "auxdump")
	if out, err := exec.Command("gcc", "-O2", "-static", "-no-pie", "-o", bin, filepath.Join(root, "elfload/testdata/auxdump.c")).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	native := exec.Command(setarch, "-R", "env", "-i", "A=1", "B=2",
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", // qemu/run's default
		"HOME=/", "TERM=linux", "./auxdump", "x", "y")
	native.Dir = dir
	nout, err := native.Output()
	if err != nil {
		t.Fatalf("native auxdump: %v", err)
	}
	r := run(t, "-i", bin, "-o", "init=./auxdump", "-a", "x y", "-e", "A=1", "-e", "B=2")
	if r.status != 0 {
		t.Fatalf("auxdump under yolk: status %d", r.status)
	}
	n, y := parseAuxdump(t, string(nout)), parseAuxdump(t, r.out)

	// Keys Linux adds that yolk does not: rseq (27, 28), newer hwcaps
	// (29, 30), AT_EXECFD (2), AT_BASE_PLATFORM (24). The vDSO's (33)
	// yolk always gives, first as Linux does; a host may lack it (a
	// sandbox), so it is compared apart.
	skip := map[uint64]bool{33: true, 27: true, 28: true, 29: true, 30: true, 2: true, 24: true}
	var nk []uint64
	for _, k := range n.auxKeys {
		if !skip[k] {
			nk = append(nk, k)
		}
	}
	if len(y.auxKeys) == 0 || y.auxKeys[0] != 33 || y.aux[33] == 0 {
		t.Errorf("auxv keys: yolk %v, want AT_SYSINFO_EHDR (33) first", y.auxKeys)
	} else if stringify(nk) != stringify(y.auxKeys[1:]) {
		t.Errorf("auxv keys: Linux %v, yolk %v", nk, y.auxKeys)
	}
	// Values that do not depend on the CPU or the random bytes.
	for _, k := range []uint64{3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 17, 23, 25, 31, 15} {
		if n.aux[k] != y.aux[k] {
			t.Errorf("auxv %d: Linux %#x, yolk %#x", k, n.aux[k], y.aux[k])
		}
	}
	for k, a := range n.strs {
		if y.strs[k] != a {
			t.Errorf("%s string at %#x under Linux, %#x under yolk", k, a, y.strs[k])
		}
	}
	if y.sp%16 != 0 {
		t.Errorf("initial sp %#x not 16-byte aligned", y.sp)
	}
}

func stringify(v []uint64) string {
	var b strings.Builder
	b.WriteString("[")
	for i, x := range v {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(strconv.FormatUint(x, 10))
	}
	b.WriteString("]")
	return b.String()
}
