package strace

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"yolk/linux/abi"
)

// Tracing in strace's format: "name(args) = result", decoded with
// strace's conventions (its default -s 32, abbreviated structs).
// Enter formats the arguments known before the call (strings,
// flags, input structs); Exit adds what the call filled in (read
// buffers, structs) and the result. Tracing only reads the program's
// memory, and a pointer it cannot read is shown as its address, as
// strace does: it never fails and never changes what the call does.
//
// The decoding is table-driven: the generated table (syscalls.txt) gives
// a syscall number the kinds of its arguments, in order; a few multiplexed syscalls (futex,
// fcntl, ioctl, prctl, arch_prctl) pick their argument kinds from the
// operation. Kinds from kOut on are shown after the call; so is every
// argument after the first of them, which keeps strace's order.

// traceMaxStrlen is strace's default string limit (-s 32).
const traceMaxStrlen = 32

// argKind is how one argument is shown.
type argKind uint8

// Argument kinds shown before the call.
const (
	kSkip           argKind = iota // not shown (an argument the operation ignores)
	kInt                           // int, decimal
	kUint                          // unsigned long, decimal
	kU32                           // unsigned int, decimal
	kLong                          // long (offsets), decimal
	kHex                           // hexadecimal
	kX32                           // unsigned int, hexadecimal
	kPtr                           // address: NULL or hexadecimal
	kFd                            // file descriptor
	kDirfd                         // directory fd: AT_FDCWD or a number
	kPath                          // path name (not limited by -s)
	kStr                           // NUL-terminated string, -s limited
	kComm                          // PR_SET_NAME's name: at most 15 bytes
	kBufIn                         // buffer whose length is the next argument
	kIovIn                         // iovec array, count in the next argument
	kArgv                          // execve's argv
	kEnvp                          // execve's envp: address and count
	kOpenFlags                     // access mode and O_* flags
	kOFlags                        // O_* flags alone (dup3, pipe2)
	kCreatMode                     // mode, shown only with O_CREAT/O_TMPFILE in the previous argument
	kMode                          // file mode, octal
	kSockFamily                    // AF_*
	kSockType                      // SOCK_* and SOCK_CLOEXEC|SOCK_NONBLOCK
	kSockProto                     // IPPROTO_* for AF_INET and AF_INET6 (family in argument 0), else decimal
	kProt                          // PROT_*
	kMmapFlags                     // MAP_*
	kMremapFlags                   // MREMAP_*
	kMremapAddr                    // mremap's new address, shown only with MREMAP_FIXED/MREMAP_DONTUNMAP
	kMadvise                       // MADV_*
	kAccess                        // F_OK, R_OK|W_OK|X_OK
	kAtFlags                       // AT_*
	kFaccessatFlags                // faccessat2's AT_*
	kStatxFlags                    // AT_STATX_* and AT_*
	kStatxMask                     // STATX_*
	kWhence                        // SEEK_*
	kSignal                        // signal number
	kSigHow                        // SIG_BLOCK...
	kSigset                        // sigset_t *, size in the syscall's last argument
	kKernelSigset                  // pselect6's {sigmask, sigsetsize} *
	kSigaction                     // struct sigaction *
	kStack                         // stack_t *
	kClock                         // clock id
	kClockFlags                    // TIMER_ABSTIME
	kTimespec                      // struct timespec *
	kTimeval                       // struct timeval *
	kRlimit                        // struct rlimit *
	kResource                      // RLIMIT_*
	kFutexOp                       // FUTEX_*
	kFutexBitset                   // FUTEX_BITSET_MATCH_ANY or hexadecimal
	kFutexWakeOp                   // FUTEX_WAKE_OP's encoded operation
	kArchOp                        // ARCH_*
	kPrctlOp                       // PR_*
	kVmaAttr                       // PR_SET_VMA_*
	kIoctlReq                      // ioctl request
	kTermios                       // struct termios *
	kWinsize                       // struct winsize *
	kIntPtr                        // int * shown as [n]
	kTcxonc                        // TCOOFF...
	kTcflsh                        // TCIFLUSH...
	kFcntlCmd                      // F_*
	kFdFlags                       // FD_CLOEXEC
	kFlock                         // struct flock *
	kEpollOp                       // EPOLL_CTL_*
	kEpollEvent                    // struct epoll_event * (address for EPOLL_CTL_DEL)
	kEpollFlags                    // EPOLL_CLOEXEC
	kEfdFlags                      // EFD_*
	kGrndFlags                     // GRND_*
	kWaitOptions                   // WNOHANG|...
	kIDType                        // P_ALL, P_PID, P_PGID, P_PIDFD
	kRseqFlags                     // RSEQ_FLAG_*
	kPollFds                       // struct pollfd array, count in the next argument
	kFdSet                         // fd_set *, nfds in the first argument
	kCloneStack                    // clone's child_stack= (argument 1)
	kCloneFlags                    // clone's flags= (argument 0)
	kSigreturnMask                 // rt_sigreturn's {mask=[...]}, from the signal frame at the stack pointer

	// Kinds from here on are shown after the call.
	kOut
	kBufOut         // buffer filled by the call: ret bytes
	kRandomOut      // getrandom's buffer: ret bytes in hexadecimal
	kPathOut        // getcwd's buffer: ret bytes including the NUL
	kCommOut        // PR_GET_NAME's 16-byte buffer
	kIovOut         // iovec array filled by the call
	kStatOut        // struct stat *
	kStatxOut       // struct statx *
	kTimespecOut    // struct timespec *
	kRemOut         // nanosleep's remaining time: its address unless interrupted
	kTimevalOut     // struct timeval *
	kTimezoneOut    // struct timezone *
	kTimeOut        // time's tloc
	kSigsetOut      // sigset_t *
	kSigactionOut   // struct sigaction *
	kStackOut       // stack_t *
	kRlimitOut      // struct rlimit *
	kUnameOut       // struct utsname *
	kSysinfoOut     // struct sysinfo *
	kIntPtrOut      // int * shown as [n]
	kU32PtrOut      // unsigned int * shown as [n]
	kPtrPtrOut      // void ** shown as [0x...]
	kUlongPtrOut    // unsigned long * shown as [n]
	kSignalPtrOut   // int * holding a signal, shown as [SIGTERM]
	kDentsOut       // getdents64's buffer: address and entry count
	kAffinityOut    // CPU set: [0 1]
	kGroupsOut      // gid_t array of ret entries
	kWstatusOut     // int * wait status: [{WIFEXITED(s) && WEXITSTATUS(s) == 0}]
	kPipeOut        // int[2]
	kEpollEventsOut // struct epoll_event array of ret entries
	kTermiosOut     // struct termios *
	kWinsizeOut     // struct winsize *
	kFlockOut       // struct flock * (F_GETLK)
	kSendfileOff    // sendfile's offset: [old] before, [old => new] after
	kClonePtid      // clone's parent_tid= (argument 2), with CLONE_PARENT_SETTID
	kCloneTls       // clone's tls= (argument 4), with CLONE_SETTLS
	kCloneCtid      // clone's child_tidptr= (argument 3), with CLONE_CHILD_*TID
)

// retKind is how the result is shown when the call succeeds.
type retKind uint8

const (
	rDec       retKind = iota // signed decimal
	rHex                      // hexadecimal (addresses)
	rOctal                    // umask
	rNone                     // exit, exit_group: "?"
	rFdFlags                  // F_GETFD: 0x1 (flags FD_CLOEXEC)
	rOpenFlags                // F_GETFL: 0x8002 (flags O_RDWR|O_LARGEFILE)
	rTime                     // time: 1700000000 (2023-11-14T22:13:20+0000)
	rPoll                     // poll, ppoll: the ready fds
	rSelect                   // select, pselect6: the ready fds
)

type argKinds = []argKind

// traceCallSpec is how one syscall is shown.
type traceCallSpec struct {
	args argKinds
	ret  retKind
	pick func(a Args) traceCallSpec // for syscalls whose arguments depend on an operation
}

// traceSpec is the spec of syscall nr with arguments a; unknown syscalls
// show all six arguments in hexadecimal, as strace does.
func traceSpec(nr uint64, a Args) traceCallSpec {
	if nr >= uint64(len(table)) || !table[nr].known {
		return traceCallSpec{args: argKinds{kHex, kHex, kHex, kHex, kHex, kHex}}
	}
	s := table[nr].spec
	if s.pick != nil {
		return s.pick(a)
	}
	return s
}

func traceFutexSpec(a Args) traceCallSpec {
	switch a[1] & 127 {
	case abi.FUTEX_WAIT:
		return traceCallSpec{args: argKinds{kPtr, kFutexOp, kU32, kTimespec}}
	case trFutexLockPI, trFutexLockPI2:
		return traceCallSpec{args: argKinds{kPtr, kFutexOp, kSkip, kTimespec}}
	case abi.FUTEX_WAIT_BITSET:
		return traceCallSpec{args: argKinds{kPtr, kFutexOp, kU32, kTimespec, kSkip, kFutexBitset}}
	case abi.FUTEX_WAKE_BITSET:
		return traceCallSpec{args: argKinds{kPtr, kFutexOp, kU32, kSkip, kSkip, kFutexBitset}}
	case abi.FUTEX_REQUEUE:
		return traceCallSpec{args: argKinds{kPtr, kFutexOp, kU32, kU32, kPtr}}
	case abi.FUTEX_CMP_REQUEUE, trFutexCmpRequeuePI:
		return traceCallSpec{args: argKinds{kPtr, kFutexOp, kU32, kU32, kPtr, kU32}}
	case abi.FUTEX_WAKE_OP:
		return traceCallSpec{args: argKinds{kPtr, kFutexOp, kU32, kU32, kPtr, kFutexWakeOp}}
	case trFutexWaitRequeuePI:
		return traceCallSpec{args: argKinds{kPtr, kFutexOp, kU32, kTimespec, kPtr}}
	case abi.FUTEX_WAKE, trFutexFD:
		return traceCallSpec{args: argKinds{kPtr, kFutexOp, kU32}}
	case trFutexUnlockPI, trFutexTrylockPI:
		return traceCallSpec{args: argKinds{kPtr, kFutexOp}}
	}
	return traceCallSpec{args: argKinds{kPtr, kFutexOp, kU32, kPtr, kPtr, kX32}}
}

func traceFcntlSpec(a Args) traceCallSpec {
	switch a[1] {
	case unix.F_SETFD:
		return traceCallSpec{args: argKinds{kFd, kFcntlCmd, kFdFlags}}
	case unix.F_SETOWN, unix.F_DUPFD_QUERY:
		return traceCallSpec{args: argKinds{kFd, kFcntlCmd, kInt}}
	case unix.F_SETPIPE_SZ, unix.F_DUPFD, unix.F_DUPFD_CLOEXEC:
		return traceCallSpec{args: argKinds{kFd, kFcntlCmd, kLong}}
	case unix.F_SETFL:
		return traceCallSpec{args: argKinds{kFd, kFcntlCmd, kOpenFlags}}
	case unix.F_SETLK, unix.F_SETLKW, unix.F_OFD_SETLK, unix.F_OFD_SETLKW:
		return traceCallSpec{args: argKinds{kFd, kFcntlCmd, kFlock}}
	case unix.F_GETLK, unix.F_OFD_GETLK:
		return traceCallSpec{args: argKinds{kFd, kFcntlCmd, kFlockOut}}
	case unix.F_SETSIG:
		return traceCallSpec{args: argKinds{kFd, kFcntlCmd, kSignal}}
	case unix.F_GETFD:
		return traceCallSpec{args: argKinds{kFd, kFcntlCmd}, ret: rFdFlags}
	case unix.F_GETFL:
		return traceCallSpec{args: argKinds{kFd, kFcntlCmd}, ret: rOpenFlags}
	case unix.F_GETOWN, unix.F_GETPIPE_SZ, unix.F_GETSIG, unix.F_GETLEASE, unix.F_GET_SEALS:
		return traceCallSpec{args: argKinds{kFd, kFcntlCmd}}
	}
	return traceCallSpec{args: argKinds{kFd, kFcntlCmd, kHex}}
}

func traceIoctlSpec(a Args) traceCallSpec {
	switch uint32(a[1]) {
	case unix.TCGETS, unix.TIOCGLCKTRMIOS:
		return traceCallSpec{args: argKinds{kFd, kIoctlReq, kTermiosOut}}
	case unix.TCSETS, unix.TCSETSW, unix.TCSETSF, unix.TIOCSLCKTRMIOS:
		return traceCallSpec{args: argKinds{kFd, kIoctlReq, kTermios}}
	case unix.TIOCGWINSZ:
		return traceCallSpec{args: argKinds{kFd, kIoctlReq, kWinsizeOut}}
	case unix.TIOCSWINSZ:
		return traceCallSpec{args: argKinds{kFd, kIoctlReq, kWinsize}}
	case unix.TIOCGPGRP, unix.TIOCGSID, unix.TIOCGETD, unix.TIOCGSOFTCAR, unix.TIOCGPTN,
		unix.TIOCINQ, unix.TIOCOUTQ, unix.TIOCGEXCL, unix.TIOCGDEV:
		return traceCallSpec{args: argKinds{kFd, kIoctlReq, kIntPtrOut}}
	case unix.TIOCSPGRP, unix.TIOCSETD, unix.TIOCSSOFTCAR, trFIONBIO, trFIOASYNC,
		unix.TIOCPKT, unix.TIOCSPTLCK:
		return traceCallSpec{args: argKinds{kFd, kIoctlReq, kIntPtr}}
	case unix.TCSBRK, unix.TCSBRKP, unix.TIOCSCTTY:
		return traceCallSpec{args: argKinds{kFd, kIoctlReq, kInt}}
	case unix.TCXONC:
		return traceCallSpec{args: argKinds{kFd, kIoctlReq, kTcxonc}}
	case unix.TCFLSH:
		return traceCallSpec{args: argKinds{kFd, kIoctlReq, kTcflsh}}
	case unix.TIOCSBRK, unix.TIOCCBRK, unix.TIOCCONS, unix.TIOCNOTTY, unix.TIOCEXCL,
		unix.TIOCNXCL, trFIOCLEX, trFIONCLEX, unix.TIOCVHANGUP:
		return traceCallSpec{args: argKinds{kFd, kIoctlReq}}
	}
	return traceCallSpec{args: argKinds{kFd, kIoctlReq, kHex}}
}

