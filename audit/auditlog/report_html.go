package auditlog

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"time"
)

// WriteHTML writes the report as one self-contained HTML file: inline CSS
// and inline SVG charts drawn here, no scripts, no external assets, so it can
// be archived or mailed as evidence and still open years later.
func (r *Report) WriteHTML(w io.Writer) error {
	data := struct {
		R         *Report
		Products  hbarChart
		Subjects  hbarChart
		Days      vbarChart
		Generated string
	}{R: r, Products: newHBarChart(r.Products), Subjects: newHBarChart(r.Subjects), Days: newVBarChart(r.Days),
		Generated: r.GeneratedAt.Format(time.RFC3339)}
	if err := reportTemplate.Execute(w, data); err != nil {
		return fmt.Errorf("audit report: html: %w", err)
	}
	return nil
}

type seg struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

type hbar struct {
	Y      float64
	TextY  float64
	Label  string
	Segs   []seg
	Total  int
	TotalX float64
}

type tick struct {
	X, Y  float64
	Label string
}

type hbarChart struct {
	Width, Height float64
	LabelW, PlotW float64
	Top, Bottom   float64
	Bars          []hbar
	Ticks         []tick
}

const (
	barH    = 20.0
	barGap  = 8.0
	chartW  = 760.0
	labelW  = 190.0
	chartTp = 8.0
)

func segsOf(allowed, denied, errors int, scale, x0, y, h float64, horizontal bool) []seg {
	var out []seg
	pos := x0
	for _, p := range []struct {
		n     int
		class string
		what  string
	}{{allowed, "allow", "allowed"}, {denied, "deny", "denied"}, {errors, "error", "errors"}} {
		if p.n == 0 {
			continue
		}
		l := float64(p.n) * scale
		title := fmt.Sprintf("%d %s", p.n, p.what)
		if horizontal {
			out = append(out, seg{X: pos, Y: y, W: l, H: h, Class: p.class, Title: title})
			pos += l
		} else {
			pos -= l
			out = append(out, seg{X: y, Y: pos, W: h, H: l, Class: p.class, Title: title})
		}
	}
	return out
}

func newHBarChart(rows []ReportRow) hbarChart {
	c := hbarChart{Width: chartW, LabelW: labelW, PlotW: chartW - labelW - 60, Top: chartTp}
	maxCalls := 0
	for _, r := range rows {
		maxCalls = max(maxCalls, r.Calls)
	}
	step := niceStep(maxCalls)
	top := int(math.Ceil(float64(max(maxCalls, 1))/float64(step))) * step
	scale := c.PlotW / float64(top)
	y := c.Top
	for _, r := range rows {
		c.Bars = append(c.Bars, hbar{Y: y, TextY: y + barH/2 + 4, Label: r.Name, Total: r.Calls,
			Segs:   segsOf(r.Allowed, r.Denied, r.Errors, scale, c.LabelW, y, barH, true),
			TotalX: c.LabelW + float64(r.Calls)*scale + 6})
		y += barH + barGap
	}
	c.Bottom = y
	for v := 0; v <= top; v += step {
		c.Ticks = append(c.Ticks, tick{X: c.LabelW + float64(v)*scale, Y: y + 14, Label: fmt.Sprint(v)})
	}
	c.Height = y + 22
	return c
}

type vcol struct {
	Segs   []seg
	Label  string
	LabelX float64
	Title  string
}

type vbarChart struct {
	Width, Height float64
	Left, Base    float64
	PlotW         float64
	Cols          []vcol
	Ticks         []tick
}

func newVBarChart(days []DayTally) vbarChart {
	const plotH = 180.0
	c := vbarChart{Width: chartW, Left: 44, Base: chartTp + plotH, Height: chartTp + plotH + 40}
	c.PlotW = chartW - c.Left - 10
	maxDay := 0
	for _, d := range days {
		maxDay = max(maxDay, d.Allowed+d.Denied+d.Errors)
	}
	step := niceStep(maxDay)
	top := int(math.Ceil(float64(max(maxDay, 1))/float64(step))) * step
	scale := plotH / float64(top)
	for v := 0; v <= top; v += step {
		c.Ticks = append(c.Ticks, tick{X: c.Left - 6, Y: c.Base - float64(v)*scale, Label: fmt.Sprint(v)})
	}
	if len(days) == 0 {
		return c
	}
	slot := c.PlotW / float64(len(days))
	w := math.Max(1, slot*0.75)
	every := int(math.Ceil(float64(len(days)) / 12)) // at most about 12 date labels
	for i, d := range days {
		x := c.Left + float64(i)*slot + (slot-w)/2
		col := vcol{Segs: segsOf(d.Allowed, d.Denied, d.Errors, scale, c.Base, x, w, false), LabelX: x + w/2,
			Title: fmt.Sprintf("%s: %d allowed, %d denied, %d errors", d.Day.Format("2006-01-02"), d.Allowed, d.Denied, d.Errors)}
		if i%every == 0 {
			col.Label = d.Day.Format("Jan 2")
		}
		c.Cols = append(c.Cols, col)
	}
	return c
}

