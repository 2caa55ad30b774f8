package planner

import "testing"

func TestRuleHelp(t *testing.T) {
	t.Parallel()
	checkRules(t, []ruleCase{
		{q: "hello", rule: "help"},
		{q: "what can you do?", rule: "help"},
		{q: "", rule: "help"},
		{q: "help me with loan approvals", rule: "metrics"}, // names the catalog: not a greeting
	})
}