func traceArchPrctlSpec(a Args) traceCallSpec {
	switch uint32(a[0]) {
	case abi.ARCH_GET_FS, abi.ARCH_GET_GS:
		return traceCallSpec{args: argKinds{kArchOp, kPtrPtrOut}}
	case abi.ARCH_GET_CPUID:
		return traceCallSpec{args: argKinds{kArchOp}}
	}
	return traceCallSpec{args: argKinds{kArchOp, kHex}}
}

func tracePrctlSpec(a Args) traceCallSpec {
	switch uint32(a[0]) {
	case unix.PR_SET_NAME:
		return traceCallSpec{args: argKinds{kPrctlOp, kComm}}
	case unix.PR_GET_NAME:
		return traceCallSpec{args: argKinds{kPrctlOp, kCommOut}}
	case unix.PR_SET_PDEATHSIG:
		return traceCallSpec{args: argKinds{kPrctlOp, kSignal}}
	case unix.PR_GET_PDEATHSIG:
		return traceCallSpec{args: argKinds{kPrctlOp, kSignalPtrOut}}
	case unix.PR_GET_KEEPCAPS, unix.PR_GET_TIMING, unix.PR_GET_SECCOMP, unix.PR_GET_TIMERSLACK,
		unix.PR_TASK_PERF_EVENTS_DISABLE, unix.PR_TASK_PERF_EVENTS_ENABLE:
		return traceCallSpec{args: argKinds{kPrctlOp}}
	case unix.PR_SET_VMA:
		if a[1] == unix.PR_SET_VMA_ANON_NAME {
			return traceCallSpec{args: argKinds{kPrctlOp, kVmaAttr, kPtr, kUint, kStr}}
		}
		return traceCallSpec{args: argKinds{kPrctlOp, kVmaAttr, kHex, kHex, kHex}}
	}
	return traceCallSpec{args: argKinds{kPrctlOp, kHex, kHex, kHex, kHex}}
}

// Name is the syscall's name, or strace's syscall_0x... for numbers with
// none.
func Name(nr uint64) string {
	if nr < uint64(len(table)) && table[nr].name != "" {
		return table[nr].name
	}
	return "syscall_" + trHex(nr)
}

// Enter formats what is known before syscall nr runs: its name and the
// arguments up to the first one the call fills in.
func Enter(m Memory, nr uint64, a Args) (pre string) {
	name := Name(nr)
	defer func() {
		if recover() != nil { // a decoding bug must not take the program down
			pre = name + "("
		}
	}()
	sp := traceSpec(nr, a)
	c := &tracer{m: m, a: a, n: len(sp.args)}
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('(')
	first := true
	for i, k := range sp.args {
		if k > kOut && k != kSendfileOff {
			break
		}
		s, ok := c.arg(k, i)
		if !ok {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		b.WriteString(s)
		if k == kSendfileOff {
			break
		}
	}
	return b.String()
}

// Exit is the line for syscall nr (without prefixes, suffixes or the
// newline): pre (from Enter), the arguments the call filled in (and those
// after them), and the result ret.
func Exit(m Memory, nr uint64, a Args, pre string, ret uint64) string {
	line, done := pre, false
	func() {
		defer func() {
			if recover() != nil { // a decoding bug must not take the program down
				line = pre
			}
		}()
		sp := traceSpec(nr, a)
		c := &tracer{m: m, a: a, n: len(sp.args), exit: true, ret: ret, failed: IsErrno(ret)}
		var b strings.Builder
		b.WriteString(pre)
		first := strings.HasSuffix(pre, "(")
		out := false
		for i, k := range sp.args {
			if k == kSendfileOff {
				// Its first half ended pre; the rest follows directly.
				b.WriteString(c.sendfileOffExit(a[i]))
				out = true
				continue
			}
			if k > kOut {
				out = true
			}
			if !out {
				continue
			}
			s, ok := c.arg(k, i)
			if !ok {
				continue
			}
			if !first {
				b.WriteString(", ")
			}
			first = false
			b.WriteString(s)
		}
		b.WriteString(") = ")
		b.WriteString(c.result(sp.ret))
		line, done = b.String(), true
	}()
	if !done {
		line += ") = " + formatRet(ret)
	}
	return line
}

// IsErrno reports whether a raw return value is -errno.
func IsErrno(ret uint64) bool {
	r := int64(ret)
	return r < 0 && r > -4096
}

// formatRet formats a raw return value: "-1 ENOENT (No such file or
// directory)" for errors, decimal otherwise.
func formatRet(ret uint64) string {
	if r := int64(ret); r < 0 && r > -4096 {
		e := unix.Errno(-r)
		return fmt.Sprintf("-1 %s (%s)", unix.ErrnoName(e), errnoText(e))
	}
	return fmt.Sprint(int64(ret))
}

// errnoText is strerror's text, capitalised as glibc prints it.
func errnoText(e unix.Errno) string {
	s := e.Error()
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	return s
}

// tracer formats one syscall's arguments and result.
type tracer struct {
	m      Memory
	a      Args
	n      int // number of arguments in the spec
	exit   bool
	ret    uint64
	failed bool
}

func (c *tracer) result(k retKind) string {
	if k == rNone {
		return "?"
	}
	if c.failed {
		return formatRet(c.ret)
	}
	r := c.ret
	switch k {
	case rHex:
		return trHex(r)
	case rOctal:
		return trOctal(r)
	case rFdFlags:
		if r == 0 {
			return "0"
		}
		return trHex(r) + " (flags " + trFlags(r, trFdFlagNames, "") + ")"
	case rOpenFlags:
		return trHex(r) + " (flags " + trOpenFlags(uint32(r)) + ")"
	case rTime:
		return formatRet(r) + " (" + trTime(int64(r)) + ")"
	case rPoll:
		return formatRet(r) + c.pollResult()
	case rSelect:
		return formatRet(r) + c.selectResult()
	}
	return formatRet(r)
}

// arg formats argument i (of kind k); false means it is not shown.
func (c *tracer) arg(k argKind, i int) (string, bool) {
	v := c.a[i]
	switch k {
	case kSkip:
		return "", false
	case kInt, kFd:
		return strconv.Itoa(int(int32(v))), true
	case kUint:
		return strconv.FormatUint(v, 10), true
	case kU32:
		return strconv.FormatUint(uint64(uint32(v)), 10), true
	case kLong:
		return strconv.FormatInt(int64(v), 10), true
	case kHex:
		return trHex(v), true
	case kX32:
		return trHex(uint64(uint32(v))), true
	case kPtr:
		return trAddr(v), true
	case kDirfd:
		if int32(v) == unix.AT_FDCWD {
			return "AT_FDCWD", true
		}
		return strconv.Itoa(int(int32(v))), true
	case kPath:
		return c.path(v, pathMax), true
	case kStr:
		return c.str(v, ^uint64(0)), true
	case kComm:
		return c.str(v, 15), true
	case kBufIn:
		return c.buf(v, c.a[i+1], false), true
	case kIovIn:
		return c.iov(v, c.a[i+1], ^uint64(0)), true
	case kArgv:
		return c.argv(v), true
	case kEnvp:
		return c.envp(v), true
	case kOpenFlags:
		return trOpenFlags(uint32(v)), true
	case kOFlags:
		return trFlags(uint64(uint32(v)), trOpenFlagNames, "O_???"), true
	case kCreatMode:
		if i == 0 || c.a[i-1]&(unix.O_CREAT|trOTmpfileBit) == 0 {
			return "", false
		}
		return trOctal(uint64(uint16(v))), true
	case kSockFamily:
		return trXval(v, trFamilyNames, "AF_???"), true
	case kSockType:
		t := trXval(v&0xf, trSockTypeNames, "SOCK_???")
		if f := v &^ 0xf; f != 0 {
			t += "|" + trFlags(f, trSockFlagNames, "")
		}
		return t, true
	case kSockProto:
		if c.a[0] == unix.AF_INET || c.a[0] == unix.AF_INET6 {
			return trXval(v, trIPProtoNames, ""), true
		}
		return strconv.Itoa(int(int32(v))), true
	case kMode:
		return trOctal(uint64(uint16(v))), true
	case kProt:
		return trFlags(v, trProtNames, "PROT_???"), true
	case kMmapFlags:
		return trMmapFlags(v), true
	case kMremapFlags:
		return trFlags(v, trMremapNames, "MREMAP_???"), true
	case kMremapAddr:
		f := c.a[3]
		if f&(unix.MREMAP_FIXED|unix.MREMAP_DONTUNMAP) == 0 || f&unix.MREMAP_MAYMOVE == 0 {
			return "", false
		}
		return trAddr(v), true
	case kMadvise:
		return trXval(uint64(uint32(v)), trMadviseNames, "MADV_???"), true
	case kAccess:
		return trFlags(v, trAccessNames, "?_OK"), true
	case kAtFlags:
		return trFlags(v, trAtFlagNames, "AT_???"), true
	case kFaccessatFlags:
		return trFlags(v, trFaccessatFlagNames, "AT_???"), true
	case kStatxFlags:
		f := uint64(uint32(v))
		s := trFlags(f&trAtStatxSyncType, trStatxSyncNames, "")
		if rest := f &^ trAtStatxSyncType; rest != 0 {
			s += "|" + trFlags(rest, trAtFlagNames, "")
		}
		return s, true
	case kStatxMask:
		return trFlags(uint64(uint32(v)), trStatxMaskNames, "STATX_???"), true
	case kWhence:
		return trXval(v, trWhenceNames, "SEEK_???"), true
	case kSignal:
		return trSignal(int(int32(v))), true
	case kSigHow:
		return trXval(v, trSigHowNames, "SIG_???"), true
	case kSigset, kSigsetOut:
		return c.sigset(v, c.a[c.n-1]), true
	case kKernelSigset:
		return c.kernelSigset(v), true
	case kSigaction, kSigactionOut:
		return c.sigaction(v), true
	case kStack, kStackOut:
		return c.stack(v), true
	case kClock:
		return trXval(uint64(uint32(v)), trClockNames, "CLOCK_???"), true
	case kClockFlags:
		return trFlags(v, trClockFlagNames, "TIMER_???"), true
	case kTimespec, kTimespecOut:
		return c.timespec(v), true
	case kTimeval, kTimevalOut:
		return c.timeval(v), true
	case kRlimit, kRlimitOut:
		return c.rlimit(v), true
	case kResource:
		return trXval(v, trResourceNames, "RLIMIT_???"), true
	case kFutexOp:
		return trFutexOp(uint64(int64(int32(v)))), true
	case kFutexBitset:
		return trXval(uint64(uint32(v)), trFutexBitsetNames, ""), true
	case kFutexWakeOp:
		return trFutexWakeOp(uint32(v)), true
	case kArchOp:
		return trXval(uint64(uint32(v)), trArchNames, "ARCH_???"), true
	case kPrctlOp:
		return trXval(uint64(uint32(v)), trPrctlNames, "PR_???"), true
	case kVmaAttr:
		return trXval(v, trVmaAttrNames, "PR_SET_VMA_???"), true
	case kIoctlReq:
		return trIoctlName(uint32(v)), true
	case kTermios, kTermiosOut:
		return c.termios(v), true
	case kWinsize, kWinsizeOut:
		return c.winsize(v), true
	case kIntPtr, kIntPtrOut:
		return c.num32(v, true), true
	case kU32PtrOut:
		return c.num32(v, false), true
	case kTcxonc:
		return trXval(v, trTcxoncNames, "TC???"), true
	case kTcflsh:
		return trXval(v, trTcflshNames, "TC???"), true
	case kFcntlCmd:
		return trXval(v, trFcntlNames, "F_???"), true
	case kFdFlags:
		return trFlags(v, trFdFlagNames, "FD_???"), true
	case kFlock:
		return c.flock(v, false), true
	case kFlockOut:
		return c.flock(v, true), true
	case kEpollOp:
		return trXval(uint64(uint32(v)), trEpollOpNames, "EPOLL_CTL_???"), true
	case kEpollEvent:
		if uint32(c.a[1]) == unix.EPOLL_CTL_DEL {
			return trAddr(v), true
		}
		b, ok := c.fetch(v, 12)
		if !ok {
			return trAddr(v), true
		}
		return trEpollEvent(b), true
	case kEpollFlags:
		return trFlags(v, trEpollFlagNames, "EPOLL_???"), true
	case kEfdFlags:
		return trFlags(v, trEfdFlagNames, "EFD_???"), true
	case kGrndFlags:
		return trFlags(v, trGrndFlagNames, "GRND_???"), true
	case kWaitOptions:
		return trFlags(v, trWaitFlagNames, "W???"), true
	case kIDType:
		return trXval(v, trIDTypeNames, "P_???"), true
	case kWstatusOut:
		return c.wstatus(v), true
	case kRseqFlags:
		return trFlags(uint64(uint32(v)), trRseqFlagNames, "RSEQ_FLAG_???"), true
	case kPollFds:
		return c.pollfds(v, uint64(uint32(c.a[i+1]))), true
	case kFdSet:
		return c.fdset(v), true
	case kCloneStack:
		return "child_stack=" + trAddr(c.a[1]), true
	case kCloneFlags:
		return "flags=" + trCloneFlags(c.a[0]), true
	case kSigreturnMask:
		// The handler's return popped the frame's return address: the
		// ucontext is at the stack pointer, its uc_sigmask 296 bytes in.
		sp := c.m.StackPointer()
		if sp == 0 {
			return "", false
		}
		va := sp + 296
		b, ok := c.fetch(va, 8)
		if !ok {
			return "{mask=" + trAddr(va) + "}", true
		}
		return "{mask=" + trSigset(trU64(b)) + "}", true

	case kBufOut:
		if c.failed {
			return trAddr(v), true
		}
		return c.buf(v, c.ret, false), true
	case kRandomOut:
		if c.failed {
			return trAddr(v), true
		}
		return c.buf(v, c.ret, true), true
	case kPathOut:
		if c.failed {
			return trAddr(v), true
		}
		return c.path(v, c.ret), true
	case kCommOut:
		if c.failed {
			return trAddr(v), true
		}
		return c.str(v, 16), true
	case kIovOut:
		if c.failed {
			return c.iov(v, c.a[i+1], 0), true
		}
		return c.iov(v, c.a[i+1], c.ret), true
	case kStatOut:
		return c.stat(v), true
	case kStatxOut:
		return c.statx(v), true
	case kRemOut:
		// The remaining time is only meaningful when a signal
		// interrupted the sleep (and, for clock_nanosleep, the time was
		// relative); otherwise strace shows the address.
		interrupted := int64(c.ret) == -int64(unix.EINTR)
		if c.n == 4 && c.a[1] != 0 {
			interrupted = false
		}
		if !interrupted {
			return trAddr(v), true
		}
		c.failed = false
		s := c.timespec(v)
		c.failed = true
		return s, true
	case kTimezoneOut:
		b, ok := c.fetch(v, 8)
		if !ok {
			return trAddr(v), true
		}
		return fmt.Sprintf("{tz_minuteswest=%d, tz_dsttime=%d}", int32(trU32(b)), int32(trU32(b[4:]))), true
	case kTimeOut:
		b, ok := c.fetch(v, 8)
		if !ok {
			return trAddr(v), true
		}
		t := int64(trU64(b))
		return "[" + strconv.FormatInt(t, 10) + " /* " + trTime(t) + " */]", true
	case kUnameOut:
		return c.uname(v), true
	case kSysinfoOut:
		return c.sysinfo(v), true
	case kPtrPtrOut:
		b, ok := c.fetch(v, 8)
		if !ok {
			return trAddr(v), true
		}
		return "[" + trAddr(trU64(b)) + "]", true
	case kUlongPtrOut:
		b, ok := c.fetch(v, 8)
		if !ok {
			return trAddr(v), true
		}
		return "[" + strconv.FormatUint(trU64(b), 10) + "]", true
	case kSignalPtrOut:
		b, ok := c.fetch(v, 4)
		if !ok {
			return trAddr(v), true
		}
		return "[" + trSignal(int(int32(trU32(b)))) + "]", true
	case kDentsOut:
		return c.dents(v), true
	case kAffinityOut:
		return c.affinity(v), true
	case kGroupsOut:
		return c.groups(v), true
	case kPipeOut:
		b, ok := c.fetch(v, 8)
		if !ok {
			return trAddr(v), true
		}
		return fmt.Sprintf("[%d, %d]", int32(trU32(b)), int32(trU32(b[4:]))), true
	case kEpollEventsOut:
		return c.epollEvents(v), true
	case kClonePtid:
		if c.a[0]&unix.CLONE_PARENT_SETTID == 0 {
			return "", false
		}
		return "parent_tid=" + c.num32(c.a[2], true), true
	case kCloneTls:
		if c.a[0]&unix.CLONE_SETTLS == 0 {
			return "", false
		}
		return "tls=" + trAddr(c.a[4]), true
	case kCloneCtid:
		if c.a[0]&(unix.CLONE_CHILD_SETTID|unix.CLONE_CHILD_CLEARTID) == 0 {
			return "", false
		}
		return "child_tidptr=" + trAddr(c.a[3]), true
	case kSendfileOff:
		// Before the call: the offset's first half, "[old".
		b, ok := c.fetch(v, 8)
		if !ok {
			return trAddr(v), true
		}
		return "[" + strconv.FormatUint(trU64(b), 10), true
	}
	return trHex(v), true
}

// sendfileOffExit ends sendfile's offset: " => new]" when the call moved
// it, "]" otherwise (nothing when the offset was shown as an address).
func (c *tracer) sendfileOffExit(va uint64) string {
	if va == 0 {
		return ""
	}
	if _, ok := c.mem(va, 8); !ok {
		return ""
	}
	if !c.failed && c.ret != 0 {
		if b, ok := c.mem(va, 8); ok {
			return " => " + strconv.FormatUint(trU64(b), 10) + "]"
		}
	}
	return "]"
}

// Memory.

// mem returns the program's [va, va+n) for reading, or false when any
// of it is unreadable (or va is NULL).
func (c *tracer) mem(va, n uint64) ([]byte, bool) {
	if va == 0 || va+n < va {
		return nil, false
	}
	if n == 0 {
		return nil, true
	}
	b, err := c.m.CopyIn(va, n)
	return b, err == nil
}

// fetch is strace's umove_or_printaddr: like mem, but an output
// argument of a failed call is not read (it is shown as its address).
func (c *tracer) fetch(va, n uint64) ([]byte, bool) {
	if c.exit && c.failed {
		return nil, false
	}
	return c.mem(va, n)
}

// cstring reads a NUL-terminated string from at most max bytes: the
// bytes before the NUL, whether the NUL was found, and whether the
// memory could be read.
func (c *tracer) cstring(va, max uint64) (s []byte, nul, ok bool) {
	for uint64(len(s)) < max {
		n := min(4096-va%4096, max-uint64(len(s)))
		b, ok := c.mem(va, n)
		if !ok {
			return nil, false, false
		}
		if i := bytes.IndexByte(b, 0); i >= 0 {
			return append(s, b[:i]...), true, true
		}
		s = append(s, b...)
		va += n
	}
	return s, false, true
}

func trU16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }
func trU32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
func trU64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// Numbers.

