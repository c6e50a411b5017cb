package main

import (
	"math"
	"slices"
)

// Missing marks a sample a run did not give (JSON has no NaN).
const Missing = -1.0

// Summary is the median and the spread (min-max) of a metric's samples.
type Summary struct {
	N                int
	Median, Min, Max float64
}

// Summarize summarises xs; NaN and negative values (Missing: a failed
// run) are left out. With no values, N is 0 and the rest NaN.
func Summarize(xs []float64) Summary {
	v := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) && x >= 0 {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return Summary{Median: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	}
	slices.Sort(v)
	m := v[len(v)/2]
	if len(v)%2 == 0 {
		m = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return Summary{N: len(v), Median: m, Min: v[0], Max: v[len(v)-1]}
}

// Ratio is a over b, NaN when either is missing or b is not positive.
func Ratio(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) || a < 0 || b <= 0 {
		return math.NaN()
	}
	return a / b
}

// PairRatios are the ratios yolk[i]/linux[i] of runs made side by side in
// the same round: their spread says how stable the ratio is, which the
// spreads of the two sides alone overstate (a busy host slows both).
func PairRatios(yolk, linux []float64) []float64 {
	n := min(len(yolk), len(linux))
	r := make([]float64, n)
	for i := range n {
		r[i] = Ratio(yolk[i], linux[i])
	}
	return r
}
