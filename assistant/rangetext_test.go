package assistant

import (
	"testing"
	"time"

	"github.com/askmesh/askmesh/tools"
)

// rangeText writes what it wrote with Format and concatenation.
func TestRangeText(t *testing.T) {
	t.Parallel()
	old := func(r *tools.Range) string {
		if r == nil || r.IsZero() {
			return ""
		}
		from, to := "", ""
		if !r.From.IsZero() {
			from = r.From.Format("2006-01-02")
		}
		if !r.To.IsZero() {
			to = r.To.AddDate(0, 0, -1).Format("2006-01-02")
			if r.To.Hour() != 0 || r.To.Minute() != 0 || r.To.Second() != 0 {
				to = r.To.Format("2006-01-02T15:04:05Z")
			}
		}
		return from + ".." + to
	}
	oct, nov := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	noon := time.Date(2026, 11, 15, 12, 30, 5, 0, time.UTC)
	for _, r := range []*tools.Range{nil, {}, {From: oct, To: nov}, {From: oct}, {To: nov}, {From: oct, To: noon},
		{From: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)}, {To: time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC)}} {
		if got, want := rangeText(r), old(r); got != want {
			t.Errorf("rangeText(%v) = %q, want %q", r, got, want)
		}
	}
}
