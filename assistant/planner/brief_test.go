package planner

import (
	"strings"
	"testing"
)

// TestExecutiveBriefRouting: questions asking for a brief across the
// business are planned as one turn of parallel calls over every product
// with headline metrics; a summary of one named product is the same brief
// restricted to it, unless it narrows the product (a filter, a grouping),
// which the parser's one-product brief expresses. Plain metric questions
// are not briefs.
func TestExecutiveBriefRouting(t *testing.T) {
	t.Parallel()
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
		{"Summarize customer acquisition last month vs the month before", `"time_range":"last_month","compare_to":"previous_period"`, true},
		{"Give me a summary of customer acquisition in October", `"time_range":"2026-10","compare_to":"previous_period"`, true},
		{"summary of customer acquisition last month vs last year", `"time_range":"last_month","compare_to":"previous_year"`, true},
		{"recap customer acquisition last month compared with a year ago", `"time_range":"last_month","compare_to":"previous_year"`, true},
		{"overview of customer acquisition last quarter", `"time_range":"last_quarter","compare_to":"previous_period"`, true},
		{"How many new customers did we get last month?", "", false},
		{"How many new customers did we acquire last month, compared with the month before?", "", false},
		{"Summarize customer acquisition in Europe last month", "", false},
		{"Summarize new customers by channel last month", "", false},
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
	t.Parallel()
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

// TestSummaryFollowUps: after a summary of one product, a question that
// changes only the period moves that product's brief; a question of its
// own about the product stands alone.
func TestSummaryFollowUps(t *testing.T) {
	t.Parallel()
	p := testPlanner(t)
	hist := converse(t, p, "Summarize customer acquisition last month vs the month before")
	calls, text := plan(t, p, hist, "and for the month before?")
	if len(calls) != 3 || !strings.Contains(calls[0], `"product":"customer-acquisition","metrics":["new_customers"],"time_range":"2026-09","compare_to":"previous_period"`) ||
		!strings.Contains(calls[1], `"time_range":"2025-10..2026-09","time_grain":"month"`) || !strings.Contains(calls[2], `"group_by":["campaign_name"]`) {
		t.Errorf("the month before, after a summary: want the brief of customer-acquisition for September, got %v %q", calls, text)
	}
	calls, text = plan(t, p, hist, "how many new customers by region?")
	if len(calls) != 1 || !strings.HasPrefix(calls[0], `query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"group_by":["region"]`) {
		t.Errorf("a question of its own after a summary: %v %q", calls, text)
	}
}

// TestSummaryOfSeveralProducts: a summary naming several products is the
// brief of exactly those.
func TestSummaryOfSeveralProducts(t *testing.T) {
	t.Parallel()
	p := testPlanner(t)
	calls, text := plan(t, p, nil, "recap of loan applications and customer acquisition in October vs last year")
	var heads []string
	for _, c := range calls {
		if strings.Contains(c, `"compare_to":"previous_year"`) && strings.Contains(c, `"time_range":"2026-10"`) {
			heads = append(heads, c[:strings.Index(c, `","metrics"`)])
		}
	}
	want := []string{`query_metrics {"product":"customer-acquisition`, `query_metrics {"product":"loan-applications`}
	if strings.Join(heads, "\n") != strings.Join(want, "\n") {
		t.Errorf("headline calls %v, want those of customer-acquisition and loan-applications: %v %q", heads, calls, text)
	}
}
