package sqlstore

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/internal/mysqltest"
	"github.com/askmesh/askmesh/internal/pgtest"
	"github.com/askmesh/askmesh/tools"
)

// The fixture is a small table whose rows sit on the edges the compiler must
// get right: ISO week, month, quarter and year boundaries, the last
// microsecond of a day, NULLs, LIKE metacharacters, negative numbers. Its
// expected results are computed in Go from the same rows, independently of
// both SQL dialects.

type event struct {
	id     string
	at     time.Time
	day    time.Time
	flag   bool
	amount *float64
	n      int64
	label  *string
	kind   string
}

func f(v float64) *float64 { return &v }
func s(v string) *string   { return &v }

var events = []event{
	{"e01", instant("2025-12-29T00:00:00Z"), day("2025-12-28"), true, f(10.00), 1, s("alpha"), "a"},
	{"e02", instant("2025-12-31T23:59:59Z"), day("2025-12-31"), false, f(20.50), 2, nil, "b"},
	{"e03", instant("2026-01-01T00:00:00Z"), day("2026-01-01"), true, f(30.25), 3, s("beta"), "a"},
	{"e04", instant("2026-01-04T23:59:59.5Z"), day("2026-01-04"), false, f(40.00), 4, s("Alpha"), "c"},
	{"e05", instant("2026-01-05T00:00:00Z"), day("2026-01-05"), true, f(50.75), 5, s("al%ha"), "a"},
	{"e06", instant("2026-02-23T00:00:00Z"), day("2026-02-22"), true, f(60.00), 6, s("al_ha"), "b"},
	{"e07", instant("2026-02-28T10:00:00Z"), day("2026-03-01"), false, nil, 7, nil, "b"},
	{"e08", instant("2026-03-31T23:59:59Z"), day("2026-03-31"), true, f(80.10), 8, s("gamma"), "c"},
	{"e09", instant("2026-04-01T00:00:00Z"), day("2026-04-01"), false, f(90.90), 9, s("beta"), "a"},
	{"e10", instant("2026-06-30T12:00:00Z"), day("2026-06-30"), true, f(100.50), 10, s("delta"), "b"},
	{"e11", instant("2026-07-01T00:00:00Z"), day("2026-07-01"), true, f(110.00), 11, s(`back\slash`), "c"},
	{"e12", instant("2026-09-30T23:00:00Z"), day("2026-09-30"), false, f(120.00), 12, s("beta"), "a"},
	{"e13", instant("2026-10-01T00:00:00Z"), day("2026-10-01"), true, f(130.33), 13, s("epsilon"), "b"},
	{"e14", instant("2026-10-05T14:23:11Z"), day("2026-10-05"), true, f(1000.00), 14, s("beta"), "a"},
	{"e15", instant("2026-10-11T23:59:59Z"), day("2026-10-11"), false, f(15.00), -3, s("zeta"), "c"},
	{"e16", instant("2026-10-12T00:00:00Z"), day("2026-10-12"), true, f(16.00), 0, nil, "a"},
	{"e17", instant("2026-11-01T00:00:00Z"), day("2026-11-01"), false, f(17.00), 20, s("beta"), "b"},
	{"e18", instant("2026-12-31T23:59:59.999999Z"), day("2026-12-31"), true, f(18.00), 21, s("omega"), "c"},
}

func (e event) values() []any {
	var amount, label any
	if e.amount != nil {
		amount = *e.amount
	}
	if e.label != nil {
		label = *e.label
	}
	return []any{e.id, e.at, e.day, e.flag, amount, e.n, label, e.kind}
}

