package kernel

import (
	"github.com/usbarmory/tamago/soc/intel/uart"
)

// com1 is the console: the first 16550 UART, which both microvm and q35
// provide at the legacy port.
var com1 = uart.UART{Index: 1, Base: 0x3f8}

// consoleWrite sends b to the serial console, turning "\n" into "\r\n"
// as a terminal expects. It is safe in the trap handler.
func consoleWrite(b []byte) {
	for _, c := range b {
		if c == '\n' {
			com1.Tx('\r')
		}
		com1.Tx(c)
	}
}

// The kprint functions print without allocating, for the trap handler
// and early boot.

func kprint(s string) {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			com1.Tx('\r')
		}
		com1.Tx(s[i])
	}
}

func kprintHex(v uint64) {
	var buf [18]byte
	buf[0], buf[1] = '0', 'x'
	n := 0
	for x := v; ; x >>= 4 {
		n++
		if x>>4 == 0 {
			break
		}
	}
	for i := 0; i < n; i++ {
		buf[2+n-1-i] = "0123456789abcdef"[(v>>(4*uint(i)))&0xf]
	}
	consoleWrite(buf[:2+n])
}

func kprintDec(v int64) {
	var buf [20]byte
	i := len(buf)
	neg := v < 0
	u := uint64(v)
	if neg {
		u = uint64(-v)
	}
	for {
		i--
		buf[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	if neg {
		i--
		buf[i] = '-'
	}
	consoleWrite(buf[i:])
}
