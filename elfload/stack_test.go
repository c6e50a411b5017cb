package elfload

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"yolk/linux/abi"
)

// stackStr is a string (or the AT_RANDOM bytes) on the initial stack.
type stackStr struct {
	addr uint64
	s    string
}

// stackDump is a decoded initial stack, from Layout or from auxdump.
type stackDump struct {
	sp                       uint64
	argv, envp               []stackStr
	aux                      [][2]uint64
	execfn, platform, random stackStr
}

func (d *stackDump) auxVal(key uint64) (uint64, bool) {
	for _, e := range d.aux {
		if e[0] == key {
			return e[1], true
		}
	}
	return 0, false
}

// decodeLayout parses Layout's output like a C runtime would.
func decodeLayout(sp uint64, data []byte) (*stackDump, error) {
	top := sp + uint64(len(data))
	u64 := func(a uint64) (uint64, error) {
		if a < sp || a+8 > top {
			return 0, fmt.Errorf("read of %#x outside the stack", a)
		}
		return binary.LittleEndian.Uint64(data[a-sp:]), nil
	}
	str := func(a uint64) (stackStr, error) {
		if a < sp || a >= top {
			return stackStr{}, fmt.Errorf("string at %#x outside the stack", a)
		}
		i := bytes.IndexByte(data[a-sp:], 0)
		if i < 0 {
			return stackStr{}, fmt.Errorf("unterminated string at %#x", a)
		}
		return stackStr{a, string(data[a-sp : a-sp+uint64(i)])}, nil
	}
	d := &stackDump{sp: sp}
	argc, err := u64(sp)
	if err != nil {
		return nil, err
	}
	if argc > uint64(len(data))/8 {
		return nil, fmt.Errorf("argc %d", argc)
	}
	a := sp + 8
	for i := uint64(0); i < argc; i++ {
		p, err := u64(a)
		if err != nil {
			return nil, err
		}
		s, err := str(p)
		if err != nil {
			return nil, err
		}
		d.argv = append(d.argv, s)
		a += 8
	}
	if p, err := u64(a); err != nil || p != 0 {
		return nil, fmt.Errorf("argv not NULL-terminated (%#x, %v)", p, err)
	}
	for a += 8; ; a += 8 {
		p, err := u64(a)
		if err != nil {
			return nil, err
		}
		if p == 0 {
			break
		}
		s, err := str(p)
		if err != nil {
			return nil, err
		}
		d.envp = append(d.envp, s)
	}
	for a += 8; ; a += 16 {
		k, err := u64(a)
		if err != nil {
			return nil, err
		}
		v, err := u64(a + 8)
		if err != nil {
			return nil, err
		}
		d.aux = append(d.aux, [2]uint64{k, v})
		switch k {
		case abi.AT_EXECFN:
			if d.execfn, err = str(v); err != nil {
				return nil, err
			}
		case abi.AT_PLATFORM:
			if d.platform, err = str(v); err != nil {
				return nil, err
			}
		case abi.AT_RANDOM:
			if v < sp || v+16 > top {
				return nil, fmt.Errorf("AT_RANDOM %#x outside the stack", v)
			}
			d.random = stackStr{v, string(data[v-sp : v-sp+16])}
		}
		if k == abi.AT_NULL {
			break
		}
	}
	return d, nil
}

