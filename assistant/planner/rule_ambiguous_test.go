package planner

import (
	"testing"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/catalog"
)

func TestRuleAmbiguous(t *testing.T) {
	t.Parallel()
	checkRules(t, []ruleCase{
		{q: "average amount last month", rule: "ambiguous-product"},
		{q: "average amount last month (loan-applications)?", rule: "metrics"},
		{q: "How many customers did we acquire in Q3 2026?", rule: "metrics"},
		{q: "total spending last month", rule: "ambiguous-word"},
		{q: "which customers spent the most last month?", rule: "metrics"},
	})
	for _, q := range []string{"average amount last month", "total spending last month"} {
		checkOptions(t, q)
	}
}

// checkOptions checks that every option of q's clarification is a question
// the table answers without asking again.
func checkOptions(t *testing.T, q string) {
	t.Helper()
	p := testPlanner(t)
	in := p.parse(q, nil, testNow)
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

// An asker who may query only one of the products is not asked to choose.
func TestRuleAmbiguousWordAsker(t *testing.T) {
	t.Parallel()
	p := testPlanner(t)
	only := func(prod *catalog.Product) bool { return prod.Name == "marketing-campaigns" }
	in := p.parseAs("total spending last month", nil, testNow, only)
	if in.outcome != "" || in.product == nil || in.product.Name != "marketing-campaigns" {
		t.Errorf("rule %s, outcome %q, product %v", in.rule, in.outcome, in.product)
	}
}
