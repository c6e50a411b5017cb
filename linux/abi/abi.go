// Package abi holds Linux x86-64 ABI constants that golang.org/x/sys/unix
// does not export: auxiliary-vector keys, futex operations, arch_prctl
// codes and a few flags. Values are from the Linux uapi headers named on
// each group.
package abi

// Auxiliary vector keys (include/uapi/linux/auxvec.h,
// arch/x86/include/uapi/asm/auxvec.h).
const (
	AT_NULL          = 0
	AT_IGNORE        = 1
	AT_EXECFD        = 2
	AT_PHDR          = 3
	AT_PHENT         = 4
	AT_PHNUM         = 5
	AT_PAGESZ        = 6
	AT_BASE          = 7
	AT_FLAGS         = 8
	AT_ENTRY         = 9
	AT_NOTELF        = 10
	AT_UID           = 11
	AT_EUID          = 12
	AT_GID           = 13
	AT_EGID          = 14
	AT_PLATFORM      = 15
	AT_HWCAP         = 16
	AT_CLKTCK        = 17
	AT_SECURE        = 23
	AT_BASE_PLATFORM = 24
	AT_RANDOM        = 25
	AT_HWCAP2        = 26
	AT_EXECFN        = 31
	AT_SYSINFO_EHDR  = 33
	AT_MINSIGSTKSZ   = 51
)

// Futex operations (include/uapi/linux/futex.h).
const (
	FUTEX_WAIT           = 0
	FUTEX_WAKE           = 1
	FUTEX_REQUEUE        = 3
	FUTEX_CMP_REQUEUE    = 4
	FUTEX_WAKE_OP        = 5
	FUTEX_WAIT_BITSET    = 9
	FUTEX_WAKE_BITSET    = 10
	FUTEX_PRIVATE_FLAG   = 128
	FUTEX_CLOCK_REALTIME = 256
)

// arch_prctl codes (arch/x86/include/uapi/asm/prctl.h).
const (
	ARCH_SET_GS         = 0x1001
	ARCH_SET_FS         = 0x1002
	ARCH_GET_FS         = 0x1003
	ARCH_GET_GS         = 0x1004
	ARCH_SHSTK_ENABLE   = 0x5001
	ARCH_CET_STATUS     = 0x3001
	ARCH_GET_CPUID      = 0x1011
	ARCH_SET_CPUID      = 0x1012
	ARCH_REQ_XCOMP_PERM = 0x1023
)

// sigaltstack flags (include/uapi/linux/signal.h).
const (
	SS_ONSTACK    = 1
	SS_DISABLE    = 2
	SS_AUTODISARM = 1 << 31
)

// rt_sigprocmask how values (include/uapi/asm-generic/signal-defs.h).
const (
	SIG_BLOCK   = 0
	SIG_UNBLOCK = 1
	SIG_SETMASK = 2
)

// unblockable are SIGKILL and SIGSTOP, which no mask can hold.
const unblockable = 1<<(9-1) | 1<<(19-1)

// ApplySigmask is rt_sigprocmask's arithmetic: the new mask from the
// current one, how and set; ok is false for an unknown how (EINVAL).
func ApplySigmask(cur uint64, how int, set uint64) (mask uint64, ok bool) {
	set &^= unblockable
	switch how {
	case SIG_BLOCK:
		return cur | set, true
	case SIG_UNBLOCK:
		return cur &^ set, true
	case SIG_SETMASK:
		return set, true
	}
	return cur, false
}
