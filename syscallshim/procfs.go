package syscallshim

import (
	"bytes"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"yolk/amd64"
	"yolk/mm"
	"yolk/vfs"
)

// /proc, as a filesystem of the VFS: a few machine-wide files, and a
// directory per live process (stat, status, cmdline, maps, smaps_rollup,
// comm, mounts, mountinfo, the exe, cwd and root links, fd/ with a link
// per open descriptor, and task/ with a directory per thread holding the
// same files, stat and status the thread's own). File contents are made
// when the file is opened. /proc/self
// is resolved by the system call layer before the walk (it names the
// caller, which the VFS does not know): see Thread.procSelf.

type procGen func(s *System, p *Process) []byte

// procFiles are the machine-wide files; procPIDFiles those of each process
// directory.
var (
	procFiles = map[string]procGen{
		"meminfo": procMeminfo,
		"cpuinfo": procCpuinfo,
		"mounts":  procMountsGen,
		"uptime":  procUptime,
		"version": func(*System, *Process) []byte {
			return []byte("Linux version " + unameRelease + " (yolk) " + unameVersion + "\n")
		},
		"loadavg":     procLoadavg,
		"stat":        procStatGen,
		"yolk/frames": procYolkFrames,
		// /proc/sys: what programs read about the kernel's settings.
		"sys/kernel/ostype":         procText("Linux"),
		"sys/kernel/osrelease":      procText(unameRelease),
		"sys/kernel/version":        procText(unameVersion),
		"sys/kernel/hostname":       procText("yolk"),
		"sys/kernel/domainname":     procText("(none)"),
		"sys/kernel/pid_max":        procText(strconv.Itoa(maxPID)),
		"sys/kernel/threads-max":    procText(strconv.Itoa(maxPID / 2)),
		"sys/kernel/ngroups_max":    procText(strconv.Itoa(ngroupsMax)),
		"sys/kernel/cap_last_cap":   procText(strconv.Itoa(capLastCap)),
		"sys/kernel/random/boot_id": procText("6c6f6b79-0000-4000-8000-796f6c6b0000"),
		"sys/vm/overcommit_memory":  procText("0"),
		"sys/vm/max_map_count":      procText("65530"),
		"sys/fs/file-max":           procText("9223372036854775807"),
		"sys/fs/nr_open":            procText(strconv.Itoa(maxFDs)),
		"sys/net/core/somaxconn":    procText("4096"),
		"filesystems": func(*System, *Process) []byte {
			return []byte("nodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\nnodev\toverlay\nnodev\t9p\n")
		},
	}
	procPIDFiles = map[string]procGen{
		"stat":         procStat,
		"status":       procStatus,
		"cmdline":      procCmdline,
		"maps":         procMaps,
		"smaps_rollup": procSmapsRollup,
		"comm":         func(s *System, p *Process) []byte { return []byte(p.name() + "\n") },
		"mounts":       procMountsGen,
		"mountinfo":    procMountinfo,
		"cgroup":       func(*System, *Process) []byte { return []byte("0::/\n") },
		"environ":      func(*System, *Process) []byte { return nil },
	}
	// procTIDFiles are the files of procPIDFiles that differ under
	// task/TID.
	procTIDFiles = map[string]func(s *System, p *Process, tid int32) []byte{
		"stat":   procThreadStat,
		"status": procThreadStatus,
	}
	procPIDLinks = map[string]func(p *Process) string{
		"exe":  func(p *Process) string { return p.exePath() },
		"cwd":  func(p *Process) string { return p.cwdName() },
		"root": func(p *Process) string { return "/" },
	}
)

// procFS is /proc, or with sys set /sys (machine files only: sysFiles).
type procFS struct {
	sys *System
	dev uint64
	// files are /sys's files (nil for /proc, whose are procFiles and
	// the process directories).
	files map[string]procGen
}

// newSysFS returns a /sys for the CPUs of s's machine.
func newSysFS(s *System) *procFS {
	return &procFS{sys: s, dev: vfs.NewDev(), files: sysFiles(numCPUs(s.m))}
}

