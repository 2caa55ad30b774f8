package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/askmesh/askmesh/assistant"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PostgresMemory keeps conversations in PostgreSQL so that every replica
// behind a load balancer (and every Slack Socket Mode connection) sees the
// same history.
type PostgresMemory struct {
	pool   *pgxpool.Pool
	limits assistant.MemoryLimits
}

const memorySchema = `
CREATE TABLE IF NOT EXISTS askmesh_conversations (
	subject    text        NOT NULL,
	id         text        NOT NULL,
	messages   jsonb       NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (subject, id)
);
CREATE INDEX IF NOT EXISTS askmesh_conversations_updated ON askmesh_conversations (updated_at);`

// OpenPostgresMemory connects and creates the conversations table if needed.
func OpenPostgresMemory(ctx context.Context, dsn string, limits assistant.MemoryLimits) (*PostgresMemory, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("memory: connect: %w", err)
	}
	if err := createTables(ctx, pool, memorySchema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("memory: create table: %w", err)
	}
	return &PostgresMemory{pool: pool, limits: limits.WithDefaults()}, nil
}

// Load returns the conversation, or nil if unknown or idle past the TTL.
func (m *PostgresMemory) Load(ctx context.Context, subject, id string) ([]assistant.Message, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var raw []byte
	err := m.pool.QueryRow(ctx, `SELECT messages FROM askmesh_conversations
		WHERE subject = $1 AND id = $2 AND updated_at > now() - make_interval(secs => $3)`,
		subject, id, m.limits.TTL.Seconds()).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("memory: load %s: %w", id, err)
	}
	var msgs []assistant.Message
	if err := json.Unmarshal(raw, &msgs); err != nil {
		return nil, fmt.Errorf("memory: decode %s: %w", id, err)
	}
	return msgs, nil
}

// Save replaces the conversation, trimmed to the limits, and forgets
// conversations idle past the TTL.
func (m *PostgresMemory) Save(ctx context.Context, subject, id string, msgs []assistant.Message) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	raw, err := json.Marshal(m.limits.Trim(msgs))
	if err != nil {
		return fmt.Errorf("memory: encode: %w", err)
	}
	if _, err := m.pool.Exec(ctx, `INSERT INTO askmesh_conversations (subject, id, messages, updated_at)
		VALUES ($1, $2, $3, now())
		ON CONFLICT (subject, id) DO UPDATE SET messages = EXCLUDED.messages, updated_at = now()`,
		subject, id, raw); err != nil {
		return fmt.Errorf("memory: save %s: %w", id, err)
	}
	if _, err := m.pool.Exec(ctx, `DELETE FROM askmesh_conversations WHERE updated_at < now() - make_interval(secs => $1)`,
		m.limits.TTL.Seconds()); err != nil {
		return fmt.Errorf("memory: expire: %w", err)
	}
	return nil
}

// Close closes the pool.
func (m *PostgresMemory) Close() { m.pool.Close() }
