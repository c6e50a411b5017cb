package syscallshim

import (
	"yolk/mm"
	"yolk/strace"
)

// newTestProcess builds a system with one process (PID 1, session and
// group leader) over cfg.Machine: the namespace of cfg.Root, the console
// on fds 0-2, memory as. Its first thread is made by the caller
// (p.newThread(ctx, 1)).
func newTestProcess(cfg Config, as *mm.AddressSpace, comm string) *Process {
	m := cfg.Machine
	sys := &System{
		m: m, cfg: cfg,
		procs: map[int32]*Process{}, threads: map[int32]*Thread{}, lastID: 1,
		done: make(chan int, 1), stopped: make(chan struct{}),
	}
	sys.con = &console{m: m, sys: sys, tio: defaultTermios(), fg: 1}
	if cfg.Strace {
		sys.trace = strace.Options{On: true, Lines: true}
	}
	p := &Process{
		sys: sys, m: m, cfg: &sys.cfg, pid: 1, children: map[*Process]struct{}{}, pgid: 1, sid: 1,
		comm: comm, threads: map[int32]*Thread{}, rlimits: map[int][2]uint64{},
		events: &sys.events,
	}
	sys.procs[1], sys.init = p, p
	v, err := sys.newNamespace(cfg.Root, 256<<20)
	if err != nil {
		panic(err)
	}
	sys.vfs = v
	p.files = newFDTable(sys)
	p.mem = newMemory(as)
	return p
}