// parseAuxdump parses the output of testdata/auxdump.c.
func parseAuxdump(out string) (*stackDump, error) {
	d := &stackDump{}
	end := false
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		num := func(s string) uint64 {
			v, err := strconv.ParseUint(s, 0, 64)
			if err != nil {
				panic(fmt.Sprintf("auxdump line %q: %v", line, err))
			}
			return v
		}
		sstr := func(off, hx string) stackStr {
			o, err := strconv.ParseInt(off, 10, 64)
			if err != nil {
				panic(fmt.Sprintf("auxdump line %q: %v", line, err))
			}
			var b []byte
			if hx != "-" {
				if b, err = hex.DecodeString(hx); err != nil {
					panic(fmt.Sprintf("auxdump line %q: %v", line, err))
				}
			}
			return stackStr{d.sp + uint64(o), string(b)}
		}
		switch {
		case f[0] == "sp" && len(f) == 2:
			d.sp = num(f[1])
		case f[0] == "argc" || f[0] == "envc":
		case f[0] == "argv" && len(f) == 4:
			d.argv = append(d.argv, sstr(f[2], f[3]))
		case f[0] == "envp" && len(f) == 4:
			d.envp = append(d.envp, sstr(f[2], f[3]))
		case f[0] == "auxv" && len(f) == 3:
			d.aux = append(d.aux, [2]uint64{num(f[1]), num(f[2])})
		case f[0] == "execfn" && len(f) == 3:
			d.execfn = sstr(f[1], f[2])
		case f[0] == "platform" && len(f) == 3:
			d.platform = sstr(f[1], f[2])
		case f[0] == "random" && len(f) == 3:
			d.random = sstr(f[1], f[2])
		case f[0] == "end":
			end = true
		default:
			return nil, fmt.Errorf("unexpected auxdump line %q", line)
		}
	}
	if !end {
		return nil, fmt.Errorf("auxdump output incomplete:\n%s", out)
	}
	return d, nil
}

var testImage = &Image{Entry: 0x555555555100, Base: 0x555555554000, Phdr: 0x555555554040, Phnum: 12, Phent: 56, Static: true}

func testSpec() StackSpec {
	s := StackSpec{
		Argv:        []string{"/bin/prog", "-x", "", "hello world"},
		Envp:        []string{"HOME=/", "TERM=dumb", "EMPTY="},
		ExecFn:      "/bin/prog",
		Platform:    "x86_64",
		HWCap:       0x178bfbff,
		HWCap2:      2,
		ClkTck:      100,
		MinSigStkSz: 1776,
		UID:         1000, EUID: 1001, GID: 100, EGID: 101,
	}
	for i := range s.Random {
		s.Random[i] = byte(0xa0 + i)
	}
	return s
}

