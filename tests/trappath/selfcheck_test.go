package trappath

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestWalkerCatches builds testdata/badtrap and checks that the walker
// flags each forbidden thing it does, tolerates bounds checks, passes
// clean code, and requires the indirect table for a func value call.
func TestWalkerCatches(t *testing.T) {
	t.Parallel()
	exe := filepath.Join(t.TempDir(), "badtrap")
	buildGo(t, ".", exe, "./testdata/badtrap", "")
	b, err := openBinary(exe)
	if err != nil {
		t.Fatal(err)
	}
	walkOne := func(t *testing.T, root string, table map[string]indirect) *result {
		t.Helper()
		f := b.byName[root]
		if f == nil {
			t.Fatalf("no %s in badtrap", root)
		}
		res, err := b.walkFrom([]*fn{f}, table)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for _, c := range []struct {
		root string
		want string // a forbidden function the walk must report
	}{
		{"main.appends", "runtime.growslice"},
		{"main.storesPointer", "runtime.gcWriteBarrier"},
		{"main.boxes", "runtime.convT64"},
		{"main.concatenates", "runtime.concatstring"},
		{"main.assignsMap", "runtime.mapassign"},
	} {
		t.Run(c.root, func(t *testing.T) {
			res := walkOne(t, c.root, nil)
			if !hasFailure(res, c.want) {
				t.Errorf("walk from %s does not report %s; failures: %v", c.root, c.want, res.failures)
			}
		})
	}
	t.Run("chain", func(t *testing.T) {
		res := walkOne(t, "main.outer", nil)
		var chain string
		for _, f := range res.failures {
			if strings.Contains(f.what, "runtime.growslice") {
				chain = f.chain
			}
		}
		// The chain names each caller in order, ending in the culprit.
		i, j, k := strings.Index(chain, "main.outer"), strings.Index(chain, "main.middle"), strings.Index(chain, "main.appends")
		if i < 0 || j < i || k < j || !strings.HasSuffix(chain, "runtime.growslice") {
			t.Errorf("chain for main.outer is not outer -> middle -> appends -> growslice:\n%s", chain)
		}
	})
	t.Run("clean", func(t *testing.T) {
		if res := walkOne(t, "main.clean", nil); len(res.failures) != 0 || len(res.warnings) != 0 {
			t.Errorf("main.clean: failures %v, warnings %v, want none", res.failures, res.warnings)
		}
	})
	t.Run("bounds check is a warning", func(t *testing.T) {
		res := walkOne(t, "main.indexes", nil)
		if len(res.failures) != 0 || len(res.warnings) == 0 {
			t.Errorf("main.indexes: failures %v, warnings %v, want one warning", res.failures, res.warnings)
		}
	})
	t.Run("indirect call not in table", func(t *testing.T) {
		res := walkOne(t, "main.callsHook", nil)
		if !hasFailure(res, "main.callsHook has 1 indirect call(s) not in the indirect table") {
			t.Errorf("unlisted indirect call not reported; failures: %v", res.failures)
		}
	})
	t.Run("indirect call with wrong count", func(t *testing.T) {
		res := walkOne(t, "main.callsHook", map[string]indirect{"main.callsHook": {sites: 2, targets: []string{"main.clean"}}})
		if !hasFailure(res, "where the indirect table says 2") {
			t.Errorf("wrong site count not reported; failures: %v", res.failures)
		}
	})
	t.Run("indirect call followed", func(t *testing.T) {
		res := walkOne(t, "main.callsHook", map[string]indirect{"main.callsHook": {sites: 1, targets: []string{"main.appends"}}})
		if !hasFailure(res, "runtime.growslice") || !res.used["main.callsHook"] {
			t.Errorf("walk does not continue at the listed target; failures: %v", res.failures)
		}
		res = walkOne(t, "main.callsHook", map[string]indirect{"main.callsHook": {sites: 1, targets: []string{"main.clean"}}})
		if len(res.failures) != 0 || !res.reached["main.clean"] {
			t.Errorf("listed clean target: failures %v, reached clean %v", res.failures, res.reached["main.clean"])
		}
	})
}

func hasFailure(res *result, substr string) bool {
	for _, f := range res.failures {
		if strings.Contains(f.what, substr) {
			return true
		}
	}
	return false
}
