package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mapfileWant is examples/mapfile's output on Linux (6.x, x86-64).
const mapfileWant = `pread after msync: "written through MAP_SHARED"
pread second page: "second page"
read without msync: "no msync yet"
mapping after pwrite: "PWRITE"
byte past the end in the last page: 0
third page: SIGBUS at offset 8202, si_code BUS_ADRERR
parent sees: "from the child"
pread of the child's store: "from the child"
private: "PRIVATE", shared: "written"
second page after ftruncate: SIGBUS at offset 4097, si_code BUS_ADRERR
last page after ftruncate: "written", byte 100: 0
file after munmap: 64 bytes, "final contents, written through MAP_SHARED
"
`

// TestMapfile writes a file through MAP_SHARED and msync on tmpfs and on
// a host directory, where the host then reads what the program left;
// pwrite, fork, private mappings and SIGBUS past the end as on Linux.
func TestMapfile(t *testing.T) {
	root := t.TempDir()
	copyFile(t, example(t, "mapfile"), filepath.Join(root, "mapfile"))
	for _, where := range []string{"/tmp", "/mnt"} {
		t.Run(strings.TrimPrefix(where, "/"), func(t *testing.T) {
			t.Parallel()
			host := t.TempDir()
			r := run(t, "-v", host+":/mnt", "-i", root, "/mapfile", where)
			expect(t, r, 0, mapfileWant)
			if where != "/mnt" {
				return
			}
			got, err := os.ReadFile(filepath.Join(host, "mapped.txt"))
			want := "final contents, written through MAP_SHARED\n"
			want += strings.Repeat("\x00", 64-len(want))
			if err != nil || string(got) != want {
				t.Errorf("the host reads %q (%v), want %q", got, err, want)
			}
		})
	}
}
