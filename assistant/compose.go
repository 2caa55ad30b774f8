package assistant

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/askmesh/askmesh/internal/textfmt"
	"github.com/askmesh/askmesh/tools"
)

// ModelView is a tool result as ForModel renders it for a model; a model
// that reads results back (the offline planner) decodes this.
type ModelView struct {
	Product      string                    `json:"product,omitempty"`
	Columns      []string                  `json:"columns,omitempty"`
	Rows         [][]any                   `json:"rows,omitempty"`
	RowCount     int                       `json:"row_count"`
	TotalCount   *int64                    `json:"total_count,omitempty"`
	NextCursor   string                    `json:"next_cursor,omitempty"`
	TimeRange    string                    `json:"time_range,omitempty"`
	CompareRange string                    `json:"compare_range,omitempty"`
	Products     []tools.ProductSummary    `json:"products,omitempty"`
	Description  *tools.ProductDescription `json:"description,omitempty"`
	Masked       map[string]string         `json:"masked,omitempty"`
	Notes        []string                  `json:"notes,omitempty"`
	// Units maps a metric to the column holding each row's unit (currency)
	// when its amounts are in several units and the executor broke them
	// down by it; Caveats are the notes the answer must repeat.
	Units map[string]string `json:"units,omitempty"`
	// Metrics define the metrics computed, so the model can say which
	// metric each number is.
	Metrics   []tools.MetricDescription `json:"metrics,omitempty"`
	Caveats   []string                  `json:"caveats,omitempty"`
	Truncated string                    `json:"truncated,omitempty"`
}

// ForModel renders a tool result as the model sees it: compact JSON, at most
// maxRows rows and maxBytes bytes, with a note when it was cut, so a large
// result can neither blow the context window nor silently look complete.
func ForModel(res *tools.Result, maxRows, maxBytes int) string {
	v := ModelView{Product: res.Product, RowCount: res.RowCount, TotalCount: res.TotalCount, NextCursor: res.NextCursor,
		Products: res.Products, Description: res.Description, Masked: res.Masked, Notes: res.Notes,
		TimeRange: rangeText(res.TimeRange), CompareRange: rangeText(res.CompareRange)}
	for _, c := range res.Columns {
		v.Columns = append(v.Columns, c.Name)
		if c.Role == tools.RoleMetric && c.UnitColumn != "" {
			if v.Units == nil {
				v.Units = map[string]string{}
			}
			v.Units[c.Name] = c.UnitColumn
		}
	}
	v.Caveats, v.Metrics = res.Caveats, res.Metrics
	rows := res.Rows
	if len(rows) > maxRows {
		rows = rows[:maxRows]
	}
	for {
		v.Rows = rows
		if len(rows) < len(res.Rows) {
			v.Truncated = fmt.Sprintf("showing %d of %d rows; the person sees all of them in the answer's table", len(rows), len(res.Rows))
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprintf(`{"error":"result could not be encoded: %v"}`, err)
		}
		if len(b) <= maxBytes || len(rows) == 0 {
			return string(b)
		}
		rows = rows[:len(rows)/2]
	}
}

// rangeText shows a half-open range as inclusive dates, as people say them.
func rangeText(r *tools.Range) string {
	if r == nil || r.IsZero() {
		return ""
	}
	b := make([]byte, 0, 48) // one allocation, the string
	if !r.From.IsZero() {
		b = r.From.AppendFormat(b, "2006-01-02")
	}
	b = append(b, ".."...)
	if !r.To.IsZero() {
		if r.To.Hour() != 0 || r.To.Minute() != 0 || r.To.Second() != 0 {
			b = r.To.AppendFormat(b, "2006-01-02T15:04:05Z")
		} else {
			b = r.To.AddDate(0, 0, -1).AppendFormat(b, "2006-01-02")
		}
	}
	return string(b)
}

// resultsInOrder lists the results of an answer's calls in call order.
func resultsInOrder(calls []ToolCallRecord, results map[string]*tools.Result) []*tools.Result {
	out := make([]*tools.Result, 0, len(calls))
	for _, c := range calls {
		out = append(out, results[c.ID])
	}
	return out
}

// compose derives the answer's tables, charts and sources from the tool
// results, in call order. Numbers shown to people come from here, never from
// the model's text.
func compose(ans *Answer, results map[string]*tools.Result) {
	for _, call := range ans.ToolCalls {
		res, ok := results[call.ID]
		if !ok || call.Decision != "allow" {
			continue
		}
		src := Source{Product: res.Product, Tool: call.Tool, Arguments: call.Arguments, AuditID: call.AuditID, TimeRange: res.TimeRange}
		ans.Sources = append(ans.Sources, src)
		if len(res.Rows) == 0 || len(res.Columns) == 0 {
			continue
		}
		t := Table{Title: tableTitle(res), Columns: res.Columns, Rows: res.Rows, Display: DisplayRows(res.Columns, res.Rows),
			TotalRows: int64(len(res.Rows)), Source: src, Notes: res.Notes}
		if res.TotalCount != nil {
			t.TotalRows = *res.TotalCount
		}
		ans.Tables = append(ans.Tables, t)
		if ch, ok := chartFor(res, src); ok {
			if ch.Unit == "ratio" { // rates are read as percentages everywhere
				ch.Unit = "%"
				for i := range ch.Series {
					for j := range ch.Series[i].Points {
						ch.Series[i].Points[j].Y = math.Round(ch.Series[i].Points[j].Y*1e6) / 1e4
					}
				}
			}
			ans.Charts = append(ans.Charts, ch)
		}
	}
	ans.Computed = computations(ans.ToolCalls, results)
}

