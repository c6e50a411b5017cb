package syscallshim

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"yolk/amd64"
	"yolk/linux/abi"
	"yolk/mm"
	"yolk/mm/mmtest"
	"yolk/strace"
)

// straceMachine is a Machine whose program memory is [straceBase,
// straceBase+64 KiB) of an mm address space over fake frames; everything
// else is unmapped. Console output is recorded.
type straceMachine struct {
	phys *mmtest.Phys
	as   *mm.AddressSpace
	out  bytes.Buffer
}

const straceBase = 0x10000

func (m *straceMachine) Enter(*amd64.Context, *mm.AddressSpace) uint64 { return amd64.VecSyscall }
func (m *straceMachine) NewAddressSpace() (*mm.AddressSpace, error) {
	return mm.New(mm.Config{Phys: m.phys, Lo: MinAddr, Hi: StackTop})
}
func (m *straceMachine) SharedMemory(size uint64) mm.Backing { return mm.NewSharedAnon(m.phys, size) }
func (m *straceMachine) ConsoleWrite(b []byte)               { m.out.Write(b) }
func (m *straceMachine) ConsoleRead([]byte) int              { return 0 }
func (m *straceMachine) Monotonic() int64                    { return 0 }
func (m *straceMachine) Realtime() int64                     { return straceClock }
func (m *straceMachine) Random(b []byte)                     {}
func (m *straceMachine) VDSO() (image, vvar mm.Backing)      { return nil, nil }

// at is the program address of offset off in the fake memory.
// straceClock is the fake machine's realtime clock.
var straceClock int64

func straceAt(off uint64) uint64 { return straceBase + off }

func (m *straceMachine) put(off uint64, b []byte) uint64 {
	if _, err := m.as.CopyOut(straceAt(off), b); err != nil {
		panic(err)
	}
	return straceAt(off)
}

func (m *straceMachine) cstr(off uint64, s string) uint64 {
	return m.put(off, append([]byte(s), 0))
}

