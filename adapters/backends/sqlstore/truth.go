package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/askmesh/askmesh/catalog"
)

// TruthDialect says how to write a product's table and instants in SQL.
type TruthDialect struct {
	Name  string // sqlite or postgres
	Table string // the product's table reference, quoted
	d     dialect
}

// Instant writes t as a literal comparable with the product's timestamp
// columns (SQLite stores them as fixed-width text).
func (t TruthDialect) Instant(at time.Time) string {
	if t.d == postgresDialect {
		return "TIMESTAMPTZ '" + at.UTC().Format(time.RFC3339Nano) + "'"
	}
	return "'" + at.UTC().Format(catalog.SQLiteTimeLayout) + "'"
}

// Day writes t's date as a literal comparable with date columns.
func (t TruthDialect) Day(at time.Time) string {
	if t.d == postgresDialect {
		return "DATE '" + at.UTC().Format(catalog.SQLiteDateLayout) + "'"
	}
	return "'" + at.UTC().Format(catalog.SQLiteDateLayout) + "'"
}

// TruthDialectOf is the dialect the store would query p in.
func (s *Store) TruthDialectOf(p *catalog.Product) (TruthDialect, error) {
	var d dialect
	switch p.Binding.Kind {
	case catalog.BackendSQLite:
		d = sqliteDialect
	case catalog.BackendPostgres:
		d = postgresDialect
	default:
		return TruthDialect{}, fmt.Errorf("%s is served by a %q backend; ground truth SQL runs on sqlite and postgres products", p.Name, p.Binding.Kind)
	}
	return TruthDialect{Name: d.String(), Table: d.table(p), d: d}, nil
}

// Truth runs SQL an operator wrote (an eval suite's ground truth, never
// text from a model or a request) against the database holding p, within the
// store's query timeout, and returns the raw rows. The connection is the
// store's own read-only one: a truth query cannot change data.
func (s *Store) Truth(ctx context.Context, p *catalog.Product, sql string) ([][]any, error) {
	q, _, err := s.source(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.Name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.QueryTimeout)
	defer cancel()
	rows, err := q.query(ctx, stmt{sql: sql})
	if err != nil {
		return nil, fmt.Errorf("truth query on %s: %w", p.Name, err)
	}
	return rows, nil
}
