package syscallshim

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"yolk/amd64"
	"yolk/initrd"
)

// A few /proc files programs read to learn about their machine. Their
// content is made when they are opened; /proc/1/... is /proc/self/....
// /proc itself cannot be listed (no per-process directories yet).

type procGen func(t *Thread) []byte

var procFiles = map[string]procGen{
	"/proc/meminfo":     procMeminfo,
	"/proc/cpuinfo":     procCpuinfo,
	"/proc/mounts":      procMounts,
	"/proc/self/mounts": procMounts,
	"/proc/uptime":      procUptime,
	"/proc/version": func(*Thread) []byte {
		return []byte("Linux version " + unameRelease + " (yolk) " + unameVersion + "\n")
	},
	"/proc/loadavg":      procLoadavg,
	"/proc/self/maps":    procMaps,
	"/proc/self/cmdline": procCmdline,
	"/proc/self/status":  procStatus,
	"/proc/self/comm":    func(t *Thread) []byte { return []byte(t.p.comm + "\n") },
}

var procNodes = map[string]*initrd.Node{}

func init() {
	i := 0
	for p := range procFiles {
		procNodes[p] = &initrd.Node{Path: p, Name: path.Base(p), Mode: unix.S_IFREG | 0o444, Nlink: 1, Ino: uint64(0x20000 + i)}
		i++
	}
}

// procNode returns the /proc entry for p (relative to cwd).
func procNode(cwd, p string) (*initrd.Node, bool) {
	if !path.IsAbs(p) {
		p = path.Join(cwd, p)
	}
	p = path.Clean(p)
	if strings.HasPrefix(p, "/proc/1/") {
		p = "/proc/self/" + p[len("/proc/1/"):]
	}
	n, ok := procNodes[p]
	return n, ok
}

// openProc returns the content of a /proc node as an open file.
func (t *Thread) openProc(n *initrd.Node) (File, bool) {
	if procNodes[n.Path] != n {
		return nil, false
	}
	data := procFiles[n.Path](t)
	nn := *n
	nn.Data, nn.Size = data, int64(len(data))
	return &regular{node: &nn}, true
}

func procMeminfo(t *Thread) []byte {
	var total, free uint64
	if t.p.cfg.MemInfo != nil {
		total, free = t.p.cfg.MemInfo()
	}
	var b bytes.Buffer
	for _, kv := range []struct {
		k string
		v uint64
	}{
		{"MemTotal", total}, {"MemFree", free}, {"MemAvailable", free}, {"Buffers", 0},
		{"Cached", 0}, {"SwapCached", 0}, {"SwapTotal", 0}, {"SwapFree", 0},
	} {
		fmt.Fprintf(&b, "%-16s%8d kB\n", kv.k+":", kv.v>>10)
	}
	return b.Bytes()
}

func procCpuinfo(t *Thread) []byte {
	_, ebx, ecx, edx := amd64.CPUID(0, 0)
	vendor := string([]byte{
		byte(ebx), byte(ebx >> 8), byte(ebx >> 16), byte(ebx >> 24),
		byte(edx), byte(edx >> 8), byte(edx >> 16), byte(edx >> 24),
		byte(ecx), byte(ecx >> 8), byte(ecx >> 16), byte(ecx >> 24),
	})
	eax, _, c1, d1 := amd64.CPUID(1, 0)
	family, model := (eax>>8)&0xf+(eax>>20)&0xff, (eax>>4)&0xf|(eax>>12)&0xf0
	var brand []byte
	if max, _, _, _ := amd64.CPUID(0x80000000, 0); max >= 0x80000004 {
		for leaf := uint32(0x80000002); leaf <= 0x80000004; leaf++ {
			a, b, c, d := amd64.CPUID(leaf, 0)
			for _, r := range []uint32{a, b, c, d} {
				brand = append(brand, byte(r), byte(r>>8), byte(r>>16), byte(r>>24))
			}
		}
	}
	var flags []string
	for _, f := range []struct {
		ecx  bool
		bit  uint
		name string
	}{
		{false, 0, "fpu"}, {false, 4, "tsc"}, {false, 5, "msr"}, {false, 8, "cx8"}, {false, 9, "apic"},
		{false, 15, "cmov"}, {false, 23, "mmx"}, {false, 24, "fxsr"}, {false, 25, "sse"}, {false, 26, "sse2"},
		{true, 0, "pni"}, {true, 9, "ssse3"}, {true, 13, "cx16"}, {true, 19, "sse4_1"}, {true, 20, "sse4_2"},
		{true, 23, "popcnt"}, {true, 25, "aes"}, {true, 30, "rdrand"},
	} {
		r := d1
		if f.ecx {
			r = c1
		}
		if r&(1<<f.bit) != 0 {
			flags = append(flags, f.name)
		}
	}
	return []byte(fmt.Sprintf("processor\t: 0\nvendor_id\t: %s\ncpu family\t: %d\nmodel\t\t: %d\nmodel name\t: %s\nstepping\t: %d\ncpu cores\t: 1\nflags\t\t: %s\n\n",
		vendor, family, model, strings.TrimRight(strings.TrimSpace(string(brand)), "\x00"), eax&0xf, strings.Join(flags, " ")))
}

