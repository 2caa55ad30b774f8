package planner

import "testing"

func TestRuleDescribe(t *testing.T) {
	t.Parallel()
	checkRules(t, []ruleCase{
		{q: "describe loan-applications", rule: "describe"},
		{q: "who owns the transactons data?", rule: "describe"},
		{q: "what columns does customers have?", rule: "describe"},
		{q: "describe the weather", rule: "describe"}, // describe names nothing: says so
		{q: "how many fields do campaigns have", rule: "metrics"},
	})
}
