package trappath

import (
	"bytes"
	"debug/elf"
	"debug/gosym"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

// This file is the call-graph walker; trappath_test.go applies it to the
// kernel, selfcheck_test.go proves it catches what it must.

// Verdicts for runtime functions. The walker does not descend into any of
// them.
type verdict int

const (
	walk      verdict = iota // analyse like any other function
	forbidden                // reaching it fails the test
	warning                  // a compiler-inserted abort: reported, tolerated
	stackEdge                // the prologue's stack-growth call (see below)
)

// forbiddenFuncs are the runtime functions the trap path must not reach:
// they allocate, run write barriers, need an M, P or a real g, or park.
// A name ending in "*" is a prefix.
var forbiddenFuncs = []string{
	// Allocation.
	"runtime.mallocgc*", "runtime.newobject", "runtime.newarray", "runtime.makeslice*",
	"runtime.growslice", "runtime.makemap*", "runtime.mapassign*", "runtime.convT*",
	"runtime.concatstring*", "runtime.slicebytetostring", "runtime.slicerunetostring",
	"runtime.stringtoslice*", "runtime.rawstring*", "runtime.rawbyteslice", "runtime.rawruneslice",
	"runtime.intstring", "runtime.makechan*", "runtime.newproc*", "runtime.deferproc*",
	"runtime.printlock", // needs getg().m
	// Write barriers.
	"runtime.gcWriteBarrier*", "runtime.wbBuf*", "runtime.wbZero", "runtime.wbMove",
	"runtime.typedmemmove", "runtime.typedmemclr", "runtime.typedslicecopy", "runtime.memclrHasPointers",
	"runtime.bulkBarrier*", "runtime.reflect_typedmemmove", "runtime.gcmarknewobject",
	// Scheduler, locks, stack switches: they need an M and a real g.
	"runtime.gopark*", "runtime.goready", "runtime.park_m", "runtime.mcall", "runtime.systemstack*",
	"runtime.lock", "runtime.lock2", "runtime.lockWithRank", "runtime.unlock", "runtime.unlock2",
	"runtime.unlockWithRank", "runtime.notesleep", "runtime.notewakeup", "runtime.semacquire*",
	"runtime.semrelease*", "runtime.chansend*", "runtime.chanrecv*", "runtime.selectgo",
	"runtime.Gosched", "runtime.gosched*", "runtime.newstack", "runtime.entersyscall*",
	"runtime.exitsyscall*", "runtime.acquirem", "runtime.releasem",
	// Panics that are not compiler-inserted checks: an explicit panic,
	// a failed type assertion, recover.
	"runtime.gopanic", "runtime.gorecover", "runtime.panicdottype*",
	"runtime.assertE2I", "runtime.typeAssert", "runtime.interfaceSwitch",
}

// warningFuncs are aborts the compiler inserts for checks it could not
// prove away (bounds, nil, division, shifts) and the runtime's own
// fatal errors. They are tolerable only where the check cannot fail; the
// test lists each call site so that a reviewer can see them.
var warningFuncs = []string{
	"runtime.panicIndex*", "runtime.panicSlice*", "runtime.panicBounds*", "runtime.panicExtend*",
	"runtime.goPanicIndex*", "runtime.goPanicSlice*", "runtime.panicdivide", "runtime.panicshift",
	"runtime.panicoverflow", "runtime.panicmem*", "runtime.panicnildottype", "runtime.panicunsafe*",
	"runtime.panicrangestate", "runtime.throw", "runtime.fatal",
	// The compiler's (*T).M wrapper for a value method, called with a
	// nil *T (never, for the zero-size frame sources).
	"runtime.panicwrap",
}

// stackFuncs are called from every splittable function's prologue when the
// stack is below the guard. On the trap stack that is an overflow of the
// fake g's 64 KiB stack: fatal, but not a property of any one path, so
// these edges are not followed nor reported.
var stackFuncs = []string{"runtime.morestack", "runtime.morestack_noctxt"}

func classify(name string) verdict {
	name = strings.TrimSuffix(name, ".abi0")
	match := func(pats []string) bool {
		for _, p := range pats {
			if pre, ok := strings.CutSuffix(p, "*"); ok && strings.HasPrefix(name, pre) || name == p {
				return true
			}
		}
		return false
	}
	switch {
	case match(stackFuncs):
		return stackEdge
	case match(forbiddenFuncs):
		return forbidden
	case match(warningFuncs):
		return warning
	}
	return walk
}

// fn is a function symbol of the binary.
type fn struct {
	name       string
	addr, size uint64
}

// image is an amd64 ELF executable's text, symbols and line table.
type image struct {
	funcs  []fn // by address
	byName map[string]*fn
	text   *elf.Section
	data   []byte // text's contents
	f      *elf.File
	lines  *gosym.Table // nil if the line table is unreadable
}

func openBinary(path string) (*image, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	b := &image{f: f, byName: map[string]*fn{}}
	b.text = f.Section(".text")
	if b.text == nil {
		return nil, fmt.Errorf("%s: no .text", path)
	}
	if b.data, err = b.text.Data(); err != nil {
		return nil, err
	}
	syms, err := f.Symbols()
	if err != nil {
		return nil, err
	}
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC || s.Value < b.text.Addr || s.Value >= b.text.Addr+b.text.Size {
			continue
		}
		b.funcs = append(b.funcs, fn{s.Name, s.Value, s.Size})
	}
	sort.SliceStable(b.funcs, func(i, j int) bool { return b.funcs[i].addr < b.funcs[j].addr })
	for i := range b.funcs {
		if _, dup := b.byName[b.funcs[i].name]; !dup {
			b.byName[b.funcs[i].name] = &b.funcs[i]
		}
	}
	if pcln := f.Section(".gopclntab"); pcln != nil {
		if d, err := pcln.Data(); err == nil {
			b.lines, _ = gosym.NewTable(nil, gosym.NewLineTable(d, b.text.Addr))
		}
	}
	return b, nil
}

