package tests

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestP9Probe: the kernel reaches host directories over virtio-9p on
// both machines (virtio-mmio and virtio-pci), before the VFS carries
// them to programs: p9probe lists, reads, writes, renames and removes,
// and the host sees the results; a read-only share refuses a create.
func TestP9Probe(t *testing.T) {
	for _, machine := range []string{"microvm", "q35"} {
		t.Run(machine, func(t *testing.T) {
			t.Parallel()
			rw, ro := t.TempDir(), t.TempDir()
			os.WriteFile(filepath.Join(rw, "from-host.txt"), []byte("hello from the host\n"), 0o644)
			os.WriteFile(filepath.Join(ro, "from-host.txt"), []byte("read only\n"), 0o644)
			r := run(t, "-M", machine, "-v", rw+":/mnt", "-v", ro+":/ro:ro", "-o", "p9probe")
			if r.status != 0 || !strings.Contains(r.out, "p9probe: 17 passed, 0 failed") {
				t.Fatalf("status %d, output:\n%s", r.status, r.out)
			}
			for _, line := range []string{
				`p9probe: share0: ok read from-host.txt: "hello from the host\n"`,
				"p9probe: share0: ok list: from-host.txt probe-b probe-dir written-by-yolk.txt",
				`p9probe: share1: ok read from-host.txt: "read only\n"`,
				"p9probe: share1: ok create on a read-only share: EROFS",
			} {
				if !strings.Contains(r.out, line) {
					t.Errorf("no line %q in:\n%s", line, r.out)
				}
			}
			got, err := os.ReadFile(filepath.Join(rw, "written-by-yolk.txt"))
			if want := bytes.Repeat([]byte("yolk writes through virtio-9p\n"), 7000); err != nil || !bytes.Equal(got, want) {
				t.Errorf("host file: %d bytes, %v; want %d bytes", len(got), err, len(want))
			}
			if b, err := os.ReadFile(filepath.Join(rw, "probe-b")); err != nil || string(b) != "renamed\n" {
				t.Errorf("renamed file on the host: %q %v", b, err)
			}
			for _, gone := range []string{"probe-a", "probe-gone"} {
				if _, err := os.Lstat(filepath.Join(rw, gone)); !os.IsNotExist(err) {
					t.Errorf("%s still on the host: %v", gone, err)
				}
			}
			if l, err := os.Readlink(filepath.Join(rw, "probe-dir/link")); err != nil || l != "../written-by-yolk.txt" {
				t.Errorf("symlink on the host: %q %v", l, err)
			}
			if ents, _ := os.ReadDir(ro); len(ents) != 1 {
				t.Errorf("the read-only share changed: %d entries", len(ents))
			}
		})
	}
}
