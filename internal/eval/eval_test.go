package eval_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/adapters/models/openai/openaitest"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/internal/eval"
	"github.com/askmesh/askmesh/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// scriptedTurn plays a model: for each question, the call it makes, then
// what it says given the number the call returned.
type scriptedTurn struct {
	call string
	say  func(n float64) string
}

var script = map[string]scriptedTurn{
	// Right: the asked metric, stated as returned.
	"How many new customers did we acquire last month?": {
		`{"product":"customer-acquisition","metrics":["new_customers"],"time_range":"last_month"}`,
		func(n float64) string { return fmt.Sprintf("We acquired %.0f new customers in October 2026.", n) }},
	"What was the mortgage approval rate last quarter?": {
		`{"product":"loan-applications","metrics":["approval_rate"],"filters":[{"column":"loan_type","op":"=","value":"mortgage"}],"time_range":"last_quarter"}`,
		func(n float64) string { return fmt.Sprintf("The mortgage approval rate in Q3 2026 was %.1f%%.", 100*n) }},
	// Substitutes a metric: counts deposits and calls the count the total.
	"What were total deposits last month?": {
		`{"product":"customer-transactions","metrics":["transaction_count"],"filters":[{"column":"type","op":"=","value":"deposit"}],"time_range":"last_month"}`,
		func(n float64) string { return fmt.Sprintf("Total deposits last month were %.0f.", n) }},
	// Invents a number: the call is right, the figure is not.
	"How many transactions this year?": {
		`{"product":"customer-transactions","metrics":["transaction_count"],"time_range":"this_year"}`,
		func(n float64) string { return fmt.Sprintf("There were %.0f transactions this year.", n+1370) }},
	// Declines once policy refuses.
	"What was the loan approval rate last month?": {
		`{"product":"loan-applications","metrics":["approval_rate"],"time_range":"last_month"}`,
		func(float64) string { return "I can't show that: the loan data is not available to you." }},
}

// firstNumber is the first number of a tool result as the model reads it.
func firstNumber(content string) (float64, bool) {
	var v struct {
		Rows [][]any `json:"rows"`
	}
	if json.Unmarshal([]byte(content), &v) != nil {
		return 0, false
	}
	for _, r := range v.Rows {
		for _, c := range r {
			if f, ok := c.(float64); ok {
				return f, true
			}
		}
	}
	return 0, false
}

func scriptedModel(t *testing.T) *openaitest.Server {
	srv := openaitest.NewServer(t)
	usage := &openaitest.Usage{PromptTokens: 1000, CompletionTokens: 50}
	srv.SetResponder(func(req openaitest.Request) openaitest.Step {
		var question string
		for _, m := range req.Messages {
			if m.Role == "user" {
				question = m.Content
			}
		}
		turn, ok := script[question]
		if !ok { // the segments question: the model's API fails
			return openaitest.Step{Status: 400, Error: "the model is overloaded with this question"}
		}
		results := req.LastToolResults()
		if len(results) == 0 {
			return openaitest.Step{ToolCalls: []openaitest.ToolCall{{ID: "c1", Name: "query_metrics", Arguments: turn.call}}, Usage: usage}
		}
		n, _ := firstNumber(results[0].Content)
		return openaitest.Step{Text: turn.say(n), Usage: usage}
	})
	return srv
}

