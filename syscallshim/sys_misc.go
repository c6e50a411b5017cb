package syscallshim

import (
	"encoding/binary"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Uname fields: the program sees a Linux it can trust for feature
// checks (glibc refuses kernels older than it was built for).
const (
	unameSysname = "Linux"
	unameNode    = "yolk"
	unameRelease = "6.1.0-yolk"
	unameVersion = "#1 SMP yolk"
	unameMachine = "x86_64"
)

func sysUname(t *Thread, a Args) (uint64, error) {
	var b [6 * 65]byte
	for i, s := range []string{unameSysname, unameNode, unameRelease, unameVersion, unameMachine, "(none)"} {
		copy(b[i*65:], s)
	}
	return 0, t.copyOut(a[0], b[:])
}

// sysGetrandom fills the buffer from the kernel's random source (RDRAND
// where the CPU has it). GRND_NONBLOCK and GRND_RANDOM never block.
func sysGetrandom(t *Thread, a Args) (uint64, error) {
	if a[2]&^(unix.GRND_NONBLOCK|unix.GRND_RANDOM|unix.GRND_INSECURE) != 0 {
		return 0, unix.EINVAL
	}
	n := a[1]
	if n > 1<<25 {
		n = 1 << 25
	}
	b := make([]byte, min(n, ioChunk))
	done := uint64(0)
	for done < n {
		c := b[:min(n-done, uint64(len(b)))]
		t.p.m.Random(c)
		w, err := t.as().CopyOut(a[0]+done, c)
		done += uint64(w)
		if err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
	}
	return n, nil
}

// Resource limits: the defaults a Linux shell starts with; programs may
// lower or raise them within the hard limit. They are recorded; only
// RLIMIT_NOFILE is enforced (the descriptor table's size: soft 1024, hard
// 65536, as systemd gives programs; Go raises its soft limit to the hard
// one at start).
func (p *Process) rlimit(res int) ([2]uint64, bool) {
	if v, ok := p.rlimits[res]; ok {
		return v, true
	}
	const inf = unix.RLIM_INFINITY
	switch res {
	case unix.RLIMIT_NOFILE:
		return [2]uint64{defaultNOFILE, maxFDs}, true
	case unix.RLIMIT_STACK:
		return [2]uint64{StackSize, inf}, true
	case unix.RLIMIT_CORE:
		return [2]uint64{0, inf}, true
	case unix.RLIMIT_NPROC, unix.RLIMIT_SIGPENDING:
		return [2]uint64{4096, 4096}, true
	case unix.RLIMIT_MEMLOCK:
		return [2]uint64{8 << 20, 8 << 20}, true
	case unix.RLIMIT_MSGQUEUE:
		return [2]uint64{819200, 819200}, true
	case unix.RLIMIT_CPU, unix.RLIMIT_FSIZE, unix.RLIMIT_DATA, unix.RLIMIT_RSS, unix.RLIMIT_AS,
		unix.RLIMIT_LOCKS, unix.RLIMIT_NICE, unix.RLIMIT_RTPRIO, unix.RLIMIT_RTTIME:
		return [2]uint64{inf, inf}, true
	}
	return [2]uint64{}, false
}

func (t *Thread) prlimit(res int, newp, oldp uint64) (uint64, error) {
	return t.prlimitOf(t.p, res, newp, oldp)
}

// prlimitOf gets and sets process p's limit res.
func (t *Thread) prlimitOf(p *Process, res int, newp, oldp uint64) (uint64, error) {
	var nv [2]uint64
	if newp != 0 {
		b, err := t.copyIn(newp, 16)
		if err != nil {
			return 0, err
		}
		nv = [2]uint64{binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])}
	}
	root := t.creds().euid == 0
	p.mu.Lock()
	defer p.mu.Unlock()
	cur, ok := p.rlimit(res)
	if !ok {
		return 0, unix.EINVAL
	}
	if newp != 0 {
		if nv[0] > nv[1] {
			return 0, unix.EINVAL
		}
		if nv[1] > cur[1] && !root {
			return 0, unix.EPERM // raising a hard limit needs CAP_SYS_RESOURCE
		}
		if res == unix.RLIMIT_NOFILE {
			if nv[1] > maxFDs {
				return 0, unix.EPERM // above nr_open, as for root on Linux
			}
			if p.files != nil {
				p.files.setLimit(int(nv[0]))
			}
		}
		p.rlimits[res] = nv
	}
	if oldp != 0 {
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:], cur[0])
		binary.LittleEndian.PutUint64(b[8:], cur[1])
		return 0, t.copyOut(oldp, b[:])
	}
	return 0, nil
}

// sysPrlimit64 implements prlimit64(2): another process's limits need the
// caller's real user and group IDs to match all of its IDs, or root.
func sysPrlimit64(t *Thread, a Args) (uint64, error) {
	pid := int32(a[0])
	if pid == 0 || pid == t.p.pid {
		return t.prlimit(int(a[1]), a[2], a[3])
	}
	if pid < 0 {
		return 0, unix.ESRCH
	}
	q := t.p.sys.live(pid)
	if q == nil {
		return 0, unix.ESRCH
	}
	me := t.creds()
	q.mu.Lock()
	c := q.cred
	q.mu.Unlock()
	if me.euid != 0 && (me.ruid != c.ruid || me.ruid != c.euid || me.ruid != c.suid ||
		me.rgid != c.rgid || me.rgid != c.egid || me.rgid != c.sgid) {
		return 0, unix.EPERM
	}
	return t.prlimitOf(q, int(a[1]), a[2], a[3])
}

