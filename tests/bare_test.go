package tests

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBareQEMUTooLittleMemory boots the kernel with plain QEMU (no
// qemu/run, so no isa-debug-exit) and too little memory: the kernel says
// so and powers the machine off through ACPI, on both machines, instead
// of halting with QEMU left running.
func TestBareQEMUTooLittleMemory(t *testing.T) {
	for _, machine := range []string{"microvm", "q35"} {
		t.Run(machine, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "qemu-system-x86_64", "-M", machine, "-accel", "tcg", "-m", "12M",
				"-display", "none", "-serial", "stdio", "-no-reboot",
				"-kernel", filepath.Join(root, "build/kernel.elf"), "-append", "selftest")
			out, err := cmd.CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("QEMU still running after 60 s:\n%s", out)
			}
			if err != nil {
				t.Errorf("QEMU: %v", err)
			}
			if !strings.Contains(string(out), "yolk: need at least 16 MiB of memory") {
				t.Errorf("output lacks the memory message:\n%s", out)
			}
		})
	}
}
