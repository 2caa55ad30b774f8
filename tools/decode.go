package tools

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/askmesh/askmesh/catalog"
)

// This file turns decoded arguments into plans: every name is checked
// against the catalog, every value converted to its column's type, and every
// time range resolved. Errors name what is wrong and what would be right.

func argErr(format string, a ...any) error { return fmt.Errorf(format, a...) }

// lookupProduct finds a product and checks it offers what the tool needs.
// A product that lacks the capability is returned with the error, so the
// executor can authorize the call before saying what the product offers.
func lookupProduct(reg Catalog, name, capability, tool string) (*catalog.Product, error) {
	p, ok := reg.Get(name)
	if !ok {
		return nil, &unknownProduct{name: name, reg: reg}
	}
	if capability != "" && !p.Has(capability) {
		msg := fmt.Sprintf("%s is not available for %s; it offers %s", tool, p.Name, strings.Join(p.Capabilities, ", "))
		return p, hint("", func(view) string { return msg })
	}
	return p, nil
}

// unknownProduct is a name no product of the catalog has.
type unknownProduct struct {
	name string
	reg  Catalog
}

func (e *unknownProduct) Error() string { return e.message(func(string) bool { return true }) }

// message suggests the closest product name, if the asker may describe it.
func (e *unknownProduct) message(describable func(name string) bool) string {
	names := make([]string, 0, 8)
	for _, q := range e.reg.List() {
		names = append(names, q.Name)
	}
	if s, ok := catalog.Closest(e.name, names); ok && describable(s) {
		return fmt.Sprintf("unknown product %q; did you mean %q?", e.name, s)
	}
	return fmt.Sprintf("unknown product %q; use search_data_products to find product names", e.name)
}

