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
		// "Who" and "which <the product's things>" ask for rows; a ranking stays a metric.
		{q: "who applied for a mortgage last week?", rule: "records"},
		{q: "which customers are in the private segment?", rule: "records"},
		{q: "which customers have the most transactions?", rule: "metrics"},
		{q: "Which channel brought the most new customers last month?", rule: "metrics"},
		// A lookup by email or name lists the matching records.
		{q: "which customer has the email clara.murphy164@example.net?", rule: "records"},
	})
}
