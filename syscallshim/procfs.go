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

// A few /proc files programs read to learn about their machine and
// their processes. Their content is made when they are opened.
// /proc/PID/... exists for every live process (and /proc/self/... is the
// caller's); /proc itself cannot be listed yet.

type procGen func(t *Thread, p *Process) []byte

// procFiles are keyed by path, with "self" standing for any PID.
var procFiles = map[string]procGen{
	"/proc/meminfo":     procMeminfo,
	"/proc/cpuinfo":     procCpuinfo,
	"/proc/mounts":      procMounts,
	"/proc/self/mounts": procMounts,
	"/proc/uptime":      procUptime,
	"/proc/version": func(*Thread, *Process) []byte {
		return []byte("Linux version " + unameRelease + " (yolk) " + unameVersion + "\n")
	},
	"/proc/loadavg":      procLoadavg,
	"/proc/self/maps":    procMaps,
	"/proc/self/cmdline": procCmdline,
	"/proc/self/status":  procStatus,
	"/proc/self/stat":    procStat,
	"/proc/self/comm":    func(t *Thread, p *Process) []byte { return []byte(p.name() + "\n") },
	"/proc/yolk/frames":  procYolkFrames,
}

var procNodes = map[string]*initrd.Node{}

func init() {
	i := 0
	for p := range procFiles {
		procNodes[p] = &initrd.Node{Path: p, Name: path.Base(p), Mode: unix.S_IFREG | 0o444, Nlink: 1, Ino: uint64(0x20000 + i)}
		i++
	}
}

// procPath splits a /proc path into its process and the procFiles key:
// /proc/self/x and /proc/PID/x name a process, other paths none.
func (t *Thread) procPath(p string) (*Process, string, bool) {
	rest, ok := strings.CutPrefix(p, "/proc/")
	if !ok {
		return nil, p, true
	}
	id, file, ok := strings.Cut(rest, "/")
	if !ok {
		return nil, p, true
	}
	if id == "self" {
		return t.p, p, true
	}
	pid := 0
	for _, c := range id {
		if c < '0' || c > '9' || pid > maxPID {
			return nil, p, true
		}
		pid = pid*10 + int(c-'0')
	}
	s := t.p.sys
	s.mu.Lock()
	q, ok := s.procs[int32(pid)]
	s.mu.Unlock()
	if !ok || q.state != procLive {
		return nil, "", false
	}
	return q, "/proc/self/" + file, true
}

// procNode returns the /proc entry for p (relative to cwd).
func (t *Thread) procNode(cwd, p string) (*initrd.Node, bool) {
	if !path.IsAbs(p) {
		p = path.Join(cwd, p)
	}
	p = path.Clean(p)
	_, key, ok := t.procPath(p)
	if !ok {
		return nil, false
	}
	n, ok := procNodes[key]
	if !ok {
		return nil, false
	}
	if key != p {
		nn := *n
		nn.Path, nn.Name = p, path.Base(p)
		return &nn, true
	}
	return n, true
}

// openProc returns the content of a /proc node as an open file.
func (t *Thread) openProc(n *initrd.Node) (File, bool) {
	q, key, ok := t.procPath(n.Path)
	if !ok {
		return nil, false
	}
	gen, ok := procFiles[key]
	if !ok || procNodes[key] == nil || procNodes[key].Ino != n.Ino {
		return nil, false
	}
	if q == nil {
		q = t.p
	}
	data := gen(t, q)
	nn := *n
	nn.Data, nn.Size = data, int64(len(data))
	return &regular{node: &nn}, true
}

func procMeminfo(t *Thread, _ *Process) []byte {
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

func procCpuinfo(t *Thread, _ *Process) []byte {
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

func procMounts(*Thread, *Process) []byte { return []byte("initrd / rootfs ro 0 0\n") }

func procUptime(t *Thread, _ *Process) []byte {
	ns := t.p.m.Monotonic()
	return []byte(fmt.Sprintf("%d.%02d 0.00\n", ns/1e9, ns%1e9/1e7))
}

func procLoadavg(t *Thread, _ *Process) []byte {
	s := t.p.sys
	s.mu.Lock()
	n, last := len(s.threads), s.lastID
	s.mu.Unlock()
	return []byte(fmt.Sprintf("0.00 0.00 0.00 1/%d %d\n", n, last))
}

func procCmdline(t *Thread, p *Process) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b []byte
	for _, a := range p.argv {
		b = append(append(b, a...), 0)
	}
	return b
}

// procIDs returns a process's parent PID, group and session.
func (p *Process) procIDs() (ppid, pgid, sid int32) {
	p.sys.mu.Lock()
	defer p.sys.mu.Unlock()
	if p.parent != nil {
		ppid = p.parent.pid
	}
	return ppid, p.pgid, p.sid
}

func procStatus(t *Thread, p *Process) []byte {
	ppid, _, _ := p.procIDs()
	p.mu.Lock()
	n := len(p.threads)
	comm := p.comm
	c := p.cred
	p.mu.Unlock()
	return []byte(fmt.Sprintf("Name:\t%s\nState:\tR (running)\nTgid:\t%d\nPid:\t%d\nPPid:\t%d\nUid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\nThreads:\t%d\n",
		comm, p.pid, p.pid, ppid, c.ruid, c.euid, c.suid, c.fsuid, c.rgid, c.egid, c.sgid, c.fsgid, n))
}

// frameCounter is implemented by machines that count the frames program
// memory uses (kernel.Machine): page tables and pages of every process.
type frameCounter interface {
	UserFrames() uint64
}

// procYolkFrames is /proc/yolk/frames, a yolk file (not in Linux): the
// frames program address spaces hold, exact, so that tests can check that
// processes give back all their memory.
func procYolkFrames(t *Thread, _ *Process) []byte {
	fc, ok := t.p.m.(frameCounter)
	if !ok {
		return []byte("user 0\n")
	}
	return []byte(fmt.Sprintf("user %d\n", fc.UserFrames()))
}

// procStat is /proc/PID/stat's first fields (state R, times 0).
func procStat(t *Thread, p *Process) []byte {
	ppid, pgid, sid := p.procIDs()
	p.mu.Lock()
	n := len(p.threads)
	comm := p.comm
	p.mu.Unlock()
	return []byte(fmt.Sprintf("%d (%s) R %d %d %d 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 %d 0 0 0 0\n",
		p.pid, comm, ppid, pgid, sid, n))
}

// procMaps lists the process's mappings in /proc/PID/maps' format.
func procMaps(t *Thread, p *Process) []byte {
	mem := p.memory()
	if mem == nil {
		return nil
	}
	var b bytes.Buffer
	for _, m := range mem.as.VMAs() {
		perm := []byte("---p")
		if m.Prot&unix.PROT_READ != 0 {
			perm[0] = 'r'
		}
		if m.Prot&unix.PROT_WRITE != 0 {
			perm[1] = 'w'
		}
		if m.Prot&unix.PROT_EXEC != 0 {
			perm[2] = 'x'
		}
		if m.Shared {
			perm[3] = 's'
		}
		line := fmt.Sprintf("%08x-%08x %s %08x 00:00 0", m.Start, m.End, perm, m.Offset)
		if m.Name != "" {
			name := m.Name
			if !strings.HasPrefix(name, "[") {
				name = path.Join("/", name)
			}
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
	le(16, t.p.sys.rootSize/4096+1) // f_blocks
	le(40, files)                   // f_files
	le(64, 255)                     // f_namelen
	le(72, 4096)                    // f_frsize
	le(80, unix.ST_RDONLY)          // f_flags
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
