package kernel

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"yolk/amd64"
)

// tableSched returns an empty scheduler whose whole table is backed.
func tableSched() *Scheduler {
	return &Scheduler{T: new([maxThreads]Thread), backed: maxThreads}
}

// newSched returns a scheduler with n spawned threads (slots 1..n), all
// runnable.
func newSched(t *testing.T, n int) *Scheduler {
	s := tableSched()
	for k := 1; k <= n; k++ {
		i, ok := s.Spawn()
		if !ok || i != k {
			t.Fatalf("Spawn %d = %d, %v", k, i, ok)
		}
		s.Wake(i, 0)
	}
	return s
}

func TestSpawn(t *testing.T) {
	s := tableSched()
	seen := map[int]bool{}
	last := int32(0)
	for k := 0; k < maxThreads-1; k++ {
		i, ok := s.Spawn()
		if !ok {
			t.Fatalf("Spawn %d failed", k)
		}
		if i == 0 || i >= maxThreads || seen[i] {
			t.Fatalf("Spawn %d returned slot %d", k, i)
		}
		seen[i] = true
		th := &s.T[i]
		if th.Tid <= last {
			t.Fatalf("Tid %d after %d: not increasing", th.Tid, last)
		}
		last = th.Tid
		if th.State != Blocked {
			t.Errorf("new thread state %d, want Blocked until woken", th.State)
		}
	}
	if i, ok := s.Spawn(); ok {
		t.Fatalf("Spawn with every slot taken = %d", i)
	}
	if s.T[0].State != Free || s.T[0].Tid != 0 {
		t.Errorf("slot 0 touched: %+v", s.T[0].State)
	}
	// A freed slot is reused with a fresh Tid and a clean state.
	s.T[5].Regs.RAX = 99
	s.Block(5, waitFutex, 1234)
	s.Exit(5)
	i, ok := s.Spawn()
	if !ok || i != 5 {
		t.Fatalf("Spawn after Exit(5) = %d, %v", i, ok)
	}
	th := &s.T[5]
	if th.Tid != last+1 || th.Regs.RAX != 0 || th.deadline != 0 || th.wait != waitNone {
		t.Errorf("reused slot: Tid %d (want %d), RAX %d, deadline %d, wait %d", th.Tid, last+1, th.Regs.RAX, th.deadline, th.wait)
	}
}

// The table gets memory a page at a time as Spawn reaches new slots, and
// Spawn fails (as with every slot taken) when no more can be had; slots
// freed below the backed ones are reused without asking for more.
func TestSpawnBacksTable(t *testing.T) {
	size := unsafe.Sizeof(Thread{})
	var asked []uintptr
	limit := uintptr(3 * amd64.PageSize)
	s := &Scheduler{T: new([maxThreads]Thread)}
	s.back = func(n uintptr) bool {
		asked = append(asked, n)
		return n <= limit
	}
	perPage := int(amd64.PageSize / size)
	fits := int(limit / size) // slots in three pages
	for k := 1; k < fits; k++ {
		if i, ok := s.Spawn(); !ok || i != k {
			t.Fatalf("Spawn %d = %d, %v", k, i, ok)
		}
	}
	if i, ok := s.Spawn(); ok {
		t.Fatalf("Spawn beyond %d backed bytes = %d, want failure", limit, i)
	}
	for _, n := range asked {
		if n%amd64.PageSize != 0 || n > limit+amd64.PageSize {
			t.Errorf("asked to back %d bytes: want whole pages, one at a time", n)
		}
	}
	if len(asked) != 4 { // three pages, then the one refused
		t.Errorf("back called %d times (%v), want 4 for %d slots a page", len(asked), asked, perPage)
	}
	if s.backed != fits {
		t.Errorf("backed = %d, want %d", s.backed, fits)
	}
	s.Exit(2)
	asked = nil
	if i, ok := s.Spawn(); !ok || i != 2 {
		t.Errorf("Spawn after Exit(2) = %d, %v", i, ok)
	}
	if len(asked) != 0 {
		t.Errorf("reusing a slot asked for memory: %v", asked)
	}
}

