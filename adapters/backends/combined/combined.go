// Package combined serves products whose metrics combine metrics of other
// products joined on conformed dimensions (backend kind combined): "cost
// per acquired customer by campaign" is marketing's spend divided by
// growth's new customers, per campaign.
//
// Each side runs as its own query_metrics call through the executor, for
// the person asking: authorized, filtered and masked by policy, and audited,
// exactly as if they had asked it themselves. askmesh joins the two results
// itself; no SQL spans two domains' stores. When either side is denied the
// combined metric is denied with every side's reason and no value of the
// allowed side is returned.
package combined

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/tools"
)

// Executor is the door each side goes through (tools.Executor).
type Executor interface {
	Call(ctx context.Context, caller tools.Caller, tc tools.Call) (*tools.Result, error)
}

// Backend computes combined metrics. It is built before the executor it
// calls (the executor needs its backends), so the executor is set later
// with SetExecutor.
type Backend struct {
	mu   sync.RWMutex
	exec Executor
}

var _ tools.Backend = (*Backend)(nil)

// New returns a backend with no executor yet.
func New() *Backend { return &Backend{} }

// SetExecutor sets the executor the sides are called through.
func (b *Backend) SetExecutor(e Executor) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.exec = e
}

// Check verifies every combined product of a catalog against the products
// it combines: the metrics exist and may be queried, and every conformed
// dimension names a dimension column of each side.
func Check(products []*catalog.Product) error {
	byName := map[string]*catalog.Product{}
	for _, p := range products {
		byName[p.Name] = p
	}
	var errs []error
	for _, p := range products {
		if p.Binding.Kind != catalog.BackendCombined {
			continue
		}
		for _, m := range p.Metrics {
			for _, ref := range []catalog.MetricRef{m.Combine.Left, m.Combine.Right} {
				side, ok := byName[ref.Product]
				switch {
				case !ok:
					errs = append(errs, fmt.Errorf("%s: metric %s combines %s, but there is no product %s", p.Name, m.Name, ref, ref.Product))
					continue
				case side.Binding.Kind == catalog.BackendCombined:
					errs = append(errs, fmt.Errorf("%s: metric %s combines %s, itself a combined product", p.Name, m.Name, ref))
					continue
				case !side.Has(catalog.CapMetrics):
					errs = append(errs, fmt.Errorf("%s: %s does not offer metrics", p.Name, side.Name))
				}
				if _, ok := side.Metric(ref.Metric); !ok {
					errs = append(errs, fmt.Errorf("%s: metric %s combines %s, which %s does not define", p.Name, m.Name, ref, side.Name))
				}
				for dim, cols := range p.Join {
					col, ok := cols[side.Name]
					if !ok {
						errs = append(errs, fmt.Errorf("%s: conformed dimension %s has no column in %s", p.Name, dim, side.Name))
					} else if !side.IsDimension(col) {
						errs = append(errs, fmt.Errorf("%s: conformed dimension %s is %s.%s, which is not a dimension of %s", p.Name, dim, side.Name, col, side.Name))
					}
				}
			}
		}
	}
	return errors.Join(errs...)
}

// side is one product's part of a combined query.
type side struct {
	ref    catalog.MetricRef
	args   tools.QueryMetricsArgs
	res    *tools.Result
	denied *tools.DeniedError
	err    error
}

