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
	if pp, ok := partialBucket(plan.Range, plan.Grain, now); ok {
		whole := textfmt.Period(pp.Period)
		plan.Partial = append(plan.Partial, pp)
		plan.Caveats = append(plan.Caveats, fmt.Sprintf("%s is not over: its figures are for %s so far, %d %s of %d (through %s), not the whole %s",
			whole, whole, pp.Days, textfmt.Plural(pp.Days, "day", "days"), pp.Of, textfmt.Period(pp.Through+".."+pp.Through), plan.Grain))
	}
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
