package syscallshim

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// The console's line discipline, the part of Linux's n_tty a serial
// console program relies on: ICRNL on input; in canonical mode (ICANON)
// lines are edited (erase, kill) and handed to read when complete, ^D at
// the start of a line is end of file; ECHO echoes what is typed; ISIG
// turns ^C into SIGINT and ^\ into SIGQUIT for the program. Programs with
// their own line editing (shells) switch ICANON and ECHO off with TCSETS
// and get bytes as they arrive.

const termiosSize = 36 // the kernel's struct termios (TCGETS)

// defaultTermios is what a Linux serial console starts with.
func defaultTermios() [termiosSize]byte {
	var b [termiosSize]byte
	le := binary.LittleEndian
	le.PutUint32(b[0:], unix.ICRNL|unix.IXON)
	le.PutUint32(b[4:], unix.OPOST|unix.ONLCR)
	le.PutUint32(b[8:], unix.B115200|unix.CS8|unix.CREAD|unix.HUPCL|unix.CLOCAL)
	le.PutUint32(b[12:], unix.ISIG|unix.ICANON|unix.ECHO|unix.ECHOE|unix.ECHOK|unix.IEXTEN|unix.ECHOCTL|unix.ECHOKE)
	cc := b[17:]
	cc[unix.VINTR], cc[unix.VQUIT], cc[unix.VERASE], cc[unix.VKILL] = 3, 28, 127, 21
	cc[unix.VEOF], cc[unix.VMIN], cc[unix.VSTART], cc[unix.VSTOP] = 4, 1, 17, 19
	cc[unix.VSUSP], cc[unix.VREPRINT], cc[unix.VWERASE], cc[unix.VLNEXT] = 26, 18, 23, 22
	return b
}

func (c *console) termios() [termiosSize]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tio
}

// setTermios installs new settings; flush (TCSETSF) drops pending input.
// Leaving canonical mode hands over the half-edited line.
func (c *console) setTermios(b *[termiosSize]byte, flush bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tio = *b
	if flush {
		c.pending, c.line = nil, nil
	}
	if c.lflag()&unix.ICANON == 0 && len(c.line) > 0 {
		c.pending = append(c.pending, c.line...)
		c.line = nil
	}
}

func (c *console) iflag() uint32 { return binary.LittleEndian.Uint32(c.tio[0:]) }
func (c *console) lflag() uint32 { return binary.LittleEndian.Uint32(c.tio[12:]) }
func (c *console) cc(i int) byte { return c.tio[17+i] }

// watch runs the line discipline whenever input arrives, so that ^C
// reaches a program that is not reading the console. It runs while the
// program does.
func (c *console) watch(done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		default:
		}
		c.mu.Lock()
		c.fill()
		c.mu.Unlock()
		c.checkWinch()
		c.wait()
	}
}

// fill runs what the UART received through the line discipline into
// pending (c.mu held).
func (c *console) fill() {
	var buf [64]byte
	for {
		n := c.rawRead(buf[:])
		if n == 0 {
			return
		}
		for _, ch := range buf[:n] {
			c.input(ch)
		}
	}
}

func (c *console) echo(s string) {
	if c.lflag()&unix.ECHO != 0 {
		c.output([]byte(s))
	}
}

// input handles one received byte.
func (c *console) input(ch byte) {
	iflag, lflag := c.iflag(), c.lflag()
	if ch == '\r' && iflag&unix.ICRNL != 0 {
		ch = '\n'
	}
	if lflag&unix.ISIG != 0 && (ch == c.cc(unix.VINTR) || ch == c.cc(unix.VQUIT)) {
		sig := unix.SIGINT
		if ch == c.cc(unix.VQUIT) {
			sig = unix.SIGQUIT
		}
		c.echo("^" + string(rune('@'+ch)) + "\n")
		c.line, c.pending = nil, nil
		if c.sys != nil {
			c.sys.signalGroup(c.fg, int(sig), sigInfo{code: 0x80}) // SI_KERNEL, as from the tty
		}
		return
	}
	if lflag&unix.ICANON == 0 {
		c.pending = append(c.pending, ch)
		c.echo(string(ch))
		return
	}
	switch ch {
	case c.cc(unix.VERASE), '\b':
		if len(c.line) > 0 {
			c.line = c.line[:len(c.line)-1]
			c.echo("\b \b")
		}
	case c.cc(unix.VKILL):
		for range c.line {
			c.echo("\b \b")
		}
		c.line = nil
	case c.cc(unix.VEOF):
		if len(c.line) == 0 {
			c.eof = true
		} else {
			c.pending = append(c.pending, c.line...)
			c.line = nil
		}
	default:
		c.line = append(c.line, ch)
		c.echo(string(ch))
		if ch == '\n' {
			c.pending = append(c.pending, c.line...)
			c.line = nil
		}
	}
}

// foreground returns the terminal's foreground process group.
func (c *console) foreground() int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fg
}

// setForeground implements tcsetpgrp (TIOCSPGRP).
func (c *console) setForeground(g int32) {
	c.mu.Lock()
	c.fg = g
	c.mu.Unlock()
}

// signalGroup sends a signal to every process of group g, as the
// terminal does for ^C and ^\.
func (s *System) signalGroup(g int32, sig int, info sigInfo) {
	s.mu.Lock()
	var targets []*Process
	for _, p := range s.procs {
		if p.pgid == g && p.state == procLive {
			targets = append(targets, p)
		}
	}
	s.mu.Unlock()
	for _, p := range targets {
		p.signal(sig, info)
	}
}
