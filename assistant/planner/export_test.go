package planner

import "github.com/askmesh/askmesh/assistant"

// RuleOf names the rule the planner's table chose for the last question
// of msgs (a conversation as the agent keeps it), so a failing suite case
// can say which rule fired.
func (p *Planner) RuleOf(msgs []assistant.Message) string {
	return p.ruleOf(msgs)
}
