package syscallshim

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"yolk/amd64"
	"yolk/linux/abi"
)

// sysArchPrctl implements arch_prctl(2): the FS base (the thread pointer
// of every x86-64 C library) is per thread and loaded on each entry into
// the program; so is the GS base where the CPU has FSGSBASE (else
// ARCH_SET_GS is EINVAL). CET (0x3001) is EINVAL as on kernels without
// shadow stacks, which glibc accepts.
func sysArchPrctl(t *Thread, a Args) (uint64, error) {
	switch a[0] {
	case abi.ARCH_SET_FS:
		return 0, setBase(&t.ctx.FSBase, a[1])
	case abi.ARCH_GET_FS:
		return 0, t.put64(a[1], t.ctx.FSBase)
	case abi.ARCH_SET_GS:
		// The trap path loads a thread's GS base on every return to
		// ring 3 only where the CPU has FSGSBASE (amd64.FSGSBase).
		if !amd64.FSGSBase() {
			t.logOnce("arch_prctl-gs", "arch_prctl(ARCH_SET_GS) needs a CPU with FSGSBASE: EINVAL")
			return 0, unix.EINVAL
		}
		return 0, setBase(&t.ctx.GSBase, a[1])
	case abi.ARCH_GET_GS:
		return 0, t.put64(a[1], t.ctx.GSBase)
	}
	return 0, unix.EINVAL
}

// setBase sets an FS or GS base: a canonical address in the program's
// half, else EPERM, as Linux answers.
func setBase(base *uint64, v uint64) error {
	if !amd64.Canonical(v) || v >= 1<<47 {
		return unix.EPERM
	}
	*base = v
	return nil
}

func sysSetTidAddress(t *Thread, a Args) (uint64, error) {
	t.clearTID = a[0]
	return uint64(t.tid), nil
}

// sysSetRobustList records the list head. The list is walked only when a
// thread dies holding robust mutexes; yolk does not walk it (it would
// matter only for threads killed by signals, which yolk does not do).
func sysSetRobustList(t *Thread, a Args) (uint64, error) {
	if a[1] != 24 {
		return 0, unix.EINVAL
	}
	t.robustList = a[0]
	return 0, nil
}

func sysGetRobustList(t *Thread, a Args) (uint64, error) {
	if a[0] != 0 && int32(a[0]) != t.tid {
		return 0, unix.ESRCH
	}
	if err := t.put64(a[1], t.robustList); err != nil {
		return 0, err
	}
	return 0, t.put64(a[2], 24)
}

// sysClone implements clone(2). With CLONE_THREAD it makes a thread of
// the caller's process (CLONE_VM|CLONE_SIGHAND required, as on Linux);
// without it a new process (fork, vfork, posix_spawn's
// CLONE_VM|CLONE_VFORK), see cloneProcess. CLONE_SETTLS,
// CLONE_PARENT_SETTID, CLONE_CHILD_SETTID and CLONE_CHILD_CLEARTID work
// for both.
func sysClone(t *Thread, a Args) (uint64, error) {
	return t.clone(cloneArgs{flags: a[0], stack: a[1], ptid: a[2], ctid: a[3], tls: a[4]})
}

// cloneArgs is what clone(2) and clone3(2) ask.
type cloneArgs struct {
	flags, stack, ptid, ctid, tls uint64
	pidfd                         uint64 // clone3: where CLONE_PIDFD stores the descriptor
	clone3                        bool
}

// cloneKnown are the flags yolk implements or may ignore (namespaces,
// ptrace and cgroup flags are refused with EINVAL).
const cloneKnown = 0xff | unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
	unix.CLONE_VFORK | unix.CLONE_PARENT | unix.CLONE_THREAD | unix.CLONE_SYSVSEM |
	unix.CLONE_SETTLS | unix.CLONE_PARENT_SETTID | unix.CLONE_CHILD_CLEARTID |
	unix.CLONE_DETACHED | unix.CLONE_CHILD_SETTID | unix.CLONE_IO | unix.CLONE_PIDFD

