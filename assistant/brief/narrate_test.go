package brief_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/askmesh/askmesh/assistant/assistanttest"
	"github.com/askmesh/askmesh/assistant/brief"
)

// TestLLMWrittenBriefIsNumberChecked: with a language model writing the
// prose, figures taken from the tools pass (rounded, as percentages, in
// millions) and an invented one is flagged on the answer.
func TestLLMWrittenBriefIsNumberChecked(t *testing.T) {
	t.Parallel()
	a, _ := build(t)
	good := "October 2026 in brief: new customers rose 34.0% to 398 (from 297), led by Wealth Review Invitation with 138 and a 2.38% conversion rate. " +
		"Transactions grew 13.6% to 9,698, worth EUR 1.8 million, GBP 1.1 million and USD 4.5 million. Loan approval rate reached 70.65%, up 2.52 points. " +
		"The access log is withheld from you."
	// Whoever writes, the answer says how to read the amounts.
	const note = "\nNote: Total amount is in several currencies, so it is broken down by currency, never added up across currencies."
	for _, c := range []struct {
		text  string
		flags []string
	}{
		{good, nil},
		{good + " Loan applications hit a record 812.", []string{"the number 812 in the answer is not in any tool result"}},
		// A total across currencies is no figure any tool gave.
		{strings.Replace(good, "EUR 1.8 million, GBP 1.1 million and USD 4.5 million", "7.4 million", 1), []string{"the number 7.4million in the answer is not in any tool result"}},
	} {
		// The writer answers with fixed prose, however often it is asked.
		w := &assistanttest.Script{ModelName: "scripted-writer", Then: assistanttest.Text(c.text)}
		ans := briefFor(t, a, "carol@bank.example", brief.Options{Writer: w})
		if ans.Text != c.text+note || ans.Model != "scripted-writer" {
			t.Errorf("the brief is not the model's prose: %q (%s)", ans.Text, ans.Model)
		}
		if !slices.Equal(ans.Flags, c.flags) {
			t.Errorf("flags %q, want %q", ans.Flags, c.flags)
		}
		reqs := w.Requests()
		if len(reqs) == 0 {
			t.Fatal("the writer was never asked")
		}
		if req := reqs[len(reqs)-1]; len(req.Tools) != 0 || !strings.Contains(req.Messages[1].Content, "new customers 398, up 34.0% from 297") {
			t.Errorf("the writer should get the draft and no tools: %+v", req)
		}
		if len(ans.Tables) == 0 || len(ans.Charts) != 1 {
			t.Errorf("tables and the chart come from the tools, whoever writes: %d tables, %d charts", len(ans.Tables), len(ans.Charts))
		}
	}
}