func tableTitle(res *tools.Result) string {
	title := res.Product
	if r := textfmt.Period(rangeText(res.TimeRange)); r != "" {
		title += " · " + r // as people say it: October 2026
	}
	return title
}

// chartFor picks a chart for a metrics result: a line over periods, bars
// over one dimension, or current-versus-previous bars for a comparison.
func chartFor(res *tools.Result, src Source) (Chart, bool) {
	if res.Tool != tools.ToolQueryMetrics {
		return Chart{}, false
	}
	var period, metric, previous = -1, -1, -1
	var dims []int
	for i, c := range res.Columns {
		switch c.Role {
		case tools.RolePeriod:
			period = i
		case tools.RoleDimension:
			dims = append(dims, i)
		case tools.RoleMetric:
			if metric < 0 {
				metric = i
			}
		case tools.RolePrevious:
			if previous < 0 && metric >= 0 && c.Metric == res.Columns[metric].Name {
				previous = i
			}
		}
	}
	if metric < 0 {
		return Chart{}, false
	}
	m := res.Columns[metric]
	ch := Chart{Title: strings.ReplaceAll(m.Name, "_", " ") + " · " + res.Product, YLabel: m.Name, Unit: m.Unit, Source: src}
	switch {
	case period >= 0 && len(res.Rows) >= 2:
		ch.Kind, ch.XLabel = ChartLine, "period"
		series := map[string]*Series{}
		var order []string
		for _, row := range res.Rows {
			name := m.Name
			if len(dims) > 0 {
				// Every dimension names the line: amounts per currency
				// are never drawn as one line.
				parts := make([]string, len(dims))
				for k, d := range dims {
					parts[k] = fmt.Sprint(row[d])
				}
				name = strings.Join(parts, " / ")
			}
			s, ok := series[name]
			if !ok {
				if len(order) == 8 { // more lines than a person can read
					continue
				}
				s = &Series{Name: name}
				series[name] = s
				order = append(order, name)
			}
			if y, ok := numberOf(row[metric]); ok {
				x := fmt.Sprint(row[period])
				s.Points = append(s.Points, Point{X: x, Y: y, Partial: PartialBucket(res, x)})
			}
		}
		for _, name := range order {
			sort.Slice(series[name].Points, func(i, j int) bool { return series[name].Points[i].X < series[name].Points[j].X })
			ch.Series = append(ch.Series, *series[name])
		}
		if len(order) > 1 && (m.Unit == "count" || m.Unit == "amount") {
			// A breakdown over time is bars per period: stacked when the
			// parts add up, side by side when they are amounts in
			// different currencies, which never add up.
			ch.Kind, ch.Stacked = ChartBar, m.UnitColumn == ""
		}
	case len(dims) == 1 && len(res.Rows) >= 2:
		ch.Kind, ch.XLabel = ChartBar, res.Columns[dims[0]].Name
		s := Series{Name: m.Name}
		for _, row := range res.Rows {
			if y, ok := numberOf(row[metric]); ok {
				s.Points = append(s.Points, Point{X: fmt.Sprint(row[dims[0]]), Y: y})
			}
		}
		ch.Series = []Series{s}
	case len(dims) == 0 && previous >= 0 && len(res.Rows) == 1 && res.CompareRange != nil:
		ch.Kind, ch.XLabel = ChartBar, "period"
		s := Series{Name: m.Name}
		if y, ok := numberOf(res.Rows[0][previous]); ok {
			s.Points = append(s.Points, Point{X: rangeText(res.CompareRange), Y: y})
		}
		if y, ok := numberOf(res.Rows[0][metric]); ok {
			s.Points = append(s.Points, Point{X: rangeText(res.TimeRange), Y: y})
		}
		ch.Series = []Series{s}
	default:
		return Chart{}, false
	}
	return ch, len(ch.Series) > 0
}

// PartialBucket says whether the period bucket x (its first day) of a
// result is not over yet.
func PartialBucket(res *tools.Result, x string) bool {
	for _, pp := range res.Partial {
		if pp.Bucket != "" && pp.Bucket == x {
			return true
		}
	}
	return false
}

// WithCaveats appends to text each caveat of the results it does not
// already say: amounts broken down by currency, a period not over yet.
// Whatever model wrote the text, the person reads them with the numbers.
func WithCaveats(text string, results ...*tools.Result) string {
	lower := strings.ToLower(text)
	var add []string
	for _, res := range results {
		if res == nil {
			continue
		}
		for _, c := range res.Caveats {
			if strings.Contains(lower, strings.ToLower(c)) || slices.Contains(add, c) {
				continue
			}
			add = append(add, c)
		}
	}
	// "Q4 2026 is not over: ..." said by one call is said again, with
	// "; compared like for like ...", by another: once, the longer.
	add = slices.DeleteFunc(add, func(c string) bool {
		return slices.ContainsFunc(add, func(d string) bool { return strings.HasPrefix(d, c+";") })
	})
	if len(add) == 0 {
		return text
	}
	var b strings.Builder
	b.WriteString(text)
	for _, c := range add {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString("Note: " + strings.ToUpper(c[:1]) + c[1:] + ".")
	}
	return b.String()
}
