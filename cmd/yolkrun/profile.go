package main

import (
	"bufio"
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/pprof/profile"

	"yolk/linux/sysno"
)

// The sampling profiler's host side (--profile FILE). The kernel sends
// text records on the profile stream (syscallshim/profile.go has the
// format): the period, the file mappings samples fall in, and samples as
// program counters. The runner names them with the ELF files' symbols
// (and DWARF line tables where a file has them), found on the host at the
// paths the guest saw them (the runner built the root from the host), and
// writes a pprof profile, gzipped protobuf, with
// github.com/google/pprof/profile: the format's own library, so `go tool
// pprof` reads what it writes. Kernel time on the program's behalf is a
// "[kernel] syscall NAME" frame (or "[kernel] page fault") on top of the
// program's stack at the call, and the kernel's own frames where it was
// (named from the kernel's ELF file, -k) on top of that.

// profCollector gathers the records as they arrive.
type profCollector struct {
	mu      sync.Mutex
	partial []byte // a record not yet ended by '\n'
	period  int64
	dropped int64
	cost    []int64                // C record: tick ns, ticks, drain ns, run ns
	maps    map[int][]*profMapping // per pid, newest last
	samples []profSample
	bad     int // malformed records
	start   time.Time
	kernel  string // the kernel's ELF file on the host, for kernel frames
}

type profMapping struct {
	pid                 int
	start, end, offset  uint64
	bias                uint64 // with biased: address - bias is the file's address (E records)
	biased              bool
	path                string
	m                   *profile.Mapping
	sym                 *symFile
	symbolized, missing bool
}

type profSample struct {
	pid  int
	kind byte
	nr   uint64
	pcs  []uint64
	maps []*profMapping // per pc: the mapping it fell in when sampled, or nil
	kpcs []uint64       // the kernel's frames, leaf first
}

// costComment starts the profile comment that gives the profiler's own
// cost, in guest time: ns sampling in the timer interrupt, interrupts,
// ns draining, ns of the run; make bench reads it.
const costComment = "yolk profiler cost:"

// rawProfile gets the records as they come when $YOLK_PROFILE_RAW names
// a file (for debugging the profiler).
var rawProfile io.Writer

func newProfCollector(kernel string) *profCollector {
	if p := os.Getenv("YOLK_PROFILE_RAW"); p != "" {
		if f, err := os.Create(p); err == nil {
			rawProfile = f
		}
	}
	return &profCollector{maps: map[int][]*profMapping{}, start: time.Now(), kernel: kernel}
}

// Write takes a piece of the profile stream.
func (c *profCollector) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.partial = append(c.partial, p...)
	for {
		i := bytes.IndexByte(c.partial, '\n')
		if i < 0 {
			break
		}
		c.record(string(c.partial[:i]))
		c.partial = c.partial[i+1:]
	}
	return len(p), nil
}

func (c *profCollector) record(line string) {
	if rawProfile != nil {
		fmt.Fprintln(rawProfile, line)
	}
	f := strings.Fields(line)
	if len(f) == 0 {
		return
	}
	num := func(s string, base int) uint64 {
		v, err := strconv.ParseUint(s, base, 64)
		if err != nil {
			c.bad++
		}
		return v
	}
	switch {
	case f[0] == "P" && len(f) == 2:
		c.period = int64(num(f[1], 10))
	case f[0] == "D" && len(f) == 2:
		c.dropped = int64(num(f[1], 10))
	case f[0] == "C" && len(f) == 5:
		c.cost = []int64{int64(num(f[1], 10)), int64(num(f[2], 10)), int64(num(f[3], 10)), int64(num(f[4], 10))}
	case (f[0] == "M" || f[0] == "E") && len(f) >= 6:
		m := &profMapping{pid: int(num(f[1], 10)), start: num(f[2], 16), end: num(f[3], 16),
			path: strings.Join(f[5:], " ")}
		if f[0] == "M" {
			m.offset = num(f[4], 16)
		} else {
			m.bias, m.biased = num(f[4], 16), true
		}
		// A newer mapping replaces older ones it overlaps (exec, munmap).
		old := c.maps[m.pid][:0:0]
		for _, o := range c.maps[m.pid] {
			if o.end <= m.start || o.start >= m.end {
				old = append(old, o)
			}
		}
		c.maps[m.pid] = append(old, m)
	case f[0] == "S" && len(f) >= 4 && len(f[2]) == 1:
		s := profSample{pid: int(num(f[1], 10)), kind: f[2][0], nr: num(f[3], 10)}
		words := f[4:]
		if k := slices.Index(words, "k"); k >= 0 {
			for _, w := range words[k+1:] {
				s.kpcs = append(s.kpcs, num(w, 16))
			}
			words = words[:k]
		}
		for i, w := range words {
			pc := num(w, 16)
			s.pcs = append(s.pcs, pc)
			look := pc
			if i > 0 {
				look-- // a return address
			}
			var in *profMapping
			for _, m := range c.maps[s.pid] {
				if look >= m.start && look < m.end {
					in = m
				}
			}
			s.maps = append(s.maps, in)
		}
		c.samples = append(c.samples, s)
	default:
		c.bad++
	}
}

