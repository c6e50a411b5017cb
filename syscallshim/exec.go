package syscallshim

import (
	"bytes"
	"debug/elf"
	"errors"
	"path"

	"golang.org/x/sys/unix"

	"yolk/amd64"
	"yolk/elfload"
	"yolk/initrd"
)

// Exit statuses for programs that cannot start (see README.md).
const (
	ExitCannotExecute = 126 // not a runnable static x86-64 ELF
	ExitNotFound      = 127 // no such program
)

// MinAddr is the lowest address a program can map (Linux's default
// vm.mmap_min_addr).
const MinAddr = 0x10000

// Stack placement: the top of the user address space, like Linux with
// ASLR off, with room to grow down to StackSize.
const (
	StackTop  = elfload.UserEnd
	StackSize = 8 << 20
	// brkMax bounds the program break's growth (Linux's is the stack
	// rlimit gap; this keeps brk clear of the mmap area below the stack).
	brkMaxSize = 1 << 40
)

// StartError is why a program could not start, with its exit status.
type StartError struct {
	Status int
	Msg    string
}

func (e *StartError) Error() string { return e.Msg }

// memAdapter is the loader's view of the program's memory.
type memAdapter struct{ m Machine }

// Map maps writable whatever prot asks: the loader writes the segments
// after mapping them, and the kernel honours write protection itself
// (CR0.WP). Start applies the real protections once loading is done.
func (a memAdapter) Map(va, n uint64, prot uint32) error {
	got, e := a.m.Map(va, n, prot|unix.PROT_WRITE, false)
	if e != 0 {
		return e
	}
	if got != va {
		a.m.Unmap(got, n)
		return unix.EEXIST
	}
	return nil
}

func (a memAdapter) Write(va uint64, b []byte) error {
	dst, ok := a.m.Bytes(va, uint64(len(b)), true)
	if !ok {
		return unix.EFAULT
	}
	copy(dst, b)
	return nil
}

// Start loads the program file (an ELF image) and starts its first
// thread.
func Start(cfg Config, file []byte) (*Process, error) {
	name := path.Base(cfg.Path)
	if len(name) > 15 {
		name = name[:15]
	}
	var maxMem uint64
	if cfg.MemInfo != nil {
		maxMem, _ = cfg.MemInfo()
	}
	img, err := elfload.Load(bytes.NewReader(file), int64(len(file)), memAdapter{cfg.Machine}, elfload.Options{
		// Below mmap_min_addr nothing may be mapped (NULL must fault).
		Forbidden: []elfload.Range{{Start: 0, End: MinAddr}},
		MaxMem:    maxMem,
	})
	if err != nil {
		return nil, &StartError{ExitCannotExecute, "yolk: " + cfg.Path + ": " + err.Error()}
	}
	m := cfg.Machine
	for _, s := range img.Segments {
		if e := m.Protect(s.VA, s.Memsz, s.Prot); e != 0 {
			return nil, &StartError{ExitCannotExecute, "yolk: " + cfg.Path + ": cannot protect a segment: " + e.Error()}
		}
	}
	stackProt := uint32(unix.PROT_READ | unix.PROT_WRITE)
	if img.StackExec {
		stackProt |= unix.PROT_EXEC // PT_GNU_STACK asked for an executable stack
	}
	if _, e := m.Map(StackTop-StackSize, StackSize, stackProt, true); e != 0 {
		return nil, &StartError{ExitCannotExecute, "yolk: " + cfg.Path + ": cannot map the stack: " + e.Error()}
	}
	var random [16]byte
	m.Random(random[:])
	sp, err := elfload.BuildStack(memAdapter{m}, StackTop, img, elfload.StackSpec{
		Argv: cfg.Argv, Envp: cfg.Envp, ExecFn: cfg.Path, Platform: "x86_64",
		Random: random, HWCap: hwcap(), ClkTck: 100, MinSigStkSz: 2048,
	})
	if err != nil {
		var le *elfload.Error
		msg := err.Error()
		if errors.As(err, &le) {
			msg = le.Error()
		}
		return nil, &StartError{ExitCannotExecute, "yolk: " + cfg.Path + ": " + msg}
	}
	p := &Process{
		m: m, cfg: cfg, comm: name, pid: 1,
		files: newFDTable(m), cwd: "/",
		brkStart: img.Brk, brk: img.Brk, brkMax: img.Brk + brkMaxSize,
		threads: map[int32]*Thread{}, nextTid: 1,
		rlimits: map[int][2]uint64{},
		done:    make(chan int, 1),
		syms:    newSymtab(file, img.Base),
	}
	p.futex.init()
	for i, s := range img.Segments {
		if i == 0 {
			p.imageStart = s.VA
		}
		p.imageEnd = s.VA + s.Memsz
	}
	if cfg.Root != nil {
		cfg.Root.Walk(func(n *initrd.Node) error {
			p.rootSize += uint64(len(n.Data))
			return nil
		})
	}
	p.stopped = make(chan struct{})
	if con, ok := p.files.fds[0].f.(*console); ok {
		con.p = p
		go con.watch(p.stopped)
	}
	p.startNs = m.Monotonic()
	ctx := new(amd64.Context)
	ctx.FX.InitFX()
	ctx.Regs.RIP = img.Entry
	ctx.Regs.RSP = sp
	ctx.Regs.RFLAGS = 0x202
	t := p.newThread(ctx)
	go t.run()
	return p, nil
}

// hwcap is AT_HWCAP: on x86 it is CPUID.1:EDX, as Linux reports it.
func hwcap() uint64 {
	_, _, _, edx := amd64.CPUID(1, 0)
	return uint64(edx)
}

// symtab finds the function containing an address, from the ELF's symbol
// table, for fault reports.
type symtab struct {
	syms []elf.Symbol
	bias uint64
}

func newSymtab(file []byte, bias uint64) *symtab {
	f, err := elf.NewFile(bytes.NewReader(file))
	if err != nil {
		return nil
	}
	syms, err := f.Symbols()
	if err != nil {
		return nil
	}
	st := &symtab{bias: bias}
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Value != 0 {
			st.syms = append(st.syms, s)
		}
	}
	return st
}

func (st *symtab) lookup(pc uint64) (string, uint64, bool) {
	if st == nil {
		return "", 0, false
	}
	best := -1
	for i, s := range st.syms {
		a := s.Value + st.bias
		if a <= pc && (s.Size == 0 || pc < a+s.Size) && (best < 0 || a > st.syms[best].Value+st.bias) {
			best = i
		}
	}
	if best < 0 {
		return "", 0, false
	}
	s := st.syms[best]
	return s.Name, pc - (s.Value + st.bias), true
}
