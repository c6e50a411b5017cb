package syscallshim

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"yolk/amd64"
	"yolk/elfload"
	"yolk/linux/abi"
	"yolk/mm"
	"yolk/strace"
	"yolk/vfs"
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

// memAdapter is the loader's view of a new program's memory.
type memAdapter struct {
	as   *mm.AddressSpace
	name string
}

// Map maps writable whatever prot asks: the loader writes the segments
// after mapping them. The real protections are applied once loading is
// done.
func (a memAdapter) Map(va, n uint64, prot uint32) error {
	_, err := a.as.Map(va, n, prot|unix.PROT_WRITE, mm.FixedNoReplace, nil, 0, a.name)
	return err
}

func (a memAdapter) Write(va uint64, b []byte) error {
	_, err := a.as.CopyOut(va, b)
	return err
}

// fileMemAdapter is memAdapter for a program file with a page cache: the
// loader maps the file's pages from it (private, copy on write) instead
// of copying them, so that every process running the program shares
// them, as on Linux.
type fileMemAdapter struct {
	memAdapter
	file mm.Backing
}

// MapFile implements elfload.FileMemory (writable until the loader is
// done, as Map).
func (a fileMemAdapter) MapFile(va, n uint64, prot uint32, off uint64) error {
	_, err := a.as.Map(va, n, prot|unix.PROT_WRITE, mm.FixedNoReplace, a.file, off, a.name)
	return err
}

// execFile is a program file opened for execve: read through r (size
// bytes; the loader reads only the headers it needs, the pages come from
// the page cache), its first bytes (head: "#!"?), its absolute name (""
// when it has none), and its page cache. The holder drops the open file
// and the cache's reference with release.
type execFile struct {
	r     io.ReaderAt
	size  int64
	head  []byte
	name  string
	f     *vfs.File
	cache *fileCache
}

// execBytes is an execFile for a program image in memory (the initrd's
// raw ELF).
func execBytes(b []byte) *execFile {
	return &execFile{r: bytes.NewReader(b), size: int64(len(b)), head: b[:min(len(b), scriptHead)]}
}

// scriptHead is how much of a file execve reads to recognize a "#!"
// line (Linux's BINPRM_BUF_SIZE).
const scriptHead = 256

func (x *execFile) release() {
	if x.cache != nil {
		x.cache.DecRef()
		x.cache = nil
	}
	if x.f != nil {
		x.f.DecRef()
		x.f = nil
	}
}

// fileReaderAt reads a file by pread.
type fileReaderAt struct{ f *vfs.File }

func (r fileReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.f.Pread(p[n:], off+int64(n))
		if err != nil {
			return n, err
		}
		if m == 0 {
			return n, io.EOF
		}
		n += m
	}
	return n, nil
}

// memory is the loader's view of as for x: its pages mapped from the
// cache when x has one.
func (x *execFile) memory(as *mm.AddressSpace, name string) elfload.Memory {
	if x.cache != nil {
		return fileMemAdapter{memAdapter{as, name}, x.cache}
	}
	return memAdapter{as, name}
}

// loaded is a program image ready to run in a new address space.
type loaded struct {
	mem   *memory
	entry uint64
	sp    uint64
}

// execError is why a program cannot be loaded: the errno execve returns
// and the line the first program's failure prints.
type execError struct {
	errno unix.Errno
	msg   string
}

func (e *execError) Error() string { return e.msg }

