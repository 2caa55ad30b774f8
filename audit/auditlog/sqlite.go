package auditlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/askmesh/askmesh/audit"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLiteFile is the audit database's file name in the data directory.
const SQLiteFile = "governance.db"

// DefaultSQLitePath is where the embedded audit store lives: <dataDir>/governance.db.
func DefaultSQLitePath(dataDir string) string {
	return filepath.Join(dataDir, SQLiteFile)
}

const sqliteTable = "access_audit"

// SQLiteStore is the embedded audit log: one SQLite file in WAL mode with
// synchronous=FULL, so a committed record survives a power loss. Several
// processes may append to the same file; BEGIN IMMEDIATE serializes them.
type SQLiteStore struct {
	*chain
	db *sql.DB
}

var _ audit.Store = (*SQLiteStore)(nil)

// OpenSQLite opens (creating when missing, with mode 0600) the audit
// database at path, brings its schema up to date and starts the
// group-commit writer.
func OpenSQLite(ctx context.Context, path string) (*SQLiteStore, error) {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("audit: sqlite: %q is not a plain file path", path)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("audit: sqlite: %w", err)
		}
	}
	// Create the file ourselves so it is not world-readable.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: sqlite: %w", err)
	}
	_ = f.Close()

	dsn := path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("audit: sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	if err := migrateSQLite(ctx, db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("audit: sqlite %s: %w", path, err)
	}
	return &SQLiteStore{chain: newChain(&sqliteStorage{db: db}), db: db}, nil
}

func migrateSQLite(ctx context.Context, db *sql.DB) error {
	ms, err := loadMigrations("sqlite")
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	// BEGIN IMMEDIATE (the DSN's _txlock): one process migrates at a time.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	rows, err := tx.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("migrate: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	rows.Close()
	if countPending(ms, applied) == 0 {
		return nil
	}
	exec := func(ctx context.Context, sql string, args ...any) error {
		_, err := tx.ExecContext(ctx, sql, args...)
		return err
	}
	if err := applyMigrations(ctx, "sqlite", ms, applied, exec,
		"INSERT INTO schema_migrations (version, name) VALUES (?, ?)"); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

type sqliteStorage struct {
	db *sql.DB
}

func (s *sqliteStorage) begin(ctx context.Context) (storageTx, error) {
	// BEGIN IMMEDIATE takes the database's write lock: the head read below
	// cannot be raced by another connection or process.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &sqliteTx{tx: tx}, nil
}

type sqliteTx struct {
	tx *sql.Tx
}

func (t *sqliteTx) head(ctx context.Context) (int64, string, error) {
	var seq int64
	var hash string
	err := t.tx.QueryRowContext(ctx, `SELECT "seq", "hash" FROM `+sqliteTable+` ORDER BY "seq" DESC LIMIT 1`).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	return seq, hash, err
}

var sqliteInsert = "INSERT INTO " + sqliteTable + " (" + quotedColumns + ") VALUES (?" + strings.Repeat(", ?", len(columnNames)-1) + ")"

func (t *sqliteTx) insert(ctx context.Context, rows []*row) error {
	stmt, err := t.tx.PrepareContext(ctx, sqliteInsert)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, rw := range rows {
		if _, err := stmt.ExecContext(ctx, rw.values(rw.at)...); err != nil {
			return err
		}
	}
	return nil
}

func (t *sqliteTx) commit(context.Context) error   { return t.tx.Commit() }
func (t *sqliteTx) rollback(context.Context) error { return t.tx.Rollback() }

func (s *sqliteStorage) recordError(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}

func (s *sqliteStorage) query(ctx context.Context, query string, args []any, fn func(*row) error) error {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var rw row
		if err := rows.Scan(rw.scanTargets(&rw.at)...); err != nil {
			return err
		}
		if err := fn(&rw); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s *sqliteStorage) search(ctx context.Context, q audit.Query, fn func(*row) error) error {
	query, args := sqliteDialect.searchSQL(sqliteTable, q)
	return s.query(ctx, query, args, fn)
}

func (s *sqliteStorage) walk(ctx context.Context, upTo int64, fn func(*row) error) error {
	query, args := sqliteDialect.walkSQL(sqliteTable, upTo)
	return s.query(ctx, query, args, fn)
}

func (s *sqliteStorage) ping(ctx context.Context) error {
	var n int
	return s.db.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM "+sqliteTable+" LIMIT 1)").Scan(&n)
}

func (s *sqliteStorage) close() error { return s.db.Close() }
