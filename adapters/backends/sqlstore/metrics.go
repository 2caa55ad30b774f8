package sqlstore

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/tools"
)

// Suffixes of the comparison columns of a metric.
const (
	suffixPrevious  = "_previous"
	suffixChange    = "_change"
	suffixChangePct = "_change_pct"
	unitPercent     = "percent"
)

// QueryMetrics computes declared metrics, grouped by dimensions and a time
// grain, and with CompareTo the same metrics over the comparison range:
// previous value, change and percent change per metric.
func (s *Store) QueryMetrics(ctx context.Context, plan tools.MetricsPlan) (*tools.Result, error) {
	c, ctx, cancel, err := s.begin(ctx, tools.ToolQueryMetrics, plan.Product)
	if err != nil {
		return nil, err
	}
	defer cancel()
	cur, err := compileMetrics(c.d, plan, plan.Range, true)
	if err != nil {
		return nil, c.compileErr(err)
	}
	rows, err := c.run(ctx, cur.stmt, cur.cols)
	if err != nil {
		return nil, err
	}
	res := &tools.Result{Tool: c.tool, Product: c.p.Name}
	if len(rows) > cur.limit {
		rows = rows[:cur.limit]
		res.Notes = append(res.Notes, fmt.Sprintf("only the first %d rows are shown; more groups match", cur.limit))
	}
	if plan.CompareTo == "" {
		res.Columns = metricColumns(cur, false)
		res.Rows, res.RowCount = rows, len(rows)
		return res, nil
	}
	if plan.Compare.IsZero() {
		return nil, c.compileErr(fmt.Errorf("compare_to %s has no comparison range", plan.CompareTo))
	}
	prevQ, err := compileMetrics(c.d, plan, plan.Compare, false)
	if err != nil {
		return nil, c.compileErr(err)
	}
	prevRows, err := c.run(ctx, prevQ.stmt, prevQ.cols)
	if err != nil {
		return nil, err
	}
	m := &matcher{grain: plan.Grain, hasPeriod: plan.Grain != "", nGroup: cur.nGroup, dateCol: timeColumnIsDate(c.p)}
	prev := map[string][]any{}
	for _, r := range prevRows {
		prev[m.key(r, plan.Compare.From)] = r[cur.nGroup:]
	}
	out := make([][]any, len(rows))
	for i, r := range rows {
		p := prev[m.key(r, plan.Range.From)]
		row := append(make([]any, 0, cur.nGroup+4*len(cur.metrics)), r[:cur.nGroup]...)
		for j := range cur.metrics {
			col := cur.cols[cur.nGroup+j]
			var pv any
			if p != nil {
				pv = p[j]
			}
			change, pct := compare(r[cur.nGroup+j], pv, col)
			row = append(row, r[cur.nGroup+j], pv, change, pct)
		}
		out[i] = row
	}
	res.Columns = metricColumns(cur, true)
	res.Rows, res.RowCount = out, len(out)
	return res, nil
}

// metricColumns describes a metrics result's columns.
func metricColumns(q *metricsQuery, compared bool) []tools.ResultColumn {
	var out []tools.ResultColumn
	for _, c := range q.cols[:q.nGroup] {
		role := tools.RoleDimension
		if c.kind == kindPeriod {
			role = tools.RolePeriod
		}
		out = append(out, tools.ResultColumn{Name: c.name, Type: c.typ, Role: role})
	}
	for j, m := range q.metrics {
		typ := q.cols[q.nGroup+j].typ
		out = append(out, tools.ResultColumn{Name: m.Name, Type: typ, Role: tools.RoleMetric, Unit: m.Unit})
		if compared {
			out = append(out,
				tools.ResultColumn{Name: m.Name + suffixPrevious, Type: typ, Role: tools.RolePrevious, Metric: m.Name, Unit: m.Unit},
				tools.ResultColumn{Name: m.Name + suffixChange, Type: typ, Role: tools.RoleChange, Metric: m.Name, Unit: m.Unit},
				tools.ResultColumn{Name: m.Name + suffixChangePct, Type: catalog.TypeNumber, Role: tools.RoleChangePct, Metric: m.Name, Unit: unitPercent})
		}
	}
	return out
}

// compare computes the absolute and percent change from prev to cur, from
// the values as shown (already rounded), so the three agree on screen.
// Both are nil when either value is missing; the percentage also when prev
// is zero.
func compare(cur, prev any, c outCol) (change, pct any) {
	if cur == nil || prev == nil {
		return nil, nil
	}
	if c.kind == kindMetricInt {
		a, b := cur.(int64), prev.(int64)
		change = a - b
		if b != 0 {
			pct = roundTo(float64(a-b)/float64(b)*100, 2)
		}
		return change, pct
	}
	a, b := cur.(float64), prev.(float64)
	change = roundTo(a-b, c.precision)
	if b != 0 {
		pct = roundTo((a-b)/b*100, 2)
	}
	return change, pct
}

