package syscallshim

import (
	"go/ast"
	"go/parser"
	"go/token"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"yolk/linux/sysno"
)

// TestSupportTableMatchesDispatch checks that the support table lists
// exactly the syscalls dispatch's switch handles.
func TestSupportTableMatchesDispatch(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "dispatch.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if cc, ok := n.(*ast.CaseClause); ok {
			for _, e := range cc.List {
				if sel, ok := e.(*ast.SelectorExpr); ok && strings.HasPrefix(sel.Sel.Name, "SYS_") {
					cases[strings.ToLower(strings.TrimPrefix(sel.Sel.Name, "SYS_"))] = true
				}
			}
		}
		return true
	})
	if len(cases) < 50 {
		t.Fatalf("found only %d cases in dispatch.go", len(cases))
	}
	table := map[string]bool{}
	for n, s := range SupportTable {
		name := sysno.Name(n)
		table[name] = true
		if s.Level == 0 {
			t.Errorf("%s: no support level", name)
		}
		if s.Level == Partial && s.Note == "" {
			t.Errorf("%s: partial support must say what is missing", name)
		}
	}
	var missing, extra []string
	for c := range cases {
		if !table[c] {
			missing = append(missing, c)
		}
	}
	for c := range table {
		if !cases[c] {
			extra = append(extra, c)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("dispatched but not in SupportTable: %v", missing)
	}
	if len(extra) > 0 {
		t.Errorf("in SupportTable but not dispatched: %v", extra)
	}
	if SupportTable[unix.SYS_WRITE].Level == 0 {
		t.Error("write missing")
	}
}