// load builds a new address space holding the ELF image file, its stack
// with argv, envp and the auxiliary vector, and an empty break.
func (t *Thread) load(x *execFile, execPath string, argv, envp []string) (*loaded, error) {
	s := t.p.sys
	as, err := s.m.NewAddressSpace()
	if err != nil {
		return nil, &execError{unix.ENOMEM, "no memory for an address space"}
	}
	fail := func(errno unix.Errno, msg string) (*loaded, error) {
		as.Release()
		return nil, &execError{errno, msg}
	}
	var maxMem uint64
	if s.cfg.MemInfo != nil {
		maxMem, _ = s.cfg.MemInfo()
	}
	name := x.name
	if name == "" {
		name = execPath
	}
	mem := x.memory(as, name)
	img, err := elfload.Load(x.r, x.size, mem, elfload.Options{
		// Below mmap_min_addr nothing may be mapped (NULL must fault).
		Forbidden:   []elfload.Range{{Start: 0, End: MinAddr}},
		MaxMem:      maxMem,
		AllowInterp: true,
	})
	if err != nil {
		var le *elfload.Error
		errno := unix.ENOEXEC
		if errors.As(err, &le) && le.Kind == elfload.Dynamic {
			errno = unix.ENOENT // as Linux says when the interpreter is missing
		}
		return fail(errno, err.Error())
	}
	for _, sg := range img.Segments {
		if err := as.Protect(sg.VA, sg.Memsz, sg.Prot); err != nil {
			return fail(unix.ENOMEM, "cannot protect a segment: "+err.Error())
		}
	}
	entry, interpBase, interpName := img.Entry, uint64(0), ""
	if img.Interp != "" {
		// A dynamically linked program: its interpreter (ld.so) is
		// loaded too, where Linux puts it (below the mmap base), and runs
		// first; it finds the program through AT_PHDR and AT_ENTRY.
		ie, ib, iname, errno, msg := t.loadInterp(as, img.Interp, execPath, maxMem)
		if errno != 0 {
			return fail(errno, msg)
		}
		entry, interpBase, interpName = ie, ib, iname
	}
	vdsoImage, vvar := s.m.VDSO()
	vdsoBase, err := mapVDSO(as, vdsoImage, vvar)
	if err != nil {
		return fail(unix.ENOMEM, "cannot map the vDSO: "+err.Error())
	}
	stackProt := uint32(unix.PROT_READ | unix.PROT_WRITE)
	if img.StackExec {
		stackProt |= unix.PROT_EXEC // PT_GNU_STACK asked for an executable stack
	}
	if _, err := as.Map(StackTop-StackSize, StackSize, stackProt, mm.FixedNoReplace, nil, 0, "[stack]"); err != nil {
		return fail(unix.ENOMEM, "cannot map the stack: "+err.Error())
	}
	var random [16]byte
	s.m.Random(random[:])
	sp, err := elfload.BuildStack(mem, StackTop, img, elfload.StackSpec{
		Argv: argv, Envp: envp, ExecFn: execPath, Platform: "x86_64",
		Random: random, HWCap: hwcap(), HWCap2: hwcap2(), ClkTck: 100, MinSigStkSz: abi.MinSigStackSize(amd64.XStateSize()),
		InterpBase: interpBase, SysinfoEHDR: vdsoBase,
	})
	if err != nil {
		var le *elfload.Error
		msg := err.Error()
		if errors.As(err, &le) {
			msg = le.Error()
		}
		return fail(unix.E2BIG, msg)
	}
	m := newMemory(as)
	m.brkStart, m.brk, m.brkMax = img.Brk, img.Brk, img.Brk+brkMaxSize
	m.syms = newSymtab(x.r, img.Base)
	m.elfBase = map[string]uint64{name: img.Base}
	if img.Interp != "" {
		m.elfBase[interpName] = interpBase
	}
	return &loaded{mem: m, entry: entry, sp: sp}, nil
}

// loadInterp maps the interpreter at path into as for the program
// execPath and returns its entry, load base and the name its mappings
// have, or the errno and message when it cannot: a missing interpreter
// is ENOENT, as on Linux.
func (t *Thread) loadInterp(as *mm.AddressSpace, path, execPath string, maxMem uint64) (entry, base uint64, name string, errno unix.Errno, msg string) {
	x, err := t.readExecutable(atFDCWD, path, true)
	if err != nil {
		e, ok := err.(unix.Errno)
		if !ok {
			e = unix.ENOEXEC
		}
		return 0, 0, "", e, fmt.Sprintf("cannot run the interpreter %s that %s needs: %v", path, execPath, err)
	}
	defer x.release()
	name = x.name
	if name == "" {
		name = path
	}
	span, err := loadSpan(x.r)
	if err != nil {
		return 0, 0, "", unix.ELIBBAD, fmt.Sprintf("interpreter %s: %v", path, err)
	}
	// Below the mmap base, as Linux places it with ASLR off: take the
	// range mm would give an mmap of that size.
	at, err := as.Map(0, span, unix.PROT_NONE, 0, nil, 0, "")
	if err != nil {
		return 0, 0, "", unix.ENOMEM, "no room for the interpreter " + path
	}
	as.Unmap(at, span)
	iimg, err := elfload.Load(x.r, x.size, x.memory(as, name), elfload.Options{
		PIEBase:   at,
		Forbidden: []elfload.Range{{Start: 0, End: MinAddr}},
		MaxMem:    maxMem,
	})
	if err != nil {
		return 0, 0, "", unix.ELIBBAD, fmt.Sprintf("interpreter %s: %v", path, err)
	}
	for _, sg := range iimg.Segments {
		if err := as.Protect(sg.VA, sg.Memsz, sg.Prot); err != nil {
			return 0, 0, "", unix.ENOMEM, "cannot protect the interpreter: " + err.Error()
		}
	}
	return iimg.Entry, iimg.Base, name, 0, ""
}

