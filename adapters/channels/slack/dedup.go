package slack

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Deduper remembers event ids, so that Slack's retries of an event (it
// retries when an ack is slow or lost) never produce a second answer.
type Deduper interface {
	// FirstSeen records id and reports whether this is its first delivery.
	FirstSeen(ctx context.Context, id string) (bool, error)
}

// memoryDeduper is the single-replica default.
type memoryDeduper struct {
	mu   sync.Mutex
	ttl  time.Duration
	seen map[string]time.Time
	now  func() time.Time
}

func newMemoryDeduper(ttl time.Duration) *memoryDeduper {
	return &memoryDeduper{ttl: ttl, seen: map[string]time.Time{}, now: time.Now}
}

func (d *memoryDeduper) FirstSeen(_ context.Context, id string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	if t, ok := d.seen[id]; ok && now.Sub(t) < d.ttl {
		return false, nil
	}
	d.seen[id] = now
	if len(d.seen) > 10000 { // sweep occasionally; Slack retries within minutes
		for k, t := range d.seen {
			if now.Sub(t) >= d.ttl {
				delete(d.seen, k)
			}
		}
	}
	return true, nil
}

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
	if _, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS askmesh_slack_events (
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