func (m *straceMachine) u64s(off uint64, vs ...uint64) uint64 {
	b := make([]byte, 8*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	return m.put(off, b)
}

func (m *straceMachine) u32s(off uint64, vs ...uint32) uint64 {
	b := make([]byte, 4*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint32(b[4*i:], v)
	}
	return m.put(off, b)
}

// newStraceThread is a traced thread of a process with the console on
// fds 0-2 and no file system.
func newStraceThread() (*Thread, *straceMachine) {
	m := &straceMachine{phys: mmtest.NewPhys(1 << 12)}
	as, err := m.NewAddressSpace()
	if err != nil {
		panic(err)
	}
	if _, err := as.Map(straceBase, 64<<10, unix.PROT_READ|unix.PROT_WRITE, mm.Fixed, nil, 0, ""); err != nil {
		panic(err)
	}
	m.as = as
	p := newTestProcess(Config{Machine: m, Strace: true}, as, "test")
	return p.newThread(new(amd64.Context), 1), m
}

func straceErrno(e unix.Errno) uint64 { return uint64(-int64(e)) }

// straceCase is one traced call: setup lays out the arguments in memory
// and returns them, fill (optional) is what the call writes, ret is its
// result.
type straceCase struct {
	name  string
	nr    uint64
	setup func(m *straceMachine) Args
	fill  func(m *straceMachine)
	ret   uint64
	want  string
}

func straceArgs(a ...uint64) func(*straceMachine) Args {
	return func(*straceMachine) Args {
		var r Args
		copy(r[:], a)
		return r
	}
}

const straceBad = 0xdead0000 // unmapped

var straceCases = []straceCase{
	// The examples.
	{"write", unix.SYS_WRITE, func(m *straceMachine) Args {
		return Args{1, m.put(0, []byte("Hello world!\n")), 13}
	}, nil, 13, `write(1, "Hello world!\n", 13) = 13`},
	{"openat ENOENT", unix.SYS_OPENAT, func(m *straceMachine) Args {
		return Args{atFDCWD, m.cstr(0, "/etc/x"), unix.O_RDONLY}
	}, nil, straceErrno(unix.ENOENT), `openat(AT_FDCWD, "/etc/x", O_RDONLY) = -1 ENOENT (No such file or directory)`},

	// Files.
	{"openat found", unix.SYS_OPENAT, func(m *straceMachine) Args {
		return Args{atFDCWD, m.cstr(0, "/lib/x86_64-linux-gnu/libc.so.6"), unix.O_RDONLY | unix.O_CLOEXEC}
	}, nil, 3, `openat(AT_FDCWD, "/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY|O_CLOEXEC) = 3`},
	{"openat directory", unix.SYS_OPENAT, func(m *straceMachine) Args {
		return Args{3, m.cstr(0, "sub"), unix.O_RDONLY | unix.O_NONBLOCK | unix.O_CLOEXEC | unix.O_DIRECTORY}
	}, nil, 4, `openat(3, "sub", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY) = 4`},
	{"open O_CREAT mode", unix.SYS_OPEN, func(m *straceMachine) Args {
		return Args{m.cstr(0, "out.txt"), unix.O_WRONLY | unix.O_CREAT | unix.O_TRUNC, 0o644}
	}, nil, 3, `open("out.txt", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3`},
	{"path not limited by -s", unix.SYS_ACCESS, func(m *straceMachine) Args {
		return Args{m.cstr(0, "/usr/lib/x86_64-linux-gnu/libselinux.so.1"), unix.R_OK}
	}, nil, straceErrno(unix.ENOENT), `access("/usr/lib/x86_64-linux-gnu/libselinux.so.1", R_OK) = -1 ENOENT (No such file or directory)`},
	{"access F_OK", unix.SYS_ACCESS, func(m *straceMachine) Args {
		return Args{m.cstr(0, "/bin/sh"), unix.F_OK}
	}, nil, 0, `access("/bin/sh", F_OK) = 0`},
	{"faccessat2", unix.SYS_FACCESSAT2, func(m *straceMachine) Args {
		return Args{atFDCWD, m.cstr(0, "x"), unix.R_OK | unix.X_OK, unix.AT_EACCESS}
	}, nil, 0, `faccessat2(AT_FDCWD, "x", R_OK|X_OK, AT_EACCESS) = 0`},
	{"close", unix.SYS_CLOSE, straceArgs(3), nil, 0, `close(3) = 0`},
	{"close EBADF", unix.SYS_CLOSE, straceArgs(9), nil, straceErrno(unix.EBADF), `close(9) = -1 EBADF (Bad file descriptor)`},
	{"read", unix.SYS_READ, straceArgs(0, straceAt(0), 100), func(m *straceMachine) {
		m.put(0, []byte("hello"))
	}, 5, `read(0, "hello", 100) = 5`},
	{"read ELF header", unix.SYS_READ, straceArgs(3, straceAt(0), 832), func(m *straceMachine) {
		m.put(0, []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, '>', 0, 1, 0, 0, 0})
	}, 832, `read(3, "\177ELF\2\1\1\0\0\0\0\0\0\0\0\0\3\0>\0\1\0\0\0\0\0\0\0\0\0\0\0"..., 832) = 832`},
	{"read EOF", unix.SYS_READ, straceArgs(3, straceAt(0), 4096), nil, 0, `read(3, "", 4096) = 0`},
	{"read error", unix.SYS_READ, straceArgs(3, straceAt(0), 10), nil, straceErrno(unix.EBADF), `read(3, 0x10000, 10) = -1 EBADF (Bad file descriptor)`},
	{"pread64", unix.SYS_PREAD64, straceArgs(3, straceAt(0), 16, 64), func(m *straceMachine) {
		m.put(0, []byte("abcd"))
	}, 4, `pread64(3, "abcd", 16, 64) = 4`},
	{"writev", unix.SYS_WRITEV, func(m *straceMachine) Args {
		h, w := m.put(0x100, []byte("hello")), m.put(0x200, []byte(" world\n"))
		return Args{1, m.u64s(0, h, 5, w, 7), 2}
	}, nil, 12, `writev(1, [{iov_base="hello", iov_len=5}, {iov_base=" world\n", iov_len=7}], 2) = 12`},
	{"readv", unix.SYS_READV, func(m *straceMachine) Args {
		return Args{0, m.u64s(0, straceAt(0x100), 5, straceAt(0x200), 10), 2}
	}, func(m *straceMachine) {
		m.put(0x100, []byte("hello"))
		m.put(0x200, []byte("!\n"))
	}, 7, `readv(0, [{iov_base="hello", iov_len=5}, {iov_base="!\n", iov_len=10}], 2) = 7`},
	{"lseek", unix.SYS_LSEEK, straceArgs(3, 0, unix.SEEK_CUR), nil, 0, `lseek(3, 0, SEEK_CUR) = 0`},
	{"newfstatat AT_EMPTY_PATH", unix.SYS_NEWFSTATAT, func(m *straceMachine) Args {
		return Args{3, m.cstr(0, ""), straceAt(0x100), unix.AT_EMPTY_PATH}
	}, func(m *straceMachine) {
		m.u32s(0x100+24, unix.S_IFREG|0o755)
		m.u64s(0x100+48, 123)
	}, 0, `newfstatat(3, "", {st_mode=S_IFREG|0755, st_size=123, ...}, AT_EMPTY_PATH) = 0`},
	{"newfstatat ENOENT", unix.SYS_NEWFSTATAT, func(m *straceMachine) Args {
		return Args{atFDCWD, m.cstr(0, "/nope"), straceAt(0x100), unix.AT_SYMLINK_NOFOLLOW}
	}, nil, straceErrno(unix.ENOENT), `newfstatat(AT_FDCWD, "/nope", 0x10100, AT_SYMLINK_NOFOLLOW) = -1 ENOENT (No such file or directory)`},
	{"statx", unix.SYS_STATX, func(m *straceMachine) Args {
		return Args{atFDCWD, m.cstr(0, "/"), unix.AT_STATX_SYNC_AS_STAT | unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS, straceAt(0x100)}
	}, func(m *straceMachine) {
		m.u32s(0x100, unix.STATX_BASIC_STATS)
		m.put(0x100+28, []byte{0xed, 0x41}) // S_IFDIR|0755
		m.u64s(0x100+40, 4096)
	}, 0, `statx(AT_FDCWD, "/", AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, {stx_mask=STATX_BASIC_STATS, stx_attributes=0, stx_mode=S_IFDIR|0755, stx_size=4096, ...}) = 0`},
	{"getdents64", unix.SYS_GETDENTS64, straceArgs(3, straceAt(0), 32768), func(m *straceMachine) {
		m.put(16, []byte{24, 0})
		m.put(24+16, []byte{24, 0})
	}, 48, `getdents64(3, 0x10000 /* 2 entries */, 32768) = 48`},
	{"readlink", unix.SYS_READLINK, func(m *straceMachine) Args {
		return Args{m.cstr(0, "/proc/self/exe"), straceAt(0x100), 4096}
	}, func(m *straceMachine) {
		m.put(0x100, []byte("/bin/busybox"))
	}, 12, `readlink("/proc/self/exe", "/bin/busybox", 4096) = 12`},
	{"getcwd", unix.SYS_GETCWD, straceArgs(straceAt(0), 4096), func(m *straceMachine) {
		m.cstr(0, "/home")
	}, 6, `getcwd("/home", 4096) = 6`},
	{"fcntl F_GETFL", unix.SYS_FCNTL, straceArgs(0, unix.F_GETFL), nil, unix.O_RDWR | 0o100000, `fcntl(0, F_GETFL) = 0x8002 (flags O_RDWR|O_LARGEFILE)`},
	{"fcntl F_GETFD", unix.SYS_FCNTL, straceArgs(3, unix.F_GETFD), nil, 1, `fcntl(3, F_GETFD) = 0x1 (flags FD_CLOEXEC)`},
	{"fcntl F_SETFD", unix.SYS_FCNTL, straceArgs(3, unix.F_SETFD, unix.FD_CLOEXEC), nil, 0, `fcntl(3, F_SETFD, FD_CLOEXEC) = 0`},
	{"fcntl F_DUPFD_CLOEXEC", unix.SYS_FCNTL, straceArgs(3, unix.F_DUPFD_CLOEXEC, 10), nil, 10, `fcntl(3, F_DUPFD_CLOEXEC, 10) = 10`},
	{"dup3", unix.SYS_DUP3, straceArgs(3, 1, unix.O_CLOEXEC), nil, 1, `dup3(3, 1, O_CLOEXEC) = 1`},
	{"umask", unix.SYS_UMASK, straceArgs(0o22), nil, 0o22, `umask(022) = 022`},
	{"ioctl TCGETS ENOTTY", unix.SYS_IOCTL, straceArgs(3, unix.TCGETS, straceAt(0)), nil, straceErrno(unix.ENOTTY), `ioctl(3, TCGETS, 0x10000) = -1 ENOTTY (Inappropriate ioctl for device)`},
	{"ioctl TIOCGWINSZ", unix.SYS_IOCTL, straceArgs(1, unix.TIOCGWINSZ, straceAt(0)), func(m *straceMachine) {
		m.put(0, []byte{24, 0, 80, 0})
	}, 0, `ioctl(1, TIOCGWINSZ, {ws_row=24, ws_col=80, ws_xpixel=0, ws_ypixel=0}) = 0`},
	{"ioctl unknown", unix.SYS_IOCTL, straceArgs(3, 0x80086601, straceAt(0)), nil, straceErrno(unix.ENOTTY), `ioctl(3, _IOC(_IOC_READ, 0x66, 0x1, 0x8), 0x10000) = -1 ENOTTY (Inappropriate ioctl for device)`},

	// Memory.
	{"mmap anonymous", unix.SYS_MMAP, straceArgs(0, 8192, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, ^uint64(0), 0),
		nil, 0x7ffff7ff8000, `mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ffff7ff8000`},
	{"mmap file", unix.SYS_MMAP, straceArgs(0x7ffff7dd3000, 1363968, unix.PROT_READ|unix.PROT_EXEC, unix.MAP_PRIVATE|unix.MAP_FIXED|unix.MAP_DENYWRITE, 3, 0x28000),
		nil, 0x7ffff7dd3000, `mmap(0x7ffff7dd3000, 1363968, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x28000) = 0x7ffff7dd3000`},
	{"mmap ENOMEM", unix.SYS_MMAP, straceArgs(0, 1<<40, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE, ^uint64(0), 0),
		nil, straceErrno(unix.ENOMEM), `mmap(NULL, 1099511627776, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE, -1, 0) = -1 ENOMEM (Cannot allocate memory)`},
	{"mprotect", unix.SYS_MPROTECT, straceArgs(0x7ffff7fc1000, 4096, unix.PROT_READ), nil, 0, `mprotect(0x7ffff7fc1000, 4096, PROT_READ) = 0`},
	{"mprotect PROT_NONE", unix.SYS_MPROTECT, straceArgs(0x7ffff7fc1000, 4096, 0), nil, 0, `mprotect(0x7ffff7fc1000, 4096, PROT_NONE) = 0`},
	{"munmap", unix.SYS_MUNMAP, straceArgs(0x7ffff7fc1000, 8192), nil, 0, `munmap(0x7ffff7fc1000, 8192) = 0`},
	{"brk NULL", unix.SYS_BRK, straceArgs(0), nil, 0x555555559000, `brk(NULL) = 0x555555559000`},
	{"brk", unix.SYS_BRK, straceArgs(0x55555557a000), nil, 0x55555557a000, `brk(0x55555557a000) = 0x55555557a000`},
	{"mremap", unix.SYS_MREMAP, straceArgs(0x7ffff7000000, 4096, 8192, unix.MREMAP_MAYMOVE, 0), nil, 0x7ffff6000000, `mremap(0x7ffff7000000, 4096, 8192, MREMAP_MAYMOVE) = 0x7ffff6000000`},
	{"madvise", unix.SYS_MADVISE, straceArgs(0x7ffff7000000, 8192, unix.MADV_DONTNEED), nil, 0, `madvise(0x7ffff7000000, 8192, MADV_DONTNEED) = 0`},

	// Threads.
	{"arch_prctl ARCH_SET_FS", unix.SYS_ARCH_PRCTL, straceArgs(abi.ARCH_SET_FS, 0x7ffff7d8a740), nil, 0, `arch_prctl(ARCH_SET_FS, 0x7ffff7d8a740) = 0`},
	{"arch_prctl unknown", unix.SYS_ARCH_PRCTL, straceArgs(0x3001, 0x7fffffffe1e0), nil, straceErrno(unix.EINVAL), `arch_prctl(0x3001 /* ARCH_??? */, 0x7fffffffe1e0) = -1 EINVAL (Invalid argument)`},
	{"arch_prctl ARCH_GET_FS", unix.SYS_ARCH_PRCTL, straceArgs(abi.ARCH_GET_FS, straceAt(0)), func(m *straceMachine) {
		m.u64s(0, 0x7ffff7d8a740)
	}, 0, `arch_prctl(ARCH_GET_FS, [0x7ffff7d8a740]) = 0`},
	{"set_tid_address", unix.SYS_SET_TID_ADDRESS, straceArgs(0x7ffff7d8aa10), nil, 1, `set_tid_address(0x7ffff7d8aa10) = 1`},
	{"set_robust_list", unix.SYS_SET_ROBUST_LIST, straceArgs(0x7ffff7d8aa20, 24), nil, 0, `set_robust_list(0x7ffff7d8aa20, 24) = 0`},
	{"futex wait", unix.SYS_FUTEX, straceArgs(0x7ffff7d8aa10, abi.FUTEX_WAIT|abi.FUTEX_PRIVATE_FLAG, 2, 0), nil, 0, `futex(0x7ffff7d8aa10, FUTEX_WAIT_PRIVATE, 2, NULL) = 0`},
	{"futex wake", unix.SYS_FUTEX, straceArgs(0x7ffff7d8aa10, abi.FUTEX_WAKE|abi.FUTEX_PRIVATE_FLAG, 1), nil, 1, `futex(0x7ffff7d8aa10, FUTEX_WAKE_PRIVATE, 1) = 1`},
	{"futex wait bitset", unix.SYS_FUTEX, func(m *straceMachine) Args {
		return Args{0x7ffff7d8aa10, abi.FUTEX_WAIT_BITSET | abi.FUTEX_PRIVATE_FLAG | abi.FUTEX_CLOCK_REALTIME, 0, m.u64s(0, 1, 500), 0, 0xffffffff}
	}, nil, straceErrno(unix.ETIMEDOUT), `futex(0x7ffff7d8aa10, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 0, {tv_sec=1, tv_nsec=500}, FUTEX_BITSET_MATCH_ANY) = -1 ETIMEDOUT (Connection timed out)`},
	{"clone thread", unix.SYS_CLONE, straceArgs(unix.CLONE_VM|unix.CLONE_FS|unix.CLONE_FILES|unix.CLONE_SIGHAND|unix.CLONE_THREAD|unix.CLONE_SYSVSEM|
		unix.CLONE_SETTLS|unix.CLONE_PARENT_SETTID|unix.CLONE_CHILD_CLEARTID, 0x7ffff77ffff0, straceAt(0), 0x7ffff7800910, 0x7ffff7800640),
		func(m *straceMachine) { m.u32s(0, 2) }, 2,
		`clone(child_stack=0x7ffff77ffff0, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, parent_tid=[2], tls=0x7ffff7800640, child_tidptr=0x7ffff7800910) = 2`},
	{"clone fork", unix.SYS_CLONE, straceArgs(unix.CLONE_CHILD_CLEARTID|unix.CLONE_CHILD_SETTID|uint64(unix.SIGCHLD), 0, 0, 0x7ffff7d8aa10, 0),
		nil, straceErrno(unix.ENOSYS), `clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7ffff7d8aa10) = -1 ENOSYS (Function not implemented)`},
	{"exit_group", unix.SYS_EXIT_GROUP, straceArgs(0), nil, 0, `exit_group(0) = ?`},
	{"exit", unix.SYS_EXIT, straceArgs(1), nil, 0, `exit(1) = ?`},
	{"getpid", unix.SYS_GETPID, straceArgs(), nil, 1, `getpid() = 1`},
	{"prctl PR_SET_NAME", unix.SYS_PRCTL, func(m *straceMachine) Args {
		return Args{unix.PR_SET_NAME, m.cstr(0, "worker-thread-number-7")}
	}, nil, 0, `prctl(PR_SET_NAME, "worker-thread-n"...) = 0`},
	{"prctl PR_GET_NAME", unix.SYS_PRCTL, straceArgs(unix.PR_GET_NAME, straceAt(0)), func(m *straceMachine) {
		m.cstr(0, "test")
	}, 0, `prctl(PR_GET_NAME, "test") = 0`},
	{"sched_getaffinity", unix.SYS_SCHED_GETAFFINITY, straceArgs(0, 128, straceAt(0)), func(m *straceMachine) {
		m.put(0, []byte{5})
	}, 8, `sched_getaffinity(0, 128, [0 2]) = 8`},

	// Signals.
	{"rt_sigprocmask", unix.SYS_RT_SIGPROCMASK, func(m *straceMachine) Args {
		return Args{unix.SIG_BLOCK, m.u64s(0, 1<<(unix.SIGINT-1)|1<<(unix.SIGTERM-1)), straceAt(0x100), 8}
	}, nil, 0, `rt_sigprocmask(SIG_BLOCK, [INT TERM], [], 8) = 0`},
	{"rt_sigprocmask complement", unix.SYS_RT_SIGPROCMASK, func(m *straceMachine) Args {
		return Args{unix.SIG_SETMASK, m.u64s(0, ^uint64(3<<31)), 0, 8}
	}, nil, 0, `rt_sigprocmask(SIG_SETMASK, ~[RTMIN RT_1], NULL, 8) = 0`},
	{"rt_sigaction", unix.SYS_RT_SIGACTION, func(m *straceMachine) Args {
		return Args{uint64(unix.SIGINT), m.u64s(0, 0x401000, 0x04000000|0x10000000, 0x402000, 0), 0, 8}
	}, nil, 0, `rt_sigaction(SIGINT, {sa_handler=0x401000, sa_mask=[], sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x402000}, NULL, 8) = 0`},
	{"rt_sigaction old", unix.SYS_RT_SIGACTION, straceArgs(uint64(unix.SIGPIPE), 0, straceAt(0), 8), func(m *straceMachine) {
		m.u64s(0, 1, 0, 0, 0)
	}, 0, `rt_sigaction(SIGPIPE, NULL, {sa_handler=SIG_IGN, sa_mask=[], sa_flags=0}, 8) = 0`},
	{"sigaltstack", unix.SYS_SIGALTSTACK, func(m *straceMachine) Args {
		return Args{m.u64s(0, 0x7ffff7000000, 0, 8192), 0}
	}, nil, 0, `sigaltstack({ss_sp=0x7ffff7000000, ss_flags=0, ss_size=8192}, NULL) = 0`},
	{"kill", unix.SYS_KILL, straceArgs(1, uint64(unix.SIGTERM)), nil, 0, `kill(1, SIGTERM) = 0`},
	{"tgkill", unix.SYS_TGKILL, straceArgs(1, 1, uint64(unix.SIGABRT)), nil, 0, `tgkill(1, 1, SIGABRT) = 0`},

	// Time.
	{"clock_gettime", unix.SYS_CLOCK_GETTIME, straceArgs(unix.CLOCK_MONOTONIC, straceAt(0)), func(m *straceMachine) {
		m.u64s(0, 12, 345678)
	}, 0, `clock_gettime(CLOCK_MONOTONIC, {tv_sec=12, tv_nsec=345678}) = 0`},
	{"clock_gettime EFAULT", unix.SYS_CLOCK_GETTIME, straceArgs(unix.CLOCK_REALTIME, straceBad), nil, straceErrno(unix.EFAULT), `clock_gettime(CLOCK_REALTIME, 0xdead0000) = -1 EFAULT (Bad address)`},
	{"nanosleep", unix.SYS_NANOSLEEP, func(m *straceMachine) Args {
		return Args{m.u64s(0, 0, 10000000), 0}
	}, nil, 0, `nanosleep({tv_sec=0, tv_nsec=10000000}, NULL) = 0`},
	{"clock_nanosleep", unix.SYS_CLOCK_NANOSLEEP, func(m *straceMachine) Args {
		return Args{unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME, m.u64s(0, 5, 0), straceAt(0x100)}
	}, nil, 0, `clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, {tv_sec=5, tv_nsec=0}, 0x10100) = 0`},
	{"time", unix.SYS_TIME, straceArgs(0), nil, 1700000000, `time(NULL) = 1700000000 (2023-11-14T22:13:20+0000)`},

	// Polling, system information.
	{"poll", unix.SYS_POLL, func(m *straceMachine) Args {
		m.u32s(0, 0)
		m.put(4, []byte{unix.POLLIN, 0, 0, 0})
		return Args{straceAt(0), 1, ^uint64(0)}
	}, func(m *straceMachine) {
		m.put(6, []byte{unix.POLLIN, 0})
	}, 1, `poll([{fd=0, events=POLLIN}], 1, -1) = 1 ([{fd=0, revents=POLLIN}])`},
	{"epoll_ctl", unix.SYS_EPOLL_CTL, func(m *straceMachine) Args {
		m.u32s(0, unix.EPOLLIN|unix.EPOLLET&0xffffffff)
		m.put(4, []byte{3, 0, 0, 0, 0, 0, 0, 0})
		return Args{4, unix.EPOLL_CTL_ADD, 3, straceAt(0)}
	}, nil, 0, `epoll_ctl(4, EPOLL_CTL_ADD, 3, {events=EPOLLIN|EPOLLET, data=0x3}) = 0`},
	{"epoll_wait", unix.SYS_EPOLL_WAIT, straceArgs(4, straceAt(0), 128, ^uint64(0)), func(m *straceMachine) {
		m.u32s(0, unix.EPOLLIN)
		m.put(4, make([]byte, 8))
	}, 1, `epoll_wait(4, [{events=EPOLLIN, data=0}], 128, -1) = 1`},
	{"select", unix.SYS_SELECT, func(m *straceMachine) Args {
		return Args{2, m.u64s(0, 3), 0, 0, m.u64s(0x100, 1, 0)}
	}, func(m *straceMachine) {
		m.u64s(0, 1)
	}, 1, `select(2, [0 1], NULL, NULL, {tv_sec=1, tv_usec=0}) = 1 (in [0], left {tv_sec=1, tv_usec=0})`},
	{"ppoll timeout", unix.SYS_PPOLL, func(m *straceMachine) Args {
		m.u32s(0, 0)
		m.put(4, []byte{unix.POLLIN, 0})
		return Args{straceAt(0), 1, m.u64s(0x100, 0, 0), 0, 8}
	}, nil, 0, `ppoll([{fd=0, events=POLLIN}], 1, {tv_sec=0, tv_nsec=0}, NULL, 8) = 0 (Timeout)`},
	{"sendfile", unix.SYS_SENDFILE, straceArgs(1, 3, straceAt(0), 4096), func(m *straceMachine) {
		m.u64s(0, 100)
	}, 100, `sendfile(1, 3, [0 => 100], 4096) = 100`},
	{"sendfile NULL offset", unix.SYS_SENDFILE, straceArgs(1, 3, 0, 4096), nil, 100, `sendfile(1, 3, NULL, 4096) = 100`},
	{"pipe2", unix.SYS_PIPE2, straceArgs(straceAt(0), unix.O_CLOEXEC), func(m *straceMachine) {
		m.u32s(0, 3, 4)
	}, 0, `pipe2([3, 4], O_CLOEXEC) = 0`},
	{"execve", unix.SYS_EXECVE, func(m *straceMachine) Args {
		argv := m.u64s(0x100, m.cstr(0, "/bin/ls"), m.cstr(0x10, "-l"), 0)
		envp := m.u64s(0x200, m.cstr(0x20, "A=1"), m.cstr(0x30, "B=2"), 0)
		return Args{straceAt(0), argv, envp}
	}, nil, straceErrno(unix.ENOSYS), `execve("/bin/ls", ["/bin/ls", "-l"], 0x10200 /* 2 vars */) = -1 ENOSYS (Function not implemented)`},
	{"gettimeofday", unix.SYS_GETTIMEOFDAY, straceArgs(straceAt(0), 0), func(m *straceMachine) {
		m.u64s(0, 1700000000, 250)
	}, 0, `gettimeofday({tv_sec=1700000000, tv_usec=250}, NULL) = 0`},
	{"getcpu", unix.SYS_GETCPU, straceArgs(straceAt(0), straceAt(4), 0), nil, 0, `getcpu([0], [0], NULL) = 0`},
	{"eventfd2", unix.SYS_EVENTFD2, straceArgs(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK), nil, 3, `eventfd2(0, EFD_CLOEXEC|EFD_NONBLOCK) = 3`},
	{"getrandom", unix.SYS_GETRANDOM, straceArgs(straceAt(0), 8, unix.GRND_NONBLOCK), func(m *straceMachine) {
		m.put(0, []byte{1, 2, 3, 4, 0xa5, 0xff, 0x20, 0x41})
	}, 8, `getrandom("\x01\x02\x03\x04\xa5\xff\x20\x41", 8, GRND_NONBLOCK) = 8`},
	{"prlimit64", unix.SYS_PRLIMIT64, straceArgs(0, unix.RLIMIT_STACK, 0, straceAt(0)), func(m *straceMachine) {
		m.u64s(0, 8<<20, ^uint64(0))
	}, 0, `prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0`},
	{"getrlimit", unix.SYS_GETRLIMIT, straceArgs(unix.RLIMIT_NOFILE, straceAt(0)), func(m *straceMachine) {
		m.u64s(0, 1024, 4096)
	}, 0, `getrlimit(RLIMIT_NOFILE, {rlim_cur=1024, rlim_max=4*1024}) = 0`},
	{"uname", unix.SYS_UNAME, straceArgs(straceAt(0)), func(m *straceMachine) {
		m.cstr(0, "Linux")
		m.cstr(65, "yolk")
	}, 0, `uname({sysname="Linux", nodename="yolk", ...}) = 0`},

	// Generic form, straceBad pointers, escaping and truncation.
	{"unknown syscall", 999, straceArgs(1, 0, 3), nil, straceErrno(unix.ENOSYS), `syscall_0x3e7(0x1, 0, 0x3, 0, 0, 0) = -1 ENOSYS (Function not implemented)`},
	{"undecoded syscall", unix.SYS_KEXEC_LOAD, straceArgs(2, 1), nil, straceErrno(unix.ENOSYS), `kexec_load(0x2, 0x1, 0, 0, 0, 0) = -1 ENOSYS (Function not implemented)`},
	{"socket", unix.SYS_SOCKET, straceArgs(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC), nil, straceErrno(unix.ENOSYS), `socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = -1 ENOSYS (Function not implemented)`},
	{"socketpair", unix.SYS_SOCKETPAIR, straceArgs(unix.AF_UNIX, unix.SOCK_DGRAM, 0, straceBad), nil, straceErrno(unix.EFAULT), `socketpair(AF_UNIX, SOCK_DGRAM, 0, 0xdead0000) = -1 EFAULT (Bad address)`},
	{"straceBad path", unix.SYS_OPENAT, straceArgs(atFDCWD, straceBad, unix.O_RDONLY), nil, straceErrno(unix.EFAULT), `openat(AT_FDCWD, 0xdead0000, O_RDONLY) = -1 EFAULT (Bad address)`},
	{"NULL path", unix.SYS_STAT, straceArgs(0, straceAt(0)), nil, straceErrno(unix.EFAULT), `stat(NULL, 0x10000) = -1 EFAULT (Bad address)`},
	{"straceBad buffer", unix.SYS_WRITE, straceArgs(1, straceBad, 5), nil, straceErrno(unix.EFAULT), `write(1, 0xdead0000, 5) = -1 EFAULT (Bad address)`},
	{"string crossing into unmapped memory", unix.SYS_CHDIR, func(m *straceMachine) Args {
		return Args{m.put(64<<10-3, []byte("abc"))}
	}, nil, straceErrno(unix.EFAULT), `chdir(0x1fffd) = -1 EFAULT (Bad address)`},
	{"escapes", unix.SYS_WRITE, func(m *straceMachine) Args {
		s := "a\"b\\c\td\x01e\x1b1\x7f\xff\r\f\v\x00z"
		return Args{2, m.put(0, []byte(s)), uint64(len(s))}
	}, nil, 18, `write(2, "a\"b\\c\td\1e\0331\177\377\r\f\v\0z", 18) = 18`},
	{"octal before a digit", unix.SYS_WRITE, func(m *straceMachine) Args {
		return Args{1, m.put(0, []byte("\x00\x07\x0089\n")), 6}
	}, nil, 6, `write(1, "\0\7\089\n", 6) = 6`},
	{"truncation", unix.SYS_WRITE, func(m *straceMachine) Args {
		return Args{1, m.put(0, []byte(strings.Repeat("x", 40))), 40}
	}, nil, 40, `write(1, "` + strings.Repeat("x", 32) + `"..., 40) = 40`},
	{"exactly -s bytes", unix.SYS_WRITE, func(m *straceMachine) Args {
		return Args{1, m.put(0, []byte(strings.Repeat("y", 32))), 32}
	}, nil, 32, `write(1, "` + strings.Repeat("y", 32) + `", 32) = 32`},
}