// QueryMetrics runs each side for the caller the executor put in ctx and
// joins them on the plan's period and conformed dimensions.
func (b *Backend) QueryMetrics(ctx context.Context, plan tools.MetricsPlan) (*tools.Result, error) {
	b.mu.RLock()
	exec := b.exec
	b.mu.RUnlock()
	if exec == nil {
		return nil, errors.New("combined metrics: no executor is set")
	}
	caller, ok := tools.CallerFromContext(ctx)
	if !ok {
		return nil, errors.New("combined metrics: the call carries no caller")
	}
	p := plan.Product
	if plan.CompareTo != "" {
		return nil, &tools.DeniedError{Tool: tools.ToolQueryMetrics, Product: p.Name,
			Reason: "compare_to is not available for combined metrics yet; ask for each period"}
	}
	var rng string
	if !plan.Range.IsZero() {
		if rng = plan.Range.Label; rng == "" {
			return nil, errors.New("combined metrics: the time range has no label to pass to each side")
		}
	}
	res := &tools.Result{Tool: tools.ToolQueryMetrics, Product: p.Name}
	var sources []string
	// One column per group (period first), then one per metric.
	if plan.Grain != "" {
		res.Columns = append(res.Columns, tools.ResultColumn{Name: "period", Type: catalog.TypeDate, Role: tools.RolePeriod})
	}
	for _, g := range plan.GroupBy {
		c, _ := p.Column(g)
		res.Columns = append(res.Columns, tools.ResultColumn{Name: g, Type: c.Type, Role: tools.RoleDimension})
	}
	nGroup := len(res.Columns)
	// values[key][metric index] = value; keys in first-seen order.
	values := map[string][]any{}
	groups := map[string][]any{}
	for mi, name := range plan.Metrics {
		m, _ := p.Metric(name)
		res.Columns = append(res.Columns, tools.ResultColumn{Name: m.Name, Type: catalog.TypeNumber, Role: tools.RoleMetric, Unit: m.Unit})
		sides := []*side{{ref: m.Combine.Left}, {ref: m.Combine.Right}}
		for _, s := range sides {
			s.args = tools.QueryMetricsArgs{Product: s.ref.Product, Metrics: []string{s.ref.Metric}, TimeRange: rng,
				TimeGrain: plan.Grain, Limit: tools.MaxLimit}
			for _, g := range plan.GroupBy {
				s.args.GroupBy = append(s.args.GroupBy, p.Join[g][s.ref.Product])
			}
			for _, f := range plan.Filters {
				col, ok := p.Join[f.Column][s.ref.Product]
				if !ok {
					return nil, fmt.Errorf("combined metrics: filter on %s, which is not a conformed dimension", f.Column)
				}
				s.args.Filters = append(s.args.Filters, tools.Filter{Column: col, Op: f.Op, Value: jsonValue(f.Value)})
			}
			raw, err := json.Marshal(s.args)
			if err != nil {
				return nil, err
			}
			s.res, s.err = exec.Call(ctx, caller, tools.Call{Tool: tools.ToolQueryMetrics, Arguments: raw})
			errors.As(s.err, &s.denied)
		}
		// Denied on either side: the combination is denied, naming each
		// side's outcome; the allowed side's values are dropped here.
		var reasons []string
		for _, s := range sides {
			if s.denied != nil {
				reasons = append(reasons, fmt.Sprintf("%s (%s): %s", s.ref.Product, s.ref.Metric, s.denied.Reason))
			}
		}
		if len(reasons) > 0 {
			return nil, &tools.DeniedError{Tool: tools.ToolQueryMetrics, Product: p.Name,
				Reason: fmt.Sprintf("%s combines %s and %s; denied by %s", m.Name, sides[0].ref, sides[1].ref, strings.Join(reasons, "; "))}
		}
		for _, s := range sides {
			if s.err != nil {
				return nil, fmt.Errorf("%s: %w", s.ref.Product, s.err)
			}
			for _, n := range s.res.Notes {
				res.Notes = append(res.Notes, s.ref.Product+": "+n)
			}
			sources = append(sources, fmt.Sprintf("%s (audit %s)", s.ref, s.res.AuditID))
		}
		left, err := index(sides[0].res, nGroup, sides[0].ref.Metric)
		if err != nil {
			return nil, err
		}
		right, err := index(sides[1].res, nGroup, sides[1].ref.Metric)
		if err != nil {
			return nil, err
		}
		for key, row := range left {
			r, ok := right[key]
			if !ok {
				continue // a conformed value only one side has: no combination
			}
			if _, seen := values[key]; !seen {
				values[key] = make([]any, len(plan.Metrics))
				groups[key] = row.group
			}
			values[key][mi] = combine(m.Combine.Op, row.value, r.value, m.Precision)
		}
	}
	for key, vals := range values {
		res.Rows = append(res.Rows, append(slices.Clone(groups[key]), vals...))
	}
	order(res, plan, nGroup)
	limit := plan.Limit
	if limit <= 0 {
		limit = tools.DefaultLimit
	}
	if len(res.Rows) > limit {
		res.Notes = append(res.Notes, fmt.Sprintf("showing the first %d of %d rows", limit, len(res.Rows)))
		res.Rows = res.Rows[:limit]
	}
	res.RowCount = len(res.Rows)
	res.Notes = append(res.Notes, "combined from "+strings.Join(uniq(sources), " and "))
	return res, nil
}

