package main

const usageText = `usage: qemu/run [flags] [PROGRAM [ARG...]]

Boot the yolk kernel in QEMU, run a Linux program in it, and exit with the
program's exit status. Like docker run: the program's stdin, stdout and
stderr are the runner's, byte for byte; kernel messages and traces go to
stderr (or -L FILE), never to stdout.

PROGRAM is an x86-64 Linux program: a path, or a name looked up in
build/examples and then in PATH (e.g. busybox). With -i, PROGRAM is instead
a path inside the initrd. Each ARG reaches the program as one argv word,
exactly (spaces, quotes, $ and all).

A dynamically linked PROGRAM (or -i PROGRAM) gets a root the runner
builds: the program at its own host path (init=PATH), its interpreter
(PT_INTERP, symlinks kept), the libraries it needs, found as ld.so finds
them (DT_RPATH, DT_RUNPATH with $ORIGIN/$LIB/$PLATFORM, /etc/ld.so.conf
and its includes, the default directories; musl: its path file), and
/etc/ld.so.cache, nsswitch.conf, passwd, group, localtime and the C.utf8
locale when the host has them, and what glibc dlopens for the calls the
program makes (NSS modules, libgcc_s, gconv modules: see
--print-root). LD_LIBRARY_PATH is not used. A library or
interpreter that cannot be found is status 127 before QEMU starts. Files
under /tmp are also shared read-only at their paths (the kernel mounts a
tmpfs on /tmp).

Flags:
  -k KERNEL   kernel ELF booted via PVH (default: build/kernel.elf in the
              repository root)
  -i INITRD   the root: a Linux ELF (a dynamically linked one gets a
              root, see above), a newc cpio archive, or a directory, which
              is packed into a temporary newc cpio archive (optional:
              kernel self-test runs need none)
  -a "ARGS"   the program's arguments in kernel command-line syntax
              (blanks separate words; "double quotes" and \ group them),
              passed after "--"; not together with ARG words
  -e N=V      set environment variable N to V for the program; V may hold
              anything (repeatable)
  --env-file FILE
              read variables from FILE: NAME=VALUE lines, taken literally;
              NAME alone takes the runner's own value; # comments
  -v HOSTDIR:GUESTPATH[:ro]
              share the host directory HOSTDIR with the guest over
              virtio-9p, to be mounted at GUESTPATH (read-only with :ro);
              files the program writes there are on the host when its
              write returns (repeatable; the shares are tagged share0,
              share1 ... in order and passed as mount=TAG:GUESTPATH[:ro])
  -R HOSTDIR  the host directory HOSTDIR is the whole root, read-only, with
              an in-memory writable layer on top (changes are not written
              back), its /tmp included; PROGRAM (or -o init=PATH) is a path
              inside it
  -p HOSTPORT:GUESTPORT[/udp]
              forward the host's TCP (or UDP) port HOSTPORT to the guest's
              GUESTPORT (repeatable; implies -n user)
  -n user|none|tap=IFNAME
              user: give the guest a virtio-net card on QEMU user
              networking: the guest is 10.0.2.15/24, the host is reachable
              at 10.0.2.2, QEMU's DNS forwarder is 10.0.2.3; none (the
              default without -p): loopback only; tap=IFNAME: the card is
              on the host's tap device IFNAME (made beforehand, e.g. ip
              tuntap add IFNAME mode tap user $USER; no scripts run): give
              the guest its address with -o "net.ip=ADDR/N net.gw=ADDR"
  -w DIR      the program's working directory (kernel option cwd=DIR)
  -o "OPTS"   kernel options, space separated, e.g. "selftest", "strace",
              "bootstats", "debug", "init=/bin/sh"; strace with strace's
              options: "strace=-f,-e trace=process,file -o trace.txt"
              (-e trace=SET, -e status=failed, -t/-tt/-ttt, -r, -T, -c,
              -C; -o FILE writes the lines to FILE on the host)
  -m MEM      guest memory (default 256M)
  -M MACHINE  QEMU machine: microvm (default) or q35
  -g PORT     start a gdb server on tcp::PORT
  -P          start paused (QEMU -S), e.g. to attach gdb first
  -A ACCEL    kvm or tcg (default: what scripts/kvmcheck says); forcing kvm
              when kvmcheck says tcg warns but is honoured
  -T SECONDS  kill the run after SECONDS seconds (exit status 124)
  -t          give the program a terminal (line discipline, echo, ^C as
              SIGINT, the host terminal's size) even when stdin or stdout
              is not one (also --tty)
  --no-tty    give the program plain streams even on a terminal
  -L FILE     write kernel messages and traces to FILE instead of stderr
  --serial    put everything on the serial console, as bare QEMU does (the
              program's stdin, stdout and stderr are one terminal line;
              Ctrl-A X quits)
  --profile FILE
              sample the program's stacks on the timer (100 times a second)
              and write a pprof CPU profile to FILE when it ends: its
              functions from the ELF symbols (and DWARF lines), kernel time
              on its behalf as "[kernel] syscall NAME" frames; read it with
              go tool pprof -top FILE (or -http=: FILE)
  --profile-hz N
              sample N times a second instead (1 to 10000)
  --smp N     give the machine N virtual CPUs (1 to 16; default 1, or
              YOLK_SMP from the environment); under TCG each runs in its
              own host thread
  --print-root
              print what the root of a dynamically linked PROGRAM would
              hold, one path a line with why it is there, and exit
              without booting
  -q          quiet: do not print the accelerator line on stderr
  -h          print this help (also --help)

By default the program has a terminal when the runner's stdin and stdout
are both terminals (then Ctrl-A X quits QEMU), and plain streams otherwise:
isatty is false on fds 0-2, output is not translated, and reading stdin
returns end of file when the runner's stdin ends. The environment is the
-e and --env-file variables, plus PATH=/usr/local/sbin:/usr/local/bin:
/usr/sbin:/usr/bin:/sbin:/bin, HOME=/ and TERM unless given (TERM is the
runner's with a terminal, else linux).

Environment:
  YOLK_QEMU   QEMU binary to run (default qemu-system-x86_64)

Exit status:
  0-255  the program's exit status (128+N when signal N killed it)
  2      bad usage (unknown flag, missing or malformed argument); also
         the kernel's Go runtime died (panic or fatal error)
  112    CPU exception in the kernel: a crash report was printed
  113    too little memory for the kernel (-m)
  124    timed out (-T)
  125    runner or QEMU failure: missing kernel, initrd, QEMU or cpio,
         QEMU failed, or the kernel powered off without reporting a status
  126    the program cannot be run (not an x86-64 ELF, a directory)
  127    no program: PROGRAM not found, or not in the initrd; a library
         or the interpreter of a dynamically linked PROGRAM not found
  129, 130, 143
         the runner was killed by SIGHUP, SIGINT or SIGTERM

Examples:
  qemu/run busybox echo "one two" '$HOME'
  echo hello | qemu/run busybox tr a-z A-Z
  qemu/run -M q35 -e GREETING="hi there" busybox sh -c 'echo "$GREETING"'
  qemu/run -o selftest
  qemu/run -v "$PWD":/work -w /work busybox ls
  qemu/run /usr/bin/sqlite3 :memory: 'select 1'
  qemu/run --print-root ls
  qemu/run --profile p.pb.gz lua loop.lua && go tool pprof -top p.pb.gz
  qemu/run -o "strace=-f,-e trace=process,file" busybox sh -c 'ls | wc -l'
`
