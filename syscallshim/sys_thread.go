package syscallshim

import (
	"runtime"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"yolk/amd64"
	"yolk/linux/abi"
)

// sysArchPrctl implements arch_prctl(2): the FS base (the thread pointer
// of every x86-64 C library) is per thread and loaded on each entry into
// the program. GS is not supported (EINVAL), nor CET (0x3001, EINVAL as on
// kernels without shadow stacks, which glibc accepts).
func sysArchPrctl(t *Thread, a Args) (uint64, error) {
	switch a[0] {
	case abi.ARCH_SET_FS:
		if !amd64.Canonical(a[1]) || a[1] >= 1<<47 {
			return 0, unix.EPERM
		}
		t.ctx.FSBase = a[1]
		return 0, nil
	case abi.ARCH_GET_FS:
		return 0, t.put64(a[1], t.ctx.FSBase)
	}
	return 0, unix.EINVAL
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

// sysClone implements clone(2) for threads: CLONE_VM|CLONE_THREAD|
// CLONE_SIGHAND (what pthread_create and the Go runtime ask), with
// CLONE_SETTLS, CLONE_PARENT_SETTID, CLONE_CHILD_SETTID and
// CLONE_CHILD_CLEARTID. New processes (fork, vfork) are not supported
// yet: ENOSYS.
func sysClone(t *Thread, a Args) (uint64, error) {
	flags, stack, ptid, ctid, tls := a[0], a[1], a[2], a[3], a[4]
	const thread = unix.CLONE_VM | unix.CLONE_THREAD | unix.CLONE_SIGHAND
	if flags&thread != thread {
		if flags&unix.CLONE_VM == 0 || flags&unix.CLONE_VFORK != 0 {
			return t.nosys(unix.SYS_CLONE) // fork: a later issue
		}
		return 0, unix.EINVAL
	}
	ctx := new(amd64.Context)
	*ctx = *t.ctx
	ctx.Regs.RAX = 0
	if stack != 0 {
		ctx.Regs.RSP = stack
	}
	if flags&unix.CLONE_SETTLS != 0 {
		if !amd64.Canonical(tls) || tls >= 1<<47 {
			return 0, unix.EPERM
		}
		ctx.FSBase = tls
	}
	c := t.p.newThread(ctx)
	c.sigmask = t.sigmask
	if flags&unix.CLONE_PARENT_SETTID != 0 {
		if err := t.put32(ptid, uint32(c.tid)); err != nil {
			return 0, err
		}
	}
	if flags&unix.CLONE_CHILD_SETTID != 0 {
		if err := t.put32(ctid, uint32(c.tid)); err != nil {
			return 0, err
		}
	}
	if flags&unix.CLONE_CHILD_CLEARTID != 0 {
		c.clearTID = ctid
	}
	go c.run()
	return uint64(c.tid), nil
}

// sysExit ends the calling thread; the last thread's exit ends the
// program with its status.
func sysExit(t *Thread, a Args) (uint64, error) {
	p := t.p
	t.exited = true
	if t.clearTID != 0 {
		// CLONE_CHILD_CLEARTID: clear the TID word and wake a joiner.
		if t.put32(t.clearTID, 0) == nil {
			p.futex.wake(t.clearTID, 1, ^uint32(0))
		}
	}
	p.mu.Lock()
	delete(p.threads, t.tid)
	last := len(p.threads) == 0
	p.mu.Unlock()
	if last {
		p.exit(int(a[0]))
	}
	return 0, nil
}

func sysExitGroup(t *Thread, a Args) (uint64, error) {
	t.exited = true
	t.p.exit(int(a[0]))
	return 0, nil
}

func sysSchedYield(t *Thread, a Args) (uint64, error) {
	runtime.Gosched()
	return 0, nil
}

// sysSchedGetaffinity reports the one CPU yolk runs programs on.
func sysSchedGetaffinity(t *Thread, a Args) (uint64, error) {
	if a[1] < 8 || a[1]%8 != 0 {
		return 0, unix.EINVAL
	}
	return 8, t.put64(a[2], 1)
}

// sysGetcpu implements getcpu(2): CPU 0, NUMA node 0.
func sysGetcpu(t *Thread, a Args) (uint64, error) {
	if a[0] != 0 {
		if err := t.put32(a[0], 0); err != nil {
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

// sysPrctl implements PR_SET_NAME/PR_GET_NAME (the thread name is the
// command name in reports); PR_SET_VMA is EINVAL as on kernels without
// CONFIG_ANON_VMA_NAME. Others: EINVAL, logged.
func sysPrctl(t *Thread, a Args) (uint64, error) {
	switch a[0] {
	case unix.PR_SET_NAME:
		s, err := t.readString(a[1], 16)
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
	}
	return t.nosysArg("prctl option", a[0])
}

// nosysArg answers EINVAL for an unsupported sub-operation, logged once.
func (t *Thread) nosysArg(what string, v uint64) (uint64, error) {
	key := what + ":" + strconv.FormatUint(v, 10)
	t.p.mu.Lock()
	if t.p.loggedOps == nil {
		t.p.loggedOps = map[string]bool{}
	}
	first := !t.p.loggedOps[key]
	t.p.loggedOps[key] = true
	t.p.mu.Unlock()
	if first {
		t.p.printf("yolk: %s[%d]: %s %#x is not supported: EINVAL\n", t.p.comm, t.tid, what, v)
	}
	return 0, unix.EINVAL
}

// futexTable holds the threads waiting in futex(2), by address.
type futexTable struct {
	mu      sync.Mutex
	waiters map[uint64][]*futexWaiter
}

type futexWaiter struct {
	bitset uint32
	ch     chan struct{}
}

func (ft *futexTable) init() { ft.waiters = map[uint64][]*futexWaiter{} }

// wake wakes up to n waiters on addr whose bitset intersects mask.
func (ft *futexTable) wake(addr uint64, n int, mask uint32) int {
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
// recheck their condition), private or shared alike (one process).
func sysFutex(t *Thread, a Args) (uint64, error) {
	addr, op, val, timeout, val3 := a[0], a[1], uint32(a[2]), a[3], uint32(a[5])
	ft := &t.p.futex
	cmd := op &^ (abi.FUTEX_PRIVATE_FLAG | abi.FUTEX_CLOCK_REALTIME)
	if addr%4 != 0 {
		return 0, unix.EINVAL
	}
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
		ft.waiters[addr] = append(ft.waiters[addr], w)
		ft.mu.Unlock()
		if deadline.IsZero() {
			<-w.ch
			return 0, nil
		}
		tm := time.NewTimer(time.Until(deadline))
		defer tm.Stop()
		select {
		case <-w.ch:
			return 0, nil
		case <-tm.C:
			ft.mu.Lock()
			ws := ft.waiters[addr]
			for i, x := range ws {
				if x == w {
					if rest := append(ws[:i:i], ws[i+1:]...); len(rest) > 0 {
						ft.waiters[addr] = rest
					} else {
						delete(ft.waiters, addr)
					}
					ft.mu.Unlock()
					return 0, unix.ETIMEDOUT
				}
			}
			ft.mu.Unlock()
			return 0, nil // woken as the timer fired
		}
	case abi.FUTEX_WAKE:
		return uint64(ft.wake(addr, int(int32(val)), ^uint32(0))), nil
	case abi.FUTEX_WAKE_BITSET:
		if val3 == 0 {
			return 0, unix.EINVAL
		}
		return uint64(ft.wake(addr, int(int32(val)), val3)), nil
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
		n := ft.wake(addr, 1<<30, ^uint32(0))
		return uint64(n), nil
	}
	return t.nosysArg("futex op", cmd)
}