func TestPick(t *testing.T) {
	cases := []struct {
		name     string
		runnable []int // slots made runnable (1..5 spawned)
		cur      int
		want     []int // successive Picks, each becoming current
	}{
		{"round robin from idle", []int{1, 2, 3}, 0, []int{1, 2, 3, 1, 2}},
		{"round robin from the middle", []int{1, 2, 3}, 2, []int{3, 1, 2, 3}},
		{"skips blocked", []int{1, 4}, 0, []int{1, 4, 1, 4}},
		{"only current", []int{3}, 3, []int{3, 3}},
		{"only another", []int{3}, 1, []int{3, 3}},
		{"none: idle", nil, 2, []int{0, 0}},
		{"none from idle", nil, 0, []int{0}},
		{"highest slot wraps", []int{5, 2}, 5, []int{2, 5, 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSched(t, 5)
			for i := 1; i <= 5; i++ {
				s.Block(i, waitSleep, 0)
			}
			for _, i := range c.runnable {
				s.Wake(i, 0)
			}
			s.cur[0] = c.cur
			for k, w := range c.want {
				got := s.Pick(0)
				if got != w {
					t.Fatalf("Pick %d = %d, want %d", k, got, w)
				}
				s.cur[0] = got
			}
		})
	}
}

func TestPickIdleNeverChosenWhenRunnable(t *testing.T) {
	s := newSched(t, 1)
	s.T[0].State = Runnable // the idle thread's own state must not matter
	s.cur[0] = 1
	if got := s.Pick(0); got != 1 {
		t.Errorf("Pick = %d, want 1", got)
	}
	s.Block(1, waitSleep, 0)
	if got := s.Pick(0); got != 0 {
		t.Errorf("Pick with nothing runnable = %d, want 0", got)
	}
}

func TestOthersRunnable(t *testing.T) {
	s := newSched(t, 2)
	s.cur[0] = 1
	if !s.othersRunnable(0) {
		t.Error("othersRunnable = false with thread 2 runnable")
	}
	s.Block(2, waitSleep, 0)
	if s.othersRunnable(0) {
		t.Error("othersRunnable = true with only the current thread runnable")
	}
}

func TestExpire(t *testing.T) {
	cases := []struct {
		name     string
		kind     waitKind
		deadline int64
		now      int64
		woken    bool
		ret      uint64
	}{
		{"futex timed out", waitFutex, 100, 100, true, errnoRet(unix.ETIMEDOUT)},
		{"futex late", waitFutex, 100, 5000, true, errnoRet(unix.ETIMEDOUT)},
		{"futex early", waitFutex, 100, 99, false, 0},
		{"futex no deadline", waitFutex, 0, 1 << 62, false, 0},
		{"sleep done", waitSleep, 100, 100, true, 0},
		{"sleep early", waitSleep, 100, 50, false, 0},
		{"epoll timed out", waitEpoll, 10, 20, true, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSched(t, 2)
			const junk = 0xdeadbeef
			s.T[1].Regs.RAX = junk
			s.Block(1, c.kind, c.deadline)
			n := s.Expire(c.now)
			th := &s.T[1]
			if c.woken {
				if n != 1 || th.State != Runnable {
					t.Fatalf("Expire = %d, state %d; want 1, Runnable", n, th.State)
				}
				if th.Regs.RAX != c.ret {
					t.Errorf("RAX = %#x, want %#x", th.Regs.RAX, c.ret)
				}
				if th.deadline != 0 || th.wait != waitNone {
					t.Errorf("woken thread keeps deadline %d, wait %d", th.deadline, th.wait)
				}
			} else {
				if n != 0 || th.State != Blocked || th.Regs.RAX != junk {
					t.Errorf("Expire = %d, state %d, RAX %#x; want 0, Blocked, untouched", n, th.State, th.Regs.RAX)
				}
			}
			// The runnable bystander is untouched.
			if s.T[2].State != Runnable || s.T[2].Regs.RAX != 0 {
				t.Errorf("bystander: state %d, RAX %#x", s.T[2].State, s.T[2].Regs.RAX)
			}
		})
	}
	if got := errnoRet(unix.ETIMEDOUT); int64(got) != -int64(unix.ETIMEDOUT) {
		t.Errorf("errnoRet(ETIMEDOUT) = %d", int64(got))
	}
}

func TestExpireSeveral(t *testing.T) {
	s := newSched(t, 5)
	s.Block(1, waitSleep, 300)
	s.Block(2, waitFutex, 100)
	s.Block(3, waitSleep, 200)
	s.Block(4, waitFutex, 0)
	s.Exit(5)
	s.T[5].deadline = 1 // a freed slot with a stale deadline is ignored
	if n := s.Expire(250); n != 2 {
		t.Errorf("Expire(250) = %d, want 2", n)
	}
	want := []ThreadState{Free, Blocked, Runnable, Runnable, Blocked, Free}
	for i := 1; i <= 5; i++ {
		if s.T[i].State != want[i] {
			t.Errorf("thread %d state %d, want %d", i, s.T[i].State, want[i])
		}
	}
	if n := s.Expire(250); n != 0 {
		t.Errorf("second Expire(250) = %d, want 0", n)
	}
}