// at returns the function containing addr.
func (b *image) at(addr uint64) *fn {
	i := sort.Search(len(b.funcs), func(i int) bool { return b.funcs[i].addr > addr }) - 1
	if i < 0 || addr >= b.funcs[i].addr+max(b.funcs[i].size, 1) {
		return nil
	}
	return &b.funcs[i]
}

// pos names addr's source line, for messages.
func (b *image) pos(addr uint64) string {
	if b.lines != nil {
		if file, line, _ := b.lines.PCToLine(addr); file != "" {
			return fmt.Sprintf("%s:%d", shortPath(file), line)
		}
	}
	return fmt.Sprintf("%#x", addr)
}

// shortPath keeps the last two elements of a source path.
func shortPath(p string) string {
	dir, file := filepath.Split(p)
	return filepath.Join(filepath.Base(dir), file)
}

// readAddr reads a little-endian address from any loaded section.
func (b *image) readAddr(addr uint64) (uint64, error) {
	for _, s := range b.f.Sections {
		if s.Type == elf.SHT_NOBITS || addr < s.Addr || addr+8 > s.Addr+s.Size {
			continue
		}
		var buf [8]byte
		if _, err := s.ReadAt(buf[:], int64(addr-s.Addr)); err != nil {
			return 0, err
		}
		return binary.LittleEndian.Uint64(buf[:]), nil
	}
	return 0, fmt.Errorf("address %#x is in no section with contents", addr)
}

// targets resolves a target in the indirect table: a function's symbol
// name, or "itab:" and an interface's name for every method of every
// itab the linker emitted for that interface (each concrete type
// converted to it at compile time).
func (b *image) targets(spec string) ([]*fn, error) {
	iface, ok := strings.CutPrefix(spec, "itab:")
	if !ok {
		if f := b.byName[spec]; f != nil {
			return []*fn{f}, nil
		}
		return nil, fmt.Errorf("target %s is not in the binary", spec)
	}
	syms, err := b.f.Symbols()
	if err != nil {
		return nil, err
	}
	var out []*fn
	for _, s := range syms {
		if !strings.HasPrefix(s.Name, "go:itab.") || !strings.HasSuffix(s.Name, ","+iface) {
			continue
		}
		// An itab is inter, _type, hash and padding (24 bytes), then one
		// code pointer per method.
		for off := uint64(24); off+8 <= s.Size; off += 8 {
			pc, err := b.readAddr(s.Value + off)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", s.Name, err)
			}
			f := b.at(pc)
			if f == nil || f.addr != pc {
				return nil, fmt.Errorf("%s+%d = %#x is not a function's start", s.Name, off, pc)
			}
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no itab for interface %s in the binary", iface)
	}
	return out, nil
}

// site is one branch or call out of a function.
type site struct {
	pc     uint64
	target *fn // nil for an indirect call or jump
	inst   string
}

