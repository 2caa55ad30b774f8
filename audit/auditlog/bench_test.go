package auditlog

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/internal/pgtest"
)

// BenchmarkPostgresAppend measures durable, chained appends per second on
// the machine's PostgreSQL (fsync on). b.N is the number of records.
func BenchmarkPostgresAppend(b *testing.B) {
	for _, writers := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			dsn := pgtest.NewDatabase(b)
			s, err := OpenPostgres(context.Background(), dsn)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.ReportAllocs() // per record, the benchmark's own records included
			b.ResetTimer()
			perSecond, err := BenchmarkAppends(context.Background(), s, writers, b.N)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(perSecond, "records/s")
			res, err := s.Verify(context.Background())
			if err != nil || !res.OK || res.Records != int64(b.N) {
				b.Fatalf("after the benchmark Verify = %+v, %v", res, err)
			}
		})
	}
}

// BenchmarkPostgresCopyFromBaseline is the ceiling: a bare CopyFrom of the
// same records into a table of the same shape, no chain, one transaction.
func BenchmarkPostgresCopyFromBaseline(b *testing.B) {
	dsn := pgtest.NewDatabase(b)
	b.ResetTimer()
	perSecond, err := BaselineCopyFrom(context.Background(), dsn, b.N)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(perSecond, "records/s")
}

func BenchmarkSQLiteAppend(b *testing.B) {
	for _, writers := range []int{1, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s, err := OpenSQLite(context.Background(), filepath.Join(b.TempDir(), SQLiteFile))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.ReportAllocs() // per record, the benchmark's own records included
			b.ResetTimer()
			perSecond, err := BenchmarkAppends(context.Background(), s, writers, b.N)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(perSecond, "records/s")
		})
	}
}

// The benchmark helpers `askmesh-bench` calls leave exactly what they say.
func TestBenchmarkHelpers(t *testing.T) {
	t.Parallel()
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	perSecond, err := BenchmarkAppends(context.Background(), s, 7, 100)
	if err != nil || perSecond <= 0 {
		t.Fatalf("BenchmarkAppends = %v, %v", perSecond, err)
	}
	res, err := s.Verify(context.Background())
	if err != nil || !res.OK || res.Records != 100 {
		t.Errorf("after BenchmarkAppends Verify = %+v, %v; want 100 intact records", res, err)
	}
	if _, err := BenchmarkAppends(context.Background(), s, 0, 10); err == nil {
		t.Error("zero writers accepted")
	}

	dsn := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if perSecond, err := BaselineCopyFrom(ctx, dsn, 500); err != nil || perSecond <= 0 {
		t.Fatalf("BaselineCopyFrom = %v, %v", perSecond, err)
	}
	// The scratch table is gone and the audit table untouched.
	ps, err := OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	if n, err := countTables(ctx, dsn); err != nil || n != 2 {
		t.Errorf("governance has %d tables (%v), want 2 (access_audit, schema_migrations)", n, err)
	}
	if recs, err := ps.Search(ctx, audit.Query{}); err != nil || len(recs) != 0 {
		t.Errorf("the audit table holds %d records (%v), want 0", len(recs), err)
	}
}

func countTables(ctx context.Context, dsn string) (int, error) {
	var n int
	err := queryRow(ctx, dsn, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'governance'", &n)
	return n, err
}

// BenchmarkRecordPrepare is the CPU an Append spends outside the database:
// encoding, normalizing and hashing one record.
func BenchmarkRecordPrepare(b *testing.B) {
	rec := sampleRecord(1)
	rec.At = time.Now()
	b.ReportAllocs()
	for b.Loop() {
		rw, err := toRow(&rec)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := rw.decode(&rec); err != nil {
			b.Fatal(err)
		}
		rw.prevHash = GenesisHash
		_ = rw.computeHash()
	}
}
