package planner

import (
	"slices"
	"testing"
)

func TestRuleMultiPart(t *testing.T) {
	t.Parallel()
	checkRules(t, []ruleCase{
		{q: "How many loan applications last month, and what share was approved?", rule: "multi-part"},
		{q: "how many new customers last month and how many transactions?", rule: "multi-part"},
		{q: "What data do we have about loans, and who owns it?", rule: "discover"},
		// A lead-in asks nothing by itself: it qualifies the part after it.
		{q: "on average, how many loans do we approve per week last quarter?", rule: "metrics"},
	})
	if got := splitParts("How many loan applications last month, and what share was approved?"); !slices.Equal(got,
		[]string{"How many loan applications last month?", "what share was approved?"}) {
		t.Errorf("parts %q", got)
	}
	// The second part takes the first's period and product, and no filter
	// of one part leaks into the other.
	p := testPlanner(t)
	in := p.parse("How many loan applications last month, and what share was approved?", nil, testNow)
	if len(in.parts) != 2 || len(in.calls) != 3 || in.parts[1].share == nil {
		t.Fatalf("parts %d, calls %d", len(in.parts), len(in.calls))
	}
	for _, c := range calls(in) {
		if !contains(c, `"time_range":"last_month"`) || !contains(c, `"product":"loan-applications"`) {
			t.Errorf("call %s lacks the first part's period or product", c)
		}
	}
	if contains(calls(in)[0], "approved") {
		t.Errorf("the count of applications is filtered by the other part's word: %s", calls(in)[0])
	}
}
