package planner

import "testing"

func TestRuleFollowUp(t *testing.T) {
	checkRules(t, []ruleCase{
		{history: []string{"new customers last month"}, q: "and the month before?", rule: "follow-up"},
		{history: []string{"new customers last month"}, q: "what about Europe?", rule: "follow-up"},
		{history: []string{"new customers last month"}, q: "and by channel?", rule: "follow-up"},
		// A question of its own after another is read afresh.
		{history: []string{"new customers last month"}, q: "What was the mortgage approval rate last quarter?", rule: "metrics"},
	})
}
