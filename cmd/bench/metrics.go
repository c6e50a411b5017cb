package main

// A Metric is one line of the table: which sample of each side it
// compares and how it is shown.
type Metric struct {
	Key       string  // the table's name for it
	Label     string  // what it measures
	Unit      string  // the unit shown
	NSPerUnit float64 // nanoseconds in one Unit
	YolkKey   string  // the sample's name on each side
	LinuxKey  string
}

// The boots give "boot" (yolk; Linux from its vmlinux by PVH) and
// "boot-bzimage" (Linux from its bzImage); examples/bench gives the
// micro-benchmarks; examples/benchinit times the programs in /jobs.
var metrics = []Metric{
	m("boot", "boot to first output (Linux: vmlinux by PVH)", "s", 1e9),
	{"boot-bzimage", "boot to first output (Linux: bzImage; yolk: PVH as above)", "s", 1e9, "boot", "boot-bzimage"},
	m("getppid", "getppid round trip", "µs", 1e3),
	m("clock_gettime", "clock_gettime as a system call", "µs", 1e3),
	m("clock_gettime_vdso", "clock_gettime through the vDSO (1,000,000 calls)", "µs", 1e3),
	m("timenow_syscall", "Go: clock_gettime as a system call (syscall.RawSyscall)", "µs", 1e3),
	m("timenow", "Go: time.Now() (1,000,000 calls; the vDSO where there is one)", "µs", 1e3),
	m("read-zero", "read 1 byte from /dev/zero", "µs", 1e3),
	m("write-pipe", "write 1 byte to a pipe", "µs", 1e3),
	m("page-fault", "first-touch page fault (16 MiB, per page)", "µs", 1e3),
	m("mmap+touch+munmap", "mmap, touch, munmap 4 KiB", "µs", 1e3),
	m("futex-switch", "context switch: futex ping-pong between two threads, per switch", "µs", 1e3),
	m("fork+exit+wait", "fork, child exits, wait", "ms", 1e6),
	m("fork+execve+wait", "fork, execve a static program that exits, wait", "ms", 1e6),
	m("pipe-16MiB", "16 MiB through a pipe between processes, 64 KiB writes", "ms", 1e6),
	m("gobench", "Go program: maps, sort, SHA-256 of 8 MiB, JSON (examples/gobench)", "s", 1e9),
	m("sqlite", "sqlite: 10,000 rows into a new database on /tmp (fsops sqlite-create)", "s", 1e9),
	m("gzip", "busybox gzip -c of 4 MiB of text", "s", 1e9),
	m("lua", "lua 5.4: calls, tables, sorting, strings, floating point (examples/lua/bench.lua 2)", "s", 1e9),
	m("gojq", "gojq 0.12.17: select, group and aggregate 2 MiB of JSON records (examples/gojq/bench.jq)", "s", 1e9),
	m("speedtest1", "sqlite 3.40.1 speedtest1 --size 5, database on /tmp", "s", 1e9),
	m("xz", "xz 5.4.1 -1 -T1 of 8 MiB of text (2 MiB blocks)", "s", 1e9),
	m("xz-T2", "xz -T2 of the same, both sides with -smp 2", "s", 1e9),
}

// runnerKey is yolk's sample of its runner's part of the boot: from
// qemu/run's start to QEMU's (included in "boot").
const runnerKey = "boot-runner"

// smpPair names the samples whose ratio is the speed-up of several vCPUs:
// the same xz job with one thread at -smp 1 and with two at -smp 2.
var smpPair = [2]string{"xz", "xz-T2"}

func m(key, label, unit string, ns float64) Metric {
	return Metric{key, label, unit, ns, key, key}
}