// calls decodes f and returns its calls and jumps out of f. Branches
// within f are internal control flow.
//
// It also returns f's frame: the bytes f's prologue pushes or subtracts
// from SP before its first call or return, plus the return address.
func (b *image) calls(f *fn) ([]site, int, error) {
	code := b.data[f.addr-b.text.Addr : f.addr-b.text.Addr+f.size]
	var out []site
	frame, prologue := 8, true
	for off := 0; off < len(code); {
		pc := f.addr + uint64(off)
		inst, err := x86asm.Decode(code[off:], 64)
		if err != nil {
			return nil, 0, fmt.Errorf("%s+%#x: %v", f.name, off, err)
		}
		off += inst.Len
		switch {
		case !prologue:
		case inst.Op == x86asm.CALL || inst.Op == x86asm.RET:
			prologue = false
		case inst.Op == x86asm.PUSH:
			frame += 8
		case inst.Op == x86asm.SUB && inst.Args[0] == x86asm.RSP:
			if imm, ok := inst.Args[1].(x86asm.Imm); ok {
				frame += int(imm)
			}
		}
		if !isBranch(inst.Op) {
			continue
		}
		switch a := inst.Args[0].(type) {
		case x86asm.Rel:
			to := uint64(int64(pc) + int64(inst.Len) + int64(a))
			if to >= f.addr && to < f.addr+f.size {
				continue
			}
			t := b.at(to)
			if t == nil {
				return nil, 0, fmt.Errorf("%s at %s: branch to %#x, in no function", f.name, b.pos(pc), to)
			}
			out = append(out, site{pc, t, inst.String()})
		case x86asm.Reg, x86asm.Mem:
			out = append(out, site{pc, nil, x86asm.GoSyntax(inst, pc, nil)})
		}
	}
	return out, frame, nil
}

func isBranch(op x86asm.Op) bool {
	switch op {
	case x86asm.CALL, x86asm.JMP, x86asm.LCALL, x86asm.LJMP,
		x86asm.JA, x86asm.JAE, x86asm.JB, x86asm.JBE, x86asm.JCXZ, x86asm.JE, x86asm.JECXZ,
		x86asm.JG, x86asm.JGE, x86asm.JL, x86asm.JLE, x86asm.JNE, x86asm.JNO, x86asm.JNP,
		x86asm.JNS, x86asm.JO, x86asm.JP, x86asm.JRCXZ, x86asm.JS:
		return true
	}
	return false
}

// indirect describes the calls and jumps through registers or memory in
// one function: how many there are (so that a new one is noticed) and
// where they can go.
type indirect struct {
	sites   int
	targets []string
	why     string
}

// finding is a reached function the test reports, with the path to it.
type finding struct {
	what  string // the forbidden or warning function, or a description
	chain string
}

// result of a walk.
type result struct {
	failures []finding
	warnings []finding
	reached  map[string]bool
	used     map[string]bool // indirect-table entries the walk needed
	callees  map[*fn][]*fn   // the walked edges
	frame    map[*fn]int
}

// stackDepth returns the deepest stack use of a call from root: each
// function's frame (calls() explains what it counts) summed along the
// deepest path of walked edges. A cycle makes it unbounded: cycle then
// names it.
func (res *result) stackDepth(root *fn) (depth int, path []string, cycle []string) {
	type memo struct {
		depth int
		next  *fn
	}
	done := map[*fn]memo{}
	onStack := map[*fn]bool{}
	var stack []*fn
	var visit func(f *fn) int
	visit = func(f *fn) int {
		if m, ok := done[f]; ok {
			return m.depth
		}
		if onStack[f] {
			if cycle == nil {
				for i := len(stack) - 1; i >= 0; i-- {
					cycle = append([]string{stack[i].name}, cycle...)
					if stack[i] == f {
						break
					}
				}
			}
			return 0
		}
		onStack[f] = true
		stack = append(stack, f)
		m := memo{}
		for _, c := range res.callees[f] {
			if d := visit(c); d > m.depth || m.next == nil {
				m = memo{d, c}
			}
		}
		stack = stack[:len(stack)-1]
		onStack[f] = false
		m.depth += res.frame[f]
		done[f] = m
		return m.depth
	}
	depth = visit(root)
	for f := root; f != nil; f = done[f].next {
		path = append(path, fmt.Sprintf("%s (%d)", f.name, res.frame[f]))
	}
	return depth, path, cycle
}

