package bankgen

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// GeneratePostgres loads the mesh into the PostgreSQL database at dsn (see
// Data.LoadPostgres). opts.DataDir is ignored.
func GeneratePostgres(ctx context.Context, dsn string, opts Options) (Manifest, error) {
	d, err := Generate(ctx, opts)
	if err != nil {
		return Manifest{}, err
	}
	if err := d.LoadPostgres(ctx, dsn); err != nil {
		return Manifest{}, err
	}
	return d.Manifest(), nil
}

// LoadPostgres loads the mesh into the PostgreSQL database at dsn: one
// schema per domain (SchemaFor), with the same table names as the SQLite
// files. Each schema is dropped and recreated; everything happens in one
// transaction, so readers see the old mesh or the new one, never a mix.
func (d *Data) LoadPostgres(ctx context.Context, dsn string) error {
	domains, m := d.domains, d.manifest
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("bankgen: connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("bankgen: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit it is a no-op
	comment := fmt.Sprintf("askmesh demo bank data: generator %s, seed %d, as of %s, scale %d",
		m.GeneratorVersion, m.Seed, m.AsOf, m.Scale)
	for i, tables := range domains {
		schema := pgx.Identifier{SchemaFor(Domains[i])}.Sanitize()
		for _, stmt := range []string{
			"DROP SCHEMA IF EXISTS " + schema + " CASCADE",
			"CREATE SCHEMA " + schema,
			"COMMENT ON SCHEMA " + schema + " IS '" + comment + "'",
		} {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("bankgen: %s: %w", stmt, err)
			}
		}
		for _, t := range tables {
			if err := loadPostgres(ctx, tx, SchemaFor(Domains[i]), t); err != nil {
				return fmt.Errorf("bankgen: %s.%s: %w", schema, t.name, err)
			}
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("bankgen: commit: %w", err)
	}
	// Fresh statistics, so the first queries get good plans.
	for i, tables := range domains {
		for _, t := range tables {
			q := "ANALYZE " + pgx.Identifier{SchemaFor(Domains[i]), t.name}.Sanitize()
			if _, err := conn.Exec(ctx, q); err != nil {
				return fmt.Errorf("bankgen: %s: %w", q, err)
			}
		}
	}
	return nil
}

func loadPostgres(ctx context.Context, tx pgx.Tx, rawSchema string, t *table) error {
	schema := pgx.Identifier{rawSchema}.Sanitize()
	defs := make([]string, 0, len(t.cols))
	names := make([]string, 0, len(t.cols))
	for _, c := range t.cols {
		d := c.name + " " + t.postgresType(c.kind)
		if !c.nullable {
			d += " NOT NULL"
		}
		defs = append(defs, d)
		names = append(names, c.name)
	}
	create := "CREATE TABLE " + schema + "." + t.name + " (" + strings.Join(defs, ", ") + ")"
	if _, err := tx.Exec(ctx, create); err != nil {
		return fmt.Errorf("%s: %w", create, err)
	}
	row := make([]any, len(t.cols))
	src := pgx.CopyFromSlice(t.n, func(i int) ([]any, error) {
		t.row(i, row)
		for j, c := range t.cols {
			row[j] = postgresValue(c.kind, row[j])
		}
		return row, nil
	})
	n, err := tx.CopyFrom(ctx, pgx.Identifier{rawSchema, t.name}, names, src)
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	if int(n) != t.n {
		return fmt.Errorf("copied %d rows of %d", n, t.n)
	}
	for _, stmt := range indexStatements(t, schema+".", t.key) {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return nil
}

// postgresValue converts a neutral value to the value pgx copies.
func postgresValue(k kind, v any) any {
	if v == nil {
		return nil
	}
	switch k {
	case kTimestamp, kDate:
		return time.Unix(v.(int64), 0).UTC()
	case kMoney, kMinutes:
		return pgtype.Numeric{Int: big.NewInt(v.(int64)), Exp: -2, Valid: true}
	}
	return v
}
