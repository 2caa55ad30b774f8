package auditlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
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

// copyBufs hold batches' COPY data, reused.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func (s *pgStorage) begin(ctx context.Context) (storageTx, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	return &pgTx{st: s, conn: conn}, nil
}

// pgTx is one batch transaction on a connection of its own. It speaks
// BEGIN and COMMIT itself so that a batch costs two round trips: BEGIN,
// lock and head read in one pipeline; insert and COMMIT in another.
type pgTx struct {
	st       *pgStorage
	conn     *pgxpool.Conn
	rows     []*row
	open     bool // BEGIN was sent and neither COMMIT nor ROLLBACK finished
	released bool
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

// pgCopy inserts a batch: COPY in text format, which the server parses more
// cheaply than any INSERT of the same rows, and which one simple-protocol
// query can carry together with BEGIN, the chain lock, the head check and
// COMMIT, so a batch costs one round trip.
var pgCopy = "COPY " + pgTable + " (" + quotedColumns + ") FROM STDIN"

// pgHeadMoved is the SQLSTATE pgExpectHead raises (class AM is PostgreSQL's
// to leave to applications).
const pgHeadMoved = "AM001"

// pgExpectHead is a statement that fails with pgHeadMoved unless the chain's
// head is (seq, hash) -- (0, "") for an empty chain: a call of the function
// migration 3 creates, compiled once per connection, where an anonymous DO
// block was compiled on every batch, under the chain lock. It runs after the
// chain lock is taken, in a snapshot of its own, so the head it reads is
// final. The simple protocol takes no parameters: seq is a number and hash
// our own hex digest (insertIfHead checks), so both are safe as literals.
func pgExpectHead(seq int64, hash string) string {
	return "SELECT governance.access_audit_expect_head(" + strconv.FormatInt(seq, 10) + ", '" + hash + "')"
}

func isHex(s string) bool {
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// copyRows writes rows in COPY's text format: tab-separated, one line per
// row. Text needs only backslash, tab, newline and carriage return escaped
// (stored text holds no NUL: cleanText); at is TimeLayout, ISO 8601 in UTC,
// which timestamptz reads whatever the session's DateStyle.
func copyRows(b []byte, rows []*row) []byte {
	// The fields in columnNames order.
	for _, rw := range rows {
		b = appendCopyText(b, rw.id)
		b = append(b, '\t')
		b = strconv.AppendInt(b, rw.seq, 10)
		b = append(b, '\t')
		if rw.enc != nil {
			b = append(b, (*rw.enc)[rw.encMid:]...)
		} else {
			b = appendCopyMid(b, rw)
		}
		b = append(b, '\t')
		b = appendCopyText(b, rw.prevHash)
		b = append(b, '\t')
		b = appendCopyText(b, rw.hash)
		b = append(b, '\t')
		b = appendCopyText(b, rw.clientReqID)
		b = append(b, '\n')
	}
	return b
}

// appendCopyMid writes the columns from at to duration_ms in COPY's text
// format: those the chain does not decide.
func appendCopyMid(b []byte, rw *row) []byte {
	b = appendCopyText(b, rw.at)
	for _, s := range [...]string{rw.requestID, rw.conversationID, rw.channel, rw.subject, rw.groups,
		rw.action, rw.tool, rw.product, rw.arguments, rw.columns, rw.rowFilters, rw.masks, rw.decision, rw.reason} {
		b = appendCopyText(append(b, '\t'), s)
	}
	b = strconv.AppendInt(append(b, '\t'), rw.rowsReturned, 10)
	for _, s := range [...]string{rw.policyRevision, rw.model, rw.question} {
		b = appendCopyText(append(b, '\t'), s)
	}
	return strconv.AppendInt(append(b, '\t'), rw.durationMS, 10)
}

// appendAhead lets Append encode a row's COPY columns on its own goroutine.
func (s *pgStorage) appendAhead(b []byte, rw *row) []byte { return appendCopyMid(b, rw) }

// copyPlain marks the bytes appendCopyText copies as they are.
var copyPlain = func() (t [256]bool) {
	for i := range t {
		t[i] = true
	}
	t['\\'], t['\t'], t['\n'], t['\r'] = false, false, false, false
	return t
}()

func appendCopyText(b []byte, s string) []byte {
	// Runs of plain bytes are copied at once: every field of every record
	// passes here, on the writer's goroutine, and most need no escape.
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && copyPlain[s[j]] {
			j++
		}
		b = append(b, s[i:j]...)
		if j == len(s) {
			break
		}
		switch s[j] {
		case '\\':
			b = append(b, '\\', '\\')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		}
		i = j + 1
	}
	return b
}

// copyBatch runs sql, a simple-protocol query holding pgCopy, on conn with
// rows as the COPY's data, and checks that the query ended in COMMIT. On
// error the transaction may be open and aborted: it ends it, or closes the
// connection rather than let it go back to the pool in that state.
func (s *pgStorage) copyBatch(ctx context.Context, conn *pgxpool.Conn, sql string, rows []*row) error {
	bp := copyBufs.Get().(*[]byte)
	*bp = copyRows((*bp)[:0], rows)
	tag, err := conn.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(*bp), sql)
	// After some errors pgconn returns while its goroutine may still be
	// reading the data, so the buffer is kept only after a clean return; an
	// outsized batch's never.
	if err == nil && cap(*bp) <= 1<<20 {
		copyBufs.Put(bp)
	}
	if err == nil && tag.String() != "COMMIT" {
		// The server rolled the transaction back instead.
		err = fmt.Errorf("the server answered %q to COMMIT", tag.String())
	}
	if err != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, rerr := conn.Exec(rctx, "ROLLBACK"); rerr != nil {
			_ = conn.Conn().Close(rctx)
		}
	}
	return err
}

// insertIfHead is the one-round-trip batch: BEGIN, the chain lock, the head
// check, the COPY and COMMIT in one query.
func (s *pgStorage) insertIfHead(ctx context.Context, seq int64, hash string, rows []*row) (bool, error) {
	if !isHex(hash) {
		return false, nil // not a head this store computed: read it under the lock
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Release()
	sql := "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(" + strconv.FormatInt(pgChainLockKey, 10) + "); " +
		pgExpectHead(seq, hash) + "; " + pgCopy + "; COMMIT"
	err = s.copyBatch(ctx, conn, sql, rows)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == pgHeadMoved {
		return false, nil
	}
	return err == nil, err
}

func (t *pgTx) insert(_ context.Context, rows []*row) error {
	t.rows = rows
	return nil
}

// commit sends the COPY and COMMIT as one query.
func (t *pgTx) commit(ctx context.Context) error {
	err := t.st.copyBatch(ctx, t.conn, pgCopy+"; COMMIT", t.rows)
	t.open = false // copyBatch ended the transaction either way
	t.conn.Release()
	t.released = true
	return err
}

func (t *pgTx) rollback(ctx context.Context) error {
	if t.released {
		return nil
	}
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
