package slack

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/adapters/models/openai"
	"github.com/askmesh/askmesh/adapters/models/openai/openaitest"
	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/tools"
)

const (
	ambiguousQuestion = "What is the mortgage default rate?"
	approvalOption    = "What is the mortgage approval rate this year?"
	countOption       = "How many mortgage applications were there this year?"
)

// clarifyingModel asks back through ask_clarification with two readings,
// and answers the approval-rate reading from the executor's result.
func clarifyingModel(t *testing.T) assistant.Model {
	t.Helper()
	srv := openaitest.NewServer(t)
	srv.SetResponder(func(req openaitest.Request) openaitest.Step {
		last := req.Messages[len(req.Messages)-1]
		var question string
		for _, m := range req.Messages {
			if m.Role == "user" {
				question = m.Content
			}
		}
		switch {
		case last.Role == "user" && question == ambiguousQuestion:
			args, _ := json.Marshal(assistant.AskClarificationArgs{Question: "The catalog has no default rate. Which do you mean?",
				Options: []assistant.ChoiceOption{{Label: "Approval rate", Question: approvalOption}, {Label: "Application count", Question: countOption}}})
			return openaitest.Step{ToolCalls: []openaitest.ToolCall{{ID: "ask1", Name: assistant.ToolAskClarification, Arguments: string(args)}}}
		case last.Role == "user" && question == approvalOption:
			return openaitest.Step{ToolCalls: []openaitest.ToolCall{{ID: "q1", Name: tools.ToolQueryMetrics,
				Arguments: `{"product":"loan-applications","metrics":["approval_rate"],"filters":[{"column":"loan_type","op":"=","value":"mortgage"}],"time_range":"this_year"}`}}}
		case last.Role == "tool":
			var v assistant.ModelView
			if err := json.Unmarshal([]byte(last.Content), &v); err != nil || len(v.Rows) != 1 {
				return openaitest.Step{Text: "No result: " + last.Content}
			}
			f, _ := v.Rows[0][0].(float64)
			return openaitest.Step{Text: fmt.Sprintf("The mortgage approval rate this year so far is %.2f%% (source: loan-applications).", f*100)}
		}
		return openaitest.Step{Text: "unexpected question " + question}
	})
	m, err := openai.New(openai.Config{BaseURL: srv.BaseURL(), APIKey: "test", Model: "gpt-test", Timeout: 20 * time.Second, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestClarificationButtonsAnsweredInThread: a question with two readings is
// answered in its thread with the readings as Block Kit buttons; a click
// (a signed block_actions interaction) marks the choice and is answered in
// the same thread with the figure SQL gives and where it came from. A
// forged click does nothing.
func TestClarificationButtonsAnsweredInThread(t *testing.T) {
	t.Parallel()
	if _, ok := users["UBOB"]; !ok { // other tests may map bob already: leave theirs alone
		users["UBOB"] = "bob@bank.example"
		t.Cleanup(func() { delete(users, "UBOB") })
	}
	h := newHarness(t, clarifyingModel(t), Config{})
	h.fake.emails["UBOB"] = "bob@bank.example"
	const thread = "1763200101.000100"
	if rec := h.event("EvC1", mention("UBOB", ambiguousQuestion, thread, ""), nil); rec.Code != http.StatusOK {
		t.Fatalf("ack %d", rec.Code)
	}
	asked := h.fake.waitFor(t, "the question back", func(c apiCall) bool {
		return c.Method == "chat.update" && strings.Contains(c.Form.Get("blocks"), `"type":"actions"`)
	})
	var blocks []struct {
		Type     string `json:"type"`
		BlockID  string `json:"block_id"`
		Elements []struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
			Text     struct {
				Text string `json:"text"`
			} `json:"text"`
		} `json:"elements"`
	}
	if err := json.Unmarshal([]byte(asked.Form.Get("blocks")), &blocks); err != nil {
		t.Fatal(err)
	}
	var buttons []string
	for _, b := range blocks {
		if b.Type == "actions" {
			for _, e := range b.Elements {
				buttons = append(buttons, e.Type+"|"+e.ActionID+"|"+e.Text.Text+"|"+e.Value)
			}
		}
	}
	want := []string{"button|askmesh_choice_0|Approval rate|" + approvalOption, "button|askmesh_choice_1|Application count|" + countOption}
	if fmt.Sprint(buttons) != fmt.Sprint(want) || !strings.Contains(asked.Form.Get("blocks"), "The catalog has no default rate. Which do you mean?") {
		t.Fatalf("buttons %q, want %q; blocks %s", buttons, want, asked.Form.Get("blocks"))
	}
	msgTS := asked.Form.Get("ts")

	click := func(secretKey, actionTS string) int {
		payload, _ := json.Marshal(map[string]any{
			"type": "block_actions", "user": map[string]any{"id": "UBOB"}, "trigger_id": "trig-" + actionTS,
			"container": map[string]any{"type": "message", "message_ts": msgTS, "channel_id": "CEXEC", "thread_ts": thread},
			"channel":   map[string]any{"id": "CEXEC"},
			"message":   map[string]any{"ts": msgTS, "thread_ts": thread},
			"actions": []map[string]any{{"type": "button", "block_id": "askmesh_clarification", "action_id": "askmesh_choice_0",
				"value": approvalOption, "action_ts": actionTS, "text": map[string]any{"type": "plain_text", "text": "Approval rate"}}},
		})
		body := []byte("payload=" + url.QueryEscape(string(payload)))
		rec := h.post("/slack/interactions", h.bot.InteractionsHandler(), body, sign(secretKey, time.Now(), body),
			http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
		return rec.Code
	}
	if code := click("not-the-secret", "1763200102.1"); code != http.StatusUnauthorized {
		t.Fatalf("forged click: %d, want 401", code)
	}
	if code := click(secret, "1763200102.2"); code != http.StatusOK {
		t.Fatalf("click ack %d", code)
	}
	h.fake.waitFor(t, "the choice marked", func(c apiCall) bool {
		return c.Method == "chat.update" && c.Form.Get("ts") == msgTS && strings.Contains(c.Form.Get("text"), "<@UBOB> chose *Approval rate*")
	})
	answer := h.fake.waitFor(t, "the chosen reading answered", func(c apiCall) bool {
		return c.Method == "chat.update" && strings.Contains(c.Form.Get("blocks"), "mortgage approval rate this year so far")
	})
	// The answer went to the question's thread: its placeholder was posted there.
	var placed bool
	for _, c := range h.fake.callsOf("chat.postMessage") {
		if c.Form.Get("thread_ts") == thread && c.Form.Get("ts") == "" {
			placed = true
		}
	}
	if !placed {
		t.Errorf("no message posted in thread %s: %s", thread, h.fake.summary())
	}
	conn, err := sql.Open("sqlite", "file:"+filepath.Join(h.dir, "lending.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var r float64
	if err := conn.QueryRow(`SELECT CAST(sum(status IN ('approved','funded')) AS REAL) / sum(status IN ('approved','funded','rejected'))
		FROM loan_applications WHERE loan_type = 'mortgage'
		AND applied_at >= '2026-01-01T00:00:00.000000Z' AND applied_at < '2026-11-16T00:00:00.000000Z'`).Scan(&r); err != nil {
		t.Fatal(err)
	}
	rate := fmt.Sprintf("%.2f%%", math.Round(r*10000)/100)
	got := answer.Form.Get("blocks")
	if !strings.Contains(got, "so far is "+rate) {
		t.Errorf("answer does not state %s (SQL): %s", rate, got)
	}
	// The context line says where the number came from; the table shows the rate as a percentage.
	for _, frag := range []string{":mag: Numbers from", "*loan-applications* · `approval_rate` Share of decided applications", "loan_type = mortgage", "(so far)", `"text":"` + rate + `"`} {
		if !strings.Contains(got, frag) {
			t.Errorf("answer blocks lack %q: %s", frag, got)
		}
	}
	// A retried delivery of the same click is not answered twice.
	if code := click(secret, "1763200102.2"); code != http.StatusOK {
		t.Fatalf("retried click ack %d", code)
	}
	h.bot.Wait()
	n := 0
	for _, c := range h.fake.callsOf("chat.update") {
		if strings.Contains(c.Form.Get("blocks"), "mortgage approval rate this year so far") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the choice was answered %d times", n)
	}
}
