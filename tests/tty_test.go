package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestTerminalTmux runs a shell in a real terminal (a tmux pane): line
// editing, ^C aborting a read, the pane's size through TIOCGWINSZ and its
// change on resize, and colours only on a terminal.
func TestTerminalTmux(t *testing.T) {
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Fatalf("tmux missing (scripts/setup installs it): %v", err)
	}
	dir := processRoot(t)
	os.Symlink("busybox", filepath.Join(dir, "bin", "stty"))
	sock := filepath.Join(t.TempDir(), "tmux.sock")
	tm := func(args ...string) string {
		out, err := exec.Command(tmux, append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	runner := filepath.Join(root, "qemu/run")
	kernel := filepath.Join(root, "build/kernel.elf")
	tm("new-session", "-d", "-s", "y", "-x", "100", "-y", "30",
		runner+" -q -A tcg -k "+kernel+" -T 120 -i "+dir+" /bin/sh; sleep 60")
	defer exec.Command(tmux, "-S", sock, "kill-server").Run()
	screen := func() string { return tm("capture-pane", "-p", "-t", "y") }
	waitFor := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if strings.Contains(screen(), want) {
				return
			}
		}
		t.Fatalf("the pane never showed %q:\n%s", want, screen())
	}
	waitFor("/ #") // capture-pane drops trailing blanks
	// Line editing: backspace erases.
	tm("send-keys", "-t", "y", "echo abcdef")
	tm("send-keys", "-t", "y", "BSpace", "BSpace")
	tm("send-keys", "-t", "y", "XY", "Enter")
	waitFor("\nabcdXY\n")
	// ^C aborts a read: the shell prompts again.
	tm("send-keys", "-t", "y", "read x; echo read-ended", "Enter")
	time.Sleep(2 * time.Second) // the shell is in read by then, even on a loaded host
	tm("send-keys", "-t", "y", "C-c")
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if regexp.MustCompile(`\^C\s*\n/ #\s*$`).MatchString(screen()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no prompt after ^C: %q", screen())
		}
	}
	tm("send-keys", "-t", "y", "echo after-interrupt", "Enter")
	waitFor("\nafter-interrupt\n")
	if strings.Contains(screen(), "\nread-ended") {
		t.Errorf("the read went on after ^C:\n%s", screen())
	}
	// The terminal's size, then resized.
	tm("send-keys", "-t", "y", "stty size", "Enter")
	waitFor("\n30 100\n")
	tm("resize-window", "-t", "y", "-x", "90", "-y", "25")
	time.Sleep(time.Second)
	tm("send-keys", "-t", "y", "stty size", "Enter")
	waitFor("\n25 90\n")
	// A terminal: isatty is true on 0-2.
	tm("send-keys", "-t", "y", "test -t 0 && test -t 1 && echo is-a-tty", "Enter")
	waitFor("\nis-a-tty\n")
}