// niceStep is a round axis step giving about five ticks up to n.
func niceStep(n int) int {
	if n <= 5 {
		return 1
	}
	raw := float64(n) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*mag {
			return int(m * mag)
		}
	}
	return int(10 * mag)
}

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"f":    func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"time": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
	"join": func(s []string) string { return orDash(strings.Join(s, ", ")) },
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>askmesh audit report: {{.R.Period}}</title>
<style>
:root { --ink: #14213d; --ink-2: #3d4a63; --muted: #6b7489; --line: #dde2ea; --bg: #f4f6f9; --brand: #0b3d6e;
  --allow: #1b7a4b; --allow-bg: #e6f4ec; --deny: #a4262c; --deny-bg: #fbeaea; --warn: #8a5a00;
  font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: var(--bg); }
body { margin: 0; }
header { background: var(--brand); color: #fff; padding: 16px 28px; }
header h1 { margin: 0; font-size: 20px; }
header p { margin: 4px 0 0; color: #b9cde3; font-size: 13px; }
main { max-width: 1000px; margin: 0 auto; padding: 20px; display: flex; flex-direction: column; gap: 16px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px 18px; }
h2 { font-size: 15px; margin: 0 0 10px; color: var(--ink-2); }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; }
.kpi { flex: 1 1 120px; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.kpi b { display: block; font-size: 22px; }
.kpi span { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .4px; }
.chain { border-radius: 8px; padding: 10px 12px; font-weight: 600; overflow-wrap: anywhere; }
.chain.ok { background: var(--allow-bg); color: var(--allow); }
.chain.bad { background: var(--deny-bg); color: var(--deny); }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { padding: 5px 8px; border-bottom: 1px solid #eef1f5; text-align: left; white-space: nowrap; }
th { color: var(--ink-2); background: #fbfcfd; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.deny { color: var(--deny); font-weight: 600; }
svg { width: 100%; height: auto; display: block; }
svg text { fill: var(--muted); font-size: 12px; }
svg text.label { fill: var(--ink); }
svg .grid { stroke: #eef1f5; }
svg .axis { stroke: #c7cfdb; }
svg .allow, .legend .allow { fill: var(--allow); background: var(--allow); }
svg .deny, .legend .deny { fill: var(--deny); background: var(--deny); }
svg .error, .legend .error { fill: var(--warn); background: var(--warn); }
.legend { display: flex; gap: 14px; font-size: 12px; color: var(--ink-2); margin: 0 0 6px; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
.muted { color: var(--muted); font-size: 13px; }
</style>
</head>
<body>
<header>
<h1>askmesh audit report</h1>
<p>Period: {{.R.Period}} · generated {{.Generated}}</p>
</header>
<main>
<section>
<h2>Summary</h2>
<div class="kpis">
  <div class="kpi" id="kpi-calls"><b>{{.R.Totals.Calls}}</b><span>calls</span></div>
  <div class="kpi" id="kpi-allowed"><b>{{.R.Totals.Allowed}}</b><span>accesses (allowed)</span></div>
  <div class="kpi" id="kpi-denied"><b>{{.R.Totals.Denied}}</b><span>denials</span></div>
  <div class="kpi" id="kpi-errors"><b>{{.R.Totals.Errors}}</b><span>errors</span></div>
  <div class="kpi" id="kpi-users"><b>{{.R.Users}}</b><span>users</span></div>
  <div class="kpi" id="kpi-pii"><b>{{.R.Totals.PIIAccesses}}</b><span>pii accesses</span></div>
</div>
<p class="chain {{if .R.Chain.OK}}ok{{else}}bad{{end}}" id="chain">Hash chain {{.R.ChainStatus}}</p>
{{if .R.Totals.Calls}}<p class="muted">First record {{time .R.Totals.First}} UTC, last {{time .R.Totals.Last}} UTC.</p>{{end}}
</section>

{{define "legend"}}<p class="legend"><span><i class="allow"></i>allowed</span><span><i class="deny"></i>denied</span><span><i class="error"></i>errors</span></p>{{end}}
{{define "hbar"}}<svg viewBox="0 0 {{f .Width}} {{f .Height}}" role="img">
{{range .Ticks}}<line class="grid" x1="{{f .X}}" x2="{{f .X}}" y1="0" y2="{{f $.Bottom}}"/><text x="{{f .X}}" y="{{f .Y}}" text-anchor="middle">{{.Label}}</text>
{{end}}{{range .Bars}}<text class="label" x="{{f $.LabelW}}" dx="-8" y="{{f .TextY}}" text-anchor="end">{{.Label}}</text>
{{range .Segs}}<rect class="{{.Class}}" x="{{f .X}}" y="{{f .Y}}" width="{{f .W}}" height="{{f .H}}"><title>{{.Title}}</title></rect>{{end}}
<text x="{{f .TotalX}}" y="{{f .TextY}}">{{.Total}}</text>
{{end}}</svg>{{end}}

<section>
<h2>Calls per product</h2>
{{template "legend"}}
{{if .R.Products}}{{template "hbar" .Products}}{{else}}<p class="muted">No calls in this period.</p>{{end}}
<table id="products">
<thead><tr><th>Product</th><th class="num">Calls</th><th class="num">Accesses</th><th class="num">Denials</th><th class="num">Errors</th><th class="num">PII accesses</th><th class="num">Users</th><th>First</th><th>Last</th></tr></thead>
<tbody>{{range .R.Products}}<tr><td>{{.Name}}</td><td class="num">{{.Calls}}</td><td class="num">{{.Allowed}}</td><td class="num{{if .Denied}} deny{{end}}">{{.Denied}}</td><td class="num">{{.Errors}}</td><td class="num">{{.PIIAccesses}}</td><td class="num">{{.Others}}</td><td>{{time .First}}</td><td>{{time .Last}}</td></tr>
{{end}}</tbody>
</table>
</section>

<section>
<h2>Calls per user</h2>
{{template "legend"}}
{{if .R.Subjects}}{{template "hbar" .Subjects}}{{end}}
<table id="users">
<thead><tr><th>User</th><th class="num">Calls</th><th class="num">Accesses</th><th class="num">Denials</th><th class="num">Errors</th><th class="num">PII accesses</th><th class="num">Products</th><th>First</th><th>Last</th></tr></thead>
<tbody>{{range .R.Subjects}}<tr><td>{{.Name}}</td><td class="num">{{.Calls}}</td><td class="num">{{.Allowed}}</td><td class="num{{if .Denied}} deny{{end}}">{{.Denied}}</td><td class="num">{{.Errors}}</td><td class="num">{{.PIIAccesses}}</td><td class="num">{{.Others}}</td><td>{{time .First}}</td><td>{{time .Last}}</td></tr>
{{end}}</tbody>
</table>
</section>

<section>
<h2>Calls per day (UTC)</h2>
{{template "legend"}}
{{if .R.Days}}<svg viewBox="0 0 {{f .Days.Width}} {{f .Days.Height}}" role="img">
{{range .Days.Ticks}}<line class="grid" x1="{{f $.Days.Left}}" x2="{{f $.Days.Width}}" y1="{{f .Y}}" y2="{{f .Y}}"/><text x="{{f .X}}" y="{{f .Y}}" dy="4" text-anchor="end">{{.Label}}</text>
{{end}}<line class="axis" x1="{{f .Days.Left}}" x2="{{f .Days.Width}}" y1="{{f .Days.Base}}" y2="{{f .Days.Base}}"/>
{{range .Days.Cols}}<g><title>{{.Title}}</title>{{range .Segs}}<rect class="{{.Class}}" x="{{f .X}}" y="{{f .Y}}" width="{{f .W}}" height="{{f .H}}"/>{{end}}</g>{{if .Label}}<text x="{{f .LabelX}}" y="{{f $.Days.Base}}" dy="16" text-anchor="middle">{{.Label}}</text>{{end}}
{{end}}</svg>{{else}}<p class="muted">No calls in this period.</p>{{end}}
</section>

<section>
<h2>PII accesses</h2>
<p class="muted">Allowed calls that returned a personal (pii) column, masked or not.</p>
{{if .R.PII}}<table id="pii">
<thead><tr><th>User</th><th>Product</th><th class="num">Calls</th><th>Columns</th><th>Masked</th><th>First</th><th>Last</th></tr></thead>
<tbody>{{range .R.PII}}<tr><td>{{.Subject}}</td><td>{{.Product}}</td><td class="num">{{.Calls}}</td><td>{{join .Columns}}</td><td>{{join .Masked}}</td><td>{{time .First}}</td><td>{{time .Last}}</td></tr>
{{end}}</tbody>
</table>{{else}}<p class="muted">None in this period.</p>{{end}}
</section>
</main>
</body>
</html>
`))