// trHex is strace's %#llx: 0 is "0".
func trHex(v uint64) string {
	if v == 0 {
		return "0"
	}
	return "0x" + strconv.FormatUint(v, 16)
}

// trAddr is strace's printaddr: NULL or hexadecimal.
func trAddr(v uint64) string {
	if v == 0 {
		return "NULL"
	}
	return trHex(v)
}

// trOctal is strace's %#03o: 0644, 022, 000.
func trOctal(v uint64) string {
	s := strconv.FormatUint(v, 8)
	if s[0] != '0' {
		s = "0" + s
	}
	for len(s) < 3 {
		s = "0" + s
	}
	return s
}

// num32 shows an int * as [n] (strace's printnum_int).
func (c *tracer) num32(va uint64, signed bool) string {
	b, ok := c.fetch(va, 4)
	if !ok {
		return trAddr(va)
	}
	if signed {
		return "[" + strconv.Itoa(int(int32(trU32(b)))) + "]"
	}
	return "[" + strconv.FormatUint(uint64(trU32(b)), 10) + "]"
}

// Strings.

// trQuote is strace's string_quote: C escapes for quotes, backslashes and
// whitespace controls, \ooo (as short as the next character allows) for
// other non-printables; with hexAll, every byte as \xNN.
func trQuote(b []byte, hexAll bool) string {
	var s strings.Builder
	s.WriteByte('"')
	for i, ch := range b {
		if hexAll {
			fmt.Fprintf(&s, "\\x%02x", ch)
			continue
		}
		switch ch {
		case '"', '\\':
			s.WriteByte('\\')
			s.WriteByte(ch)
		case '\f':
			s.WriteString(`\f`)
		case '\n':
			s.WriteString(`\n`)
		case '\r':
			s.WriteString(`\r`)
		case '\t':
			s.WriteString(`\t`)
		case '\v':
			s.WriteString(`\v`)
		default:
			if ch >= ' ' && ch < 0x7f {
				s.WriteByte(ch)
				continue
			}
			s.WriteByte('\\')
			full := i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '7'
			if full || ch>>6 != 0 {
				s.WriteByte('0' + ch>>6)
			}
			if full || ch>>3 != 0 {
				s.WriteByte('0' + (ch>>3)&7)
			}
			s.WriteByte('0' + ch&7)
		}
	}
	s.WriteByte('"')
	return s.String()
}

// buf is strace's printstrn: n bytes at va, at most -s of them shown,
// "..." after the quote when there are more.
func (c *tracer) buf(va, n uint64, hexAll bool) string {
	if va == 0 {
		return "NULL"
	}
	size := min(n, traceMaxStrlen+1)
	b, ok := c.mem(va, size)
	if !ok {
		return trAddr(va)
	}
	if size > traceMaxStrlen {
		b = b[:traceMaxStrlen]
	}
	s := trQuote(b, hexAll)
	if n > traceMaxStrlen {
		s += "..."
	}
	return s
}

// str is strace's printstr_ex with QUOTE_0_TERMINATED: a NUL-terminated
// string of at most limit bytes, at most -s of them shown.
func (c *tracer) str(va, limit uint64) string {
	if va == 0 {
		return "NULL"
	}
	size := min(limit, traceMaxStrlen+1)
	b, nul, ok := c.cstring(va, size)
	if !ok {
		return trAddr(va)
	}
	size = min(size, traceMaxStrlen)
	if nul && uint64(len(b)) <= size {
		return trQuote(b, false)
	}
	return trQuote(b[:size], false) + "..."
}

// path is strace's printpathn: a path of at most n bytes with its NUL,
// not limited by -s.
func (c *tracer) path(va, n uint64) string {
	if va == 0 {
		return "NULL"
	}
	n = min(n, pathMax)
	b, nul, ok := c.cstring(va, n)
	if !ok {
		return trAddr(va)
	}
	if nul {
		return trQuote(b, false)
	}
	if n > 0 {
		b = b[:n-1]
	}
	return trQuote(b, false) + "..."
}

// iov shows an iovec array of n entries, with at most data bytes of
// content in all (^0: each entry's length; 0: addresses only).
func (c *tracer) iov(va, n, data uint64) string {
	if va == 0 {
		return "NULL"
	}
	if n == 0 {
		return "[]"
	}
	var s strings.Builder
	for i := uint64(0); i < n; i++ {
		e, ok := c.mem(va+16*i, 16)
		if i > 0 {
			s.WriteString(", ")
		}
		if !ok {
			if i == 0 {
				return trAddr(va)
			}
			s.WriteString("... /* " + trHex(va+16*i) + " */")
			break
		}
		if i == 0 {
			s.WriteByte('[')
		}
		if i >= traceMaxStrlen {
			s.WriteString("...")
			break
		}
		base, l := trU64(e), trU64(e[8:])
		s.WriteString("{iov_base=")
		if data == 0 && c.exit && c.failed {
			s.WriteString(trAddr(base))
		} else {
			shown := min(l, data)
			if data != ^uint64(0) {
				data -= shown
			}
			s.WriteString(c.buf(base, shown, false))
		}
		s.WriteString(", iov_len=" + strconv.FormatUint(l, 10) + "}")
	}
	s.WriteByte(']')
	return s.String()
}

// argv shows execve's argv: ["ls", "-l"].
func (c *tracer) argv(va uint64) string {
	if va == 0 {
		return "NULL"
	}
	var s strings.Builder
	for n := uint64(0); ; n++ {
		b, ok := c.mem(va+8*n, 8)
		if !ok {
			if n == 0 {
				return trAddr(va)
			}
			s.WriteString(", ... /* " + trHex(va+8*n) + " */")
			break
		}
		if n == 0 {
			s.WriteByte('[')
		}
		p := trU64(b)
		if p == 0 {
			break
		}
		if n > 0 {
			s.WriteString(", ")
		}
		if n >= traceMaxStrlen {
			s.WriteString("...")
			break
		}
		s.WriteString(c.str(p, ^uint64(0)))
	}
	s.WriteByte(']')
	return s.String()
}

// envp shows execve's envp as strace does by default: 0x... /* 5 vars */.
func (c *tracer) envp(va uint64) string {
	if va == 0 {
		return "NULL"
	}
	n := 0
	for ; n < 1<<16; n++ {
		b, ok := c.mem(va+8*uint64(n), 8)
		if !ok {
			if n == 0 {
				return trAddr(va)
			}
			break
		}
		if trU64(b) == 0 {
			break
		}
	}
	vars := "vars"
	if n == 1 {
		vars = "var"
	}
	return fmt.Sprintf("%s /* %d %s */", trAddr(va), n, vars)
}

