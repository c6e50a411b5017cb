package syscallshim

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestSplice moves data between a file and pipes with splice and copies
// it with tee; the pipe side's offset is ESPIPE, a pair without a pipe
// EINVAL, an empty pipe with SPLICE_F_NONBLOCK EAGAIN.
func TestSplice(t *testing.T) {
	e := newHdEnv(t, hdRoot(t))
	e.pipe(0) // hdR, hdW
	fds := e.m.u64s(0x100, ^uint64(0))
	e.want(0, unix.SYS_PIPE2, fds, 0)
	r2, w2 := uint64(e.m.u32(fds)), uint64(e.m.u32(fds+4))
	file := e.ok(unix.SYS_OPENAT, atFDCWD, e.m.cstr(0, "/etc/hello.txt"), unix.O_RDWR)
	off := e.m.put(0x3000, []byte{7, 0, 0, 0, 0, 0, 0, 0})

	// A file into a pipe, at an offset (the file's position stays).
	e.want(5, unix.SYS_SPLICE, file, off, hdW, 0, 5, 0)
	if got := e.m.u64(off); got != 12 {
		t.Errorf("offset after splice = %d, want 12", got)
	}
	e.want(0, unix.SYS_LSEEK, file, 0, unix.SEEK_CUR)
	// From the file's position.
	e.want(6, unix.SYS_SPLICE, file, 0, hdW, 0, 6, 0)
	e.want(6, unix.SYS_LSEEK, file, 0, unix.SEEK_CUR)
	// tee copies the pipe's 11 bytes into the second pipe, keeping them.
	e.want(11, unix.SYS_TEE, hdR, w2, 100, 0)
	e.read(r2, 100, "worldhello,")
	// Pipe to pipe moves them.
	e.want(11, unix.SYS_SPLICE, hdR, 0, w2, 0, 100, 0)
	e.want(hdErr(unix.EAGAIN), unix.SYS_SPLICE, hdR, 0, w2, 0, 100, unix.SPLICE_F_NONBLOCK)
	e.want(hdErr(unix.EAGAIN), unix.SYS_TEE, hdR, w2, 100, unix.SPLICE_F_NONBLOCK)
	// The second pipe into the file at offset 100.
	e.m.put(0x3000, []byte{100, 0, 0, 0, 0, 0, 0, 0})
	e.want(11, unix.SYS_SPLICE, r2, 0, file, off, 100, 0)
	e.want(11, unix.SYS_PREAD64, file, hdAt(0x4000), 100, 100)
	e.bytesAt(hdAt(0x4000), []byte("worldhello,"))

	e.want(hdErr(unix.ESPIPE), unix.SYS_SPLICE, hdR, off, file, 0, 10, 0)
	e.want(hdErr(unix.ESPIPE), unix.SYS_SPLICE, file, 0, hdW, off, 10, 0)
	e.want(hdErr(unix.EINVAL), unix.SYS_SPLICE, file, 0, file, 0, 10, 0)
	e.want(hdErr(unix.EINVAL), unix.SYS_SPLICE, hdR, 0, hdW, 0, 10, 0) // the same pipe
	e.want(hdErr(unix.EINVAL), unix.SYS_TEE, file, w2, 10, 0)
	e.want(hdErr(unix.EBADF), unix.SYS_SPLICE, hdW, 0, w2, 0, 10, 0) // a write end as input
	e.want(0, unix.SYS_SPLICE, file, 0, hdW, 0, 0, 0)
	// End of file of the pipe: every writer gone.
	e.want(0, unix.SYS_CLOSE, w2)
	e.want(0, unix.SYS_SPLICE, r2, 0, hdW, 0, 10, 0)
	// No reader: EPIPE.
	e.want(0, unix.SYS_CLOSE, hdR)
	e.want(hdErr(unix.EPIPE), unix.SYS_SPLICE, file, 0, hdW, 0, 10, 0)
}