// fixtureProduct is the events table; timeColumn picks at (timestamp) or
// day (date) as its time column.
func fixtureProduct(t testing.TB, name, timeColumn string) *catalog.Product {
	t.Helper()
	p := &catalog.Product{
		Name: name, ID: "urn:askmesh:test:" + name, Version: "1.0.0", Status: "active", Domain: "testing", DataProduct: name,
		Description: "Test events.", Purpose: "Test events.", Owner: "test@bank.example",
		Columns: []catalog.Column{
			{Name: "event_id", Type: catalog.TypeString, PrimaryKey: true, Classification: catalog.ClassInternal},
			{Name: "at", Type: catalog.TypeTimestamp, Classification: catalog.ClassInternal},
			{Name: "day", Type: catalog.TypeDate, Classification: catalog.ClassInternal},
			{Name: "flag", Type: catalog.TypeBoolean, Classification: catalog.ClassInternal},
			{Name: "amount", Type: catalog.TypeNumber, Classification: catalog.ClassInternal, Nullable: true},
			{Name: "n", Type: catalog.TypeInteger, Classification: catalog.ClassInternal},
			{Name: "label", Type: catalog.TypeString, Classification: catalog.ClassInternal, Nullable: true},
			{Name: "kind", Type: catalog.TypeString, Classification: catalog.ClassInternal, Values: []string{"a", "b", "c"}},
		},
		TimeColumn: timeColumn,
		Dimensions: []string{"kind", "flag", "label", "day"},
		Metrics: []catalog.Metric{
			{Name: "event_count", Expression: "count(*)", Unit: "count"},
			{Name: "total_amount", Expression: "sum(amount)", Unit: "amount", Precision: 2},
			{Name: "avg_amount", Expression: "avg(amount)", Unit: "amount", Precision: 3},
			{Name: "flagged", Expression: "count_if(flag)", Unit: "count"},
			{Name: "flag_rate", Expression: "count_if(flag) / count(*)", Unit: "ratio", Precision: 4},
			{Name: "labels", Expression: "count_distinct(label)", Unit: "count"},
			{Name: "labelled", Expression: "count(label)", Unit: "count"},
			{Name: "min_n", Expression: "min(n)"},
			{Name: "max_amount", Expression: "max(amount)", Precision: 2},
			{Name: "mixed", Expression: "count_if(not flag and (kind = 'a' or n >= 10))", Unit: "count"},
			{Name: "late", Expression: "count_if(at >= '2026-06-30T12:00:00Z')", Unit: "count"},
			{Name: "early_days", Expression: "count_if(day < '2026-03-01')", Unit: "count"},
			{Name: "big", Expression: "count_if(amount > 100.5)", Unit: "count"},
			{Name: "scaled", Expression: "sum(n) * 2 - 1"},
			{Name: "per_n", Expression: "sum(amount) / sum(n)", Precision: 3},
			{Name: "other_kinds", Expression: "count_if(kind not in ('a', 'b'))", Unit: "count"},
			{Name: "unflagged", Expression: "count_if(flag = false)", Unit: "count"},
			{Name: "half", Expression: "count(*) / 2", Precision: 1},
		},
		Capabilities: []string{catalog.CapRecords, catalog.CapMetrics, catalog.CapGet, catalog.CapAnomalies},
		Anomalies:    &catalog.AnomalySpec{Column: "amount", GroupBy: "kind", StdDevs: 1.5},
		Binding:      catalog.Binding{Kind: catalog.BackendSQLite, Database: "testing", Schema: "testing", Table: "events"},
	}
	for i := range p.Metrics {
		p.Metrics[i].Description = p.Metrics[i].Name
	}
	if err := catalog.Resolve(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// fixtureBackends loads the events into a SQLite file, a PostgreSQL and a
// MySQL database and returns the backends (SQLite's alone in -short).
func fixtureBackends(t *testing.T) []*backend {
	t.Helper()
	p := fixtureProduct(t, "fixture-events", "at")
	rows := make([][]any, len(events))
	for i, e := range events {
		rows[i] = e.values()
	}
	dir := t.TempDir()
	createSQLite(t, dir, p, rows)
	if testing.Short() { // the short tier has no database servers: SQLite's checks run
		return []*backend{sqliteBackend(t, dir)}
	}
	dsn := pgtest.NewDatabase(t)
	createPostgres(t, dsn, p, rows)
	my := mysqltest.NewDatabase(t)
	createMySQL(t, my, p, rows)
	return []*backend{sqliteBackend(t, dir), postgresBackend(t, dsn), mysqlBackend(t, my)}
}

// --- the Go reference ---

func bucketOf(t time.Time, grain string) string {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch grain {
	case "day":
	case "week":
		// ISO: the week's Monday, found by walking back.
		for d.Weekday() != time.Monday {
			d = d.AddDate(0, 0, -1)
		}
	case "month":
		d = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	case "quarter":
		q := map[time.Month]time.Month{1: 1, 2: 1, 3: 1, 4: 4, 5: 4, 6: 4, 7: 7, 8: 7, 9: 7, 10: 10, 11: 10, 12: 10}
		d = time.Date(t.Year(), q[t.Month()], 1, 0, 0, 0, 0, time.UTC)
	case "year":
		d = time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return d.Format("2006-01-02")
}

// refMetric computes a fixture metric over a group of events.
var refMetric = map[string]func(es []event) any{
	"event_count": func(es []event) any { return int64(len(es)) },
	"total_amount": func(es []event) any {
		sum, n := 0.0, 0
		for _, e := range es {
			if e.amount != nil {
				sum += *e.amount
				n++
			}
		}
		if n == 0 {
			return nil
		}
		return roundHalfAway(sum, 2)
	},
	"avg_amount": func(es []event) any {
		sum, n := 0.0, 0
		for _, e := range es {
			if e.amount != nil {
				sum += *e.amount
				n++
			}
		}
		if n == 0 {
			return nil
		}
		return roundHalfAway(sum/float64(n), 3)
	},
	"flagged": countWhere(func(e event) bool { return e.flag }),
	"flag_rate": func(es []event) any {
		n := 0
		for _, e := range es {
			if e.flag {
				n++
			}
		}
		return roundHalfAway(float64(n)/float64(len(es)), 4)
	},
	"labels": func(es []event) any {
		seen := map[string]bool{}
		for _, e := range es {
			if e.label != nil {
				seen[*e.label] = true
			}
		}
		return int64(len(seen))
	},
	"labelled": countWhere(func(e event) bool { return e.label != nil }),
	"min_n": func(es []event) any {
		m := es[0].n
		for _, e := range es {
			m = min(m, e.n)
		}
		return m
	},
	"max_amount": func(es []event) any {
		var m *float64
		for _, e := range es {
			if e.amount != nil && (m == nil || *e.amount > *m) {
				m = e.amount
			}
		}
		if m == nil {
			return nil
		}
		return *m
	},
	"mixed":       countWhere(func(e event) bool { return !e.flag && (e.kind == "a" || e.n >= 10) }),
	"late":        countWhere(func(e event) bool { return !e.at.Before(instant("2026-06-30T12:00:00Z")) }),
	"early_days":  countWhere(func(e event) bool { return e.day.Before(day("2026-03-01")) }),
	"big":         countWhere(func(e event) bool { return e.amount != nil && *e.amount > 100.5 }),
	"other_kinds": countWhere(func(e event) bool { return e.kind != "a" && e.kind != "b" }),
	"unflagged":   countWhere(func(e event) bool { return !e.flag }),
	"scaled": func(es []event) any {
		var sum int64
		for _, e := range es {
			sum += e.n
		}
		return sum*2 - 1
	},
	"per_n": func(es []event) any {
		sum, amounts, n := 0.0, 0, int64(0)
		for _, e := range es {
			if e.amount != nil {
				sum += *e.amount
				amounts++
			}
			n += e.n
		}
		if amounts == 0 || n == 0 { // SUM of no values is NULL, as is x / 0
			return nil
		}
		return roundHalfAway(sum/float64(n), 3)
	},
	"half": func(es []event) any { return roundHalfAway(float64(len(es))/2, 1) },
}

func countWhere(pred func(event) bool) func([]event) any {
	return func(es []event) any {
		var n int64
		for _, e := range es {
			if pred(e) {
				n++
			}
		}
		return n
	}
}

// refGroups groups events by period (when grain is set) and dimensions, and
// returns rows period, dims..., metrics... sorted by the group values.
func refGroups(es []event, grain string, dims []string, metrics []string) [][]any {
	type group struct {
		key  []any
		rows []event
	}
	groups := map[string]*group{}
	var order []*group
	for _, e := range es {
		var key []any
		if grain != "" {
			key = append(key, bucketOf(e.at, grain))
		}
		for _, d := range dims {
			switch d {
			case "kind":
				key = append(key, e.kind)
			case "flag":
				key = append(key, e.flag)
			case "label":
				if e.label == nil {
					key = append(key, nil)
				} else {
					key = append(key, *e.label)
				}
			case "day":
				key = append(key, e.day.Format("2006-01-02"))
			}
		}
		k := fmt.Sprint(key...)
		g := groups[k]
		if g == nil {
			g = &group{key: key}
			groups[k] = g
			order = append(order, g)
		}
		g.rows = append(g.rows, e)
	}
	slices.SortFunc(order, func(a, b *group) int {
		for i := range a.key {
			if c := compareValues(a.key[i], b.key[i]); c != 0 {
				return c
			}
		}
		return 0
	})
	out := make([][]any, 0, len(order))
	for _, g := range order {
		row := append([]any{}, g.key...)
		for _, m := range metrics {
			row = append(row, refMetric[m](g.rows))
		}
		out = append(out, row)
	}
	return out
}

// compareValues orders group values ascending with NULLs last.
func compareValues(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	switch x := a.(type) {
	case string:
		return strings.Compare(x, b.(string))
	case bool:
		if x == b.(bool) {
			return 0
		}
		if !x {
			return -1
		}
		return 1
	case int64:
		return cmp.Compare(x, b.(int64))
	case float64:
		return cmp.Compare(x, b.(float64))
	}
	panic(fmt.Sprintf("compareValues %T", a))
}

func eventsIn(from, to time.Time, pick func(event) time.Time) []event {
	var out []event
	for _, e := range events {
		t := pick(e)
		if (from.IsZero() || !t.Before(from)) && (to.IsZero() || t.Before(to)) {
			out = append(out, e)
		}
	}
	return out
}

// --- tests ---

func TestFixtureMetricsEveryGrainAndGroup(t *testing.T) {
	t.Parallel()
	backends := fixtureBackends(t)
	all := fixtureProduct(t, "fixture-events", "at")
	metrics := all.MetricNames()
	for _, grain := range []string{"", "day", "week", "month", "quarter", "year"} {
		for _, dims := range [][]string{nil, {"kind"}, {"flag"}, {"label"}, {"kind", "flag"}} {
			name := fmt.Sprintf("grain=%s/by=%s", grain, strings.Join(dims, ","))
			want := refGroups(events, grain, dims, metrics)
			for _, b := range backends {
				t.Run(name+"/"+b.name, func(t *testing.T) {
					res := b.metrics(t, all, tools.MetricsPlan{Metrics: metrics, GroupBy: dims, Grain: grain, Limit: tools.MaxLimit})
					assertRows(t, res, want)
				})
			}
		}
	}
}

// TestFixtureBuckets pins the bucket of each edge instant, so that a wrong
// Go reference cannot hide a wrong SQL bucket.
func TestFixtureBuckets(t *testing.T) {
	t.Parallel()
	cases := []struct {
		at                         string
		week, month, quarter, year string
	}{
		{"2025-12-29T00:00:00Z", "2025-12-29", "2025-12-01", "2025-10-01", "2025-01-01"},
		{"2025-12-31T23:59:59Z", "2025-12-29", "2025-12-01", "2025-10-01", "2025-01-01"},
		{"2026-01-01T00:00:00Z", "2025-12-29", "2026-01-01", "2026-01-01", "2026-01-01"},
		{"2026-01-04T23:59:59.5Z", "2025-12-29", "2026-01-01", "2026-01-01", "2026-01-01"},
		{"2026-01-05T00:00:00Z", "2026-01-05", "2026-01-01", "2026-01-01", "2026-01-01"},
		{"2026-03-31T23:59:59Z", "2026-03-30", "2026-03-01", "2026-01-01", "2026-01-01"},
		{"2026-04-01T00:00:00Z", "2026-03-30", "2026-04-01", "2026-04-01", "2026-01-01"},
		{"2026-06-30T12:00:00Z", "2026-06-29", "2026-06-01", "2026-04-01", "2026-01-01"},
		{"2026-07-01T00:00:00Z", "2026-06-29", "2026-07-01", "2026-07-01", "2026-01-01"},
		{"2026-10-11T23:59:59Z", "2026-10-05", "2026-10-01", "2026-10-01", "2026-01-01"},
		{"2026-10-12T00:00:00Z", "2026-10-12", "2026-10-01", "2026-10-01", "2026-01-01"},
		{"2026-12-31T23:59:59.999999Z", "2026-12-28", "2026-12-01", "2026-10-01", "2026-01-01"},
	}
	backends := fixtureBackends(t)
	p := fixtureProduct(t, "fixture-events", "at")
	for _, b := range backends {
		for _, grain := range []string{"week", "month", "quarter", "year"} {
			for _, c := range cases {
				want := map[string]string{"week": c.week, "month": c.month, "quarter": c.quarter, "year": c.year}[grain]
				if got := bucketOf(instant(c.at), grain); got != want {
					t.Fatalf("reference bucket %s of %s = %s, want %s", grain, c.at, got, want)
				}
				at := instant(c.at)
				res := b.metrics(t, p, tools.MetricsPlan{Metrics: []string{"event_count"}, Grain: grain,
					Range: tools.Range{From: at, To: at.Add(time.Microsecond)}})
				assertRows(t, res, [][]any{{want, int64(1)}})
			}
		}
	}
}

func TestFixtureDateTimeColumn(t *testing.T) {
	t.Parallel()
	backends := fixtureBackends(t)
	p := fixtureProduct(t, "fixture-days", "day")
	byDay := func(e event) time.Time { return e.day }
	cases := []struct {
		name     string
		rng      tools.Range
		from, to time.Time // the days the range holds: [from, to)
	}{
		{"whole days", span("2026-01-01", "2026-04-01"), day("2026-01-01"), day("2026-04-01")},
		// A date is read as its first instant: a bound inside a day excludes
		// that day at the start and includes it at the end.
		{"instants", tools.Range{From: instant("2026-02-22T08:00:00Z"), To: instant("2026-10-05T00:00:01Z")}, day("2026-02-23"), day("2026-10-06")},
		{"open start", tools.Range{To: day("2026-01-02")}, time.Time{}, day("2026-01-02")},
		{"open end", tools.Range{From: day("2026-10-12")}, day("2026-10-12"), time.Time{}},
	}
	for _, c := range cases {
		in := eventsIn(c.from, c.to, byDay)
		for _, grain := range []string{"", "week", "month"} {
			var want [][]any
			// The reference groups by the date column's bucket.
			groups := map[string]int64{}
			for _, e := range in {
				k := ""
				if grain != "" {
					k = bucketOf(e.day, grain)
				}
				groups[k]++
			}
			keys := make([]string, 0, len(groups))
			for k := range groups {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				if grain == "" {
					want = append(want, []any{groups[k]})
				} else {
					want = append(want, []any{k, groups[k]})
				}
			}
			if grain == "" && len(want) == 0 {
				want = [][]any{{int64(0)}}
			}
			for _, b := range backends {
				t.Run(c.name+"/"+grain+"/"+b.name, func(t *testing.T) {
					res := b.metrics(t, p, tools.MetricsPlan{Metrics: []string{"event_count"}, Grain: grain, Range: c.rng})
					assertRows(t, res, want)
				})
			}
		}
	}
}

// TestFixtureFilters runs every operator on every column type it applies
// to and compares the matching ids with a Go predicate.
func TestFixtureFilters(t *testing.T) {
	t.Parallel()
	backends := fixtureBackends(t)
	p := fixtureProduct(t, "fixture-events", "at")
	amount := func(e event, test func(float64) bool) bool { return e.amount != nil && test(*e.amount) }
	label := func(e event, test func(string) bool) bool { return e.label != nil && test(*e.label) }
	cases := []struct {
		name string
		cond tools.Condition
		pred func(e event) bool
	}{
		{"text =", tools.Condition{Column: "kind", Op: "=", Value: "a"}, func(e event) bool { return e.kind == "a" }},
		{"text !=", tools.Condition{Column: "label", Op: "!=", Value: "beta"}, func(e event) bool { return label(e, func(s string) bool { return s != "beta" }) }},
		{"text <", tools.Condition{Column: "label", Op: "<", Value: "beta"}, func(e event) bool { return label(e, func(s string) bool { return s < "beta" }) }},
		{"text in", tools.Condition{Column: "kind", Op: "in", Value: []any{"a", "c"}}, func(e event) bool { return e.kind != "b" }},
		{"text not in", tools.Condition{Column: "label", Op: "not in", Value: []any{"beta", "zeta"}}, func(e event) bool {
			return label(e, func(s string) bool { return s != "beta" && s != "zeta" })
		}},
		{"contains ignores case", tools.Condition{Column: "label", Op: "contains", Value: "ALPH"}, func(e event) bool {
			return label(e, func(s string) bool { return strings.Contains(strings.ToLower(s), "alph") })
		}},
		{"contains % literally", tools.Condition{Column: "label", Op: "contains", Value: "%"}, func(e event) bool { return label(e, func(s string) bool { return strings.Contains(s, "%") }) }},
		{"contains _ literally", tools.Condition{Column: "label", Op: "contains", Value: "l_h"}, func(e event) bool { return label(e, func(s string) bool { return strings.Contains(s, "l_h") }) }},
		{"contains backslash literally", tools.Condition{Column: "label", Op: "contains", Value: `k\s`}, func(e event) bool { return label(e, func(s string) bool { return strings.Contains(s, `k\s`) }) }},
		{"text between", tools.Condition{Column: "label", Op: "between", Value: []any{"alpha", "delta"}}, func(e event) bool {
			return label(e, func(s string) bool { return s >= "alpha" && s <= "delta" })
		}},
		{"is null", tools.Condition{Column: "label", Op: "is null"}, func(e event) bool { return e.label == nil }},
		{"is not null", tools.Condition{Column: "amount", Op: "is not null"}, func(e event) bool { return e.amount != nil }},
		{"integer >", tools.Condition{Column: "n", Op: ">", Value: int64(10)}, func(e event) bool { return e.n > 10 }},
		{"integer <=", tools.Condition{Column: "n", Op: "<=", Value: int64(0)}, func(e event) bool { return e.n <= 0 }},
		{"integer between", tools.Condition{Column: "n", Op: "between", Value: []any{int64(-3), int64(2)}}, func(e event) bool { return e.n >= -3 && e.n <= 2 }},
		{"integer not in", tools.Condition{Column: "n", Op: "not in", Value: []any{int64(1), int64(2), int64(3)}}, func(e event) bool { return e.n > 3 || e.n < 1 }},
		{"number >=", tools.Condition{Column: "amount", Op: ">=", Value: 100.5}, func(e event) bool { return amount(e, func(a float64) bool { return a >= 100.5 }) }},
		{"number <", tools.Condition{Column: "amount", Op: "<", Value: 20.5}, func(e event) bool { return amount(e, func(a float64) bool { return a < 20.5 }) }},
		{"number =", tools.Condition{Column: "amount", Op: "=", Value: 130.33}, func(e event) bool { return amount(e, func(a float64) bool { return a == 130.33 }) }},
		{"number between", tools.Condition{Column: "amount", Op: "between", Value: []any{30.25, 80.10}}, func(e event) bool {
			return amount(e, func(a float64) bool { return a >= 30.25 && a <= 80.10 })
		}},
		{"number in", tools.Condition{Column: "amount", Op: "in", Value: []any{10.0, 20.5, 999.0}}, func(e event) bool {
			return amount(e, func(a float64) bool { return a == 10 || a == 20.5 })
		}},
		{"boolean = true", tools.Condition{Column: "flag", Op: "=", Value: true}, func(e event) bool { return e.flag }},
		{"boolean != true", tools.Condition{Column: "flag", Op: "!=", Value: true}, func(e event) bool { return !e.flag }},
		{"boolean in", tools.Condition{Column: "flag", Op: "in", Value: []any{false}}, func(e event) bool { return !e.flag }},
		{"timestamp >=", tools.Condition{Column: "at", Op: ">=", Value: instant("2026-10-12T00:00:00Z")}, func(e event) bool { return !e.at.Before(instant("2026-10-12T00:00:00Z")) }},
		{"timestamp <", tools.Condition{Column: "at", Op: "<", Value: instant("2026-01-05T00:00:00Z")}, func(e event) bool { return e.at.Before(instant("2026-01-05T00:00:00Z")) }},
		{"timestamp = exact instant", tools.Condition{Column: "at", Op: "=", Value: instant("2026-10-05T14:23:11Z")}, func(e event) bool { return e.id == "e14" }},
		{"timestamp between", tools.Condition{Column: "at", Op: "between", Value: []any{instant("2026-01-01T00:00:00Z"), instant("2026-03-31T23:59:59Z")}}, func(e event) bool {
			return !e.at.Before(instant("2026-01-01T00:00:00Z")) && !e.at.After(instant("2026-03-31T23:59:59Z"))
		}},
		{"timestamp in", tools.Condition{Column: "at", Op: "in", Value: []any{instant("2026-01-01T00:00:00Z"), instant("2026-11-01T00:00:00Z")}}, func(e event) bool {
			return e.id == "e03" || e.id == "e17"
		}},
		{"date =", tools.Condition{Column: "day", Op: "=", Value: day("2026-03-01")}, func(e event) bool { return e.id == "e07" }},
		{"date >", tools.Condition{Column: "day", Op: ">", Value: day("2026-10-05")}, func(e event) bool { return e.day.After(day("2026-10-05")) }},
		{"date <= instant inside a day", tools.Condition{Column: "day", Op: "<=", Value: instant("2026-01-04T12:00:00Z")}, func(e event) bool {
			return !e.day.After(day("2026-01-04"))
		}},
		{"date >= instant inside a day", tools.Condition{Column: "day", Op: ">=", Value: instant("2026-01-04T12:00:00Z")}, func(e event) bool {
			return !e.day.Before(day("2026-01-05"))
		}},
		{"date between", tools.Condition{Column: "day", Op: "between", Value: []any{day("2025-12-31"), day("2026-01-04")}}, func(e event) bool {
			return !e.day.Before(day("2025-12-31")) && !e.day.After(day("2026-01-04"))
		}},
		{"date not in", tools.Condition{Column: "day", Op: "not in", Value: []any{day("2025-12-28"), day("2026-12-31")}}, func(e event) bool {
			return e.id != "e01" && e.id != "e18"
		}},
	}
	for _, c := range cases {
		var want [][]any
		for _, e := range events {
			if c.pred(e) {
				want = append(want, []any{e.id})
			}
		}
		if len(want) == 0 || len(want) == len(events) {
			t.Fatalf("%s: the case selects %d of %d rows; a filter test must tell rows apart", c.name, len(want), len(events))
		}
		for _, b := range backends {
			t.Run(c.name+"/"+b.name, func(t *testing.T) {
				res := b.records(t, p, tools.RecordsPlan{Columns: []string{"event_id"},
					Filters: []tools.Condition{c.cond}, Order: []tools.Sort{{Field: "event_id"}}, Limit: 100})
				assertRows(t, res, want)
				if *res.TotalCount != int64(len(want)) {
					t.Errorf("TotalCount = %d, want %d", *res.TotalCount, len(want))
				}
			})
		}
	}
}

func TestFixtureRecordValues(t *testing.T) {
	t.Parallel()
	backends := fixtureBackends(t)
	p := fixtureProduct(t, "fixture-events", "at")
	// The default order is the time column newest first, then the key.
	want := [][]any{
		{"e18", "2026-12-31T23:59:59Z", "2026-12-31", true, 18.0, int64(21), "omega", "c"},
		{"e17", "2026-11-01T00:00:00Z", "2026-11-01", false, 17.0, int64(20), "beta", "b"},
		{"e16", "2026-10-12T00:00:00Z", "2026-10-12", true, 16.0, int64(0), nil, "a"},
		{"e15", "2026-10-11T23:59:59Z", "2026-10-11", false, 15.0, int64(-3), "zeta", "c"},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			res := b.records(t, p, tools.RecordsPlan{Columns: p.ColumnNames(), Limit: 4})
			assertColumns(t, res, "event_id", "at", "day", "flag", "amount", "n", "label", "kind")
			assertRows(t, res, want)
			if *res.TotalCount != int64(len(events)) {
				t.Errorf("TotalCount = %d, want %d", *res.TotalCount, len(events))
			}
			for i, typ := range []string{"string", "timestamp", "date", "boolean", "number", "integer", "string", "string"} {
				if res.Columns[i].Type != typ || res.Columns[i].Role != "" {
					t.Errorf("column %s: type %q role %q, want type %q and no role", res.Columns[i].Name, res.Columns[i].Type, res.Columns[i].Role, typ)
				}
			}
			// e07's NULL amount and label, e04's sub-second instant.
			got := b.records(t, p, tools.RecordsPlan{Columns: []string{"event_id", "at", "amount", "label"},
				Filters: []tools.Condition{{Column: "event_id", Op: "in", Value: []any{"e04", "e07"}}}, Order: []tools.Sort{{Field: "event_id"}}})
			assertRows(t, got, [][]any{{"e04", "2026-01-04T23:59:59Z", 40.0, "Alpha"}, {"e07", "2026-02-28T10:00:00Z", nil, nil}})
		})
	}
}

func TestFixtureOrderNullsAndTies(t *testing.T) {
	t.Parallel()
	backends := fixtureBackends(t)
	p := fixtureProduct(t, "fixture-events", "at")
	// label ascending: code point order (upper case first), NULLs last,
	// ties broken by the key.
	var want [][]any
	sorted := slices.Clone(events)
	slices.SortStableFunc(sorted, func(a, b event) int {
		var la, lb any
		if a.label != nil {
			la = *a.label
		}
		if b.label != nil {
			lb = *b.label
		}
		if c := compareValues(la, lb); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	for _, e := range sorted {
		want = append(want, []any{e.id})
	}
	// amount descending: NULLs still last.
	var wantDesc [][]any
	desc := slices.Clone(events)
	slices.SortStableFunc(desc, func(a, b event) int {
		switch {
		case a.amount == nil && b.amount == nil:
			return strings.Compare(a.id, b.id)
		case a.amount == nil:
			return 1
		case b.amount == nil:
			return -1
		}
		if c := cmp.Compare(*b.amount, *a.amount); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	for _, e := range desc {
		wantDesc = append(wantDesc, []any{e.id})
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			res := b.records(t, p, tools.RecordsPlan{Columns: []string{"event_id"}, Order: []tools.Sort{{Field: "label"}}})
			assertRows(t, res, want)
			res = b.records(t, p, tools.RecordsPlan{Columns: []string{"event_id"}, Order: []tools.Sort{{Field: "amount", Desc: true}}})
			assertRows(t, res, wantDesc)
		})
	}
}

func TestFixtureMetricOrderAndTopN(t *testing.T) {
	t.Parallel()
	backends := fixtureBackends(t)
	p := fixtureProduct(t, "fixture-events", "at")
	// By label: total_amount descending with NULL last; labels with equal
	// totals come out in label order.
	rows := refGroups(events, "", []string{"label"}, []string{"total_amount", "event_count"})
	slices.SortStableFunc(rows, func(a, b []any) int {
		switch {
		case a[1] == nil && b[1] == nil:
			return 0
		case a[1] == nil:
			return 1
		case b[1] == nil:
			return -1
		}
		return cmp.Compare(b[1].(float64), a[1].(float64))
	})
	top := rows[:3]
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			res := b.metrics(t, p, tools.MetricsPlan{Metrics: []string{"total_amount", "event_count"},
				GroupBy: []string{"label"}, Order: []tools.Sort{{Field: "total_amount", Desc: true}}, Limit: 3})
			assertRows(t, res, top)
			if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "first 3") {
				t.Errorf("notes = %q, want one saying only the first 3 rows are shown", res.Notes)
			}
			all := b.metrics(t, p, tools.MetricsPlan{Metrics: []string{"total_amount", "event_count"},
				GroupBy: []string{"label"}, Order: []tools.Sort{{Field: "total_amount", Desc: true}}})
			assertRows(t, all, rows)
			if len(all.Notes) != 0 {
				t.Errorf("notes = %q, want none when every group is shown", all.Notes)
			}
		})
	}
}

