package planner

import "testing"

func TestRuleRecords(t *testing.T) {
	t.Parallel()
	checkRules(t, []ruleCase{
		{q: "show me the 5 largest withdrawals last month", rule: "records"},
		{q: "list loans over 500000 this year", rule: "records"},
		{q: "emails of customers in Europe", rule: "records"},
		{q: "show me the campaigns that started this year", rule: "records"},
		{q: "show me deposits by channel last month", rule: "metrics"},
	})
}