func (fs *procFS) Name() string {
	if fs.files != nil {
		return "sysfs"
	}
	return "proc"
}
func (fs *procFS) Root() vfs.Inode { return &procNode{fs: fs, kind: procRoot} }
func (fs *procFS) Statfs() vfs.Statfs {
	if fs.files != nil {
		return vfs.Statfs{Type: unix.SYSFS_MAGIC, Bsize: 4096, Namelen: 255}
	}
	return vfs.Statfs{Type: unix.PROC_SUPER_MAGIC, Bsize: 4096, Namelen: 255}
}

// machineFiles are the files of the root and its subdirectories.
func (fs *procFS) machineFiles() map[string]procGen {
	if fs.files != nil {
		return fs.files
	}
	return procFiles
}

type procKind int

const (
	procRoot    procKind = iota
	procPIDDir           // /proc/PID
	procFDDir            // /proc/PID/fd
	procFile             // a generated file
	procLink             // exe, cwd, root, fd/N
	procSubDir           // a directory of machine files: sys, sys/kernel, yolk ... (name is its path)
	procTaskDir          // /proc/PID/task
)

// procNode is one file of /proc. Nodes are made on each lookup; the VFS
// compares them by value, so equal nodes are the same file.
type procNode struct {
	vfs.ReadOnly
	fs   *procFS
	kind procKind
	p    *Process // nil in the root
	tid  int32    // under /proc/PID/task/TID: the thread; 0 above
	name string   // file or link name (the descriptor number under fd/)
}

func (n *procNode) ino() uint64 {
	h := uint64(0)
	for _, c := range n.name {
		h = h*31 + uint64(c)
	}
	pid := uint64(0)
	if n.p != nil {
		pid = uint64(n.p.pid)
	}
	if n.tid != 0 {
		pid = uint64(n.tid) | 1<<38
	}
	return pid<<24 | uint64(n.kind)<<20 | h&0xfffff
}

func (n *procNode) Stat() vfs.Stat {
	now := vfs.Now()
	st := vfs.Stat{Dev: n.fs.dev, Ino: n.ino(), Nlink: 1, Blksize: 4096, Atime: now, Mtime: now, Ctime: now, Btime: now}
	switch n.kind {
	case procRoot, procPIDDir, procFDDir, procSubDir, procTaskDir:
		st.Mode, st.Nlink = unix.S_IFDIR|0o555, 2
	case procFile:
		st.Mode = unix.S_IFREG | 0o444
	case procLink:
		st.Mode = unix.S_IFLNK | 0o777
		if n.kind == procLink && n.p != nil && n.name != "" && n.name[0] >= '0' && n.name[0] <= '9' {
			st.Mode = unix.S_IFLNK | 0o700
		}
	}
	if n.p != nil {
		n.p.mu.Lock()
		st.UID, st.GID = n.p.cred.euid, n.p.cred.egid
		n.p.mu.Unlock()
	}
	return st
}

func (n *procNode) Readlink() (string, error) {
	if n.kind != procLink {
		return "", unix.EINVAL
	}
	if fd, err := strconv.Atoi(n.name); err == nil {
		return n.p.fdTarget(fd)
	}
	return procPIDLinks[n.name](n.p), nil
}