// walkFrom explores everything reachable from roots through direct
// branches and, for functions listed in table, their indirect targets.
func (b *image) walkFrom(roots []*fn, table map[string]indirect) (*result, error) {
	type edge struct {
		from *fn
		pc   uint64
	}
	parent := map[*fn]edge{}
	res := &result{reached: map[string]bool{}, used: map[string]bool{}, callees: map[*fn][]*fn{}, frame: map[*fn]int{}}
	chain := func(f *fn, pc uint64, last string) string {
		var parts []string
		if last != "" {
			parts = append(parts, last)
		}
		for {
			parts = append(parts, fmt.Sprintf("%s (at %s)", f.name, b.pos(pc)))
			e, ok := parent[f]
			if !ok || e.from == nil {
				break
			}
			f, pc = e.from, e.pc
		}
		for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
			parts[i], parts[j] = parts[j], parts[i]
		}
		return strings.Join(parts, "\n    -> ")
	}
	var queue []*fn
	for _, r := range roots {
		if _, ok := parent[r]; !ok {
			parent[r] = edge{}
			queue = append(queue, r)
		}
	}
	seenWarn := map[uint64]bool{}
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		res.reached[f.name] = true
		sites, frame, err := b.calls(f)
		if err != nil {
			return nil, err
		}
		res.frame[f] = frame
		var ind []site
		follow := func(t *fn, pc uint64) {
			switch classify(t.name) {
			case forbidden:
				res.failures = append(res.failures, finding{"reaches " + t.name, chain(f, pc, t.name)})
			case warning:
				if !seenWarn[pc] {
					seenWarn[pc] = true
					res.warnings = append(res.warnings, finding{t.name, fmt.Sprintf("%s: %s calls %s", b.pos(pc), f.name, t.name)})
				}
			case walk:
				res.callees[f] = append(res.callees[f], t)
				if _, ok := parent[t]; !ok {
					parent[t] = edge{f, pc}
					queue = append(queue, t)
				}
			}
		}
		for _, s := range sites {
			if s.target == nil {
				ind = append(ind, s)
				continue
			}
			follow(s.target, s.pc)
		}
		if len(ind) == 0 {
			continue
		}
		e, ok := table[f.name]
		if !ok || e.sites != len(ind) {
			var list []string
			for _, s := range ind {
				list = append(list, fmt.Sprintf("%s at %s", s.inst, b.pos(s.pc)))
			}
			msg := fmt.Sprintf("has %d indirect call(s) not in the indirect table", len(ind))
			if ok {
				msg = fmt.Sprintf("has %d indirect call(s) where the indirect table says %d", len(ind), e.sites)
			}
			res.failures = append(res.failures, finding{
				f.name + " " + msg,
				chain(f, ind[0].pc, "") + "\n  sites: " + strings.Join(list, "; "),
			})
			if !ok {
				continue
			}
		}
		res.used[f.name] = true
		for _, spec := range e.targets {
			ts, err := b.targets(spec)
			if err != nil {
				return nil, fmt.Errorf("indirect table entry %s: %v", f.name, err)
			}
			for _, t := range ts {
				follow(t, ind[0].pc)
			}
		}
	}
	return res, nil
}

// buildGo builds pkg (a path relative to dir) for linux/amd64 into out.
func buildGo(t *testing.T, dir, out, pkg string, ldflags string) {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command on PATH: %v", err)
	}
	args := []string{"build", "-o", out}
	if ldflags != "" {
		args = append(args, "-ldflags", ldflags)
	}
	cmd := exec.Command(gobin, append(args, pkg)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(cmd.Args[1:], " "), err, stderr.String())
	}
}

// makeVar returns the Makefile's value of name, expanding $(VAR)
// references to other simple assignments.
func makeVar(t *testing.T, makefile []byte, name string) string {
	t.Helper()
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^([A-Za-z_][A-Za-z0-9_]*)\s*:?=\s*(.*)$`).FindAllSubmatch(makefile, -1) {
		vars[string(m[1])] = strings.TrimSpace(string(m[2]))
	}
	ref := regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)
	var expand func(string, int) string
	expand = func(s string, depth int) string {
		if depth > 10 {
			t.Fatalf("Makefile: %s expands too deep", name)
		}
		return ref.ReplaceAllStringFunc(s, func(r string) string {
			v, ok := vars[r[2:len(r)-1]]
			if !ok {
				t.Fatalf("Makefile: %s refers to %s, which is not a simple variable", name, r)
			}
			return expand(v, depth+1)
		})
	}
	v, ok := vars[name]
	if !ok {
		t.Fatalf("Makefile: no variable %s", name)
	}
	return expand(v, 0)
}
