package planner

import "testing"

func TestRuleMetrics(t *testing.T) {
	t.Parallel()
	checkRules(t, []ruleCase{
		{q: "How many new customers did we acquire last month?", rule: "metrics"},
		{q: "approval rate by region this year vs last year", rule: "metrics"},
		{q: "Which campaign had the best conversion rate this year?", rule: "metrics"},
		{q: "top 3 regions by total amount last year", rule: "metrics"},
	})
}

func TestRuleBrief(t *testing.T) {
	t.Parallel()
	checkRules(t, []ruleCase{
		{q: "give me a brief on loan applications in Europe this quarter", rule: "brief"},
		{q: "Summarize customer acquisition last month vs the month before", rule: "executive-brief"},
		{q: "Give me an executive summary of last month", rule: "executive-brief"},
	})
}
