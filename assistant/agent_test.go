package assistant_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/assistant/assistanttest"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/tools"
)

// stack builds the real stack on a private copy of the demo data.
func stack(t *testing.T, model assistant.Model) *app.App {
	t.Helper()
	dir := banktest.PrivateDir(t)
	a, err := app.Build(context.Background(), app.Config{DataDir: dir, Now: banktest.Now.Format("2006-01-02T15:04:05Z")}, app.WithModel(model))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func ask(t *testing.T, a *app.App, user, q string) *assistant.Answer {
	t.Helper()
	ans, err := a.Agent.Answer(context.Background(), assistant.Request{
		Caller:   tools.Caller{Subject: a.Directory.Lookup(user), Channel: "cli"},
		Question: q,
	})
	if err != nil {
		t.Fatal(err)
	}
	return ans
}

func records(t *testing.T, a *app.App) []audit.Record {
	t.Helper()
	recs, err := a.Audit.Search(context.Background(), audit.Query{})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestDenialReachesModelAndAnswerExplainsIt(t *testing.T) {
	t.Parallel()
	m := &assistanttest.Script{Stream: true, Turns: []assistanttest.Turn{
		assistanttest.Calls(assistanttest.Call("c1", tools.ToolQueryRecords, `{"product":"loan-applications","limit":5}`)),
		assistanttest.TextFunc(func(req assistant.ModelRequest) string {
			res := assistanttest.LastToolResults(req)
			return "I could not get that: " + strings.TrimPrefix(res[0].Content, "denied: ")
		}),
	}}
	a := stack(t, m)
	ans := ask(t, a, "carol@bank.example", "list loan applications")
	tool := assistanttest.LastToolResults(m.Requests()[1])
	if len(tool) != 1 || !strings.HasPrefix(tool[0].Content, "denied: ") || tool[0].ToolCallID != "c1" {
		t.Fatalf("the model did not get the denial as a tool result: %+v", tool)
	}
	if len(ans.Denials) != 1 || ans.Denials[0].Product != "loan-applications" || !strings.Contains(ans.Text, ans.Denials[0].Reason) {
		t.Fatalf("answer does not explain the denial: %q %+v", ans.Text, ans.Denials)
	}
	if len(ans.Tables) != 0 {
		t.Fatalf("a denied call produced tables: %+v", ans.Tables)
	}
	recs := records(t, a)
	if len(recs) != 1 || recs[0].Decision != audit.DecisionDeny || recs[0].Subject != "carol@bank.example" ||
		recs[0].Question != "list loan applications" || recs[0].Model != "scripted" || recs[0].ID != ans.Denials[0].AuditID {
		t.Fatalf("deny audit record wrong: %+v", recs)
	}
}

func TestMalformedCallIsCorrectedOnNextTurn(t *testing.T) {
	t.Parallel()
	m := &assistanttest.Script{Stream: true, Turns: []assistanttest.Turn{
		assistanttest.Calls(assistanttest.Call("c1", tools.ToolQueryMetrics, `{"product":"customer-acquisition","metrics":["new_customer"],"time_range":"last_month"`)),  // bad JSON
		assistanttest.Calls(assistanttest.Call("c2", tools.ToolQueryMetrics, `{"product":"customer-acquisition","metrics":["new_customer"],"time_range":"last_month"}`)), // unknown metric
		assistanttest.Calls(assistanttest.Call("c3", tools.ToolQueryMetrics, `{"product":"customer-acquisition","metrics":["new_customers"],"time_range":"last_month"}`)),
		assistanttest.Text("done"),
	}}
	a := stack(t, m)
	ans := ask(t, a, "carol@bank.example", "new customers last month")
	first := assistanttest.LastToolResults(m.Requests()[1])[0].Content
	if !strings.HasPrefix(first, "error: ") || !strings.Contains(first, "not valid JSON") {
		t.Fatalf("bad JSON: model got %q", first)
	}
	second := assistanttest.LastToolResults(m.Requests()[2])[0].Content
	if !strings.Contains(second, `metric "new_customer" is not defined for customer-acquisition`) || !strings.Contains(second, `did you mean "new_customers"`) {
		t.Fatalf("unknown metric: model got %q", second)
	}
	if len(ans.Tables) != 1 || len(ans.Tables[0].Rows) != 1 {
		t.Fatalf("the corrected call's result is not in the answer: %+v", ans.Tables)
	}
	recs := records(t, a)
	want := []string{audit.DecisionError, audit.DecisionError, audit.DecisionAllow}
	if len(recs) != 3 {
		t.Fatalf("want one audit record per call, got %d", len(recs))
	}
	for i, r := range recs {
		if r.Decision != want[i] {
			t.Errorf("record %d decision %s, want %s", i, r.Decision, want[i])
		}
	}
}

func TestParallelToolCalls(t *testing.T) {
	t.Parallel()
	m := &assistanttest.Script{Stream: true, Turns: []assistanttest.Turn{
		assistanttest.Calls(
			assistanttest.Call("a", tools.ToolQueryMetrics, `{"product":"customer-acquisition","metrics":["new_customers"],"time_range":"last_month"}`),
			assistanttest.Call("b", tools.ToolQueryMetrics, `{"product":"marketing-campaigns","metrics":["total_conversions"],"time_range":"this_year"}`),
			assistanttest.Call("c", tools.ToolQueryRecords, `{"product":"loan-applications"}`),
		),
		assistanttest.TextFunc(func(req assistant.ModelRequest) string {
			var ids []string
			for _, m := range assistanttest.LastToolResults(req) {
				ids = append(ids, m.ToolCallID)
			}
			return strings.Join(ids, ",")
		}),
	}}
	a := stack(t, m)
	ans := ask(t, a, "carol@bank.example", "three things at once")
	// this_year is not over on 15 November: the answer says so whatever the model wrote.
	if ans.Text != "a,b,c\nNote: 2026 is not over: the figures are for 2026 so far, 319 days of 365 (through 15 November 2026)." {
		t.Fatalf("tool results not returned in call order, or the partial year not noted: %q", ans.Text)
	}
	if len(ans.ToolCalls) != 3 || ans.ToolCalls[2].Decision != audit.DecisionDeny || len(ans.Tables) != 2 || len(ans.Sources) != 2 {
		t.Fatalf("answer: %d calls, %d tables, %d sources", len(ans.ToolCalls), len(ans.Tables), len(ans.Sources))
	}
	if n := len(records(t, a)); n != 3 {
		t.Fatalf("%d audit records for 3 calls", n)
	}
}

func TestStepBudgetEndsTheLoop(t *testing.T) {
	t.Parallel()
	m := &assistanttest.Script{Stream: true}
	for i := 0; i < 20; i++ {
		m.Turns = append(m.Turns, assistanttest.Calls(assistanttest.Call(fmt.Sprint("c", i), tools.ToolSearch, `{"query":"loans"}`)))
	}
	a := stack(t, m)
	ans := ask(t, a, "frank@bank.example", "loop forever")
	if ans.Steps != 8 || !strings.Contains(ans.Text, "could not finish") {
		t.Fatalf("steps %d, text %q", ans.Steps, ans.Text)
	}
	if reqs := m.Requests(); len(reqs[len(reqs)-1].Tools) != 0 {
		t.Fatal("the last turn still offered tools")
	}
}

func TestFollowUpSeesHistory(t *testing.T) {
	t.Parallel()
	m := &assistanttest.Script{Stream: true, Turns: []assistanttest.Turn{
		assistanttest.Text("first answer"),
		assistanttest.TextFunc(func(req assistant.ModelRequest) string {
			var seen []string
			for _, m := range req.Messages {
				if m.Role == assistant.RoleUser || m.Role == assistant.RoleAssistant {
					seen = append(seen, m.Content)
				}
			}
			return strings.Join(seen, "|")
		}),
	}}
	a := stack(t, m)
	caller := tools.Caller{Subject: a.Directory.Lookup("carol@bank.example"), Channel: "slack", ConversationID: "thread-1"}
	if _, err := a.Agent.Answer(context.Background(), assistant.Request{Caller: caller, Question: "q1"}); err != nil {
		t.Fatal(err)
	}
	ans, err := a.Agent.Answer(context.Background(), assistant.Request{Caller: caller, Question: "and the month before?"})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Text != "q1|first answer|and the month before?" {
		t.Fatalf("follow-up did not see the history: %q", ans.Text)
	}
}

func TestStreamEventOrder(t *testing.T) {
	t.Parallel()
	m := &assistanttest.Script{Stream: true, Turns: []assistanttest.Turn{
		assistanttest.Calls(assistanttest.Call("c1", tools.ToolSearch, `{"query":"customer transactions"}`)),
		assistanttest.Text("found it"),
	}}
	a := stack(t, m)
	var types []string
	_, err := a.Agent.Stream(context.Background(), assistant.Request{
		Caller: tools.Caller{Subject: a.Directory.Lookup("alice@bank.example")}, Question: "what data about transactions?",
	}, func(ev assistant.Event) { types = append(types, ev.Type) })
	if err != nil {
		t.Fatal(err)
	}
	want := "thinking,tool_started,tool_finished,thinking,text,answer"
	if got := strings.Join(types, ","); got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
}

func TestAuditOutageWithholdsData(t *testing.T) {
	t.Parallel()
	m := &assistanttest.Script{Stream: true, Turns: []assistanttest.Turn{
		assistanttest.Calls(assistanttest.Call("c1", tools.ToolQueryMetrics, `{"product":"customer-acquisition","metrics":["new_customers"]}`)),
		assistanttest.TextFunc(func(req assistant.ModelRequest) string { return assistanttest.LastToolResults(req)[0].Content }),
	}}
	a := stack(t, m)
	if err := a.Audit.Close(); err != nil { // the store is gone: nothing can be recorded
		t.Fatal(err)
	}
	ans := ask(t, a, "carol@bank.example", "new customers")
	if !strings.Contains(ans.Text, tools.ErrAuditUnavailable.Error()) {
		t.Fatalf("model was not told the audit log is unavailable: %q", ans.Text)
	}
	if len(ans.Tables) != 0 || len(ans.Sources) != 0 || strings.ContainsAny(ans.Text, "0123456789") {
		t.Fatalf("data leaked without an audit record: %+v", ans)
	}
}

func TestToolResultsAreCappedForTheModel(t *testing.T) {
	t.Parallel()
	m := &assistanttest.Script{Stream: true, Turns: []assistanttest.Turn{
		assistanttest.Calls(assistanttest.Call("c1", tools.ToolQueryRecords, `{"product":"marketing-campaigns","limit":40}`)),
		assistanttest.TextFunc(func(req assistant.ModelRequest) string { return assistanttest.LastToolResults(req)[0].Content }),
	}}
	a := stack(t, m)
	a2, err := assistant.New(assistant.Options{Model: m, Tools: a.Executor, ResultRows: 10, Clock: a.Clock})
	if err != nil {
		t.Fatal(err)
	}
	ans, err := a2.Answer(context.Background(), assistant.Request{Caller: tools.Caller{Subject: a.Directory.Lookup("alice@bank.example")}, Question: "campaigns"})
	if err != nil {
		t.Fatal(err)
	}
	var view struct {
		Rows      [][]any `json:"rows"`
		Truncated string  `json:"truncated"`
	}
	if err := json.Unmarshal([]byte(ans.Text), &view); err != nil {
		t.Fatal(err)
	}
	if len(view.Rows) != 10 || !strings.Contains(view.Truncated, "showing 10 of 40 rows") {
		t.Fatalf("model saw %d rows, note %q", len(view.Rows), view.Truncated)
	}
	if len(ans.Tables) != 1 || len(ans.Tables[0].Rows) != 40 {
		t.Fatal("the person's table lost rows")
	}
}
