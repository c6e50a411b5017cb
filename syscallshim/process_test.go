package syscallshim

// Host tests of the process tree: fork, wait, zombies, orphans, exit
// statuses, over the fake machine. Child processes run their own threads
// (Thread.run); each follows a script of system calls picked by the tag
// its parent left in R12 before forking.

import (
	"encoding/binary"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"yolk/amd64"
)

// ptStep sets up one system call of a scripted program; ret is what the
// previous call returned.
type ptStep func(r *amd64.Frame, ret uint64)

// ptScripts drives the children: the script tagged R12, one step per
// entry into the program; past the end, exit_group(0).
type ptScripts struct {
	mu      sync.Mutex
	scripts map[uint64][]ptStep
	pos     map[*amd64.Context]int
	running map[*amd64.Context][]ptStep // the script each thread follows
}

func (ps *ptScripts) enter(ctx *amd64.Context) uint64 {
	ps.mu.Lock()
	i := ps.pos[ctx]
	ps.pos[ctx] = i + 1
	script, ok := ps.running[ctx]
	if !ok {
		script = ps.scripts[ctx.Regs.R12] // chosen at the first entry
		ps.running[ctx] = script
	}
	ps.mu.Unlock()
	r := &ctx.Regs
	ret := r.RAX
	if i < len(script) {
		script[i](r, ret)
	} else {
		r.RAX, r.RDI = unix.SYS_EXIT_GROUP, 0
	}
	return amd64.VecSyscall
}

func newPtEnv(t *testing.T, scripts map[uint64][]ptStep) *hdEnv {
	e := newHdEnv(t, nil)
	ps := &ptScripts{scripts: scripts, pos: map[*amd64.Context]int{}, running: map[*amd64.Context][]ptStep{}}
	e.m.enter = ps.enter
	return e
}

// fork makes a child running the script tagged tag.
func (e *hdEnv) fork(tag uint64) uint64 {
	e.t.Helper()
	e.th.ctx.Regs.R12 = tag
	return e.ok(unix.SYS_CLONE, uint64(unix.SIGCHLD), 0, 0, 0, 0)
}

func exitWith(code uint64) ptStep {
	return func(r *amd64.Frame, _ uint64) { r.RAX, r.RDI = unix.SYS_EXIT_GROUP, code }
}

// wait reaps a child with wait4(pid) and returns its PID and status.
func (e *hdEnv) wait(pid int64, options uint64) (uint64, uint32) {
	e.t.Helper()
	st := hdAt(0x3000)
	got := e.call(unix.SYS_WAIT4, uint64(pid), st, options, 0)
	if hdIsErr(got) {
		return got, 0
	}
	return got, e.m.u32(st)
}

func TestProcessForkWait(t *testing.T) {
	e := newPtEnv(t, map[uint64][]ptStep{1: {exitWith(7)}, 2: {exitWith(300)}})
	a := e.fork(1)
	b := e.fork(2)
	if a == b || a < 2 || b < 2 {
		t.Fatalf("child PIDs %d and %d", a, b)
	}
	got := map[uint64]uint32{}
	for range 2 {
		pid, st := e.wait(-1, 0)
		got[pid] = st
	}
	if got[a] != 7<<8 || got[b] != (300&0xff)<<8 {
		t.Errorf("statuses %#x, want %d: 0x700 and %d: 0x2c00", got, a, b)
	}
	if pid, _ := e.wait(-1, 0); pid != hdErr(unix.ECHILD) {
		t.Errorf("wait4 after reaping all = %s, want ECHILD", hdShow(pid))
	}
	if pid, _ := e.wait(int64(a), unix.WNOHANG); pid != hdErr(unix.ECHILD) {
		t.Errorf("wait4 of a reaped child = %s, want ECHILD", hdShow(pid))
	}
	if n := len(e.p.children); n != 0 {
		t.Errorf("%d children left", n)
	}
}

