package sysno

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestUnixConstants checks common syscalls against the compiled-in
// golang.org/x/sys/unix constants (only available on linux/amd64 hosts;
// TestAllXSysConstants covers every constant on any host).
func TestUnixConstants(t *testing.T) {
	for _, tc := range []struct {
		n    uintptr
		want string
	}{
		{unix.SYS_READ, "read"},
		{unix.SYS_WRITE, "write"},
		{unix.SYS_OPEN, "open"},
		{unix.SYS_CLOSE, "close"},
		{unix.SYS_STAT, "stat"},
		{unix.SYS_FSTAT, "fstat"},
		{unix.SYS_MMAP, "mmap"},
		{unix.SYS_MPROTECT, "mprotect"},
		{unix.SYS_MUNMAP, "munmap"},
		{unix.SYS_BRK, "brk"},
		{unix.SYS_RT_SIGACTION, "rt_sigaction"},
		{unix.SYS_RT_SIGPROCMASK, "rt_sigprocmask"},
		{unix.SYS_RT_SIGRETURN, "rt_sigreturn"},
		{unix.SYS_IOCTL, "ioctl"},
		{unix.SYS_PREAD64, "pread64"},
		{unix.SYS_PWRITE64, "pwrite64"},
		{unix.SYS_WRITEV, "writev"},
		{unix.SYS_SCHED_YIELD, "sched_yield"},
		{unix.SYS_NANOSLEEP, "nanosleep"},
		{unix.SYS_GETPID, "getpid"},
		{unix.SYS_CLONE, "clone"},
		{unix.SYS_EXECVE, "execve"},
		{unix.SYS_EXIT, "exit"},
		{unix.SYS_WAIT4, "wait4"},
		{unix.SYS_UNAME, "uname"},
		{unix.SYS_FCNTL, "fcntl"},
		{unix.SYS_GETTID, "gettid"},
		{unix.SYS_ARCH_PRCTL, "arch_prctl"},
		{unix.SYS_FUTEX, "futex"},
		{unix.SYS_SET_TID_ADDRESS, "set_tid_address"},
		{unix.SYS_CLOCK_GETTIME, "clock_gettime"},
		{unix.SYS_EXIT_GROUP, "exit_group"},
		{unix.SYS_TGKILL, "tgkill"},
		{unix.SYS_OPENAT, "openat"},
		{unix.SYS_NEWFSTATAT, "newfstatat"},
		{unix.SYS_PPOLL, "ppoll"},
		{unix.SYS_EPOLL_PWAIT, "epoll_pwait"},
		{unix.SYS_PIPE2, "pipe2"},
		{unix.SYS_PRLIMIT64, "prlimit64"},
		{unix.SYS_GETCPU, "getcpu"},
		{unix.SYS_GETRANDOM, "getrandom"},
		{unix.SYS_STATX, "statx"},
		{unix.SYS_RSEQ, "rseq"},
		{unix.SYS_CLONE3, "clone3"},
		{unix.SYS__SYSCTL, "_sysctl"},
	} {
		if got := Name(tc.n); got != tc.want {
			t.Errorf("Name(%d) = %q, want %q", tc.n, got, tc.want)
		}
		if got, ok := Lookup(tc.want); !ok || got != tc.n {
			t.Errorf("Lookup(%q) = %d, %v; want %d, true", tc.want, got, ok, tc.n)
		}
	}
}