// checkLayout checks the invariants of a Layout result against spec.
func checkLayout(t *testing.T, top uint64, img *Image, spec StackSpec, sp uint64, data []byte) *stackDump {
	t.Helper()
	if sp%16 != 0 {
		t.Errorf("sp %#x not 16-byte aligned", sp)
	}
	if sp+uint64(len(data)) != top {
		t.Fatalf("sp %#x + %d bytes != top %#x", sp, len(data), top)
	}
	d, err := decodeLayout(sp, data)
	if err != nil {
		t.Fatal(err)
	}
	argv := spec.Argv
	if len(argv) == 0 {
		argv = []string{""}
	}
	if len(d.argv) != len(argv) || len(d.envp) != len(spec.Envp) {
		t.Fatalf("argc %d envc %d, want %d %d", len(d.argv), len(d.envp), len(argv), len(spec.Envp))
	}
	// Strings: argv[0] lowest, then the rest of argv, envp, execfn, the
	// NULL end marker.
	next := d.argv[0].addr
	for i, s := range append(append(append([]stackStr{}, d.argv...), d.envp...), d.execfn) {
		if s.addr != next {
			t.Errorf("string %d %q at %#x, want %#x", i, s.s, s.addr, next)
		}
		next = s.addr + uint64(len(s.s)) + 1
	}
	if next != top-8 || binary.LittleEndian.Uint64(data[len(data)-8:]) != 0 {
		t.Errorf("strings end at %#x, end marker not at top-8 = %#x", next, top-8)
	}
	for i := range argv {
		if d.argv[i].s != argv[i] {
			t.Errorf("argv[%d] = %q, want %q", i, d.argv[i].s, argv[i])
		}
	}
	for i := range spec.Envp {
		if d.envp[i].s != spec.Envp[i] {
			t.Errorf("envp[%d] = %q, want %q", i, d.envp[i].s, spec.Envp[i])
		}
	}
	if d.execfn.s != spec.ExecFn {
		t.Errorf("AT_EXECFN string %q, want %q", d.execfn.s, spec.ExecFn)
	}
	// Platform string right below the 16-aligned string area, random bytes right below it.
	below := d.argv[0].addr &^ 15
	if spec.Platform != "" {
		if d.platform.s != spec.Platform || d.platform.addr+uint64(len(spec.Platform))+1 != below {
			t.Errorf("platform %q at %#x, want %q ending at %#x", d.platform.s, d.platform.addr, spec.Platform, below)
		}
		below = d.platform.addr
	} else if _, ok := d.auxVal(abi.AT_PLATFORM); ok {
		t.Error("AT_PLATFORM without a platform string")
	}
	if d.random.s != string(spec.Random[:]) || d.random.addr+16 != below {
		t.Errorf("AT_RANDOM %#x -> %x, want %x ending at %#x", d.random.addr, d.random.s, spec.Random, below)
	}
	// auxv right after envp's NULL, padding (< 16 bytes) up to the random bytes.
	auxEnd := sp + 8*uint64(len(d.argv)+1+len(d.envp)+1+1) + 16*uint64(len(d.aux))
	if d.random.addr < auxEnd || d.random.addr-auxEnd >= 16 {
		t.Errorf("auxv ends at %#x, random bytes at %#x", auxEnd, d.random.addr)
	}
	// Keys and values.
	clk := spec.ClkTck
	if clk == 0 {
		clk = 100
	}
	var want [][2]uint64
	if spec.SysinfoEHDR != 0 {
		want = append(want, [2]uint64{abi.AT_SYSINFO_EHDR, spec.SysinfoEHDR})
	}
	want = append(want,
		[2]uint64{abi.AT_MINSIGSTKSZ, spec.MinSigStkSz},
		[2]uint64{abi.AT_HWCAP, spec.HWCap},
		[2]uint64{abi.AT_PAGESZ, 4096},
		[2]uint64{abi.AT_CLKTCK, clk},
		[2]uint64{abi.AT_PHDR, img.Phdr},
		[2]uint64{abi.AT_PHENT, 56},
		[2]uint64{abi.AT_PHNUM, uint64(img.Phnum)},
		[2]uint64{abi.AT_BASE, 0},
		[2]uint64{abi.AT_FLAGS, 0},
		[2]uint64{abi.AT_ENTRY, img.Entry},
		[2]uint64{abi.AT_UID, spec.UID},
		[2]uint64{abi.AT_EUID, spec.EUID},
		[2]uint64{abi.AT_GID, spec.GID},
		[2]uint64{abi.AT_EGID, spec.EGID},
		[2]uint64{abi.AT_SECURE, b2u(spec.Secure)},
		[2]uint64{abi.AT_RANDOM, d.random.addr},
		[2]uint64{abi.AT_HWCAP2, spec.HWCap2},
		[2]uint64{abi.AT_EXECFN, d.execfn.addr},
	)
	if spec.Platform != "" {
		want = append(want, [2]uint64{abi.AT_PLATFORM, d.platform.addr})
	}
	want = append(want, [2]uint64{abi.AT_NULL, 0})
	if fmt.Sprint(d.aux) != fmt.Sprint(want) {
		t.Errorf("auxv\n got %v\nwant %v", d.aux, want)
	}
	return d
}

