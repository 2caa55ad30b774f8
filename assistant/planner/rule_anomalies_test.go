package planner

import "testing"

func TestRuleAnomalies(t *testing.T) {
	t.Parallel()
	checkRules(t, []ruleCase{
		{q: "Show me unusual transactions this month", rule: "anomalies"},
		{q: "any suspicious withdrawals this year?", rule: "anomalies"},
		{q: "unusual loan applications", rule: "anomalies"}, // says lending has no detection
	})
}