func TestNextDeadline(t *testing.T) {
	s := newSched(t, 5)
	if d := s.NextDeadline(); d != 0 {
		t.Errorf("NextDeadline with none blocked = %d", d)
	}
	s.Block(1, waitFutex, 0)
	if d := s.NextDeadline(); d != 0 {
		t.Errorf("NextDeadline with only untimed waits = %d", d)
	}
	s.Block(2, waitSleep, 500)
	s.Block(3, waitFutex, 300)
	s.Block(4, waitSleep, 400)
	s.T[5].deadline = 100 // runnable: its stale deadline does not count
	if d := s.NextDeadline(); d != 300 {
		t.Errorf("NextDeadline = %d, want 300", d)
	}
	s.Wake(3, 0)
	if d := s.NextDeadline(); d != 400 {
		t.Errorf("NextDeadline after waking 3 = %d, want 400", d)
	}
	s.Expire(450)
	if d := s.NextDeadline(); d != 500 {
		t.Errorf("NextDeadline after Expire(450) = %d, want 500", d)
	}
}

func TestFutexWake(t *testing.T) {
	const A, B = 0x1000, 0x2000
	cases := []struct {
		name  string
		n     int
		addr  uint64
		want  int
		woken []int
	}{
		{"one of three", 1, A, 1, []int{1}},
		{"two of three", 2, A, 2, []int{1, 3}},
		{"all", 10, A, 3, []int{1, 3, 5}},
		{"other address", 10, B, 1, []int{2}},
		{"no waiter", 10, 0x3000, 0, nil},
		{"zero", 0, A, 0, nil},
		{"negative", -1, A, 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSched(t, 6)
			for i, addr := range map[int]uint64{1: A, 2: B, 3: A, 5: A} {
				s.T[i].futex = addr
				s.T[i].Regs.RAX = 77
				s.Block(i, waitFutex, 1000)
			}
			// Thread 4 sleeps with a stale futex address: not a futex waiter.
			s.T[4].futex = A
			s.Block(4, waitSleep, 1000)
			if got := s.FutexWake(c.addr, c.n); got != c.want {
				t.Errorf("FutexWake = %d, want %d", got, c.want)
			}
			woken := map[int]bool{}
			for _, i := range c.woken {
				woken[i] = true
			}
			for i := 1; i <= 5; i++ {
				th := &s.T[i]
				if woken[i] {
					if th.State != Runnable || th.Regs.RAX != 0 || th.deadline != 0 {
						t.Errorf("thread %d: state %d, RAX %d, deadline %d; want Runnable, 0, 0", i, th.State, th.Regs.RAX, th.deadline)
					}
				} else if th.State != Blocked {
					t.Errorf("thread %d woken, want still blocked", i)
				}
			}
			if s.T[6].State != Runnable {
				t.Error("runnable bystander changed")
			}
		})
	}
}

// TestPickSeveralCPUs: each CPU runs threads no other CPU runs, its own
// idle thread when there are none, and round-robin among the rest.
func TestPickSeveralCPUs(t *testing.T) {
	s := tableSched()
	s.SetCPUs(3)
	for k := 0; k < 4; k++ {
		i, ok := s.Spawn()
		if !ok || i != 3+k {
			t.Fatalf("Spawn = %d, %v; want slot %d (above the 3 idle slots)", i, ok, 3+k)
		}
		s.Wake(i, 0)
	}
	for c := 0; c < 3; c++ {
		s.Run(c, c) // every CPU idle
	}
	got := map[int]int{}
	for c := 0; c < 3; c++ {
		i := s.Pick(c)
		if i < 3 {
			t.Fatalf("CPU %d picked idle slot %d with threads waiting", c, i)
		}
		if d, ok := got[i]; ok {
			t.Fatalf("CPUs %d and %d both picked %d", d, c, i)
		}
		got[i] = c
		s.Run(c, i)
	}
	if !s.othersRunnable(0) || !s.waiting() {
		t.Errorf("the fourth thread does not wait")
	}
	// Two threads block: CPU 1 gets the fourth, then CPU 2 idles.
	s.Block(s.Cur(1), waitSleep, 0)
	s.Block(s.Cur(2), waitSleep, 0)
	if i := s.Pick(1); i != 6 && s.T[i].oncpu != 0 {
		t.Errorf("CPU 1 picked %d", i)
	} else {
		s.Run(1, i)
	}
	if i := s.Pick(2); i != 2 {
		t.Errorf("CPU 2 picked %d, want its idle slot 2", i)
	}
	if s.waiting() {
		t.Errorf("waiting() with every runnable thread on a CPU")
	}
}

