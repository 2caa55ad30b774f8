package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/askmesh/askmesh/audit/auditlog"
)

// scratchDatabase creates a fresh database on the server adminDSN names and
// returns its DSN and a function that drops it.
func scratchDatabase(ctx context.Context, adminDSN string) (string, func() error, error) {
	u, err := url.Parse(adminDSN)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, fmt.Errorf("DATABASE_URL %q: want a postgres:// URL", redactDSN(adminDSN))
	}
	conn, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return "", nil, fmt.Errorf("connect to PostgreSQL (%s): %w", redactDSN(adminDSN), err)
	}
	var suffix [5]byte
	_, _ = rand.Read(suffix[:])
	name := "askmesh_bench_" + hex.EncodeToString(suffix[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		conn.Close(ctx)
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	drop := func() error {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		defer conn.Close(dctx)
		if _, err := conn.Exec(dctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
		return nil
	}
	db := *u
	db.Path = "/" + name
	return db.String(), drop, nil
}

func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return u.Redacted()
}

func (e *benchEnv) benchAudit() (sec *benchSection) {
	sec = &benchSection{Title: "Audit appends to PostgreSQL",
		What: "Durable, hash-chained appends through `auditlog.PostgresStore` (group commit: each appending goroutine encodes its own record, the canonical JSON and the COPY text of every column the chain does not decide; the single writer chains the batch, i.e. hashes and copies, and sends it as one query carrying BEGIN, the chain lock, the head check, a text-format COPY and COMMIT; each `Append` returns only once its record is committed) from 1, 8 and 64 concurrent writers (`auditlog.BenchmarkAppends`), against the bare ceiling: one pgx `CopyFrom` of the same number of the same records into a scratch table of the same shape, in one transaction, with no chain (`auditlog.BaselineCopyFrom`). A fresh database is created for the run and dropped after it."}
	dsn, drop, err := scratchDatabase(e.ctx, e.dsn)
	if err != nil {
		sec.Err = err
		return sec
	}
	defer func() {
		if err := drop(); err != nil {
			sec.Notes = append(sec.Notes, "cleanup: "+err.Error())
		}
	}()
	store, err := auditlog.OpenPostgres(e.ctx, dsn)
	if err != nil {
		sec.Err = err
		return sec
	}
	defer store.Close()
	if _, err := auditlog.BenchmarkAppends(e.ctx, store, 8, 200); err != nil { // warm the pool
		sec.Err = err
		return sec
	}
	totals := map[int]int{1: e.n(3000), 8: e.n(12000), 64: e.n(50000)}
	// The bar: at 64 writers, half of a bare COPY's rate.
	const target = 0.5
	for _, w := range []int{1, 8, 64} {
		total := totals[w]
		cpu0 := cpuTime()
		perSec, err := auditlog.BenchmarkAppends(e.ctx, store, w, total)
		cpuPer := (cpuTime() - cpu0) / time.Duration(total)
		if err != nil {
			sec.Err = fmt.Errorf("%d writers: %w", w, err)
			return sec
		}
		base, err := auditlog.BaselineCopyFrom(e.ctx, dsn, total)
		if err != nil {
			sec.Err = fmt.Errorf("baseline: %w", err)
			return sec
		}
		row := benchRow{Case: fmt.Sprintf("%d writer(s), %s records", w, fmtCount(int64(total))), Value: fmtRate(perSec),
			Baseline: fmtRate(base) + " (CopyFrom)", Ratio: fmtRatio(perSec / base)}
		switch w {
		case 1:
			sec.Notes = append(sec.Notes, fmt.Sprintf("With 1 writer every append is its own commit: %s each, i.e. one WAL flush of this disk plus a round trip; group commit exists to share that flush among concurrent writers.",
				fmtDur(time.Duration(float64(time.Second)/perSec))))
		case 64:
			row.Target, row.Met = "≥ 0.5x of bare CopyFrom", met(perSec/base >= target)
			if cpuPer > 0 {
				sec.Notes = append(sec.Notes, fmt.Sprintf("At 64 writers askmesh spends %s of CPU per record (encoding, canonical JSON, hashing, pgx; GC included), so %d cores cap it near %s before PostgreSQL, which shares those cores here, does any work.",
					fmtDur(cpuPer), runtime.NumCPU(), fmtRate(float64(runtime.NumCPU())*float64(time.Second)/float64(cpuPer))))
			}
		}
		sec.Rows = append(sec.Rows, row)
	}
	res, err := store.Verify(e.ctx)
	switch {
	case err != nil:
		sec.Notes = append(sec.Notes, "chain verification failed: "+err.Error())
	case !res.OK:
		sec.Notes = append(sec.Notes, fmt.Sprintf("the chain is broken at record %d: %s", res.BrokenSeq, res.Problem))
	default:
		sec.Notes = append(sec.Notes, fmt.Sprintf("After the run `Verify` walked the whole chain: %s records, intact.", fmtCount(res.Records)))
	}
	if settings := pgSettings(e.ctx, dsn); settings != "" {
		sec.Notes = append(sec.Notes, "PostgreSQL: "+settings+".")
	}
	if sec.missed() {
		sec.Notes = append(sec.Notes, "A CPU profile of askmesh shows only the client's share: time spent waiting for PostgreSQL to commit (WAL flush) is off-CPU and does not appear in it.")
		sec.Profile = e.profile("audit", 5*time.Second, "", func(ctx context.Context) error {
			_, err := auditlog.BenchmarkAppends(ctx, store, 64, 4000)
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		})
	}
	return sec
}

// pgSettings describes the server settings that bound commit throughput.
func pgSettings(ctx context.Context, dsn string) string {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return ""
	}
	defer conn.Close(ctx)
	var parts []string
	var version string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&version); err == nil {
		parts = append(parts, "version "+version)
	}
	for _, name := range []string{"fsync", "synchronous_commit", "wal_sync_method", "commit_delay"} {
		var v string
		if err := conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v); err == nil {
			parts = append(parts, name+" = "+v)
		}
	}
	return strings.Join(parts, ", ")
}
