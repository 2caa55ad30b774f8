package planner

import (
	"testing"
)

func TestRuleGrowth(t *testing.T) {
	t.Parallel()
	checkRules(t, []ruleCase{
		{q: "Which region grew new customers fastest last quarter?", rule: "growth"},
		{q: "Which region had the biggest increase in new customers last quarter?", rule: "growth"},
		{q: "did new customers grow last month?", rule: "growth"},
		{q: "new customer growth per month this year", rule: "metrics"},         // a trend
		{q: "Which segment grew deposits the most last month?", rule: "growth"}, // declined: no segment
	})
}

// TestDatedOnceNote checks the note is said for a figure of things dated
// once (campaigns' conversions), not for products of events
// (acquisitions, whose campaign_name names another thing).
func TestDatedOnceNote(t *testing.T) {
	t.Parallel()
	p := testPlanner(t)
	for _, c := range []struct {
		prod, metric string
		want         bool
	}{
		{"marketing-campaigns", "total_conversions", true},
		{"customer-acquisition", "new_customers", false},
	} {
		prod, ok := p.cat.Get(c.prod)
		if !ok {
			t.Fatalf("no product %s", c.prod)
		}
		if got := datedOnceNote(prod, c.metric); (got != "") != c.want {
			t.Errorf("%s %s: note %q, want one: %v", c.prod, c.metric, got, c.want)
		}
	}
}

// TestGrowthText checks the lead names the group that moved the way asked,
// and says none did rather than calling a fall the fastest growth.
func TestGrowthText(t *testing.T) {
	t.Parallel()
	view := &toolView{
		Columns: []string{"region", "n", "n_previous", "n_change", "n_change_pct"},
		Rows: [][]any{
			{"europe", 90, 100, -10, -10.0},
			{"asia", 55, 50, 5, 10.0},
			{"americas", 240, 220, 20, 9.09},
		},
	}
	outs := []outcome{{status: statusOK, view: view}}
	for _, c := range []struct {
		spec growthSpec
		want string
	}{
		{growthSpec{column: "region", metric: "n", limit: 1}, "asia grew fastest (+10.0%, 50 to 55). In number, americas moved most (+20, 220 to 240)."},
		{growthSpec{column: "region", metric: "n", limit: 1, fall: true}, "europe fell furthest (-10.0%, 100 to 90)."},
		{growthSpec{column: "region", metric: "n", limit: 3}, "Grew fastest, by percent change: asia (+10.0%, 50 to 55), americas (+9.1%, 220 to 240)."},
	} {
		if got := growthText(&c.spec, outs); got != c.want {
			t.Errorf("%+v: %q, want %q", c.spec, got, c.want)
		}
	}
	view.Rows = view.Rows[:1]
	if got, want := growthText(&growthSpec{column: "region", metric: "n", limit: 1}, outs), "No region grew: europe fell least (-10.0%, 100 to 90)."; got != want {
		t.Errorf("none grew: %q, want %q", got, want)
	}
}