// TestProcessWaitNohang: a running child is not reaped by WNOHANG, and a
// signal ends it with the signal's status.
func TestProcessWaitNohang(t *testing.T) {
	release := make(chan struct{})
	e := newPtEnv(t, map[uint64][]ptStep{1: {
		func(r *amd64.Frame, _ uint64) { <-release; r.RAX = unix.SYS_GETPID },
		func(r *amd64.Frame, _ uint64) { r.RAX = unix.SYS_PAUSE },
	}})
	pid := e.fork(1)
	if got, _ := e.wait(int64(pid), unix.WNOHANG); got != 0 {
		t.Fatalf("wait4(WNOHANG) of a running child = %s, want 0", hdShow(got))
	}
	close(release)
	e.want(0, unix.SYS_KILL, pid, uint64(unix.SIGTERM))
	got, st := e.wait(int64(pid), 0)
	if got != pid || st != uint32(unix.SIGTERM) {
		t.Errorf("wait4 = %s, status %#x; want %d, %#x", hdShow(got), st, pid, unix.SIGTERM)
	}
}

// TestProcessOrphan: a child's own child outlives it and goes to PID 1,
// which reaps it; its getppid says 1.
func TestProcessOrphan(t *testing.T) {
	release := make(chan struct{})
	var ppid uint64
	e := newPtEnv(t, map[uint64][]ptStep{
		// The child forks the grandchild, then exits with 3.
		1: {
			func(r *amd64.Frame, _ uint64) { r.R12 = 2; r.RAX, r.RDI = unix.SYS_CLONE, uint64(unix.SIGCHLD) },
			exitWith(3),
		},
		// The grandchild waits to be released, asks its parent, exits 5.
		2: {
			func(r *amd64.Frame, _ uint64) { <-release; r.RAX = unix.SYS_GETPPID },
			func(r *amd64.Frame, ret uint64) { ppid = ret; r.RAX, r.RDI = unix.SYS_EXIT_GROUP, 5 },
		},
	})
	child := e.fork(1)
	if got, st := e.wait(int64(child), 0); got != child || st != 3<<8 {
		t.Fatalf("wait4(child) = %s, %#x", hdShow(got), st)
	}
	close(release)
	got, st := e.wait(-1, 0)
	if hdIsErr(got) || got == child || st != 5<<8 {
		t.Fatalf("wait4(-1) = %s, %#x; want the grandchild, 0x500", hdShow(got), st)
	}
	if ppid != 1 {
		t.Errorf("the orphan's getppid = %d, want 1", ppid)
	}
}

// TestProcessExitFreesMemory: a forked child's memory (its page tables and
// copied pages) goes back when it is reaped.
func TestProcessExitFreesMemory(t *testing.T) {
	e := newPtEnv(t, map[uint64][]ptStep{1: {
		// Write to the scratch page: a copy-on-write copy.
		func(r *amd64.Frame, _ uint64) { r.RAX, r.RDI, r.RSI, r.RDX = unix.SYS_GETRANDOM, hdAt(0), 64, 0 },
		exitWith(0),
	}})
	e.m.put(0, []byte("x"))      // the page exists before the fork
	e.m.put(0x3000, []byte("x")) // and the one wait writes the status to
	before := e.m.phys.InUse()
	for range 50 {
		pid := e.fork(1)
		if got, _ := e.wait(int64(pid), 0); got != pid {
			t.Fatalf("wait4 = %s", hdShow(got))
		}
	}
	// The last exit releases memory just after waking the parent.
	deadline := time.Now().Add(5 * time.Second)
	for e.m.phys.InUse() != before && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := e.m.phys.InUse(); got != before {
		t.Errorf("frames in use %d after 50 forks, %d before", got, before)
	}
}