// loadSpan is the size of the address range an ELF file's PT_LOADs cover.
func loadSpan(r io.ReaderAt) (uint64, error) {
	f, err := elf.NewFile(r)
	if err != nil {
		return 0, err
	}
	lo, hi := ^uint64(0), uint64(0)
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		lo = min(lo, p.Vaddr&^4095)
		hi = max(hi, p.Vaddr+p.Memsz)
	}
	if hi <= lo || hi-lo > 1<<32 {
		return 0, fmt.Errorf("no loadable segments")
	}
	return pageUp(hi - lo), nil
}

// maxInterpDepth is how many #! interpreters may follow each other
// (Linux allows 4 levels, then ELOOP).
const maxInterpDepth = 4

// findExecutable resolves the program to run: a regular file with an
// execute bit; a "#!" script becomes its interpreter with the script's
// path inserted into argv, as binfmt_script does. execPath is the name as
// given (AT_EXECFN); exeName is the file's absolute name from the root,
// symlinks resolved (/proc/self/exe). An empty p means the file open as
// dirfd (execveat's AT_EMPTY_PATH, fexecve), named /dev/fd/N as Linux does.
func (t *Thread) findExecutable(dirfd uint64, p string, argv []string, follow bool) (x *execFile, execPath string, _ []string, err error) {
	execPath = p
	if p == "" {
		execPath = "/dev/fd/" + strconv.Itoa(int(int32(dirfd)))
	}
	for depth := 0; ; depth++ {
		x, err := t.readExecutable(dirfd, p, follow)
		if err != nil {
			return nil, "", nil, err
		}
		data := x.head
		if !bytes.HasPrefix(data, []byte("#!")) {
			return x, execPath, argv, nil
		}
		x.release() // the script: its interpreter runs instead
		if depth == maxInterpDepth {
			return nil, "", nil, unix.ELOOP
		}
		if p == "" {
			p = execPath // the script's name for its interpreter
		}
		line := data[2:min(len(data), 256)]
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(strings.TrimSpace(string(line)))
		if len(fields) == 0 {
			return nil, "", nil, unix.ENOEXEC
		}
		interp := fields[0]
		// The rest of the line is one argument, as on Linux.
		rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(line)), interp))
		nargv := []string{interp}
		if rest != "" {
			nargv = append(nargv, rest)
		}
		nargv = append(nargv, p)
		if len(argv) > 1 {
			nargv = append(nargv, argv[1:]...)
		}
		argv, p, execPath, dirfd, follow = nargv, interp, interp, atFDCWD, true
	}
}

// readExecutable returns the contents of the program file at p (the file
// open as dirfd when p is empty), a regular file the caller may execute
// (EACCES otherwise, as execve(2) says; root needs one execute bit), and
// its absolute name, and (unless it is a "#!" script) its page cache.
func (t *Thread) readExecutable(dirfd uint64, p string, follow bool) (*execFile, error) {
	at, err := t.at(dirfd)
	if err != nil {
		return nil, err
	}
	if p == "" && at.IsZero() {
		return nil, unix.ENOENT
	}
	flags := unix.O_RDONLY
	if !follow {
		flags |= unix.O_NOFOLLOW
	}
	v, c := t.p.sys.vfs, t.vctx()
	var f *vfs.File
	if p == "" {
		f, err = v.Reopen(c, at, unix.O_RDONLY)
	} else {
		f, err = v.Openat(c, at, t.procSelf(p), vfs.OpenHow{Flags: flags})
	}
	if err == unix.ELOOP && !follow {
		return nil, unix.ELOOP
	}
	if err != nil {
		return nil, err
	}
	defer f.DecRef()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Type() != unix.S_IFREG || !c.Cred.Permits(&st, vfs.MayExec) || st.Mode&0o111 == 0 {
		return nil, unix.EACCES
	}
	if st.Size > maxExecSize {
		return nil, unix.ENOMEM
	}
	head := make([]byte, min(st.Size, scriptHead))
	n, err := fileReaderAt{f}.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return nil, err
	}
	name, err := v.PathName(v.Root(), f.Path())
	if err != nil {
		name = p // unreachable from the root (a chroot's outside): as given
	}
	f.IncRef() // the execFile's
	x := &execFile{r: fileReaderAt{f}, size: st.Size, head: head[:n], name: name, f: f}
	if !bytes.HasPrefix(x.head, []byte("#!")) {
		if c, err := t.p.sys.filemaps.get(f, t.p.m.Phys()); err == nil {
			x.cache = c
		}
	}
	return x, nil
}