// profile builds the pprof profile; hostPath finds a guest file on the
// host.
func (c *profCollector) profile(hostPath func(string) string) (*profile.Profile, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.period == 0 {
		return nil, fmt.Errorf("the kernel sent no profile (is it a kernel with the profiler?)")
	}
	p := &profile.Profile{
		SampleType:    []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType:    &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:        c.period,
		TimeNanos:     c.start.UnixNano(),
		DurationNanos: int64(time.Since(c.start)),
	}
	if c.dropped > 0 {
		p.Comments = append(p.Comments, fmt.Sprintf("%d samples lost to a full ring", c.dropped))
	}
	if c.cost != nil && c.cost[3] > 0 {
		p.Comments = append(p.Comments, fmt.Sprintf("%s %d %d %d %d (%.3f%% of the run: %d ns in %d timer interrupts, %d ns draining, of %d ns)",
			costComment, c.cost[0], c.cost[1], c.cost[2], c.cost[3], 100*float64(c.cost[0]+c.cost[2])/float64(c.cost[3]),
			c.cost[0], c.cost[1], c.cost[2], c.cost[3]))
	}
	syms := map[string]*symFile{}
	funcs := map[[2]string]*profile.Function{}
	fn := func(name, file string) *profile.Function {
		k := [2]string{name, file}
		if f := funcs[k]; f != nil {
			return f
		}
		f := &profile.Function{ID: uint64(len(p.Function) + 1), Name: name, SystemName: name, Filename: file}
		p.Function = append(p.Function, f)
		funcs[k] = f
		return f
	}
	mapping := func(m *profMapping) *profile.Mapping {
		if m.m != nil {
			return m.m
		}
		sf, ok := syms[m.path]
		if !ok {
			sf = loadSymbols(hostPath(m.path))
			syms[m.path] = sf
		}
		m.sym = sf
		if m.biased && sf != nil {
			m.offset = sf.fileOffset(m.start - m.bias)
		}
		m.m = &profile.Mapping{ID: uint64(len(p.Mapping) + 1), Start: m.start, Limit: m.end, Offset: m.offset, File: m.path,
			HasFunctions: sf != nil && len(sf.syms) > 0, HasLineNumbers: sf != nil && len(sf.lines) > 0}
		if sf != nil {
			m.m.BuildID = sf.buildID
		}
		p.Mapping = append(p.Mapping, m.m)
		return m.m
	}
	type locKey struct {
		pid   int
		pc    uint64
		m     *profMapping
		frame string
	}
	locs := map[locKey]*profile.Location{}
	loc := func(k locKey, ret bool) *profile.Location {
		if l := locs[k]; l != nil {
			return l
		}
		l := &profile.Location{ID: uint64(len(p.Location) + 1), Address: k.pc}
		switch {
		case k.frame != "":
			l.Address = 0
			l.Line = []profile.Line{{Function: fn(k.frame, "")}}
		case k.m != nil:
			l.Mapping = mapping(k.m)
			look := k.pc
			if ret {
				look--
			}
			if sf := k.m.sym; sf != nil {
				v, ok := look-k.m.bias, k.m.biased
				if !ok {
					v, ok = sf.vaddr(look - k.m.start + k.m.offset)
				}
				if ok {
					if name := sf.name(v); name != "" {
						file, line := sf.line(v)
						l.Line = []profile.Line{{Function: fn(name, file), Line: int64(line)}}
					}
				}
			}
		}
		p.Location = append(p.Location, l)
		locs[k] = l
		return l
	}
	var kernel *profMapping // the kernel's text, once a sample has kernel frames
	for _, s := range c.samples {
		ps := &profile.Sample{Value: []int64{1, c.period}, NumLabel: map[string][]int64{"pid": {int64(s.pid)}}}
		if len(s.kpcs) > 0 && kernel == nil {
			kernel = c.kernelMapping()
		}
		for i, pc := range s.kpcs {
			ps.Location = append(ps.Location, loc(locKey{pc: pc, m: kernel}, i > 0))
		}
		switch s.kind {
		case 's':
			ps.Location = append(ps.Location, loc(locKey{frame: "[kernel] syscall " + sysno.Name(uintptr(s.nr))}, false))
		case 'f':
			ps.Location = append(ps.Location, loc(locKey{frame: "[kernel] page fault"}, false))
		case 't':
			ps.Location = append(ps.Location, loc(locKey{frame: "[kernel] trap"}, false))
		}
		for i, pc := range s.pcs {
			ps.Location = append(ps.Location, loc(locKey{pid: s.pid, pc: pc, m: s.maps[i]}, i > 0))
		}
		p.Sample = append(p.Sample, ps)
	}
	return p, p.CheckValid()
}

