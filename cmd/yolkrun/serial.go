package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

// runSerial runs QEMU with everything on the serial console (--serial):
// QEMU's stdio is the runner's, with the monitor multiplexed (Ctrl-A).
func (s *setup) runSerial() (int, error) {
	cmdline := kernelCmdline(s.o.kopts, s.extra, s.env(), s.o.haveArgs, s.o.args, s.o.progArgs)
	// -display none rather than -nographic: with -nographic SeaBIOS on
	// q35 also prints its banner on the serial line.
	args, err := s.qemuArgs(cmdline)
	if err != nil {
		return 0, err
	}
	args = append(args, "-serial", "mon:stdio")
	cmd := exec.Command(s.qemu, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// QEMU puts a terminal into raw mode; restore it if QEMU is killed.
	restore := saveTerminal(0)
	return s.supervise(cmd, restore, nil)
}

// supervise starts cmd (QEMU) and waits for it, the timeout or a signal,
// whichever comes first; after QEMU exits, drained (if set) waits for the
// relays to deliver what QEMU left.
func (s *setup) supervise(cmd *exec.Cmd, restore func(), drained func()) (int, error) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return 0, fail(exitRunner, "starting %s: %v", s.qemu, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var timer <-chan time.Time
	if s.o.timeout > 0 {
		timer = time.After(s.o.timeout)
	}
	return s.wait(cmd, done, timer, sigs, restore, drained)
}

func (s *setup) wait(cmd *exec.Cmd, done chan error, timer <-chan time.Time, sigs chan os.Signal, restore func(), drained func()) (int, error) {
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		restore()
	}
	select {
	case <-done:
	case <-timer:
		stop()
		return 0, fail(exitTimeout, "timed out after %d s", int(s.o.timeout/time.Second))
	case sig := <-sigs:
		stop()
		n := map[os.Signal]int{syscall.SIGHUP: 129, syscall.SIGINT: 130, syscall.SIGTERM: 143}[sig]
		return n, nil
	case <-s.quit():
		stop()
		fmt.Fprintf(os.Stderr, "\r\n%s: quit (Ctrl-A X)\r\n", progName)
		return 130, nil
	}
	if drained != nil {
		drained()
	}
	restore()
	return s.exitStatus(cmd.ProcessState)
}