// maxExecSize bounds a program file.
const maxExecSize = 1 << 30

func sysExecve(t *Thread, a Args) (uint64, error) {
	return t.execve(atFDCWD, a[0], a[1], a[2], 0)
}

func sysExecveat(t *Thread, a Args) (uint64, error) {
	return t.execve(a[0], a[1], a[2], a[3], a[4])
}

// execve implements execve(2) and execveat(2): the new program replaces
// the process's memory; the other threads end; descriptors marked
// close-on-exec close; caught signals return to their default action.
func (t *Thread) execve(dirfd, pathp, argvp, envpp, flags uint64) (uint64, error) {
	if flags&^(unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW) != 0 {
		return 0, unix.EINVAL
	}
	p, err := t.readPath(pathp)
	if err != nil {
		return 0, err
	}
	if p == "" && flags&unix.AT_EMPTY_PATH == 0 {
		return 0, unix.ENOENT
	}
	argv, err := t.readStrings(argvp)
	if err != nil {
		return 0, err
	}
	envp, err := t.readStrings(envpp)
	if err != nil {
		return 0, err
	}
	x, execPath, argv, err := t.findExecutable(dirfd, p, argv, flags&unix.AT_SYMLINK_NOFOLLOW == 0)
	if err != nil {
		return 0, err
	}
	defer x.release()
	exeName := x.name
	img, err := t.load(x, execPath, argv, envp)
	if err != nil {
		var ee *execError
		if errors.As(err, &ee) {
			if ee.errno == unix.ENOENT {
				t.p.printf("yolk: %s: %s\n", execPath, ee.msg)
			}
			return 0, ee.errno
		}
		return 0, unix.ENOEXEC
	}
	comm := p // the name given, as Linux's comm (a script's own, not its interpreter's)
	if p == "" {
		comm = exeName
	}
	t.becomeProgram(img, exeName, commName(comm), argv)
	return 0, nil
}

// becomeProgram is execve's point of no return: the other threads end,
// the process takes the new memory, and this thread starts the program.
func (t *Thread) becomeProgram(img *loaded, exeName, comm string, argv []string) {
	p := t.p
	p.killOtherThreads(t)
	p.mu.Lock()
	old := p.mem
	p.mem = img.mem
	files := p.files
	p.exe, p.argv = exeName, argv
	p.comm = comm
	p.threadName = ""
	for sig := range p.sigact {
		a := abi32(p.sigact[sig])
		if a != sigIGN {
			p.sigact[sig] = [32]byte{}
		}
	}
	p.mu.Unlock()
	if old != nil {
		p.sys.profileFlush(p.pid, old, false)
		old.release(p.m)
	}
	files = p.unshareFiles(files)
	files.closeOnExec()
	if t.tid != p.pid {
		// The thread takes the process's ID, as the leader it now is.
		s := p.sys
		s.mu.Lock()
		delete(s.threads, t.tid)
		s.threads[p.pid] = t
		s.mu.Unlock()
		p.mu.Lock()
		delete(p.threads, t.tid)
		p.threads[p.pid] = t
		p.mu.Unlock()
		t.tid = p.pid
	}
	t.clearTID, t.robustList = 0, 0
	t.altstack = [3]uint64{}
	t.keepCaps = false // SECBIT_KEEP_CAPS does not survive execve
	p.deleteTimers()   // timer_create's timers do not either
	t.ctx.Reset()
	t.ctx.Regs.RIP = img.entry
	t.ctx.Regs.RSP = img.sp
	t.ctx.Regs.RFLAGS = 0x202
	s := p.sys
	s.mu.Lock()
	if p.vforkDone != nil {
		close(p.vforkDone)
		p.vforkDone = nil
	}
	s.mu.Unlock()
}

