package kernel

import (
	"reflect"
	"testing"
)

func TestParseCmdline(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Options
	}{
		{"", Options{}},
		{"selftest", Options{Selftest: true}},
		{"bootstats strace  debug", Options{Bootstats: true, Strace: true, Debug: true}},
		{"init=/bin/sh env.HOME=/ env.A=b=c -- -c 'x'", Options{Init: "/bin/sh", Env: []string{"HOME=/", "A=b=c"}, Args: []string{"-c", "'x'"}}},
		{`-- "hello world" a\ b ""`, Options{Args: []string{"hello world", "a b", ""}}},
		{"console=ttyS0 selftest bogus", Options{Selftest: true, Ignored: []string{"console=ttyS0", "bogus"}}},
		{"-- selftest --", Options{Args: []string{"selftest", "--"}}},
		{"--", Options{Args: []string{}}},
		{"env.NOEQ", Options{Ignored: []string{"env.NOEQ"}}},
		{"stdio=virtio tty winsize=50x132 winsize=x", Options{Stdio: "virtio", TTY: true, Rows: 50, Cols: 132, Ignored: []string{"winsize=x"}}},
		{"mount=share0:/mnt mount=share1:/a:b:ro cwd=/mnt p9probe mount=x mount=:/y mount=t:rel cwd=",
			Options{Mounts: []Mount{{Tag: "share0", Path: "/mnt"}, {Tag: "share1", Path: "/a:b", ReadOnly: true}}, Cwd: "/mnt", P9Probe: true,
				Ignored: []string{"mount=x", "mount=:/y", "mount=t:rel", "cwd="}}},
		{`mount=share0:"/with space":rw`, Options{Mounts: []Mount{{Tag: "share0", Path: "/with space"}}}},
		// qemu/run -o "strace=-f,-e trace=process,file -o out": the words an option waits for join it.
		{"strace=-f,-e trace=process,file,-o out selftest", Options{Strace: true, StraceOpt: "-f,-e,trace=process,file,-o,out", Selftest: true}},
		{"strace=-c,-e -- x", Options{Strace: true, StraceOpt: "-c,-e", Args: []string{"x"}}},
		{"profile profile=250 profile=0", Options{ProfileHz: 250, Ignored: []string{"profile=0"}}},
	} {
		got := ParseCmdline(c.in)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseCmdline(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
}
