package auditlog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/askmesh/askmesh/audit"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Advisory lock keys ("askmesh" and a number). The chain lock serializes
// batch transactions of every process appending to the same table, so the
// chain stays linear across replicas; the migration lock serializes schema
// changes of replicas starting together.
const (
	pgChainLockKey   int64 = 0x61736b6d65736801
	pgMigrateLockKey int64 = 0x61736b6d65736802
)

const pgTable = "governance.access_audit"

// PostgresStore is the audit log in PostgreSQL (table governance.access_audit).
// Any number of processes may append to the same table.
type PostgresStore struct {
	*chain
	pool *pgxpool.Pool
}

var _ audit.Store = (*PostgresStore)(nil)

// OpenPostgres connects to dsn, brings the governance schema up to date
// (when the role may; an insert-only role needs it done already) and starts
// the group-commit writer.
func OpenPostgres(ctx context.Context, dsn string) (*PostgresStore, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("audit: postgres: %w", err)
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "askmesh-audit"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("audit: postgres: %w", err)
	}
	if err := migratePostgres(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("audit: postgres: %w", err)
	}
	return &PostgresStore{chain: newChain(&pgStorage{pool: pool}), pool: pool}, nil
}

// migratePostgres applies the embedded migrations not yet recorded in
// governance.schema_migrations. When all are applied it only reads, so an
// insert-only role can open an already migrated database.
func migratePostgres(ctx context.Context, pool pgMigrator) error {
	ms, err := loadMigrations("postgres")
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	applied, err := pgApplied(ctx, pool)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if countPending(ms, applied) == 0 {
		return nil
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }() // a no-op after Commit
	for _, stmt := range []string{
		"SELECT pg_advisory_xact_lock(" + fmt.Sprint(pgMigrateLockKey) + ")",
		"CREATE SCHEMA IF NOT EXISTS governance",
		`CREATE TABLE IF NOT EXISTS governance.schema_migrations (
			version integer PRIMARY KEY,
			name text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`,
	} {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	// Another replica may have migrated while this one waited for the lock.
	applied, err = pgApplied(ctx, tx)
	if err != nil {
		return fmt.Errorf("migrate: read schema version: %w", err)
	}
	exec := func(ctx context.Context, sql string, args ...any) error {
		_, err := tx.Exec(ctx, sql, args...)
		return err
	}
	if err := applyMigrations(ctx, "postgres", ms, applied, exec,
		"INSERT INTO governance.schema_migrations (version, name) VALUES ($1, $2)"); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

type pgQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// pgMigrator is a pool or a single connection.
type pgMigrator interface {
	pgQuerier
	Begin(ctx context.Context) (pgx.Tx, error)
}

func pgApplied(ctx context.Context, q pgQuerier) (map[int]bool, error) {
	var exists bool
	if err := q.QueryRow(ctx, "SELECT to_regclass('governance.schema_migrations') IS NOT NULL").Scan(&exists); err != nil {
		return nil, err
	}
	applied := map[int]bool{}
	if !exists {
		return applied, nil
	}
	rows, err := q.Query(ctx, "SELECT version FROM governance.schema_migrations")
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		applied[v] = true
	}
	return applied, rows.Err()
}

type pgStorage struct {
	pool *pgxpool.Pool
}

func (s *pgStorage) begin(ctx context.Context) (storageTx, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	return &pgTx{conn: conn}, nil
}

// pgTx is one batch transaction on a connection of its own. It speaks
// BEGIN and COMMIT itself so that a batch costs two round trips: BEGIN,
// lock and head read in one pipeline; insert and COMMIT in another.
type pgTx struct {
	conn   *pgxpool.Conn
	queued *pgx.Batch
	open   bool // BEGIN was sent and neither COMMIT nor ROLLBACK finished
}

func (t *pgTx) head(ctx context.Context) (int64, string, error) {
	// In READ COMMITTED each statement takes its own snapshot, so the head
	// is read after the lock is held and sees every batch committed before.
	b := &pgx.Batch{}
	b.Queue("BEGIN ISOLATION LEVEL READ COMMITTED")
	b.Queue("SELECT pg_advisory_xact_lock($1)", pgChainLockKey)
	b.Queue(`SELECT "seq", "hash" FROM ` + pgTable + ` ORDER BY "seq" DESC LIMIT 1`)
	t.open = true
	br := t.conn.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return 0, "", fmt.Errorf("begin: %w", err)
	}
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return 0, "", fmt.Errorf("take the chain lock: %w", err)
	}
	var seq int64
	var hash string
	err := br.QueryRow().Scan(&seq, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		seq, hash, err = 0, "", nil
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return seq, hash, err
}

// pgInsert inserts a batch as one statement of 24 arrays, one per column:
// its text never changes, so it is prepared once per connection.
var pgInsert = func() string {
	types := map[string]string{"seq": "bigint", "at": "timestamptz", "rows_returned": "integer", "duration_ms": "bigint"}
	var b strings.Builder
	b.WriteString("INSERT INTO " + pgTable + " (" + quotedColumns + ") SELECT * FROM unnest(")
	for i, c := range columnNames {
		if i > 0 {
			b.WriteString(", ")
		}
		typ := types[c]
		if typ == "" {
			typ = "text"
		}
		fmt.Fprintf(&b, "$%d::%s[]", i+1, typ)
	}
	b.WriteString(") AS u")
	return b.String()
}()