// TestPickAffinity: a thread running a program runs only on the CPUs of
// its affinity mask: other CPUs neither pick it nor count it as waiting
// for them, and a CPU whose current thread's mask no longer holds it
// lets it go; a thread in the kernel (not inUser) runs anywhere.
func TestPickAffinity(t *testing.T) {
	s := tableSched()
	s.SetCPUs(3)
	for c := range 3 {
		s.Run(c, c)
	}
	a, _ := s.Spawn()
	s.Wake(a, 0)
	s.T[a].inUser, s.T[a].affinity = true, 1<<2
	for c := range 2 {
		if i := s.Pick(c); i != c {
			t.Errorf("CPU %d picked %d, want its idle slot: %d may run only on CPU 2", c, i, a)
		}
		if s.othersRunnable(c) {
			t.Errorf("othersRunnable(%d) with only a thread bound to CPU 2", c)
		}
	}
	if !s.othersRunnable(2) || s.Pick(2) != a {
		t.Fatalf("CPU 2 does not pick the thread bound to it")
	}
	s.Run(2, a)
	// Its mask moves it to CPU 0: CPU 2 lets it go, CPU 0 takes it.
	s.T[a].affinity = 1 << 0
	if i := s.Pick(2); i != 2 {
		t.Errorf("CPU 2 keeps %d, whose mask is CPU 0 only (picked %d)", a, i)
	}
	s.Run(2, 2)
	if i := s.Pick(0); i != a {
		t.Errorf("CPU 0 picked %d, want %d", i, a)
	}
	// Out of the program (in a system call) it runs anywhere.
	s.T[a].inUser = false
	if i := s.Pick(1); i != a {
		t.Errorf("CPU 1 picked %d, want %d back in the kernel", i, a)
	}
	// No mask: any CPU.
	s.T[a].inUser, s.T[a].affinity = true, 0
	if !s.othersRunnable(1) {
		t.Errorf("a thread without a mask does not wait for CPU 1")
	}
}

// TestSchedulerConcurrent runs the scheduler from several goroutines
// standing for CPUs, each taking the kernel lock as the trap handler
// does, picking, running, blocking and waking threads: no thread is ever
// picked by two CPUs at once, nor on a CPU outside its affinity mask.
// Run with -race, it also checks that the
// lock orders every access.
func TestSchedulerConcurrent(t *testing.T) {
	const ncpu, nthreads, rounds = 4, 6, 3000
	s := tableSched()
	s.SetCPUs(ncpu)
	for k := range nthreads {
		i, _ := s.Spawn()
		s.Wake(i, 0)
		if k%2 == 1 {
			// In a program bound to two CPUs: picked only there.
			s.T[i].inUser, s.T[i].affinity = true, 3<<(k%ncpu)&(1<<ncpu-1)|1
		}
	}
	for c := range ncpu {
		s.Run(c, c)
	}
	var running [maxThreads]int32 // CPUs running each slot, checked under the lock
	done := make(chan string, ncpu)
	for c := range ncpu {
		go func() {
			for r := range rounds {
				lockKernel(c)
				cur := s.Cur(c)
				if cur >= ncpu {
					running[cur]--
					switch r % 3 {
					case 0:
						s.Block(cur, waitFutex, 0)
					case 1:
						// Wake someone else's blocked thread.
						for i := ncpu; i < ncpu+nthreads; i++ {
							if s.T[i].State == Blocked {
								s.Wake(i, 0)
								break
							}
						}
					}
				}
				i := s.Pick(c)
				s.Run(c, i)
				if i >= ncpu {
					running[i]++
					if running[i] != 1 || s.T[i].State != Runnable || !s.T[i].allowed(c) {
						unlockKernel()
						done <- "a thread runs on two CPUs, a blocked one runs, or one runs outside its mask"
						return
					}
				}
				unlockKernel()
			}
			done <- ""
		}()
	}
	for range ncpu {
		if msg := <-done; msg != "" {
			t.Fatal(msg)
		}
	}
}
