package planner

import (
	"slices"
	"testing"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/tools"
)

func TestRuleInitialState(t *testing.T) {
	t.Parallel()
	checkRules(t, []ruleCase{
		{q: "How many applications were submitted last month?", rule: "initial-state"},
		{q: "loan applications submitted in October", rule: "initial-state"},
		// The status itself, said so.
		{q: "how many applications are still submitted", rule: "metrics"},
		{q: "applications in submitted status", rule: "metrics"},
		{q: "how many loans have status submitted", rule: "metrics"},
		{q: "How many loans are pending a decision?", rule: "metrics"},
	})
	// Each option is a question answered without asking again, one with
	// the status filter and one without.
	p := testPlanner(t)
	in := p.parse("How many applications were submitted last month?", nil, testNow)
	if in.outcome != assistant.OutcomeClarify || in.clarify == nil || len(in.clarify.Options) != 2 {
		t.Fatalf("want a clarification with two options, got %+v", in)
	}
	var status []bool
	for _, o := range in.clarify.Options {
		got := p.parse(o.Question, nil, testNow)
		if got.outcome != "" || len(got.calls) != 1 {
			t.Fatalf("option %q: rule %s, outcome %q, %d calls", o.Question, got.rule, got.outcome, len(got.calls))
		}
		args, ok := got.calls[0].args.(tools.QueryMetricsArgs)
		if !ok || args.TimeRange != "last_month" {
			t.Fatalf("option %q: call %+v, want query_metrics over last month", o.Question, got.calls[0])
		}
		status = append(status, slices.ContainsFunc(args.Filters, func(f tools.Filter) bool { return f.Column == "status" && f.Value == "submitted" }))
	}
	if !slices.Equal(status, []bool{false, true}) {
		t.Errorf("options filter on status submitted: %v, want the first without and the second with", status)
	}
	// Typed with spaces around it: the same options, words intact.
	spaced := p.parse("  How many applications were submitted last month?  ", nil, testNow)
	if spaced.clarify == nil || !slices.Equal(spaced.clarify.Options, in.clarify.Options) {
		t.Errorf("options of the question with spaces around it: %+v, want %+v", spaced.clarify, in.clarify.Options)
	}
}
