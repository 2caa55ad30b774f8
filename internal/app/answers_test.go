package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/adapters/models/openai"
	"github.com/askmesh/askmesh/adapters/models/openai/openaitest"
	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/tools"
)

// A real model's answer gets the same guarantees as the planner's: the
// number check flags a number that no tool returned and a number passed
// off as another metric, and every number's provenance comes from the
// tool results. The model is the in-process OpenAI-compatible server.

const mortgageApprovalCall = `{"product":"loan-applications","metrics":["approval_rate"],"filters":[{"column":"loan_type","op":"=","value":"mortgage"}],"time_range":"this_year"}`

// realModelStack builds the demo stack with a model speaking OpenAI's wire
// to srv, scripted by respond.
func realModelStack(t *testing.T, respond func(req openaitest.Request, n int) openaitest.Step) (*app.App, *openaitest.Server) {
	t.Helper()
	srv := openaitest.NewServer(t)
	srv.SetResponder(func(req openaitest.Request) openaitest.Step { return respond(req, len(srv.Requests())) })
	m, err := openai.New(openai.Config{BaseURL: srv.BaseURL(), APIKey: "test", Model: "scripted", Timeout: 10 * time.Second,
		MaxRetries: 1, RetryDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Build(context.Background(), app.Config{DataDir: banktest.PrivateDir(t), Now: banktest.Now.Format(time.RFC3339)},
		app.WithModel(m), app.WithLogger(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a, srv
}

func askAs(t *testing.T, a *app.App, user, conversation, question string) *assistant.Answer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ans, err := a.Agent.Answer(ctx, assistant.Request{Caller: tools.Caller{Subject: a.Directory.Lookup(user), Channel: "api",
		ConversationID: conversation}, Question: question})
	if err != nil {
		t.Fatal(err)
	}
	return ans
}

// toolRate reads the approval rate the model was sent, as a percentage
// with the descriptor's precision (4 places of the ratio).
func toolRate(t *testing.T, req openaitest.Request) string {
	t.Helper()
	res := req.LastToolResults()
	var v assistant.ModelView
	if len(res) != 1 || json.Unmarshal([]byte(res[0].Content), &v) != nil || len(v.Rows) != 1 {
		t.Fatalf("the model was not sent one row: %+v", res)
	}
	f, _ := v.Rows[0][0].(float64)
	return fmt.Sprintf("%.2f%%", f*100)
}

func TestRealModelNumbersChecked(t *testing.T) {
	t.Parallel()
	bob := "bob@bank.example"
	// Hand-written SQL: mortgages decided approved or funded over all
	// decided, applied for in 2026 up to the clock (15 November).
	var want float64
	cases := []struct {
		name  string
		write func(rate string) string
		flags []string // substrings, one per flag expected
	}{
		{"substituted metric", func(r string) string {
			return "The mortgage default rate this year is " + r + " (source: loan-applications)."
		},
			[]string{`is labelled "default rate" but it is approval_rate of loan-applications`}},
		{"invented number", func(string) string {
			return "The mortgage approval rate this year is 93.17% (source: loan-applications)."
		},
			[]string{"the number 93.17% in the answer is not in any tool result"}},
		{"right", func(r string) string {
			return "The mortgage approval rate (approved or funded over decided applications) this year so far is " + r + " (source: loan-applications, 2026 so far)."
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var rate string
			a, _ := realModelStack(t, func(req openaitest.Request, n int) openaitest.Step {
				if n == 1 {
					return openaitest.Step{ToolCalls: []openaitest.ToolCall{{ID: "q1", Name: tools.ToolQueryMetrics, Arguments: mortgageApprovalCall}}}
				}
				rate = toolRate(t, req)
				return openaitest.Step{Text: c.write(rate)}
			})
			if want == 0 {
				db := openRO(t, filepath.Join(a.Config.DataDir, "lending.db"))
				defer db.Close()
				if err := db.QueryRow(`SELECT CAST(sum(status IN ('approved','funded')) AS REAL) / sum(status IN ('approved','funded','rejected'))
					FROM loan_applications WHERE loan_type = 'mortgage'
					AND applied_at >= '2026-01-01T00:00:00.000000Z' AND applied_at < '2026-11-16T00:00:00.000000Z'`).Scan(&want); err != nil {
					t.Fatal(err)
				}
			}
			ans := askAs(t, a, bob, "", "What is the mortgage default rate this year?")
			if got := fmt.Sprintf("%.2f%%", math.Round(want*10000)/100); rate != got {
				t.Fatalf("the tool sent %s, SQL says %s", rate, got)
			}
			if len(ans.Flags) != len(c.flags) {
				t.Fatalf("flags %q, want %d: %q", ans.Flags, len(c.flags), c.flags)
			}
			for i, f := range c.flags {
				if !strings.Contains(ans.Flags[i], f) {
					t.Errorf("flag %q lacks %q", ans.Flags[i], f)
				}
			}
			// Provenance comes from the result, whatever the text says.
			if len(ans.Provenance) != 1 {
				t.Fatalf("provenance %+v", ans.Provenance)
			}
			p := ans.Provenance[0]
			wantP := assistant.Provenance{Value: rate, Label: "approval rate", Product: "loan-applications", Metric: "approval_rate",
				Definition: "Share of decided applications that were approved or funded. (count_if(status in ('approved', 'funded')) / count_if(status in ('approved', 'funded', 'rejected')))",
				Filters:    []assistant.ProvenanceFilter{{Column: "loan_type", Op: "=", Value: "mortgage", Origin: "question"}},
				Period:     "1 January-15 November 2026", Partial: true, Unit: "ratio", AuditID: ans.ToolCalls[0].AuditID}
			if got, _ := json.Marshal(p); string(got) != string(must(json.Marshal(wantP))) {
				t.Errorf("provenance\n %s\nwant\n %s", got, must(json.Marshal(wantP)))
			}
			if ans.Outcome != assistant.OutcomeAnswered {
				t.Errorf("outcome %q", ans.Outcome)
			}
			// The answer says the year is not over, whatever the model wrote.
			if !strings.Contains(ans.Text, "2026 is not over: the figures are for 2026 so far, 319 days of 365") {
				t.Errorf("partial year not said: %q", ans.Text)
			}
		})
	}
}

// Erin's amounts are per currency and her policy filter is in the provenance.
func TestRealModelProvenancePolicyAndCurrency(t *testing.T) {
	t.Parallel()
	a, _ := realModelStack(t, func(req openaitest.Request, n int) openaitest.Step {
		if n == 1 {
			return openaitest.Step{ToolCalls: []openaitest.ToolCall{{ID: "q1", Name: tools.ToolQueryMetrics,
				Arguments: `{"product":"customer-transactions","metrics":["total_amount"],"filters":[{"column":"type","op":"=","value":"deposit"}],"time_range":"last_month"}`}}}
		}
		return openaitest.Step{Text: "Deposits last month are in the table, per currency."}
	})
	ans := askAs(t, a, "erin@bank.example", "", "Total deposits last month")
	db := openRO(t, filepath.Join(a.Config.DataDir, "retail-banking.db"))
	defer db.Close()
	rows, err := db.Query(`SELECT currency, printf('%.2f', round(sum(amount), 2)) FROM transactions WHERE type = 'deposit' AND region = 'europe'
		AND occurred_at >= '2026-10-01T00:00:00.000000Z' AND occurred_at < '2026-11-01T00:00:00.000000Z' GROUP BY currency ORDER BY currency`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var want []string
	for rows.Next() {
		var cur, sum string
		_ = rows.Scan(&cur, &sum)
		want = append(want, cur+" "+groupThousands(sum))
	}
	var got []string
	for _, p := range ans.Provenance {
		got = append(got, p.Value)
		if len(p.Filters) != 2 || p.Filters[1] != (assistant.ProvenanceFilter{Column: "region", Op: "=", Value: "europe", Origin: "policy"}) ||
			p.Filters[0].Origin != "question" || p.Unit != strings.Fields(p.Value)[0] || p.Period != "October 2026" || p.Partial {
			t.Errorf("provenance %+v", p)
		}
	}
	slices.Sort(got)
	if len(want) < 2 || !slices.Equal(got, want) {
		t.Errorf("values by currency %q, SQL says %q", got, want)
	}
	// The table shows each amount with its currency.
	if len(ans.Tables) != 1 || !slices.ContainsFunc(ans.Tables[0].Display, func(r []string) bool { return slices.Contains(want, r[len(r)-1]) }) {
		t.Errorf("table display %q lacks %q", ans.Tables[0].Display, want)
	}
	if !strings.Contains(ans.Text, "never added up across currencies") {
		t.Errorf("the currency breakdown is not said: %q", ans.Text)
	}
}

func groupThousands(s string) string {
	ip, fp, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i := range ip {
		if i > 0 && (len(ip)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(ip[i])
	}
	return b.String() + "." + fp
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// A real model asks back with choices through ask_clarification; the
// chosen option is answered, and ask_clarification is not offered for it.
func TestRealModelAsksBack(t *testing.T) {
	t.Parallel()
	const option = "What is the mortgage approval rate this year?"
	clarify := `{"question":"Which figure do you mean? The catalog has no default rate.","options":[` +
		`{"label":"Approval rate","question":"` + option + `"},` +
		`{"label":"Application count","question":"How many mortgage applications were there this year?"}]}`
	var offered [][]string
	a, srv := realModelStack(t, func(req openaitest.Request, n int) openaitest.Step {
		offered = append(offered, req.ToolNames())
		switch n {
		case 1: // a malformed question back: one option only
			return openaitest.Step{ToolCalls: []openaitest.ToolCall{{ID: "a1", Name: assistant.ToolAskClarification,
				Arguments: `{"question":"Which?","options":[{"label":"x","question":"y"}]}`}}}
		case 2:
			if r := req.LastToolResults(); len(r) != 1 || !strings.Contains(r[0].Content, "give 2 to 5 options, not 1") {
				t.Errorf("the malformed call was not explained: %+v", r)
			}
			return openaitest.Step{ToolCalls: []openaitest.ToolCall{{ID: "a2", Name: assistant.ToolAskClarification, Arguments: clarify}}}
		case 3:
			return openaitest.Step{ToolCalls: []openaitest.ToolCall{{ID: "q1", Name: tools.ToolQueryMetrics, Arguments: mortgageApprovalCall}}}
		}
		return openaitest.Step{Text: "The mortgage approval rate this year so far is " + toolRate(t, req) + " (source: loan-applications)."}
	})
	ans := askAs(t, a, "bob@bank.example", "c-1", "What is the mortgage default rate?")
	want := &assistant.Clarification{Question: "Which figure do you mean? The catalog has no default rate.", Options: []assistant.ClarificationOption{
		{Label: "Approval rate", Question: option}, {Label: "Application count", Question: "How many mortgage applications were there this year?"}}}
	if ans.Outcome != assistant.OutcomeClarify || !jsonEqual(ans.Clarification, want) {
		t.Fatalf("outcome %q clarification %+v", ans.Outcome, ans.Clarification)
	}
	if !strings.HasPrefix(ans.Text, want.Question+"\n- Approval rate: "+option) || len(ans.Tables) != 0 || len(ans.Provenance) != 0 {
		t.Errorf("clarifying answer: %q, %d tables, provenance %+v", ans.Text, len(ans.Tables), ans.Provenance)
	}
	recs, err := a.Audit.Search(context.Background(), audit.Query{Subject: "bob@bank.example"})
	if err != nil || len(recs) != 0 {
		t.Errorf("asking back computed something: %d audit records (%v)", len(recs), err)
	}
	// The person clicks "Approval rate": its question is answered.
	ans = askAs(t, a, "bob@bank.example", "c-1", option)
	if ans.Outcome != assistant.OutcomeAnswered || ans.Clarification != nil || len(ans.Provenance) != 1 || len(ans.Flags) != 0 {
		t.Fatalf("the chosen option: outcome %q, clarification %+v, provenance %+v, flags %q", ans.Outcome, ans.Clarification, ans.Provenance, ans.Flags)
	}
	if len(offered) != 4 || !slices.Contains(offered[0], assistant.ToolAskClarification) || !slices.Contains(offered[0], assistant.ToolDecline) {
		t.Fatalf("tools offered: %q", offered)
	}
	if slices.Contains(offered[2], assistant.ToolAskClarification) || slices.Contains(offered[3], assistant.ToolAskClarification) {
		t.Errorf("ask_clarification offered again for a chosen option: %q", offered[2])
	}
	if n := len(srv.Requests()); n != 4 {
		t.Errorf("%d model requests, want 4", n)
	}
}

// A real model declines a question about a metric that does not exist.
func TestRealModelDeclines(t *testing.T) {
	t.Parallel()
	a, _ := realModelStack(t, func(req openaitest.Request, n int) openaitest.Step {
		return openaitest.Step{ToolCalls: []openaitest.ToolCall{{ID: "d1", Name: assistant.ToolDecline,
			Arguments: `{"reason":"The catalog has no default rate for loans.","unmatched":["default rate"],"closest":["approval_rate (loan-applications)"]}`}}}
	})
	ans := askAs(t, a, "bob@bank.example", "", "What is the mortgage default rate?")
	if ans.Outcome != assistant.OutcomeDeclined || !slices.Equal(ans.Unmatched, []string{"default rate"}) ||
		ans.Text != "The catalog has no default rate for loans.\nClosest in the catalog: approval_rate (loan-applications)." ||
		len(ans.Tables) != 0 || len(ans.Provenance) != 0 || ans.Clarification != nil {
		t.Fatalf("declined answer: %+v", ans)
	}
}

func jsonEqual(a, b any) bool { return string(must(json.Marshal(a))) == string(must(json.Marshal(b))) }
