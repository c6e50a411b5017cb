package sysno

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestSpotChecks(t *testing.T) {
	for _, tc := range []struct {
		n    uintptr
		want string
	}{
		{0, "read"},
		{1, "write"},
		{4, "stat"},
		{17, "pread64"},
		{60, "exit"},
		{156, "_sysctl"},
		{231, "exit_group"},
		{262, "newfstatat"},
		{309, "getcpu"},
		{336, "uprobe"},
		{424, "pidfd_send_signal"},
		{435, "clone3"},
	} {
		if got := Name(tc.n); got != tc.want {
			t.Errorf("Name(%d) = %q, want %q", tc.n, got, tc.want)
		}
		if got := Format(tc.n); got != tc.want {
			t.Errorf("Format(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestUnknown(t *testing.T) {
	for _, n := range []uintptr{337, 400, 423, Max + 1, 512, 1 << 30, ^uintptr(0)} {
		if got := Name(n); got != "unknown" {
			t.Errorf("Name(%d) = %q, want %q", n, got, "unknown")
		}
		want := "syscall_" + strconv.FormatUint(uint64(n), 10)
		if got := Format(n); got != want {
			t.Errorf("Format(%d) = %q, want %q", n, got, want)
		}
	}
	for _, s := range []string{"", "unknown", "syscall_999", "READ", "SYS_READ", "fstatat"} {
		if n, ok := Lookup(s); ok {
			t.Errorf("Lookup(%q) = %d, true; want false", s, n)
		}
	}
}

func TestMax(t *testing.T) {
	if Max <= 450 {
		t.Errorf("Max = %d, want > 450", Max)
	}
	if Name(Max) == "unknown" {
		t.Errorf("Name(Max=%d) is unknown", Max)
	}
}

func TestLookupRoundTrip(t *testing.T) {
	count := 0
	for n := uintptr(0); n <= Max; n++ {
		name := Name(n)
		if name == "unknown" {
			continue
		}
		count++
		got, ok := Lookup(name)
		if !ok || got != n {
			t.Errorf("Lookup(%q) = %d, %v; want %d, true", name, got, ok, n)
		}
	}
	if count < 370 {
		t.Errorf("only %d named syscalls, want >= 370", count)
	}
}

var sink string

func TestNameDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		for n := uintptr(0); n <= Max+10; n++ {
			sink = Name(n)
		}
		sink = Name(^uintptr(0))
	})
	if allocs != 0 {
		t.Errorf("Name allocates: %v allocs per run", allocs)
	}
	allocs = testing.AllocsPerRun(100, func() {
		sink = Format(1)
		n, _ := Lookup("clone3")
		sink = Name(n)
	})
	if allocs != 0 {
		t.Errorf("Format (known number) / Lookup allocate: %v allocs per run", allocs)
	}
}

// goTool returns the path of the go command, skipping the test if absent.
func goTool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go command not available: %v", err)
	}
	return path
}

// xsysSysnums parses golang.org/x/sys/unix/zsysnum_linux_amd64.go (the
// version selected by go.mod) independently of gen.go and returns the
// SYS_* constants.
func xsysSysnums(t *testing.T) map[string]uintptr {
	t.Helper()
	out, err := exec.Command(goTool(t), "list", "-m", "-f", "{{.Dir}}", "golang.org/x/sys").Output()
	if err != nil {
		t.Fatalf("go list -m golang.org/x/sys: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		t.Fatal("golang.org/x/sys is not downloaded")
	}
	file := filepath.Join(dir, "unix", "zsysnum_linux_amd64.go")
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := make(map[string]uintptr)
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, id := range vs.Names {
				if !strings.HasPrefix(id.Name, "SYS_") {
					continue
				}
				lit := vs.Values[i].(*ast.BasicLit)
				n, err := strconv.ParseUint(lit.Value, 0, 64)
				if err != nil {
					t.Fatalf("%s: %v", id.Name, err)
				}
				consts[id.Name] = uintptr(n)
			}
		}
	}
	if len(consts) < 370 {
		t.Fatalf("parsed only %d SYS_* constants from %s", len(consts), file)
	}
	return consts
}

// TestAllXSysConstants checks Name for every SYS_* constant in x/sys/unix.
func TestAllXSysConstants(t *testing.T) {
	consts := xsysSysnums(t)
	var maxNum uintptr
	for sym, n := range consts {
		maxNum = max(maxNum, n)
		want := strings.ToLower(strings.TrimPrefix(sym, "SYS_"))
		if got := Name(n); got != want {
			t.Errorf("Name(unix.%s = %d) = %q, want %q", sym, n, got, want)
		}
		if got, ok := Lookup(want); !ok || got != n {
			t.Errorf("Lookup(%q) = %d, %v; want %d, true", want, got, ok, n)
		}
	}
	if maxNum != Max {
		t.Errorf("Max = %d, highest x/sys SYS_* constant = %d", Max, maxNum)
	}
	named := 0
	for n := uintptr(0); n <= Max; n++ {
		if Name(n) != "unknown" {
			named++
		}
	}
	if named != len(consts) {
		t.Errorf("%d named syscalls, x/sys has %d SYS_* constants", named, len(consts))
	}
}

// TestGeneratedUpToDate regenerates the table into a temporary file and
// compares it with the checked-in names_gen.go.
func TestGeneratedUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping generator run in -short mode")
	}
	tmp := filepath.Join(t.TempDir(), "names_gen.go")
	cmd := exec.Command(goTool(t), "run", "gen.go", "-o", tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run gen.go: %v\n%s", err, out)
	}
	want, err := os.ReadFile(tmp)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("names_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("names_gen.go is stale; run `go generate ./linux/sysno`")
	}
}