// The scripted model gets two right, substitutes a metric on one, invents a
// number on one, errors on one and declines one it may not see: the report
// scores each exactly, and each question left its audit trail in its own
// conversation on the eval channel.
func TestScriptedModelIsScoredExactly(t *testing.T) {
	t.Parallel()
	srv := scriptedModel(t)
	suite, err := eval.LoadSuite("testdata/scripted.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := app.Config{DataDir: banktest.PrivateDir(t), Now: banktest.Now.Format(time.RFC3339)}
	cfg.Model = app.ModelConfig{Provider: "openai", BaseURL: srv.BaseURL(), APIKey: "test", Timeout: 10 * time.Second}
	cfg.Eval.Prices = map[string]app.Price{"openai:scripted": {Input: 2.5, Output: 10}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := eval.Run(ctx, suite, eval.Options{Config: cfg, Models: []string{"openai:scripted", "offline"}, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	scripted := rep.Models[0]
	want := map[string]string{"new-customers": eval.Right, "mortgage-approval": eval.Right, "deposits": eval.Wrong,
		"transactions": eval.Wrong, "segments": eval.Error, "intern-loans": eval.Right}
	for id, status := range want {
		r, _ := scripted.Result(id)
		if r.Status != status {
			t.Errorf("%s: %s (%s), want %s; answer %q", id, r.Status, r.Reason, status, r.Answer)
		}
	}
	s := scripted.Summary
	if s.Counts[eval.Right] != 3 || s.Counts[eval.Wrong] != 2 || s.Counts[eval.Error] != 1 || s.Total != 6 {
		t.Errorf("scripted summary %+v", s)
	}
	// Two model turns per answered question, 1000+50 tokens each; the
	// failed question left no answer to count.
	if s.Turns != 10 || s.PromptTokens != 10_000 || s.CompletionTokens != 500 {
		t.Errorf("turns %d, tokens %d+%d", s.Turns, s.PromptTokens, s.CompletionTokens)
	}
	if wantCost := (10_000*2.5 + 500*10) / 1e6; s.Cost != wantCost || !s.Priced {
		t.Errorf("cost %v, want %v", s.Cost, wantCost)
	}
	if s.LatencyP50MS <= 0 || s.LatencyP95MS < s.LatencyP50MS {
		t.Errorf("latency p50 %v p95 %v", s.LatencyP50MS, s.LatencyP95MS)
	}
	// The wrong answers say what the truth was.
	if r, _ := scripted.Result("deposits"); !strings.Contains(r.Reason, "does not state 621423.13, 325417.86, 47679.72") {
		t.Errorf("deposits reason %q", r.Reason)
	}
	if r, _ := scripted.Result("transactions"); !strings.Contains(r.Reason, "not in any tool result") {
		t.Errorf("invented number's reason %q", r.Reason)
	}
	// The offline planner, side by side, gets every answerable one right
	// (the segments case states the mass segment's count).
	if o := rep.Models[1].Summary; o.Counts[eval.Right] != 6 || o.Priced {
		t.Errorf("offline summary %+v", o)
	}

	// Every call went through policy and audit, in the question's own
	// conversation, on the eval channel.
	a, err := app.Build(ctx, cfg, app.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	r, _ := scripted.Result("intern-loans")
	all, err := a.Audit.Search(ctx, audit.Query{Subject: "frank@bank.example"})
	if err != nil {
		t.Fatal(err)
	}
	var recs []audit.Record
	for _, rec := range all {
		if rec.ConversationID == r.Conversation {
			recs = append(recs, rec)
		}
	}
	if len(recs) != 1 || recs[0].Decision != audit.DecisionDeny || recs[0].Subject != "frank@bank.example" || recs[0].Channel != eval.Channel || recs[0].Model != "openai:scripted" {
		t.Errorf("frank's question left %+v", recs)
	}

	// The three reports carry the same scores.
	var md, html, js bytes.Buffer
	if err := rep.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| openai:scripted | 3 (50%) | 2 | 0 | 0 | 1 |") {
		t.Errorf("markdown summary:\n%s", md.String())
	}
	if !strings.Contains(html.String(), `<td class="n">3 (50%)</td><td class="n">2</td>`) || strings.Contains(html.String(), "<script") {
		t.Errorf("html report:\n%s", html.String())
	}
	var back eval.Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Models[0].Summary.Counts[eval.Wrong] != 2 {
		t.Errorf("json report: %v %+v", err, back.Models)
	}
	if err := rep.Gate(0.5, 0.34); err != nil {
		t.Errorf("gate at the scores: %v", err)
	}
	if err := rep.Gate(0.6, -1); err == nil || !strings.Contains(err.Error(), "openai:scripted: 50.0% right") {
		t.Errorf("gate above the scores: %v", err)
	}
}
