package planner

import "testing"

func TestRuleAudit(t *testing.T) {
	t.Parallel()
	checkRules(t, []ruleCase{
		{q: "Who was denied access to loan-applications this week?", rule: "audit"},
		{q: "What did frank try today?", rule: "audit"},
		{q: "how many denials this week", rule: "audit"},
		{q: "how many loans were rejected in the past week?", rule: "metrics"},
	})
}