// abi32 returns the handler word of a raw sigaction.
func abi32(b [32]byte) uint64 {
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// killOtherThreads ends every thread of the process but t and waits
// until they are gone (execve's de_thread).
func (p *Process) killOtherThreads(t *Thread) {
	p.mu.Lock()
	if p.execer == nil {
		p.execer = t
	}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		if p.execer == t {
			p.execer = nil
		}
		p.mu.Unlock()
	}()
	for {
		wake := p.events.wait()
		p.mu.Lock()
		var others []*Thread
		for _, th := range p.threads {
			if th != t {
				others = append(others, th)
			}
		}
		p.mu.Unlock()
		if len(others) == 0 {
			return
		}
		for _, th := range others {
			th.sendSignal(th, int(unix.SIGKILL), sigInfo{code: 0x80})
			if k, ok := p.m.(kicker); ok {
				k.Kick(th.ctx)
			}
		}
		<-wake
	}
}

// unshareFiles gives p its own copy of files, its descriptor table, if
// another process shares it (CLONE_FILES), and returns the table p has.
func (p *Process) unshareFiles(files *fdTable) *fdTable {
	if !files.sharedWithOthers() {
		return files
	}
	nf := files.fork()
	p.mu.Lock()
	p.files = nf
	p.mu.Unlock()
	files.release(p.sys)
	return nf
}

// sharedWithOthers reports whether another process uses the table
// (CLONE_FILES).
func (t *fdTable) sharedWithOthers() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.users > 1
}

// commName is the command name of a program path: its base name, at
// most 15 bytes (TASK_COMM_LEN).
func commName(p string) string {
	name := path.Base(p)
	if len(name) > 15 {
		name = name[:15]
	}
	return name
}

// Start creates the system and its first process (PID 1) running the
// program file (an ELF image, or a #! script when a root is given).
func Start(cfg Config, file []byte) (*System, error) {
	s := &System{
		m: cfg.Machine, cfg: cfg,
		procs: map[int32]*Process{}, threads: map[int32]*Thread{},
		done: make(chan int, 1), stopped: make(chan struct{}),
	}
	s.con = &console{m: cfg.Machine, sys: s, s: machineStreams(cfg.Machine), tio: defaultTermios(), fg: 1}
	s.trace = cfg.Trace
	if cfg.Strace && !s.trace.On {
		s.trace = strace.Options{On: true, Lines: true}
	}
	s.startProfiler()
	var memBytes uint64 = 256 << 20
	if cfg.MemInfo != nil {
		memBytes, _ = cfg.MemInfo()
	}
	v, err := s.newNamespace(cfg.Root, memBytes)
	if err != nil {
		return nil, &StartError{ExitCannotExecute, "yolk: cannot build the file tree: " + err.Error()}
	}
	s.vfs = v
	s.mu.Lock()
	pid, _ := s.newIDLocked()
	p := &Process{
		sys: s, m: cfg.Machine, cfg: &s.cfg, pid: pid,
		children: map[*Process]struct{}{}, pgid: pid, sid: pid,
		threads: map[int32]*Thread{}, rlimits: map[int][2]uint64{},
		events: &s.events, umask: 0o022, // as Linux starts init
	}
	s.procs[pid] = p
	s.init = p
	s.mu.Unlock()
	p.files = newFDTable(s)
	p.startNs = cfg.Machine.Monotonic()
	t := p.newThread(amd64.NewContext(), pid)
	if cfg.Cwd != "" {
		d, err := v.Lookup(t.vctx(), vfs.Path{}, cfg.Cwd, 0)
		if err == nil {
			err = t.chdir(d)
		}
		if err != nil {
			return nil, &StartError{ExitCannotExecute, "yolk: working directory " + cfg.Cwd + ": " + err.Error()}
		}
	}

	argv := cfg.Argv
	execPath, exeName := cfg.Path, cfg.Path
	x := execBytes(file)
	if cfg.Root != nil || cfg.RootFS != nil {
		f, ep, av, err := t.findExecutable(atFDCWD, cfg.Path, argv, true)
		if err != nil {
			st := ExitCannotExecute
			if err == unix.ENOENT || err == unix.ENOTDIR {
				st = ExitNotFound
			}
			msg := err.Error()
			if e, ok := err.(unix.Errno); ok {
				msg = e.Error()
			}
			return nil, &StartError{st, "yolk: " + cfg.Path + ": " + msg}
		}
		x, execPath, exeName, argv = f, ep, f.name, av
		defer x.release()
	}
	img, err := t.load(x, execPath, argv, cfg.Envp)
	if err != nil {
		st := ExitCannotExecute
		if ee, ok := err.(*execError); ok && ee.errno == unix.ENOENT {
			st = ExitNotFound // a missing interpreter: 127, as a shell says
		}
		return nil, &StartError{st, "yolk: " + execPath + ": " + err.Error()}
	}
	p.mem = img.mem
	p.exe, p.argv, p.comm = exeName, argv, commName(cfg.Path)
	t.ctx.InitFPU()
	t.ctx.Regs.RIP = img.entry
	t.ctx.Regs.RSP = img.sp
	t.ctx.Regs.RFLAGS = 0x202
	if _, ok := streamOf(p.files.fds[0].f).(*console); ok {
		go s.con.watch(s.stopped) // the line discipline runs as input arrives
	}
	go t.run()
	return s, nil
}

