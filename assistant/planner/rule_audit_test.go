package planner

import "testing"

func TestRuleAudit(t *testing.T) {
	t.Parallel()
	checkRules(t, []ruleCase{
		{q: "Who was denied access to loan-applications this week?", rule: "audit"},
		{q: "What did frank try today?", rule: "audit"},
		{q: "how many denials this week", rule: "audit"},
		{q: "how many loans were rejected in the past week?", rule: "metrics"},
		// Who may read a product is policy: the audit rule says so.
		{q: "who has access to customers?", rule: "audit"},
		// An email is a customer to look up unless the question speaks of access.
		{q: "Show me the customer with email anna.schmidt@example.com", rule: "records"},
		{q: "show bob@bank.example's access to customers", rule: "audit"},
	})
}
