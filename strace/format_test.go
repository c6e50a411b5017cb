package strace

import "testing"

// TestStraceQuote checks strace's octal escapes against its rules: the
// shortest form unless an octal digit follows.
func TestStraceQuote(t *testing.T) {
	for _, c := range []struct {
		in, want string
	}{
		{"", `""`},
		{"\x00", `"\0"`},
		{"\x00" + "0", `"\0000"`},
		{"\x00" + "8", `"\08"`},
		{"\x0a", `"\n"`},
		{"\x7f", `"\177"`},
		{"\x1f" + "7", `"\0377"`},
		{"\x1f", `"\37"`},
		{"é", `"\303\251"`},
	} {
		if got := trQuote([]byte(c.in), false); got != c.want {
			t.Errorf("trQuote(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}
