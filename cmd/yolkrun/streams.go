package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"yolk/hostio"
)

// runStreams runs QEMU with the program's streams on a virtio console
// (virtio-mmio on microvm, virtio-pci on q35) that carries hostio frames
// over a Unix socket to this process, and the kernel's serial console on
// QEMU's stdout, relayed to the runner's stderr (or -L FILE).
func (s *setup) runStreams() (int, error) {
	sock := filepath.Join(s.tmp, "io.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return 0, fail(exitRunner, "%v", err)
	}
	defer ln.Close()

	words := append(s.extra, "stdio=virtio")
	if s.o.profile != "" {
		w := "profile"
		if s.o.profileHz > 0 {
			w += "=" + strconv.Itoa(s.o.profileHz)
		}
		words = append(words, w)
		s.prof = newProfCollector(s.o.kernel)
	}
	if s.terminal {
		words = append(words, "tty")
		if r, c := winsize(1, 0, 2); r > 0 {
			words = append(words, "winsize="+strconv.Itoa(int(r))+"x"+strconv.Itoa(int(c)))
		}
	}
	cmdline := kernelCmdline(s.o.kopts, words, s.env(), s.o.haveArgs, s.o.args, s.o.progArgs)
	args, err := s.qemuArgs(cmdline)
	if err != nil {
		return 0, err
	}
	if s.o.machine == "microvm" {
		args = append(args, "-global", "virtio-mmio.force-legacy=false", "-device", "virtio-serial-device")
	} else {
		args = append(args, "-device", "virtio-serial-pci,disable-legacy=on")
	}
	args = append(args,
		"-device", "virtserialport,nr=1,chardev=yolkio",
		"-chardev", "socket,id=yolkio,path="+qemuEscape(sock),
		"-serial", "chardev:yolkcon", "-chardev", "stdio,id=yolkcon,signal=off")

	logOut := io.Writer(os.Stderr)
	if s.o.logFile != "" {
		f, err := os.Create(s.o.logFile)
		if err != nil {
			return 0, fail(exitRunner, "-L: %v", err)
		}
		defer f.Close()
		logOut = f
	}
	// Kernel messages end lines with \r\n for a terminal; a file or pipe
	// gets \n.
	if !s.terminal || s.o.logFile != "" {
		logOut = &crlfWriter{w: logOut}
	}
	logOut = &lockedWriter{w: logOut}

	serialR, serialW, err := os.Pipe()
	if err != nil {
		return 0, fail(exitRunner, "%v", err)
	}
	cmd := exec.Command(s.qemu, args...)
	cmd.Stdout, cmd.Stderr = serialW, os.Stderr
	// Its own process group: ^C on the terminal is the runner's (or, in
	// raw mode, the program's) to handle, not QEMU's.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}

	restore := func() {}
	if s.terminal && isTerminal(0) {
		r, err := rawMode(0)
		if err != nil {
			return 0, fail(exitRunner, "raw mode: %v", err)
		}
		restore = r
	}
	var once sync.Once
	restoreOnce := func() { once.Do(restore) }
	defer restoreOnce()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	// Writes to a closed stdout return EPIPE instead of killing us.
	signal.Ignore(syscall.SIGPIPE)
	if err := cmd.Start(); err != nil {
		return 0, fail(exitRunner, "starting %s: %v", s.qemu, err)
	}
	serialW.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	serialDone := make(chan struct{})
	go func() {
		io.Copy(logOut, serialR)
		close(serialDone)
	}()

	// QEMU connects to the socket as it starts.
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	var conn net.Conn
	select {
	case conn = <-accepted:
	case err := <-done:
		<-serialDone
		restoreOnce()
		if st, err2 := s.exitStatus(cmd.ProcessState); err2 == nil {
			return st, nil
		}
		return 0, fail(exitRunner, "qemu exited before connecting the console (%v)", err)
	}
	defer conn.Close()

	r := &relay{
		conn: conn, stdout: os.Stdout, stderr: os.Stderr, log: logOut,
		terminal: s.terminal, quit: s.quitCh,
		trace: logOut,
	}
	if s.prof != nil {
		r.prof = s.prof
	}
	if name := straceOutput(s.o.kopts); name != "" {
		// strace -o FILE: the trace lines (and -c's table) go to FILE.
		f, err := os.Create(name)
		if err != nil {
			return 0, fail(exitRunner, "strace -o: %v", err)
		}
		defer f.Close()
		r.trace = f
	}
	fromGuest := make(chan struct{})
	go func() {
		if err := r.fromGuest(); err != nil {
			fmt.Fprintf(logOut, "%s: %v\n", progName, err)
		}
		close(fromGuest)
	}()
	go r.fromStdin(os.Stdin)
	if s.terminal {
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, syscall.SIGWINCH)
		go func() {
			for range winch {
				if rows, cols := winsize(1, 0, 2); rows > 0 {
					r.send(hostio.Winsize, hostio.WinsizePayload(rows, cols))
				}
			}
		}()
	}
	var timer <-chan time.Time
	if s.o.timeout > 0 {
		timer = time.After(s.o.timeout)
	}
	drained := func() {
		// QEMU is gone: what it wrote is in the socket and the pipe.
		for _, ch := range []chan struct{}{fromGuest, serialDone} {
			select {
			case <-ch:
			case <-time.After(5 * time.Second):
			}
		}
	}
	return s.wait(cmd, done, timer, sigs, restoreOnce, drained)
}

