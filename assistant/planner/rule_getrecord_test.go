package planner

import "testing"

func TestRuleGetRecord(t *testing.T) {
	t.Parallel()
	checkRules(t, []ruleCase{
		{q: "loan loan-000123", rule: "get-record"},
		{q: "customer cust-00042", rule: "get-record"},
		{q: "what is the email of customer cust-00042?", rule: "get-record"},
		// An identifier that is an ordinary column of the asked product filters it.
		{q: "transactions of customer cust-00042 last month", rule: "metrics"},
	})
}
