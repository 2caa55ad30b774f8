package assistant_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/assistant/assistanttest"
	"github.com/askmesh/askmesh/tools"
)

const acquisitionCall = `{"product":"customer-acquisition","metrics":["new_customers"],"time_range":"last_month","compare_to":"previous_period"}`

// TestNumberCheckFlagsAnInventedNumber: a model that writes a figure no
// tool returned gets it flagged on the answer; the same answer with the
// real figures (398 new customers in October 2026 against 297 in
// September, +34.0%) gets no flag.
func TestNumberCheckFlagsAnInventedNumber(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, text string
		flags      []string
	}{
		{"invented", "We acquired 512 new customers in October 2026, up from 297 in September 2026.",
			[]string{"the number 512 in the answer is not in any tool result"}},
		{"invented percentage", "New customers rose 41.5% in October 2026 to 398.",
			[]string{"the number 41.5% in the answer is not in any tool result"}},
		{"correct", "We acquired **398** new customers in October 2026 (2026-10-01 to 2026-10-31), up 34.0% (+101) from 297 in September 2026. That is about 400, or 0.4k; growth of 34% month over month, 1.34 times the month before.",
			nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := &assistanttest.Script{Stream: true, Turns: []assistanttest.Turn{
				assistanttest.Calls(assistanttest.Call("c1", tools.ToolQueryMetrics, acquisitionCall)),
				assistanttest.Text(c.text),
			}}
			a := stack(t, m)
			ans := ask(t, a, "carol@bank.example", "How many new customers did we get last month compared with the month before?")
			if !slices.Equal(ans.Flags, c.flags) {
				t.Fatalf("flags %q, want %q", ans.Flags, c.flags)
			}
		})
	}
}

// TestNumberCheckFormats: the forms a model writes a returned number in are
// recognised; dates, identifiers and counting words are not figures.
func TestNumberCheckFormats(t *testing.T) {
	t.Parallel()
	k := assistant.NewKnownNumbers()
	k.AddResult(&tools.Result{Columns: []tools.ResultColumn{{Name: "name"}, {Name: "conversions"}, {Name: "conversion_rate"}, {Name: "total"}},
		Rows: [][]any{{"Summer Special Offer", int64(1234), 0.0365, 7384667.55}, {"Harvest Rate Bonus", int64(1000), 0.0342, 1000.0}}, RowCount: 2})
	k.AddText("Which campaign converted best in 2026?")
	for _, ok := range []string{
		"Summer Special Offer had 1,234 conversions (1.2k, about 1,200), a conversion rate of 3.65% (3.7%).",
		"Together the campaigns had 2,234 conversions; Summer Special Offer had 23.4% more than Harvest Rate Bonus, 55.2% of the total.",
		"Total 7,384,667.55 (7.38 million, $7.4M).",
		"Campaign camp-001 (txn-0000042, id 01a20929-17bd-78d7-aa9f-1876e45a3188) ran 1-15 November 2026, on 5 October, Q3 2026, 2026-10-01T00:00:00Z, at 10:30.",
		"In 2026 the top 3 campaigns:\n1. Summer Special Offer\n2. Harvest Rate Bonus",
	} {
		if flags := assistant.CheckNumbers(ok, k); len(flags) > 0 {
			t.Errorf("%q: unexpected flags %q", ok, flags)
		}
	}
	for text, want := range map[string]string{
		"Summer Special Offer had 1,235 conversions.":  "1,235",
		"The conversion rate was 4.1%.":                "4.1%",
		"Conversions reached 12k.":                     "12k",
		"That is the best result since 2019.":          "2019",
		"Harvest Rate Bonus converted 3.42 % of 999.5": "999.5",
	} {
		flags := assistant.CheckNumbers(text, k)
		if len(flags) != 1 || !strings.Contains(flags[0], "the number "+want+" ") {
			t.Errorf("%q: flags %q, want one for %s", text, flags, want)
		}
	}
}

// ungrounded hides the planner's Grounded method, so the agent checks it.
type ungrounded struct{ assistant.Model }

// TestPlannerAnswersPassTheNumberCheck: the offline planner's answers,
// checked as if a language model had written them, state only figures the
// tools returned; the check has no false alarms on them.
func TestPlannerAnswersPassTheNumberCheck(t *testing.T) {
	t.Parallel()
	a := stack(t, nil)
	agent, err := assistant.New(assistant.Options{Model: ungrounded{a.Model}, Tools: a.Executor, Clock: a.Clock})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ user, q string }{
		{"carol", "Give me an executive summary of last month"},
		{"carol", "Summarize customer acquisition last month vs the month before"},
		{"erin", "show me the 5 largest withdrawals last month"},
		{"erin", "Show me unusual transactions this month"},
		{"bob", "approval rate by region this year vs last year"},
		{"alice", "Which campaign had the best conversion rate this year?"},
	} {
		ans, err := agent.Answer(context.Background(), assistant.Request{Question: c.q,
			Caller: tools.Caller{Subject: a.Directory.Lookup(c.user + "@bank.example"), Channel: "cli"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(ans.Flags) > 0 {
			t.Errorf("%s %q: flags %q on\n%s", c.user, c.q, ans.Flags, ans.Text)
		}
	}
}
