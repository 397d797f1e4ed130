package simulate

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

var palette = [...]string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"}

// WriteChartSVG draws first-read TAT by arrival hour (America/New_York)
// for each run: urgent (stroke/trauma/STAT) p95 as a solid line and all
// studies' p50 dashed. Hand-written SVG, no dependencies.
func WriteChartSVG(w io.Writer, rs []*Result) error {
	const W, H, left, right, top, bottom = 860, 440, 60, 180, 40, 50
	pw, ph := float64(W-left-right), float64(H-top-bottom)
	ymax := 10.0
	for _, r := range rs {
		for _, h := range r.ByHour {
			ymax = math.Max(ymax, math.Max(h.UrgentP95, h.AllP50))
		}
	}
	step := niceStep(ymax / 5)
	ymax = math.Ceil(ymax/step) * step
	x := func(h float64) float64 { return left + h/23*pw }
	y := func(v float64) float64 { return top + ph - v/ymax*ph }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", W, H, W, H)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", W, H)
	title := "First-read TAT by hour of arrival (ET)"
	if len(rs) > 0 {
		title += " — " + html.EscapeString(rs[0].Scenario) + fmt.Sprintf(", seed %d", rs[0].Seed)
	}
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", left, title)
	for v := 0.0; v <= ymax+1e-9; v += step {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, y(v), left+pw, y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%g</text>`+"\n", left-6, y(v)+4, v)
	}
	for h := 0; h < 24; h += 3 {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%02d:00</text>`+"\n", x(float64(h)), top+ph+18, h)
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", left, top+ph, left+pw, top+ph)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%.1f" stroke="black"/>`+"\n", left, top, left, top+ph)
	fmt.Fprintf(&b, `<text transform="translate(16 %.1f) rotate(-90)" text-anchor="middle">minutes</text>`+"\n", top+ph/2)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">hour of arrival</text>`+"\n", left+pw/2, H-10)
	for i, r := range rs {
		col := palette[i%len(palette)]
		var solid, dashed []string
		for _, h := range r.ByHour {
			if h.Studies == 0 {
				continue
			}
			solid = append(solid, fmt.Sprintf("%.1f,%.1f", x(float64(h.Hour)), y(h.UrgentP95)))
			dashed = append(dashed, fmt.Sprintf("%.1f,%.1f", x(float64(h.Hour)), y(h.AllP50)))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", col, strings.Join(solid, " "))
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" stroke-dasharray="5,4" points="%s"/>`+"\n", col, strings.Join(dashed, " "))
		ly := top + 10 + i*40
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/>`, W-right+15, ly, W-right+40, ly, col)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s urgent p95</text>`+"\n", W-right+45, ly+4, html.EscapeString(string(r.Policy)))
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-dasharray="5,4"/>`, W-right+15, ly+16, W-right+40, ly+16, col)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s all p50</text>`+"\n", W-right+45, ly+20, html.EscapeString(string(r.Policy)))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}