// TestProcessCredsCalls: capget follows the euid, capset only confirms,
// PR_SET_KEEPCAPS is per thread and inherited by fork, prlimit64 reaches
// another process under Linux's rule.
func TestProcessCredsCalls(t *testing.T) {
	release := make(chan struct{})
	e := newPtEnv(t, map[uint64][]ptStep{1: {
		func(r *amd64.Frame, _ uint64) { r.RAX, r.RDI = unix.SYS_PRCTL, unix.PR_GET_KEEPCAPS },
		func(r *amd64.Frame, ret uint64) {
			if ret != 1 {
				t.Errorf("child PR_GET_KEEPCAPS = %d, want 1 (inherited)", ret)
			}
			<-release
			r.RAX = unix.SYS_GETPID
		},
	}})
	hdr, data := hdAt(0x1000), hdAt(0x1100)
	e.m.put(hdr-hdBase, []byte{0x22, 0x05, 0x08, 0x20, 0, 0, 0, 0}) // v3, pid 0
	e.want(0, unix.SYS_CAPGET, hdr, data)
	want := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0xff, 0x01, 0, 0, 0xff, 0x01, 0, 0, 0, 0, 0, 0}
	e.bytesAt(data, want)
	e.want(0, unix.SYS_CAPSET, hdr, data) // the same sets: fine
	e.want(0, unix.SYS_CAPGET, hdr, 0)    // a version probe
	e.want(hdErr(unix.EFAULT), unix.SYS_CAPGET, hdr, hdBad)
	e.m.put(hdr-hdBase, []byte{1, 2, 3, 4})
	e.want(hdErr(unix.EINVAL), unix.SYS_CAPGET, hdr, data)
	if v := e.m.u32(hdr); v != capVersion3 {
		t.Errorf("capget wrote version %#x, want %#x", v, capVersion3)
	}
	e.m.put(data-hdBase, make([]byte, 24)) // drop everything: not modelled
	e.want(hdErr(unix.EPERM), unix.SYS_CAPSET, hdr, data)

	e.want(0, unix.SYS_PRCTL, unix.PR_GET_KEEPCAPS)
	e.want(hdErr(unix.EINVAL), unix.SYS_PRCTL, unix.PR_SET_KEEPCAPS, 2)
	e.want(0, unix.SYS_PRCTL, unix.PR_SET_KEEPCAPS, 1)
	if other := e.newThread(); other.dispatch(unix.SYS_PRCTL, Args{unix.PR_GET_KEEPCAPS}) != 0 {
		t.Error("PR_SET_KEEPCAPS reached another thread")
	}
	e.want(1, unix.SYS_PRCTL, unix.PR_GET_KEEPCAPS)

	pid := e.fork(1)
	lim := hdAt(0x1200)
	e.m.put(lim-hdBase, []byte{100, 0, 0, 0, 0, 0, 0, 0, 200, 0, 0, 0, 0, 0, 0, 0})
	e.want(0, unix.SYS_PRLIMIT64, pid, unix.RLIMIT_NOFILE, lim, hdAt(0x1300))
	e.want(0, unix.SYS_PRLIMIT64, pid, unix.RLIMIT_NOFILE, 0, hdAt(0x1300))
	e.bytesAt(hdAt(0x1300), []byte{100, 0, 0, 0, 0, 0, 0, 0, 200, 0, 0, 0, 0, 0, 0, 0})
	e.m.put(hdr-hdBase, []byte{0x22, 0x05, 0x08, 0x20, byte(pid), byte(pid >> 8), 0, 0})
	e.want(0, unix.SYS_CAPGET, hdr, data) // another process's sets
	e.want(hdErr(unix.ESRCH), unix.SYS_PRLIMIT64, 99999, unix.RLIMIT_NOFILE, 0, hdAt(0x1300))
	e.want(0, unix.SYS_SETRESUID, 1000, 1000, 1000)
	e.want(hdErr(unix.EPERM), unix.SYS_PRLIMIT64, pid, unix.RLIMIT_NOFILE, 0, hdAt(0x1300))
	e.m.put(hdr-hdBase, []byte{0x22, 0x05, 0x08, 0x20, 0, 0, 0, 0})
	e.want(0, unix.SYS_CAPGET, hdr, data)
	e.bytesAt(data, make([]byte, 24)) // euid 1000: none
	close(release)
	e.wait(int64(pid), 0)
}

// TestProcessUnshare: unshare(CLONE_FILES) copies a table another process
// shares; namespaces and unknown flags are EINVAL, and so is a table
// split in a multi-threaded process.
func TestProcessUnshare(t *testing.T) {
	e := newHdEnv(t, nil)
	e.want(0, unix.SYS_UNSHARE, 0)
	e.want(0, unix.SYS_UNSHARE, unix.CLONE_FS|unix.CLONE_SYSVSEM)
	e.want(hdErr(unix.EINVAL), unix.SYS_UNSHARE, unix.CLONE_NEWNS)
	e.want(hdErr(unix.EINVAL), unix.SYS_UNSHARE, unix.CLONE_PARENT)
	old := e.p.files
	e.want(0, unix.SYS_UNSHARE, unix.CLONE_FILES) // not shared: kept
	if e.p.files != old {
		t.Fatal("unshare(CLONE_FILES) replaced a table nobody shares")
	}
	old.share() // as a CLONE_FILES child would
	e.want(0, unix.SYS_UNSHARE, unix.CLONE_FILES)
	if e.p.files == old || old.sharedWithOthers() {
		t.Fatal("unshare(CLONE_FILES) kept the shared table")
	}
	if len(e.p.files.fds) != len(old.fds) {
		t.Errorf("the copy has %d slots, the table %d", len(e.p.files.fds), len(old.fds))
	}
	e.newThread()
	e.want(hdErr(unix.EINVAL), unix.SYS_UNSHARE, unix.CLONE_FILES)
	e.want(hdErr(unix.EINVAL), unix.SYS_UNSHARE, unix.CLONE_VM)
	e.want(0, unix.SYS_UNSHARE, unix.CLONE_FS)
}

