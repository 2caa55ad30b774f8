package auditlog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/askmesh/askmesh/audit"
	"github.com/jackc/pgx/v5"
)

// sampleRecord is a realistic allowed query_records call; i makes it unique.
func sampleRecord(i int) audit.Record {
	subjects := []string{"erin@bank.example", "bob@bank.example", "carol@bank.example", "dave@bank.example"}
	return audit.Record{
		RequestID:      fmt.Sprintf("req-%010d", i),
		ConversationID: fmt.Sprintf("slack:C0123456789:%d.000100", 1700000000+i/8),
		Channel:        "slack",
		Subject:        subjects[i%len(subjects)],
		Groups:         []string{"retail-ops"},
		Action:         "product.query_records",
		Tool:           "query_records",
		Product:        "customer-transactions",
		Arguments: json.RawMessage(`{"product":"customer-transactions","columns":["occurred_at","amount","channel","account_id"],` +
			`"filters":[{"column":"region","op":"=","value":"europe"}],"time_range":"last_7_days","limit":50}`),
		Columns:        []string{"occurred_at", "amount", "channel", "account_id"},
		RowFilters:     []audit.Filter{{Column: "region", Op: "=", Value: "europe"}},
		Masks:          map[string]string{"account_id": "last4"},
		Decision:       audit.DecisionAllow,
		RowsReturned:   50,
		PolicyRevision: "9f2c4e7a1b3d5f6e8a0c2e4f6a8b0d2f4e6a8c0e2f4a6b8d0f2e4a6c8e0a2b4d",
		Model:          "offline",
		Question:       "Total deposits in Europe last week, by channel",
		DurationMS:     int64(3 + i%20),
	}
}

// BenchmarkAppends appends total realistic records to store from writers
// concurrent goroutines and returns durable records per second (each
// Append returns only once its record is committed). It stops at the first
// error.
func BenchmarkAppends(ctx context.Context, store audit.Store, writers, total int) (perSecond float64, err error) {
	if writers < 1 || total < 1 {
		return 0, fmt.Errorf("audit: benchmark: writers (%d) and total (%d) must be positive", writers, total)
	}
	recs := make([]audit.Record, total)
	for i := range recs {
		recs[i] = sampleRecord(i)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	start := time.Now()
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(total) {
					return
				}
				if err := store.Append(ctx, &recs[i]); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return 0, fmt.Errorf("audit: benchmark: %w", firstErr)
	}
	return float64(total) / elapsed.Seconds(), nil
}

// BaselineCopyFrom measures the ceiling BenchmarkAppends is compared with:
// one bare pgx CopyFrom of total of the same records (same columns, no
// chain, no group commit, one transaction) into a scratch copy of
// governance.access_audit (same types, constraints and indexes), dropped
// afterwards. The role needs CREATE on schema governance.
func BaselineCopyFrom(ctx context.Context, dsn string, total int) (perSecond float64, err error) {
	if total < 1 {
		return 0, fmt.Errorf("audit: baseline: total (%d) must be positive", total)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, fmt.Errorf("audit: baseline: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := migratePostgres(ctx, conn); err != nil {
		return 0, fmt.Errorf("audit: baseline: %w", err)
	}
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	name := "access_audit_baseline_" + hex.EncodeToString(suffix[:])
	table := pgx.Identifier{"governance", name}
	if _, err := conn.Exec(ctx, "CREATE TABLE "+table.Sanitize()+" (LIKE "+pgTable+" INCLUDING ALL)"); err != nil {
		return 0, fmt.Errorf("audit: baseline: %w", err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, derr := conn.Exec(dctx, "DROP TABLE "+table.Sanitize()); derr != nil {
			err = errors.Join(err, fmt.Errorf("audit: baseline: drop %s: %w", name, derr))
		}
	}()

	src := make([][]any, total)
	fakeHash := strings.Repeat("ab", 32)
	for i := range src {
		rec := sampleRecord(i)
		rec.ID = fmt.Sprintf("baseline-%010d", i)
		rec.At = time.Now()
		rw, err := toRow(&rec)
		if err != nil {
			return 0, fmt.Errorf("audit: baseline: %w", err)
		}
		rw.seq, rw.prevHash, rw.hash = int64(i+1), fakeHash, fakeHash
		src[i] = rw.values(rw.atTime)
	}
	start := time.Now()
	n, err := conn.CopyFrom(ctx, table, columnNames, pgx.CopyFromRows(src))
	elapsed := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("audit: baseline: copy: %w", err)
	}
	if n != int64(total) {
		return 0, fmt.Errorf("audit: baseline: copied %d of %d rows", n, total)
	}
	return float64(total) / elapsed.Seconds(), nil
}
