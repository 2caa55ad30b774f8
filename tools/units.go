package tools

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/internal/textfmt"
)

// unitBreakdown adds the unit column to group when a metric aggregates an
// amount whose unit varies by row (customer-transactions' amount is in
// EUR, GBP or USD) and no filter pins one unit: a sum across currencies is
// not a number anyone can use. It returns the grouping and the caveat the
// answer must repeat.
func unitBreakdown(p *catalog.Product, metrics, group []string, conds []Condition) ([]string, []string) {
	byColumn := map[string][]string{} // unit column -> metrics over it
	var order []string
	for _, m := range metrics {
		u, ok := p.UnitOf(m)
		if !ok {
			continue
		}
		if _, pinned := pinnedValue(conds, u.UnitColumn); pinned {
			continue
		}
		if _, seen := byColumn[u.UnitColumn]; !seen {
			order = append(order, u.UnitColumn)
		}
		byColumn[u.UnitColumn] = append(byColumn[u.UnitColumn], m)
	}
	var caveats []string
	for _, col := range order {
		what := "units"
		if u, _ := p.UnitOf(byColumn[col][0]); u.Kind == catalog.UnitKindCurrency {
			what = "currencies"
		}
		if !slices.Contains(group, col) {
			group = append(group, col)
		}
		caveats = append(caveats, fmt.Sprintf("%s %s in several %s, so %s broken down by %s, never added up across %s",
			textfmt.Humanize(strings.Join(byColumn[col], " and ")), isAre(len(byColumn[col])), what,
			itThey(len(byColumn[col])), col, what))
	}
	return group, caveats
}

// pinnedValue returns the single value a condition on column allows, when
// the conditions allow only one.
func pinnedValue(conds []Condition, column string) (string, bool) {
	for _, c := range conds {
		if c.Column != column {
			continue
		}
		switch c.Op {
		case OpEq:
			if s, ok := c.Value.(string); ok {
				return s, true
			}
		case OpIn:
			if vs, ok := c.Value.([]any); ok && len(vs) == 1 {
				if s, ok := vs[0].(string); ok {
					return s, true
				}
			}
			if vs, ok := c.Value.([]string); ok && len(vs) == 1 {
				return vs[0], true
			}
		}
	}
	return "", false
}

// markUnits tells renderers where each amount's unit is: the unit column
// of the row, or the one unit a filter pinned.
func markUnits(p *catalog.Product, conds []Condition, res *Result) {
	names := make([]string, len(res.Columns))
	for i, c := range res.Columns {
		names[i] = c.Name
	}
	for i := range res.Columns {
		c := &res.Columns[i]
		metric := c.Name
		switch c.Role {
		case RoleMetric:
		case RolePrevious, RoleChange:
			metric = c.Metric
		default:
			continue
		}
		u, ok := p.UnitOf(metric)
		if !ok {
			continue
		}
		if v, pinned := pinnedValue(conds, u.UnitColumn); pinned {
			c.UnitValue = v
		} else if slices.Contains(names, u.UnitColumn) {
			c.UnitColumn = u.UnitColumn
		}
	}
}

// partials marks the periods of a metrics plan that are not over yet, and
// when comparing, cuts the range at today so the comparison covers the
// same days of the period before (CompareRange cuts it the same way).
func partials(plan *MetricsPlan, timeRange string, now time.Time) {
	if pp, cut, ok := partialRange(timeRange, now); ok {
		whole := textfmt.Period(pp.Period)
		text := fmt.Sprintf("%s is not over: the figures are for %s so far, %d %s of %d (through %s)",
			whole, whole, pp.Days, textfmt.Plural(pp.Days, "day", "days"), pp.Of, textfmt.Period(pp.Through+".."+pp.Through))
		if plan.CompareTo != "" {
			plan.Range.To = cut.To
			pp.Compared = inclusive(plan.Compare.From, plan.Compare.To)
			text += fmt.Sprintf("; compared like for like with the same %d %s of %s", pp.Days, textfmt.Plural(pp.Days, "day", "days"), textfmt.Period(pp.Compared))
		}
		plan.Partial = append(plan.Partial, pp)
		plan.Caveats = append(plan.Caveats, text)
	}
	if plan.Grain == "" {
		return
	}
	pp, ongoing := partialBucket(plan.Range, plan.Grain, now)
	if ongoing {
		whole := textfmt.Period(pp.Period)
		plan.Partial = append(plan.Partial, pp)
		plan.Caveats = append(plan.Caveats, fmt.Sprintf("%s is not over: its figures are for %s so far, %d %s of %d (through %s), not the whole %s",
			whole, whole, pp.Days, textfmt.Plural(pp.Days, "day", "days"), pp.Of, textfmt.Period(pp.Through+".."+pp.Through), plan.Grain))
	}
	// A range that does not start or end on the grain's bounds cuts its
	// first or last period ("November by week": the week of 26 October
	// holds 1 November only), whose figure is then for those days alone.
	for _, cut := range cutBuckets(plan.Range, plan.Grain) {
		if ongoing && cut.bucket == pp.Bucket {
			continue // said above: it is not over
		}
		plan.Caveats = append(plan.Caveats, fmt.Sprintf("%s is cut by the period's %s: its figures are for %d %s of %d (%s), not the whole %s",
			textfmt.Period(inclusive(cut.from, cut.end)), cut.side, cut.days, textfmt.Plural(cut.days, "day", "days"), days(cut.from, cut.end),
			textfmt.Period(inclusive(cut.inFrom, cut.inEnd)), plan.Grain))
	}
}

