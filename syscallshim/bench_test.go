package syscallshim

import (
	"testing"

	"golang.org/x/sys/unix"
)

// Host benchmarks of the handlers sqlite calls most (speedtest1: 21,000
// newfstatat, two in three for a missing file, 28,000 fcntl locks, 7,000
// pread64), for profiling the handlers' own code with go test -bench
// -cpuprofile (the trap path and the goroutine round trip are not in
// them: examples/bench's stat, stat-missing, fcntl-lock and pread-4KiB
// measure the whole call in the guest).

func BenchmarkHandlersStat(b *testing.B) {
	e := newHdEnv(b, hdRootTB(b))
	path, st := e.m.cstr(0, "/etc/hello.txt"), hdAt(0x1000)
	for b.Loop() {
		if e.call(unix.SYS_NEWFSTATAT, atFDCWD, path, st, 0) != 0 {
			b.Fatal("newfstatat failed")
		}
	}
}

func BenchmarkHandlersStatMissing(b *testing.B) {
	e := newHdEnv(b, hdRootTB(b))
	path, st := e.m.cstr(0, "/etc/hello.txt-journal"), hdAt(0x1000)
	for b.Loop() {
		if e.call(unix.SYS_NEWFSTATAT, atFDCWD, path, st, 0) != hdErr(unix.ENOENT) {
			b.Fatal("newfstatat: not ENOENT")
		}
	}
}

func BenchmarkHandlersFcntlLock(b *testing.B) {
	e := newHdEnv(b, hdRootTB(b))
	fd := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/etc/hello.txt"), unix.O_RDONLY)
	rd, un := e.flockArg(0x100, unix.F_RDLCK, 1<<30, 1), e.flockArg(0x200, unix.F_UNLCK, 1<<30, 1)
	for b.Loop() {
		if e.call(unix.SYS_FCNTL, fd, unix.F_SETLK, rd)|e.call(unix.SYS_FCNTL, fd, unix.F_SETLK, un) != 0 {
			b.Fatal("F_SETLK failed")
		}
	}
}

func BenchmarkHandlersPread(b *testing.B) {
	e := newHdEnv(b, hdRootTB(b))
	fd := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/etc/hello.txt"), unix.O_RDONLY)
	buf := hdAt(0x2000)
	for b.Loop() {
		if e.call(unix.SYS_PREAD64, fd, buf, 4096, 0) != 13 {
			b.Fatal("pread64: not 13 bytes")
		}
	}
}
