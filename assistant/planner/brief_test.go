package planner

import (
	"strings"
	"testing"
)

// TestExecutiveBriefRouting: questions asking for a brief across the
// business are planned as one turn of parallel calls over every product
// with headline metrics; a brief about one named product stays the
// parser's one-product brief.
func TestExecutiveBriefRouting(t *testing.T) {
	p := testPlanner(t)
	for _, c := range []struct {
		q      string
		period string
		exec   bool
	}{
		{"Give me an executive summary of last month", `"time_range":"last_month","compare_to":"previous_period"`, true},
		{"brief me on October", `"time_range":"2026-10","compare_to":"previous_period"`, true},
		{"Executive brief for Q3 vs last year", `"time_range":"2026-Q3","compare_to":"previous_year"`, true},
		{"How are we doing?", `"time_range":"last_month","compare_to":"previous_period"`, true},
		{"executive summary of customer acquisition last month", `"time_range":"last_month","compare_to":"previous_period"`, true},
		{"Summarize customer acquisition last month vs the month before", "", false},
		{"How many new customers did we get last month?", "", false},
		{"Who was denied access to loan-applications this week?", "", false},
	} {
		calls, text := plan(t, p, nil, c.q)
		headline := 0
		for _, call := range calls {
			if strings.HasPrefix(call, "query_metrics ") && strings.Contains(call, `"compare_to"`) {
				headline++
				if !strings.Contains(call, c.period) {
					t.Errorf("%q: headline call %s lacks %s", c.q, call, c.period)
				}
			}
		}
		switch {
		case c.exec && headline < 1:
			t.Errorf("%q: not planned as an executive brief: %v %q", c.q, calls, text)
		case c.exec && !strings.Contains(c.q, "customer acquisition") && headline != 7:
			t.Errorf("%q: %d headline calls, want one per product with headline metrics (7): %v", c.q, headline, calls)
		case c.exec && strings.Contains(c.q, "customer acquisition") && (headline != 1 || !strings.Contains(calls[0], `"customer-acquisition"`)):
			t.Errorf("%q: want a brief of customer-acquisition only: %v", c.q, calls)
		case !c.exec && len(calls) > 3:
			t.Errorf("%q: planned as an executive brief: %v", c.q, calls)
		}
	}
}

// TestBriefFollowUps: after a brief, "and the month before?" is the brief
// of September; a question about one product stands on its own rather than
// being read as a change to the brief's many calls.
func TestBriefFollowUps(t *testing.T) {
	p := testPlanner(t)
	hist := converse(t, p, "Give me an executive summary of last month")
	for q, want := range map[string]string{
		"and for the month before?": `"time_range":"2026-09","compare_to":"previous_period"`,
		"what about September?":     `"time_range":"2026-09","compare_to":"previous_period"`,
		"and vs last year?":         `"time_range":"last_month","compare_to":"previous_year"`,
	} {
		calls, text := plan(t, p, hist, q)
		if len(calls) < 14 || !strings.Contains(calls[0], want) {
			t.Errorf("%q after a brief: want the brief with %s, got %v %q", q, want, calls, text)
		}
	}
	calls, text := plan(t, p, hist, "how many new customers by region?")
	if len(calls) != 1 || !strings.HasPrefix(calls[0], `query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"group_by":["region"]`) {
		t.Errorf("a question of its own after a brief: %v %q", calls, text)
	}
}