// relay moves hostio frames between the console socket and the runner's
// streams.
type relay struct {
	conn           net.Conn
	stdout, stderr io.Writer
	log            io.Writer
	trace          io.Writer // strace's -o file (the log without one)
	prof           io.Writer // profile records (--profile), or nil
	terminal       bool
	quit           chan struct{}

	wmu    sync.Mutex // one frame at a time on conn
	closed [3]bool    // stdout, stderr failed: their frames are dropped
}

// send writes one frame to the guest.
func (r *relay) send(t hostio.Type, payload []byte) error {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	_, err := r.conn.Write(hostio.Append(nil, t, payload))
	return err
}

// fromGuest writes the guest's frames to stdout, stderr and the log until
// the socket closes.
func (r *relay) fromGuest() error {
	var d hostio.Decoder
	buf := make([]byte, 64<<10)
	for {
		n, err := r.conn.Read(buf)
		if n > 0 {
			if ferr := d.Feed(buf[:n], r.deliver); ferr != nil {
				return fmt.Errorf("console stream: %v", ferr)
			}
		}
		if err != nil {
			return nil
		}
	}
}

func (r *relay) deliver(t hostio.Type, p []byte, end bool) {
	switch t {
	case hostio.Stdout, hostio.Stderr:
		i, w, closed := 1, r.stdout, hostio.StdoutClosed
		if t == hostio.Stderr {
			i, w, closed = 2, r.stderr, hostio.StderrClosed
		}
		if r.closed[i] || len(p) == 0 {
			return
		}
		if _, err := w.Write(p); err != nil {
			r.closed[i] = true
			go r.send(closed, nil)
		}
	case hostio.Log:
		r.log.Write(p)
	case hostio.Trace:
		r.trace.Write(p)
	case hostio.Prof:
		if r.prof != nil {
			r.prof.Write(p)
		}
	}
}

// fromStdin sends the runner's stdin to the guest, then its end. With a
// terminal, Ctrl-A X quits (Ctrl-A Ctrl-A sends one Ctrl-A).
func (r *relay) fromStdin(in io.Reader) {
	buf := make([]byte, 32<<10)
	ctrlA := false
	for {
		n, err := in.Read(buf)
		p := buf[:n]
		if r.terminal && n > 0 {
			var out []byte
			if ctrlA {
				p = append([]byte{1}, p...)
				ctrlA = false
			}
			for i := 0; i < len(p); i++ {
				if p[i] != 1 {
					out = append(out, p[i])
					continue
				}
				if i+1 == len(p) {
					ctrlA = true
					break
				}
				i++
				switch p[i] {
				case 'x', 'X':
					if len(out) > 0 {
						r.send(hostio.Stdin, out)
					}
					close(r.quit)
					return
				case 1:
					out = append(out, 1)
				default:
					out = append(out, 1, p[i])
				}
			}
			p = out
		}
		if len(p) > 0 {
			if r.send(hostio.Stdin, p) != nil {
				return
			}
		}
		if err != nil {
			r.send(hostio.StdinEOF, nil)
			return
		}
	}
}

// crlfWriter turns "\r\n" into "\n".
type crlfWriter struct {
	w  io.Writer
	cr bool // the last byte written was a held-back '\r'
}

func (c *crlfWriter) Write(p []byte) (int, error) {
	var out []byte
	if c.cr {
		if len(p) > 0 && p[0] != '\n' {
			out = append(out, '\r')
		}
		c.cr = false
	}
	if n := len(p); n > 0 && p[n-1] == '\r' {
		c.cr = true
		p = p[:n-1]
	}
	out = append(out, bytes.ReplaceAll(p, []byte("\r\n"), []byte("\n"))...)
	_, err := c.w.Write(out)
	if c.cr {
		return len(p) + 1, err
	}
	return len(p), err
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