// kernelMapping is the kernel's text as a mapping: the kernel runs at the
// addresses its ELF file is linked at (bias 0). Without the file (or its
// text), a mapping that covers every kernel address and names no symbols.
func (c *profCollector) kernelMapping() *profMapping {
	m := &profMapping{pid: -1, start: 1 << 63, end: ^uint64(0), biased: true, path: c.kernel}
	if f, err := elf.Open(c.kernel); err == nil {
		for _, p := range f.Progs {
			if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 {
				m.start, m.end = p.Vaddr, p.Vaddr+p.Memsz
			}
		}
		f.Close()
	}
	if m.path == "" {
		m.path = "[yolk kernel]"
	}
	return m
}

// symFile is what a host ELF file says about its addresses.
type symFile struct {
	base    string   // the file's name, for functions without a symbol
	starts  []uint64 // function starts from .eh_frame_hdr, sorted
	loads   []elf.ProgHeader
	syms    []elf.Symbol // functions, by address
	lines   []lineEntry  // by address
	buildID string
}

type lineEntry struct {
	addr uint64
	file string
	line int
}

// loadSymbols reads the symbols and line table of the ELF file at path
// (nil when it cannot be read). A stripped file's symbols come from its
// separate debug file when the host has one (/usr/lib/debug/.build-id,
// as gdb finds it: Debian's -dbgsym packages install there).
func loadSymbols(path string) *symFile {
	f, err := elf.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	sf := &symFile{buildID: buildID(f), base: filepath.Base(path), starts: ehFrameStarts(f)}
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			sf.loads = append(sf.loads, p.ProgHeader)
		}
	}
	sf.read(f)
	if len(sf.syms) == 0 || len(sf.lines) == 0 {
		if id := sf.buildID; len(id) > 2 {
			if d, err := elf.Open(filepath.Join("/usr/lib/debug/.build-id", id[:2], id[2:]+".debug")); err == nil {
				var dbg symFile
				dbg.read(d)
				d.Close()
				if len(dbg.syms) > len(sf.syms) {
					sf.syms = dbg.syms
				}
				if len(sf.lines) == 0 {
					sf.lines = dbg.lines
				}
			}
		}
	}
	return sf
}

func (sf *symFile) read(f *elf.File) {
	var all []elf.Symbol
	if s, err := f.Symbols(); err == nil {
		all = append(all, s...)
	}
	if s, err := f.DynamicSymbols(); err == nil {
		all = append(all, s...)
	}
	for _, s := range all {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Value != 0 && s.Section != elf.SHN_UNDEF {
			sf.syms = append(sf.syms, s)
		}
	}
	sort.SliceStable(sf.syms, func(i, j int) bool { return sf.syms[i].Value < sf.syms[j].Value })
	d, err := f.DWARF()
	if err != nil {
		return
	}
	r := d.Reader()
	for {
		cu, err := r.Next()
		if err != nil || cu == nil {
			break
		}
		if cu.Tag != dwarf.TagCompileUnit {
			r.SkipChildren()
			continue
		}
		lr, err := d.LineReader(cu)
		r.SkipChildren()
		if err != nil || lr == nil {
			continue
		}
		var e dwarf.LineEntry
		for lr.Next(&e) == nil {
			if e.File != nil && !e.EndSequence {
				sf.lines = append(sf.lines, lineEntry{e.Address, e.File.Name, e.Line})
			}
		}
	}
	sort.SliceStable(sf.lines, func(i, j int) bool { return sf.lines[i].addr < sf.lines[j].addr })
}

// vaddr turns a file offset into the address the ELF file links it at.
func (sf *symFile) vaddr(off uint64) (uint64, bool) {
	for _, p := range sf.loads {
		if off >= p.Off && off < p.Off+p.Filesz {
			return off - p.Off + p.Vaddr, true
		}
	}
	return 0, false
}

// fileOffset is the file offset of address v (0 outside the file).
func (sf *symFile) fileOffset(v uint64) uint64 {
	for _, p := range sf.loads {
		if v >= p.Vaddr && v < p.Vaddr+p.Filesz {
			return v - p.Vaddr + p.Off
		}
	}
	return 0
}