func (t *Thread) clone(ca cloneArgs) (uint64, error) {
	flags := ca.flags
	if flags&^cloneKnown != 0 {
		return t.nosysArg("clone flags", flags&^cloneKnown)
	}
	if flags&unix.CLONE_SIGHAND != 0 && flags&unix.CLONE_VM == 0 ||
		flags&unix.CLONE_THREAD != 0 && flags&unix.CLONE_SIGHAND == 0 {
		return 0, unix.EINVAL
	}
	if flags&unix.CLONE_PIDFD != 0 && (flags&unix.CLONE_THREAD != 0 || !ca.clone3 && flags&unix.CLONE_PARENT_SETTID != 0) {
		return 0, unix.EINVAL // the pidfd would go where the TID goes
	}
	if flags&unix.CLONE_SETTLS != 0 && (!amd64.Canonical(ca.tls) || ca.tls >= 1<<47) {
		return 0, unix.EPERM
	}
	if flags&unix.CLONE_THREAD == 0 {
		return t.cloneProcess(ca)
	}
	p := t.p
	p.sys.mu.Lock()
	tid, ok := p.sys.newIDLocked()
	p.sys.mu.Unlock()
	if !ok {
		return 0, unix.EAGAIN
	}
	ctx := t.childContext(ca)
	c := p.newThread(ctx, tid)
	c.setMask(t.mask())
	c.keepCaps = t.keepCaps
	if err := t.cloneTIDs(c, ca); err != nil {
		return 0, err
	}
	go c.run()
	return uint64(c.tid), nil
}

// childContext returns the registers a clone child starts with: the
// caller's, returning 0, on the new stack and TLS when given.
func (t *Thread) childContext(ca cloneArgs) *amd64.Context {
	ctx := amd64.NewContext()
	ctx.CopyFrom(t.ctx)
	ctx.Fast = amd64.FastCalls{} // the child's own, published when it runs
	ctx.Regs.RAX = 0
	if ca.stack != 0 {
		ctx.Regs.RSP = ca.stack
	}
	if ca.flags&unix.CLONE_SETTLS != 0 {
		ctx.FSBase = ca.tls
	}
	return ctx
}

// cloneTIDs stores the child's TID where CLONE_PARENT_SETTID and
// CLONE_CHILD_SETTID ask (the latter in the child's memory) and records
// CLONE_CHILD_CLEARTID.
func (t *Thread) cloneTIDs(c *Thread, ca cloneArgs) error {
	if ca.flags&unix.CLONE_PARENT_SETTID != 0 {
		if err := t.put32(ca.ptid, uint32(c.tid)); err != nil {
			return err
		}
	}
	if ca.flags&unix.CLONE_CHILD_SETTID != 0 {
		if err := c.put32(ca.ctid, uint32(c.tid)); err != nil {
			return err
		}
	}
	if ca.flags&unix.CLONE_CHILD_CLEARTID != 0 {
		c.clearTID = ca.ctid
	}
	return nil
}

// sysExit ends the calling thread; the last thread's exit ends the
// process with its status.
func sysExit(t *Thread, a Args) (uint64, error) {
	p := t.p
	t.exited = true
	p.mu.Lock()
	if !p.exiting && len(p.threads) == 1 {
		p.exitCode = int(a[0]) & 0xff
	}
	p.mu.Unlock()
	return 0, nil
}

// sysExitGroup implements exit_group(2): every thread of the process
// ends, and the process with status.
func sysExitGroup(t *Thread, a Args) (uint64, error) {
	t.exited = true
	t.p.groupExit(int(a[0])&0xff, 0, t)
	return 0, nil
}

func sysSchedYield(t *Thread, a Args) (uint64, error) {
	runtime.Gosched()
	return 0, nil
}

// sysSchedGetaffinity reports every CPU yolk runs programs on.
func sysSchedGetaffinity(t *Thread, a Args) (uint64, error) {
	if a[1] < 8 || a[1]%8 != 0 {
		return 0, unix.EINVAL
	}
	target, err := t.affinityTarget(int32(a[0]))
	if err != nil {
		return 0, err
	}
	m := atomic.LoadUint64(&target.ctx.Affinity)
	if m == 0 {
		m = cpuMask(t.p.m)
	}
	return 8, t.put64(a[2], m)
}

// cpuCounter is implemented by machines that say how many CPUs they
// have (kernel.Machine); others have one.
type cpuCounter interface{ NumCPUs() int }

// numCPUs returns how many CPUs m has.
func numCPUs(m Machine) int {
	if c, ok := m.(cpuCounter); ok {
		return min(max(c.NumCPUs(), 1), 64)
	}
	return 1
}