func checkColumns(p *catalog.Product, names []string) ([]string, error) {
	if len(names) == 0 {
		return p.ColumnNames(), nil
	}
	seen := make(map[string]bool, len(names))
	out := make([]string, 0, len(names))
	for _, n := range names {
		if _, ok := p.Column(n); !ok {
			return nil, unknownColumn(p, n)
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}

// conditions converts filters to typed conditions.
func conditions(p *catalog.Product, filters []Filter) ([]Condition, error) {
	out := make([]Condition, 0, len(filters))
	for _, f := range filters {
		cs, err := condition(p, f.Column, f.Op, f.Value)
		if _, known := p.Column(f.Column); err != nil && known {
			return nil, about(f.Column, err)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	return out, nil
}

// condition converts one filter. A date compared for equality with a
// timestamp column means that whole day, so it becomes two conditions.
func condition(p *catalog.Product, column, op string, value any) ([]Condition, error) {
	col, ok := p.Column(column)
	if !ok {
		return nil, unknownColumn(p, column)
	}
	op = strings.ToLower(strings.Join(strings.Fields(op), " "))
	switch op {
	case "==", "eq", "equals":
		op = OpEq
	case "<>", "ne":
		op = OpNe
	case "not_in":
		op = OpNotIn
	case "is_null":
		op = OpIsNull
	case "is_not_null":
		op = OpIsNotNull
	}
	if !slices.Contains(Ops, op) {
		return nil, argErr("filter on %s: unknown op %q; ops are %s", column, op, strings.Join(Ops, ", "))
	}
	switch op {
	case OpIsNull, OpIsNotNull:
		if value != nil {
			return nil, argErr("filter on %s: %q takes no value", column, op)
		}
		return []Condition{{Column: column, Op: op}}, nil
	case OpIn, OpNotIn, OpBetween:
		list, ok := value.([]any)
		if !ok {
			return nil, argErr("filter on %s: %q needs a list value", column, op)
		}
		if op == OpBetween && len(list) != 2 {
			return nil, argErr("filter on %s: between needs exactly two values [low, high], got %d", column, len(list))
		}
		if len(list) == 0 || len(list) > MaxLimit {
			return nil, argErr("filter on %s: %q needs between 1 and %d values, got %d", column, op, MaxLimit, len(list))
		}
		vals := make([]any, len(list))
		for i, v := range list {
			c, err := convert(p, col, op, v)
			if err != nil {
				return nil, err
			}
			vals[i] = c
		}
		return []Condition{{Column: column, Op: op, Value: vals}}, nil
	case OpContains:
		if col.Type != catalog.TypeString {
			return nil, argErr("filter on %s: contains works on text columns; %s is %s", column, column, col.Type)
		}
		s, ok := value.(string)
		if !ok || s == "" {
			return nil, argErr("filter on %s: contains needs a non-empty text value", column)
		}
		return []Condition{{Column: column, Op: op, Value: s}}, nil
	}
	if value == nil {
		return nil, argErr("filter on %s: %q needs a value", column, op)
	}
	if _, isList := value.([]any); isList {
		return nil, argErr("filter on %s: %q compares with one value; use in for a list", column, op)
	}
	v, err := convert(p, col, op, value)
	if err != nil {
		return nil, err
	}
	// occurred_at = 2026-10-05 means that day, not its first instant.
	if s, ok := value.(string); ok && col.Type == catalog.TypeTimestamp && op == OpEq && isoDay.MatchString(strings.TrimSpace(s)) {
		day := v.(time.Time)
		return []Condition{{Column: column, Op: OpGe, Value: day}, {Column: column, Op: OpLt, Value: day.AddDate(0, 0, 1)}}, nil
	}
	return []Condition{{Column: column, Op: op, Value: v}}, nil
}

// convert turns a JSON value into the column's Go type.
func convert(p *catalog.Product, col catalog.Column, op string, v any) (any, error) {
	bad := func(want string) error {
		return argErr("filter on %s: %s is %s; %v is not", col.Name, col.Name, want, jsonText(v))
	}
	switch col.Type {
	case catalog.TypeString:
		var s string
		switch t := v.(type) {
		case string:
			s = t
		case float64: // an account number sent as a JSON number
			if t != math.Trunc(t) || math.Abs(t) > 1e15 {
				return nil, bad("text")
			}
			s = strconv.FormatInt(int64(t), 10)
		default:
			return nil, bad("text")
		}
		if len(s) > 1000 {
			return nil, argErr("filter on %s: value is longer than 1000 characters", col.Name)
		}
		if len(col.Values) > 0 && (op == OpEq || op == OpNe || op == OpIn || op == OpNotIn) {
			for _, known := range col.Values {
				if strings.EqualFold(known, s) {
					return known, nil
				}
			}
			return nil, notAValue(p, col, s)
		}
		return s, nil
	case catalog.TypeInteger:
		switch t := v.(type) {
		case float64:
			if t != math.Trunc(t) || math.Abs(t) > 1<<53 {
				return nil, bad("a whole number")
			}
			return int64(t), nil
		case string:
			n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
			if err != nil {
				return nil, bad("a whole number")
			}
			return n, nil
		}
		return nil, bad("a whole number")
	case catalog.TypeNumber:
		switch t := v.(type) {
		case float64:
			return t, nil
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, bad("a number")
			}
			return f, nil
		}
		return nil, bad("a number")
	case catalog.TypeBoolean:
		switch t := v.(type) {
		case bool:
			return t, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(t)) {
			case "true", "yes":
				return true, nil
			case "false", "no":
				return false, nil
			}
		}
		return nil, bad("true or false")
	case catalog.TypeDate, catalog.TypeTimestamp:
		s, ok := v.(string)
		if !ok {
			return nil, bad("a date (YYYY-MM-DD) or an RFC 3339 time")
		}
		s = strings.TrimSpace(s)
		if t, err := time.Parse("2006-01-02", s); err == nil {
			return t, nil
		}
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t.UTC(), nil
		}
		return nil, bad("a date (YYYY-MM-DD) or an RFC 3339 time")
	}
	return nil, argErr("filter on %s: columns of type %s cannot be filtered", col.Name, col.Type)
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func timeRange(p *catalog.Product, s string, now time.Time) (Range, error) {
	if strings.TrimSpace(s) == "" {
		return Range{}, nil
	}
	if p.TimeColumn == "" {
		return Range{}, argErr("%s has no time column, so time_range cannot be used", p.Name)
	}
	r, err := ResolveTimeRange(s, now)
	if err != nil {
		return Range{}, argErr("%v", err)
	}
	return r, nil
}

func limit(n, def int, notes *[]string) int {
	switch {
	case n <= 0:
		return def
	case n > MaxLimit:
		*notes = append(*notes, fmt.Sprintf("limit %d lowered to the maximum of %d", n, MaxLimit))
		return MaxLimit
	}
	return n
}

func sorts(order []OrderBy, valid func(string) bool, what func() string) ([]Sort, error) {
	out := make([]Sort, 0, len(order))
	for _, o := range order {
		if !valid(o.Field) {
			return nil, argErr("cannot order by %q; order by %s", o.Field, what())
		}
		switch strings.ToLower(o.Direction) {
		case "", "asc":
			out = append(out, Sort{Field: o.Field})
		case "desc":
			out = append(out, Sort{Field: o.Field, Desc: true})
		default:
			return nil, argErr("order_by direction %q is not asc or desc", o.Direction)
		}
	}
	return out, nil
}

func recordsPlan(p *catalog.Product, a QueryRecordsArgs, now time.Time, notes *[]string) (RecordsPlan, error) {
	cols, err := checkColumns(p, a.Columns)
	if err != nil {
		return RecordsPlan{}, err
	}
	conds, err := conditions(p, a.Filters)
	if err != nil {
		return RecordsPlan{}, err
	}
	r, err := timeRange(p, a.TimeRange, now)
	if err != nil {
		return RecordsPlan{}, err
	}
	order, err := sorts(a.OrderBy, func(f string) bool { _, ok := p.Column(f); return ok },
		func() string { return "a column of " + p.Name })
	if err != nil {
		return RecordsPlan{}, err
	}
	return RecordsPlan{Product: p, Columns: cols, Filters: conds, Range: r, Order: order, Limit: limit(a.Limit, DefaultLimit, notes)}, nil
}

func metricsPlan(p *catalog.Product, a QueryMetricsArgs, now time.Time, notes *[]string) (MetricsPlan, error) {
	if len(a.Metrics) == 0 {
		return MetricsPlan{}, argErr("metrics is empty; %s defines %s", p.Name, strings.Join(p.MetricNames(), ", "))
	}
	metrics := make([]string, 0, len(a.Metrics))
	for _, m := range a.Metrics {
		if _, ok := p.Metric(m); !ok {
			if s, ok := catalog.Closest(m, p.MetricNames()); ok {
				return MetricsPlan{}, argErr("metric %q is not defined for %s; did you mean %q? defined: %s", m, p.Name, s, strings.Join(p.MetricNames(), ", "))
			}
			return MetricsPlan{}, argErr("metric %q is not defined for %s; defined: %s", m, p.Name, strings.Join(p.MetricNames(), ", "))
		}
		if !slices.Contains(metrics, m) {
			metrics = append(metrics, m)
		}
	}
	var group []string
	for _, g := range a.GroupBy {
		if _, ok := p.Column(g); !ok {
			return MetricsPlan{}, unknownColumn(p, g)
		}
		if !p.IsDimension(g) {
			return MetricsPlan{}, notADimension(p, g)
		}
		if !slices.Contains(group, g) {
			group = append(group, g)
		}
	}
	conds, err := conditions(p, a.Filters)
	if err != nil {
		return MetricsPlan{}, err
	}
	group, units := unitBreakdown(p, metrics, group, conds)
	r, err := timeRange(p, a.TimeRange, now)
	if err != nil {
		return MetricsPlan{}, err
	}
	plan := MetricsPlan{Product: p, Metrics: metrics, GroupBy: group, Filters: conds, Range: r, Caveats: units}
	if a.TimeGrain != "" {
		if p.TimeColumn == "" {
			return MetricsPlan{}, argErr("%s has no time column, so time_grain cannot be used", p.Name)
		}
		plan.Grain = strings.ToLower(a.TimeGrain)
	}
	if a.CompareTo != "" {
		if r.IsZero() {
			return MetricsPlan{}, argErr("compare_to needs a time_range, e.g. last_month")
		}
		cmp, err := CompareRange(a.TimeRange, now, a.CompareTo)
		if err != nil {
			return MetricsPlan{}, argErr("%v", err)
		}
		plan.CompareTo, plan.Compare = a.CompareTo, cmp
	}
	partials(&plan, a.TimeRange, now)
	valid := func(f string) bool {
		return slices.Contains(metrics, f) || slices.Contains(group, f) || (f == "period" && plan.Grain != "")
	}
	plan.Order, err = sorts(a.OrderBy, valid, func() string {
		opts := append(append([]string{}, metrics...), group...)
		if plan.Grain != "" {
			opts = append(opts, "period")
		}
		return "one of " + strings.Join(opts, ", ")
	})
	if err != nil {
		return MetricsPlan{}, err
	}
	plan.Limit = limit(a.Limit, DefaultLimit, notes)
	return plan, nil
}

func anomaliesPlan(p *catalog.Product, a FindAnomaliesArgs, now time.Time, notes *[]string) (AnomaliesPlan, error) {
	if p.Anomalies == nil {
		return AnomaliesPlan{}, argErr("%s does not declare anomaly detection", p.Name)
	}
	conds, err := conditions(p, a.Filters)
	if err != nil {
		return AnomaliesPlan{}, err
	}
	r, err := timeRange(p, a.TimeRange, now)
	if err != nil {
		return AnomaliesPlan{}, err
	}
	return AnomaliesPlan{Product: p, Columns: p.ColumnNames(), Filters: conds, Range: r, Limit: limit(a.Limit, DefaultAnoms, notes)}, nil
}

// cursorBinding ties a cursor to the asker and to the query it pages.
func cursorBinding(subject string, a QueryRecordsArgs) []byte {
	a.Cursor = ""
	b, _ := json.Marshal(a) // struct of plain fields: cannot fail
	h := sha256.New()
	h.Write([]byte(subject))
	h.Write([]byte{0})
	h.Write(b)
	return h.Sum(nil)
}