func (n *procNode) Lookup(name string) (vfs.Inode, error) {
	switch n.kind {
	case procRoot:
		if c := n.fileOrDir(name); c != nil {
			return c, nil
		}
		if n.fs.files != nil {
			break // /sys
		}
		if p := n.fs.sys.liveProcess(name); p != nil {
			return &procNode{fs: n.fs, kind: procPIDDir, p: p}, nil
		}
	case procSubDir:
		if c := n.fileOrDir(n.name + "/" + name); c != nil {
			return c, nil
		}
	case procPIDDir:
		if _, ok := procPIDFiles[name]; ok {
			return &procNode{fs: n.fs, kind: procFile, p: n.p, tid: n.tid, name: name}, nil
		}
		if _, ok := procPIDLinks[name]; ok {
			return &procNode{fs: n.fs, kind: procLink, p: n.p, tid: n.tid, name: name}, nil
		}
		if name == "fd" {
			return &procNode{fs: n.fs, kind: procFDDir, p: n.p, tid: n.tid}, nil
		}
		if name == "task" && n.tid == 0 {
			return &procNode{fs: n.fs, kind: procTaskDir, p: n.p}, nil
		}
	case procTaskDir:
		if tid := n.p.liveThread(name); tid != 0 {
			return &procNode{fs: n.fs, kind: procPIDDir, p: n.p, tid: tid}, nil
		}
	case procFDDir:
		if fd, err := strconv.Atoi(name); err == nil && fd >= 0 {
			if _, err := n.p.fdTarget(fd); err == nil {
				return &procNode{fs: n.fs, kind: procLink, p: n.p, tid: n.tid, name: name}, nil
			}
		}
	default:
		return nil, unix.ENOTDIR
	}
	return nil, unix.ENOENT
}

// Revalidate implements vfs.Revalidator: processes and descriptors come
// and go behind the name cache.
func (n *procNode) Revalidate(name string, child vfs.Inode) bool {
	c, ok := child.(*procNode)
	if !ok {
		return false
	}
	switch {
	case c.kind == procPIDDir && c.tid != 0:
		return c.p.liveThread(name) == c.tid
	case c.kind == procPIDDir:
		return n.fs.sys.liveProcess(name) == c.p
	case n.kind == procFDDir:
		fd, _ := strconv.Atoi(name)
		_, err := c.p.fdTarget(fd)
		return err == nil
	}
	return c.p == nil || c.p.isLive()
}

func (n *procNode) Open(flags int) (vfs.FileImpl, error) {
	switch n.kind {
	case procFile:
		gen := n.fs.machineFiles()[n.name]
		if n.p != nil {
			gen = procPIDFiles[n.name]
		}
		if tgen := procTIDFiles[n.name]; n.tid != 0 && tgen != nil {
			return &procContent{n: n, data: tgen(n.fs.sys, n.p, n.tid)}, nil
		}
		return &procContent{n: n, data: gen(n.fs.sys, n.p)}, nil
	case procRoot, procPIDDir, procFDDir, procSubDir, procTaskDir:
		return &procDir{n: n}, nil
	}
	return nil, unix.ELOOP
}

// procContent is an open /proc file: its content when it was opened.
type procContent struct {
	vfs.FileBase
	n    *procNode
	data []byte
}

func (f *procContent) Read(dst []byte, off int64) (int, error) {
	if off >= int64(len(f.data)) {
		return 0, nil
	}
	return copy(dst, f.data[off:]), nil
}

func (f *procContent) Lseek(cur, off int64, whence int) (int64, error) {
	return vfs.SeekTo(cur, off, whence, int64(len(f.data)))
}

func (f *procContent) Stat() (vfs.Stat, error) { return f.n.Stat(), nil }

// procDir lists a /proc directory.
type procDir struct {
	vfs.FileBase
	n *procNode
}

func (d *procDir) Stat() (vfs.Stat, error) { return d.n.Stat(), nil }

func (d *procDir) Lseek(cur, off int64, whence int) (int64, error) {
	return vfs.SeekTo(cur, off, whence, 0)
}