// cutBucket is a period of a grain that a range holds only part of.
type cutBucket struct {
	side          string    // "start", "end", or "start and end": which bounds of the range cut it
	bucket        string    // its first day, as PartialPeriod.Bucket
	from, end     time.Time // the whole period, end exclusive
	inFrom, inEnd time.Time // the part in the range, end exclusive
	days          int       // days of it in the range
}

// cutBuckets are the first and last periods of grain that r cuts, if any.
func cutBuckets(r Range, grain string) []cutBucket {
	if r.From.IsZero() || r.To.IsZero() || !r.To.After(r.From) {
		return nil
	}
	first, firstEnd, ok := GrainBounds(r.From, grain)
	if !ok {
		return nil
	}
	var out []cutBucket
	if first.Before(r.From) {
		end := firstEnd
		if r.To.Before(end) {
			end = r.To
		}
		out = append(out, cutBucket{side: "start", bucket: first.Format("2006-01-02"), from: first, end: firstEnd,
			inFrom: r.From, inEnd: end, days: days(r.From, end)})
	}
	last, lastEnd, _ := GrainBounds(r.To.AddDate(0, 0, -1), grain)
	if lastEnd.After(r.To) && len(out) == 1 && last.Equal(first) {
		out[0].side = "start and end" // one period, cut on both sides
		return out
	}
	if lastEnd.After(r.To) {
		start := last
		if r.From.After(start) {
			start = r.From
		}
		out = append(out, cutBucket{side: "end", bucket: last.Format("2006-01-02"), from: last, end: lastEnd,
			inFrom: start, inEnd: r.To, days: days(start, r.To)})
	}
	return out
}

// GrainBounds is the period of grain holding t's day (end exclusive);
// false for the day grain, whose periods a range never cuts.
func GrainBounds(t time.Time, grain string) (time.Time, time.Time, bool) {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch grain {
	case GrainWeek:
		from := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
		return from, from.AddDate(0, 0, 7), true
	case GrainMonth:
		from := time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, time.UTC)
		return from, from.AddDate(0, 1, 0), true
	case GrainQuarter:
		from := time.Date(day.Year(), time.Month((int(day.Month())-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
		return from, from.AddDate(0, 3, 0), true
	case GrainYear:
		from := time.Date(day.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
		return from, from.AddDate(1, 0, 0), true
	}
	return time.Time{}, time.Time{}, false
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func itThey(n int) string {
	if n == 1 {
		return "it is"
	}
	return "they are"
}

// markRecordUnits does the same for records: an amount column is in the
// unit its row names (currency), or in the one unit a filter pinned, so
// tables show "EUR 31,200", not a bare number.
func markRecordUnits(p *catalog.Product, conds []Condition, res *Result) {
	for i := range res.Columns {
		c := &res.Columns[i]
		for _, u := range p.Units {
			if u.Column != c.Name {
				continue
			}
			if v, pinned := pinnedValue(conds, u.UnitColumn); pinned {
				c.UnitValue = v
			} else if slices.ContainsFunc(res.Columns, func(rc ResultColumn) bool { return rc.Name == u.UnitColumn }) {
				c.UnitColumn = u.UnitColumn
			}
		}
	}
}