// matcher pairs rows of the current and comparison results: by their
// dimension values and, with a grain, by the bucket's position in its range
// (bucket i of the current range with bucket i of the comparison range).
type matcher struct {
	grain     string
	hasPeriod bool
	nGroup    int
	dateCol   bool
}

func (m *matcher) key(row []any, from time.Time) string {
	var b strings.Builder
	for i, v := range row[:m.nGroup] {
		if i == 0 && m.hasPeriod {
			b.WriteString(strconv.Itoa(m.ordinal(v, from)))
		} else {
			fmt.Fprintf(&b, "%T:%v", v, v)
		}
		b.WriteByte(0)
	}
	return b.String()
}

// ordinal is the position of a period (bucket start, YYYY-MM-DD) among the
// buckets of a range starting at from.
func (m *matcher) ordinal(period any, from time.Time) int {
	s, _ := period.(string)
	p, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return math.MinInt // unmatchable
	}
	if m.dateCol {
		from = ceilDay(from) // a date column's first day in the range
	}
	base := bucketStart(from.UTC(), m.grain)
	switch m.grain {
	case tools.GrainDay:
		return int(math.Round(p.Sub(base).Hours() / 24))
	case tools.GrainWeek:
		return int(math.Round(p.Sub(base).Hours()/24)) / 7
	case tools.GrainMonth:
		return monthIndex(p) - monthIndex(base)
	case tools.GrainQuarter:
		return (monthIndex(p) - monthIndex(base)) / 3
	}
	return p.Year() - base.Year()
}

func monthIndex(t time.Time) int { return t.Year()*12 + int(t.Month()) - 1 }

// bucketStart is the first day of the grain bucket holding t (UTC), as the
// SQL buckets compute it; weeks start on Monday.
func bucketStart(t time.Time, grain string) time.Time {
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch grain {
	case tools.GrainWeek:
		return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	case tools.GrainMonth:
		return day.AddDate(0, 0, 1-day.Day())
	case tools.GrainQuarter:
		return time.Date(t.Year(), time.Month((int(t.Month())-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
	case tools.GrainYear:
		return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return day
}

func timeColumnIsDate(p *catalog.Product) bool {
	c, ok := p.Column(p.TimeColumn)
	return ok && c.Type == catalog.TypeDate
}

// Names of the columns find_anomalies adds.
const (
	colGroupMean    = "group_mean"
	colStdDevsAbove = "std_devs_above"
)

// FindAnomalies returns records in the range whose anomaly column exceeds
// their group's mean by more than the product's number of standard
// deviations, most unusual first, with the group mean and how many standard
// deviations above it each is.
func (s *Store) FindAnomalies(ctx context.Context, plan tools.AnomaliesPlan) (*tools.Result, error) {
	c, ctx, cancel, err := s.begin(ctx, tools.ToolFindAnomalies, plan.Product)
	if err != nil {
		return nil, err
	}
	defer cancel()
	q, err := compileAnomalies(c.d, plan)
	if err != nil {
		return nil, c.compileErr(err)
	}
	rows, err := c.run(ctx, q.stmt, q.cols)
	if err != nil {
		return nil, err
	}
	n := len(q.cols) - 3 // the requested columns; value, mean and variance follow
	for i, r := range rows {
		x, _ := r[n].(float64)
		mean, _ := r[n+1].(float64)
		variance, _ := r[n+2].(float64)
		devs := 0.0
		if variance > 0 {
			devs = (x - mean) / math.Sqrt(variance)
		}
		rows[i] = append(r[:n:n], roundTo(mean, decimalPlaces), roundTo(devs, decimalPlaces))
	}
	spec := c.p.Anomalies
	cols := append(recordColumns(q.cols[:n]),
		tools.ResultColumn{Name: colGroupMean, Type: catalog.TypeNumber},
		tools.ResultColumn{Name: colStdDevsAbove, Type: catalog.TypeNumber})
	note := fmt.Sprintf("records whose %s is more than %g standard deviations above the mean of their %s", spec.Column, spec.StdDevs, spec.GroupBy)
	if spec.GroupBy == "" {
		note = fmt.Sprintf("records whose %s is more than %g standard deviations above the mean", spec.Column, spec.StdDevs)
	}
	return &tools.Result{Tool: c.tool, Product: c.p.Name, Columns: cols, Rows: rows, RowCount: len(rows), Notes: []string{note}}, nil
}
