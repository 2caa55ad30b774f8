package planner

import (
	"testing"

	"github.com/askmesh/askmesh/tools"
)

func TestTimeExpressions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		q                   string
		rng, compare, grain string
	}{
		{"today", "today", "", ""},
		{"so far today", "today", "", ""},
		{"yesterday", "yesterday", "", ""},
		{"last week", "last_week", "", ""},
		{"this week", "this_week", "", ""},
		{"last month", "last_month", "", ""},
		{"the previous month", "last_month", "", ""},
		{"this month", "this_month", "", ""},
		{"month to date", "this_month", "", ""},
		{"last quarter", "last_quarter", "", ""},
		{"this quarter", "this_quarter", "", ""},
		{"this year", "this_year", "", ""},
		{"ytd", "this_year", "", ""},
		{"last year", "last_year", "", ""},
		{"in October 2026", "2026-10", "", ""},
		{"in Oct 2026", "2026-10", "", ""},
		{"in october", "2026-10", "", ""},
		{"in december", "2025-12", "", ""}, // the latest December is last year's
		{"in 2025", "2025", "", ""},
		{"in Q3 2026", "2026-Q3", "", ""},
		{"in the third quarter of 2025", "2025-Q3", "", ""},
		{"in q4", "2026-Q4", "", ""}, // the current quarter
		{"in Q1", "2026-Q1", "", ""},
		{"since March", "2026-03-01..", "", ""},
		{"since 2025", "2025-01-01..", "", ""},
		{"since last month", "2026-10-01..", "", ""},
		{"before 2026", "..2025-12-31", "", ""},
		{"from March to June 2026", "2026-03-01..2026-06", "", ""},
		{"between 2026-01-01 and 2026-03-31", "2026-01-01..2026-03-31", "", ""},
		{"from October to December 2025", "2025-10-01..2025-12", "", ""},
		{"on 5 October 2026", "2026-10-05", "", ""},
		{"on October 5", "2026-10-05", "", ""},
		{"on 2026-10-05", "2026-10-05", "", ""},
		{"in the last 30 days", "last_30_days", "", ""},
		{"over the past 7 days", "last_7_days", "", ""},
		{"in the last 2 weeks", "last_14_days", "", ""},
		{"in the last 3 months", "2026-08..2026-10", "", ""},
		{"in the past week", "last_7_days", "", ""},
		{"last month vs the month before", "last_month", tools.ComparePreviousPeriod, ""},
		{"last month compared with the previous month", "last_month", tools.ComparePreviousPeriod, ""},
		{"this month vs last month", "this_month", tools.ComparePreviousPeriod, ""},
		{"this year compared with last year", "this_year", tools.ComparePreviousYear, ""},
		{"October vs the same period last year", "2026-10", tools.ComparePreviousYear, ""},
		{"October 2026 vs September 2026", "2026-10", tools.ComparePreviousPeriod, ""},
		{"October 2026 vs October 2025", "2026-10", tools.ComparePreviousYear, ""},
		{"last month and the month before", "last_month", tools.ComparePreviousPeriod, ""},
		{"month over month", "last_month", tools.ComparePreviousPeriod, ""},
		{"week-over-week", "last_week", tools.ComparePreviousPeriod, ""},
		{"yoy", "this_year", tools.ComparePreviousYear, ""},
		{"per month this year", "this_year", "", "month"},
		{"monthly", "", "", "month"},
		{"weekly in Q3 2026", "2026-Q3", "", "week"},
		{"by day last week", "last_week", "", "day"},
		{"trend this month", "this_month", "", "day"},
		{"trend this quarter", "this_quarter", "", "week"},
		{"trend this year", "this_year", "", "month"},
		{"over time", "", "", "month"},
		{"loans over 2000", "", "", ""}, // an amount, not a year
		{"may I see loans", "", "", ""}, // "may" is not May
		{"all time", "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.q, func(t *testing.T) {
			w := parseWhen(asciiLower(c.q), testNow)
			if w.rangeArg != c.rng || w.compare != c.compare || w.grain != c.grain {
				t.Errorf("range %q compare %q grain %q; want %q %q %q", w.rangeArg, w.compare, w.grain, c.rng, c.compare, c.grain)
			}
			// Whatever the planner writes, the executor must accept.
			if w.rangeArg != "" {
				if _, err := tools.ResolveTimeRange(w.rangeArg, testNow); err != nil {
					t.Errorf("time_range %q is not valid: %v", w.rangeArg, err)
				}
			}
		})
	}
}

func TestShiftRange(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, how, want string }{
		{"last_month", tools.ComparePreviousPeriod, "2026-09"},
		{"2026-10", tools.ComparePreviousYear, "2025-10"},
		{"last_quarter", tools.ComparePreviousPeriod, "2026-Q2"},
		{"last_year", tools.ComparePreviousPeriod, "2024"},
		{"yesterday", tools.ComparePreviousPeriod, "2026-11-13"},
		{"last_week", tools.ComparePreviousPeriod, "2026-10-26..2026-11-01"},
		{"this_month", tools.ComparePreviousPeriod, "2026-10-01..2026-10-15"},
		{"last_30_days", tools.ComparePreviousPeriod, "2026-09-17..2026-10-16"},
	}
	for _, c := range cases {
		got, err := shiftRange(c.in, c.how, testNow)
		if err != nil || got != c.want {
			t.Errorf("shift %s %s = %q, %v; want %q", c.in, c.how, got, err, c.want)
		}
	}
}
