package assistant

import (
	"testing"

	"github.com/askmesh/askmesh/tools"
)

// A brief's calls each say that the quarter is not over, one of them with
// the like-for-like comparison: the person reads it once, the longer, and
// every other caveat once, in the order the calls gave them.
func TestWithCaveatsSaysAPeriodOnce(t *testing.T) {
	t.Parallel()
	plain := "Q4 2026 is not over: the figures are for Q4 2026 so far, 65 days of 92 (through 4 December 2026)"
	compared := plain + "; compared like for like with the same 65 days of 1 July-4 September 2026"
	month := "December 2026 is not over: its figures are for December 2026 so far, 4 days of 31 (through 4 December 2026), not the whole month"
	got := WithCaveats("Executive brief.",
		&tools.Result{Caveats: []string{plain}},
		&tools.Result{Caveats: []string{compared, month}},
		&tools.Result{Caveats: []string{plain, month}})
	want := "Executive brief.\nNote: " + compared + ".\nNote: " + month + "."
	if got != want {
		t.Errorf("WithCaveats =\n%s\nwant\n%s", got, want)
	}
	// Said in the text already: not repeated.
	if got := WithCaveats("x; "+month, &tools.Result{Caveats: []string{month}}); got != "x; "+month {
		t.Errorf("a caveat the text says was repeated: %q", got)
	}
}
