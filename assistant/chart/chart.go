// Package chart draws an answer's chart spec (assistant.Chart) with
// gonum.org/v1/plot: SVG for the web page and PNG for Slack and reports,
// from the same spec. Lines over time, bars over categories (horizontal
// when the labels are long), grouped or stacked bars for a breakdown;
// x labels formatted by type (months as "Jan", "Jan 26" at a new year;
// quarters, days) and thinned so they never overlap; y values formatted by
// unit (percentages, thousands grouped); periods not over drawn dashed and
// hollow with a legend note; the Okabe-Ito palette, safe for colour-blind
// readers. Fonts are embedded in the library: nothing is fetched at run
// time.
package chart

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"image/color"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/internal/textfmt"
)

// Palette is Okabe-Ito: distinguishable with the common colour-vision
// deficiencies.
var Palette = []color.RGBA{
	{R: 0, G: 114, B: 178, A: 255}, {R: 230, G: 159, B: 0, A: 255}, {R: 0, G: 158, B: 115, A: 255},
	{R: 204, G: 121, B: 167, A: 255}, {R: 86, G: 180, B: 233, A: 255}, {R: 213, G: 94, B: 0, A: 255},
	{R: 240, G: 228, B: 66, A: 255}, {R: 0, G: 0, B: 0, A: 255},
}

// PartialNote is the legend entry of periods not over.
const PartialNote = "dashed, hollow: period not over yet"

// Size is a chart's size in points (1/72 inch); SVG keeps it as its
// viewBox, PNG renders it at 2x for sharp text on high-density screens.
type Size struct{ W, H float64 }

// Default sizes.
var (
	Wide = Size{W: 640, H: 300}
)

// SVG draws c as an SVG document.
func SVG(c assistant.Chart, s Size) ([]byte, error) {
	p, err := build(c, s)
	if err != nil {
		return nil, err
	}
	return writeSVG(p, s)
}

// writeSVG draws p as SVG whose styles are presentation attributes
// (fill="#0072B2") rather than style="" attributes, so a page whose
// Content-Security-Policy forbids inline styles can show it inline.
func writeSVG(p *plot.Plot, s Size) ([]byte, error) {
	cv := vgsvg.NewWith(vgsvg.UseWH(vg.Length(s.W), vg.Length(s.H)), vgsvg.EmbedFonts(false))
	p.Draw(draw.New(cv))
	var b bytes.Buffer
	if _, err := cv.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("chart: write SVG: %w", err)
	}
	return styleRe.ReplaceAllFunc(b.Bytes(), func(m []byte) []byte {
		var out []string
		for _, decl := range strings.Split(string(styleRe.FindSubmatch(m)[1]), ";") {
			k, v, ok := strings.Cut(decl, ":")
			if k = strings.TrimSpace(k); ok && attrRe.MatchString(k) {
				out = append(out, k+`="`+html.EscapeString(strings.TrimSpace(v))+`"`)
			}
		}
		return []byte(strings.Join(out, " "))
	}), nil
}

var (
	styleRe = regexp.MustCompile(`style="([^"]*)"`)
	attrRe  = regexp.MustCompile(`^[a-z-]+$`)
)

// PNG draws c as a PNG image at 144 dots per inch.
func PNG(c assistant.Chart, s Size) ([]byte, error) {
	p, err := build(c, s)
	if err != nil {
		return nil, err
	}
	cv := vgimg.NewWith(vgimg.UseWH(vg.Length(s.W), vg.Length(s.H)), vgimg.UseDPI(144), vgimg.UseBackgroundColor(color.White))
	p.Draw(draw.New(cv))
	var b bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: cv}).WriteTo(&b); err != nil {
		return nil, fmt.Errorf("chart: write PNG: %w", err)
	}
	return b.Bytes(), nil
}

// fontSize of tick labels, in points.
const fontSize = 10

