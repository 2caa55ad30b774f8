package assistant

import (
	"testing"

	"github.com/askmesh/askmesh/tools"
)

// TestBreakdownOverTimeIsBars: a count by region over months is stacked
// bars (the parts add up); amounts per currency over months are bars side
// by side (currencies never add up); one line over months stays a line,
// its month not over marked partial.
func TestBreakdownOverTimeIsBars(t *testing.T) {
	period := tools.ResultColumn{Name: "period", Role: tools.RolePeriod}
	rows := [][]any{{"2026-10-01", "europe", int64(3)}, {"2026-10-01", "asia", int64(4)}, {"2026-11-01", "europe", int64(5)}, {"2026-11-01", "asia", int64(1)}}
	res := &tools.Result{Tool: tools.ToolQueryMetrics, Product: "p", Rows: rows, Columns: []tools.ResultColumn{period,
		{Name: "region", Role: tools.RoleDimension}, {Name: "new_customers", Role: tools.RoleMetric, Unit: "count"}}}
	if ch, ok := chartFor(res, Source{}); !ok || ch.Kind != ChartBar || !ch.Stacked || len(ch.Series) != 2 {
		t.Errorf("count by region over months: %+v", ch)
	}
	res.Columns[1].Name = "currency"
	res.Columns[2] = tools.ResultColumn{Name: "total_amount", Role: tools.RoleMetric, Unit: "amount", UnitColumn: "currency"}
	if ch, ok := chartFor(res, Source{}); !ok || ch.Kind != ChartBar || ch.Stacked {
		t.Errorf("amounts per currency over months: %+v", ch)
	}
	one := &tools.Result{Tool: tools.ToolQueryMetrics, Product: "p", Rows: [][]any{{"2026-10-01", int64(3)}, {"2026-11-01", int64(1)}},
		Columns: []tools.ResultColumn{period, {Name: "new_customers", Role: tools.RoleMetric, Unit: "count"}},
		Partial: []tools.PartialPeriod{{Bucket: "2026-11-01"}}}
	ch, ok := chartFor(one, Source{})
	if !ok || ch.Kind != ChartLine || ch.Series[0].Points[0].Partial || !ch.Series[0].Points[1].Partial {
		t.Errorf("one metric over months: %+v", ch)
	}
}
