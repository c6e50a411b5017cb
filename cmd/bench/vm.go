package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// qemuLogEnv names the file where this binary, started as YOLK_QEMU by
// qemu/run, logs when and with which arguments it starts QEMU, so that the
// yolk side is timed from QEMU's start as the Linux side is, and the exact
// QEMU command can be printed.
const qemuLogEnv = "BENCH_QEMU_LOG"

// qemuStart is one line of the qemuLogEnv file.
type qemuStart struct {
	UnixNano int64    `json:"t"`
	Args     []string `json:"args"`
}

// qemuExtraEnv holds arguments execQEMU adds to qemu/run's QEMU command
// (space-separated): -icount's.
const qemuExtraEnv = "BENCH_QEMU_EXTRA"

// execQEMU logs the start and becomes QEMU (it does not return on success).
func execQEMU(logPath string, args []string) error {
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		return err
	}
	args = append(args, strings.Fields(os.Getenv(qemuExtraEnv))...)
	b, _ := json.Marshal(qemuStart{time.Now().UnixNano(), args})
	if err := os.WriteFile(logPath, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return syscall.Exec(qemu, append([]string{qemu}, args...), os.Environ())
}

// A VM is one boot: the command that starts it (QEMU itself, or qemu/run
// with this binary as its QEMU).
type VM struct {
	Name    string
	Argv    []string
	Wrapped bool     // Argv is qemu/run's runner: QEMU's start and arguments come from the log
	Root    string   // the repository, for the runner (YOLK_ROOT)
	Extra   []string // arguments for the runner's QEMU (qemuExtraEnv)
}

// A Boot is what one boot of a VM gave.
type Boot struct {
	Out         *Output
	FirstOutput time.Duration // QEMU's start to "benchinit: ready"
	Total       time.Duration // QEMU's start to its exit
	QEMUArgs    []string      // QEMU's arguments, exactly
	Console     string        // everything it printed, for a failure's report
}

// Run boots vm and waits for it to end, at most timeout.
func (vm VM) Run(timeout time.Duration, scratch string) (*Boot, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, vm.Argv[0], vm.Argv[1:]...)
	cmd.Env = os.Environ()
	logPath := ""
	if vm.Wrapped {
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		logPath = scratch + "/qemu-start.json"
		os.Remove(logPath)
		cmd.Env = append(cmd.Env, "YOLK_QEMU="+self, qemuLogEnv+"="+logPath, "YOLK_ROOT="+vm.Root, qemuExtraEnv+"="+strings.Join(vm.Extra, " "))
	}
	var console bytes.Buffer
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = &console
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var ready time.Time
	var lines bytes.Buffer
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if ready.IsZero() && strings.Contains(line, readyLine) {
			ready = time.Now()
		}
		lines.WriteString(line + "\n")
	}
	io.Copy(io.Discard, stdout)
	werr := cmd.Wait()
	end := time.Now()
	b := &Boot{Console: lines.String() + console.String(), QEMUArgs: vm.Argv[1:]}
	if ctx.Err() != nil {
		return b, fmt.Errorf("%s: timed out after %v", vm.Name, timeout)
	}
	if vm.Wrapped {
		raw, err := os.ReadFile(logPath)
		if err != nil {
			return b, fmt.Errorf("%s: QEMU did not start (%v): %v", vm.Name, werr, err)
		}
		var qs qemuStart
		if err := json.Unmarshal(raw, &qs); err != nil {
			return b, fmt.Errorf("%s: %s: %v", vm.Name, logPath, err)
		}
		start, b.QEMUArgs = time.Unix(0, qs.UnixNano), qs.Args
	}
	b.Total = end.Sub(start)
	if !ready.IsZero() {
		b.FirstOutput = ready.Sub(start)
	}
	b.Out, err = ParseOutput(&lines)
	if err != nil {
		return b, fmt.Errorf("%s: %v", vm.Name, err)
	}
	// Linux's QEMU exits 0 after reboot with -no-reboot; qemu/run exits
	// with the program's status.
	if werr != nil {
		return b, fmt.Errorf("%s: %v", vm.Name, werr)
	}
	if !b.Out.Ready || !b.Out.Done {
		return b, fmt.Errorf("%s: the init did not finish (ready %v, done %v)", vm.Name, b.Out.Ready, b.Out.Done)
	}
	if len(b.Out.Fails) > 0 {
		return b, fmt.Errorf("%s: failed jobs: %s", vm.Name, strings.Join(b.Out.Fails, "; "))
	}
	return b, nil
}