func procMounts(*Thread) []byte { return []byte("initrd / rootfs ro 0 0\n") }

func procUptime(t *Thread) []byte {
	ns := t.p.m.Monotonic()
	return []byte(fmt.Sprintf("%d.%02d 0.00\n", ns/1e9, ns%1e9/1e7))
}

func procLoadavg(t *Thread) []byte {
	t.p.mu.Lock()
	n := len(t.p.threads)
	t.p.mu.Unlock()
	return []byte(fmt.Sprintf("0.00 0.00 0.00 1/%d 1\n", n))
}

func procCmdline(t *Thread) []byte {
	var b []byte
	for _, a := range t.p.cfg.Argv {
		b = append(append(b, a...), 0)
	}
	return b
}

func procStatus(t *Thread) []byte {
	t.p.mu.Lock()
	n := len(t.p.threads)
	t.p.mu.Unlock()
	return []byte(fmt.Sprintf("Name:\t%s\nState:\tR (running)\nTgid:\t1\nPid:\t1\nPPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\t%d\n", t.p.comm, n))
}

// mapper is implemented by machines that can list the program's
// mappings (kernel.Machine).
type mapper interface {
	Mappings() [][3]uint64 // start, end, prot
}

// procMaps lists the program's mappings in /proc/self/maps' format, with
// the program, [heap] and [stack] named.
func procMaps(t *Thread) []byte {
	mp, ok := t.p.m.(mapper)
	if !ok {
		return nil
	}
	t.p.mu.Lock()
	brkStart, brk := t.p.brkStart, pageUp(t.p.brk)
	t.p.mu.Unlock()
	var b bytes.Buffer
	for _, m := range mp.Mappings() {
		perm := []byte("---p")
		if m[2]&unix.PROT_READ != 0 {
			perm[0] = 'r'
		}
		if m[2]&unix.PROT_WRITE != 0 {
			perm[1] = 'w'
		}
		if m[2]&unix.PROT_EXEC != 0 {
			perm[2] = 'x'
		}
		name := ""
		switch {
		case m[0] >= brkStart && m[1] <= brk && brk > brkStart:
			name = "[heap]"
		case m[1] == StackTop:
			name = "[stack]"
		case m[0] < t.p.imageEnd && m[1] > t.p.imageStart:
			name = path.Join("/", t.p.cfg.Path)
		}
		line := fmt.Sprintf("%08x-%08x %s 00000000 00:00 0", m[0], m[1], perm)
		if name != "" {
			line = fmt.Sprintf("%-72s %s", line, name)
		}
		b.WriteString(line + "\n")
	}
	return b.Bytes()
}

// sysStatfs and sysFstatfs describe the read-only root: an in-memory file
// system (RAMFS_MAGIC) with the initrd's files, nothing free.
func (t *Thread) statfs(va uint64) (uint64, error) {
	var b [120]byte
	le := func(off int, v uint64) {
		for i := 0; i < 8; i++ {
			b[off+i] = byte(v >> (8 * i))
		}
	}
	const ramfsMagic = 0x858458f6
	le(0, ramfsMagic)
	le(8, 4096) // f_bsize
	files := uint64(0)
	if t.p.cfg.Root != nil {
		files = uint64(t.p.cfg.Root.Len())
	}
	le(16, t.p.rootSize/4096+1) // f_blocks
	le(40, files)               // f_files
	le(64, 255)                 // f_namelen
	le(72, 4096)                // f_frsize
	le(80, unix.ST_RDONLY)      // f_flags
	return 0, t.copyOut(va, b[:])
}

func sysStatfs(t *Thread, a Args) (uint64, error) {
	p, err := t.readPath(a[0])
	if err != nil {
		return 0, err
	}
	if _, err := t.resolve(atFDCWD, p, true); err != nil {
		return 0, err
	}
	return t.statfs(a[1])
}

func sysFstatfs(t *Thread, a Args) (uint64, error) {
	if _, err := t.p.files.get(a[0]); err != nil {
		return 0, err
	}
	return t.statfs(a[1])
}
