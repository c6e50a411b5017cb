package syscallshim

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"yolk/mm"
)

// The sampling profiler's guest side. The kernel samples the program on
// its timer interrupt into a ring (kernel/profile.go); this side drains
// the ring every profileEvery, names each sample's process, and sends the
// host (the runner, qemu/run --profile) text records on the profile
// stream, which the runner symbolizes and writes as a pprof profile:
//
//	P period_ns                        once, first
//	M pid start end offset path        a file mapping samples fall in, before them
//	E pid start end bias path          the same for an ELF file the kernel loaded
//	                                   (the program, ld.so): address - bias is the
//	                                   file's own address
//	S pid kind nr pc... [k kpc...]     a sample: kind u (user), s (system call nr),
//	                                   f (page fault), t (other trap); the program's
//	                                   pcs leaf first, hex; then, for a sample taken in
//	                                   the kernel, "k" and the kernel's pcs, leaf first
//	                                   (addresses in the kernel's ELF file)
//	D dropped                          at the end: samples lost to a full ring
//	C tick_ns ticks drain_ns run_ns    at the end: the profiler's own cost (time in the
//	                                   timer interrupt taking samples, interrupts, time
//	                                   draining and sending) over the run's time
//
// A mapping is sent the first time a sample's pc falls in it, as perf
// records mmap events, so libraries mapped by ld.so or dlopen are named.
// Samples are drained before an address space is freed (exit, exec), so
// a short-lived process's samples are still named.

// Profiler is what the shim needs from a machine that profiles.
type Profiler interface {
	// ProfileDrain calls fn for each sample taken since the last call
	// and returns how many were lost in all; kpcs are the kernel's
	// frames of a sample taken in the kernel.
	ProfileDrain(fn func(as uintptr, kind int, nr uint64, pcs, kpcs []uint64)) (dropped uint64)
	// ProfilePeriod is the time between samples (0: not profiling).
	ProfilePeriod() int64
	// ProfileWrite sends profile records to the host.
	ProfileWrite(b []byte)
	// ProfilePending reports whether samples wait to be drained.
	ProfilePending() bool
	// ProfileCost is the sampler's own cost: ns in the timer interrupt,
	// interrupts, and ns since profiling started.
	ProfileCost() (tickNs, ticks, sinceNs int64)
}

const profileEvery = 100 * time.Millisecond

type profiler struct {
	mu      sync.Mutex
	drainNs int64 // time spent in profileFlush
	m       Profiler
	sent    map[uintptr][]mm.VMA // per address space: the mappings sent
	buf     bytes.Buffer
}

// startProfiler starts draining when the machine profiles.
func (s *System) startProfiler() {
	pm, ok := s.m.(Profiler)
	if !ok || pm.ProfilePeriod() == 0 {
		return
	}
	s.prof = &profiler{m: pm, sent: map[uintptr][]mm.VMA{}}
	fmt.Fprintf(&s.prof.buf, "P %d\n", pm.ProfilePeriod())
	go func() {
		for {
			select {
			case <-s.stopped:
				return
			case <-time.After(profileEvery):
				s.profileFlush(0, nil, false)
			}
		}
	}()
}

// profileFlush drains the samples and sends them. When as is about to be
// freed, pid names it (its process may have left the tables already).
func (s *System) profileFlush(pid int32, mem *memory, final bool) {
	pr := s.prof
	if pr == nil {
		return
	}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	// The drain's cost is the CPU time of the thread it runs on (it stays
	// on one for the call): the wall time would count the program's
	// slices that preempt it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	defer func() { pr.drainNs += threadCPU() - start }()
	if !final && !pr.m.ProfilePending() {
		if mem != nil {
			delete(pr.sent, asKey(mem.as))
		}
		return
	}
	spaces := map[uintptr]struct {
		pid int32
		mem *memory
	}{}
	s.mu.Lock()
	for _, p := range s.procs {
		p.mu.Lock()
		if p.mem != nil {
			spaces[asKey(p.mem.as)] = struct {
				pid int32
				mem *memory
			}{p.pid, p.mem}
		}
		p.mu.Unlock()
	}
	s.mu.Unlock()
	if mem != nil {
		spaces[asKey(mem.as)] = struct {
			pid int32
			mem *memory
		}{pid, mem}
	}
	dropped := pr.m.ProfileDrain(func(key uintptr, kind int, nr uint64, pcs, kpcs []uint64) {
		sp, ok := spaces[key]
		if !ok {
			return // its process is gone (not flushed in time)
		}
		for i, pc := range pcs {
			if i > 0 {
				pc-- // a return address: the call is before it
			}
			pr.mapping(key, sp.pid, sp.mem, pc)
		}
		b := pr.buf.AvailableBuffer()
		b = append(b, "S "...)
		b = strconv.AppendInt(b, int64(sp.pid), 10)
		b = append(b, ' ', "usft"[kind&3], ' ')
		b = strconv.AppendUint(b, nr, 10)
		for _, pc := range pcs {
			b = append(b, ' ')
			b = strconv.AppendUint(b, pc, 16)
		}
		if len(kpcs) > 0 {
			b = append(b, " k"...)
			for _, pc := range kpcs {
				b = append(b, ' ')
				b = strconv.AppendUint(b, pc, 16)
			}
		}
		pr.buf.Write(append(b, '\n'))
	})
	if mem != nil {
		delete(pr.sent, asKey(mem.as))
	}
	if final {
		tickNs, ticks, since := pr.m.ProfileCost()
		fmt.Fprintf(&pr.buf, "D %d\nC %d %d %d %d\n", dropped, tickNs, ticks, pr.drainNs+threadCPU()-start, since)
	}
	if pr.buf.Len() > 0 {
		pr.m.ProfileWrite(pr.buf.Bytes())
		pr.buf.Reset()
	}
}

// mapping sends the file mapping holding pc in as, once.
func (pr *profiler) mapping(key uintptr, pid int32, mem *memory, pc uint64) {
	for _, v := range pr.sent[key] {
		if pc >= v.Start && pc < v.End {
			return
		}
	}
	v, ok := mem.as.Lookup(pc)
	if !ok {
		return
	}
	pr.sent[key] = append(pr.sent[key], v)
	if v.Name == "" || v.Name[0] == '[' {
		return // anonymous: nothing to symbolize with
	}
	if base, ok := mem.elfBase[v.Name]; ok && v.Backing == nil {
		fmt.Fprintf(&pr.buf, "E %d %x %x %x %s\n", pid, v.Start, v.End, base, v.Name)
		return
	}
	fmt.Fprintf(&pr.buf, "M %d %x %x %x %s\n", pid, v.Start, v.End, v.Offset, v.Name)
}

// threadCPU is the calling thread's CPU time in ns.
func threadCPU() int64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return ts.Nano()
}

// asKey is how the kernel names an address space in samples.
func asKey(as *mm.AddressSpace) uintptr { return uintptr(unsafe.Pointer(as)) }
