package planner

import (
	"fmt"
	"testing"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/assistant/brief"
)

func TestRuleFollowUp(t *testing.T) {
	t.Parallel()
	checkRules(t, []ruleCase{
		{history: []string{"new customers last month"}, q: "and the month before?", rule: "follow-up"},
		{history: []string{"new customers last month"}, q: "what about Europe?", rule: "follow-up"},
		{history: []string{"new customers last month"}, q: "and by channel?", rule: "follow-up"},
		// A question of its own after another is read afresh.
		{history: []string{"new customers last month"}, q: "What was the mortgage approval rate last quarter?", rule: "metrics"},
		{history: []string{"new customers by channel last month"}, q: "which one is the largest?", rule: "follow-up"},
		{history: []string{"how many fraud complaints this week"}, q: "show them", rule: "follow-up"},
	})
	// A follow-up keeps the previous question's parts and share.
	in := testPlanner(t).parse("and by type?", &previousTurn{question: "How many loan applications last month, and what share was approved?",
		calls: toolCalls(t, testPlanner(t).parse("How many loan applications last month, and what share was approved?", nil, testNow))}, testNow)
	if len(in.parts) != 2 || in.parts[1].share == nil || len(in.parts[1].share.groups) != 1 || in.parts[1].share.groups[0] != "loan_type" {
		t.Errorf("the follow-up lost the shape of the question before: %d parts", len(in.parts))
	}
	p := testPlanner(t)
	// "the largest one" picks the top row of the previous breakdown.
	hist := converse(t, p, "new customers by channel last month")
	got, _ := plan(t, p, hist, "which one is the largest?")
	want := `query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"group_by":["channel"],"time_range":"last_month","order_by":[{"field":"new_customers","direction":"desc"}],"limit":1}`
	if len(got) != 1 || got[0] != want {
		t.Errorf("largest one: %q, want %q", got, want)
	}
	// "show them" lists the records behind the figure.
	hist = converse(t, p, "how many fraud complaints this week")
	got, _ = plan(t, p, hist, "show them")
	want = `query_records {"product":"customer-interactions","filters":[{"column":"topic","op":"=","value":"fraud"}],"time_range":"this_week","order_by":[{"field":"occurred_at","direction":"desc"}]}`
	if len(got) != 1 || got[0] != want {
		t.Errorf("show them: %q, want %q", got, want)
	}
	// A new breakdown drops the filter it contradicts.
	hist = converse(t, p, "What was the mortgage approval rate last quarter?")
	got, _ = plan(t, p, hist, "and by type?")
	want = `query_metrics {"product":"loan-applications","metrics":["approval_rate"],"group_by":["loan_type"],"time_range":"last_quarter","order_by":[{"field":"approval_rate","direction":"desc"}]}`
	if len(got) != 1 || got[0] != want {
		t.Errorf("by type: %q, want %q", got, want)
	}
}

// toolCalls are an intent's calls as the agent records them.
func toolCalls(t *testing.T, in *intent) []assistant.ToolCall {
	t.Helper()
	var out []assistant.ToolCall
	for i, c := range in.calls {
		out = append(out, assistant.ToolCall{ID: fmt.Sprint("c", i), Name: c.tool, Arguments: brief.Marshal(c.args)})
	}
	return out
}