// TestProcessCPUTime: the CPU-time clocks, getrusage, times and
// /proc/self/stat report the user time the kernel measured per thread
// (amd64.Context.UserNs), a process's as the sum of its threads'.
func TestProcessCPUTime(t *testing.T) {
	e := newHdEnv(t, hdRoot(t))
	e.th.ctx.UserNs = 1_500_000_000
	other := e.newThread()
	other.ctx.UserNs = 500_000_000
	ts := hdAt(0x3000)
	for _, c := range []struct {
		clock uint64
		want  uint64 // seconds, nanoseconds
	}{
		{unix.CLOCK_THREAD_CPUTIME_ID, 1_500_000_000},
		{unix.CLOCK_PROCESS_CPUTIME_ID, 2_000_000_000},
	} {
		e.want(0, unix.SYS_CLOCK_GETTIME, c.clock, ts)
		if got := e.m.u64(ts)*1e9 + e.m.u64(ts+8); got != c.want {
			t.Errorf("clock %d: %d ns, want %d", c.clock, got, c.want)
		}
	}
	ru := hdAt(0x3100)
	e.want(0, unix.SYS_GETRUSAGE, uint64(unix.RUSAGE_SELF), ru)
	if s, us := e.m.u64(ru), e.m.u64(ru+8); s != 2 || us != 0 {
		t.Errorf("RUSAGE_SELF utime %d.%06d, want 2.000000", s, us)
	}
	e.want(0, unix.SYS_GETRUSAGE, uint64(unix.RUSAGE_THREAD), ru)
	if s, us := e.m.u64(ru), e.m.u64(ru+8); s != 1 || us != 500000 {
		t.Errorf("RUSAGE_THREAD utime %d.%06d, want 1.500000", s, us)
	}
	e.want(hdErr(unix.EINVAL), unix.SYS_GETRUSAGE, 7, ru)
	e.ok(unix.SYS_TIMES, hdAt(0x3200))
	if u := e.m.u64(hdAt(0x3200)); u != 200 {
		t.Errorf("tms_utime %d ticks, want 200", u)
	}
	fd := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/proc/self/stat"), unix.O_RDONLY)
	n := e.ok(unix.SYS_READ, fd, hdAt(0x4000), 512)
	if f := strings.Fields(string(e.m.load(hdAt(0x4000), n))); len(f) < 15 || f[13] != "200" {
		t.Errorf("/proc/self/stat utime field %q, want 200", f[13])
	}
	// An exited thread's time stays with the process.
	other.finish()
	e.want(0, unix.SYS_CLOCK_GETTIME, unix.CLOCK_PROCESS_CPUTIME_ID, ts)
	if got := e.m.u64(ts)*1e9 + e.m.u64(ts+8); got != 2_000_000_000 {
		t.Errorf("after a thread exited: %d ns, want 2000000000", got)
	}
}