func build(c assistant.Chart, s Size) (*plot.Plot, error) {
	cats := categories(c)
	if len(cats) == 0 {
		return nil, errors.New("chart: the chart has no points")
	}
	p := plot.New()
	p.Title.Text = c.Title
	p.Title.TextStyle.Font = sans(12)
	p.Legend.TextStyle.Font = sans(fontSize)
	p.Legend.Top, p.Legend.Left = true, true
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Tick.Label.Font = sans(fontSize)
		ax.Label.TextStyle.Font = sans(fontSize)
		ax.LineStyle.Color = color.Gray{Y: 120}
		ax.Tick.LineStyle.Color = color.Gray{Y: 120}
	}
	p.Y.Tick.Marker = valueTicks{unit: c.Unit}
	grid := plotter.NewGrid()
	grid.Vertical.Color, grid.Horizontal.Color = color.Gray{Y: 225}, color.Gray{Y: 225}
	p.Add(grid)
	p.Y.Padding, p.X.Padding = 0, 0
	xa := newXAxis(cats)
	horizontal := c.Kind == assistant.ChartBar && !xa.isTime() && (xa.widest() > 14 || len(cats) > 8)
	var partial bool
	switch {
	case c.Kind == assistant.ChartBar || len(cats) == 1:
		b := &bars{cats: cats, series: c.Series, stacked: c.Stacked, horizontal: horizontal}
		p.Add(b)
		partial = b.partial()
		for i, sr := range c.Series {
			if len(c.Series) > 1 {
				p.Legend.Add(sr.Name, swatch(Palette[i%len(Palette)]))
			}
		}
	default:
		for i, sr := range c.Series {
			col := Palette[i%len(Palette)]
			ls := lines(sr, cats, col)
			for _, l := range ls {
				p.Add(l)
			}
			if len(c.Series) > 1 {
				p.Legend.Add(sr.Name, swatch(col))
			}
			for _, pt := range sr.Points {
				partial = partial || pt.Partial
			}
		}
	}
	if partial {
		p.Legend.Add(PartialNote, dashed(color.RGBA{R: 90, G: 90, B: 90, A: 255}))
	}
	// Room above the highest value (and below a negative one), so no
	// point sits on the frame.
	val := &p.Y
	if horizontal {
		val = &p.X
	}
	span := val.Max - val.Min
	if span == 0 {
		span = math.Max(math.Abs(val.Max), 1)
	}
	val.Max += span * 0.08
	if val.Min < 0 || c.Kind != assistant.ChartBar {
		val.Min -= span * 0.05
	}
	ticks := thin(xa, s, horizontal)
	if horizontal {
		p.Y.Tick.Marker = ticks
		p.X.Tick.Marker = valueTicks{unit: c.Unit}
		p.Y.Min, p.Y.Max = -0.6, float64(len(cats))-0.4
		p.X.Label.Text = unitLabel(c)
	} else {
		p.X.Tick.Marker = ticks
		p.X.Min, p.X.Max = -0.6, float64(len(cats))-0.4
		p.Y.Label.Text = unitLabel(c)
	}
	return p, nil
}

// sans is the Liberation Sans face gonum embeds, at size points.
func sans(size float64) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: vg.Points(size)}
}

// unitLabel names the value axis by the chart's unit when it says more
// than the numbers do.
func unitLabel(c assistant.Chart) string {
	switch c.Unit {
	case "", "count", "%", "amount":
		return ""
	}
	return c.Unit
}

// categories are the x values of all series, in first-seen order (periods
// sort as text: ISO dates).
func categories(c assistant.Chart) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range c.Series {
		for _, p := range s.Points {
			if !seen[p.X] {
				seen[p.X] = true
				out = append(out, p.X)
			}
		}
	}
	return out
}

// xAxis formats x values by type: ISO days at a month grain as "Jan"
// ("Jan 26" for the first label shown and at each new year), quarters as
// "Q1 26", years as "2026", other days as "2 Jan"; anything else as it is.
type xAxis struct {
	raw   []string
	ts    []time.Time // nil: not dates
	grain string      // year, quarter, month, day
}

func newXAxis(xs []string) xAxis {
	a := xAxis{raw: xs}
	ts := make([]time.Time, len(xs))
	for i, x := range xs {
		t, err := time.Parse("2006-01-02", x)
		if err != nil {
			return a
		}
		ts[i] = t
	}
	monthly, quarterly, yearly := true, true, true
	for _, t := range ts {
		monthly = monthly && t.Day() == 1
		quarterly = quarterly && t.Day() == 1 && (t.Month()-1)%3 == 0
		yearly = yearly && t.Day() == 1 && t.Month() == 1
	}
	if len(ts) > 1 {
		d := ts[1].Sub(ts[0]).Hours() / 24
		quarterly = quarterly && d > 80 && d < 100
		yearly = yearly && d > 360
		monthly = monthly && d < 32
	}
	a.ts, a.grain = ts, "day"
	switch {
	case yearly:
		a.grain = "year"
	case quarterly:
		a.grain = "quarter"
	case monthly:
		a.grain = "month"
	}
	return a
}

func (a xAxis) isTime() bool { return a.ts != nil }

// label is x value i's label; prev is the index of the label shown before
// it (-1: none), so the year is said where it changes.
func (a xAxis) label(i, prev int) string {
	if a.ts == nil {
		return truncate(a.raw[i], 28)
	}
	t := a.ts[i]
	newYear := prev < 0 || t.Year() != a.ts[prev].Year()
	switch a.grain {
	case "year":
		return strconv.Itoa(t.Year())
	case "quarter":
		if newYear {
			return fmt.Sprintf("Q%d %s", (int(t.Month())-1)/3+1, t.Format("06"))
		}
		return fmt.Sprintf("Q%d", (int(t.Month())-1)/3+1)
	case "month":
		if newYear {
			return t.Format("Jan 06")
		}
		return t.Format("Jan")
	}
	if newYear {
		return t.Format("2 Jan 06")
	}
	return t.Format("2 Jan")
}

// widest is the longest label's length in characters.
func (a xAxis) widest() int {
	n := 0
	for i := range a.raw {
		n = max(n, len([]rune(a.label(i, -1))))
	}
	return n
}

