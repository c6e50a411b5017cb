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
	"strconv"
	"strings"
	"syscall"
	"time"
)

// qemuLogEnv names the file where this binary, started as YOLK_QEMU by
// qemu/run, logs when and with which arguments it starts QEMU, so that the
// exact QEMU command can be printed and the runner's own part of yolk's
// boot (its start to QEMU's) reported.
const qemuLogEnv = "BENCH_QEMU_LOG"

// qemuStart is one line of the qemuLogEnv file.
type qemuStart struct {
	UnixNano int64    `json:"t"`
	Pid      int      `json:"pid"` // QEMU's, as this process becomes QEMU
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
	b, _ := json.Marshal(qemuStart{time.Now().UnixNano(), os.Getpid(), args})
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

// A Boot is what one boot of a VM gave. Its times start when cmd/bench
// starts the VM's command: QEMU itself for Linux, qemu/run's runner for
// yolk, so yolk's include everything its runner does before and while it
// starts QEMU.
type Boot struct {
	Out         *Output
	FirstOutput time.Duration // the command's start to "benchinit: ready"
	Total       time.Duration // the command's start to its exit
	BeforeQEMU  time.Duration // the runner's part: its start to QEMU's (0 for Linux)
	QEMUArgs    []string      // QEMU's arguments, exactly
	Console     string        // everything it printed, for a failure's report
	// CPU is, for each job /init timed, the CPU time QEMU's threads
	// used from the job's "benchstart" line to its "bench" line, as
	// the host read them (see jobCPU).
	CPU map[string]time.Duration
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
	cpu := jobCPU{vm: vm, logPath: logPath, started: map[string]time.Duration{}, used: map[string]time.Duration{}}
	if !vm.Wrapped {
		cpu.pid = cmd.Process.Pid
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if ready.IsZero() && strings.Contains(line, readyLine) {
			ready = time.Now()
		}
		cpu.line(line)
		lines.WriteString(line + "\n")
	}
	io.Copy(io.Discard, stdout)
	werr := cmd.Wait()
	end := time.Now()
	b := &Boot{Console: lines.String() + console.String(), QEMUArgs: vm.Argv[1:], CPU: cpu.used}
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
		b.BeforeQEMU, b.QEMUArgs = time.Unix(0, qs.UnixNano).Sub(start), qs.Args
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

// jobCPU measures, for each job /init times, the CPU time QEMU's threads
// use while it runs: the sum of their time on a CPU (/proc/PID/task/*/
// schedstat, nanoseconds) when its "benchstart NAME" line arrives and
// when its "bench NAME ..." line does. A guest's own clock counts the
// time its vCPU thread waits for a host CPU too, which on a shared host
// is most of the run-to-run spread; this does not (it still counts what
// contention does to caches). The lines arrive a few milliseconds after
// the guest printed them, the same at both ends of a job.
type jobCPU struct {
	vm      VM
	logPath string // the runner's QEMU log, for QEMU's pid (Wrapped)
	pid     int    // QEMU's pid, 0 until known
	started map[string]time.Duration
	used    map[string]time.Duration
}

func (c *jobCPU) line(line string) {
	name, start := "", false
	if i := strings.Index(line, startLine); i >= 0 {
		f := strings.Fields(line[i:])
		if len(f) != 2 {
			return
		}
		name, start = f[1], true
	} else if i := strings.Index(line, "bench "); i >= 0 {
		f := strings.Fields(line[i:])
		if len(f) < 2 {
			return
		}
		name = f[1]
	} else {
		return
	}
	if c.pid == 0 && c.logPath != "" {
		var qs qemuStart
		if raw, err := os.ReadFile(c.logPath); err == nil && json.Unmarshal(raw, &qs) == nil {
			c.pid = qs.Pid
		}
	}
	if c.pid == 0 {
		return
	}
	t, ok := processCPU(c.pid)
	if !ok {
		return
	}
	if start {
		c.started[name] = t
	} else if t0, ok := c.started[name]; ok {
		c.used[name] = t - t0
	}
}

// processCPU is the time process pid's threads have spent on a CPU.
func processCPU(pid int) (time.Duration, bool) {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, false
	}
	var sum time.Duration
	for _, e := range ents {
		b, err := os.ReadFile(dir + "/" + e.Name() + "/schedstat")
		if err != nil {
			continue // a thread that just ended
		}
		f := strings.Fields(string(b))
		if len(f) < 1 {
			return 0, false
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, false
		}
		sum += time.Duration(ns)
	}
	return sum, true
}