// name is the function holding v: its symbol, else (a stripped file)
// "FILE+0xSTART" with the start of the function from the unwind table,
// so that a stripped program's samples still add up per function.
func (sf *symFile) name(v uint64) string {
	i := sort.Search(len(sf.syms), func(i int) bool { return sf.syms[i].Value > v }) - 1
	if i >= 0 {
		if s := sf.syms[i]; s.Size == 0 || v < s.Value+s.Size {
			return s.Name
		}
	}
	j := sort.Search(len(sf.starts), func(j int) bool { return sf.starts[j] > v }) - 1
	if j < 0 {
		return ""
	}
	return fmt.Sprintf("%s+%#x", sf.base, sf.starts[j])
}

// ehFrameStarts reads the function starts from .eh_frame_hdr's binary
// search table (LSB 5.0, "eh_frame_hdr"): every function with unwind
// information, stripped or not. Only the encodings GNU ld writes are
// read (table DW_EH_PE_datarel|sdata4); nil otherwise.
func ehFrameStarts(f *elf.File) []uint64 {
	sec := f.Section(".eh_frame_hdr")
	if sec == nil {
		return nil
	}
	b, err := sec.Data()
	if err != nil || len(b) < 12 || b[0] != 1 {
		return nil
	}
	const pcrelSdata4, udata4, datarelSdata4 = 0x1b, 0x03, 0x3b
	if b[1] != pcrelSdata4 || b[2] != udata4 || b[3] != datarelSdata4 {
		return nil
	}
	n := uint64(f.ByteOrder.Uint32(b[8:]))
	if n > uint64(len(b)-12)/8 {
		return nil
	}
	starts := make([]uint64, 0, n)
	for i := uint64(0); i < n; i++ {
		off := int32(f.ByteOrder.Uint32(b[12+8*i:]))
		starts = append(starts, uint64(int64(sec.Addr)+int64(off)))
	}
	slices.Sort(starts)
	return starts
}

// line is the source line of v ("", 0 without line information).
func (sf *symFile) line(v uint64) (string, int) {
	i := sort.Search(len(sf.lines), func(i int) bool { return sf.lines[i].addr > v }) - 1
	if i < 0 {
		return "", 0
	}
	return sf.lines[i].file, sf.lines[i].line
}

// buildID is the GNU build ID in hex ("" without one).
func buildID(f *elf.File) string {
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		b, err := io.ReadAll(p.Open())
		if err != nil {
			continue
		}
		for len(b) >= 12 {
			nsz, dsz, typ := f.ByteOrder.Uint32(b), f.ByteOrder.Uint32(b[4:]), f.ByteOrder.Uint32(b[8:])
			nEnd := 12 + (nsz+3)&^3
			dEnd := nEnd + (dsz+3)&^3
			if uint64(dEnd) > uint64(len(b)) {
				break
			}
			if typ == 3 && nsz == 4 && string(b[12:15]) == "GNU" { // NT_GNU_BUILD_ID
				return hex.EncodeToString(b[nEnd : nEnd+dsz])
			}
			b = b[dEnd:]
		}
	}
	return ""
}

// writeProfile writes the collected profile to path.
func (s *setup) writeProfile(c *profCollector, path string) error {
	p, err := c.profile(s.hostPath)
	if err != nil {
		return fmt.Errorf("--profile: %v", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--profile: %v", err)
	}
	w := bufio.NewWriter(f)
	if err := p.Write(w); err != nil {
		f.Close()
		return fmt.Errorf("--profile: %v", err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("--profile: %v", err)
	}
	return f.Close()
}

// hostPath is the host file a guest path names: the program file for a
// raw program initrd, else the file under the root directory the guest's
// root was made from (-i DIR, a dynamic program's root, -R), else under
// a shared volume, else the same path on the host.
func (s *setup) hostPath(guest string) string {
	if st, err := os.Stat(s.initrd); err == nil && st.Mode().IsRegular() && isELF(s.initrd) {
		if guest == "/"+filepath.Base(s.initrd) || guest == s.initPath() {
			return s.initrd
		}
	}
	for _, dir := range []string{s.o.initrd, s.o.rootDir} {
		if st, err := os.Stat(dir); dir != "" && err == nil && st.IsDir() {
			if p := filepath.Join(dir, guest); isFile(p) {
				return p
			}
		}
	}
	for _, v := range s.o.volumes {
		if rest, ok := strings.CutPrefix(guest, strings.TrimSuffix(v.guest, "/")+"/"); ok {
			if p := filepath.Join(v.host, rest); isFile(p) {
				return p
			}
		}
	}
	return guest
}

// initPath is the init= word the runner or -o gave ("" for none).
func (s *setup) initPath() string {
	for _, w := range append(strings.Fields(s.o.kopts), s.extra...) {
		if v, ok := strings.CutPrefix(w, "init="); ok {
			return v
		}
	}
	return ""
}
