package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"github.com/askmesh/askmesh/feedback"
)

// FeedbackStore keeps feedback in SQLite (the default, a file in the data
// directory) or in PostgreSQL beside the conversations. One row per person
// and answer: a later click replaces the earlier one.
type FeedbackStore struct {
	db       *sql.DB
	postgres bool
}

var _ feedback.Store = (*FeedbackStore)(nil)

const feedbackSchema = `
CREATE TABLE IF NOT EXISTS askmesh_feedback (
	id              TEXT NOT NULL PRIMARY KEY,
	at              TEXT NOT NULL,
	subject         TEXT NOT NULL,
	channel         TEXT NOT NULL,
	request_id      TEXT NOT NULL,
	conversation_id TEXT NOT NULL,
	rating          TEXT NOT NULL,
	comment         TEXT NOT NULL,
	question        TEXT NOT NULL,
	answer          TEXT NOT NULL,
	products        TEXT NOT NULL,
	audit_ids       TEXT NOT NULL,
	model           TEXT NOT NULL,
	audit_id        TEXT NOT NULL,
	UNIQUE (subject, request_id)
)`

// feedbackTime is fixed-width, so text order is time order.
const feedbackTime = "2006-01-02T15:04:05.000000000Z"

// FeedbackPath is where the embedded feedback store lives.
func FeedbackPath(dataDir string) string { return filepath.Join(dataDir, "feedback.db") }

// OpenSQLiteFeedback opens (creating) the feedback store at path.
func OpenSQLiteFeedback(ctx context.Context, path string) (*FeedbackStore, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("feedback store: %w", err)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)"}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("feedback store %s: %w", path, err)
	}
	return initFeedback(ctx, db, false)
}

// OpenPostgresFeedback opens the feedback store in the PostgreSQL database
// at dsn (the conversations' database), creating its table.
func OpenPostgresFeedback(ctx context.Context, dsn string) (*FeedbackStore, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("feedback store (PostgreSQL): %w", err)
	}
	return initFeedback(ctx, db, true)
}

func initFeedback(ctx context.Context, db *sql.DB, postgres bool) (*FeedbackStore, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s := &FeedbackStore{db: db, postgres: postgres}
	create := func() error { _, err := db.ExecContext(ctx, feedbackSchema); return err }
	if postgres {
		create = func() error { return createTablesSQL(ctx, db, feedbackSchema) }
	}
	if err := create(); err != nil {
		db.Close()
		return nil, fmt.Errorf("feedback store: creating its table: %w", err)
	}
	return s, nil
}

// q writes ? placeholders as the database wants them.
func (s *FeedbackStore) q(query string) string {
	if !s.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Put stores e; a person's later feedback on the same answer replaces the
// earlier (its id stays the first one's).
func (s *FeedbackStore) Put(ctx context.Context, e *feedback.Entry) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	products, _ := json.Marshal(nonNil(e.Products))
	ids, _ := json.Marshal(nonNil(e.AuditIDs))
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO askmesh_feedback
		(id, at, subject, channel, request_id, conversation_id, rating, comment, question, answer, products, audit_ids, model, audit_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (subject, request_id) DO UPDATE SET at = excluded.at, channel = excluded.channel, rating = excluded.rating,
			comment = excluded.comment, audit_id = excluded.audit_id, products = excluded.products, audit_ids = excluded.audit_ids`),
		e.ID, e.At.UTC().Format(feedbackTime), e.Subject, e.Channel, e.RequestID, e.ConversationID, e.Rating, e.Comment,
		e.Question, e.Answer, string(products), string(ids), e.Model, e.AuditID)
	if err != nil {
		return fmt.Errorf("feedback store: %w", err)
	}
	return nil
}

// List returns matching feedback, newest first.
func (s *FeedbackStore) List(ctx context.Context, f feedback.Filter) ([]feedback.Entry, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	query := `SELECT id, at, subject, channel, request_id, conversation_id, rating, comment, question, answer, products, audit_ids, model, audit_id
		FROM askmesh_feedback WHERE 1 = 1`
	var args []any
	if f.Product != "" {
		// Product names are [a-z0-9-]: no LIKE wildcard can hide in one.
		query += ` AND products LIKE ?`
		args = append(args, `%"`+f.Product+`"%`)
	}
	if f.Rating != "" {
		query += ` AND rating = ?`
		args = append(args, f.Rating)
	}
	query += ` ORDER BY at DESC, id`
	if f.Limit > 0 {
		query += ` LIMIT ` + strconv.Itoa(f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("feedback store: %w", err)
	}
	defer rows.Close()
	var out []feedback.Entry
	for rows.Next() {
		var e feedback.Entry
		var at, products, ids string
		if err := rows.Scan(&e.ID, &at, &e.Subject, &e.Channel, &e.RequestID, &e.ConversationID, &e.Rating, &e.Comment,
			&e.Question, &e.Answer, &products, &ids, &e.Model, &e.AuditID); err != nil {
			return nil, fmt.Errorf("feedback store: %w", err)
		}
		e.At, _ = time.Parse(feedbackTime, at)
		if err := errors.Join(json.Unmarshal([]byte(products), &e.Products), json.Unmarshal([]byte(ids), &e.AuditIDs)); err != nil {
			return nil, fmt.Errorf("feedback store: row %s: %w", e.ID, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Close closes the database.
func (s *FeedbackStore) Close() error { return s.db.Close() }

func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}
