package web_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/askmesh/askmesh/adapters/models/openai"
	"github.com/askmesh/askmesh/adapters/models/openai/openaitest"
	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/tools"
)

// A language model that asks back: the first question gets
// ask_clarification with two readings; a reading's question gets the
// mortgage approval rate, computed through the executor.
const (
	ambiguousQuestion = "What is the mortgage default rate?"
	approvalOption    = "What is the mortgage approval rate this year?"
	countOption       = "How many mortgage applications were there this year?"
)

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

// mortgageApprovalSQL is the mortgage approval rate of 2026 up to the
// clock, written by hand, as the answer states it.
func mortgageApprovalSQL(t *testing.T, dir string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "lending.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var r float64
	if err := db.QueryRow(`SELECT CAST(sum(status IN ('approved','funded')) AS REAL) / sum(status IN ('approved','funded','rejected'))
		FROM loan_applications WHERE loan_type = 'mortgage'
		AND applied_at >= '2026-01-01T00:00:00.000000Z' AND applied_at < '2026-11-16T00:00:00.000000Z'`).Scan(&r); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%.2f%%", math.Round(r*10000)/100)
}

// TestClarificationInABrowser: a question with two readings shows them as
// buttons; a click sends the chosen reading, which is answered (the right
// figure, with where it came from), not asked back.
func TestClarificationInABrowser(t *testing.T) {
	t.Parallel()
	needChromium(t)
	h := newHarness(t, setup{model: clarifyingModel(t)})
	want := mortgageApprovalSQL(t, h.dir)

	br := startChromium(t, 1280, 1000)
	step, cancel := context.WithTimeout(br.ctx, 2*time.Minute)
	defer cancel()
	err := chromedp.Do(step,
		chromedp.Navigate(h.ts.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#demo-users button[data-user="bob@bank.example"]`)),
		chromedp.Click(chromedp.CSS(`#demo-users button[data-user="bob@bank.example"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#question`)),
		chromedp.SendKeys(chromedp.CSS(`#question`), ambiguousQuestion),
		chromedp.Click(chromedp.CSS(`#send`)),
		chromedp.WaitVisible(chromedp.CSS(`.answer.done .clarification button.choice`)),
	)
	if err != nil {
		t.Fatalf("browser steps: %v", err)
	}
	type choice struct {
		Label    string `json:"label"`
		Question string `json:"question"`
	}
	type firstState struct {
		Text    string   `json:"text"`
		Choices []choice `json:"choices"`
	}
	st, err := chromedp.Run(step, chromedp.Evaluate[firstState](`({
		text: document.querySelector(".answer.done .text").textContent,
		choices: [...document.querySelectorAll(".answer.done .clarification button.choice")].map(b => ({label: b.textContent, question: b.dataset.question})),
	})`))
	if err != nil {
		t.Fatal(err)
	}
	wantChoices := []choice{{"Approval rate", approvalOption}, {"Application count", countOption}}
	if st.Text != "The catalog has no default rate. Which do you mean?" || fmt.Sprint(st.Choices) != fmt.Sprint(wantChoices) {
		t.Fatalf("the question back shows %q with choices %+v, want %+v", st.Text, st.Choices, wantChoices)
	}

	// Click "Approval rate": its question is asked and answered.
	err = chromedp.Do(step,
		chromedp.Click(chromedp.CSS(`.answer.done .clarification button.choice:first-child`)),
		chromedp.WaitVisible(chromedp.CSS(`.turn:nth-of-type(2) .answer.done`)),
	)
	if err != nil {
		t.Fatalf("clicking a choice: %v", err)
	}
	type secondState struct {
		Question   string   `json:"question"`
		Text       string   `json:"text"`
		Choices    int      `json:"choices"`
		Disabled   int      `json:"disabled"`
		Provenance []string `json:"provenance"`
		Turns      int      `json:"turns"`
	}
	st2, err := chromedp.Run(step, chromedp.Evaluate[secondState](`({
		question: document.querySelector(".turn:nth-of-type(2) .question").textContent,
		text: document.querySelector(".turn:nth-of-type(2) .answer.done .text").textContent,
		choices: document.querySelectorAll(".turn:nth-of-type(2) .clarification button").length,
		disabled: document.querySelectorAll(".turn:nth-of-type(1) .clarification button:disabled").length,
		provenance: [...document.querySelectorAll(".turn:nth-of-type(2) .provenance li")].map(li => li.textContent),
		turns: document.querySelectorAll(".turn").length,
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if st2.Question != approvalOption || st2.Turns != 2 || st2.Choices != 0 || st2.Disabled != 2 {
		t.Errorf("after the click: %+v", st2)
	}
	if !strings.Contains(st2.Text, "The mortgage approval rate this year so far is "+want) {
		t.Errorf("the chosen reading's answer %q does not state %s (SQL)", st2.Text, want)
	}
	if len(st2.Provenance) != 1 || !strings.HasPrefix(st2.Provenance[0], want+" approval rate · loan-applications · approval_rate: Share of decided applications") ||
		!strings.Contains(st2.Provenance[0], "loan_type = mortgage") || !strings.Contains(st2.Provenance[0], "1 January-15 November 2026 (so far)") {
		t.Errorf("provenance shown: %q", st2.Provenance)
	}
	br.checkConsole(t)
}

// TestClarificationOverTheAPI: the HTTP API returns the question back as a
// structured clarification, in the JSON answer and in the SSE answer
// event, with the outcome; the chosen option's question is answered with
// provenance and display cells.
func TestClarificationOverTheAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{model: clarifyingModel(t)})
	want := `{"question":"The catalog has no default rate. Which do you mean?","options":[` +
		`{"label":"Approval rate","question":"What is the mortgage approval rate this year?"},` +
		`{"label":"Application count","question":"How many mortgage applications were there this year?"}]}`

	res, body := h.do("POST", "/v1/chat", "demo-bob", map[string]any{"message": ambiguousQuestion, "conversation_id": "clarify-json"}, nil)
	var ans struct {
		Outcome       string          `json:"outcome"`
		Clarification json.RawMessage `json:"clarification"`
		Provenance    []any           `json:"provenance"`
	}
	if res.StatusCode != 200 || json.Unmarshal(body, &ans) != nil {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if ans.Outcome != "clarify" || string(ans.Clarification) != want || ans.Provenance != nil {
		t.Fatalf("JSON answer: outcome %q clarification %s provenance %v", ans.Outcome, ans.Clarification, ans.Provenance)
	}

	b, _ := json.Marshal(map[string]any{"message": ambiguousQuestion, "conversation_id": "clarify-sse"})
	req, _ := http.NewRequest("POST", h.ts.URL+"/v1/chat", strings.NewReader(string(b)))
	req.Header.Set("Authorization", "Bearer demo-bob")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	sres, err := h.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer sres.Body.Close()
	events := readSSE(t, sres.Body, nil)
	last := events[len(events)-1]
	var ev struct {
		Answer struct {
			Outcome       string          `json:"outcome"`
			Clarification json.RawMessage `json:"clarification"`
		} `json:"answer"`
	}
	if last.Type != assistant.EventAnswer || json.Unmarshal(last.Data, &ev) != nil || ev.Answer.Outcome != "clarify" || string(ev.Answer.Clarification) != want {
		t.Fatalf("SSE answer event %s: %s", last.Type, last.Data)
	}

	// The option chosen, in the same conversation: answered, with provenance.
	res, body = h.do("POST", "/v1/chat", "demo-bob", map[string]any{"message": approvalOption, "conversation_id": "clarify-json"}, nil)
	var done struct {
		Outcome    string                 `json:"outcome"`
		Provenance []assistant.Provenance `json:"provenance"`
		Tables     []assistant.Table      `json:"tables"`
	}
	if res.StatusCode != 200 || json.Unmarshal(body, &done) != nil || done.Outcome != "answered" || len(done.Provenance) != 1 {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	rate := mortgageApprovalSQL(t, h.dir)
	if p := done.Provenance[0]; p.Value != rate || p.Metric != "approval_rate" || !p.Partial || p.AuditID == "" {
		t.Errorf("provenance %+v, want %s", p, rate)
	}
	// Rates are percentages in the table's display cells, as in the text.
	if len(done.Tables) != 1 || len(done.Tables[0].Display) != 1 || done.Tables[0].Display[0][0] != rate {
		t.Errorf("display cells %+v, want %s", done.Tables, rate)
	}
}
