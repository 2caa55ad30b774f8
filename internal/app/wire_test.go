package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/adapters/models/langchain"
	"github.com/askmesh/askmesh/adapters/models/langchain/langchaintest"
	"github.com/askmesh/askmesh/adapters/models/openai"
	"github.com/askmesh/askmesh/adapters/models/openai/openaitest"
	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/tools"
)

// The model's side of one question, whatever the wire: the first request is
// refused with a 429; then three calls at once (one allowed, one policy
// denies, one with malformed arguments); then the malformed one corrected;
// then the answer.
type wireCall struct{ id, tool, args string }

var wireTurns = [][]wireCall{
	{
		{"c1", tools.ToolQueryMetrics, `{"product":"customer-acquisition","metrics":["new_customers"],"time_range":"last_month","compare_to":"previous_period"}`},
		{"c2", tools.ToolQueryMetrics, `{"product":"loan-applications","metrics":["approval_rate"],"time_range":"last_month"}`},
		{"c3", tools.ToolQueryRecords, `{"product":"marketing-campaigns","limit":`},
	},
	{{"c4", tools.ToolQueryRecords, `{"product":"marketing-campaigns","columns":["name"],"limit":1}`}},
}

const wireAnswer = "New customers last month: 398, up from 297. Loan figures were withheld by policy."

// wireResult is a tool result as the model received it on the wire.
type wireResult struct{ id, content string }

func TestQuestionOverTheOpenAIWire(t *testing.T) {
	t.Parallel()
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "json", true: "sse"}[stream], func(t *testing.T) {
			srv := openaitest.NewServer(t)
			m, err := openai.New(openai.Config{BaseURL: srv.BaseURL(), APIKey: "test", Model: "scripted", Timeout: 10 * time.Second,
				MaxRetries: 2, RetryDelay: time.Millisecond, Stream: stream})
			if err != nil {
				t.Fatal(err)
			}
			var seen [][]wireResult
			srv.SetResponder(func(req openaitest.Request) openaitest.Step {
				n := len(srv.Requests()) // this request included
				if n == 1 {
					return openaitest.Step{Status: 429, Error: "rate limited"}
				}
				var got []wireResult
				for _, r := range req.LastToolResults() {
					got = append(got, wireResult{r.ToolCallID, r.Content})
				}
				seen = append(seen, got)
				if n-2 < len(wireTurns) {
					var calls []openaitest.ToolCall
					for _, c := range wireTurns[n-2] {
						calls = append(calls, openaitest.ToolCall{ID: c.id, Name: c.tool, Arguments: c.args})
					}
					return openaitest.Step{ToolCalls: calls}
				}
				return openaitest.Step{Text: wireAnswer}
			})
			ans := askOverTheWire(t, m, stream)
			reqs := srv.Requests()
			if got := reqs[1].ToolNames(); len(reqs) != 4 || len(got) != 8 || reqs[1].Stream != stream {
				t.Errorf("%d requests; the second offers tools %v (stream %v)", len(reqs), got, reqs[1].Stream)
			}
			checkWireAnswer(t, ans, seen)
		})
	}
}