func (d *procDir) ReadDir(pos int64, emit func(vfs.Dirent) bool) error {
	var names []string
	switch d.n.kind {
	case procRoot:
		names = procChildren(d.n.fs.machineFiles(), "")
		sort.Strings(names)
		if d.n.fs.files != nil {
			break // /sys
		}
		for _, pid := range d.n.fs.sys.livePIDs() {
			names = append(names, strconv.Itoa(int(pid)))
		}
		names = append(names, "self")
	case procPIDDir:
		for name := range procPIDFiles {
			names = append(names, name)
		}
		for name := range procPIDLinks {
			names = append(names, name)
		}
		names = append(names, "fd")
		if d.n.tid == 0 {
			names = append(names, "task")
		}
		sort.Strings(names)
	case procTaskDir:
		for _, tid := range d.n.p.liveTIDs() {
			names = append(names, strconv.Itoa(int(tid)))
		}
	case procFDDir:
		for _, fd := range d.n.p.openFDs() {
			names = append(names, strconv.Itoa(fd))
		}
	case procSubDir:
		names = procChildren(d.n.fs.machineFiles(), d.n.name+"/")
		sort.Strings(names)
	}
	for i, name := range names {
		off := int64(vfs.FirstCookie + i)
		if off <= pos {
			continue
		}
		typ := uint8(unix.DT_REG)
		if c, err := d.n.Lookup(name); err == nil {
			typ = vfs.DirentType(c.Stat().Mode)
		} else if name == "self" {
			typ = unix.DT_LNK
		}
		if !emit(vfs.Dirent{Name: name, Ino: uint64(i + 10), Type: typ, Off: off}) {
			return nil
		}
	}
	return nil
}

// fileOrDir returns the machine file at path (relative to /proc), or the
// directory holding some, or nil.
func (n *procNode) fileOrDir(path string) *procNode {
	files := n.fs.machineFiles()
	if _, ok := files[path]; ok {
		return &procNode{fs: n.fs, kind: procFile, name: path}
	}
	for k := range files {
		if strings.HasPrefix(k, path+"/") {
			return &procNode{fs: n.fs, kind: procSubDir, name: path}
		}
	}
	return nil
}

// procChildren lists the names of files directly under prefix ("" or
// "dir/").
func procChildren(files map[string]procGen, prefix string) []string {
	seen := map[string]bool{}
	var names []string
	for k := range files {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(rest, "/")
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	return names
}

// liveProcess returns the live process whose PID is name.
func (s *System) liveProcess(name string) *Process {
	pid, err := strconv.Atoi(name)
	if err != nil || pid <= 0 || strconv.Itoa(pid) != name {
		return nil
	}
	return s.live(int32(pid))
}

// live returns the live process pid, or nil.
func (s *System) live(pid int32) *Process {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.procs[pid]
	if p == nil || p.state != procLive {
		return nil
	}
	return p
}

func (s *System) livePIDs() []int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var pids []int32
	for pid, p := range s.procs {
		if p.state == procLive {
			pids = append(pids, pid)
		}
	}
	sort.Slice(pids, func(i, j int) bool { return pids[i] < pids[j] })
	return pids
}

// liveThread returns the TID name names if it is one of p's live
// threads, else 0.
func (p *Process) liveThread(name string) int32 {
	tid, err := strconv.Atoi(name)
	if err != nil || tid <= 0 || strconv.Itoa(tid) != name {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.threads[int32(tid)] == nil {
		return 0
	}
	return int32(tid)
}

// liveTIDs lists p's threads in order.
func (p *Process) liveTIDs() []int32 {
	p.mu.Lock()
	var tids []int32
	for tid := range p.threads {
		tids = append(tids, tid)
	}
	p.mu.Unlock()
	sort.Slice(tids, func(i, j int) bool { return tids[i] < tids[j] })
	return tids
}

func (p *Process) isLive() bool {
	p.sys.mu.Lock()
	defer p.sys.mu.Unlock()
	return p.state == procLive
}

func (p *Process) exePath() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return path.Join("/", p.exe)
}

// cwdName is the working directory's path.
func (p *Process) cwdName() string {
	p.mu.Lock()
	cwd := p.cwd
	p.mu.Unlock()
	if cwd.IsZero() || p.sys.vfs == nil {
		return "/"
	}
	name, err := p.sys.vfs.PathName(p.sys.vfs.Root(), cwd)
	if err != nil {
		return "/"
	}
	return name
}

// fdTarget is what /proc/PID/fd/N links to: the file's path, or
// "pipe:[ino]" and the like for files without one.
func (p *Process) fdTarget(n int) (string, error) {
	p.mu.Lock()
	files := p.files
	p.mu.Unlock()
	if files == nil || n < 0 {
		return "", unix.ENOENT
	}
	f, err := files.file(uint64(n))
	if err != nil {
		return "", unix.ENOENT
	}
	return fileName(p.sys, f), nil
}