// Flags and named values.

type xlat []struct {
	v uint64
	s string
}

// trFlags is strace's printflags: names joined by |, unknown bits in
// hexadecimal; with nothing named, the value and /* dflt */ (or 0).
func trFlags(v uint64, tbl xlat, dflt string) string {
	var parts []string
	for _, e := range tbl {
		if v == e.v || (e.v != 0 && v&e.v == e.v) {
			parts = append(parts, e.s)
			v &^= e.v
		}
		if v == 0 {
			break
		}
	}
	if len(parts) > 0 {
		if v != 0 {
			parts = append(parts, trHex(v))
		}
		return strings.Join(parts, "|")
	}
	if v != 0 {
		if dflt != "" {
			return trHex(v) + " /* " + dflt + " */"
		}
		return trHex(v)
	}
	if dflt != "" {
		return "0"
	}
	return ""
}

// trXval is strace's printxval: the name, or the value in hexadecimal
// and /* dflt */.
func trXval(v uint64, tbl xlat, dflt string) string {
	for _, e := range tbl {
		if e.v == v {
			return e.s
		}
	}
	if dflt != "" {
		return trHex(v) + " /* " + dflt + " */"
	}
	return trHex(v)
}

// trOTmpfileBit is __O_TMPFILE (O_TMPFILE without O_DIRECTORY).
const trOTmpfileBit = unix.O_TMPFILE &^ unix.O_DIRECTORY

var trOpenAccessNames = [4]string{"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"}

// trOpenFlagNames is strace's open_mode_flags with the x86-64 values
// (O_LARGEFILE is 0 in x/sys, but the kernel's is 0100000).
var trOpenFlagNames = xlat{
	{unix.O_CREAT, "O_CREAT"},
	{unix.O_EXCL, "O_EXCL"},
	{unix.O_NOCTTY, "O_NOCTTY"},
	{unix.O_TRUNC, "O_TRUNC"},
	{unix.O_APPEND, "O_APPEND"},
	{unix.O_NONBLOCK, "O_NONBLOCK"},
	{unix.O_SYNC, "O_SYNC"},
	{unix.O_SYNC &^ unix.O_DSYNC, "__O_SYNC"},
	{unix.O_DSYNC, "O_DSYNC"},
	{unix.O_DIRECT, "O_DIRECT"},
	{0o100000, "O_LARGEFILE"},
	{unix.O_NOFOLLOW, "O_NOFOLLOW"},
	{unix.O_NOATIME, "O_NOATIME"},
	{unix.O_CLOEXEC, "O_CLOEXEC"},
	{unix.O_PATH, "O_PATH"},
	{unix.O_TMPFILE, "O_TMPFILE"},
	{trOTmpfileBit, "__O_TMPFILE"},
	{unix.O_DIRECTORY, "O_DIRECTORY"},
	{unix.O_ASYNC, "FASYNC"},
}

// trOpenFlags is the access mode and the O_* flags: O_RDONLY|O_CLOEXEC.
func trOpenFlags(f uint32) string {
	s := trOpenAccessNames[f&unix.O_ACCMODE]
	if rest := uint64(f &^ unix.O_ACCMODE); rest != 0 {
		s += "|" + trFlags(rest, trOpenFlagNames, "")
	}
	return s
}

var trFamilyNames = xlat{
	{unix.AF_UNSPEC, "AF_UNSPEC"}, {unix.AF_UNIX, "AF_UNIX"}, {unix.AF_INET, "AF_INET"}, {unix.AF_INET6, "AF_INET6"},
	{unix.AF_NETLINK, "AF_NETLINK"}, {unix.AF_PACKET, "AF_PACKET"}, {unix.AF_VSOCK, "AF_VSOCK"},
}

var trSockTypeNames = xlat{
	{unix.SOCK_STREAM, "SOCK_STREAM"}, {unix.SOCK_DGRAM, "SOCK_DGRAM"}, {unix.SOCK_RAW, "SOCK_RAW"},
	{unix.SOCK_RDM, "SOCK_RDM"}, {unix.SOCK_SEQPACKET, "SOCK_SEQPACKET"}, {unix.SOCK_PACKET, "SOCK_PACKET"},
}

var trSockFlagNames = xlat{{unix.SOCK_CLOEXEC, "SOCK_CLOEXEC"}, {unix.SOCK_NONBLOCK, "SOCK_NONBLOCK"}}

var trIPProtoNames = xlat{
	{unix.IPPROTO_IP, "IPPROTO_IP"}, {unix.IPPROTO_ICMP, "IPPROTO_ICMP"}, {unix.IPPROTO_TCP, "IPPROTO_TCP"},
	{unix.IPPROTO_UDP, "IPPROTO_UDP"}, {unix.IPPROTO_ICMPV6, "IPPROTO_ICMPV6"},
}

var trProtNames = xlat{
	{unix.PROT_NONE, "PROT_NONE"},
	{unix.PROT_READ, "PROT_READ"},
	{unix.PROT_WRITE, "PROT_WRITE"},
	{unix.PROT_EXEC, "PROT_EXEC"},
	{0x8, "PROT_SEM"},
	{unix.PROT_GROWSDOWN, "PROT_GROWSDOWN"},
	{unix.PROT_GROWSUP, "PROT_GROWSUP"},
}

var trMmapTypeNames = xlat{
	{unix.MAP_FILE, "MAP_FILE"},
	{unix.MAP_SHARED, "MAP_SHARED"},
	{unix.MAP_PRIVATE, "MAP_PRIVATE"},
	{unix.MAP_SHARED_VALIDATE, "MAP_SHARED_VALIDATE"},
	{unix.MAP_DROPPABLE, "MAP_DROPPABLE"},
}

