package main

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// Chart geometry, in SVG user units.
const (
	svgWidth  = 860
	svgLabelW = 330 // the metric names, left of the plot
	svgRightM = 70  // room for the value after the longest bar
	svgRowH   = 24
	svgTop    = 44
	svgBottom = 34
)

// WriteSVG draws the yolk/Linux ratio of every row as a bar from 1 on a
// log scale (green: yolk faster, orange: slower), with a whisker over the
// spread of the per-round ratios. Rows without a ratio are listed, empty.
func WriteSVG(w io.Writer, rows []Row, accel string) error {
	lo, hi := 1.0, 1.0
	for _, r := range rows {
		for _, v := range []float64{r.Ratio, r.RatioMin, r.RatioMax} {
			if !math.IsNaN(v) && v > 0 {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	// Whole decades, at least one each side of 1.
	dlo := math.Min(-1, math.Floor(math.Log10(lo)))
	dhi := math.Max(1, math.Ceil(math.Log10(hi)))
	plotX, plotW := float64(svgLabelW), float64(svgWidth-svgLabelW-svgRightM)
	x := func(v float64) float64 { return plotX + (math.Log10(v)-dlo)/(dhi-dlo)*plotW }
	height := svgTop + len(rows)*svgRowH + svgBottom

	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		svgWidth, height, svgWidth, height)
	p(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	p(`<text x="%d" y="20" font-size="14" font-weight="bold">yolk / Linux VM, median per metric (%s, log scale; below 1: yolk faster)</text>`+"\n",
		10, html.EscapeString(strings.ToUpper(accel)))
	bottom := svgTop + len(rows)*svgRowH
	for d := dlo; d <= dhi; d++ {
		v := math.Pow(10, d)
		stroke, width := "#ccc", 1
		if d == 0 {
			stroke, width = "#333", 2
		}
		p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="%d"/>`+"\n", x(v), svgTop-6, x(v), bottom, stroke, width)
		p(`<text x="%.1f" y="%d" text-anchor="middle">%g×</text>`+"\n", x(v), bottom+16, v)
	}
	for i, r := range rows {
		y := svgTop + i*svgRowH
		p(`<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", svgLabelW-8, y+16, html.EscapeString(r.Key))
		if math.IsNaN(r.Ratio) || r.Ratio <= 0 {
			p(`<text x="%.1f" y="%d" fill="#888">no ratio</text>`+"\n", x(1)+6, y+16)
			continue
		}
		x0, x1 := x(1), x(r.Ratio)
		fill := "#2a9d4b"
		if r.Ratio > 1 {
			fill = "#e07b24"
		}
		p(`<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %s</title></rect>`+"\n",
			math.Min(x0, x1), y+5, math.Max(math.Abs(x1-x0), 1), svgRowH-10, fill, html.EscapeString(r.Label), fmtNum(r.Ratio))
		if !math.IsNaN(r.RatioMin) && r.RatioMin > 0 && r.RatioMax > r.RatioMin {
			ym := y + svgRowH/2
			p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#222"/>`+"\n", x(r.RatioMin), ym, x(r.RatioMax), ym)
			for _, v := range []float64{r.RatioMin, r.RatioMax} {
				p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#222"/>`+"\n", x(v), ym-4, x(v), ym+4)
			}
		}
		lx := math.Max(x1, x(math.Max(r.Ratio, nanTo(r.RatioMax, 0)))) + 6
		p(`<text x="%.1f" y="%d">%s×</text>`+"\n", lx, y+16, fmtNum(r.Ratio))
	}
	p("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func nanTo(v, d float64) float64 {
	if math.IsNaN(v) {
		return d
	}
	return v
}
