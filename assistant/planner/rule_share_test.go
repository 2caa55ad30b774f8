package planner

import (
	"testing"

	"github.com/askmesh/askmesh/assistant/brief"
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
