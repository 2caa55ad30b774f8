package sqlstore

import (
	"math"
	"testing"
	"time"
)

func TestRoundTo(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in     float64
		places int
		want   float64
	}{
		{2.675, 2, 2.68}, // binary 2.67499999...; people read 2.675
		{1.005, 2, 1.01},
		{-1.005, 2, -1.01},
		{0.1 + 0.2, 2, 0.3},
		{123.4549, 2, 123.45},
		{99.995, 2, 100},
		{-99.995, 2, -100},
		{0.00049, 3, 0},
		{-0.0001, 2, 0}, // not negative zero
		{12345678.899999999, 2, 12345678.9},
		{1e21, 2, 1e21},
		{0.123456789, 4, 0.1235},
		{5, 0, 5},
		{2.5, 0, 3},
		{-2.5, 0, -3},
		// Float noise around a decimal tie rounds the same either side.
		{2040.3949999999998, 2, 2040.4},
		{2040.3950000000002, 2, 2040.4},
		{0.30000000000000004, 1, 0.3},
		{1234567890123.455, 2, 1234567890123.46},
	}
	for _, c := range cases {
		got := roundTo(c.in, c.places)
		if got != c.want || math.Signbit(got) != math.Signbit(c.want) {
			t.Errorf("roundTo(%v, %d) = %v, want %v", c.in, c.places, got, c.want)
		}
		if ref := roundHalfAway(c.in, c.places); ref != c.want {
			t.Errorf("the tests' reference rounds %v to %v, want %v", c.in, ref, c.want)
		}
	}
}

func TestNormalizeTimes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   any
		typ  string
		want any
	}{
		{"2026-10-05T14:23:11.000000Z", "timestamp", "2026-10-05T14:23:11Z"},
		{"2026-10-05T14:23:11.999999Z", "timestamp", "2026-10-05T14:23:11Z"},
		{"2026-10-05T16:23:11+02:00", "timestamp", "2026-10-05T14:23:11Z"},
		{"2026-10-05 14:23:11", "timestamp", "2026-10-05T14:23:11Z"},
		{time.Date(2026, 10, 5, 16, 23, 11, 500, time.FixedZone("x", 7200)), "timestamp", "2026-10-05T14:23:11Z"},
		{"2026-10-05", "date", "2026-10-05"},
		{time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC), "date", "2026-10-05"},
		{int64(1), "boolean", true},
		{int64(0), "boolean", false},
		{int32(7), "integer", int64(7)},
		{[]byte("abc"), "string", "abc"},
		{[]any{"a", "b"}, "string", `["a","b"]`},
		{12.345, "number", 12.35},
	}
	for _, c := range cases {
		got, err := normalize(c.in, outCol{name: "c", typ: c.typ})
		if err != nil || got != c.want {
			t.Errorf("normalize(%#v as %s) = %#v, %v; want %#v", c.in, c.typ, got, err, c.want)
		}
	}
	for _, bad := range []struct {
		in  any
		typ string
	}{{"yesterday", "timestamp"}, {"10/05/2026", "date"}, {"x", "integer"}, {true, "number"}} {
		if got, err := normalize(bad.in, outCol{name: "c", typ: bad.typ}); err == nil {
			t.Errorf("normalize(%#v as %s) = %#v, want an error", bad.in, bad.typ, got)
		}
	}
}

func TestBucketStartMatchesSQL(t *testing.T) {
	t.Parallel()
	// bucketStart (Go, used to match comparison buckets) must agree with
	// the reference used against the SQL buckets, on every day of two years.
	for d := time.Date(2025, 1, 1, 13, 0, 0, 0, time.UTC); d.Year() < 2027; d = d.AddDate(0, 0, 1) {
		for _, g := range []string{"day", "week", "month", "quarter", "year"} {
			if got, want := bucketStart(d, g).Format(time.DateOnly), bucketOf(d, g); got != want {
				t.Fatalf("bucketStart(%s, %s) = %s, want %s", d, g, got, want)
			}
		}
	}
}
