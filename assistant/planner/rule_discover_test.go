package planner

import "testing"

func TestRuleDiscover(t *testing.T) {
	t.Parallel()
	checkRules(t, []ruleCase{
		{q: "What data do we have about customer transactions?", rule: "discover"},
		{q: "Which products cover loans?", rule: "discover"},
		{q: "is there any data on marketing campains?", rule: "discover"},
		{q: "describe loan-applications", rule: "describe"},
	})
}
