// Command goexec runs other programs with os/exec (clone with
// CLONE_VM|CLONE_VFORK, execve, wait4): a command's output, its exit
// status, a pipeline between two commands, and a missing program.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		fmt.Println("child")
		return
	}
	out, err := exec.Command("/bin/busybox", "echo", "x").Output()
	fmt.Printf("output %q, err %v\n", out, err)

	err = exec.Command("/bin/sh", "-c", "exit 3").Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		fmt.Printf("exit status %d\n", ee.ExitCode())
	}

	// A pipeline: seq 1 5 | wc -l, connected by an os.Pipe.
	seq := exec.Command("/bin/seq", "1", "5")
	wc := exec.Command("/bin/wc", "-l")
	r, w, _ := os.Pipe()
	seq.Stdout, wc.Stdin = w, r
	var b strings.Builder
	wc.Stdout = &b
	if err := seq.Start(); err != nil {
		fmt.Println("seq:", err)
	}
	if err := wc.Start(); err != nil {
		fmt.Println("wc:", err)
	}
	w.Close()
	r.Close()
	seq.Wait()
	wc.Wait()
	fmt.Printf("pipeline %q\n", strings.TrimSpace(b.String()))

	_, err = exec.Command("/bin/nope").Output()
	fmt.Println("missing:", err)

	// A program that runs itself again, as test binaries do.
	self, err := os.Executable()
	if err != nil {
		fmt.Println("executable:", err)
		return
	}
	out, err = exec.Command(self, "child").Output()
	fmt.Printf("self: %q, err %v\n", out, err)
}
