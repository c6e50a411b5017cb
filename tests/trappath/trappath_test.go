// Package trappath checks that code reachable from the kernel's trap
// handler neither allocates, nor runs write barriers, nor calls into the
// Go scheduler (see package amd64: the trap path runs with interrupts off
// on a trap stack with a fake g and no M or P).
//
// How it works: the test builds the kernel the way the Makefile does
// (GOOS=linux GOARCH=amd64, the Makefile's LDFLAGS) into a temporary
// directory, reads the ELF symbol table and walks the static call graph
// with golang.org/x/arch/x86/x86asm, following every direct CALL, JMP and
// Jcc that leaves a function. The roots are what the hardware is
// programmed with: every entry stub in amd64.vectorTable (the IDT) and
// the address amd64.syscallEntryPC returns (MSR_LSTAR). The walk goes
// through the assembly entry code, amd64.dispatch and amd64.nested, into
// the kernel. It fails, printing the chain of calls from the root, when
// a function in forbiddenFuncs (walk_test.go) is reachable. The
// compiler's bounds, nil-wrapper and division aborts and runtime.throw
// (warningFuncs) are tolerated where the check cannot fail: the test
// logs their count, and go test -v lists each call site.
//
// Indirect calls and jumps (func values, interface methods) cannot be
// resolved from the binary. Every function on the path that has one must
// be listed in indirectCalls below, with the number of indirect sites the
// binary has in it and the functions they can reach; the walk continues
// from those. A function with an unlisted indirect call, or with more or
// fewer sites than listed, fails the test, and so does a listed entry the
// walk no longer needs (so the table stays true).
//
// When the trap path gains an indirect call, the test fails with
// "yolk/pkg.F has N indirect call(s) not in the indirect table" and the
// call sites (file:line; the function named is the one the code is
// compiled into, after inlining). Find every function the call can
// reach — every func value stored into the variable, every type that
// implements the interface and can be behind it on this path — check
// that each is fit for the trap path, and add an entry:
//
//	"yolk/pkg.F": {sites: N, targets: []string{"yolk/pkg.(*T).M"}, why: "..."},
//
// A target is a symbol name of the binary (go tool nm build/kernel.elf),
// or "itab:" and an interface's name, which stands for every method of
// every itab the linker emitted for that interface: a new implementation
// is then walked without a table change. (A type that reaches the
// interface only through a run-time interface-to-interface conversion
// has no static itab: name its methods explicitly.) If the targets
// cannot be known statically, do not add a guess: take the indirect call
// off the trap path.
//
// The test also bounds the stack: the deepest chain of frames from
// amd64.dispatch (and amd64.nested) must fit the trap (emergency) stack
// above the fake g's guard, and the path must not recurse. That is what
// makes the prologues' calls to runtime.morestack, which the walk does
// not follow, unreachable.
//
// Run it alone with: go test -v -run TrapPath ./tests/trappath
package trappath

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

