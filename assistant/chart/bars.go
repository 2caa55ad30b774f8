package chart

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/askmesh/askmesh/assistant"
)

// bars draws bar charts: one series, several side by side (grouped) or
// stacked, vertical or horizontal. A bar of a period not over is hollow
// with a dashed outline.
type bars struct {
	cats       []string
	series     []assistant.Series
	stacked    bool
	horizontal bool
}

type bar struct {
	cat       int
	from, to  float64 // value range
	off, size float64 // position within the category, in category units
	col       color.RGBA
	partial   bool
}

func (b *bars) bars() []bar {
	index := map[string]int{}
	for i, c := range b.cats {
		index[c] = i
	}
	const group = 0.75
	k := len(b.series)
	var out []bar
	pos, neg := make([]float64, len(b.cats)), make([]float64, len(b.cats))
	for si, s := range b.series {
		col := Palette[si%len(Palette)]
		if k == 1 && len(s.Points) > 1 && len(b.cats) <= len(Palette) && !b.stacked {
			col = Palette[0] // one series: one colour; the axis names the bars
		}
		for _, p := range s.Points {
			i := index[p.X]
			r := bar{cat: i, to: p.Y, off: -group / 2, size: group, col: col, partial: p.Partial}
			switch {
			case b.stacked && p.Y >= 0:
				r.from, r.to = pos[i], pos[i]+p.Y
				pos[i] = r.to
			case b.stacked:
				r.from, r.to = neg[i], neg[i]+p.Y
				neg[i] = r.to
			case k > 1:
				r.size = group / float64(k)
				r.off = -group/2 + float64(si)*r.size
			}
			out = append(out, r)
		}
	}
	return out
}

func (b *bars) partial() bool {
	for _, s := range b.series {
		for _, p := range s.Points {
			if p.Partial {
				return true
			}
		}
	}
	return false
}

// DataRange implements plot.DataRanger: categories on one axis, values
// (with zero) on the other.
func (b *bars) DataRange() (xmin, xmax, ymin, ymax float64) {
	lo, hi := 0.0, 0.0
	for _, r := range b.bars() {
		lo, hi = min(lo, r.from, r.to), max(hi, r.from, r.to)
	}
	if lo == hi {
		hi = 1
	}
	if b.horizontal {
		return lo, hi, -0.5, float64(len(b.cats)) - 0.5
	}
	return -0.5, float64(len(b.cats)) - 0.5, lo, hi
}

// Plot implements plot.Plotter.
func (b *bars) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	for _, r := range b.bars() {
		c0, c1 := float64(r.cat)+r.off, float64(r.cat)+r.off+r.size
		var pts []vg.Point
		if b.horizontal {
			x0, x1, y0, y1 := trX(r.from), trX(r.to), trY(c0), trY(c1)
			pts = []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
		} else {
			x0, x1, y0, y1 := trX(c0), trX(c1), trY(r.from), trY(r.to)
			pts = []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
		}
		pts = c.ClipPolygonXY(pts)
		if len(pts) == 0 {
			continue
		}
		if r.partial {
			tint := r.col
			tint.A = 60
			c.FillPolygon(tint, pts)
			c.StrokeLines(draw.LineStyle{Color: r.col, Width: vg.Points(1.5), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}, append(pts, pts[0]))
			continue
		}
		c.FillPolygon(r.col, pts)
	}
}
