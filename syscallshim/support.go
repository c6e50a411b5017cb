package syscallshim

import "golang.org/x/sys/unix"

//go:generate go run gen_readme.go

// Level is how completely yolk implements a syscall.
type Level int

const (
	// Full: what Linux does, for every case the program can ask.
	Full Level = iota + 1
	// Partial: what Linux does for the cases Note names; the others
	// return an honest error (Note says which).
	Partial
	// Absent: deliberately -ENOSYS without a log line, because the C
	// libraries probe it and fall back.
	Absent
)

func (l Level) String() string {
	switch l {
	case Full:
		return "yes"
	case Partial:
		return "partial"
	case Absent:
		return "ENOSYS"
	}
	return "?"
}

// Support describes one syscall's implementation.
type Support struct {
	Level Level
	Note  string
}

// SupportTable lists every syscall dispatch handles; every other number is
// -ENOSYS, logged once. README.md's table is generated from it, and a test
// checks it against dispatch's switch.
var SupportTable = map[uintptr]Support{
	unix.SYS_READ:            {Full, "files of the VFS, the console (line discipline), standard streams, pipes, FIFOs, devices, eventfds"},
	unix.SYS_WRITE:           {Full, "as read; copied in 64 KiB steps"},
	unix.SYS_READV:           {Partial, "as read"},
	unix.SYS_WRITEV:          {Partial, "as write; copied in 64 KiB steps (a console write is split there)"},
	unix.SYS_PREAD64:         {Full, ""},
	unix.SYS_PWRITE64:        {Full, ""},
	unix.SYS_SENDFILE:        {Partial, "through a kernel buffer, at most 1 MiB per call"},
	unix.SYS_OPEN:            {Full, "the VFS: a writable root (tmpfs over the initrd), /tmp, /dev, /proc; O_TMPFILE; FIFOs"},
	unix.SYS_OPENAT:          {Partial, "as open"},
	unix.SYS_OPENAT2:         {Full, "RESOLVE_* as openat2(2)"},
	unix.SYS_CLOSE_RANGE:     {Full, ""},
	unix.SYS_FALLOCATE:       {Partial, "mode 0 and FALLOC_FL_KEEP_SIZE (tmpfs); others EOPNOTSUPP"},
	unix.SYS_FLOCK:           {Full, "whole-file locks of the open file; released by LOCK_UN or process exit"},
	unix.SYS_FUTIMESAT:       {Full, ""},
	unix.SYS_GETXATTR:        {Partial, "no filesystem stores extended attributes: ENODATA"},
	unix.SYS_LGETXATTR:       {Partial, "no filesystem stores extended attributes: ENODATA"},
	unix.SYS_FGETXATTR:       {Partial, "no filesystem stores extended attributes: ENODATA"},
	unix.SYS_LISTXATTR:       {Partial, "no extended attributes: an empty list"},
	unix.SYS_LLISTXATTR:      {Partial, "no extended attributes: an empty list"},
	unix.SYS_FLISTXATTR:      {Partial, "no extended attributes: an empty list"},
	unix.SYS_SETXATTR:        {Partial, "EOPNOTSUPP"},
	unix.SYS_LSETXATTR:       {Partial, "EOPNOTSUPP"},
	unix.SYS_FSETXATTR:       {Partial, "EOPNOTSUPP"},
	unix.SYS_REMOVEXATTR:     {Partial, "ENODATA"},
	unix.SYS_LREMOVEXATTR:    {Partial, "ENODATA"},
	unix.SYS_FREMOVEXATTR:    {Partial, "ENODATA"},
	unix.SYS_FADVISE64:       {Partial, "valid advice is accepted and has no effect (nothing here caches or reads ahead)"},
	unix.SYS_MOUNT:           {Partial, "new tmpfs, proc, devtmpfs and 9p (virtio-9p tag) mounts; MS_RDONLY/NOSUID/NODEV/NOEXEC; bind mounts and remounts: EINVAL"},
	unix.SYS_UMOUNT2:         {Full, "MNT_DETACH; MNT_FORCE as a plain unmount"},
	unix.SYS_MEMFD_CREATE:    {Partial, "a tmpfs file; F_ADD_SEALS not supported; MFD_HUGETLB: EINVAL"},
	unix.SYS_COPY_FILE_RANGE: {Partial, "through a kernel buffer, at most 1 MiB per call"},
	unix.SYS_CLOSE:           {Full, ""},
	unix.SYS_FSTAT:           {Full, ""},
	unix.SYS_STAT:            {Full, ""},
	unix.SYS_LSTAT:           {Full, ""},
	unix.SYS_NEWFSTATAT:      {Full, ""},
	unix.SYS_STATX:           {Partial, "STATX_BASIC_STATS fields"},
	unix.SYS_LSEEK:           {Full, "SEEK_DATA/SEEK_HOLE treat a file as all data"},
	unix.SYS_GETDENTS64:      {Full, ""},
	unix.SYS_ACCESS:          {Full, "with the process's credentials"},
	unix.SYS_FACCESSAT:       {Full, "as access"},
	unix.SYS_FACCESSAT2:      {Full, "as access"},
	unix.SYS_READLINK:        {Full, ""},
	unix.SYS_READLINKAT:      {Full, "as readlink"},
	unix.SYS_GETCWD:          {Full, ""},
	unix.SYS_CHDIR:           {Full, ""},
	unix.SYS_FCHDIR:          {Full, ""},
	unix.SYS_IOCTL:           {Partial, "FIONBIO, FIOCLEX, FIONCLEX, FIONREAD; terminal: TCGETS, TCSETS*, TIOCGWINSZ, TIOC[GS]PGRP; else ENOTTY/EINVAL"},
	unix.SYS_FCNTL:           {Partial, "F_GETFD/SETFD/GETFL/SETFL/DUPFD/DUPFD_CLOEXEC, record locks (F_GETLK/SETLK/SETLKW, F_OFD_*), pipe size; others EINVAL, logged"},
	unix.SYS_DUP:             {Full, ""},
	unix.SYS_DUP2:            {Full, ""},
	unix.SYS_DUP3:            {Full, ""},
	unix.SYS_UMASK:           {Full, "recorded (no file is ever created)"},
	unix.SYS_STATFS:          {Full, "of the file's filesystem"},
	unix.SYS_FSTATFS:         {Full, "as statfs"},

	unix.SYS_BRK:      {Full, ""},
	unix.SYS_MMAP:     {Partial, "anonymous and file mappings, private (copy-on-write of the file's cached pages) and shared (written back to the file); SIGBUS past the page holding the end of the file; the page cache is coherent with read/write/truncate at syscall boundaries (not with sendfile, copy_file_range, fallocate or host-side changes)"},
	unix.SYS_MUNMAP:   {Full, "writes a shared file mapping's dirty pages back"},
	unix.SYS_MPROTECT: {Full, ""},
	unix.SYS_MREMAP:   {Full, "moves page-table entries, never copies"},
	unix.SYS_MADVISE:  {Full, "DONTNEED/FREE discard; other advice accepted without effect"},

	unix.SYS_ARCH_PRCTL:        {Partial, "ARCH_SET_FS, ARCH_GET_FS; GS and CET (0x3001): EINVAL"},
	unix.SYS_SET_TID_ADDRESS:   {Full, ""},
	unix.SYS_SET_ROBUST_LIST:   {Partial, "recorded; the list is not walked at thread death"},
	unix.SYS_GET_ROBUST_LIST:   {Full, ""},
	unix.SYS_CLONE:             {Partial, "threads and processes (fork copy-on-write, CLONE_VM, CLONE_VFORK, CLONE_FILES, CLONE_PARENT, SETTLS, *_SETTID, CHILD_CLEARTID); CLONE_FS and CLONE_SIGHAND between processes copy; CLONE_PIDFD; namespaces, ptrace: EINVAL"},
	unix.SYS_FUTEX:             {Partial, "WAIT, WAKE, WAIT_BITSET, WAKE_BITSET, REQUEUE and CMP_REQUEUE (as wake-all); others EINVAL"},
	unix.SYS_EXIT:              {Full, ""},
	unix.SYS_EXIT_GROUP:        {Full, "every thread ends; PID 1's status powers the VM off"},
	unix.SYS_GETPID:            {Full, ""},
	unix.SYS_GETPPID:           {Full, "0 for PID 1"},
	unix.SYS_GETTID:            {Full, ""},
	unix.SYS_GETUID:            {Full, "0 (root) until changed"},
	unix.SYS_GETEUID:           {Full, ""},
	unix.SYS_GETGID:            {Full, ""},
	unix.SYS_GETEGID:           {Full, ""},
	unix.SYS_SETUID:            {Partial, "Linux's rules for who may set what; no file permission checks use the IDs yet"},
	unix.SYS_SETGID:            {Partial, "as setuid"},
	unix.SYS_SETREUID:          {Partial, "as setuid"},
	unix.SYS_SETREGID:          {Partial, "as setuid"},
	unix.SYS_SETRESUID:         {Partial, "as setuid"},
	unix.SYS_SETRESGID:         {Partial, "as setuid"},
	unix.SYS_GETRESUID:         {Full, ""},
	unix.SYS_GETRESGID:         {Full, ""},
	unix.SYS_SETFSUID:          {Partial, "as setuid"},
	unix.SYS_SETFSGID:          {Partial, "as setuid"},
	unix.SYS_SETGROUPS:         {Partial, "as setuid"},
	unix.SYS_GETPGRP:           {Full, ""},
	unix.SYS_GETPGID:           {Full, ""},
	unix.SYS_GETSID:            {Full, ""},
	unix.SYS_GETGROUPS:         {Full, ""},
	unix.SYS_SETPGID:           {Full, ""},
	unix.SYS_SETSID:            {Full, ""},
	unix.SYS_SCHED_YIELD:       {Full, ""},
	unix.SYS_SCHED_GETAFFINITY: {Full, "one CPU"},
	unix.SYS_GETCPU:            {Full, "CPU 0, node 0"},
	unix.SYS_PRCTL:             {Partial, "PR_SET_NAME, PR_GET_NAME, PR_CAPBSET_READ (all set); PR_SET_VMA EINVAL; others EINVAL, logged"},
	unix.SYS_RSEQ:              {Absent, "glibc runs without restartable sequences"},
	unix.SYS_CLONE3:            {Partial, "as clone; set_tid and cgroup: EINVAL"},
	unix.SYS_FORK:              {Full, ""},
	unix.SYS_PIDFD_OPEN:        {Full, "readable when the process exits; pollable"},
	unix.SYS_PIDFD_SEND_SIGNAL: {Partial, "without a siginfo argument (EINVAL)"},
	unix.SYS_VFORK:             {Full, ""},
	unix.SYS_EXECVE:            {Partial, "static, static-PIE and dynamically linked ELF (the PT_INTERP interpreter from the root) and #! scripts; a vDSO is mapped"},
	unix.SYS_EXECVEAT:          {Partial, "as execve; AT_EMPTY_PATH runs the descriptor's file, O_PATH too (fexecve)"},

	unix.SYS_RT_SIGACTION:   {Full, "handlers run on the thread's stack or alternate stack (rt_sigframe with FXSAVE state)"},
	unix.SYS_RT_SIGRETURN:   {Full, ""},
	unix.SYS_PAUSE:          {Full, ""},
	unix.SYS_RT_SIGSUSPEND:  {Full, ""},
	unix.SYS_ALARM:          {Full, ""},
	unix.SYS_SETITIMER:      {Partial, "ITIMER_REAL; the CPU-time timers are EINVAL"},
	unix.SYS_GETITIMER:      {Partial, "as setitimer"},
	unix.SYS_RT_SIGPROCMASK: {Full, ""},
	unix.SYS_SIGALTSTACK:    {Full, ""},
	unix.SYS_KILL:           {Partial, "to a process, a group, or all; console and pipe reads and writes, futex, poll, select, epoll and wait4 waits, sleeps, pause and sigsuspend are interrupted"},
	unix.SYS_TGKILL:         {Partial, "as kill, to one thread of any process"},
	unix.SYS_TKILL:          {Partial, "as tgkill"},

	unix.SYS_CLOCK_GETTIME:   {Partial, "REALTIME, MONOTONIC, BOOTTIME, *_RAW, *_COARSE, TAI; CPU-time clocks count wall time since start"},
	unix.SYS_CLOCK_GETRES:    {Full, "1 ns"},
	unix.SYS_GETTIMEOFDAY:    {Full, "UTC"},
	unix.SYS_TIME:            {Full, ""},
	unix.SYS_NANOSLEEP:       {Full, "EINTR with the time left when a signal is caught"},
	unix.SYS_CLOCK_NANOSLEEP: {Full, "as nanosleep, relative or TIMER_ABSTIME"},

	unix.SYS_EPOLL_CREATE1: {Full, ""},
	unix.SYS_EPOLL_CREATE:  {Full, ""},
	unix.SYS_EPOLL_CTL:     {Partial, "eventfds and the console (always writable) are pollable"},
	unix.SYS_EPOLL_WAIT:    {Full, ""},
	unix.SYS_EPOLL_PWAIT:   {Partial, "the signal-mask argument is ignored; a signal interrupts the wait (EINTR)"},
	unix.SYS_EVENTFD2:      {Full, ""},
	unix.SYS_POLL:          {Partial, "files and directories are always ready; a signal interrupts the wait (EINTR, not restarted)"},
	unix.SYS_PPOLL:         {Partial, "as poll; the signal-mask argument is ignored"},
	unix.SYS_SELECT:        {Partial, "as poll; the remaining time is not written back"},
	unix.SYS_PSELECT6:      {Partial, "as ppoll"},

	unix.SYS_MKDIR:              {Full, ""},
	unix.SYS_MKDIRAT:            {Full, ""},
	unix.SYS_RMDIR:              {Full, ""},
	unix.SYS_UNLINK:             {Full, ""},
	unix.SYS_UNLINKAT:           {Full, ""},
	unix.SYS_RENAME:             {Full, ""},
	unix.SYS_RENAMEAT:           {Full, ""},
	unix.SYS_RENAMEAT2:          {Full, ""},
	unix.SYS_LINK:               {Full, ""},
	unix.SYS_LINKAT:             {Full, ""},
	unix.SYS_SYMLINK:            {Full, ""},
	unix.SYS_SYMLINKAT:          {Full, ""},
	unix.SYS_CHMOD:              {Full, ""},
	unix.SYS_FCHMOD:             {Full, ""},
	unix.SYS_FCHMODAT:           {Full, ""},
	unix.SYS_CHOWN:              {Full, ""},
	unix.SYS_FCHOWN:             {Full, ""},
	unix.SYS_LCHOWN:             {Full, ""},
	unix.SYS_FCHOWNAT:           {Full, ""},
	unix.SYS_TRUNCATE:           {Full, ""},
	unix.SYS_UTIMENSAT:          {Full, ""},
	unix.SYS_UTIMES:             {Full, ""},
	unix.SYS_UTIME:              {Full, ""},
	unix.SYS_MKNOD:              {Full, ""},
	unix.SYS_MKNODAT:            {Full, ""},
	unix.SYS_CREAT:              {Full, ""},
	unix.SYS_UNAME:              {Full, "Linux 6.1.0-yolk x86_64"},
	unix.SYS_PIPE:               {Full, "64 KiB buffer; EPIPE and SIGPIPE without readers"},
	unix.SYS_PIPE2:              {Full, "O_CLOEXEC, O_NONBLOCK"},
	unix.SYS_WAIT4:              {Partial, "exited and killed children (no stopped ones: no job-control stop); rusage is zeros"},
	unix.SYS_WAITID:             {Partial, "WEXITED with WNOHANG and WNOWAIT, by PID, group or pidfd; no stopped children"},
	unix.SYS_GETRUSAGE:          {Partial, "user time = time since start; other fields 0"},
	unix.SYS_TIMES:              {Partial, "as getrusage"},
	unix.SYS_SCHED_GETSCHEDULER: {Full, "SCHED_OTHER"},
	unix.SYS_SCHED_GETPARAM:     {Full, "priority 0"},
	unix.SYS_SCHED_SETAFFINITY:  {Full, "masks including CPU 0"},
	unix.SYS_GETPRIORITY:        {Full, "nice 0"},
	unix.SYS_FTRUNCATE:          {Full, ""},
	unix.SYS_FSYNC:              {Full, "in-memory files have nothing to flush; host directories write through"},
	unix.SYS_FDATASYNC:          {Full, "as fsync"},
	unix.SYS_SYNC:               {Full, "nothing is buffered"},
	unix.SYS_SYNCFS:             {Full, "nothing is buffered"},
	unix.SYS_MSYNC:              {Partial, "MS_SYNC and MS_ASYNC write back every dirty page of the files mapped in the range (not just the range's); MS_INVALIDATE does nothing (mappings are the page cache)"},
	unix.SYS_GETRANDOM:          {Full, "RDRAND when the CPU has it"},
	unix.SYS_PRLIMIT64:          {Partial, "limits recorded; RLIMIT_NOFILE enforced (soft 1024, hard 65536)"},
	unix.SYS_GETRLIMIT:          {Partial, "as prlimit64"},
	unix.SYS_SETRLIMIT:          {Partial, "as prlimit64"},
	unix.SYS_SYSINFO:            {Partial, "uptime and memory; loads 0"},
	unix.SYS_SOCKET:             {Partial, "AF_INET, AF_INET6 (TCP, UDP, ICMP echo; gVisor's netstack), AF_UNIX (stream, datagram, seqpacket), AF_NETLINK NETLINK_ROUTE (link, address and route dumps only); no AF_PACKET, SOCK_RAW"},
	unix.SYS_SOCKETPAIR:         {Full, "AF_UNIX"},
	unix.SYS_BIND:               {Full, "AF_UNIX paths make a socket file; abstract names; autobind"},
	unix.SYS_LISTEN:             {Full, ""},
	unix.SYS_ACCEPT:             {Full, ""},
	unix.SYS_ACCEPT4:            {Full, ""},
	unix.SYS_CONNECT:            {Full, "blocking, or EINPROGRESS when non-blocking"},
	unix.SYS_SHUTDOWN:           {Full, ""},
	unix.SYS_SENDTO:             {Full, "MSG_DONTWAIT, MSG_NOSIGNAL (else SIGPIPE on EPIPE)"},
	unix.SYS_RECVFROM:           {Full, "MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL, MSG_TRUNC"},
	unix.SYS_SENDMSG:            {Partial, "SCM_RIGHTS on AF_UNIX; other control messages ignored"},
	unix.SYS_RECVMSG:            {Partial, "SCM_RIGHTS on AF_UNIX (MSG_CTRUNC, MSG_CMSG_CLOEXEC); no other control messages"},
	unix.SYS_SENDMMSG:           {Full, "sendmsg in a loop"},
	unix.SYS_RECVMMSG:           {Partial, "recvmsg in a loop; waits only for the first message, the timeout is ignored"},
	unix.SYS_GETSOCKNAME:        {Full, ""},
	unix.SYS_GETPEERNAME:        {Full, ""},
	unix.SYS_SETSOCKOPT:         {Partial, "SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE, SO_BROADCAST, SO_RCVBUF, SO_SNDBUF, SO_LINGER, SO_RCVTIMEO, SO_SNDTIMEO, TCP_NODELAY, TCP_KEEPIDLE/INTVL/CNT, IPV6_V6ONLY; others ENOPROTOOPT"},
	unix.SYS_GETSOCKOPT:         {Partial, "as setsockopt, plus SO_ERROR, SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ACCEPTCONN, SO_PEERCRED"},
	unix.SYS_SPLICE:             {Partial, "EINVAL for every pair of files (callers such as Go's io.Copy fall back to read and write)"},
}