func TestLayout(t *testing.T) {
	const top = 0x7ffffffff000
	for _, tc := range []struct {
		name string
		mod  func(*StackSpec)
	}{
		{"default", func(*StackSpec) {}},
		{"vdso", func(s *StackSpec) { s.SysinfoEHDR = 0x7ffff7fc1000; s.Secure = true }},
		{"no platform", func(s *StackSpec) { s.Platform = "" }},
		{"no argv", func(s *StackSpec) { s.Argv = nil }},
		{"no env", func(s *StackSpec) { s.Envp = nil; s.ClkTck = 0 }},
		{"odd sizes", func(s *StackSpec) { s.Argv = []string{"a"}; s.Envp = []string{"bb", "ccc"}; s.ExecFn = "/d" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := testSpec()
			tc.mod(&spec)
			for _, tp := range []uint64{top, top - 8, 0x40000000} {
				sp, data, err := Layout(tp, testImage, spec)
				if err != nil {
					t.Fatal(err)
				}
				checkLayout(t, tp, testImage, spec, sp, data)
			}
		})
	}
}

func TestLayoutGolden(t *testing.T) {
	// Worked by hand: marker 0x7fffffffeff8, "/a" at ...ff5, "a" at ...ff3,
	// aligned to ...ff0, "x86_64" at ...fe9, random at ...fd9, 20 auxv
	// pairs (0x140 bytes) -> ...e99, 4 words -> ...e79, rounded -> ...e70.
	spec := StackSpec{Argv: []string{"a"}, ExecFn: "/a", Platform: "x86_64"}
	sp, data, err := Layout(0x7ffffffff000, testImage, spec)
	if err != nil {
		t.Fatal(err)
	}
	if sp != 0x7fffffffee70 || len(data) != 0x190 {
		t.Errorf("sp = %#x, %d bytes; want 0x7fffffffee70, 400 bytes", sp, len(data))
	}
	d := checkLayout(t, 0x7ffffffff000, testImage, spec, sp, data)
	if d.random.addr != 0x7fffffffefd9 || d.platform.addr != 0x7fffffffefe9 || d.argv[0].addr != 0x7fffffffeff3 {
		t.Errorf("random %#x platform %#x argv[0] %#x", d.random.addr, d.platform.addr, d.argv[0].addr)
	}
}

func TestLayoutLimits(t *testing.T) {
	const top = 0x7ffffffff000
	spec := testSpec()
	long := strings.Repeat("x", MaxArgStrLen-1)
	spec.Argv = []string{long}
	if _, _, err := Layout(top, testImage, spec); err != nil {
		t.Errorf("argument of MAX_ARG_STRLEN bytes with its NUL: %v", err)
	}
	spec.Argv = []string{long + "x"}
	_, _, err := Layout(top, testImage, spec)
	wantKind(t, err, ArgListTooLong, "argv[0] is 131073 bytes")
	spec = testSpec()
	spec.Envp = []string{"A=" + long + "x"}
	_, _, err = Layout(top, testImage, spec)
	wantKind(t, err, ArgListTooLong, "envp[0]")
	spec = testSpec()
	for i := 0; i < 18; i++ {
		spec.Envp = append(spec.Envp, long[:120<<10])
	}
	_, _, err = Layout(top, testImage, spec)
	wantKind(t, err, ArgListTooLong, "argument list too long")
	spec.Envp = spec.Envp[:16]
	if _, _, err := Layout(top, testImage, spec); err != nil {
		t.Errorf("16 x 120 KiB: %v", err)
	}
	spec = testSpec()
	spec.Argv = make([]string, ArgMax/8)
	_, _, err = Layout(top, testImage, spec)
	wantKind(t, err, ArgListTooLong, "pointers")

	spec = testSpec()
	spec.Argv = []string{"a\x00b"}
	_, _, err = Layout(top, testImage, spec)
	wantKind(t, err, BadArgs, "argv[0] contains a NUL byte")
	_, _, err = Layout(top, nil, testSpec())
	wantKind(t, err, BadArgs, "no program image")
	_, _, err = Layout(0x100, testImage, testSpec())
	wantKind(t, err, StackTooSmall, "does not fit below 0x100")
}

