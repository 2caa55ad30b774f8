package planner

import (
	"context"
	"testing"

	"github.com/askmesh/askmesh/assistant"
)

// ruleCase is a question (after history, in one conversation) and the rule
// that must read it.
type ruleCase struct {
	history []string
	q       string
	rule    string
}

// checkRules asks each case and compares the rule that fired.
func checkRules(t *testing.T, cases []ruleCase) {
	t.Helper()
	p := testPlanner(t)
	for _, c := range cases {
		hist := converse(t, p, c.history...)
		msgs := append(hist, assistant.Message{Role: assistant.RoleUser, Content: c.q})
		if got := p.ruleOf(context.Background(), msgs); got != c.rule {
			in := p.parse(c.q, lastTurn(hist), testNow)
			t.Errorf("%q (after %q): rule %q, want %q; calls %+v", c.q, c.history, got, c.rule, in.calls)
		}
	}
}

// TestRuleTable checks every rule has a distinct name and that the general
// metrics rule comes last, so more specific rules get their chance.
func TestRuleTable(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, r := range rules {
		if r.name == "" || seen[r.name] {
			t.Errorf("rule name %q empty or repeated", r.name)
		}
		seen[r.name] = true
	}
	if rules[len(rules)-1].name != "metrics" {
		t.Errorf("the last rule is %q, want metrics", rules[len(rules)-1].name)
	}
}