// TestFixtureEmptyAggregate: over no rows, counts are 0 and other
// aggregates NULL.
func TestFixtureEmptyAggregate(t *testing.T) {
	t.Parallel()
	backends := fixtureBackends(t)
	p := fixtureProduct(t, "fixture-events", "at")
	for _, b := range backends {
		res := b.metrics(t, p, tools.MetricsPlan{Metrics: []string{"event_count", "flagged", "total_amount", "flag_rate", "half"},
			Range: span("2030-01-01", "2030-02-01")})
		assertRows(t, res, [][]any{{int64(0), int64(0), nil, nil, 0.0}})
	}
}

func TestFixtureAnomalies(t *testing.T) {
	t.Parallel()
	backends := fixtureBackends(t)
	p := fixtureProduct(t, "fixture-events", "at")
	// Kind a's amounts are 10, 30.25, 50.75, 90.9, 120, 1000, 16: mean
	// 188.2714, population sd 333.4638, so e14 (1000) is 2.434 sd above.
	// Kind c's are 40, 80.1, 110, 15, 18: mean 52.62, sd 36.9342, so e11
	// (110) is 1.5536 sd above. Kind b's highest, 130.33, is only 1.458 sd
	// above its mean 65.666.
	want := [][]any{
		{"e14", "2026-10-05T14:23:11Z", "a", 1000.0, 188.27, 2.43},
		{"e11", "2026-07-01T00:00:00Z", "c", 110.0, 52.62, 1.55},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			res := b.anomalies(t, p, tools.AnomaliesPlan{Columns: []string{"event_id", "at", "kind", "amount"}, Limit: 10})
			assertColumns(t, res, "event_id", "at", "kind", "amount", "group_mean", "std_devs_above")
			assertRows(t, res, want)
			// The range limits the rows flagged, not the baseline.
			res = b.anomalies(t, p, tools.AnomaliesPlan{Columns: []string{"event_id"}, Range: span("2026-10-01", "2026-11-01")})
			assertRows(t, res, [][]any{{"e14", 188.27, 2.43}})
			res = b.anomalies(t, p, tools.AnomaliesPlan{Columns: []string{"event_id"}, Range: span("2026-11-01", "2026-12-01")})
			assertRows(t, res, nil)
		})
	}
}

func TestFixtureGetRecord(t *testing.T) {
	t.Parallel()
	backends := fixtureBackends(t)
	p := fixtureProduct(t, "fixture-events", "at")
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			res := b.get(t, p, tools.GetPlan{ID: "e05", Columns: []string{"event_id", "label", "flag"}})
			assertRows(t, res, [][]any{{"e05", "al%ha", true}})
			// A record outside the filters is not found.
			res = b.get(t, p, tools.GetPlan{ID: "e05", Columns: []string{"event_id"},
				Filters: []tools.Condition{{Column: "kind", Op: "=", Value: "b"}}})
			assertRows(t, res, nil)
			assertColumns(t, res, "event_id")
			res = b.get(t, p, tools.GetPlan{ID: "e0%", Columns: []string{"event_id"}})
			assertRows(t, res, nil)
		})
	}
}
