package planner

import (
	"context"
	"strings"
	"testing"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/tools"
)

func TestRuleAudit(t *testing.T) {
	t.Parallel()
	checkRules(t, []ruleCase{
		{q: "Who was denied access to loan-applications this week?", rule: "audit"},
		{q: "What did frank try today?", rule: "audit"},
		{q: "how many denials this week", rule: "audit"},
		{q: "How many queries did carol run last month?", rule: "audit"},
		{q: "how many requests has frank made this week?", rule: "audit"},
		{q: "how many loans were rejected in the past week?", rule: "metrics"},
		// Who may read a product is policy: the audit rule says so.
		{q: "who has access to customers?", rule: "audit"},
		// An email is a customer to look up unless the question speaks of access.
		{q: "Show me the customer with email anna.schmidt@example.com", rule: "records"},
		{q: "show bob@bank.example's access to customers", rule: "audit"},
	})
}

// TestAuditFirstNameResolves checks a count about a person named by first
// name: the log's subjects are looked up first; one id is counted alone,
// several are asked back (each option names one id), none is said.
func TestAuditFirstNameResolves(t *testing.T) {
	t.Parallel()
	p := testPlanner(t)
	q := "How many queries did carol run last month?"
	lookupIn := func(q string, subjects ...string) ([]assistant.Message, *assistant.Reply) {
		msgs := []assistant.Message{{Role: assistant.RoleUser, Content: q}}
		r, _ := p.Generate(context.Background(), assistant.ModelRequest{Messages: msgs, Tools: tools.Specs()}, nil)
		if len(r.Message.ToolCalls) != 1 || !strings.Contains(string(r.Message.ToolCalls[0].Arguments), `"group_by":["subject"]`) ||
			!strings.Contains(string(r.Message.ToolCalls[0].Arguments), `"value":"carol@"`) || strings.Contains(string(r.Message.ToolCalls[0].Arguments), "time_range") {
			t.Fatalf("first turn: %+v", r.Message)
		}
		res := &tools.Result{Tool: tools.ToolQueryMetrics, Product: "access-audit",
			Columns: []tools.ResultColumn{{Name: "subject"}, {Name: "access_count"}}}
		for i, s := range subjects {
			res.Rows = append(res.Rows, []any{s, 10 - i})
		}
		res.RowCount = len(res.Rows)
		msgs = append(msgs, r.Message, assistant.Message{Role: assistant.RoleTool, ToolCallID: r.Message.ToolCalls[0].ID, Content: assistant.ForModel(res, 50, 16<<10)})
		r, _ = p.Generate(context.Background(), assistant.ModelRequest{Messages: msgs, Tools: tools.Specs()}, nil)
		return msgs, r
	}

	lookup := func(subjects ...string) ([]assistant.Message, *assistant.Reply) { return lookupIn(q, subjects...) }

	// One carol (mcarol is not her): her id alone, for last month.
	_, r := lookup("carol@bank.example", "mcarol@bank.example")
	if len(r.Message.ToolCalls) != 1 {
		t.Fatalf("one carol: want the count call, got %+v", r.Message)
	}
	args := string(r.Message.ToolCalls[0].Arguments)
	if !strings.Contains(args, `{"column":"subject","op":"=","value":"carol@bank.example"}`) || !strings.Contains(args, `"time_range":"last_month"`) || strings.Contains(args, "group_by") {
		t.Errorf("one carol: count call %s", args)
	}

	// The count asked keeps its metric and period: her denials this month.
	_, r = lookupIn("how many times was carol denied this month", "carol@bank.example")
	if len(r.Message.ToolCalls) != 1 || string(r.Message.ToolCalls[0].Arguments) !=
		`{"product":"access-audit","metrics":["denial_count"],"filters":[{"column":"subject","op":"=","value":"carol@bank.example"}],"time_range":"this_month"}` {
		t.Errorf("carol's denials: %+v", r.Message)
	}

	// Two carols: asked back, one option per id, nothing counted.
	_, r = lookup("carol@bank.example", "carol@partner.example")
	if r.Outcome != assistant.OutcomeClarify || r.Clarification == nil || len(r.Clarification.Options) != 2 || len(r.Message.ToolCalls) != 0 {
		t.Fatalf("two carols: outcome %q, clarification %+v, calls %d", r.Outcome, r.Clarification, len(r.Message.ToolCalls))
	}
	if o := r.Clarification.Options[1]; o.Label != "carol@partner.example" || o.Question != "How many queries did carol@partner.example run last month?" {
		t.Errorf("two carols: option %+v", o)
	}
	if !strings.Contains(r.Message.Content, "carol@bank.example, carol@partner.example") {
		t.Errorf("two carols: text %q", r.Message.Content)
	}

	// No carol: said, not a zero passed off as hers.
	_, r = lookup()
	if len(r.Message.ToolCalls) != 0 || !strings.Contains(r.Message.Content, `No one whose id starts with "carol@"`) {
		t.Errorf("no carol: %+v", r.Message)
	}
}
