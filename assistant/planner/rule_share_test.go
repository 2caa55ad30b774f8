package planner

import (
	"context"
	"fmt"
	"testing"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/assistant/brief"
	"github.com/askmesh/askmesh/tools"
)

// calls renders an intent's calls as "tool {args}".
func calls(in *intent) []string {
	var out []string
	for _, c := range in.calls {
		out = append(out, c.tool+" "+string(brief.Marshal(c.args)))
	}
	return out
}

func TestRuleShare(t *testing.T) {
	t.Parallel()
	checkRules(t, []ruleCase{
		{q: "Which region has the highest share of high-risk customers?", rule: "share"},
		{q: "what percentage of transactions were deposits last month", rule: "share"},
		{q: "What share of loan applications were approved or funded?", rule: "share"},
		{q: "what percentage of decided loans is the approval rate", rule: "metrics"}, // a declared rate
	})
	p := testPlanner(t)
	in := p.parse("Which region has the highest share of high-risk customers?", nil, testNow)
	got := calls(in)
	want := []string{
		`query_metrics {"product":"customers","metrics":["customer_count"],"group_by":["region"],"filters":[{"column":"risk_rating","op":"=","value":"high"}]}`,
		`query_metrics {"product":"customers","metrics":["customer_count"],"group_by":["region"]}`,
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("calls\n%q\nwant\n%q", got, want)
	}
}

// TestShareTable: the answer's table of a share is the share per group,
// not the two counts behind it.
func TestShareTable(t *testing.T) {
	t.Parallel()
	p := testPlanner(t)
	q := "Which region has the highest share of high-risk customers?"
	in := p.parse(q, nil, testNow)
	cols := []tools.ResultColumn{{Name: "region", Type: "string", Role: tools.RoleDimension}, {Name: "customer_count", Type: "integer", Role: tools.RoleMetric, Unit: "count"}}
	results := map[string]*tools.Result{
		"c0": {Tool: tools.ToolQueryMetrics, Product: "customers", Columns: cols, Rows: [][]any{{"europe", int64(135)}, {"north-america", int64(160)}}},
		"c1": {Tool: tools.ToolQueryMetrics, Product: "customers", Columns: cols, Rows: [][]any{{"europe", int64(1835)}, {"north-america", int64(2088)}}},
	}
	ans := &assistant.Answer{}
	for i, c := range in.calls {
		id := fmt.Sprintf("c%d", i)
		ans.ToolCalls = append(ans.ToolCalls, assistant.ToolCallRecord{ID: id, Tool: c.tool, Arguments: brief.Marshal(c.args), Decision: "allow", AuditID: "a" + id})
		ans.Tables = append(ans.Tables, assistant.Table{Title: "counts", Source: assistant.Source{AuditID: "a" + id}})
	}
	p.ShapeAnswer(context.Background(), q, ans, results)
	if len(ans.Tables) != 1 {
		t.Fatalf("tables %+v, want the share table only", ans.Tables)
	}
	tb := ans.Tables[0]
	last := tb.Columns[len(tb.Columns)-1]
	if last.Name != "share" || last.Unit != "ratio" {
		t.Errorf("last column %+v, want a share in ratio units", last)
	}
	if row := tb.Rows[0]; row[0] != "north-america" || row[3].(float64) != 160.0/2088 {
		t.Errorf("first row %v, want north-america with 160/2088", row)
	}
}
