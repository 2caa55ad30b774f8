package assistant_test

import (
	"fmt"
	"testing"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/tools"
)

// BenchmarkNumberCheck is the number check of one answer over one query
// result of 50 rows as a language model's answers get it: the question,
// the call's arguments and the tool message are read as text, the result
// as values.
func BenchmarkNumberCheck(b *testing.B) {
	res := &tools.Result{Tool: tools.ToolQueryMetrics, Product: "customer-transactions", RowCount: 50,
		Columns: []tools.ResultColumn{{Name: "day", Type: "date", Role: tools.RolePeriod}, {Name: "channel", Type: "string", Role: tools.RoleDimension},
			{Name: "transactions", Type: "integer", Role: tools.RoleMetric}, {Name: "total_amount", Type: "number", Role: tools.RoleMetric}}}
	for i := range 50 {
		res.Rows = append(res.Rows, []any{fmt.Sprintf("2026-10-%02d", i%31+1), []string{"branch", "online", "mobile"}[i%3], int64(1000 + 37*i), 12345.67 + 101.5*float64(i)})
	}
	question := "What were total deposits by channel per day last month?"
	args := `{"product":"customer-transactions","metrics":["transactions","total_amount"],"group_by":["channel"],"time_grain":"day","time_range":"last_month"}`
	content := assistant.ForModel(res, 50, 16<<10)
	answer := "Deposits totalled 12,345.67 on 1 October 2026 through branch, with 1,000 transactions; online brought 1,037 and 12,447.17, 0.8% more."
	b.ReportAllocs()
	for b.Loop() {
		k := assistant.NewKnownNumbers()
		k.AddText(question)
		k.AddText(args)
		k.AddText(content)
		k.AddResult(res)
		if flags := assistant.CheckNumbers(answer, k); len(flags) != 0 {
			b.Fatal(flags)
		}
	}
}