func TestBuildStack(t *testing.T) {
	const top = 0x7ffffffff000
	mem := newFakeMem()
	if err := mem.Map(top-0x20000, 0x20000, 3); err != nil {
		t.Fatal(err)
	}
	spec := testSpec()
	sp, err := BuildStack(mem, top, testImage, spec)
	if err != nil {
		t.Fatal(err)
	}
	sp2, data, _ := Layout(top, testImage, spec)
	if sp != sp2 || !bytes.Equal(mem.read(sp, top-sp), data) {
		t.Error("BuildStack wrote something else than Layout")
	}
	// A stack mapping too small for the arguments.
	spec.Envp = []string{strings.Repeat("y", 100000), strings.Repeat("z", 100000)}
	_, err = BuildStack(mem, top, testImage, spec)
	wantKind(t, err, MemoryFailed, "writing the initial stack")
}

// Keys Linux (6.x, x86-64) puts in the auxv that Layout does not.
var linuxOnlyAux = map[uint64]string{
	2:  "AT_EXECFD (binfmt_misc with the O flag only)",
	24: "AT_BASE_PLATFORM (not defined on x86)",
	27: "AT_RSEQ_FEATURE_SIZE (Linux 6.3+, CONFIG_RSEQ)",
	28: "AT_RSEQ_ALIGN (Linux 6.3+, CONFIG_RSEQ)",
	29: "AT_HWCAP3 (newer kernels)",
	30: "AT_HWCAP4 (newer kernels)",
}