// TestStraceSigreturn checks rt_sigreturn's mask, read from the signal
// frame at the stack pointer.
func TestStraceSigreturn(t *testing.T) {
	th, m := newStraceThread()
	th.ctx.Regs.RSP = straceAt(0x1000)
	m.u64s(0x1000+296, 1<<(unix.SIGUSR1-1))
	a := Args{}
	pre := th.traceEnter(unix.SYS_RT_SIGRETURN, a)
	th.ctx.Regs.RSP = 0x7fffffffe000 // restored by the call
	th.traceExit(unix.SYS_RT_SIGRETURN, a, pre, straceErrno(unix.EINTR), "", "")
	want := "rt_sigreturn({mask=[USR1]}) = -1 EINTR (Interrupted system call)\n"
	if got := m.out.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestStrace(t *testing.T) {
	for _, c := range straceCases {
		t.Run(c.name, func(t *testing.T) {
			th, m := newStraceThread()
			a := c.setup(m)
			pre := th.traceEnter(c.nr, a)
			if c.fill != nil {
				c.fill(m)
			}
			th.traceExit(c.nr, a, pre, c.ret, "", "")
			if got := m.out.String(); got != c.want+"\n" {
				t.Errorf("got  %q\nwant %q", got, c.want+"\n")
			}
		})
	}
}

// TestStraceSyscall traces calls through the real handlers: one line
// per call, after the call's own output.
func TestStraceSyscall(t *testing.T) {
	th, m := newStraceThread()
	msg := m.put(0, []byte("Hello world!\n"))
	path := m.cstr(0x100, "/etc/x")
	st, tio := straceAt(0x200), straceAt(0x400)
	th.syscall(unix.SYS_WRITE, Args{1, msg, 13})
	th.syscall(unix.SYS_OPENAT, Args{atFDCWD, path, unix.O_RDONLY})
	th.syscall(unix.SYS_FSTAT, Args{1, st})
	th.syscall(unix.SYS_IOCTL, Args{1, unix.TCGETS, tio})
	th.syscall(unix.SYS_FCNTL, Args{1, unix.F_GETFL})
	th.syscall(unix.SYS_CLOSE, Args{7})
	th.syscall(unix.SYS_EXIT_GROUP, Args{0})
	want := "Hello world!\n" +
		`write(1, "Hello world!\n", 13) = 13` + "\n" +
		`openat(AT_FDCWD, "/etc/x", O_RDONLY) = -1 ENOENT (No such file or directory)` + "\n" +
		`fstat(1, {st_mode=S_IFCHR|0620, st_rdev=makedev(0x4, 0x40), ...}) = 0` + "\n" +
		`ioctl(1, TCGETS, {c_iflag=ICRNL|IXON, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR, c_cflag=B115200|CS8|CREAD|HUPCL|CLOCAL, c_lflag=ISIG|ICANON|ECHO|ECHOE|ECHOK|IEXTEN|ECHOCTL|ECHOKE, ...}) = 0` + "\n" +
		`fcntl(1, F_GETFL) = 0x2 (flags O_RDWR)` + "\n" +
		`close(7) = -1 EBADF (Bad file descriptor)` + "\n" +
		`exit_group(0) = ?` + "\n"
	if got := m.out.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// TestTracePrefix: strace's timestamps (-t, -tt, -ttt from the realtime
// clock, -r from the monotonic one, relative to the previous line), -T's
// suffix, and -f -o's "PID " prefix.
func TestTracePrefix(t *testing.T) {
	th, _ := newStraceThread()
	s := th.p.sys
	const day = 1_700_000_000_000_000_000 + 1_234_567_000 // 2023-11-14T22:13:21.234567Z
	for _, c := range []struct {
		opts  string
		start int64
		want  string
	}{
		{"-t", 0, "22:13:21 "},
		{"-tt", 0, "22:13:21.234567 "},
		{"-ttt", 0, "1700000001.234567 "},
		{"-r", 5_000_000_000, "     0.000000 "},
		{"-r", 5_001_500_000, "     0.001500 "},
		{"-r", 7_001_500_000, "     2.000000 "},
		{"-f,-o,x", 0, "1     "},
	} {
		o, err := strace.Parse(c.opts)
		if err != nil {
			t.Fatal(err)
		}
		s.trace = o
		straceClock = day
		if got := th.tracePrefix(c.start); got != c.want {
			t.Errorf("%s at %d: prefix %q, want %q", c.opts, c.start, got, c.want)
		}
	}
	o, _ := strace.Parse("-T")
	if got := o.Suffix(1_234_567_890); got != " <1.234567>" {
		t.Errorf("-T suffix %q", got)
	}
}