type groupRow struct {
	group []any
	value any
}

// index keys a side's rows by their group values.
func index(r *tools.Result, nGroup int, metric string) (map[string]groupRow, error) {
	mi := -1
	for i, c := range r.Columns {
		if c.Name == metric {
			mi = i
		}
	}
	if mi < 0 || mi < nGroup {
		return nil, fmt.Errorf("combined metrics: %s returned no %s column", r.Product, metric)
	}
	out := make(map[string]groupRow, len(r.Rows))
	for _, row := range r.Rows {
		b, err := json.Marshal(row[:nGroup])
		if err != nil {
			return nil, err
		}
		out[string(b)] = groupRow{group: row[:nGroup], value: row[mi]}
	}
	return out, nil
}

// combine computes l op r rounded to places; nil when either is missing or
// the divisor is zero.
func combine(op string, l, r any, places int) any {
	a, ok1 := number(l)
	b, ok2 := number(r)
	if !ok1 || !ok2 {
		return nil
	}
	var v float64
	switch op {
	case "+":
		v = a + b
	case "-":
		v = a - b
	case "*":
		v = a * b
	case "/":
		if b == 0 {
			return nil
		}
		v = a / b
	}
	f, err := strconv.ParseFloat(strconv.FormatFloat(v, 'f', places, 64), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return nil
	}
	return f
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	}
	return 0, false
}

// jsonValue turns a plan value back into the JSON a tool argument holds.
func jsonValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.Format(time.RFC3339)
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = jsonValue(x[i])
		}
		return out
	}
	return v
}

// order sorts rows by the plan's keys, then by the group columns, so the
// order is the same on every run.
func order(res *tools.Result, plan tools.MetricsPlan, nGroup int) {
	col := func(name string) int {
		for i, c := range res.Columns {
			if c.Name == name {
				return i
			}
		}
		return -1
	}
	type key struct {
		i    int
		desc bool
	}
	var keys []key
	for _, s := range plan.Order {
		if i := col(s.Field); i >= 0 {
			keys = append(keys, key{i, s.Desc})
		}
	}
	for i := range nGroup {
		keys = append(keys, key{i, false})
	}
	sort.SliceStable(res.Rows, func(a, b int) bool {
		for _, k := range keys {
			c := compare(res.Rows[a][k.i], res.Rows[b][k.i])
			if c == 0 {
				continue
			}
			return (c < 0) != k.desc
		}
		return false
	})
}

// compare orders values of one column, NULLs last.
func compare(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	if x, ok := number(a); ok {
		if y, ok := number(b); ok {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

func uniq(ss []string) []string {
	out := slices.Clone(ss)
	sort.Strings(out)
	return slices.Compact(out)
}

func unsupported(tool string) error {
	return fmt.Errorf("%s is not available on a combined product: it has metrics only", tool)
}

// QueryRecords is not offered: a combined product has no records.
func (b *Backend) QueryRecords(context.Context, tools.RecordsPlan) (*tools.Result, error) {
	return nil, unsupported(tools.ToolQueryRecords)
}

// GetRecord is not offered.
func (b *Backend) GetRecord(context.Context, tools.GetPlan) (*tools.Result, error) {
	return nil, unsupported(tools.ToolGetRecord)
}

// FindAnomalies is not offered.
func (b *Backend) FindAnomalies(context.Context, tools.AnomaliesPlan) (*tools.Result, error) {
	return nil, unsupported(tools.ToolFindAnomalies)
}