// TestLayoutMatchesLinux runs testdata/auxdump.c natively with ASLR off and
// compares the initial stack Linux built with Layout's for the same
// argv/envp/execfn (and, so that every value can be compared, the same
// vDSO address, hwcaps, ids, random bytes and stack top).
func TestLayoutMatchesLinux(t *testing.T) {
	if _, err := exec.LookPath("setarch"); err != nil {
		t.Skip("setarch not available")
	}
	for _, name := range []string{"auxdump-pie", "auxdump-static"} {
		t.Run(name, func(t *testing.T) {
			path := testBinary(t, name)
			args := []string{path, "one", "two words", "", "x=y", strings.Repeat("z", 37)}
			envp := []string{"A=1", "B=2"}
			run := func() *stackDump {
				t.Helper()
				cmd := exec.Command("setarch", append([]string{"-R", "env", "-i"}, append(envp, args...)...)...)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if err != nil {
					t.Skipf("cannot run %s natively: %v\n%s", path, err, stderr.Bytes())
				}
				d, err := parseAuxdump(string(out))
				if err != nil {
					t.Fatal(err)
				}
				return d
			}
			nat := run()
			noASLR := run().sp == nat.sp
			if !noASLR {
				t.Log("setarch -R did not disable stack randomization: comparing the string area and auxv only")
			}
			// Top of the native stack: the NULL marker after the execfn string.
			top := nat.execfn.addr + uint64(len(nat.execfn.s)) + 1 + 8
			if top%pageSize != 0 {
				t.Errorf("native top %#x not page-aligned", top)
			}

			// Load the same file at the place Linux put it.
			b := readFile(t, path)
			f, err := elf.NewFile(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			natEntry, _ := nat.auxVal(abi.AT_ENTRY)
			img, err := loadBytes(b, newFakeMem(), Options{PIEBase: natEntry - f.Entry})
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range []uint64{abi.AT_PHDR, abi.AT_PHNUM, abi.AT_PHENT, abi.AT_ENTRY, abi.AT_PAGESZ, abi.AT_BASE, abi.AT_FLAGS} {
				v, ok := nat.auxVal(k)
				if !ok {
					t.Errorf("Linux gave no auxv key %d", k)
				}
				var mine uint64
				switch k {
				case abi.AT_PHDR:
					mine = img.Phdr
				case abi.AT_PHNUM:
					mine = uint64(img.Phnum)
				case abi.AT_PHENT:
					mine = uint64(img.Phent)
				case abi.AT_ENTRY:
					mine = img.Entry
				case abi.AT_PAGESZ:
					mine = pageSize
				}
				if v != mine {
					t.Errorf("auxv key %d: Linux %#x, Load %#x", k, v, mine)
				}
			}

			val := func(k uint64) uint64 { v, _ := nat.auxVal(k); return v }
			spec := StackSpec{
				Argv: args, Envp: envp, ExecFn: path, Platform: nat.platform.s,
				HWCap: val(abi.AT_HWCAP), HWCap2: val(abi.AT_HWCAP2), ClkTck: val(abi.AT_CLKTCK),
				MinSigStkSz: val(abi.AT_MINSIGSTKSZ), UID: val(abi.AT_UID), EUID: val(abi.AT_EUID),
				GID: val(abi.AT_GID), EGID: val(abi.AT_EGID), Secure: val(abi.AT_SECURE) != 0,
				SysinfoEHDR: val(abi.AT_SYSINFO_EHDR),
			}
			copy(spec.Random[:], nat.random.s)
			sp, data, err := Layout(top, img, spec)
			if err != nil {
				t.Fatal(err)
			}
			mine := checkLayout(t, top, img, spec, sp, data)

			// auxv: same keys in the same order, same values, apart from
			// the keys only Linux emits.
			var natAux [][2]uint64
			var skipped []string
			for _, e := range nat.aux {
				if why, ok := linuxOnlyAux[e[0]]; ok {
					skipped = append(skipped, why)
					continue
				}
				natAux = append(natAux, e)
			}
			t.Logf("auxv keys Linux emits and Layout does not: %s", strings.Join(skipped, ", "))
			if fmt.Sprint(keysOf(natAux)) != fmt.Sprint(keysOf(mine.aux)) {
				t.Errorf("auxv key order\nLinux  %v\nLayout %v", keysOf(natAux), keysOf(mine.aux))
			}
			for i, e := range natAux {
				if i >= len(mine.aux) {
					break
				}
				k := e[0]
				if !noASLR && (k == abi.AT_RANDOM || k == abi.AT_PLATFORM) {
					continue
				}
				if e != mine.aux[i] {
					t.Errorf("auxv entry %d: Linux %v, Layout %v", i, e, mine.aux[i])
				}
			}

			// Strings at the same addresses (same offsets from the top).
			cmp := func(what string, a, b stackStr) {
				t.Helper()
				if a != b {
					t.Errorf("%s: Linux %q at top-%d, Layout %q at top-%d", what, a.s, top-a.addr, b.s, top-b.addr)
				}
			}
			for i := range args {
				cmp(fmt.Sprintf("argv[%d]", i), nat.argv[i], mine.argv[i])
			}
			for i := range envp {
				cmp(fmt.Sprintf("envp[%d]", i), nat.envp[i], mine.envp[i])
			}
			cmp("execfn", nat.execfn, mine.execfn)
			if noASLR {
				cmp("platform", nat.platform, mine.platform)
				cmp("random", nat.random, mine.random)
				// sp differs only by the auxv pairs Layout leaves out.
				if want := mine.sp - 16*uint64(len(skipped)); nat.sp != want {
					t.Errorf("sp: Linux top-%d, Layout top-%d (+%d bytes of Linux-only auxv)", top-nat.sp, top-mine.sp, 16*len(skipped))
				}
			}
		})
	}
}

func keysOf(aux [][2]uint64) []uint64 {
	var k []uint64
	for _, e := range aux {
		k = append(k, e[0])
	}
	return k
}

func TestErrorStrings(t *testing.T) {
	for k := NotELF; k <= MemoryFailed; k++ {
		e := &Error{Kind: k}
		if s := e.Error(); s == "" || strings.Contains(s, "ErrorKind(") || e.ExitStatus() != 126 {
			t.Errorf("kind %d: %q", k, s)
		}
	}
	e := &Error{Kind: MemoryFailed, Msg: "mapping", Err: errors.New("a\nb")}
	if strings.Contains(e.Error(), "\n") {
		t.Errorf("multi-line %q", e.Error())
	}
	if _, err := os.Stat("testdata/auxdump.c"); err != nil {
		t.Error(err)
	}
}
