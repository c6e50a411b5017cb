package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"testing"
)

// TestRunnerFlagsDocumented checks that qemu/run -h and README.md's flag
// table list the same flags.
func TestRunnerFlagsDocumented(t *testing.T) {
	out, err := exec.Command(filepath.Join(root, "qemu/run"), "-h").CombinedOutput()
	if err != nil {
		t.Fatalf("qemu/run -h: %v\n%s", err, out)
	}
	help := flagSet(regexp.MustCompile(`(?m)^  (-[a-zA-Z])\s`), string(out))
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := flagSet(regexp.MustCompile("(?m)^\\| `(-[a-zA-Z])[ `]"), string(readme))
	if len(help) < 10 {
		t.Fatalf("found only %v in qemu/run -h", help)
	}
	if !equal(help, doc) {
		t.Errorf("qemu/run -h flags %v, README flags %v", help, doc)
	}
}

func flagSet(re *regexp.Regexp, s string) []string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	sort.Strings(out)
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
