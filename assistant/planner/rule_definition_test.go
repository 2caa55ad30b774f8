package planner

import (
	"strings"
	"testing"
)

func TestRuleDefinition(t *testing.T) {
	t.Parallel()
	checkRules(t, []ruleCase{
		{q: "How is conversion rate defined?", rule: "definition"},
		{q: "what counts as approval rate?", rule: "definition"},
		{q: "definition of click through rate", rule: "definition"},
		{q: "what is the conversion rate?", rule: "metrics"},
	})
	p := testPlanner(t)
	in := p.parse("How is conversion rate defined?", nil, testNow)
	if len(in.calls) != 1 || in.calls[0].tool != "describe_data_product" {
		t.Fatalf("a definition is read from the described product: %+v", in.calls)
	}
	got := p.definitionText(in, nil)
	for _, want := range []string{"sum(conversions) / sum(clicks)", "ratio", "start_date", "marketing-data@bank.example"} {
		if !strings.Contains(got, want) {
			t.Errorf("definition lacks %q: %s", want, got)
		}
	}
}
