package kernel

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// The kernel runtime's file descriptors: 0-2 are the console, the rest
// are the epoll instance and eventfd its netpoller uses for timers and
// wake-ups. (The Linux program has its own descriptor table.)
type kfileKind uint8

const (
	kfFree kfileKind = iota
	kfEpoll
	kfEventfd
)

type interest struct {
	fd     int32
	events uint32
	data   uint64
}

type kfile struct {
	kind     kfileKind
	count    uint64 // eventfd counter
	interest [8]interest
	nint     int
}

const maxKFiles = 16

var kfiles [maxKFiles]kfile

func kfileAt(fd uint64, kind kfileKind) *kfile {
	if fd < 3 || fd >= maxKFiles || kfiles[fd].kind != kind {
		return nil
	}
	return &kfiles[fd]
}

func kfileAlloc(kind kfileKind) uint64 {
	for fd := 3; fd < maxKFiles; fd++ {
		if kfiles[fd].kind == kfFree {
			kfiles[fd] = kfile{kind: kind}
			return uint64(fd)
		}
	}
	return errnoRet(unix.EMFILE)
}

func sysRead(fd, buf, n uint64) uint64 {
	if f := kfileAt(fd, kfEventfd); f != nil {
		if n < 8 {
			return errnoRet(unix.EINVAL)
		}
		if f.count == 0 {
			return errnoRet(unix.EAGAIN) // the runtime's eventfd is non-blocking
		}
		if !put64(buf, f.count) {
			return errnoRet(unix.EFAULT)
		}
		f.count = 0
		return 8
	}
	return errnoRet(unix.EBADF)
}

func sysWrite(fd, buf, n uint64) uint64 {
	switch {
	case fd == 1 || fd == 2:
		b, ok := kmem(buf, n, false)
		if !ok {
			return errnoRet(unix.EFAULT)
		}
		consoleWrite(b)
		return n
	case kfileAt(fd, kfEventfd) != nil:
		if n < 8 {
			return errnoRet(unix.EINVAL)
		}
		v, ok := get64(buf)
		if !ok {
			return errnoRet(unix.EFAULT)
		}
		kfiles[fd].count += v
		eventfdReady(int32(fd))
		return 8
	}
	return errnoRet(unix.EBADF)
}

func sysClose(fd uint64) uint64 {
	if fd < 3 || fd >= maxKFiles || kfiles[fd].kind == kfFree {
		return errnoRet(unix.EBADF)
	}
	kfiles[fd] = kfile{}
	return 0
}

func sysFcntl(fd, cmd uint64) uint64 {
	valid := fd < 3 || (fd < maxKFiles && kfiles[fd].kind != kfFree)
	if !valid {
		return errnoRet(unix.EBADF)
	}
	switch cmd {
	case unix.F_GETFD:
		return 0
	case unix.F_SETFD:
		return 0 // close-on-exec has no meaning: the kernel never execs
	case unix.F_GETFL:
		if fd < 3 {
			return unix.O_RDWR
		}
		return unix.O_RDWR | unix.O_NONBLOCK
	}
	return errnoRet(unix.EINVAL)
}

func sysEpollCreate() uint64 { return kfileAlloc(kfEpoll) }

func sysEventfd(initval uint64) uint64 {
	fd := kfileAlloc(kfEventfd)
	if int64(fd) >= 0 {
		kfiles[fd].count = initval
	}
	return fd
}

func sysEpollCtl(epfd, op, fd, ev uint64) uint64 {
	ep := kfileAt(epfd, kfEpoll)
	if ep == nil {
		return errnoRet(unix.EBADF)
	}
	if kfileAt(fd, kfEventfd) == nil {
		return errnoRet(unix.EPERM) // only eventfds can be polled here
	}
	k := -1
	for i := 0; i < ep.nint; i++ {
		if ep.interest[i].fd == int32(fd) {
			k = i
		}
	}
	var in interest
	if op != unix.EPOLL_CTL_DEL {
		b, ok := kmem(ev, 12, false)
		if !ok {
			return errnoRet(unix.EFAULT)
		}
		in = interest{fd: int32(fd), events: binary.LittleEndian.Uint32(b), data: binary.LittleEndian.Uint64(b[4:])}
	}
	switch op {
	case unix.EPOLL_CTL_ADD:
		if k >= 0 {
			return errnoRet(unix.EEXIST)
		}
		if ep.nint == len(ep.interest) {
			return errnoRet(unix.ENOSPC)
		}
		ep.interest[ep.nint] = in
		ep.nint++
	case unix.EPOLL_CTL_MOD:
		if k < 0 {
			return errnoRet(unix.ENOENT)
		}
		ep.interest[k] = in
	case unix.EPOLL_CTL_DEL:
		if k < 0 {
			return errnoRet(unix.ENOENT)
		}
		ep.nint--
		ep.interest[k] = ep.interest[ep.nint]
	default:
		return errnoRet(unix.EINVAL)
	}
	if op != unix.EPOLL_CTL_DEL {
		eventfdReady(int32(fd))
	}
	return 0
}

// collect writes the ready events of ep (up to max) to buf and returns
// how many, or -1 if buf is not writable.
func (ep *kfile) collect(buf uint64, max int32) int {
	n := 0
	for i := 0; i < ep.nint && int32(n) < max; i++ {
		in := ep.interest[i]
		if in.events&unix.EPOLLIN == 0 || kfiles[in.fd].count == 0 {
			continue
		}
		var b [12]byte
		binary.LittleEndian.PutUint32(b[:], unix.EPOLLIN)
		binary.LittleEndian.PutUint64(b[4:], in.data)
		if !copyOut(buf+uint64(12*n), b[:]) {
			return -1
		}
		n++
	}
	return n
}

func sysEpollWait(epfd, buf, max, timeout uint64) (uint64, bool) {
	ep := kfileAt(epfd, kfEpoll)
	if ep == nil {
		return errnoRet(unix.EBADF), false
	}
	if int32(max) <= 0 {
		return errnoRet(unix.EINVAL), false
	}
	n := ep.collect(buf, int32(max))
	if n < 0 {
		return errnoRet(unix.EFAULT), false
	}
	if n > 0 || int32(timeout) == 0 {
		return uint64(n), false
	}
	deadline := int64(0)
	if int32(timeout) > 0 {
		deadline = nanotime() + int64(int32(timeout))*1e6
	}
	c := cpuIndex()
	t := sched.Current(c)
	t.epfd, t.evbuf, t.evmax = int32(epfd), buf, int32(max)
	sched.Block(sched.Cur(c), waitEpoll, deadline)
	return 0, true
}

// eventfdReady wakes threads blocked in epoll_pwait on an instance that
// watches fd, if fd is readable.
func eventfdReady(fd int32) {
	if kfiles[fd].count == 0 {
		return
	}
	for i := 1; i < sched.top; i++ {
		t := &sched.T[i]
		if t.State != Blocked || t.wait != waitEpoll {
			continue
		}
		ep := &kfiles[t.epfd]
		if ep.kind != kfEpoll {
			continue
		}
		if n := ep.collect(t.evbuf, t.evmax); n != 0 {
			ret := uint64(n)
			if n < 0 {
				ret = errnoRet(unix.EFAULT)
			}
			sched.Wake(i, ret)
		}
	}
}