// TestProcessCPUTimers: ITIMER_PROF runs down with the process's CPU
// time; the thread's alarm is set for the deadline; the expired timer
// sends SIGPROF to the thread that used the time and re-arms itself.
func TestProcessCPUTimers(t *testing.T) {
	e := newHdEnv(t, hdRoot(t))
	tv := func(off uint64, interval, value time.Duration) uint64 {
		b := make([]byte, 32)
		binary.LittleEndian.PutUint64(b[0:], uint64(interval/time.Second))
		binary.LittleEndian.PutUint64(b[8:], uint64(interval%time.Second/time.Microsecond))
		binary.LittleEndian.PutUint64(b[16:], uint64(value/time.Second))
		binary.LittleEndian.PutUint64(b[24:], uint64(value%time.Second/time.Microsecond))
		return e.m.put(off, b)
	}
	e.th.ctx.UserNs = 1_000_000_000
	e.want(0, unix.SYS_SETITIMER, unix.ITIMER_PROF, tv(0x3000, 10*time.Millisecond, 30*time.Millisecond), 0)
	e.th.cpuAlarm()
	if a := e.th.ctx.CPUAlarm; a != 1_030_000_000 {
		t.Errorf("CPUAlarm %d, want 1030000000 (30 ms of CPU from now)", a)
	}
	e.th.ctx.UserNs += 20_000_000
	e.want(0, unix.SYS_GETITIMER, unix.ITIMER_PROF, hdAt(0x3100))
	if us := e.m.u64(hdAt(0x3100 + 24)); us != 10_000 {
		t.Errorf("getitimer: %d µs left, want 10000", us)
	}
	e.th.checkCPUTimers()
	if e.th.sig.pending&sigBit(int(unix.SIGPROF)) != 0 {
		t.Fatal("SIGPROF before the deadline")
	}
	e.th.ctx.UserNs += 35_000_000 // past it by more than an interval: one signal
	e.th.checkCPUTimers()
	if e.th.sig.pending&sigBit(int(unix.SIGPROF)) == 0 {
		t.Fatal("no SIGPROF after the deadline")
	}
	e.want(0, unix.SYS_GETITIMER, unix.ITIMER_PROF, hdAt(0x3100))
	if us := e.m.u64(hdAt(0x3100 + 24)); us != 5_000 {
		t.Errorf("re-armed with %d µs left, want 5000 (the next interval boundary)", us)
	}
	// Disarm: the old value comes back, and no alarm is set.
	e.want(0, unix.SYS_SETITIMER, unix.ITIMER_PROF, tv(0x3000, 0, 0), hdAt(0x3200))
	if us := e.m.u64(hdAt(0x3200 + 8)); us != 10_000 {
		t.Errorf("old interval %d µs, want 10000", us)
	}
	e.th.cpuAlarm()
	if e.th.ctx.CPUAlarm != 0 {
		t.Errorf("CPUAlarm %d with no timer armed", e.th.ctx.CPUAlarm)
	}
	e.want(hdErr(unix.EINVAL), unix.SYS_SETITIMER, 3, tv(0x3000, 0, time.Second), 0)
}