// indirectCalls lists the functions on the trap path that call or jump
// through a register or memory, keyed by symbol name.
var indirectCalls = map[string]indirect{
	"yolk/amd64.dispatch": {sites: 1, targets: []string{"yolk/kernel.trap"},
		why: "trapHandler, set once by kernel.Start (amd64.SetTrapHandler(trap))"},
	"yolk/amd64.nested": {sites: 1, targets: []string{"yolk/kernel.nestedFault"},
		why: "nestedHandler, set once by kernel.Start (amd64.SetNestedHandler(nestedFault))"},

	// AddressSpace.Mem (kernel.PhysMem) and PageTable.Mem
	// (amd64.FrameSource): Alloc, Table and Free of the frame sources.
	"yolk/amd64.(*PageTable).walk":             {sites: 3, targets: []string{"itab:yolk/amd64.FrameSource"}, why: "pt.Mem.Table, pt.Mem.Alloc"},
	"yolk/amd64.(*PageTable).Lookup":           {sites: 2, targets: []string{"itab:yolk/amd64.FrameSource"}, why: "pt.Mem.Table"},
	"yolk/kernel.(*AddressSpace).heldEntry":    {sites: 2, targets: []string{"itab:yolk/kernel.PhysMem"}, why: "as.Mem.Table"},
	"yolk/kernel.(*AddressSpace).skipAbsent":   {sites: 2, targets: []string{"itab:yolk/kernel.PhysMem"}, why: "as.Mem.Table"},
	"yolk/kernel.(*AddressSpace).Resolve":      {sites: 2, targets: []string{"itab:yolk/kernel.PhysMem"}, why: "as.Mem.Alloc, as.Mem.Free"},
	"yolk/kernel.(*AddressSpace).releasePages": {sites: 2, targets: []string{"itab:yolk/kernel.PhysMem", "yolk/kernel.flushPage"}, why: "as.Mem.Free, as.Flush"},
	// AddressSpace.Flush: kernelAS and userAS get flushPage (start.go,
	// user.go); tests leave it nil.
	"yolk/kernel.(*AddressSpace).Protect": {sites: 1, targets: []string{"yolk/kernel.flushPage"}, why: "as.Flush"},
	// The scheduler's thread table gets memory through Scheduler.back,
	// which initThreadTable sets once (tests set their own).
	"yolk/kernel.(*Scheduler).grow": {sites: 1, targets: []string{"yolk/kernel.backThreadTable"}, why: "s.back"},
	// exitHook is declared for boot statistics but nothing sets it yet;
	// whoever sets it adds the function here.
	"yolk/kernel.exitGroup": {sites: 1, targets: nil, why: "exitHook"},
	// mm.FaultFast (the trap handler's demand-zero and copy-on-write path
	// for program memory) reaches frames through mm.Phys (the kernel's
	// userPhys) and drops TLB entries through Config.Flush (flushUser).
	"yolk/mm.(*AddressSpace).faultAnon": {sites: 1, targets: []string{"itab:yolk/mm.Phys"}, why: "as.phys.Alloc"},
	"yolk/mm.(*AddressSpace).slot":      {sites: 1, targets: []string{"itab:yolk/mm.Phys"}, why: "as.phys.Alloc"},
	// Pages and tables through Phys.Page when the space has no direct
	// map (the kernel's have one; the profiler's user stack walk and the
	// fast copy read program memory this way).
	"yolk/mm.(*AddressSpace).page": {sites: 1, targets: []string{"itab:yolk/mm.Phys"}, why: "as.phys.Page"},
	"yolk/mm.(*AddressSpace).breakCOW": {sites: 4, targets: []string{"itab:yolk/mm.Phys", "yolk/kernel.flushUser"},
		why: "as.phys.Refs/Alloc/DecRef, as.cfg.Flush"},
}

func TestTrapPath(t *testing.T) {
	t.Parallel()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(wd, "..", "..")
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	elfPath := filepath.Join(t.TempDir(), "kernel.raw")
	buildGo(t, root, elfPath, "./cmd/kernel", makeVar(t, makefile, "LDFLAGS"))
	b, err := openBinary(elfPath)
	if err != nil {
		t.Fatal(err)
	}
	roots := kernelRoots(t, b)
	res, err := b.walkFrom(roots, indirectCalls)
	if err != nil {
		t.Fatal(err)
	}
	report(t, res, indirectCalls)
	for _, must := range []string{"yolk/amd64.dispatch", "yolk/amd64.nested", "yolk/kernel.trap", "yolk/kernel.nestedFault", "yolk/kernel.runtimeSyscall",
		"yolk/kernel.profTick", "yolk/mm.(*AddressSpace).UserStack"} {
		if !res.reached[must] {
			t.Errorf("the walk did not reach %s: are the roots or the indirect table out of date?", must)
		}
	}
	checkStack(t, b, res, "yolk/amd64.dispatch", "yolk/amd64.trapStack")
	checkStack(t, b, res, "yolk/amd64.nested", "yolk/amd64.emergencyStack")
	t.Logf("%d functions reached from %d roots", len(res.reached), len(roots))
}

