package textfmt

import (
	"encoding/json"
	"testing"
	"time"
)

func TestFormatMetric(t *testing.T) {
	t.Parallel()
	cases := []struct {
		v         any
		unit      string
		precision int
		want      string
	}{
		{json.Number("231"), "count", 0, "231"},
		{json.Number("1234567"), "count", 0, "1,234,567"},
		{json.Number("1234567.5"), "amount", 2, "1,234,567.50"},
		{json.Number("0.1"), "amount", 2, "0.10"},
		{json.Number("-2500.125"), "amount", 2, "-2,500.13"},
		{json.Number("999.995"), "amount", 2, "1,000.00"},
		{json.Number("0.6234"), "ratio", 4, "62.34%"},
		{json.Number("1"), "ratio", 4, "100.00%"},
		{json.Number("0.05"), "ratio", 4, "5.00%"},
		{json.Number("12.3"), "minutes", 2, "12.30"},
		{json.Number("712.4"), "score", 1, "712.4"},
		{json.Number("1.5e+21"), "amount", 2, "1,500,000,000,000,000,000,000.00"},
		{nil, "count", 0, "no value"},
	}
	for _, c := range cases {
		if got := Metric(c.v, c.unit, c.precision); got != c.want {
			t.Errorf("Metric(%v, %s, %d) = %q, want %q", c.v, c.unit, c.precision, got, c.want)
		}
	}
}

func TestFormatPct(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"16.67": "+16.7%", "-25": "-25.0%", "0": "0.0%", "1234.44": "+1,234.4%", "224.5": "+224.5%", "100": "+100.0%", "999.96": "+1,000.0%", "-100": "-100.0%", "123456.7": "+123,456.7%", "-0.04": "0.0%", "0.05": "+0.1%"} {
		if got := Pct(json.Number(in)); got != want {
			t.Errorf("Pct(%s) = %q, want %q", in, got, want)
		}
	}
}

// Changes of 100% or more once came out as "up ,224.5%": the sign was
// counted as a digit when grouping thousands.
func TestGroupThousandsSigned(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"+224.5": "+224.5", "+1224.5": "+1,224.5", "-224.5": "-224.5", "+100": "+100", "-1000": "-1,000", "224": "224"} {
		if got := GroupThousands(in); got != want {
			t.Errorf("GroupThousands(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPeriodText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"2026-10-01..2026-10-31": "October 2026",
		"2026-07-01..2026-09-30": "Q3 2026",
		"2025-01-01..2025-12-31": "2025",
		"2026-11-01..2026-11-15": "1-15 November 2026",
		"2026-09-28..2026-10-04": "28 September-4 October 2026",
		"2025-12-28..2026-01-03": "28 December 2025-3 January 2026",
		"2026-08-01..2026-10-31": "August-October 2026",
		"2025-11-01..2026-10-31": "November 2025-October 2026",
		"2026-10-05..2026-10-05": "5 October 2026",
		"2026-03-01..":           "since 1 March 2026",
		"..2025-12-31":           "until 31 December 2025",
		"":                       "",
	} {
		if got := Period(in); got != want {
			t.Errorf("Period(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCellStrings: timestamps and dates read as days, everything else as
// written, short strings and ones with no '-' included.
func TestCellStrings(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]string{
		"2026-10-01T00:00:00Z": Day(mustDay(t, "2026-10-01")),
		"2026-10-01T09:30:00Z": Day(mustDay(t, "2026-10-01")) + " 09:30 UTC",
		"2026-10-01":           Day(mustDay(t, "2026-10-01")),
		"online":               "online",
		"2026":                 "2026",
		"20261001":             "20261001",
		"sign-up form":         "sign-up form",
		"2026-1-1":             "2026-1-1",
		"":                     "",
	} {
		if got := Cell(v); got != want {
			t.Errorf("Cell(%q) = %q, want %q", v, got, want)
		}
	}
}

func mustDay(t *testing.T, s string) time.Time {
	t.Helper()
	d, ok := ParseDay(s)
	if !ok {
		t.Fatalf("ParseDay(%q) failed", s)
	}
	return d
}
