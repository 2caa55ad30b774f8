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
		// A count about a campaign id is over the one product holding it as a column.
		{q: "how many customers did camp-001 bring?", rule: "metrics"},
		{q: "how many conversions did camp-001 get?", rule: "get-record"},
		{q: "loans of customer cust-00164", rule: "metrics"},
	})
}
