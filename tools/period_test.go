package tools

import (
	"strings"
	"testing"
	"time"
)

func TestResolveTimeRange(t *testing.T) {
	t.Parallel()
	// A Sunday in mid-November, so weeks and quarters are not trivially aligned.
	now := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	d := func(s string) time.Time {
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			panic(err)
		}
		return t
	}
	cases := []struct {
		in       string
		from, to string // empty for an open side
		prev     [2]string
		prevYear [2]string
	}{
		{"today", "2026-11-15", "2026-11-16", [2]string{"2026-11-14", "2026-11-15"}, [2]string{"2025-11-15", "2025-11-16"}},
		{"yesterday", "2026-11-14", "2026-11-15", [2]string{"2026-11-13", "2026-11-14"}, [2]string{"2025-11-14", "2025-11-15"}},
		{"last_7_days", "2026-11-09", "2026-11-16", [2]string{"2026-11-02", "2026-11-09"}, [2]string{"2025-11-09", "2025-11-16"}},
		{"last_30_days", "2026-10-17", "2026-11-16", [2]string{"2026-09-17", "2026-10-17"}, [2]string{"2025-10-17", "2025-11-16"}},
		{"this_week", "2026-11-09", "2026-11-16", [2]string{"2026-11-02", "2026-11-09"}, [2]string{"2025-11-09", "2025-11-16"}},
		{"last_week", "2026-11-02", "2026-11-09", [2]string{"2026-10-26", "2026-11-02"}, [2]string{"2025-11-02", "2025-11-09"}},
		{"this_month", "2026-11-01", "2026-11-16", [2]string{"2026-10-01", "2026-10-16"}, [2]string{"2025-11-01", "2025-11-16"}},
		{"last_month", "2026-10-01", "2026-11-01", [2]string{"2026-09-01", "2026-10-01"}, [2]string{"2025-10-01", "2025-11-01"}},
		{"Last Month", "2026-10-01", "2026-11-01", [2]string{"2026-09-01", "2026-10-01"}, [2]string{"2025-10-01", "2025-11-01"}},
		{"this_quarter", "2026-10-01", "2026-11-16", [2]string{"2026-07-01", "2026-08-16"}, [2]string{"2025-10-01", "2025-11-16"}},
		{"last_quarter", "2026-07-01", "2026-10-01", [2]string{"2026-04-01", "2026-07-01"}, [2]string{"2025-07-01", "2025-10-01"}},
		{"this_year", "2026-01-01", "2026-11-16", [2]string{"2025-01-01", "2025-11-16"}, [2]string{"2025-01-01", "2025-11-16"}},
		{"last_year", "2025-01-01", "2026-01-01", [2]string{"2024-01-01", "2025-01-01"}, [2]string{"2024-01-01", "2025-01-01"}},
		{"2026-10-05", "2026-10-05", "2026-10-06", [2]string{"2026-10-04", "2026-10-05"}, [2]string{"2025-10-05", "2025-10-06"}},
		{"2026-10", "2026-10-01", "2026-11-01", [2]string{"2026-09-01", "2026-10-01"}, [2]string{"2025-10-01", "2025-11-01"}},
		{"2026-03", "2026-03-01", "2026-04-01", [2]string{"2026-02-01", "2026-03-01"}, [2]string{"2025-03-01", "2025-04-01"}},
		{"2026-Q3", "2026-07-01", "2026-10-01", [2]string{"2026-04-01", "2026-07-01"}, [2]string{"2025-07-01", "2025-10-01"}},
		{"2025", "2025-01-01", "2026-01-01", [2]string{"2024-01-01", "2025-01-01"}, [2]string{"2024-01-01", "2025-01-01"}},
		{"2026-01..2026-03", "2026-01-01", "2026-04-01", [2]string{"2025-10-01", "2026-01-01"}, [2]string{"2025-01-01", "2025-04-01"}},
		{"2026-03-10..2026-03-19", "2026-03-10", "2026-03-20", [2]string{"2026-02-28", "2026-03-10"}, [2]string{"2025-03-10", "2025-03-20"}},
		{"2026-03-01..", "2026-03-01", "", [2]string{}, [2]string{}},
		{"..2026-06", "", "2026-07-01", [2]string{}, [2]string{}},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			r, err := ResolveTimeRange(c.in, now)
			if err != nil {
				t.Fatal(err)
			}
			if c.from != "" && !r.From.Equal(d(c.from)) || c.from == "" && !r.From.IsZero() {
				t.Errorf("from = %v, want %s", r.From, c.from)
			}
			if c.to != "" && !r.To.Equal(d(c.to)) || c.to == "" && !r.To.IsZero() {
				t.Errorf("to = %v, want %s", r.To, c.to)
			}
			for _, cmp := range []struct {
				mode string
				want [2]string
			}{{ComparePreviousPeriod, c.prev}, {ComparePreviousYear, c.prevYear}} {
				p, err := CompareRange(c.in, now, cmp.mode)
				if cmp.want[0] == "" {
					if err == nil {
						t.Errorf("%s of an open range: want an error", cmp.mode)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", cmp.mode, err)
				}
				if !p.From.Equal(d(cmp.want[0])) || !p.To.Equal(d(cmp.want[1])) {
					t.Errorf("%s = %s..%s, want %s..%s", cmp.mode, p.From.Format("2006-01-02"), p.To.Format("2006-01-02"), cmp.want[0], cmp.want[1])
				}
			}
		})
	}
}

func TestResolveTimeRangeRejects(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	for _, in := range []string{"last_fortnight", "2026-13", "2026-02-30", "2026-Q5", "2026-05..2026-01", "..", "yesterday'; DROP TABLE x", "last_0_days", "last_99999_days", "9999-Q4", "9999", "9999-12", "0999-01-01", "2026-01..9999-12"} {
		if _, err := ResolveTimeRange(in, now); err == nil {
			t.Errorf("%q: want an error", in)
		} else if !strings.Contains(err.Error(), "time_range") && !strings.Contains(err.Error(), "valid") {
			t.Errorf("%q: unclear error %v", in, err)
		}
	}
}
