package sqlstore

import (
	"testing"

	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/tools"
)

// The benchmarks measure one query_metrics call through the Store on the
// demo's SQLite data against the same SQL text run directly with
// database/sql: the difference is the store's own cost (routing, compiling,
// normalizing). Run them together:
//
//	go test -run '^$' -bench 'QueryMetrics|BareSQL' ./adapters/sqlstore

// benchPlans are typical questions: a small grouped total over a week, and
// a year of monthly figures compared with the year before.
func benchPlans(b *testing.B) map[string]tools.MetricsPlan {
	p := demoProduct(b, "customer-transactions")
	return map[string]tools.MetricsPlan{
		"week_by_channel": {Product: p, Metrics: []string{"transaction_count", "total_amount"}, GroupBy: []string{"channel"},
			Filters: []tools.Condition{{Column: "type", Op: "=", Value: "deposit"}, {Column: "region", Op: "=", Value: "europe"}},
			Range:   span("2026-11-08", "2026-11-15")},
		"year_monthly_by_region": {Product: p, Metrics: []string{"transaction_count", "total_amount", "average_amount"}, GroupBy: []string{"region"},
			Grain: tools.GrainMonth, Range: span("2025-11-01", "2026-11-01")},
	}
}

func BenchmarkQueryMetrics(b *testing.B) {
	dir := banktest.SQLiteDir(b)
	s := New(Options{SQLiteDir: dir})
	defer s.Close()
	for name, plan := range benchPlans(b) {
		b.Run(name, func(b *testing.B) {
			c := ctx(b)
			if _, err := s.QueryMetrics(c, plan); err != nil { // open the file outside the timing
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.QueryMetrics(c, plan); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBareSQL(b *testing.B) {
	// The store's own scan over a plain read-only handle, each statement
	// prepared afresh: what QueryMetrics adds is everything else.
	db := banktest.OpenFiles(b, banktest.SQLiteDir(b)).DB(b, "retail-banking")
	for name, plan := range benchPlans(b) {
		q, err := compileMetrics(sqliteDialect, plan, plan.Range, true)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			c := ctx(b)
			b.ReportAllocs()
			for b.Loop() {
				rows, err := db.QueryContext(c, q.stmt.sql, q.stmt.args...)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := scanAll(rows); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCompileMetrics is the compiler alone: its share of a tool call.
func BenchmarkCompileMetrics(b *testing.B) {
	for name, plan := range benchPlans(b) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := compileMetrics(sqliteDialect, plan, plan.Range, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