// thin keeps every k-th label so that labels, at their estimated width,
// fit the axis with a gap; the others keep their tick mark. Horizontal
// bars' labels are stacked, so they thin by height.
func thin(a xAxis, s Size, horizontal bool) plot.ConstantTicks {
	n := len(a.raw)
	step := 1
	if horizontal {
		room := s.H - 60
		step = int(math.Ceil(float64(n) * (fontSize + 4) / room))
	} else {
		room := s.W - 90 // y labels and margins
		w := float64(a.widest())*fontSize*0.62 + 14
		step = int(math.Ceil(float64(n) * w / room))
	}
	step = max(step, 1)
	ticks := make(plot.ConstantTicks, n)
	prev := -1
	for i := range n {
		ticks[i] = plot.Tick{Value: float64(i)}
		// Count from the last label: the latest period is always named.
		if (n-1-i)%step == 0 {
			ticks[i].Label = a.label(i, prev)
			prev = i
		}
	}
	return ticks
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// valueTicks are the default ticks labelled by unit.
type valueTicks struct{ unit string }

func (v valueTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = Format(ts[i].Value, v.unit)
		}
	}
	return ts
}

// Format writes an axis value by unit: "12.5%" for percentages, numbers
// with thousands grouped and no trailing zeros.
func Format(v float64, unit string) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if math.Abs(v) >= 100 {
		s = strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	} else if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(strconv.FormatFloat(v, 'f', 2, 64), "0"), ".")
	}
	s = textfmt.GroupThousands(s)
	if s == "-0" {
		s = "0"
	}
	if unit == "%" {
		s += "%"
	}
	return s
}

// lines draws one series: solid through complete periods, dashed into a
// period not over; filled markers, hollow for that period.
func lines(s assistant.Series, cats []string, col color.RGBA) []plot.Plotter {
	index := map[string]int{}
	for i, c := range cats {
		index[c] = i
	}
	var solid, tail, done, open plotter.XYs
	for i, p := range s.Points {
		xy := plotter.XY{X: float64(index[p.X]), Y: p.Y}
		if p.Partial {
			if len(tail) == 0 && i > 0 {
				tail = append(tail, plotter.XY{X: float64(index[s.Points[i-1].X]), Y: s.Points[i-1].Y})
			}
			tail = append(tail, xy)
			open = append(open, xy)
			continue
		}
		solid = append(solid, xy)
		done = append(done, xy)
	}
	var out []plot.Plotter
	if len(solid) > 1 {
		l, _ := plotter.NewLine(solid)
		l.Color, l.Width = col, vg.Points(2)
		out = append(out, l)
	}
	if len(tail) > 1 {
		l, _ := plotter.NewLine(tail)
		l.Color, l.Width, l.Dashes = col, vg.Points(2), []vg.Length{vg.Points(5), vg.Points(4)}
		out = append(out, l)
	}
	if len(done) > 0 {
		sc, _ := plotter.NewScatter(done)
		sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
		out = append(out, sc)
	}
	if len(open) > 0 {
		sc, _ := plotter.NewScatter(open)
		sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(4), Shape: draw.RingGlyph{}}
		out = append(out, sc)
	}
	return out
}

// swatch is a legend thumbnail of a colour (and plots nothing).
type swatch color.RGBA

func (s swatch) Plot(draw.Canvas, *plot.Plot) {}

func (s swatch) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(color.RGBA(s), []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}})
}

// dashed is the legend thumbnail of a period not over.
type dashed color.RGBA

func (d dashed) Thumbnail(c *draw.Canvas) {
	y := (c.Min.Y + c.Max.Y) / 2
	c.StrokeLine2(draw.LineStyle{Color: color.RGBA(d), Width: vg.Points(2), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}, c.Min.X, y, c.Max.X, y)
}

// Sparkline draws a card's trend as a small line with no axes: complete
// periods solid, a period not over dashed into a hollow point.
func Sparkline(pts []assistant.TrendPoint, s Size) ([]byte, error) {
	if len(pts) < 2 {
		return nil, errors.New("chart: a sparkline needs two points")
	}
	ser := assistant.Series{Name: "trend"}
	cats := make([]string, len(pts))
	for i, p := range pts {
		cats[i] = p.Period
		ser.Points = append(ser.Points, assistant.Point{X: p.Period, Y: p.Value, Partial: p.Partial})
	}
	p := plot.New()
	p.HideAxes()
	p.BackgroundColor = color.Transparent
	for _, l := range lines(ser, cats, Palette[0]) {
		p.Add(l)
	}
	p.X.Min, p.X.Max = -0.3, float64(len(pts))-0.7
	span := math.Max(p.Y.Max-p.Y.Min, math.Abs(p.Y.Max)*0.05+1e-9)
	p.Y.Min, p.Y.Max = p.Y.Min-span*0.15, p.Y.Max+span*0.15
	return writeSVG(p, s)
}