// pgInsertIfHead inserts only while the chain's head is still $25, $26.
var pgInsertIfHead = pgInsert +
	` WHERE coalesce((SELECT "seq" FROM ` + pgTable + ` ORDER BY "seq" DESC LIMIT 1), 0) = $25::bigint` +
	` AND coalesce((SELECT "hash" FROM ` + pgTable + ` ORDER BY "seq" DESC LIMIT 1), '') = $26::text`

// insertIfHead is the one-round-trip batch: BEGIN, the chain lock, an
// insert conditional on the head and COMMIT, pipelined. The insert's
// snapshot is taken after the lock is held, so the head it checks is final.
func (s *pgStorage) insertIfHead(ctx context.Context, seq int64, hash string, rows []*row) (bool, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Release()
	b := &pgx.Batch{}
	b.Queue("BEGIN ISOLATION LEVEL READ COMMITTED")
	b.Queue("SELECT pg_advisory_xact_lock($1)", pgChainLockKey)
	b.Queue(pgInsertIfHead, append(pgInsertArgs(rows), seq, hash)...)
	b.Queue("COMMIT")
	br := conn.SendBatch(ctx, b)
	var tags [4]pgconn.CommandTag
	for i := range tags {
		if tags[i], err = br.Exec(); err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// The transaction may be open and aborted: end it, or drop the
		// connection rather than return it to the pool in that state.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, rerr := conn.Exec(rctx, "ROLLBACK"); rerr != nil {
			_ = conn.Conn().Close(rctx)
		}
		return false, err
	}
	if tags[3].String() != "COMMIT" {
		return false, fmt.Errorf("the server answered %q to COMMIT", tags[3].String())
	}
	switch n := tags[2].RowsAffected(); n {
	case int64(len(rows)):
		return true, nil
	case 0:
		return false, nil
	default:
		return false, fmt.Errorf("inserted %d of %d rows", n, len(rows))
	}
}

func (t *pgTx) insert(_ context.Context, rows []*row) error {
	t.queued = &pgx.Batch{}
	t.queued.Queue(pgInsert, pgInsertArgs(rows)...)
	return nil
}

// pgInsertArgs lays rows out as one array per column.
func pgInsertArgs(rows []*row) []any {
	n := len(rows)
	cols := make([][]string, len(columnNames))
	for i := range cols {
		cols[i] = make([]string, n)
	}
	seqs, rowsReturned, durations := make([]int64, n), make([]int32, n), make([]int64, n)
	ats := make([]time.Time, n)
	for i, rw := range rows {
		rw.texts(func(j int, s string) { cols[j][i] = s })
		seqs[i], ats[i], rowsReturned[i], durations[i] = rw.seq, rw.atTime, int32(rw.rowsReturned), rw.durationMS
	}
	args := make([]any, len(columnNames))
	for j, c := range columnNames {
		switch c {
		case "seq":
			args[j] = seqs
		case "at":
			args[j] = ats
		case "rows_returned":
			args[j] = rowsReturned
		case "duration_ms":
			args[j] = durations
		default:
			args[j] = cols[j]
		}
	}
	return args
}

func (t *pgTx) commit(ctx context.Context) error {
	b := t.queued
	if b == nil {
		b = &pgx.Batch{}
	}
	inserting := b.Len()
	b.Queue("COMMIT")
	br := t.conn.SendBatch(ctx, b)
	for i := range inserting {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return fmt.Errorf("insert (statement %d): %w", i+1, err)
		}
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	t.open = false
	t.conn.Release()
	if tag.String() != "COMMIT" {
		// The server rolled the transaction back instead.
		return fmt.Errorf("the server answered %q to COMMIT", tag.String())
	}
	return nil
}

func (t *pgTx) rollback(ctx context.Context) error {
	defer t.conn.Release()
	if !t.open {
		return nil
	}
	if _, err := t.conn.Exec(ctx, "ROLLBACK"); err != nil {
		// A connection whose state is unknown must not go back to the pool.
		_ = t.conn.Conn().Close(ctx)
		return err
	}
	return nil
}

func (s *pgStorage) recordError(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || len(pgErr.Code) < 2 {
		return false
	}
	// 22: data exception, 23: integrity constraint violation.
	return pgErr.Code[:2] == "22" || pgErr.Code[:2] == "23"
}

func (s *pgStorage) query(ctx context.Context, sql string, args []any, fn func(*row) error) error {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var rw row
		var at time.Time
		if err := rows.Scan(rw.scanTargets(&at)...); err != nil {
			return err
		}
		rw.atTime = at.UTC()
		rw.at = rw.atTime.Format(TimeLayout)
		if err := fn(&rw); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s *pgStorage) search(ctx context.Context, q audit.Query, fn func(*row) error) error {
	sql, args := postgresDialect.searchSQL(pgTable, q)
	return s.query(ctx, sql, args, fn)
}

func (s *pgStorage) walk(ctx context.Context, upTo int64, fn func(*row) error) error {
	sql, args := postgresDialect.walkSQL(pgTable, upTo)
	return s.query(ctx, sql, args, fn)
}

func (s *pgStorage) ping(ctx context.Context) error {
	var may bool
	if err := s.pool.QueryRow(ctx, "SELECT has_table_privilege('"+pgTable+"', 'INSERT')").Scan(&may); err != nil {
		return err
	}
	if !may {
		return errors.New("this database role may not insert into " + pgTable)
	}
	return nil
}

func (s *pgStorage) close() error {
	s.pool.Close()
	return nil
}