// The langchaingo adapter streams from Anthropic whenever the agent wants
// text as it comes, which it does when its caller listens (askOverTheWire
// with stream): this wire is SSE.
func TestQuestionOverTheAnthropicWire(t *testing.T) {
	t.Parallel()
	var seen [][]wireResult
	respond := func(turn int) langchaintest.AnthropicStep {
		return langchaintest.AnthropicStep{Respond: func(req langchaintest.AnthropicRequest) langchaintest.AnthropicStep {
			var got []wireResult
			last := req.Messages[len(req.Messages)-1]
			for _, b := range last.Content {
				if b.Type == "tool_result" {
					got = append(got, wireResult{b.ToolUseID, b.ResultText()})
				}
			}
			seen = append(seen, got)
			if turn < len(wireTurns) {
				var uses []langchaintest.ToolUse
				for _, c := range wireTurns[turn] {
					// Anthropic carries tool input as a JSON object:
					// malformed text cannot be sent, so c3 sends a string.
					in := json.RawMessage(c.args)
					if !json.Valid(in) {
						in = json.RawMessage(`{"product":"marketing-campaigns","limit":"ten"}`)
					}
					uses = append(uses, langchaintest.ToolUse{ID: c.id, Name: c.tool, Input: in})
				}
				return langchaintest.AnthropicStep{ToolUses: uses}
			}
			return langchaintest.AnthropicStep{Text: wireAnswer}
		}}
	}
	srv := langchaintest.NewAnthropicServer(t, langchaintest.AnthropicStep{Status: 429, Error: "rate limited"},
		respond(0), respond(1), respond(2))
	m, err := langchain.New(context.Background(), langchain.Config{Provider: langchain.Anthropic, APIKey: "sk-ant-test",
		BaseURL: srv.URL, Model: "claude-test", RetryDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ans := askOverTheWire(t, m, true)
	reqs := srv.Requests()
	if len(reqs) != 4 || len(reqs[1].Tools) != 8 || !reqs[1].Stream {
		t.Errorf("%d requests; the second offers %d tools (stream %v)", len(reqs), len(reqs[1].Tools), reqs[1].Stream)
	}
	checkWireAnswer(t, ans, seen)
}

// askOverTheWire asks alice's question through the whole stack with model m.
func askOverTheWire(t *testing.T, m assistant.Model, stream bool) *assistant.Answer {
	t.Helper()
	a, err := app.Build(context.Background(), app.Config{DataDir: banktest.PrivateDir(t), Now: banktest.Now.Format(time.RFC3339)},
		app.WithModel(m), app.WithLogger(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req := assistant.Request{Caller: tools.Caller{Subject: a.Directory.Lookup("alice@bank.example"), Channel: "api"},
		Question: "New customers last month vs the month before, and the loan approval rate?"}
	var ans *assistant.Answer
	if stream {
		deltas := 0
		ans, err = a.Agent.Stream(ctx, req, func(ev assistant.Event) {
			if ev.Type == assistant.EventText {
				deltas++
			}
		})
		if err == nil && deltas == 0 {
			t.Error("streamed, but no text reached the caller")
		}
	} else {
		ans, err = a.Agent.Answer(ctx, req)
	}
	if err != nil {
		t.Fatal(err)
	}
	if ans.Text != wireAnswer {
		t.Errorf("answer %q", ans.Text)
	}
	// One audit record per call: the allowed ones, the denial, the rejected arguments.
	recs, err := a.Audit.Search(ctx, audit.Query{Subject: "alice@bank.example"})
	if err != nil {
		t.Fatal(err)
	}
	decisions := map[string]int{}
	for _, r := range recs {
		decisions[r.Product+" "+r.Decision]++
	}
	for k, n := range map[string]int{"customer-acquisition allow": 1, "loan-applications deny": 1, "marketing-campaigns allow": 1} {
		if decisions[k] != n {
			t.Errorf("audit: %d records %q, want %d (all: %v)", decisions[k], k, n, decisions)
		}
	}
	if len(recs) != 4 {
		t.Errorf("%d audit records for 4 calls: %v", len(recs), decisions)
	}
	return ans
}

// checkWireAnswer checks what the model was sent back and what the asker got.
func checkWireAnswer(t *testing.T, ans *assistant.Answer, seen [][]wireResult) {
	t.Helper()
	if len(seen) != 3 {
		t.Fatalf("%d model turns after the 429, want 3", len(seen))
	}
	byID := map[string]string{}
	for _, r := range seen[1] {
		byID[r.id] = r.content
	}
	if len(seen[1]) != 3 || !strings.Contains(byID["c1"], "398") || !strings.Contains(byID["c1"], "297") {
		t.Errorf("the three results sent back: %+v", seen[1])
	}
	if !strings.Contains(byID["c2"], "denied") {
		t.Errorf("the denial sent back: %q", byID["c2"])
	}
	if !strings.Contains(byID["c3"], "arguments") {
		t.Errorf("the malformed call's error sent back: %q", byID["c3"])
	}
	if len(seen[2]) != 1 || !strings.Contains(seen[2][0].content, `"rows"`) {
		t.Errorf("the corrected call's result: %+v", seen[2])
	}
	if len(ans.Denials) != 1 || ans.Denials[0].Product != "loan-applications" || ans.Denials[0].AuditID == "" {
		t.Errorf("denials: %+v", ans.Denials)
	}
}
