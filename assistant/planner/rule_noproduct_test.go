package planner

import "testing"

func TestRuleNoProduct(t *testing.T) {
	t.Parallel()
	checkRules(t, []ruleCase{
		{q: "What's the weather in Europe?", rule: "no-product"},
		{q: "Tell me a joke", rule: "no-product"},
		{q: "How many?", rule: "no-product"},
	})
}
