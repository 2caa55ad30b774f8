package planner

import (
	"context"

	"github.com/askmesh/askmesh/assistant"
)

// RuleOf names the rule the planner's table chose for the last question
// of msgs (a conversation as the agent keeps it), so a failing suite case
// can say which rule fired; ctx carries the asker, as for Generate.
func (p *Planner) RuleOf(ctx context.Context, msgs []assistant.Message) string {
	return p.ruleOf(ctx, msgs)
}
