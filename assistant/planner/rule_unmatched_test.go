package planner

import (
	"slices"
	"strings"
	"testing"

	"github.com/askmesh/askmesh/assistant"
)

func TestRuleUnmatched(t *testing.T) {
	t.Parallel()
	checkRules(t, []ruleCase{
		{q: "What is the mortgage default rate?", rule: "unmatched"},
		{q: "what is our churn?", rule: "unmatched"},
		{q: "NPS by region", rule: "unmatched"},
		{q: "new customers in Germany last month", rule: "unmatched"},
		// A person the product has no column to find them in.
		{q: "transactions by Mei Li last month", rule: "unmatched"},
		{q: "transactions of mei.li1@example.org", rule: "unmatched"},
		{q: "customer Mei Li", rule: "records"},
		{q: "What was the mortgage approval rate last quarter?", rule: "metrics"},
		{q: "How did the Summer Special Offer perform?", rule: "metrics"},
	})
	p := testPlanner(t)
	for q, want := range map[string][]string{
		"What is the mortgage default rate?": {"default rate"},
		"what is the fraud rate this month":  {"fraud rate"},
		"revenue by region last year":        {"revenue"},
		"new customers in Germany":           {"Germany"},
	} {
		in := p.parse(q, nil, testNow)
		if !slices.Equal(in.unmatched, want) || len(in.calls) > 0 || in.outcome != assistant.OutcomeDeclined {
			t.Errorf("%q: unmatched %v, %d calls, outcome %q; want %v, none, declined", q, in.unmatched, len(in.calls), in.outcome, want)
		}
	}
	// The closest metrics are named: the product's rate first.
	if got := p.compose(p.parse("What is the mortgage default rate?", nil, testNow), nil); !containsAll(got, `"default rate"`, "approval_rate of loan-applications") {
		t.Errorf("text: %s", got)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !contains(s, x) {
			return false
		}
	}
	return true
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
