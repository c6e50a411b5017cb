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
	unix.SYS_READ:       {Partial, "console (line discipline, interrupt-driven input), initrd files, pipes, devices, eventfd"},
	unix.SYS_WRITE:      {Partial, "console, eventfd; files are read-only (EBADF)"},
	unix.SYS_READV:      {Partial, "as read"},
	unix.SYS_WRITEV:     {Partial, "as write; copied in 64 KiB steps (a console write is split there)"},
	unix.SYS_PREAD64:    {Partial, "initrd files"},
	unix.SYS_PWRITE64:   {Partial, "ESPIPE on the console, EBADF elsewhere (read-only files)"},
	unix.SYS_SENDFILE:   {Partial, "from initrd files and eventfds to any writable descriptor"},
	unix.SYS_OPEN:       {Partial, "the read-only initrd tree (writing: EROFS); /dev/null, zero, full, random, urandom, tty, console; /proc/self/exe, maps, cmdline, status, comm, mounts, and /proc/meminfo, cpuinfo, mounts, uptime, version, loadavg"},
	unix.SYS_OPENAT:     {Partial, "as open"},
	unix.SYS_CLOSE:      {Full, ""},
	unix.SYS_FSTAT:      {Full, ""},
	unix.SYS_STAT:       {Full, ""},
	unix.SYS_LSTAT:      {Full, ""},
	unix.SYS_NEWFSTATAT: {Full, ""},
	unix.SYS_STATX:      {Partial, "STATX_BASIC_STATS fields"},
	unix.SYS_LSEEK:      {Partial, "initrd files (SEEK_SET/CUR/END/DATA/HOLE); directories: rewind only"},
	unix.SYS_GETDENTS64: {Full, ""},
	unix.SYS_ACCESS:     {Full, "the program runs as root; W_OK is EROFS"},
	unix.SYS_FACCESSAT:  {Full, "as access"},
	unix.SYS_FACCESSAT2: {Full, "as access"},
	unix.SYS_READLINK:   {Full, "initrd symlinks and /proc/self/exe"},
	unix.SYS_READLINKAT: {Full, "as readlink"},
	unix.SYS_GETCWD:     {Full, ""},
	unix.SYS_CHDIR:      {Full, ""},
	unix.SYS_FCHDIR:     {Full, ""},
	unix.SYS_IOCTL:      {Partial, "console: TCGETS, TIOCGWINSZ (24x80), TIOCGPGRP; TCSETS* recorded, not applied; else ENOTTY/EINVAL"},
	unix.SYS_FCNTL:      {Partial, "F_GETFD/SETFD/GETFL/SETFL/DUPFD/DUPFD_CLOEXEC; locks: EINVAL"},
	unix.SYS_DUP:        {Full, ""},
	unix.SYS_DUP2:       {Full, ""},
	unix.SYS_DUP3:       {Full, ""},
	unix.SYS_UMASK:      {Full, "recorded (no file is ever created)"},
	unix.SYS_STATFS:     {Full, "the read-only in-memory root (RAMFS_MAGIC, ST_RDONLY)"},
	unix.SYS_FSTATFS:    {Full, "as statfs"},

	unix.SYS_BRK:      {Full, ""},
	unix.SYS_MMAP:     {Partial, "anonymous private and shared (shared across fork), and private mappings of initrd files (copied); shared file mappings: ENODEV"},
	unix.SYS_MUNMAP:   {Full, ""},
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
	unix.SYS_PRCTL:             {Partial, "PR_SET_NAME, PR_GET_NAME; PR_SET_VMA EINVAL; others EINVAL, logged"},
	unix.SYS_RSEQ:              {Absent, "glibc runs without restartable sequences"},
	unix.SYS_CLONE3:            {Partial, "as clone; set_tid and cgroup: EINVAL"},
	unix.SYS_FORK:              {Full, ""},
	unix.SYS_PIDFD_OPEN:        {Full, "readable when the process exits; pollable"},
	unix.SYS_PIDFD_SEND_SIGNAL: {Partial, "without a siginfo argument (EINVAL)"},
	unix.SYS_VFORK:             {Full, ""},
	unix.SYS_EXECVE:            {Partial, "static and static-PIE ELF and #! scripts from the root; dynamically linked programs: ENOENT (no ld.so yet)"},
	unix.SYS_EXECVEAT:          {Partial, "as execve; AT_EMPTY_PATH with an empty path: ENOSYS"},

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

	unix.SYS_MKDIR:              {Full, "EROFS: the root is the read-only initrd"},
	unix.SYS_MKDIRAT:            {Full, "EROFS: the root is the read-only initrd"},
	unix.SYS_RMDIR:              {Full, "EROFS: the root is the read-only initrd"},
	unix.SYS_UNLINK:             {Full, "EROFS: the root is the read-only initrd"},
	unix.SYS_UNLINKAT:           {Full, "EROFS: the root is the read-only initrd"},
	unix.SYS_RENAME:             {Full, "EROFS: the root is the read-only initrd"},
	unix.SYS_RENAMEAT:           {Full, "EROFS: the root is the read-only initrd"},
	unix.SYS_RENAMEAT2:          {Full, "EROFS: the root is the read-only initrd"},
	unix.SYS_LINK:               {Full, "EROFS: the root is the read-only initrd"},
	unix.SYS_LINKAT:             {Full, "EROFS: the root is the read-only initrd"},
	unix.SYS_SYMLINK:            {Full, "EROFS: the root is the read-only initrd"},
	unix.SYS_SYMLINKAT:          {Full, "EROFS: the root is the read-only initrd"},
	unix.SYS_CHMOD:              {Full, "EROFS: the root is the read-only initrd"},
	unix.SYS_FCHMOD:             {Full, "EROFS: the root is the read-only initrd"},
	unix.SYS_FCHMODAT:           {Full, "EROFS: the root is the read-only initrd"},
	unix.SYS_CHOWN:              {Full, "EROFS: the root is the read-only initrd"},
	unix.SYS_FCHOWN:             {Full, "EROFS: the root is the read-only initrd"},
	unix.SYS_LCHOWN:             {Full, "EROFS: the root is the read-only initrd"},
	unix.SYS_FCHOWNAT:           {Full, "EROFS: the root is the read-only initrd"},
	unix.SYS_TRUNCATE:           {Full, "EROFS: the root is the read-only initrd"},
	unix.SYS_UTIMENSAT:          {Full, "EROFS: the root is the read-only initrd"},
	unix.SYS_UTIMES:             {Full, "EROFS: the root is the read-only initrd"},
	unix.SYS_UTIME:              {Full, "EROFS: the root is the read-only initrd"},
	unix.SYS_MKNOD:              {Full, "EROFS: the root is the read-only initrd"},
	unix.SYS_MKNODAT:            {Full, "EROFS: the root is the read-only initrd"},
	unix.SYS_CREAT:              {Full, "EROFS: the root is the read-only initrd"},
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
	unix.SYS_FTRUNCATE:          {Full, "EINVAL: no descriptor is writable on the read-only root"},
	unix.SYS_FSYNC:              {Full, "nothing is buffered"},
	unix.SYS_FDATASYNC:          {Full, "nothing is buffered"},
	unix.SYS_SYNC:               {Full, "nothing is buffered"},
	unix.SYS_SYNCFS:             {Full, "nothing is buffered"},
	unix.SYS_MSYNC:              {Full, "no mapping has a backing store"},
	unix.SYS_GETRANDOM:          {Full, "RDRAND when the CPU has it"},
	unix.SYS_PRLIMIT64:          {Partial, "limits recorded; RLIMIT_NOFILE enforced (1024)"},
	unix.SYS_GETRLIMIT:          {Partial, "as prlimit64"},
	unix.SYS_SETRLIMIT:          {Partial, "as prlimit64"},
	unix.SYS_SYSINFO:            {Partial, "uptime and memory; loads 0"},
}