func sysGetrlimit(t *Thread, a Args) (uint64, error) { return t.prlimit(int(a[0]), 0, a[1]) }
func sysSetrlimit(t *Thread, a Args) (uint64, error) { return t.prlimit(int(a[0]), a[1], 0) }

// sysSysinfo reports uptime and memory. Memory figures are the machine's
// (MemInfo); loads are zero.
func sysSysinfo(t *Thread, a Args) (uint64, error) {
	var b [112]byte
	le := binary.LittleEndian
	le.PutUint64(b[0:], uint64(t.p.m.Monotonic()/1e9))
	total, free := t.p.cfg.MemInfo()
	le.PutUint64(b[32:], total)
	le.PutUint64(b[40:], free)
	le.PutUint16(b[80:], 1)  // procs
	le.PutUint32(b[104:], 1) // mem_unit
	return 0, t.copyOut(a[0], b[:])
}

// sysGetrusage implements getrusage(2) partially: the user and system
// CPU time the kernel measures (the thread's, the process's threads'
// together, or its reaped children's); the other fields are zero. System
// time is the running time of the kernel thread that took a program
// thread's system call or fault, from its return to the kernel until it
// enters the program again.
func sysGetrusage(t *Thread, a Args) (uint64, error) {
	var c cpuTime
	switch int32(a[0]) {
	case unix.RUSAGE_SELF:
		c = t.p.times()
	case unix.RUSAGE_THREAD:
		c = t.times()
	case unix.RUSAGE_CHILDREN:
		c = t.p.childTimes()
	default:
		return 0, unix.EINVAL
	}
	return 0, t.putRusage(a[1], c)
}

// putRusage stores a struct rusage with times c, the rest zero.
func (t *Thread) putRusage(va uint64, c cpuTime) error {
	var b [144]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(c.user/1e9))
	binary.LittleEndian.PutUint64(b[8:], uint64(c.user%1e9/1e3))
	binary.LittleEndian.PutUint64(b[16:], uint64(c.sys/1e9))
	binary.LittleEndian.PutUint64(b[24:], uint64(c.sys%1e9/1e3))
	return t.copyOut(va, b[:])
}

// clockTicks converts ns to clock ticks (USER_HZ, 100 a second).
func clockTicks(ns int64) uint64 { return uint64(ns / 1e7) }

// sysTimes implements times(2) with getrusage's accounting; it returns
// clock ticks since boot.
func sysTimes(t *Thread, a Args) (uint64, error) {
	if a[0] != 0 {
		var b [32]byte
		self, child := t.p.times(), t.p.childTimes()
		binary.LittleEndian.PutUint64(b[0:], clockTicks(self.user))
		binary.LittleEndian.PutUint64(b[8:], clockTicks(self.sys))
		binary.LittleEndian.PutUint64(b[16:], clockTicks(child.user))
		binary.LittleEndian.PutUint64(b[24:], clockTicks(child.sys))
		if err := t.copyOut(a[0], b[:]); err != nil {
			return 0, err
		}
	}
	return clockTicks(t.p.m.Monotonic()), nil
}

// Scheduling: SCHED_OTHER, nice 0, on any CPU.
func sysSchedGetscheduler(t *Thread, a Args) (uint64, error) { return 0, nil } // SCHED_OTHER

func sysSchedGetparam(t *Thread, a Args) (uint64, error) { return 0, t.put32(a[1], 0) }

// sysSchedSetaffinity implements sched_setaffinity(2): the thread (0:
// the caller, else any thread by its TID) runs its program only on the
// mask's CPUs from its next entry into user mode on; one running on
// another CPU is kicked out of user mode at once to move. Bits past the
// machine's CPUs are dropped, as Linux keeps only the online ones; a
// mask with none of them is EINVAL. A mask shorter than 8 bytes is
// EINVAL here (Linux takes a shorter one, zero-extended).
func sysSchedSetaffinity(t *Thread, a Args) (uint64, error) {
	if a[1] < 8 {
		return 0, unix.EINVAL
	}
	m, err := t.get64(a[2])
	if err != nil {
		return 0, err
	}
	target, err := t.affinityTarget(int32(a[0]))
	if err != nil {
		return 0, err
	}
	all := cpuMask(t.p.m)
	if m&all == 0 {
		return 0, unix.EINVAL // none of the machine's CPUs
	}
	if m&all == all {
		m = 0 // any
	}
	atomic.StoreUint64(&target.ctx.Affinity, m&all)
	if target != t {
		if k, ok := t.p.m.(kicker); ok {
			k.Kick(target.ctx)
		}
	}
	return 0, nil
}

// affinityTarget returns the thread sched_[gs]etaffinity name: the
// caller for 0, else the thread with that TID (ESRCH if none).
func (t *Thread) affinityTarget(tid int32) (*Thread, error) {
	if tid == 0 || tid == t.tid {
		return t, nil
	}
	if tid < 0 {
		return nil, unix.ESRCH
	}
	s := t.p.sys
	s.mu.Lock()
	target, ok := s.threads[tid]
	s.mu.Unlock()
	if !ok {
		return nil, unix.ESRCH
	}
	return target, nil
}

func sysGetpriority(t *Thread, a Args) (uint64, error) { return 20, nil } // 20 - nice 0
