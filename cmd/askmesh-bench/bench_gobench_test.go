package main

import (
	"strings"
	"testing"
)

const goBenchSample = `goos: linux
pkg: github.com/askmesh/askmesh/internal/app
BenchmarkQuestionStream-2   	     300	   2000000 ns/op	  99 B/op	    9 allocs/op
BenchmarkQuestion-2         	     300	   1234567 ns/op	  234567 B/op	    1712 allocs/op
PASS
`

func TestGoBenchMetric(t *testing.T) {
	t.Parallel()
	if v, ok := goBenchMetric(goBenchSample, "BenchmarkQuestion", "allocs/op"); !ok || v != 1712 {
		t.Errorf("allocs/op: %v %v, want 1712", v, ok)
	}
	if v, ok := goBenchMetric(goBenchSample, "BenchmarkQuestion", "B/op"); !ok || v != 234567 {
		t.Errorf("B/op: %v %v", v, ok)
	}
	if _, ok := goBenchMetric(goBenchSample, "BenchmarkQuestion", "records/s"); ok {
		t.Error("a unit the line does not carry was found")
	}
	if _, ok := goBenchMetric("", "BenchmarkQuestion", "allocs/op"); ok {
		t.Error("found in empty output")
	}
}

// The allocations row compares this run's go-bench output with the
// report it replaces, and says when either is missing.
func TestAllocsRow(t *testing.T) {
	t.Parallel()
	prev := "| date | 2026-12-01 10:00 UTC |\n\n## Go benchmarks\n\n```\n" + strings.Replace(goBenchSample, "1712 allocs", "2396 allocs", 1) + "```\n"
	e := &benchEnv{goBench: goBenchSample, previous: prev, previousDate: "2026-12-01 10:00 UTC"}
	r := e.allocsRow()
	if !strings.HasPrefix(r.Value, "1,712 allocations") || r.Baseline != "2,396 before (the report of 2026-12-01 10:00 UTC)" || r.Ratio != fmtRatio(1712.0/2396) || r.Met != nil {
		t.Errorf("row %+v", r)
	}
	r = (&benchEnv{}).allocsRow()
	if !strings.HasPrefix(r.Value, "not in this run") || !strings.HasPrefix(r.Baseline, "none: no report") || r.Ratio != "" {
		t.Errorf("without go-bench output or a previous report: %+v", r)
	}
}