// cpuMask is the affinity mask of every CPU of m.
func cpuMask(m Machine) uint64 {
	if n := numCPUs(m); n < 64 {
		return 1<<n - 1
	}
	return ^uint64(0)
}

// sysGetcpu implements getcpu(2): the CPU that last ran the thread's
// program (where it was when it made this call), NUMA node 0.
func sysGetcpu(t *Thread, a Args) (uint64, error) {
	if a[0] != 0 {
		cpu := uint32(0)
		if c := t.ctx.LastCPU; c != 0 {
			cpu = uint32(c - 1)
		}
		if err := t.put32(a[0], cpu); err != nil {
			return 0, err
		}
	}
	if a[1] != 0 {
		if err := t.put32(a[1], 0); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// sysGetMempolicy implements get_mempolicy(2) for a machine of one NUMA
// node whose policy is always MPOL_DEFAULT (set_mempolicy and mbind are
// not supported), as Linux's do_get_mempolicy answers there: the mode is
// MPOL_DEFAULT with an empty node mask; MPOL_F_MEMS_ALLOWED gives node 0;
// MPOL_F_NODE|MPOL_F_ADDR gives the node of a mapped address (0, EFAULT
// when unmapped); MPOL_F_NODE alone is EINVAL (no interleave policy).
func sysGetMempolicy(t *Thread, a Args) (uint64, error) {
	modep, nmask, maxnode, addr, flags := a[0], a[1], a[2], a[3], a[4]
	if flags&^uint64(unix.MPOL_F_NODE|unix.MPOL_F_ADDR|unix.MPOL_F_MEMS_ALLOWED) != 0 {
		return 0, unix.EINVAL
	}
	if nmask != 0 && maxnode < 1 { // fewer bits than nodes (nr_node_ids 1)
		return 0, unix.EINVAL
	}
	var mode uint32 = unix.MPOL_DEFAULT
	var nodes uint64
	switch {
	case flags&unix.MPOL_F_MEMS_ALLOWED != 0:
		if flags&(unix.MPOL_F_NODE|unix.MPOL_F_ADDR) != 0 {
			return 0, unix.EINVAL
		}
		nodes = 1
	case flags&unix.MPOL_F_ADDR != 0:
		if _, ok := t.as().Lookup(addr); !ok {
			return 0, unix.EFAULT
		}
	case flags&unix.MPOL_F_NODE != 0:
		return 0, unix.EINVAL
	}
	if modep != 0 {
		if err := t.put32(modep, mode); err != nil {
			return 0, err
		}
	}
	if nmask != 0 {
		// Linux writes ALIGN(maxnode-1, 64)/8 bytes: the first long holds
		// node 0; the rest (up to its MAX_NUMNODES) are zero.
		n := ((maxnode - 1 + 63) / 64) * 8
		if n > 128 {
			n = 128 // the rest Linux clears too: bounded here
		}
		if n > 0 {
			b := make([]byte, n)
			binary.LittleEndian.PutUint64(b, nodes)
			if err := t.copyOut(nmask, b); err != nil {
				return 0, err
			}
		}
	}
	return 0, nil
}

// sysSetMempolicy implements set_mempolicy(2) for MPOL_DEFAULT, the only
// policy there is (get_mempolicy reports it): it succeeds with an empty
// node mask, as Linux's mpol_new does; other modes are EINVAL, logged.
func sysSetMempolicy(t *Thread, a Args) (uint64, error) {
	mode, nmask, maxnode := a[0], a[1], a[2]
	if mode != unix.MPOL_DEFAULT {
		return t.nosysArg("set_mempolicy mode", mode)
	}
	if nmask != 0 && maxnode > 1 {
		n := min((maxnode-1+63)/64, 16) * 8 // a mask beyond 1024 nodes is all zeros to Linux too
		b, err := t.copyIn(nmask, n)
		if err != nil {
			return 0, err
		}
		for _, c := range b {
			if c != 0 {
				return 0, unix.EINVAL // MPOL_DEFAULT takes no nodes
			}
		}
	}
	return 0, nil
}

// capLastCap is CAP_LAST_CAP of the Linux the kernel claims to be
// (6.1: CAP_CHECKPOINT_RESTORE), as /proc/sys/kernel/cap_last_cap says.
const capLastCap = 40

// sysPrctl implements PR_SET_NAME/PR_GET_NAME (the thread name is the
// command name in reports) and PR_CAPBSET_READ (every capability is in
// the bounding set: nothing ever drops one); PR_SET_VMA is EINVAL as on
// kernels without CONFIG_ANON_VMA_NAME. Others: EINVAL, logged.
func sysPrctl(t *Thread, a Args) (uint64, error) {
	switch a[0] {
	case unix.PR_SET_NAME:
		// Linux reads at most 15 bytes and keeps what it read.
		s, err := t.readString(a[1], 15)
		if err != nil && err != unix.ENAMETOOLONG {
			return 0, err
		}
		t.p.mu.Lock()
		t.p.threadName = s
		t.p.mu.Unlock()
		return 0, nil
	case unix.PR_GET_NAME:
		t.p.mu.Lock()
		n := t.p.threadName
		if n == "" {
			n = t.p.comm
		}
		t.p.mu.Unlock()
		b := make([]byte, 16)
		copy(b, n)
		b[15] = 0
		return 0, t.copyOut(a[1], b)
	case unix.PR_SET_VMA:
		return 0, unix.EINVAL
	case unix.PR_CAPBSET_READ:
		if a[1] > capLastCap {
			return 0, unix.EINVAL
		}
		return 1, nil
	case unix.PR_GET_KEEPCAPS:
		if t.keepCaps {
			return 1, nil
		}
		return 0, nil
	case unix.PR_SET_KEEPCAPS:
		if a[1] > 1 {
			return 0, unix.EINVAL
		}
		t.keepCaps = a[1] == 1
		return 0, nil
	}
	return t.nosysArg("prctl option", a[0])
}

// nosysArg answers EINVAL for an unsupported sub-operation, logged once.
func (t *Thread) nosysArg(what string, v uint64) (uint64, error) {
	t.logOnce(what+":"+strconv.FormatUint(v, 10), fmt.Sprintf("%s %#x is not supported: EINVAL", what, v))
	return 0, unix.EINVAL
}

// logOnce prints "yolk: COMM[TID]: msg" the first time key is seen.
func (t *Thread) logOnce(key, msg string) {
	s := t.p.sys
	s.logMu.Lock()
	if s.loggedOps == nil {
		s.loggedOps = map[string]bool{}
	}
	first := !s.loggedOps[key]
	s.loggedOps[key] = true
	s.logMu.Unlock()
	if first {
		t.p.printf("yolk: %s[%d]: %s\n", t.p.name(), t.tid, msg)
	}
}

// futexTable holds the threads waiting in futex(2), by key: an address
// in one memory (private futexes, memory.futex) or a place in a shared
// object (shared futexes, System.sharedFutex).
type futexTable[K comparable] struct {
	mu      sync.Mutex
	waiters map[K][]*futexWaiter
}

// sharedFutexKey names a futex word in a MAP_SHARED mapping as Linux's
// get_futex_key does: by the object mapped (a file's page cache, shared
// memory) and the offset in it, so that processes mapping it at any
// address meet.
type sharedFutexKey struct {
	obj any
	off uint64
}

type futexWaiter struct {
	bitset uint32
	ch     chan struct{}
}

func (ft *futexTable[K]) init() { ft.waiters = map[K][]*futexWaiter{} }

// wake wakes up to n waiters on addr whose bitset intersects mask.
func (ft *futexTable[K]) wake(addr K, n int, mask uint32) int {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ws := ft.waiters[addr]
	woken := 0
	keep := ws[:0]
	for _, w := range ws {
		if woken < n && w.bitset&mask != 0 {
			close(w.ch)
			woken++
			continue
		}
		keep = append(keep, w)
	}
	if len(keep) == 0 {
		delete(ft.waiters, addr)
	} else {
		ft.waiters[addr] = keep
	}
	return woken
}

// sysFutex implements futex(2): WAIT, WAKE, WAIT_BITSET, WAKE_BITSET and
// REQUEUE/CMP_REQUEUE (as wake-all, which futex semantics permit: waiters
// recheck their condition). A futex without FUTEX_PRIVATE_FLAG in a
// MAP_SHARED mapping is keyed by the object and offset, so processes
// sharing it (POSIX semaphores in /dev/shm, process-shared mutexes) wake
// each other; any other is keyed by its address in the caller's memory.
func sysFutex(t *Thread, a Args) (uint64, error) {
	addr, op := a[0], a[1]
	if addr%4 != 0 {
		return 0, unix.EINVAL
	}
	mem := t.p.memory()
	if op&abi.FUTEX_PRIVATE_FLAG == 0 {
		if v, ok := mem.as.Lookup(addr); ok && v.Shared && v.Backing != nil {
			obj := any(v.Backing)
			if c := cacheOf(v.Backing); c != nil {
				obj = c // one key for both views of a file's cache
			}
			return futexDo(t, &t.p.sys.sharedFutex, sharedFutexKey{obj, v.Offset + addr - v.Start}, a)
		}
	}
	return futexDo(t, &mem.futex, addr, a)
}

// futexDo is sysFutex on the word at a[0], known in ft as key.
func futexDo[K comparable](t *Thread, ft *futexTable[K], key K, a Args) (uint64, error) {
	addr, op, val, timeout, val3 := a[0], a[1], uint32(a[2]), a[3], uint32(a[5])
	cmd := op &^ (abi.FUTEX_PRIVATE_FLAG | abi.FUTEX_CLOCK_REALTIME)
	switch cmd {
	case abi.FUTEX_WAIT, abi.FUTEX_WAIT_BITSET:
		mask := ^uint32(0)
		var deadline time.Time
		if cmd == abi.FUTEX_WAIT_BITSET {
			mask = val3
			if mask == 0 {
				return 0, unix.EINVAL
			}
		}
		if timeout != 0 {
			ns, err := t.timespec(timeout)
			if err != nil {
				return 0, err
			}
			if cmd == abi.FUTEX_WAIT {
				deadline = time.Now().Add(time.Duration(ns)) // relative
			} else {
				// absolute, on CLOCK_REALTIME or CLOCK_MONOTONIC
				now := t.p.m.Monotonic()
				if op&abi.FUTEX_CLOCK_REALTIME != 0 {
					now = t.p.m.Realtime()
				}
				deadline = time.Now().Add(time.Duration(ns - now))
			}
		}
		w := &futexWaiter{bitset: mask, ch: make(chan struct{})}
		ft.mu.Lock()
		cur, err := t.get32(addr)
		if err != nil {
			ft.mu.Unlock()
			return 0, err
		}
		if cur != val {
			ft.mu.Unlock()
			return 0, unix.EAGAIN
		}
		if ft.waiters == nil {
			ft.waiters = map[K][]*futexWaiter{}
		}
		ft.waiters[key] = append(ft.waiters[key], w)
		ft.mu.Unlock()
		var timer <-chan time.Time
		if !deadline.IsZero() {
			tm := time.NewTimer(time.Until(deadline))
			defer tm.Stop()
			timer = tm.C
		}
		errno := unix.ETIMEDOUT
	wait:
		for {
			select {
			case <-w.ch:
				return 0, nil
			case <-t.sig.wake:
				if t.interrupting() {
					errno = unix.EINTR
					break wait
				}
			case <-timer:
				break wait
			}
		}
		{
			ft.mu.Lock()
			ws := ft.waiters[key]
			for i, x := range ws {
				if x == w {
					if rest := append(ws[:i:i], ws[i+1:]...); len(rest) > 0 {
						ft.waiters[key] = rest
					} else {
						delete(ft.waiters, key)
					}
					ft.mu.Unlock()
					return 0, errno
				}
			}
			ft.mu.Unlock()
			return 0, nil // woken as the timer fired or the signal came
		}
	case abi.FUTEX_WAKE:
		return uint64(ft.wake(key, int(int32(val)), ^uint32(0))), nil
	case abi.FUTEX_WAKE_BITSET:
		if val3 == 0 {
			return 0, unix.EINVAL
		}
		return uint64(ft.wake(key, int(int32(val)), val3)), nil
	case abi.FUTEX_REQUEUE, abi.FUTEX_CMP_REQUEUE:
		if cmd == abi.FUTEX_CMP_REQUEUE {
			cur, err := t.get32(addr)
			if err != nil {
				return 0, err
			}
			if cur != val3 {
				return 0, unix.EAGAIN
			}
		}
		n := ft.wake(key, 1<<30, ^uint32(0))
		return uint64(n), nil
	}
	return t.nosysArg("futex op", cmd)
}
