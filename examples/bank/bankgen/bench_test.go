package bankgen_test

import (
	"context"
	"testing"
	"time"

	"github.com/askmesh/askmesh/examples/bank/bankgen"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/pgtest"
)

// BenchmarkGenerateSQLite: one whole scale-1 mesh into SQLite files.
func BenchmarkGenerateSQLite(b *testing.B) {
	opts := banktest.Options()
	opts.DataDir = b.TempDir()
	start := time.Now()
	for b.Loop() {
		if _, err := bankgen.GenerateSQLite(context.Background(), opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(time.Since(start).Seconds()/float64(b.N), "s/gen")
}

// BenchmarkGeneratePostgres: one whole scale-1 mesh into PostgreSQL
// schemas (generation included).
func BenchmarkGeneratePostgres(b *testing.B) {
	dsn := pgtest.NewDatabase(b)
	start := time.Now()
	for b.Loop() {
		if _, err := bankgen.GeneratePostgres(context.Background(), dsn, banktest.Options()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(time.Since(start).Seconds()/float64(b.N), "s/gen")
}

// BenchmarkGenerate: the data in memory, without writing it.
func BenchmarkGenerate(b *testing.B) {
	start := time.Now()
	for b.Loop() {
		if _, err := bankgen.Generate(context.Background(), banktest.Options()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(time.Since(start).Seconds()/float64(b.N), "s/gen")
}
