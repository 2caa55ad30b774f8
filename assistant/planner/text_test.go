package planner

import "testing"

func TestTokenize(t *testing.T) {
	t.Parallel()
	toks := tokenize(`Show txn-0000042, frank@bank.example's $1.5m "Summer Special Offer" 500,000 2026-10-05 3rd loan-applications`)
	want := []struct {
		kind int
		raw  string
	}{{tokWord, "Show"}, {tokID, "txn-0000042"}, {tokEmail, "frank@bank.example"}, {tokNumber, "$1.5m"}, {tokQuoted, "Summer Special Offer"},
		{tokNumber, "500,000"}, {tokDate, "2026-10-05"}, {tokWord, "3rd"}, {tokWord, "loan"}, {tokWord, "applications"}}
	if len(toks) != len(want) {
		t.Fatalf("%d tokens: %+v", len(toks), toks)
	}
	for i, w := range want {
		if toks[i].kind != w.kind || toks[i].raw != w.raw {
			t.Errorf("token %d = %d %q, want %d %q", i, toks[i].kind, toks[i].raw, w.kind, w.raw)
		}
	}
	if toks[3].num != 1.5e6 || toks[5].num != 500000 {
		t.Errorf("numbers %v %v", toks[3].num, toks[5].num)
	}
}
