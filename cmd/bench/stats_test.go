package main

import (
	"math"
	"testing"
)

func TestSummarize(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		in   []float64
		want Summary
	}{
		{[]float64{3, 1, 2}, Summary{3, 2, 1, 3}},
		{[]float64{4, 1, 3, 2}, Summary{4, 2.5, 1, 4}},
		{[]float64{5}, Summary{1, 5, 5, 5}},
		{[]float64{9, Missing, 1, nan, 5}, Summary{3, 5, 1, 9}},
		{[]float64{0, 0}, Summary{2, 0, 0, 0}},
	} {
		if g := Summarize(c.in); g != c.want {
			t.Errorf("Summarize(%v) = %+v, want %+v", c.in, g, c.want)
		}
	}
	if g := Summarize([]float64{Missing, nan}); g.N != 0 || !math.IsNaN(g.Median) || !math.IsNaN(g.Min) || !math.IsNaN(g.Max) {
		t.Errorf("Summarize(nothing) = %+v, want N 0 and NaNs", g)
	}
}

func TestRatio(t *testing.T) {
	if g := Ratio(3, 4); g != 0.75 {
		t.Errorf("Ratio(3, 4) = %v", g)
	}
	for _, c := range [][2]float64{{1, 0}, {1, -1}, {Missing, 2}, {math.NaN(), 1}, {1, math.NaN()}} {
		if g := Ratio(c[0], c[1]); !math.IsNaN(g) {
			t.Errorf("Ratio(%v, %v) = %v, want NaN", c[0], c[1], g)
		}
	}
	r := PairRatios([]float64{2, 6, Missing}, []float64{1, 3, 5, 7})
	if len(r) != 3 || r[0] != 2 || r[1] != 2 || !math.IsNaN(r[2]) {
		t.Errorf("PairRatios = %v, want [2 2 NaN]", r)
	}
}

func TestRows(t *testing.T) {
	r := &Results{
		Yolk:  map[string][]float64{"boot": {0.5e9, 0.7e9, 0.6e9}, "getppid": {10e3, 12e3, 11e3}},
		Linux: map[string][]float64{"boot": {4e9, 5e9, Missing}, "boot-bzimage": {20e9, 30e9, 25e9}, "getppid": {2e3, 2e3, 2e3}},
	}
	rows := r.Rows(metrics)
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3 (boot, boot-bzimage, getppid): %+v", len(rows), rows)
	}
	boot, bz, pp := rows[0], rows[1], rows[2]
	if boot.Key != "boot" || boot.Yolk.Median != 0.6 || boot.Linux.Median != 4.5 || boot.Linux.N != 2 {
		t.Errorf("boot row %+v", boot)
	}
	// The ratio is the median of the rounds' ratios (0.5/4, 0.7/5; the
	// third round has no Linux boot), not the ratio of the medians.
	if math.Abs(boot.Ratio-0.1325) > 1e-12 || boot.RatioMin != 0.125 || math.Abs(boot.RatioMax-0.14) > 1e-12 {
		t.Errorf("boot ratio %v (%v-%v), want 0.1325 (0.125-0.14)", boot.Ratio, boot.RatioMin, boot.RatioMax)
	}
	if bz.Key != "boot-bzimage" || bz.Yolk.Median != 0.6 || bz.Linux.Median != 25 {
		t.Errorf("bzImage row %+v: yolk's side is its only boot", bz)
	}
	if pp.Unit != "µs" || pp.Yolk.Median != 11 || pp.Ratio != 5.5 || pp.RatioMin != 5 || pp.RatioMax != 6 {
		t.Errorf("getppid row %+v", pp)
	}
}