// hwcap is AT_HWCAP: on x86 it is CPUID.1:EDX, as Linux reports it.
func hwcap() uint64 {
	_, _, _, edx := amd64.CPUID(1, 0)
	return uint64(edx)
}

// hwcap2 is AT_HWCAP2: HWCAP2_FSGSBASE (bit 1) where programs may use
// RDFSBASE and its kin (the kernel set CR4.FSGSBASE).
func hwcap2() uint64 {
	if amd64.FSGSBase() {
		return 2
	}
	return 0
}

// symtab finds the function containing an address, for fault reports.
// It holds a copy of the ELF's symbol table and its string table, taken
// at exec and decoded only when a report asks: decoding every symbol
// (a string and an elf.Symbol each) at every exec was 1.4 million of the
// 13.8 million guest instructions from boot to a static C program's
// first output.
type symtab struct {
	syms []byte // SHT_SYMTAB's entries (Elf64_Sym)
	strs []byte // the string table its sh_link names
	bias uint64
}

// elf64SymSize is sizeof(Elf64_Sym): st_name (4), st_info, st_other,
// st_shndx (2), st_value (8), st_size (8).
const elf64SymSize = 24

func newSymtab(r io.ReaderAt, bias uint64) *symtab {
	f, err := elf.NewFile(r)
	if err != nil || f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB {
		return nil
	}
	sec := f.SectionByType(elf.SHT_SYMTAB)
	if sec == nil || int(sec.Link) >= len(f.Sections) {
		return nil
	}
	syms, err := sec.Data()
	if err != nil {
		return nil
	}
	strs, err := f.Sections[sec.Link].Data()
	if err != nil {
		return nil
	}
	return &symtab{syms: syms, strs: strs, bias: bias}
}

func (st *symtab) lookup(pc uint64) (string, uint64, bool) {
	if st == nil {
		return "", 0, false
	}
	// A sized symbol must contain pc; a symbol without a size (assembly
	// labels) is taken only for pc within a page of it, so that an address
	// past the last function is not named after it.
	const unsizedReach = 4096
	best, bestAddr := -1, uint64(0)
	for off := elf64SymSize; off+elf64SymSize <= len(st.syms); off += elf64SymSize { // entry 0 is the null symbol
		e := st.syms[off : off+elf64SymSize]
		value, size := binary.LittleEndian.Uint64(e[8:]), binary.LittleEndian.Uint64(e[16:])
		if elf.ST_TYPE(e[4]) != elf.STT_FUNC || value == 0 {
			continue
		}
		a := value + st.bias
		in := a <= pc && (size != 0 && pc-a < size || size == 0 && pc-a < unsizedReach)
		if in && (best < 0 || a > bestAddr) {
			best, bestAddr = off, a
		}
	}
	if best < 0 {
		return "", 0, false
	}
	name := uint64(binary.LittleEndian.Uint32(st.syms[best:]))
	if name >= uint64(len(st.strs)) {
		return "", 0, false
	}
	n := bytes.IndexByte(st.strs[name:], 0)
	if n < 0 {
		return "", 0, false
	}
	return string(st.strs[name : name+uint64(n)]), pc - bestAddr, true
}
