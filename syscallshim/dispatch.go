package syscallshim

import "golang.org/x/sys/unix"

// dispatch runs syscall nr: one switch on the Linux x86-64 number, one
// handler per syscall. support.go must list every case here.
func (t *Thread) dispatch(nr uint64, a Args) uint64 {
	var v uint64
	var err error
	defer t.returnFiles() // what the handler took with Thread.file
	switch nr {
	// Files and the console (sys_fs.go).
	case unix.SYS_READ:
		v, err = sysRead(t, a)
	case unix.SYS_WRITE:
		v, err = sysWrite(t, a)
	case unix.SYS_READV:
		v, err = sysReadv(t, a)
	case unix.SYS_WRITEV:
		v, err = sysWritev(t, a)
	case unix.SYS_PREAD64:
		v, err = sysPread64(t, a)
	case unix.SYS_PWRITE64:
		v, err = sysPwrite64(t, a)
	case unix.SYS_SENDFILE:
		v, err = sysSendfile(t, a)
	case unix.SYS_OPEN:
		v, err = sysOpen(t, a)
	case unix.SYS_OPENAT:
		v, err = sysOpenat(t, a)
	case unix.SYS_CLOSE:
		v, err = sysClose(t, a)
	case unix.SYS_FSTAT:
		v, err = sysFstat(t, a)
	case unix.SYS_STAT:
		v, err = sysStat(t, a)
	case unix.SYS_LSTAT:
		v, err = sysLstat(t, a)
	case unix.SYS_NEWFSTATAT:
		v, err = sysNewfstatat(t, a)
	case unix.SYS_STATX:
		v, err = sysStatx(t, a)
	case unix.SYS_LSEEK:
		v, err = sysLseek(t, a)
	case unix.SYS_GETDENTS64:
		v, err = sysGetdents64(t, a)
	case unix.SYS_ACCESS:
		v, err = sysAccess(t, a)
	case unix.SYS_FACCESSAT:
		v, err = sysFaccessat(t, a)
	case unix.SYS_FACCESSAT2:
		v, err = sysFaccessat2(t, a)
	case unix.SYS_READLINK:
		v, err = sysReadlink(t, a)
	case unix.SYS_READLINKAT:
		v, err = sysReadlinkat(t, a)
	case unix.SYS_GETCWD:
		v, err = sysGetcwd(t, a)
	case unix.SYS_CHDIR:
		v, err = sysChdir(t, a)
	case unix.SYS_FCHDIR:
		v, err = sysFchdir(t, a)
	case unix.SYS_IOCTL:
		v, err = sysIoctl(t, a)
	case unix.SYS_FCNTL:
		v, err = sysFcntl(t, a)
	case unix.SYS_DUP:
		v, err = sysDup(t, a)
	case unix.SYS_DUP2:
		v, err = sysDup2(t, a)
	case unix.SYS_DUP3:
		v, err = sysDup3(t, a)
	case unix.SYS_STATFS:
		v, err = sysStatfs(t, a)
	case unix.SYS_FSTATFS:
		v, err = sysFstatfs(t, a)
	case unix.SYS_UMASK:
		v, err = sysUmask(t, a)

	// Memory (sys_mm.go).
	case unix.SYS_BRK:
		v, err = sysBrk(t, a)
	case unix.SYS_MMAP:
		v, err = sysMmap(t, a)
	case unix.SYS_MUNMAP:
		v, err = sysMunmap(t, a)
	case unix.SYS_MPROTECT:
		v, err = sysMprotect(t, a)
	case unix.SYS_MREMAP:
		v, err = sysMremap(t, a)
	case unix.SYS_MADVISE:
		v, err = sysMadvise(t, a)

	// Threads and processes (sys_thread.go).
	case unix.SYS_ARCH_PRCTL:
		v, err = sysArchPrctl(t, a)
	case unix.SYS_SET_TID_ADDRESS:
		v, err = sysSetTidAddress(t, a)
	case unix.SYS_SET_ROBUST_LIST:
		v, err = sysSetRobustList(t, a)
	case unix.SYS_GET_ROBUST_LIST:
		v, err = sysGetRobustList(t, a)
	case unix.SYS_CLONE:
		v, err = sysClone(t, a)
	case unix.SYS_FUTEX:
		v, err = sysFutex(t, a)
	case unix.SYS_EXIT:
		v, err = sysExit(t, a)
	case unix.SYS_EXIT_GROUP:
		v, err = sysExitGroup(t, a)
	case unix.SYS_GETPID:
		v, err = uint64(t.p.pid), nil
	case unix.SYS_GETTID:
		v, err = uint64(t.tid), nil

	// Credentials (sys_cred.go).
	case unix.SYS_GETUID:
		v, err = sysGetuid(t, a)
	case unix.SYS_GETEUID:
		v, err = sysGeteuid(t, a)
	case unix.SYS_GETGID:
		v, err = sysGetgid(t, a)
	case unix.SYS_GETEGID:
		v, err = sysGetegid(t, a)
	case unix.SYS_SETUID:
		v, err = sysSetuid(t, a)
	case unix.SYS_SETGID:
		v, err = sysSetgid(t, a)
	case unix.SYS_SETREUID:
		v, err = sysSetreuid(t, a)
	case unix.SYS_SETREGID:
		v, err = sysSetregid(t, a)
	case unix.SYS_SETRESUID:
		v, err = sysSetresuid(t, a)
	case unix.SYS_SETRESGID:
		v, err = sysSetresgid(t, a)
	case unix.SYS_GETRESUID:
		v, err = sysGetresuid(t, a)
	case unix.SYS_GETRESGID:
		v, err = sysGetresgid(t, a)
	case unix.SYS_SETFSUID:
		v, err = sysSetfsuid(t, a)
	case unix.SYS_SETFSGID:
		v, err = sysSetfsgid(t, a)
	case unix.SYS_GETGROUPS:
		v, err = sysGetgroups(t, a)
	case unix.SYS_SETGROUPS:
		v, err = sysSetgroups(t, a)

	case unix.SYS_SCHED_YIELD:
		v, err = sysSchedYield(t, a)
	case unix.SYS_SCHED_GETAFFINITY:
		v, err = sysSchedGetaffinity(t, a)
	case unix.SYS_GETCPU:
		v, err = sysGetcpu(t, a)
	case unix.SYS_TIMER_CREATE:
		v, err = sysTimerCreate(t, a)
	case unix.SYS_TIMER_SETTIME:
		v, err = sysTimerSettime(t, a)
	case unix.SYS_TIMER_GETTIME:
		v, err = sysTimerGettime(t, a)
	case unix.SYS_TIMER_GETOVERRUN:
		v, err = sysTimerGetoverrun(t, a)
	case unix.SYS_TIMER_DELETE:
		v, err = sysTimerDelete(t, a)
	case unix.SYS_UNSHARE:
		v, err = sysUnshare(t, a)
	case unix.SYS_GET_MEMPOLICY:
		v, err = sysGetMempolicy(t, a)
	case unix.SYS_SET_MEMPOLICY:
		v, err = sysSetMempolicy(t, a)
	case unix.SYS_CAPGET:
		v, err = sysCapget(t, a)
	case unix.SYS_CAPSET:
		v, err = sysCapset(t, a)
	case unix.SYS_PRCTL:
		v, err = sysPrctl(t, a)

	// Processes (sys_process.go, exec.go).
	case unix.SYS_FORK:
		v, err = sysFork(t, a)
	case unix.SYS_VFORK:
		v, err = sysVfork(t, a)
	case unix.SYS_CLONE3:
		v, err = sysClone3(t, a)
	case unix.SYS_EXECVE:
		v, err = sysExecve(t, a)
	case unix.SYS_EXECVEAT:
		v, err = sysExecveat(t, a)
	case unix.SYS_WAIT4:
		v, err = sysWait4(t, a)
	case unix.SYS_WAITID:
		v, err = sysWaitid(t, a)
	case unix.SYS_GETPPID:
		v, err = sysGetppid(t, a)
	case unix.SYS_PIDFD_OPEN:
		v, err = sysPidfdOpen(t, a)
	case unix.SYS_PIDFD_SEND_SIGNAL:
		v, err = sysPidfdSendSignal(t, a)
	case unix.SYS_GETPGRP:
		v, err = sysGetpgrp(t, a)
	case unix.SYS_GETPGID:
		v, err = sysGetpgid(t, a)
	case unix.SYS_GETSID:
		v, err = sysGetsid(t, a)
	case unix.SYS_SETPGID:
		v, err = sysSetpgid(t, a)
	case unix.SYS_SETSID:
		v, err = sysSetsid(t, a)

	// Signals (sys_signal.go).
	case unix.SYS_PAUSE:
		v, err = sysPause(t, a)
	case unix.SYS_RT_SIGSUSPEND:
		v, err = sysRtSigsuspend(t, a)
	case unix.SYS_ALARM:
		v, err = sysAlarm(t, a)
	case unix.SYS_SETITIMER:
		v, err = sysSetitimer(t, a)
	case unix.SYS_GETITIMER:
		v, err = sysGetitimer(t, a)
	case unix.SYS_RT_SIGRETURN:
		v, err = sysRtSigreturn(t, a)
	case unix.SYS_RT_SIGACTION:
		v, err = sysRtSigaction(t, a)
	case unix.SYS_RT_SIGPROCMASK:
		v, err = sysRtSigprocmask(t, a)
	case unix.SYS_SIGALTSTACK:
		v, err = sysSigaltstack(t, a)
	case unix.SYS_KILL:
		v, err = sysKill(t, a)
	case unix.SYS_TGKILL:
		v, err = sysTgkill(t, a)
	case unix.SYS_TKILL:
		v, err = sysTkill(t, a)

	// Time (sys_time.go).
	case unix.SYS_CLOCK_GETTIME:
		v, err = sysClockGettime(t, a)
	case unix.SYS_CLOCK_GETRES:
		v, err = sysClockGetres(t, a)
	case unix.SYS_GETTIMEOFDAY:
		v, err = sysGettimeofday(t, a)
	case unix.SYS_TIME:
		v, err = sysTime(t, a)
	case unix.SYS_NANOSLEEP:
		v, err = sysNanosleep(t, a)
	case unix.SYS_CLOCK_NANOSLEEP:
		v, err = sysClockNanosleep(t, a)

	// Polling (sys_poll.go).
	case unix.SYS_EPOLL_CREATE1:
		v, err = sysEpollCreate1(t, a)
	case unix.SYS_EPOLL_CREATE:
		v, err = sysEpollCreate(t, a)
	case unix.SYS_EPOLL_CTL:
		v, err = sysEpollCtl(t, a)
	case unix.SYS_EPOLL_WAIT:
		v, err = sysEpollWait(t, a)
	case unix.SYS_EPOLL_PWAIT:
		v, err = sysEpollPwait(t, a)
	case unix.SYS_EVENTFD2:
		v, err = sysEventfd2(t, a)
	case unix.SYS_POLL:
		v, err = sysPoll(t, a)
	case unix.SYS_PPOLL:
		v, err = sysPpoll(t, a)
	case unix.SYS_SELECT:
		v, err = sysSelect(t, a)
	case unix.SYS_PSELECT6:
		v, err = sysPselect6(t, a)

	// System information (sys_misc.go).
	case unix.SYS_UNAME:
		v, err = sysUname(t, a)
	case unix.SYS_GETRANDOM:
		v, err = sysGetrandom(t, a)
	case unix.SYS_PRLIMIT64:
		v, err = sysPrlimit64(t, a)
	case unix.SYS_GETRLIMIT:
		v, err = sysGetrlimit(t, a)
	case unix.SYS_SETRLIMIT:
		v, err = sysSetrlimit(t, a)
	case unix.SYS_SYSINFO:
		v, err = sysSysinfo(t, a)

	// Changing the file tree (sys_path.go, sys_lock.go).
	case unix.SYS_MKDIR:
		v, err = sysMkdir(t, a)
	case unix.SYS_MKDIRAT:
		v, err = sysMkdirat(t, a)
	case unix.SYS_RMDIR:
		v, err = sysRmdir(t, a)
	case unix.SYS_UNLINK:
		v, err = sysUnlink(t, a)
	case unix.SYS_UNLINKAT:
		v, err = sysUnlinkat(t, a)
	case unix.SYS_RENAME:
		v, err = sysRename(t, a)
	case unix.SYS_RENAMEAT:
		v, err = sysRenameat(t, a)
	case unix.SYS_RENAMEAT2:
		v, err = sysRenameat2(t, a)
	case unix.SYS_LINK:
		v, err = sysLink(t, a)
	case unix.SYS_LINKAT:
		v, err = sysLinkat(t, a)
	case unix.SYS_SYMLINK:
		v, err = sysSymlink(t, a)
	case unix.SYS_SYMLINKAT:
		v, err = sysSymlinkat(t, a)
	case unix.SYS_CHMOD:
		v, err = sysChmod(t, a)
	case unix.SYS_FCHMOD:
		v, err = sysFchmod(t, a)
	case unix.SYS_FCHMODAT:
		v, err = sysFchmodat(t, a)
	case unix.SYS_FCHMODAT2:
		v, err = sysFchmodat2(t, a)
	case unix.SYS_CHOWN:
		v, err = sysChown(t, a)
	case unix.SYS_FCHOWN:
		v, err = sysFchown(t, a)
	case unix.SYS_LCHOWN:
		v, err = sysLchown(t, a)
	case unix.SYS_FCHOWNAT:
		v, err = sysFchownat(t, a)
	case unix.SYS_TRUNCATE:
		v, err = sysTruncate(t, a)
	case unix.SYS_FTRUNCATE:
		v, err = sysFtruncate(t, a)
	case unix.SYS_FALLOCATE:
		v, err = sysFallocate(t, a)
	case unix.SYS_UTIMENSAT:
		v, err = sysUtimensat(t, a)
	case unix.SYS_UTIMES:
		v, err = sysUtimes(t, a)
	case unix.SYS_FUTIMESAT:
		v, err = sysFutimesat(t, a)
	case unix.SYS_UTIME:
		v, err = sysUtime(t, a)
	case unix.SYS_MKNOD:
		v, err = sysMknod(t, a)
	case unix.SYS_MKNODAT:
		v, err = sysMknodat(t, a)
	case unix.SYS_CREAT:
		v, err = sysCreat(t, a)
	case unix.SYS_OPENAT2:
		v, err = sysOpenat2(t, a)
	case unix.SYS_CLOSE_RANGE:
		v, err = sysCloseRange(t, a)
	case unix.SYS_FLOCK:
		v, err = sysFlock(t, a)
	case unix.SYS_GETXATTR, unix.SYS_LGETXATTR, unix.SYS_FGETXATTR:
		v, err = sysGetxattr(t, nr, a)
	case unix.SYS_LISTXATTR, unix.SYS_LLISTXATTR, unix.SYS_FLISTXATTR:
		v, err = sysListxattr(t, nr, a)
	case unix.SYS_SETXATTR, unix.SYS_LSETXATTR, unix.SYS_FSETXATTR,
		unix.SYS_REMOVEXATTR, unix.SYS_LREMOVEXATTR, unix.SYS_FREMOVEXATTR:
		v, err = sysSetxattr(t, nr, a)
	case unix.SYS_FADVISE64:
		v, err = sysFadvise64(t, a)
	case unix.SYS_MOUNT:
		v, err = sysMount(t, a)
	case unix.SYS_UMOUNT2:
		v, err = sysUmount2(t, a)
	case unix.SYS_MEMFD_CREATE:
		v, err = sysMemfdCreate(t, a)
	case unix.SYS_COPY_FILE_RANGE:
		v, err = sysCopyFileRange(t, a)
	case unix.SYS_FSYNC, unix.SYS_FDATASYNC:
		v, err = sysFsync(t, a)
	case unix.SYS_SYNC, unix.SYS_SYNCFS:
		v, err = sysSync(t, a)
	case unix.SYS_MSYNC:
		v, err = sysMsync(t, a)
	case unix.SYS_PIPE:
		v, err = sysPipe(t, a)
	case unix.SYS_PIPE2:
		v, err = sysPipe2(t, a)
	case unix.SYS_GETRUSAGE:
		v, err = sysGetrusage(t, a)
	case unix.SYS_TIMES:
		v, err = sysTimes(t, a)
	case unix.SYS_SCHED_GETSCHEDULER:
		v, err = sysSchedGetscheduler(t, a)
	case unix.SYS_SCHED_GETPARAM:
		v, err = sysSchedGetparam(t, a)
	case unix.SYS_SCHED_SETAFFINITY:
		v, err = sysSchedSetaffinity(t, a)
	case unix.SYS_GETPRIORITY:
		v, err = sysGetpriority(t, a)

	// Sockets (sys_socket.go).
	case unix.SYS_SOCKET:
		v, err = sysSocket(t, a)
	case unix.SYS_SOCKETPAIR:
		v, err = sysSocketpair(t, a)
	case unix.SYS_BIND:
		v, err = sysBind(t, a)
	case unix.SYS_LISTEN:
		v, err = sysListen(t, a)
	case unix.SYS_ACCEPT:
		v, err = sysAccept(t, a)
	case unix.SYS_ACCEPT4:
		v, err = sysAccept4(t, a)
	case unix.SYS_CONNECT:
		v, err = sysConnect(t, a)
	case unix.SYS_SHUTDOWN:
		v, err = sysShutdown(t, a)
	case unix.SYS_SENDTO:
		v, err = sysSendto(t, a)
	case unix.SYS_RECVFROM:
		v, err = sysRecvfrom(t, a)
	case unix.SYS_SENDMSG:
		v, err = sysSendmsg(t, a)
	case unix.SYS_RECVMSG:
		v, err = sysRecvmsg(t, a)
	case unix.SYS_SENDMMSG:
		v, err = sysSendmmsg(t, a)
	case unix.SYS_RECVMMSG:
		v, err = sysRecvmmsg(t, a)
	case unix.SYS_GETSOCKNAME:
		v, err = sysGetsockname(t, a)
	case unix.SYS_GETPEERNAME:
		v, err = sysGetpeername(t, a)
	case unix.SYS_SETSOCKOPT:
		v, err = sysSetsockopt(t, a)
	case unix.SYS_GETSOCKOPT:
		v, err = sysGetsockopt(t, a)
	case unix.SYS_SPLICE:
		v, err = sysSplice(t, a)
	case unix.SYS_TEE:
		v, err = sysTee(t, a)

	// Known and deliberately absent: the C libraries probe these and
	// fall back (glibc runs without restartable sequences), so they are
	// not logged.
	case unix.SYS_RSEQ:
		v, err = 0, unix.ENOSYS

	default:
		v, err = t.nosys(nr)
	}
	return result(v, err)
}
