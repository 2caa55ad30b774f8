package main

import (
	"fmt"
	"strconv"
	"strings"
)

// goBenchMetric returns the figure of unit (e.g. "allocs/op") that `go test
// -bench` printed for the benchmark named name (with or without its
// -GOMAXPROCS suffix) in out: from the last such line, if it ran more than
// once.
func goBenchMetric(out, name, unit string) (float64, bool) {
	var v float64
	found := false
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		if base, _, _ := strings.Cut(f[0], "-"); base != name {
			continue
		}
		// name, iterations, then value and unit pairs.
		for i := 2; i+1 < len(f); i += 2 {
			if f[i+1] != unit {
				continue
			}
			if n, err := strconv.ParseFloat(f[i], 64); err == nil {
				v, found = n, true
			}
		}
	}
	return v, found
}

// questionBench is the Go benchmark of one question through the whole
// stack that make bench runs into its --go-bench file.
const questionBench = "BenchmarkQuestion"

// allocsRow gives the allocations per question of this run's go-bench
// output against those of the report this run replaces.
func (e *benchEnv) allocsRow() benchRow {
	row := benchRow{Case: "allocations per question (`" + questionBench + "` in internal/app: one question through the whole stack in one process, offline planner, SQLite audit log with its fsync)"}
	allocs, ok := goBenchMetric(e.goBench, questionBench, "allocs/op")
	if ok {
		row.Value = fmtCount(int64(allocs)) + " allocations"
		if b, ok := goBenchMetric(e.goBench, questionBench, "B/op"); ok {
			row.Value += ", " + fmtBytes(b)
		}
	} else {
		row.Value = "not in this run: make bench runs " + questionBench + " into bin/gobench.txt and passes it with --go-bench"
	}
	switch before, prev := goBenchMetric(e.previous, questionBench, "allocs/op"); {
	case prev:
		row.Baseline = fmt.Sprintf("%s before (the report of %s)", fmtCount(int64(before)), orDash(e.previousDate))
		if ok {
			row.Ratio = fmtRatio(ratio(allocs, before))
		}
	case e.previous != "":
		row.Baseline = "none: the report this run replaces has no " + questionBench
	default:
		row.Baseline = "none: no report to replace (--out)"
	}
	return row
}