// TestProcessPosixTimers: a CLOCK_MONOTONIC timer signals the thread
// SIGEV_THREAD_ID names with SI_TIMER, its ID and sigev_value; gettime
// tells the time left; delete disarms; bad arguments are EINVAL, the
// CPU-time clocks ENOTSUP.
func TestProcessPosixTimers(t *testing.T) {
	e := newHdEnv(t, hdRoot(t))
	le := binary.LittleEndian
	sev := func(value uint64, signo, notify, tid int32) uint64 {
		b := make([]byte, 64)
		le.PutUint64(b, value)
		le.PutUint32(b[8:], uint32(signo))
		le.PutUint32(b[12:], uint32(notify))
		le.PutUint32(b[16:], uint32(tid))
		return e.m.put(0x3000, b)
	}
	its := func(interval, value time.Duration) uint64 {
		b := make([]byte, 32)
		le.PutUint64(b[0:], uint64(interval/time.Second))
		le.PutUint64(b[8:], uint64(interval%time.Second))
		le.PutUint64(b[16:], uint64(value/time.Second))
		le.PutUint64(b[24:], uint64(value%time.Second))
		return e.m.put(0x3100, b)
	}
	idp := hdAt(0x3200)
	e.want(0, unix.SYS_TIMER_CREATE, unix.CLOCK_MONOTONIC, sev(0xfeed, int32(unix.SIGUSR1), sigevThreadID, e.th.tid), idp)
	id := uint64(e.m.u32(idp))
	e.want(0, unix.SYS_TIMER_SETTIME, id, 0, its(0, 50*time.Millisecond), 0)
	e.want(0, unix.SYS_TIMER_GETTIME, id, hdAt(0x3300))
	if left := e.m.u64(hdAt(0x3300+16))*1e9 + e.m.u64(hdAt(0x3300+24)); left == 0 || left > 50e6 {
		t.Errorf("timer_gettime: %d ns left of 50 ms", left)
	}
	deadline := time.Now().Add(5 * time.Second)
	pending := func() uint64 {
		e.th.sig.mu.Lock()
		defer e.th.sig.mu.Unlock()
		return e.th.sig.pending
	}
	for pending()&sigBit(int(unix.SIGUSR1)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the timer never signalled")
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.th.sig.mu.Lock()
	info := e.th.sig.info[unix.SIGUSR1]
	e.th.sig.mu.Unlock()
	if info.code != siTimer || info.timerID != int32(id) || info.value != 0xfeed {
		t.Errorf("siginfo %+v, want SI_TIMER, timer %d, value 0xfeed", info, id)
	}
	e.want(0, unix.SYS_TIMER_GETTIME, id, hdAt(0x3300))
	if left := e.m.u64(hdAt(0x3300 + 24)); left != 0 {
		t.Errorf("a one-shot timer that fired has %d ns left", left)
	}
	e.want(0, unix.SYS_TIMER_GETOVERRUN, id)
	e.want(0, unix.SYS_TIMER_DELETE, id)
	e.want(hdErr(unix.EINVAL), unix.SYS_TIMER_DELETE, id)
	e.want(hdErr(unix.EINVAL), unix.SYS_TIMER_SETTIME, id, 0, its(0, time.Second), 0)
	e.want(hdErr(unix.EINVAL), unix.SYS_TIMER_CREATE, 99, 0, idp)
	e.want(hdErr(unix.ENOTSUP), unix.SYS_TIMER_CREATE, unix.CLOCK_THREAD_CPUTIME_ID, 0, idp)
	e.want(hdErr(unix.EINVAL), unix.SYS_TIMER_CREATE, unix.CLOCK_MONOTONIC, sev(0, int32(unix.SIGUSR1), 2, 0), idp)
	e.want(hdErr(unix.EINVAL), unix.SYS_TIMER_CREATE, unix.CLOCK_MONOTONIC, sev(0, int32(unix.SIGUSR1), sigevThreadID, 9999), idp)
	e.want(hdErr(unix.EINVAL), unix.SYS_TIMER_CREATE, unix.CLOCK_MONOTONIC, sev(0, 65, sigevSignal, 0), idp)
	// A NULL sigevent: SIGALRM to the process, sigev_value the ID.
	e.want(0, unix.SYS_TIMER_CREATE, unix.CLOCK_REALTIME, 0, idp)
	id2 := uint64(e.m.u32(idp))
	e.want(0, unix.SYS_TIMER_SETTIME, id2, unix.TIMER_ABSTIME, its(0, time.Duration(e.m.Realtime())+time.Hour), 0)
	e.want(0, unix.SYS_TIMER_GETTIME, id2, hdAt(0x3300))
	if left := e.m.u64(hdAt(0x3300 + 16)); left < 3500 || left > 3600 {
		t.Errorf("an absolute timer an hour ahead has %d s left", left)
	}
	// A 1 ns interval does not keep the kernel firing: expiries come at
	// least minRearm apart. Each expiry reads the test machine's clock,
	// which steps on every reading: 20 ms of a 1 ns timer take a few
	// hundred readings, not the tens of thousands a storm would.
	e.want(0, unix.SYS_TIMER_CREATE, unix.CLOCK_MONOTONIC, sev(0, int32(unix.SIGUSR2), sigevNone, 0), idp)
	id3 := uint64(e.m.u32(idp))
	readings := func() int64 {
		e.m.mu.Lock()
		defer e.m.mu.Unlock()
		return e.m.mono / hdClockStep
	}
	before := readings()
	e.want(0, unix.SYS_TIMER_SETTIME, id3, 0, its(1, 1), 0)
	time.Sleep(20 * time.Millisecond)
	if n := readings() - before; n > 2000 {
		t.Errorf("a 1 ns timer read the clock %d times in 20 ms: it fires without pause", n)
	}
	if ov := e.call(unix.SYS_TIMER_GETOVERRUN, id3); ov == 0 {
		t.Error("no overrun counted for a 1 ns timer")
	}
	e.p.deleteTimers()
	e.want(hdErr(unix.EINVAL), unix.SYS_TIMER_GETTIME, id2, hdAt(0x3300))
}
