package abi

import "testing"

func TestApplySigmask(t *testing.T) {
	const usr1, kill, stop = 1 << 9, 1 << 8, 1 << 18
	for _, c := range []struct {
		cur  uint64
		how  int
		set  uint64
		want uint64
		ok   bool
	}{
		{0, SIG_BLOCK, usr1, usr1, true},
		{usr1 | 1, SIG_UNBLOCK, usr1, 1, true},
		{usr1, SIG_SETMASK, 2, 2, true},
		{0, SIG_BLOCK, kill | stop | usr1, usr1, true}, // SIGKILL and SIGSTOP cannot be blocked
		{5, 3, usr1, 5, false},
	} {
		got, ok := ApplySigmask(c.cur, c.how, c.set)
		if got != c.want || ok != c.ok {
			t.Errorf("ApplySigmask(%#x, %d, %#x) = %#x, %v; want %#x, %v", c.cur, c.how, c.set, got, ok, c.want, c.ok)
		}
	}
}