// fileName names an open file as /proc/PID/fd shows it.
func fileName(s *System, f *vfs.File) string {
	if p := f.Path(); !p.IsZero() && s.vfs != nil {
		if name, err := s.vfs.PathName(s.vfs.Root(), p); err == nil {
			return name
		}
	}
	st, _ := f.Stat()
	switch x := streamOf(f).(type) {
	case *pipeEnd, *fifoRW:
		return fmt.Sprintf("pipe:[%d]", st.Ino)
	case *console:
		return "/dev/console"
	case *stdStream:
		return fmt.Sprintf("pipe:[%d]", st.Ino)
	case *device:
		_ = x
		return "/dev/null"
	}
	return fmt.Sprintf("anon_inode:[%s]", anonName(f))
}

func anonName(f *vfs.File) string {
	switch streamOf(f).(type) {
	case *eventfd:
		return "eventfd"
	case *epoll:
		return "eventpoll"
	case *pidfd:
		return "pidfd"
	}
	return "file"
}

func (p *Process) openFDs() []int {
	p.mu.Lock()
	files := p.files
	p.mu.Unlock()
	if files == nil {
		return nil
	}
	files.mu.Lock()
	defer files.mu.Unlock()
	var out []int
	for i, d := range files.fds {
		if d != nil {
			out = append(out, i)
		}
	}
	return out
}

