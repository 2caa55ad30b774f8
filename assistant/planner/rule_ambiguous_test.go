package planner

import (
	"testing"

	"github.com/askmesh/askmesh/assistant"
)

func TestRuleAmbiguous(t *testing.T) {
	t.Parallel()
	checkRules(t, []ruleCase{
		{q: "average amount last month", rule: "ambiguous-product"},
		{q: "average amount last month (loan-applications)?", rule: "metrics"},
		{q: "How many customers did we acquire in Q3 2026?", rule: "metrics"},
	})
	// Every option is a question the table answers without asking again.
	p := testPlanner(t)
	in := p.parse("average amount last month", nil, testNow)
	if in.outcome != assistant.OutcomeClarify || in.clarify == nil || len(in.clarify.Options) != 2 {
		t.Fatalf("want a clarification with two options, got %+v", in)
	}
	for _, o := range in.clarify.Options {
		got := p.parse(o.Question, nil, testNow)
		if got.outcome != "" || len(got.calls) != 1 || got.product.Name != o.Label {
			t.Errorf("option %q: rule %s, outcome %q, %d calls", o.Question, got.rule, got.outcome, len(got.calls))
		}
	}
}
