package kernel

import (
	"testing"
	"unsafe"
)

// TestRuntimeEnv checks the runtime environment's word as runtimeStack
// writes it (no allocation: it runs before the runtime): GOMAXPROCS and
// the decimal count, NUL-terminated.
func TestRuntimeEnv(t *testing.T) {
	for _, n := range []uint64{0, 1, 2, 9, 10, 65, 1000, 1<<64 - 1} {
		var buf [64]byte
		for i := range buf {
			buf[i] = 0xaa
		}
		at := uintptr(unsafe.Pointer(&buf[0]))
		putDecimal(putString(at, "GOMAXPROCS="), n)
		got := string(buf[:])
		want := "GOMAXPROCS=" + uitoa(n) + "\x00"
		if got[:len(want)] != want || buf[len(want)] != 0xaa {
			t.Errorf("%d: %q, want %q and nothing after", n, got, want)
		}
	}
}

func uitoa(v uint64) string {
	if v == 0 {
		return "0"
	}
	var s []byte
	for ; v > 0; v /= 10 {
		s = append([]byte{byte('0' + v%10)}, s...)
	}
	return string(s)
}
