package sqlstore

import (
	"reflect"
	"testing"

	"github.com/askmesh/askmesh/tools"
)

// Comparison results on the fixture, worked out by hand from its rows.
func TestFixtureCompare(t *testing.T) {
	t.Parallel()
	backends := fixtureBackends(t)
	p := fixtureProduct(t, "fixture-events", "at")
	q4, q3 := span("2026-10-01", "2027-01-01"), span("2026-07-01", "2026-10-01")
	cases := []struct {
		name string
		plan tools.MetricsPlan
		want [][]any
	}{
		{
			// Q4 by kind: a = e14 1000 + e16 16, b = e13 130.33 + e17 17,
			// c = e15 15 + e18 18. Q3: a = e12 120, c = e11 110, no b.
			name: "by kind, previous period",
			plan: tools.MetricsPlan{Metrics: []string{"event_count", "total_amount"}, GroupBy: []string{"kind"},
				Range: q4, CompareTo: tools.ComparePreviousPeriod, Compare: q3},
			want: [][]any{
				{"a", int64(2), int64(1), int64(1), 100.0, 1016.0, 120.0, 896.0, 746.67},
				{"b", int64(2), nil, nil, nil, 147.33, nil, nil, nil},
				{"c", int64(2), int64(1), int64(1), 100.0, 33.0, 110.0, -77.0, -70.0},
			},
		},
		{
			// October, November, December against July, August, September
			// bucket by bucket; August has no rows.
			name: "by month, previous period",
			plan: tools.MetricsPlan{Metrics: []string{"event_count"}, Grain: tools.GrainMonth,
				Range: q4, CompareTo: tools.ComparePreviousPeriod, Compare: q3},
			want: [][]any{
				{"2026-10-01", int64(4), int64(1), int64(3), 300.0},
				{"2026-11-01", int64(1), nil, nil, nil},
				{"2026-12-01", int64(1), int64(1), int64(0), 0.0},
			},
		},
		{
			name: "by month, previous year",
			plan: tools.MetricsPlan{Metrics: []string{"event_count", "flag_rate"}, Grain: tools.GrainMonth,
				Range: span("2026-12-01", "2027-01-01"), CompareTo: tools.ComparePreviousYear, Compare: span("2025-12-01", "2026-01-01")},
			// December 2026: e18 (flagged). December 2025: e01 (flagged), e02.
			want: [][]any{{"2026-12-01", int64(1), int64(2), int64(-1), -50.0, 1.0, 0.5, 0.5, 100.0}},
		},
		{
			// Weeks are matched by position, not date: the current range's
			// first (partial) week, starting 2026-09-28, with the comparison
			// range's first, starting 2025-12-29 (only its rows from
			// 2025-12-31 count: e02, e03, e04).
			name: "by week, ranges starting mid-week",
			plan: tools.MetricsPlan{Metrics: []string{"event_count"}, Grain: tools.GrainWeek,
				Range: span("2026-10-01", "2026-10-15"), CompareTo: tools.ComparePreviousPeriod, Compare: span("2025-12-31", "2026-01-14")},
			want: [][]any{
				{"2026-09-28", int64(1), int64(3), int64(-2), -66.67},
				{"2026-10-05", int64(2), int64(1), int64(1), 100.0},
				{"2026-10-12", int64(1), nil, nil, nil},
			},
		},
		{
			// A previous value of 0 has a change but no percent change.
			name: "previous zero",
			plan: tools.MetricsPlan{Metrics: []string{"unflagged"}, Range: span("2026-11-01", "2026-12-01"),
				CompareTo: tools.ComparePreviousPeriod, Compare: span("2026-10-12", "2026-11-01")},
			want: [][]any{{int64(1), int64(0), int64(1), nil}},
		},
		{
			name: "top 1 by change basis",
			plan: tools.MetricsPlan{Metrics: []string{"total_amount"}, GroupBy: []string{"kind"}, Order: []tools.Sort{{Field: "total_amount", Desc: true}},
				Limit: 1, Range: q4, CompareTo: tools.ComparePreviousPeriod, Compare: q3},
			want: [][]any{{"a", 1016.0, 120.0, 896.0, 746.67}},
		},
	}
	for _, c := range cases {
		for _, b := range backends {
			t.Run(c.name+"/"+b.name, func(t *testing.T) {
				res := b.metrics(t, p, c.plan)
				assertRows(t, res, c.want)
			})
		}
	}
}

func TestCompareColumns(t *testing.T) {
	t.Parallel()
	backends := fixtureBackends(t)
	p := fixtureProduct(t, "fixture-events", "at")
	want := []tools.ResultColumn{
		{Name: "period", Type: "date", Role: tools.RolePeriod},
		{Name: "kind", Type: "string", Role: tools.RoleDimension},
		{Name: "event_count", Type: "integer", Role: tools.RoleMetric, Unit: "count"},
		{Name: "event_count_previous", Type: "integer", Role: tools.RolePrevious, Metric: "event_count", Unit: "count"},
		{Name: "event_count_change", Type: "integer", Role: tools.RoleChange, Metric: "event_count", Unit: "count"},
		{Name: "event_count_change_pct", Type: "number", Role: tools.RoleChangePct, Metric: "event_count", Unit: "percent"},
		{Name: "avg_amount", Type: "number", Role: tools.RoleMetric, Unit: "amount"},
		{Name: "avg_amount_previous", Type: "number", Role: tools.RolePrevious, Metric: "avg_amount", Unit: "amount"},
		{Name: "avg_amount_change", Type: "number", Role: tools.RoleChange, Metric: "avg_amount", Unit: "amount"},
		{Name: "avg_amount_change_pct", Type: "number", Role: tools.RoleChangePct, Metric: "avg_amount", Unit: "percent"},
	}
	for _, b := range backends {
		res := b.metrics(t, p, tools.MetricsPlan{Metrics: []string{"event_count", "avg_amount"},
			GroupBy: []string{"kind"}, Grain: tools.GrainQuarter, Range: span("2026-01-01", "2027-01-01"),
			CompareTo: tools.ComparePreviousYear, Compare: span("2025-01-01", "2026-01-01")})
		if !reflect.DeepEqual(res.Columns, want) {
			t.Errorf("%s: columns\n got %+v\nwant %+v", b.name, res.Columns, want)
		}
		if res.Tool != tools.ToolQueryMetrics || res.Product != "fixture-events" {
			t.Errorf("%s: tool %q product %q", b.name, res.Tool, res.Product)
		}
	}
}
