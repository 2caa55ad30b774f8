package state

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// schemaLockKey ("askmesh" and 3; the audit log holds 1 and 2) serializes
// the creation of the shared tables across replicas starting together: in
// PostgreSQL, concurrent CREATE TABLE IF NOT EXISTS of one table does not
// wait for the other but fails (a unique violation on pg_type), and the
// replica would exit at start.
const schemaLockKey int64 = 0x61736b6d65736803

const lockSchema = "SELECT pg_advisory_xact_lock($1)"

// createTables runs ddl in a transaction holding the schema lock.
func createTables(ctx context.Context, pool *pgxpool.Pool, ddl string) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }() // a no-op after Commit
	if _, err := tx.Exec(ctx, lockSchema, schemaLockKey); err != nil {
		return fmt.Errorf("take the schema lock: %w", err)
	}
	if _, err := tx.Exec(ctx, ddl); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// createTablesSQL is createTables for a database/sql handle on PostgreSQL.
func createTablesSQL(ctx context.Context, db *sql.DB, ddl string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	if _, err := tx.ExecContext(ctx, lockSchema, schemaLockKey); err != nil {
		return fmt.Errorf("take the schema lock: %w", err)
	}
	if _, err := tx.ExecContext(ctx, ddl); err != nil {
		return err
	}
	return tx.Commit()
}
