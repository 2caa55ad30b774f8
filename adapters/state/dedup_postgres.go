package state

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// PostgresDeduper shares seen event ids between replicas: the first replica
// to insert an id answers, the others drop the event.
type PostgresDeduper struct {
	pool *pgxpool.Pool
	ttl  time.Duration
}

// NewPostgresDeduper creates the table it needs.
func NewPostgresDeduper(ctx context.Context, pool *pgxpool.Pool, ttl time.Duration) (*PostgresDeduper, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := createTables(ctx, pool, `CREATE TABLE IF NOT EXISTS askmesh_slack_events (
		event_id text PRIMARY KEY, seen_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("slack dedup table: %w", err)
	}
	return &PostgresDeduper{pool: pool, ttl: ttl}, nil
}

// FirstSeen inserts the id; a conflict means another delivery got there first.
func (d *PostgresDeduper) FirstSeen(ctx context.Context, id string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	tag, err := d.pool.Exec(ctx, `INSERT INTO askmesh_slack_events (event_id) VALUES ($1) ON CONFLICT DO NOTHING`, id)
	if err != nil {
		return false, fmt.Errorf("slack dedup: %w", err)
	}
	if tag.RowsAffected() == 1 {
		_, _ = d.pool.Exec(ctx, `DELETE FROM askmesh_slack_events WHERE seen_at < now() - make_interval(secs => $1)`, d.ttl.Seconds())
	}
	return tag.RowsAffected() == 1, nil
}