// kernelRoots returns the trap path's entry points: the IDT stubs in
// amd64.vectorTable and the SYSCALL entry that amd64.syscallEntryPC
// loads with LEAQ.
func kernelRoots(t *testing.T, b *image) []*fn {
	t.Helper()
	var roots []*fn
	sym := func(name string) *fn {
		f, ok := b.byName[name]
		if !ok {
			t.Fatalf("no symbol %s in the kernel", name)
		}
		return f
	}
	syms, err := b.f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	var table *struct{ addr, size uint64 }
	for _, s := range syms {
		if s.Name == "yolk/amd64.vectorTable" {
			table = &struct{ addr, size uint64 }{s.Value, s.Size}
		}
	}
	if table == nil || table.size != 256*8 {
		t.Fatalf("yolk/amd64.vectorTable missing or not 256 addresses: %+v", table)
	}
	for v := uint64(0); v < 256; v++ {
		pc, err := b.readAddr(table.addr + 8*v)
		if err != nil {
			t.Fatalf("vectorTable[%d]: %v", v, err)
		}
		f := b.at(pc)
		if f == nil || f.addr != pc {
			t.Fatalf("vectorTable[%d] = %#x, not a function's start", v, pc)
		}
		roots = append(roots, f)
	}
	pcFn := sym("yolk/amd64.syscallEntryPC.abi0")
	code := b.data[pcFn.addr-b.text.Addr : pcFn.addr-b.text.Addr+pcFn.size]
	var lstar *fn
	for off := 0; off < len(code) && lstar == nil; {
		inst, err := x86asm.Decode(code[off:], 64)
		if err != nil {
			t.Fatalf("syscallEntryPC+%#x: %v", off, err)
		}
		off += inst.Len
		if m, ok := inst.Args[1].(x86asm.Mem); ok && inst.Op == x86asm.LEA && m.Base == x86asm.RIP {
			// The displacement is 32 bits, sign-extended.
			lstar = b.at(pcFn.addr + uint64(off) + uint64(int64(int32(m.Disp))))
		}
	}
	if lstar == nil || !strings.Contains(lstar.name, "syscallEntry") {
		t.Fatalf("syscallEntryPC does not load the SYSCALL entry's address with LEAQ (found %v)", lstar)
	}
	return append(roots, lstar)
}

// report fails t for every forbidden function reached and every unused
// indirect-table entry, and logs the warnings.
func report(t *testing.T, res *result, table map[string]indirect) {
	t.Helper()
	for _, f := range res.failures {
		t.Errorf("trap path %s:\n    %s", f.what, f.chain)
	}
	for name := range table {
		if !res.used[name] {
			t.Errorf("indirect table lists %s, which the trap path no longer reaches or has no indirect call in: remove the entry", name)
		}
	}
	var warn []string
	for _, w := range res.warnings {
		warn = append(warn, w.chain)
	}
	sort.Strings(warn)
	if !testing.Verbose() {
		t.Logf("warning: %d compiler-inserted checks on the trap path can abort (go test -v lists them)", len(warn))
		return
	}
	t.Logf("warning: %d compiler-inserted checks on the trap path can abort (tolerated where the check cannot fail):\n    %s",
		len(warn), strings.Join(warn, "\n    "))
}

// stackGuard is amd64.stackGuard: the fake g's stackguard0 sits this far
// above the stack's low end, and a prologue below it calls morestack,
// which is fatal without an M.
const stackGuard = 2048

// checkStack fails t when the deepest call chain from entry (the Go
// function the assembly calls on a fresh stack) could pass the guard of
// the stack in the ELF symbol stackSym, or when that chain can recurse.
// The walker does not follow the prologues' calls to morestack; this is
// what makes them unreachable.
func checkStack(t *testing.T, b *image, res *result, entry, stackSym string) {
	t.Helper()
	f := b.byName[entry]
	if f == nil {
		t.Fatalf("no %s in the kernel", entry)
	}
	syms, err := b.f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	size := -1
	for _, s := range syms {
		if s.Name == stackSym {
			size = int(s.Size)
		}
	}
	if size < 0 {
		t.Fatalf("no %s in the kernel", stackSym)
	}
	depth, path, cycle := res.stackDepth(f)
	if cycle != nil {
		t.Errorf("recursion on the trap path from %s: the stack depth has no bound:\n    %s",
			entry, strings.Join(append(cycle, cycle[0]), "\n    -> "))
		return
	}
	// Leave room for the nosplit runtime functions and the compiler's
	// aborts the walk does not follow.
	if limit := size - stackGuard; depth > limit {
		t.Errorf("trap path from %s can use %d bytes of stack, more than %s allows (%d - guard %d):\n    %s",
			entry, depth, stackSym, size, stackGuard, strings.Join(path, "\n    -> "))
	} else {
		t.Logf("deepest stack from %s: %d of %d bytes (%s):\n    %s", entry, depth, limit, stackSym, strings.Join(path, "\n    -> "))
	}
}