var trMmapFlagNames = xlat{
	{unix.MAP_FIXED, "MAP_FIXED"},
	{unix.MAP_ANONYMOUS, "MAP_ANONYMOUS"},
	{unix.MAP_32BIT, "MAP_32BIT"},
	{unix.MAP_ABOVE4G, "MAP_ABOVE4G"},
	{unix.MAP_NORESERVE, "MAP_NORESERVE"},
	{unix.MAP_POPULATE, "MAP_POPULATE"},
	{unix.MAP_NONBLOCK, "MAP_NONBLOCK"},
	{unix.MAP_GROWSDOWN, "MAP_GROWSDOWN"},
	{unix.MAP_DENYWRITE, "MAP_DENYWRITE"},
	{unix.MAP_EXECUTABLE, "MAP_EXECUTABLE"},
	{unix.MAP_LOCKED, "MAP_LOCKED"},
	{unix.MAP_STACK, "MAP_STACK"},
	{unix.MAP_HUGETLB, "MAP_HUGETLB"},
	{unix.MAP_SYNC, "MAP_SYNC"},
	{0x4000000, "MAP_UNINITIALIZED"},
	{unix.MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE"},
}

// trMmapFlags is strace's print_mmap_flags: the mapping type, the flags,
// and the huge page size as N<<MAP_HUGE_SHIFT.
func trMmapFlags(f uint64) string {
	s := trXval(f&unix.MAP_TYPE, trMmapTypeNames, "MAP_???")
	f &^= unix.MAP_TYPE
	const hugeMask = unix.MAP_HUGE_MASK << unix.MAP_HUGE_SHIFT
	huge := f & hugeMask
	f &^= hugeMask
	if f != 0 {
		s += "|" + trFlags(f, trMmapFlagNames, "")
	}
	if huge != 0 {
		s += "|" + strconv.FormatUint(huge>>unix.MAP_HUGE_SHIFT, 10) + "<<MAP_HUGE_SHIFT"
	}
	return s
}

var trMremapNames = xlat{
	{unix.MREMAP_MAYMOVE, "MREMAP_MAYMOVE"},
	{unix.MREMAP_FIXED, "MREMAP_FIXED"},
	{unix.MREMAP_DONTUNMAP, "MREMAP_DONTUNMAP"},
}

var trMadviseNames = xlat{
	{unix.MADV_NORMAL, "MADV_NORMAL"},
	{unix.MADV_RANDOM, "MADV_RANDOM"},
	{unix.MADV_SEQUENTIAL, "MADV_SEQUENTIAL"},
	{unix.MADV_WILLNEED, "MADV_WILLNEED"},
	{unix.MADV_DONTNEED, "MADV_DONTNEED"},
	{unix.MADV_FREE, "MADV_FREE"},
	{unix.MADV_REMOVE, "MADV_REMOVE"},
	{unix.MADV_DONTFORK, "MADV_DONTFORK"},
	{unix.MADV_DOFORK, "MADV_DOFORK"},
	{unix.MADV_COLD, "MADV_COLD"},
	{unix.MADV_PAGEOUT, "MADV_PAGEOUT"},
	{unix.MADV_POPULATE_READ, "MADV_POPULATE_READ"},
	{unix.MADV_POPULATE_WRITE, "MADV_POPULATE_WRITE"},
	{unix.MADV_DONTNEED_LOCKED, "MADV_DONTNEED_LOCKED"},
	{unix.MADV_HWPOISON, "MADV_HWPOISON"},
	{101, "MADV_SOFT_OFFLINE"},
	{unix.MADV_GUARD_INSTALL, "MADV_GUARD_INSTALL"},
	{unix.MADV_GUARD_REMOVE, "MADV_GUARD_REMOVE"},
	{unix.MADV_MERGEABLE, "MADV_MERGEABLE"},
	{unix.MADV_UNMERGEABLE, "MADV_UNMERGEABLE"},
	{unix.MADV_HUGEPAGE, "MADV_HUGEPAGE"},
	{unix.MADV_NOHUGEPAGE, "MADV_NOHUGEPAGE"},
	{unix.MADV_DONTDUMP, "MADV_DONTDUMP"},
	{unix.MADV_DODUMP, "MADV_DODUMP"},
	{unix.MADV_WIPEONFORK, "MADV_WIPEONFORK"},
	{unix.MADV_KEEPONFORK, "MADV_KEEPONFORK"},
	{unix.MADV_COLLAPSE, "MADV_COLLAPSE"},
}

var trAccessNames = xlat{
	{unix.F_OK, "F_OK"},
	{unix.R_OK, "R_OK"},
	{unix.W_OK, "W_OK"},
	{unix.X_OK, "X_OK"},
}

var trAtFlagNames = xlat{
	{unix.AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW"},
	{unix.AT_REMOVEDIR, "AT_REMOVEDIR"},
	{unix.AT_SYMLINK_FOLLOW, "AT_SYMLINK_FOLLOW"},
	{unix.AT_NO_AUTOMOUNT, "AT_NO_AUTOMOUNT"},
	{unix.AT_EMPTY_PATH, "AT_EMPTY_PATH"},
	{unix.AT_RECURSIVE, "AT_RECURSIVE"},
}

var trFaccessatFlagNames = xlat{
	{unix.AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW"},
	{unix.AT_EACCESS, "AT_EACCESS"},
	{unix.AT_EMPTY_PATH, "AT_EMPTY_PATH"},
}

// trAtStatxSyncType is AT_STATX_SYNC_TYPE, the mask of the AT_STATX_* values.
const trAtStatxSyncType = 0x6000

var trStatxSyncNames = xlat{
	{unix.AT_STATX_SYNC_AS_STAT, "AT_STATX_SYNC_AS_STAT"},
	{unix.AT_STATX_FORCE_SYNC, "AT_STATX_FORCE_SYNC"},
	{unix.AT_STATX_DONT_SYNC, "AT_STATX_DONT_SYNC"},
}

var trStatxMaskNames = xlat{
	{unix.STATX_ALL, "STATX_ALL"},
	{unix.STATX_BASIC_STATS, "STATX_BASIC_STATS"},
	{unix.STATX_TYPE, "STATX_TYPE"},
	{unix.STATX_MODE, "STATX_MODE"},
	{unix.STATX_NLINK, "STATX_NLINK"},
	{unix.STATX_UID, "STATX_UID"},
	{unix.STATX_GID, "STATX_GID"},
	{unix.STATX_ATIME, "STATX_ATIME"},
	{unix.STATX_MTIME, "STATX_MTIME"},
	{unix.STATX_CTIME, "STATX_CTIME"},
	{unix.STATX_INO, "STATX_INO"},
	{unix.STATX_SIZE, "STATX_SIZE"},
	{unix.STATX_BLOCKS, "STATX_BLOCKS"},
	{unix.STATX_BTIME, "STATX_BTIME"},
	{unix.STATX_MNT_ID, "STATX_MNT_ID"},
	{unix.STATX_DIOALIGN, "STATX_DIOALIGN"},
	{unix.STATX_MNT_ID_UNIQUE, "STATX_MNT_ID_UNIQUE"},
	{unix.STATX_SUBVOL, "STATX_SUBVOL"},
	{unix.STATX_WRITE_ATOMIC, "STATX_WRITE_ATOMIC"},
	{unix.STATX_DIO_READ_ALIGN, "STATX_DIO_READ_ALIGN"},
}

var trStatxAttrNames = xlat{
	{unix.STATX_ATTR_COMPRESSED, "STATX_ATTR_COMPRESSED"},
	{unix.STATX_ATTR_IMMUTABLE, "STATX_ATTR_IMMUTABLE"},
	{unix.STATX_ATTR_APPEND, "STATX_ATTR_APPEND"},
	{unix.STATX_ATTR_NODUMP, "STATX_ATTR_NODUMP"},
	{unix.STATX_ATTR_ENCRYPTED, "STATX_ATTR_ENCRYPTED"},
	{unix.STATX_ATTR_AUTOMOUNT, "STATX_ATTR_AUTOMOUNT"},
	{unix.STATX_ATTR_MOUNT_ROOT, "STATX_ATTR_MOUNT_ROOT"},
	{unix.STATX_ATTR_VERITY, "STATX_ATTR_VERITY"},
	{unix.STATX_ATTR_DAX, "STATX_ATTR_DAX"},
	{unix.STATX_ATTR_WRITE_ATOMIC, "STATX_ATTR_WRITE_ATOMIC"},
}

var trWhenceNames = xlat{
	{unix.SEEK_SET, "SEEK_SET"},
	{unix.SEEK_CUR, "SEEK_CUR"},
	{unix.SEEK_END, "SEEK_END"},
	{unix.SEEK_DATA, "SEEK_DATA"},
	{unix.SEEK_HOLE, "SEEK_HOLE"},
}

var trSigHowNames = xlat{
	{unix.SIG_BLOCK, "SIG_BLOCK"},
	{unix.SIG_UNBLOCK, "SIG_UNBLOCK"},
	{unix.SIG_SETMASK, "SIG_SETMASK"},
}

var trClockNames = xlat{
	{unix.CLOCK_REALTIME, "CLOCK_REALTIME"},
	{unix.CLOCK_MONOTONIC, "CLOCK_MONOTONIC"},
	{unix.CLOCK_PROCESS_CPUTIME_ID, "CLOCK_PROCESS_CPUTIME_ID"},
	{unix.CLOCK_THREAD_CPUTIME_ID, "CLOCK_THREAD_CPUTIME_ID"},
	{unix.CLOCK_MONOTONIC_RAW, "CLOCK_MONOTONIC_RAW"},
	{unix.CLOCK_REALTIME_COARSE, "CLOCK_REALTIME_COARSE"},
	{unix.CLOCK_MONOTONIC_COARSE, "CLOCK_MONOTONIC_COARSE"},
	{unix.CLOCK_BOOTTIME, "CLOCK_BOOTTIME"},
	{unix.CLOCK_REALTIME_ALARM, "CLOCK_REALTIME_ALARM"},
	{unix.CLOCK_BOOTTIME_ALARM, "CLOCK_BOOTTIME_ALARM"},
	{10, "CLOCK_SGI_CYCLE"},
	{unix.CLOCK_TAI, "CLOCK_TAI"},
}

var trClockFlagNames = xlat{{unix.TIMER_ABSTIME, "TIMER_ABSTIME"}}

var trResourceNames = xlat{
	{unix.RLIMIT_CPU, "RLIMIT_CPU"},
	{unix.RLIMIT_FSIZE, "RLIMIT_FSIZE"},
	{unix.RLIMIT_DATA, "RLIMIT_DATA"},
	{unix.RLIMIT_STACK, "RLIMIT_STACK"},
	{unix.RLIMIT_CORE, "RLIMIT_CORE"},
	{unix.RLIMIT_RSS, "RLIMIT_RSS"},
	{unix.RLIMIT_NPROC, "RLIMIT_NPROC"},
	{unix.RLIMIT_NOFILE, "RLIMIT_NOFILE"},
	{unix.RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK"},
	{unix.RLIMIT_AS, "RLIMIT_AS"},
	{unix.RLIMIT_LOCKS, "RLIMIT_LOCKS"},
	{unix.RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING"},
	{unix.RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE"},
	{unix.RLIMIT_NICE, "RLIMIT_NICE"},
	{unix.RLIMIT_RTPRIO, "RLIMIT_RTPRIO"},
	{unix.RLIMIT_RTTIME, "RLIMIT_RTTIME"},
}

// Futex operations x/sys and abi leave out.
const (
	trFutexFD            = 2
	trFutexLockPI        = 6
	trFutexUnlockPI      = 7
	trFutexTrylockPI     = 8
	trFutexWaitRequeuePI = 11
	trFutexCmpRequeuePI  = 12
	trFutexLockPI2       = 13
)

var trFutexCmdNames = [...]string{
	"FUTEX_WAIT", "FUTEX_WAKE", "FUTEX_FD", "FUTEX_REQUEUE", "FUTEX_CMP_REQUEUE",
	"FUTEX_WAKE_OP", "FUTEX_LOCK_PI", "FUTEX_UNLOCK_PI", "FUTEX_TRYLOCK_PI",
	"FUTEX_WAIT_BITSET", "FUTEX_WAKE_BITSET", "FUTEX_WAIT_REQUEUE_PI",
	"FUTEX_CMP_REQUEUE_PI", "FUTEX_LOCK_PI2",
}

// trFutexOp names a futex operation as strace's futexops table does:
// FUTEX_WAIT_PRIVATE, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME.
func trFutexOp(op uint64) string {
	cmd := op &^ (abi.FUTEX_PRIVATE_FLAG | abi.FUTEX_CLOCK_REALTIME)
	if cmd < uint64(len(trFutexCmdNames)) {
		s := trFutexCmdNames[cmd]
		if op&abi.FUTEX_PRIVATE_FLAG != 0 {
			if cmd == trFutexFD {
				s += "|FUTEX_PRIVATE_FLAG"
			} else {
				s += "_PRIVATE"
			}
		}
		if op&abi.FUTEX_CLOCK_REALTIME == 0 {
			return s
		}
		if cmd == abi.FUTEX_WAIT || cmd == abi.FUTEX_WAIT_BITSET || cmd == trFutexWaitRequeuePI {
			return s + "|FUTEX_CLOCK_REALTIME"
		}
	}
	return trHex(op) + " /* FUTEX_??? */"
}

var trFutexBitsetNames = xlat{{0xffffffff, "FUTEX_BITSET_MATCH_ANY"}}

var trFutexWakeOpNames = xlat{
	{0, "FUTEX_OP_SET"}, {1, "FUTEX_OP_ADD"}, {2, "FUTEX_OP_OR"}, {3, "FUTEX_OP_ANDN"}, {4, "FUTEX_OP_XOR"},
}

var trFutexWakeCmpNames = xlat{
	{0, "FUTEX_OP_CMP_EQ"}, {1, "FUTEX_OP_CMP_NE"}, {2, "FUTEX_OP_CMP_LT"},
	{3, "FUTEX_OP_CMP_LE"}, {4, "FUTEX_OP_CMP_GT"}, {5, "FUTEX_OP_CMP_GE"},
}

// trFutexWakeOp decodes FUTEX_WAKE_OP's val3 as strace does:
// FUTEX_OP_SET<<28|0<<12|FUTEX_OP_CMP_GT<<24|0x1.
func trFutexWakeOp(v uint32) string {
	var s string
	if (v>>28)&8 != 0 {
		s = "FUTEX_OP_OPARG_SHIFT<<28|"
	}
	named := func(x uint32, tbl xlat, dflt string, shift string) string {
		for _, e := range tbl {
			if e.v == uint64(x) {
				return e.s + "<<" + shift
			}
		}
		return trHex(uint64(x)) + "<<" + shift + " /* " + dflt + " */"
	}
	s += named((v>>28)&7, trFutexWakeOpNames, "FUTEX_OP_???", "28")
	s += "|" + trHex(uint64((v>>12)&0xfff)) + "<<12"
	s += "|" + named((v>>24)&0xf, trFutexWakeCmpNames, "FUTEX_OP_CMP_???", "24")
	s += "|" + trHex(uint64(v&0xfff))
	return s
}

var trArchNames = xlat{
	{abi.ARCH_SET_GS, "ARCH_SET_GS"},
	{abi.ARCH_SET_FS, "ARCH_SET_FS"},
	{abi.ARCH_GET_FS, "ARCH_GET_FS"},
	{abi.ARCH_GET_GS, "ARCH_GET_GS"},
	{abi.ARCH_GET_CPUID, "ARCH_GET_CPUID"},
	{abi.ARCH_SET_CPUID, "ARCH_SET_CPUID"},
	{0x1021, "ARCH_GET_XCOMP_SUPP"},
	{0x1022, "ARCH_GET_XCOMP_PERM"},
	{abi.ARCH_REQ_XCOMP_PERM, "ARCH_REQ_XCOMP_PERM"},
	{0x1024, "ARCH_GET_XCOMP_GUEST_PERM"},
	{0x1025, "ARCH_REQ_XCOMP_GUEST_PERM"},
	{0x2001, "ARCH_MAP_VDSO_X32"},
	{0x2002, "ARCH_MAP_VDSO_32"},
	{0x2003, "ARCH_MAP_VDSO_64"},
	{0x4001, "ARCH_GET_UNTAG_MASK"},
	{0x4002, "ARCH_ENABLE_TAGGED_ADDR"},
	{0x4003, "ARCH_GET_MAX_TAG_BITS"},
	{0x4004, "ARCH_FORCE_TAGGED_SVA"},
	{abi.ARCH_SHSTK_ENABLE, "ARCH_SHSTK_ENABLE"},
	{0x5002, "ARCH_SHSTK_DISABLE"},
	{0x5003, "ARCH_SHSTK_LOCK"},
	{0x5004, "ARCH_SHSTK_UNLOCK"},
	{0x5005, "ARCH_SHSTK_STATUS"},
}

var trPrctlNames = xlat{
	{unix.PR_SET_PDEATHSIG, "PR_SET_PDEATHSIG"},
	{unix.PR_GET_PDEATHSIG, "PR_GET_PDEATHSIG"},
	{unix.PR_GET_DUMPABLE, "PR_GET_DUMPABLE"},
	{unix.PR_SET_DUMPABLE, "PR_SET_DUMPABLE"},
	{unix.PR_GET_UNALIGN, "PR_GET_UNALIGN"},
	{unix.PR_SET_UNALIGN, "PR_SET_UNALIGN"},
	{unix.PR_GET_KEEPCAPS, "PR_GET_KEEPCAPS"},
	{unix.PR_SET_KEEPCAPS, "PR_SET_KEEPCAPS"},
	{unix.PR_GET_FPEMU, "PR_GET_FPEMU"},
	{unix.PR_SET_FPEMU, "PR_SET_FPEMU"},
	{unix.PR_GET_FPEXC, "PR_GET_FPEXC"},
	{unix.PR_SET_FPEXC, "PR_SET_FPEXC"},
	{unix.PR_GET_TIMING, "PR_GET_TIMING"},
	{unix.PR_SET_TIMING, "PR_SET_TIMING"},
	{unix.PR_SET_NAME, "PR_SET_NAME"},
	{unix.PR_GET_NAME, "PR_GET_NAME"},
	{unix.PR_GET_ENDIAN, "PR_GET_ENDIAN"},
	{unix.PR_SET_ENDIAN, "PR_SET_ENDIAN"},
	{unix.PR_GET_SECCOMP, "PR_GET_SECCOMP"},
	{unix.PR_SET_SECCOMP, "PR_SET_SECCOMP"},
	{unix.PR_CAPBSET_READ, "PR_CAPBSET_READ"},
	{unix.PR_CAPBSET_DROP, "PR_CAPBSET_DROP"},
	{unix.PR_GET_TSC, "PR_GET_TSC"},
	{unix.PR_SET_TSC, "PR_SET_TSC"},
	{unix.PR_GET_SECUREBITS, "PR_GET_SECUREBITS"},
	{unix.PR_SET_SECUREBITS, "PR_SET_SECUREBITS"},
	{unix.PR_SET_TIMERSLACK, "PR_SET_TIMERSLACK"},
	{unix.PR_GET_TIMERSLACK, "PR_GET_TIMERSLACK"},
	{unix.PR_TASK_PERF_EVENTS_DISABLE, "PR_TASK_PERF_EVENTS_DISABLE"},
	{unix.PR_TASK_PERF_EVENTS_ENABLE, "PR_TASK_PERF_EVENTS_ENABLE"},
	{unix.PR_MCE_KILL, "PR_MCE_KILL"},
	{unix.PR_MCE_KILL_GET, "PR_MCE_KILL_GET"},
	{unix.PR_SET_MM, "PR_SET_MM"},
	{unix.PR_SET_CHILD_SUBREAPER, "PR_SET_CHILD_SUBREAPER"},
	{unix.PR_GET_CHILD_SUBREAPER, "PR_GET_CHILD_SUBREAPER"},
	{unix.PR_SET_NO_NEW_PRIVS, "PR_SET_NO_NEW_PRIVS"},
	{unix.PR_GET_NO_NEW_PRIVS, "PR_GET_NO_NEW_PRIVS"},
	{unix.PR_GET_TID_ADDRESS, "PR_GET_TID_ADDRESS"},
	{unix.PR_SET_THP_DISABLE, "PR_SET_THP_DISABLE"},
	{unix.PR_GET_THP_DISABLE, "PR_GET_THP_DISABLE"},
	{unix.PR_SET_FP_MODE, "PR_SET_FP_MODE"},
	{unix.PR_GET_FP_MODE, "PR_GET_FP_MODE"},
	{unix.PR_CAP_AMBIENT, "PR_CAP_AMBIENT"},
	{unix.PR_GET_SPECULATION_CTRL, "PR_GET_SPECULATION_CTRL"},
	{unix.PR_SET_SPECULATION_CTRL, "PR_SET_SPECULATION_CTRL"},
	{unix.PR_SET_TAGGED_ADDR_CTRL, "PR_SET_TAGGED_ADDR_CTRL"},
	{unix.PR_GET_TAGGED_ADDR_CTRL, "PR_GET_TAGGED_ADDR_CTRL"},
	{unix.PR_SET_IO_FLUSHER, "PR_SET_IO_FLUSHER"},
	{unix.PR_GET_IO_FLUSHER, "PR_GET_IO_FLUSHER"},
	{unix.PR_SET_SYSCALL_USER_DISPATCH, "PR_SET_SYSCALL_USER_DISPATCH"},
	{unix.PR_SCHED_CORE, "PR_SCHED_CORE"},
	{unix.PR_SET_MDWE, "PR_SET_MDWE"},
	{unix.PR_GET_MDWE, "PR_GET_MDWE"},
	{unix.PR_SET_MEMORY_MERGE, "PR_SET_MEMORY_MERGE"},
	{unix.PR_GET_MEMORY_MERGE, "PR_GET_MEMORY_MERGE"},
	{unix.PR_GET_AUXV, "PR_GET_AUXV"},
	{unix.PR_SET_VMA, "PR_SET_VMA"},
	{unix.PR_SET_PTRACER, "PR_SET_PTRACER"},
}

var trVmaAttrNames = xlat{{unix.PR_SET_VMA_ANON_NAME, "PR_SET_VMA_ANON_NAME"}}

// Ioctl requests x/sys leaves out (asm-generic/ioctls.h).
const (
	trFIONBIO  = 0x5421
	trFIONCLEX = 0x5450
	trFIOCLEX  = 0x5451
	trFIOASYNC = 0x5452
)

// trIoctlNames are the terminal ioctls; the console is a terminal, so the
// requests that clash with OSS sound ones are shown by their tty names,
// as strace does for a tty.
var trIoctlNames = xlat{
	{unix.TCGETS, "TCGETS"},
	{unix.TCSETS, "TCSETS"},
	{unix.TCSETSW, "TCSETSW"},
	{unix.TCSETSF, "TCSETSF"},
	{unix.TCGETA, "TCGETA"},
	{unix.TCSETA, "TCSETA"},
	{unix.TCSETAW, "TCSETAW"},
	{unix.TCSETAF, "TCSETAF"},
	{unix.TCSBRK, "TCSBRK"},
	{unix.TCXONC, "TCXONC"},
	{unix.TCFLSH, "TCFLSH"},
	{unix.TIOCEXCL, "TIOCEXCL"},
	{unix.TIOCNXCL, "TIOCNXCL"},
	{unix.TIOCSCTTY, "TIOCSCTTY"},
	{unix.TIOCGPGRP, "TIOCGPGRP"},
	{unix.TIOCSPGRP, "TIOCSPGRP"},
	{unix.TIOCOUTQ, "TIOCOUTQ"},
	{unix.TIOCSTI, "TIOCSTI"},
	{unix.TIOCGWINSZ, "TIOCGWINSZ"},
	{unix.TIOCSWINSZ, "TIOCSWINSZ"},
	{unix.TIOCMGET, "TIOCMGET"},
	{unix.TIOCMBIS, "TIOCMBIS"},
	{unix.TIOCMBIC, "TIOCMBIC"},
	{unix.TIOCMSET, "TIOCMSET"},
	{unix.TIOCGSOFTCAR, "TIOCGSOFTCAR"},
	{unix.TIOCSSOFTCAR, "TIOCSSOFTCAR"},
	{unix.TIOCINQ, "FIONREAD"},
	{unix.TIOCLINUX, "TIOCLINUX"},
	{unix.TIOCCONS, "TIOCCONS"},
	{unix.TIOCGSERIAL, "TIOCGSERIAL"},
	{unix.TIOCSSERIAL, "TIOCSSERIAL"},
	{unix.TIOCPKT, "TIOCPKT"},
	{trFIONBIO, "FIONBIO"},
	{unix.TIOCNOTTY, "TIOCNOTTY"},
	{unix.TIOCSETD, "TIOCSETD"},
	{unix.TIOCGETD, "TIOCGETD"},
	{unix.TCSBRKP, "TCSBRKP"},
	{unix.TIOCSBRK, "TIOCSBRK"},
	{unix.TIOCCBRK, "TIOCCBRK"},
	{unix.TIOCGSID, "TIOCGSID"},
	{unix.TCGETS2, "TCGETS2"},
	{unix.TCSETS2, "TCSETS2"},
	{unix.TCSETSW2, "TCSETSW2"},
	{unix.TCSETSF2, "TCSETSF2"},
	{unix.TIOCGPTN, "TIOCGPTN"},
	{unix.TIOCSPTLCK, "TIOCSPTLCK"},
	{unix.TIOCGDEV, "TIOCGDEV"},
	{unix.TIOCSIG, "TIOCSIG"},
	{unix.TIOCVHANGUP, "TIOCVHANGUP"},
	{unix.TIOCGPKT, "TIOCGPKT"},
	{unix.TIOCGPTLCK, "TIOCGPTLCK"},
	{unix.TIOCGEXCL, "TIOCGEXCL"},
	{unix.TIOCGPTPEER, "TIOCGPTPEER"},
	{trFIONCLEX, "FIONCLEX"},
	{trFIOCLEX, "FIOCLEX"},
	{trFIOASYNC, "FIOASYNC"},
	{unix.TIOCSERGETLSR, "TIOCSERGETLSR"},
	{unix.TIOCGLCKTRMIOS, "TIOCGLCKTRMIOS"},
	{unix.TIOCSLCKTRMIOS, "TIOCSLCKTRMIOS"},
}

// trIoctlName is the request's name, or strace's _IOC(dir, type, nr, size).
func trIoctlName(req uint32) string {
	for _, e := range trIoctlNames {
		if e.v == uint64(req) {
			return e.s
		}
	}
	dir := trFlags(uint64(req>>30), xlat{{0, "_IOC_NONE"}, {2, "_IOC_READ"}, {1, "_IOC_WRITE"}}, "_IOC_???")
	return fmt.Sprintf("_IOC(%s, %s, %s, %s)", dir, trHex(uint64(req>>8&0xff)), trHex(uint64(req&0xff)), trHex(uint64(req>>16&0x3fff)))
}

var trTcxoncNames = xlat{{unix.TCOOFF, "TCOOFF"}, {unix.TCOON, "TCOON"}, {unix.TCIOFF, "TCIOFF"}, {unix.TCION, "TCION"}}

var trTcflshNames = xlat{{unix.TCIFLUSH, "TCIFLUSH"}, {unix.TCOFLUSH, "TCOFLUSH"}, {unix.TCIOFLUSH, "TCIOFLUSH"}}

var trFcntlNames = xlat{
	{unix.F_DUPFD, "F_DUPFD"},
	{unix.F_GETFD, "F_GETFD"},
	{unix.F_SETFD, "F_SETFD"},
	{unix.F_GETFL, "F_GETFL"},
	{unix.F_SETFL, "F_SETFL"},
	{unix.F_GETLK, "F_GETLK"},
	{unix.F_SETLK, "F_SETLK"},
	{unix.F_SETLKW, "F_SETLKW"},
	{unix.F_SETOWN, "F_SETOWN"},
	{unix.F_GETOWN, "F_GETOWN"},
	{unix.F_SETSIG, "F_SETSIG"},
	{unix.F_GETSIG, "F_GETSIG"},
	{unix.F_SETOWN_EX, "F_SETOWN_EX"},
	{unix.F_GETOWN_EX, "F_GETOWN_EX"},
	{17, "F_GETOWNER_UIDS"},
	{unix.F_OFD_GETLK, "F_OFD_GETLK"},
	{unix.F_OFD_SETLK, "F_OFD_SETLK"},
	{unix.F_OFD_SETLKW, "F_OFD_SETLKW"},
	{unix.F_SETLEASE, "F_SETLEASE"},
	{unix.F_GETLEASE, "F_GETLEASE"},
	{unix.F_NOTIFY, "F_NOTIFY"},
	{unix.F_DUPFD_QUERY, "F_DUPFD_QUERY"},
	{unix.F_CREATED_QUERY, "F_CREATED_QUERY"},
	{1029, "F_CANCELLK"},
	{unix.F_DUPFD_CLOEXEC, "F_DUPFD_CLOEXEC"},
	{unix.F_SETPIPE_SZ, "F_SETPIPE_SZ"},
	{unix.F_GETPIPE_SZ, "F_GETPIPE_SZ"},
	{unix.F_ADD_SEALS, "F_ADD_SEALS"},
	{unix.F_GET_SEALS, "F_GET_SEALS"},
	{unix.F_GET_RW_HINT, "F_GET_RW_HINT"},
	{unix.F_SET_RW_HINT, "F_SET_RW_HINT"},
	{unix.F_GET_FILE_RW_HINT, "F_GET_FILE_RW_HINT"},
	{unix.F_SET_FILE_RW_HINT, "F_SET_FILE_RW_HINT"},
}

var trFdFlagNames = xlat{{unix.FD_CLOEXEC, "FD_CLOEXEC"}}

var trLockTypeNames = xlat{{unix.F_RDLCK, "F_RDLCK"}, {unix.F_WRLCK, "F_WRLCK"}, {unix.F_UNLCK, "F_UNLCK"}}

var trEpollOpNames = xlat{
	{unix.EPOLL_CTL_ADD, "EPOLL_CTL_ADD"},
	{unix.EPOLL_CTL_DEL, "EPOLL_CTL_DEL"},
	{unix.EPOLL_CTL_MOD, "EPOLL_CTL_MOD"},
}

var trEpollEventNames = xlat{
	{unix.EPOLLIN, "EPOLLIN"},
	{unix.EPOLLPRI, "EPOLLPRI"},
	{unix.EPOLLOUT, "EPOLLOUT"},
	{unix.EPOLLERR, "EPOLLERR"},
	{unix.EPOLLHUP, "EPOLLHUP"},
	{0x20, "EPOLLNVAL"},
	{unix.EPOLLRDNORM, "EPOLLRDNORM"},
	{unix.EPOLLRDBAND, "EPOLLRDBAND"},
	{unix.EPOLLWRNORM, "EPOLLWRNORM"},
	{unix.EPOLLWRBAND, "EPOLLWRBAND"},
	{unix.EPOLLMSG, "EPOLLMSG"},
	{unix.EPOLLRDHUP, "EPOLLRDHUP"},
	{unix.EPOLLEXCLUSIVE, "EPOLLEXCLUSIVE"},
	{unix.EPOLLWAKEUP, "EPOLLWAKEUP"},
	{unix.EPOLLONESHOT, "EPOLLONESHOT"},
	{unix.EPOLLET & 0xffffffff, "EPOLLET"},
}

var trEpollFlagNames = xlat{{unix.EPOLL_CLOEXEC, "EPOLL_CLOEXEC"}}

var trEfdFlagNames = xlat{
	{unix.EFD_SEMAPHORE, "EFD_SEMAPHORE"},
	{unix.EFD_CLOEXEC, "EFD_CLOEXEC"},
	{unix.EFD_NONBLOCK, "EFD_NONBLOCK"},
}

var trGrndFlagNames = xlat{
	{unix.GRND_NONBLOCK, "GRND_NONBLOCK"},
	{unix.GRND_RANDOM, "GRND_RANDOM"},
	{unix.GRND_INSECURE, "GRND_INSECURE"},
}

var trWaitFlagNames = xlat{
	{unix.WNOHANG, "WNOHANG"}, {unix.WUNTRACED, "WSTOPPED"}, {unix.WEXITED, "WEXITED"},
	{unix.WCONTINUED, "WCONTINUED"}, {unix.WNOWAIT, "WNOWAIT"}, {unix.WNOTHREAD, "__WNOTHREAD"},
	{unix.WALL, "__WALL"}, {unix.WCLONE, "__WCLONE"},
}

var trIDTypeNames = xlat{{0, "P_ALL"}, {1, "P_PID"}, {2, "P_PGID"}, {3, "P_PIDFD"}}

// wstatus is strace's printstatus: a wait status as the macros test it.
func (c *tracer) wstatus(va uint64) string {
	b, ok := c.fetch(va, 4)
	if !ok {
		return trAddr(va)
	}
	st := trU32(b)
	switch sig := st & 0x7f; {
	case sig == 0:
		return fmt.Sprintf("[{WIFEXITED(s) && WEXITSTATUS(s) == %d}]", st>>8&0xff)
	case sig != 0x7f:
		core := ""
		if st&0x80 != 0 {
			core = " && WCOREDUMP(s)"
		}
		return fmt.Sprintf("[{WIFSIGNALED(s) && WTERMSIG(s) == %s%s}]", trSignal(int(sig)), core)
	}
	return fmt.Sprintf("[%#x]", st)
}

var trRseqFlagNames = xlat{{1, "RSEQ_FLAG_UNREGISTER"}, {2, "RSEQ_FLAG_SLICE_EXT_DEFAULT_ON"}}

var trPollNames = xlat{
	{unix.POLLIN, "POLLIN"},
	{unix.POLLPRI, "POLLPRI"},
	{unix.POLLOUT, "POLLOUT"},
	{unix.POLLERR, "POLLERR"},
	{unix.POLLHUP, "POLLHUP"},
	{unix.POLLNVAL, "POLLNVAL"},
	{0x40, "POLLRDNORM"},
	{0x80, "POLLRDBAND"},
	{0x100, "POLLWRNORM"},
	{0x200, "POLLWRBAND"},
	{0x400, "POLLMSG"},
	{0x1000, "POLLREMOVE"},
	{unix.POLLRDHUP, "POLLRDHUP"},
}

var trCloneFlagNames = xlat{
	{unix.CLONE_VM, "CLONE_VM"},
	{unix.CLONE_FS, "CLONE_FS"},
	{unix.CLONE_FILES, "CLONE_FILES"},
	{unix.CLONE_SIGHAND, "CLONE_SIGHAND"},
	{unix.CLONE_PIDFD, "CLONE_PIDFD"},
	{unix.CLONE_PTRACE, "CLONE_PTRACE"},
	{unix.CLONE_VFORK, "CLONE_VFORK"},
	{unix.CLONE_PARENT, "CLONE_PARENT"},
	{unix.CLONE_THREAD, "CLONE_THREAD"},
	{unix.CLONE_NEWNS, "CLONE_NEWNS"},
	{unix.CLONE_SYSVSEM, "CLONE_SYSVSEM"},
	{unix.CLONE_SETTLS, "CLONE_SETTLS"},
	{unix.CLONE_PARENT_SETTID, "CLONE_PARENT_SETTID"},
	{unix.CLONE_CHILD_CLEARTID, "CLONE_CHILD_CLEARTID"},
	{unix.CLONE_UNTRACED, "CLONE_UNTRACED"},
	{unix.CLONE_CHILD_SETTID, "CLONE_CHILD_SETTID"},
	{unix.CLONE_NEWCGROUP, "CLONE_NEWCGROUP"},
	{unix.CLONE_NEWUTS, "CLONE_NEWUTS"},
	{unix.CLONE_NEWIPC, "CLONE_NEWIPC"},
	{unix.CLONE_NEWUSER, "CLONE_NEWUSER"},
	{unix.CLONE_NEWPID, "CLONE_NEWPID"},
	{unix.CLONE_NEWNET, "CLONE_NEWNET"},
	{unix.CLONE_IO, "CLONE_IO"},
}

// trCloneFlags shows clone's flags with the exit signal in the low byte:
// CLONE_VM|CLONE_FS|...|SIGCHLD.
func trCloneFlags(v uint64) string {
	const csignal = 0xff
	sig := int(v & csignal)
	f := v &^ csignal
	if f == 0 {
		return trSignal(sig)
	}
	s := trFlags(f, trCloneFlagNames, "CLONE_???")
	if sig != 0 {
		s += "|" + trSignal(sig)
	}
	return s
}

// Signals.

// trSigName is strace's signame: SIGINT, SIGRTMIN, SIGRT_1...
func trSigName(n int) string {
	switch {
	case n >= 1 && n <= 31:
		return unix.SignalName(syscall.Signal(n))
	case n == 32:
		return "SIGRTMIN"
	case n > 32 && n <= 64:
		return "SIGRT_" + strconv.Itoa(n-32)
	}
	return ""
}

// trSignal is a signal number's name, or the number.
func trSignal(n int) string {
	if s := trSigName(n); s != "" {
		return s
	}
	return strconv.Itoa(n)
}

// trSigset shows a signal set as strace does: [INT TERM], or the
// complement ~[...] when two thirds or more of the signals are in it.
func trSigset(mask uint64) string {
	var s strings.Builder
	if bits.OnesCount64(mask) >= 64*2/3 {
		s.WriteByte('~')
		mask = ^mask
	}
	s.WriteByte('[')
	first := true
	for i := 0; i < 64; i++ {
		if mask&(1<<i) == 0 {
			continue
		}
		if !first {
			s.WriteByte(' ')
		}
		first = false
		if n := trSigName(i + 1); n != "" {
			s.WriteString(strings.TrimPrefix(n, "SIG"))
		}
	}
	s.WriteByte(']')
	return s.String()
}

// sigset shows a sigset_t * of size bytes (strace shows only the
// kernel's 8-byte sets).
func (c *tracer) sigset(va, size uint64) string {
	if size != 8 {
		return trAddr(va)
	}
	b, ok := c.fetch(va, 8)
	if !ok {
		return trAddr(va)
	}
	return trSigset(trU64(b))
}

// kernelSigset shows pselect6's sixth argument:
// {sigmask=[], sigsetsize=8}.
func (c *tracer) kernelSigset(va uint64) string {
	b, ok := c.fetch(va, 16)
	if !ok {
		return trAddr(va)
	}
	return "{sigmask=" + c.sigset(trU64(b), trU64(b[8:])) + ", sigsetsize=" + strconv.FormatUint(trU64(b[8:]), 10) + "}"
}

// Signal action flags (x86-64).
var trSaFlagNames = xlat{
	{0x04000000, "SA_RESTORER"},
	{0x08000000, "SA_ONSTACK"},
	{0x10000000, "SA_RESTART"},
	{0x20000000, "SA_INTERRUPT"},
	{0x40000000, "SA_NODEFER"},
	{0x80000000, "SA_RESETHAND"},
	{0x00000004, "SA_SIGINFO"},
	{0x00000001, "SA_NOCLDSTOP"},
	{0x00000002, "SA_NOCLDWAIT"},
}

// sigaction shows the kernel's struct sigaction: {sa_handler=SIG_DFL,
// sa_mask=[], sa_flags=SA_RESTORER, sa_restorer=0x...}.
func (c *tracer) sigaction(va uint64) string {
	b, ok := c.fetch(va, 32)
	if !ok {
		return trAddr(va)
	}
	handler, flags, restorer, mask := trU64(b), trU64(b[8:]), trU64(b[16:]), trU64(b[24:])
	var h string
	switch handler {
	case 0:
		h = "SIG_DFL"
	case 1:
		h = "SIG_IGN"
	case ^uint64(0):
		h = "SIG_ERR"
	default:
		h = trAddr(handler)
	}
	s := "{sa_handler=" + h + ", sa_mask=" + trSigset(mask) + ", sa_flags=" + trFlags(flags, trSaFlagNames, "SA_???")
	if flags&0x04000000 != 0 {
		s += ", sa_restorer=" + trAddr(restorer)
	}
	return s + "}"
}

var trSsFlagNames = xlat{{abi.SS_ONSTACK, "SS_ONSTACK"}, {abi.SS_DISABLE, "SS_DISABLE"}, {abi.SS_AUTODISARM, "SS_AUTODISARM"}}

// stack shows a stack_t: {ss_sp=0x..., ss_flags=0, ss_size=8192}.
func (c *tracer) stack(va uint64) string {
	b, ok := c.fetch(va, 24)
	if !ok {
		return trAddr(va)
	}
	return "{ss_sp=" + trAddr(trU64(b)) + ", ss_flags=" + trFlags(uint64(trU32(b[8:])), trSsFlagNames, "SS_???") +
		", ss_size=" + strconv.FormatUint(trU64(b[16:]), 10) + "}"
}

// Time.

func (c *tracer) timespec(va uint64) string {
	b, ok := c.fetch(va, 16)
	if !ok {
		return trAddr(va)
	}
	return fmt.Sprintf("{tv_sec=%d, tv_nsec=%d}", int64(trU64(b)), trU64(b[8:]))
}

func (c *tracer) timeval(va uint64) string {
	b, ok := c.fetch(va, 16)
	if !ok {
		return trAddr(va)
	}
	return fmt.Sprintf("{tv_sec=%d, tv_usec=%d}", int64(trU64(b)), trU64(b[8:]))
}

// trTime is strace's sprinttime (the program's time zone is UTC).
func trTime(t int64) string {
	return time.Unix(t, 0).UTC().Format("2006-01-02T15:04:05-0700")
}

// Structs.

// trMode is strace's print_symbolic_mode_t: S_IFREG|0644.
func trMode(m uint32) string {
	var ifmt string
	if m&unix.S_IFMT != 0 {
		switch m & unix.S_IFMT {
		case unix.S_IFREG:
			ifmt = "S_IFREG"
		case unix.S_IFSOCK:
			ifmt = "S_IFSOCK"
		case unix.S_IFIFO:
			ifmt = "S_IFIFO"
		case unix.S_IFLNK:
			ifmt = "S_IFLNK"
		case unix.S_IFDIR:
			ifmt = "S_IFDIR"
		case unix.S_IFBLK:
			ifmt = "S_IFBLK"
		case unix.S_IFCHR:
			ifmt = "S_IFCHR"
		default:
			return trOctal(uint64(m))
		}
		ifmt += "|"
	}
	if m&unix.S_ISUID != 0 {
		ifmt += "S_ISUID|"
	}
	if m&unix.S_ISGID != 0 {
		ifmt += "S_ISGID|"
	}
	if m&unix.S_ISVTX != 0 {
		ifmt += "S_ISVTX|"
	}
	return ifmt + trOctal(uint64(m&^(unix.S_IFMT|unix.S_ISUID|unix.S_ISGID|unix.S_ISVTX)))
}

func trDev(dev uint64) string {
	return "makedev(" + trHex(uint64(unix.Major(dev))) + ", " + trHex(uint64(unix.Minor(dev))) + ")"
}

// stat shows a struct stat as strace does by default:
// {st_mode=S_IFREG|0755, st_size=123, ...}.
func (c *tracer) stat(va uint64) string {
	b, ok := c.fetch(va, 144)
	if !ok {
		return trAddr(va)
	}
	mode := trU32(b[24:])
	s := "{st_mode=" + trMode(mode)
	switch mode & unix.S_IFMT {
	case unix.S_IFCHR, unix.S_IFBLK:
		s += ", st_rdev=" + trDev(trU64(b[40:]))
	default:
		s += ", st_size=" + strconv.FormatUint(trU64(b[48:]), 10)
	}
	return s + ", ...}"
}

// statx shows a struct statx as strace does by default.
func (c *tracer) statx(va uint64) string {
	b, ok := c.fetch(va, 256)
	if !ok {
		return trAddr(va)
	}
	mask := trU32(b)
	s := "{stx_mask=" + trFlags(uint64(mask), trStatxMaskNames, "STATX_???") +
		", stx_attributes=" + trFlags(trU64(b[8:]), trStatxAttrNames, "STATX_ATTR_???")
	if mask&(unix.STATX_TYPE|unix.STATX_MODE) != 0 {
		s += ", stx_mode=" + trMode(uint32(trU16(b[28:])))
	}
	if mask&unix.STATX_SIZE != 0 {
		s += ", stx_size=" + strconv.FormatUint(trU64(b[40:]), 10)
	}
	return s + ", ...}"
}

// trRlim is strace's print_rlim64_t: RLIM64_INFINITY, 8192*1024, 17.
func trRlim(v uint64) string {
	if v == ^uint64(0) {
		return "RLIM64_INFINITY"
	}
	if v > 1024 && v%1024 == 0 {
		return strconv.FormatUint(v/1024, 10) + "*1024"
	}
	return strconv.FormatUint(v, 10)
}

func (c *tracer) rlimit(va uint64) string {
	b, ok := c.fetch(va, 16)
	if !ok {
		return trAddr(va)
	}
	return "{rlim_cur=" + trRlim(trU64(b)) + ", rlim_max=" + trRlim(trU64(b[8:])) + "}"
}

// uname shows a struct utsname as strace does by default:
// {sysname="Linux", nodename="yolk", ...}.
func (c *tracer) uname(va uint64) string {
	b, ok := c.fetch(va, 6*65)
	if !ok {
		return trAddr(va)
	}
	field := func(f []byte) string {
		if i := bytes.IndexByte(f, 0); i >= 0 {
			return trQuote(f[:i], false)
		}
		return trQuote(f[:64], false) + "..."
	}
	return "{sysname=" + field(b[:65]) + ", nodename=" + field(b[65:130]) + ", ...}"
}

func (c *tracer) sysinfo(va uint64) string {
	b, ok := c.fetch(va, 112)
	if !ok {
		return trAddr(va)
	}
	u := func(off int) string { return strconv.FormatUint(trU64(b[off:]), 10) }
	return "{uptime=" + u(0) + ", loads=[" + u(8) + ", " + u(16) + ", " + u(24) + "], totalram=" + u(32) +
		", freeram=" + u(40) + ", sharedram=" + u(48) + ", bufferram=" + u(56) + ", totalswap=" + u(64) +
		", freeswap=" + u(72) + ", procs=" + strconv.FormatUint(uint64(trU16(b[80:])), 10) +
		", totalhigh=" + u(88) + ", freehigh=" + u(96) + ", mem_unit=" + strconv.FormatUint(uint64(trU32(b[104:])), 10) + "}"
}

// Terminal flags, in strace's order.
var (
	trIflagNames = xlat{
		{unix.IGNBRK, "IGNBRK"}, {unix.BRKINT, "BRKINT"}, {unix.IGNPAR, "IGNPAR"}, {unix.PARMRK, "PARMRK"},
		{unix.INPCK, "INPCK"}, {unix.ISTRIP, "ISTRIP"}, {unix.INLCR, "INLCR"}, {unix.IGNCR, "IGNCR"},
		{unix.ICRNL, "ICRNL"}, {unix.IUCLC, "IUCLC"}, {unix.IXON, "IXON"}, {unix.IXANY, "IXANY"},
		{unix.IXOFF, "IXOFF"}, {unix.IMAXBEL, "IMAXBEL"}, {unix.IUTF8, "IUTF8"},
	}
	trOflagNames = xlat{
		{unix.OPOST, "OPOST"}, {unix.OLCUC, "OLCUC"}, {unix.ONLCR, "ONLCR"}, {unix.OCRNL, "OCRNL"},
		{unix.ONOCR, "ONOCR"}, {unix.ONLRET, "ONLRET"}, {unix.OFILL, "OFILL"}, {unix.OFDEL, "OFDEL"},
	}
	trOflagFields = []struct {
		mask uint64
		tbl  xlat
		dflt string
	}{
		{unix.NLDLY, xlat{{unix.NL0, "NL0"}, {unix.NL1, "NL1"}}, "NL?"},
		{unix.CRDLY, xlat{{unix.CR0, "CR0"}, {unix.CR1, "CR1"}, {unix.CR2, "CR2"}, {unix.CR3, "CR3"}}, "CR?"},
		{unix.TABDLY, xlat{{unix.XTABS, "XTABS"}, {unix.TAB0, "TAB0"}, {unix.TAB1, "TAB1"}, {unix.TAB2, "TAB2"}}, "TAB?"},
		{unix.BSDLY, xlat{{unix.BS1, "BS1"}, {unix.BS0, "BS0"}}, "BS?"},
		{unix.VTDLY, xlat{{unix.VT0, "VT0"}, {unix.VT1, "VT1"}}, "VT?"},
		{unix.FFDLY, xlat{{unix.FF0, "FF0"}, {unix.FF1, "FF1"}}, "FF?"},
	}
	trBaudNames = xlat{
		{unix.B0, "B0"}, {unix.B50, "B50"}, {unix.B75, "B75"}, {unix.B110, "B110"}, {unix.B134, "B134"},
		{unix.B150, "B150"}, {unix.B200, "B200"}, {unix.B300, "B300"}, {unix.B600, "B600"},
		{unix.B1200, "B1200"}, {unix.B1800, "B1800"}, {unix.B2400, "B2400"}, {unix.B4800, "B4800"},
		{unix.B9600, "B9600"}, {unix.B19200, "B19200"}, {unix.B38400, "B38400"}, {unix.B57600, "B57600"},
		{unix.B115200, "B115200"}, {unix.B230400, "B230400"}, {unix.B460800, "B460800"},
		{unix.B500000, "B500000"}, {unix.B576000, "B576000"}, {unix.B921600, "B921600"},
		{unix.B1000000, "B1000000"}, {unix.B1152000, "B1152000"}, {unix.B1500000, "B1500000"},
		{unix.B2000000, "B2000000"}, {unix.B2500000, "B2500000"}, {unix.B3000000, "B3000000"},
		{unix.B3500000, "B3500000"}, {unix.B4000000, "B4000000"}, {unix.BOTHER, "BOTHER"},
	}
	trCsizeNames = xlat{{unix.CS5, "CS5"}, {unix.CS6, "CS6"}, {unix.CS7, "CS7"}, {unix.CS8, "CS8"}}
	trCflagNames = xlat{
		{unix.CSTOPB, "CSTOPB"}, {unix.CREAD, "CREAD"}, {unix.PARENB, "PARENB"}, {unix.PARODD, "PARODD"},
		{unix.HUPCL, "HUPCL"}, {unix.CLOCAL, "CLOCAL"}, {unix.CMSPAR, "CMSPAR"}, {unix.CRTSCTS, "CRTSCTS"},
	}
	trLflagNames = xlat{
		{unix.ISIG, "ISIG"}, {unix.ICANON, "ICANON"}, {unix.XCASE, "XCASE"}, {unix.ECHO, "ECHO"},
		{unix.ECHOE, "ECHOE"}, {unix.ECHOK, "ECHOK"}, {unix.ECHONL, "ECHONL"}, {unix.NOFLSH, "NOFLSH"},
		{unix.IEXTEN, "IEXTEN"}, {unix.ECHOCTL, "ECHOCTL"}, {unix.ECHOPRT, "ECHOPRT"}, {unix.ECHOKE, "ECHOKE"},
		{unix.FLUSHO, "FLUSHO"}, {unix.PENDIN, "PENDIN"}, {unix.TOSTOP, "TOSTOP"}, {unix.EXTPROC, "EXTPROC"},
	}
)

// termios shows a struct termios as strace does by default:
// {c_iflag=ICRNL|IXON, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR, ...}.
func (c *tracer) termios(va uint64) string {
	b, ok := c.fetch(va, 36)
	if !ok {
		return trAddr(va)
	}
	iflag, oflag, cflag, lflag := uint64(trU32(b)), uint64(trU32(b[4:])), uint64(trU32(b[8:])), uint64(trU32(b[12:]))
	var o string
	for _, f := range trOflagFields {
		o += trXval(oflag&f.mask, f.tbl, f.dflt) + "|"
		oflag &^= f.mask
	}
	o += trFlags(oflag, trOflagNames, "")
	cf := trXval(cflag&unix.CBAUD, trBaudNames, "B???") + "|"
	if cflag&unix.CIBAUD != 0 {
		cf += trXval((cflag&unix.CIBAUD)>>unix.IBSHIFT, trBaudNames, "B???") + "<<IBSHIFT|"
	}
	cf += trXval(cflag&unix.CSIZE, trCsizeNames, "CS?") + "|"
	cf += trFlags(cflag&^(unix.CBAUD|unix.CIBAUD|unix.CSIZE), trCflagNames, "")
	return "{c_iflag=" + trFlags(iflag, trIflagNames, "") + ", c_oflag=" + o + ", c_cflag=" + cf +
		", c_lflag=" + trFlags(lflag, trLflagNames, "") + ", ...}"
}

func (c *tracer) winsize(va uint64) string {
	b, ok := c.fetch(va, 8)
	if !ok {
		return trAddr(va)
	}
	return fmt.Sprintf("{ws_row=%d, ws_col=%d, ws_xpixel=%d, ws_ypixel=%d}", trU16(b), trU16(b[2:]), trU16(b[4:]), trU16(b[6:]))
}

// flock shows a struct flock: {l_type=F_WRLCK, l_whence=SEEK_SET,
// l_start=0, l_len=0} (and l_pid for F_GETLK).
func (c *tracer) flock(va uint64, pid bool) string {
	b, ok := c.fetch(va, 32)
	if !ok {
		return trAddr(va)
	}
	s := "{l_type=" + trXval(uint64(trU16(b)), trLockTypeNames, "F_???") +
		", l_whence=" + trXval(uint64(trU16(b[2:])), trWhenceNames, "SEEK_???") +
		", l_start=" + strconv.FormatInt(int64(trU64(b[8:])), 10) +
		", l_len=" + strconv.FormatInt(int64(trU64(b[16:])), 10)
	if pid {
		s += ", l_pid=" + strconv.Itoa(int(int32(trU32(b[24:]))))
	}
	return s + "}"
}

// trEpollEvent shows a (packed, 12-byte) struct epoll_event.
func trEpollEvent(b []byte) string {
	return "{events=" + trFlags(uint64(trU32(b)), trEpollEventNames, "EPOLL???") + ", data=" + trHex(trU64(b[4:])) + "}"
}

// epollEvents shows the ret events epoll_wait filled in.
func (c *tracer) epollEvents(va uint64) string {
	if c.failed {
		return trAddr(va)
	}
	return c.array(va, c.ret, 12, trEpollEvent)
}

// array is strace's print_array: [e0, e1, ...] with at most -s
// elements shown.
func (c *tracer) array(va, n, size uint64, elem func([]byte) string) string {
	if va == 0 {
		return "NULL"
	}
	if n == 0 {
		return "[]"
	}
	var s strings.Builder
	for i := uint64(0); i < n; i++ {
		b, ok := c.mem(va+size*i, size)
		if i > 0 {
			s.WriteString(", ")
		}
		if !ok {
			if i == 0 {
				return trAddr(va)
			}
			s.WriteString("... /* " + trHex(va+size*i) + " */")
			break
		}
		if i == 0 {
			s.WriteByte('[')
		}
		if i >= traceMaxStrlen {
			s.WriteString("...")
			break
		}
		s.WriteString(elem(b))
	}
	s.WriteByte(']')
	return s.String()
}

// dents shows getdents64's buffer as strace does by default:
// 0x... /* 5 entries */.
func (c *tracer) dents(va uint64) string {
	if c.failed || c.ret > c.a[2] {
		return trAddr(va)
	}
	const header = 19 // d_ino, d_off, d_reclen, d_type
	n, count, p := c.ret, 0, va
	for n >= header {
		b, ok := c.mem(p, header)
		if !ok {
			break
		}
		count++
		rec := uint64(trU16(b[16:]))
		if rec > n {
			rec = n
		}
		if rec < header {
			rec = header
		}
		n -= rec
		p += rec
	}
	more := ""
	if n != 0 {
		more = "+"
	}
	return fmt.Sprintf("%s /* %d%s entries */", trAddr(va), count, more)
}

// affinity shows the CPU set sched_getaffinity filled in: [0 1].
func (c *tracer) affinity(va uint64) string {
	if c.failed || va == 0 {
		return trAddr(va)
	}
	if c.ret == 0 {
		return "[]"
	}
	b, ok := c.mem(va, c.ret)
	if !ok {
		return trAddr(va)
	}
	var cpus []string
	for i, x := range b {
		for j := 0; j < 8; j++ {
			if x&(1<<j) != 0 {
				cpus = append(cpus, strconv.Itoa(8*i+j))
			}
		}
	}
	return "[" + strings.Join(cpus, " ") + "]"
}

// groups shows the ret group ids getgroups filled in.
func (c *tracer) groups(va uint64) string {
	if c.failed {
		return trAddr(va)
	}
	return c.array(va, c.ret, 4, func(b []byte) string { return strconv.FormatUint(uint64(trU32(b)), 10) })
}

// pollfds shows a struct pollfd array before poll: [{fd=0, events=POLLIN}].
func (c *tracer) pollfds(va, n uint64) string {
	return c.array(va, n, 8, func(b []byte) string {
		fd := int32(trU32(b))
		s := "{fd=" + strconv.Itoa(int(fd))
		if fd >= 0 {
			s += ", events=" + trFlags(uint64(trU16(b[4:])), trPollNames, "POLL???")
		}
		return s + "}"
	})
}

// pollResult is what strace adds to poll's result: " (Timeout)", or the
// fds with events: " ([{fd=0, revents=POLLIN}])", and ppoll's time left.
func (c *tracer) pollResult() string {
	if c.ret == 0 {
		return " (Timeout)"
	}
	va, n := c.a[0], uint64(uint32(c.a[1]))
	if va == 0 || n == 0 {
		return ""
	}
	var parts []string
	for i := uint64(0); i < n && i < 1024; i++ {
		b, ok := c.mem(va+8*i, 8)
		if !ok {
			parts = append(parts, trHex(va+8*i))
			break
		}
		rev := trU16(b[6:])
		if rev == 0 {
			continue
		}
		if len(parts) >= traceMaxStrlen {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, "{fd="+strconv.Itoa(int(int32(trU32(b))))+", revents="+trFlags(uint64(rev), trPollNames, "")+"}")
	}
	s := ""
	if len(parts) > 0 {
		s = "[" + strings.Join(parts, ", ") + "]"
	}
	if c.n == 5 && c.a[2] != 0 { // ppoll
		if s != "" {
			s += ", "
		}
		c.failed = false
		s += "left " + c.timespec(c.a[2])
	}
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// fdsetBytes is the fd_set size select reads for nfds descriptors.
func (c *tracer) fdsetBytes() (int, uint64) {
	nfds := int(int32(c.a[0]))
	nfds = max(0, min(nfds, 1024*1024))
	return nfds, uint64((nfds+7)/8+7) &^ 7
}

// fdset shows an fd_set before select: [0 1].
func (c *tracer) fdset(va uint64) string {
	nfds, size := c.fdsetBytes()
	if size == 0 {
		return trAddr(va)
	}
	b, ok := c.fetch(va, size)
	if !ok {
		return trAddr(va)
	}
	var fds []string
	for j := 0; j < nfds; j++ {
		if b[j/8]&(1<<(j%8)) != 0 {
			fds = append(fds, strconv.Itoa(j))
		}
	}
	return "[" + strings.Join(fds, " ") + "]"
}

// selectResult is what strace adds to select's result: " (Timeout)", or
// " (in [0], left {tv_sec=1, tv_usec=0})".
func (c *tracer) selectResult() string {
	if c.ret == 0 {
		return " (Timeout)"
	}
	nfds, size := c.fdsetBytes()
	ready := int(int32(c.ret))
	var s, sep string
	for i, name := range []string{"in", "out", "except"} {
		if ready <= 0 {
			break
		}
		b, ok := c.mem(c.a[i+1], size)
		if !ok || size == 0 {
			continue
		}
		first := true
		for j := 0; j < nfds && ready > 0; j++ {
			if b[j/8]&(1<<(j%8)) == 0 {
				continue
			}
			if first {
				s += sep + name + " [" + strconv.Itoa(j)
				first = false
				sep = ", "
			} else {
				s += " " + strconv.Itoa(j)
			}
			ready--
		}
		if !first {
			s += "]"
		}
	}
	if c.a[4] != 0 {
		c.failed = false
		if c.n == 6 { // pselect6
			s += sep + "left " + c.timespec(c.a[4])
		} else {
			s += sep + "left " + c.timeval(c.a[4])
		}
	}
	return " (" + s + ")"
}