func procMeminfo(s *System, _ *Process) []byte {
	var total, free uint64
	if s.cfg.MemInfo != nil {
		total, free = s.cfg.MemInfo()
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

// xstateFlags are the /proc/cpuinfo flags of XSAVE and of the instruction
// sets that need its state (AVX, AVX2, AVX-512), listed, as Linux lists
// them, only when the kernel has enabled that state for programs (what
// CPUID's OSXSAVE bit and XGETBV tell the program too). ecx1 is
// CPUID.1:ECX.
func xstateFlags(ecx1 uint32) []string {
	x := amd64.XFeatures()
	if ecx1&(1<<26) == 0 || x == 0 {
		return nil
	}
	var flags []string
	add := func(reg uint32, bit uint, name string, needs uint64) {
		if reg&(1<<bit) != 0 && x&needs == needs {
			flags = append(flags, name)
		}
	}
	const avx, avx512 = amd64.XFeatureAVX, amd64.XFeatureAVX | amd64.XFeatureOpmask | amd64.XFeatureZMMHi256 | amd64.XFeatureHi16ZMM
	add(ecx1, 12, "fma", avx)
	add(ecx1, 26, "xsave", 0)
	add(ecx1, 28, "avx", avx)
	add(ecx1, 29, "f16c", avx)
	if max, _, _, _ := amd64.CPUID(0, 0); max >= 7 {
		_, b7, _, _ := amd64.CPUID(7, 0)
		add(b7, 3, "bmi1", 0)
		add(b7, 5, "avx2", avx)
		add(b7, 8, "bmi2", 0)
		add(b7, 16, "avx512f", avx512)
		add(b7, 17, "avx512dq", avx512)
		add(b7, 28, "avx512cd", avx512)
		add(b7, 30, "avx512bw", avx512)
		add(b7, 31, "avx512vl", avx512)
	}
	a, _, _, _ := amd64.CPUID(0xd, 1)
	add(a, 0, "xsaveopt", 0)
	add(a, 1, "xsavec", 0)
	return flags
}

func procCpuinfo(s *System, _ *Process) []byte {
	one := cpuinfoEntry()
	var b bytes.Buffer
	for i := range numCPUs(s.m) {
		fmt.Fprintf(&b, "processor\t: %d\n%s", i, one)
	}
	return b.Bytes()
}

// cpuinfoEntry is what /proc/cpuinfo says of every CPU after its number
// (they are alike: QEMU gives each the same CPUID).
func cpuinfoEntry() []byte {
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
	flags = append(flags, xstateFlags(c1)...)
	return []byte(fmt.Sprintf("vendor_id\t: %s\ncpu family\t: %d\nmodel\t\t: %d\nmodel name\t: %s\nstepping\t: %d\ncpu cores\t: 1\nflags\t\t: %s\n\n",
		vendor, family, model, strings.TrimRight(strings.TrimSpace(string(brand)), "\x00"), eax&0xf, strings.Join(flags, " ")))
}

func procMountsGen(s *System, _ *Process) []byte {
	var b bytes.Buffer
	for _, m := range s.vfs.Mounts() {
		at := "/"
		if pt := m.Point(); !pt.IsZero() {
			at, _ = s.vfs.PathName(s.vfs.Root(), pt)
		}
		opt := "rw"
		if m.ReadOnly() {
			opt = "ro"
		}
		fmt.Fprintf(&b, "%s %s %s %s 0 0\n", m.Source(), at, m.Filesystem().Name(), opt)
	}
	return b.Bytes()
}

func procMountinfo(s *System, _ *Process) []byte {
	var b bytes.Buffer
	for _, m := range s.vfs.Mounts() {
		at, parent := "/", m.ID()
		if pt := m.Point(); !pt.IsZero() {
			at, _ = s.vfs.PathName(s.vfs.Root(), pt)
			parent = pt.Mount.ID()
		}
		opt := "rw"
		if m.ReadOnly() {
			opt = "ro"
		}
		st := m.Root().Inode().Stat()
		fmt.Fprintf(&b, "%d %d %d:%d / %s %s - %s %s %s\n", m.ID(), parent, unix.Major(st.Dev), unix.Minor(st.Dev),
			at, opt, m.Filesystem().Name(), m.Source(), opt)
	}
	return b.Bytes()
}

func procUptime(s *System, _ *Process) []byte {
	ns := s.m.Monotonic()
	return []byte(fmt.Sprintf("%d.%02d 0.00\n", ns/1e9, ns%1e9/1e7))
}

func procLoadavg(s *System, _ *Process) []byte {
	s.mu.Lock()
	n, last := len(s.threads), s.lastID
	s.mu.Unlock()
	return []byte(fmt.Sprintf("0.00 0.00 0.00 1/%d %d\n", n, last))
}

func procCmdline(s *System, p *Process) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b []byte
	for _, a := range p.argv {
		b = append(append(b, a...), 0)
	}
	return b
}

// procText is a /proc file holding one line.
func procText(s string) procGen {
	return func(*System, *Process) []byte { return []byte(s + "\n") }
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

func procStatus(s *System, p *Process) []byte { return procThreadStatus(s, p, p.pid) }

// procThreadStatus is /proc/PID/task/TID/status: the thread's Pid line.
func procThreadStatus(s *System, p *Process, tid int32) []byte {
	ppid, _, _ := p.procIDs()
	p.mu.Lock()
	n := len(p.threads)
	comm := p.comm
	c := p.cred
	c.groups = append([]uint32(nil), c.groups...)
	umask := p.umask
	p.mu.Unlock()
	var groups strings.Builder
	for _, g := range c.groups {
		fmt.Fprintf(&groups, "%d ", g) // each followed by a blank, as Linux
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "Name:\t%s\nUmask:\t%04o\nState:\tR (running)\nTgid:\t%d\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n"+
		"Uid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\nGroups:\t%s\n",
		comm, umask, p.pid, tid, ppid, c.ruid, c.euid, c.suid, c.fsuid, c.rgid, c.egid, c.sgid, c.fsgid, groups.String())
	if mem := p.memory(); mem != nil {
		// The memory lines as Linux writes them (fs/proc/task_mmu.c
		// task_mem): a name, a tab, the size in kB right-aligned in 8.
		u := mem.as.Usage()
		for _, l := range []struct {
			name string
			v    uint64
		}{{"VmSize", u.Size}, {"VmRSS", u.Rss}, {"RssAnon", u.Anon}, {"RssFile", u.File}, {"RssShmem", u.Shmem}} {
			fmt.Fprintf(&b, "%s:\t%8d kB\n", l.name, l.v>>10)
		}
	}
	caps := capSets(c)
	fmt.Fprintf(&b, "Threads:\t%d\nCapInh:\t%016x\nCapPrm:\t%016x\nCapEff:\t%016x\nCapBnd:\t%016x\nCapAmb:\t%016x\n",
		n, 0, caps, caps, uint64(capAll), 0)
	return b.Bytes()
}

// procSmapsRollup is /proc/PID/smaps_rollup: the process's resident
// memory summed over its mappings, in Linux's format (fs/proc/task_mmu.c
// show_smaps_rollup). yolk has no huge pages, swap or mlock, so those
// lines are 0.
func procSmapsRollup(s *System, p *Process) []byte {
	mem := p.memory()
	if mem == nil {
		return nil
	}
	vmas := mem.as.VMAs()
	if len(vmas) == 0 {
		return nil
	}
	u := mem.as.Usage()
	var b bytes.Buffer
	line := fmt.Sprintf("%08x-%08x ---p 00000000 00:00 0", vmas[0].Start, vmas[len(vmas)-1].End)
	fmt.Fprintf(&b, "%-72s [rollup]\n", line)
	for _, l := range []struct {
		name string
		v    uint64
	}{
		{"Rss", u.Rss}, {"Pss", u.Pss >> mm.PssShift}, {"Pss_Dirty", u.PssDirty >> mm.PssShift},
		{"Pss_Anon", u.PssAnon >> mm.PssShift}, {"Pss_File", u.PssFile >> mm.PssShift}, {"Pss_Shmem", u.PssShmem >> mm.PssShift},
		{"Shared_Clean", u.SharedClean}, {"Shared_Dirty", u.SharedDirty},
		{"Private_Clean", u.PrivateClean}, {"Private_Dirty", u.PrivateDirty},
		{"Referenced", u.Referenced}, {"Anonymous", u.Anon},
		{"LazyFree", 0}, {"AnonHugePages", 0}, {"ShmemPmdMapped", 0}, {"FilePmdMapped", 0},
		{"Shared_Hugetlb", 0}, {"Private_Hugetlb", 0}, {"Swap", 0}, {"SwapPss", 0}, {"Locked", 0},
	} {
		fmt.Fprintf(&b, "%-16s%8d kB\n", l.name+":", l.v>>10)
	}
	return b.Bytes()
}

// procStat is /proc/PID/stat's first fields (state R, times 0).
func procStat(s *System, p *Process) []byte { return procThreadStat(s, p, p.pid) }

// procThreadStat is /proc/PID/task/TID/stat: the thread's ID first.
func procThreadStat(s *System, p *Process, tid int32) []byte {
	ppid, pgid, sid := p.procIDs()
	self, child := p.times(), p.childTimes()
	p.mu.Lock()
	n := len(p.threads)
	comm := p.comm
	if t := p.threads[tid]; t != nil && tid != p.pid {
		self = t.times() // a thread's own under task/
	}
	p.mu.Unlock()
	// utime, stime, cutime and cstime in clock ticks (see getrusage).
	return []byte(fmt.Sprintf("%d (%s) R %d %d %d 0 -1 4194304 0 0 0 0 %d %d %d %d 20 0 %d 0 0 0 0\n",
		tid, comm, ppid, pgid, sid, clockTicks(self.user), clockTicks(self.sys), clockTicks(child.user), clockTicks(child.sys), n))
}

// procMaps lists the process's mappings in /proc/PID/maps' format.
func procMaps(s *System, p *Process) []byte {
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

// frameCounter is implemented by machines that count the frames program
// memory uses (kernel.Machine): page tables and pages of every process.
type frameCounter interface {
	UserFrames() uint64
}

// procYolkFrames is /proc/yolk/frames, a yolk file (not in Linux): the
// frames program address spaces hold, exact, so that tests can check that
// processes give back all their memory.
func procYolkFrames(s *System, _ *Process) []byte {
	fc, ok := s.m.(frameCounter)
	if !ok {
		return []byte("user 0\n")
	}
	return []byte(fmt.Sprintf("user %d\n", fc.UserFrames()))
}
