package planner

import "testing"

func TestRuleCompareValues(t *testing.T) {
	t.Parallel()
	checkRules(t, []ruleCase{
		{q: "Compare email vs social campaigns by conversions", rule: "compare-values"},
		{q: "deposits vs withdrawals last month", rule: "compare-values"},
		{q: "new customers this year compared with last year", rule: "metrics"}, // periods, not values
	})
	p := testPlanner(t)
	got := calls(p.parse("Compare email vs social campaigns by conversions", nil, testNow))
	want := `query_metrics {"product":"marketing-campaigns","metrics":["total_conversions"],"group_by":["channel"],"filters":[{"column":"channel","op":"in","value":["email","social"]}],"order_by":[{"field":"total_conversions","direction":"desc"}]}`
	if len(got) != 1 || got[0] != want {
		t.Errorf("calls %q\nwant %q", got, want)
	}
	// Ranking by one metric while showing another.
	got = calls(p.parse("Top 3 campaigns by conversions, with their budget", nil, testNow))
	want = `query_metrics {"product":"marketing-campaigns","metrics":["total_conversions","total_budget"],"group_by":["name"],"order_by":[{"field":"total_conversions","direction":"desc"}],"limit":3}`
	if len(got) != 1 || got[0] != want {
		t.Errorf("calls %q\nwant %q", got, want)
	}
}
