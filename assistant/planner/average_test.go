package planner

import "testing"

func TestPeriodsIn(t *testing.T) {
	t.Parallel()
	cases := []struct {
		r, grain string
		want     float64
		ok       bool
	}{
		{"2026-11-02..2026-11-08", "day", 7, true},
		{"2026-11-02..2026-11-08", "week", 1, true},
		{"2026-07-01..2026-09-30", "week", 92.0 / 7, true},
		{"2026-07-01..2026-09-30", "month", 3, true},
		{"2026-07-01..2026-09-30", "quarter", 1, true},
		// This year at 15 November: 10 months and 15 of November's 30 days.
		{"2026-01-01..2026-11-15", "month", 10.5, true},
		{"2026-11-01..2026-11-15T12:00:00Z", "day", 14.5, true},
		{"", "day", 0, false},
		{"2026-11-01..", "day", 0, false},
		{"2026-11-08..2026-11-02", "day", 0, false},
	}
	for _, c := range cases {
		got, ok := periodsIn(c.r, c.grain)
		if ok != c.ok || ok && (got-c.want > 1e-9 || c.want-got > 1e-9) {
			t.Errorf("periodsIn(%q, %q) = %v, %v; want %v, %v", c.r, c.grain, got, ok, c.want, c.ok)
		}
	}
}

func TestPerEntity(t *testing.T) {
	t.Parallel()
	p := testPlanner(t)
	for q, want := range map[string]string{
		"average applications per customer":         "customer",
		"average transactions per day last week":    "",
		"average new customers per month this year": "",
		"average spend for each campaign":           "campaign",
	} {
		if got := perEntity(p.analyze(q, testNow)); got != want {
			t.Errorf("perEntity(%q) = %q, want %q", q, got, want)
		}
	}
}
