package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/askmesh/askmesh/catalog"
)

// Introspect lists the tables of a live schema with their columns, types,
// nullability and primary keys, for catalog.Scaffold. kind is postgres or
// mysql; for mysql, schema is the database (the DSN's when empty).
func Introspect(ctx context.Context, kind, dsn, schema string) ([]catalog.TableInfo, error) {
	switch kind {
	case catalog.BackendPostgres:
		return introspectPostgres(ctx, dsn, schema)
	case catalog.BackendMySQL:
		return introspectMySQL(ctx, dsn, schema)
	}
	return nil, fmt.Errorf("introspect: %q is not postgres or mysql", kind)
}

const pgColumns = `
SELECT c.table_name, c.column_name, c.data_type, c.is_nullable = 'YES',
       EXISTS (SELECT 1 FROM information_schema.table_constraints tc
               JOIN information_schema.key_column_usage k
                 ON k.constraint_name = tc.constraint_name AND k.table_schema = tc.table_schema AND k.table_name = tc.table_name
               WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = c.table_schema
                 AND tc.table_name = c.table_name AND k.column_name = c.column_name)
FROM information_schema.columns c
JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
WHERE c.table_schema = $1 AND t.table_type IN ('BASE TABLE', 'VIEW')
ORDER BY c.table_name, c.ordinal_position`

func introspectPostgres(ctx context.Context, dsn, schema string) ([]catalog.TableInfo, error) {
	if schema == "" {
		schema = "public"
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("introspect: connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, pgColumns, schema)
	if err != nil {
		return nil, fmt.Errorf("introspect %s: %w", schema, err)
	}
	defer rows.Close()
	var out []catalog.TableInfo
	for rows.Next() {
		var table string
		var c catalog.ColumnInfo
		if err := rows.Scan(&table, &c.Name, &c.DBType, &c.Nullable, &c.PrimaryKey); err != nil {
			return nil, err
		}
		out = appendColumn(out, schema, table, c)
	}
	return out, rows.Err()
}

const myColumns = `
SELECT table_name, column_name, column_type, is_nullable = 'YES', column_key = 'PRI'
FROM information_schema.columns
WHERE table_schema = COALESCE(NULLIF(?, ''), DATABASE())
ORDER BY table_name, ordinal_position`

func introspectMySQL(ctx context.Context, dsn, schema string) ([]catalog.TableInfo, error) {
	cfg, err := MySQLConfig(dsn)
	if err != nil {
		return nil, err
	}
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(c)
	defer db.Close()
	if schema == "" {
		if err := db.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&schema); err != nil {
			return nil, fmt.Errorf("introspect: %w", err)
		}
	}
	rows, err := db.QueryContext(ctx, myColumns, schema)
	if err != nil {
		return nil, fmt.Errorf("introspect %s: %w", schema, err)
	}
	defer rows.Close()
	var out []catalog.TableInfo
	for rows.Next() {
		var table string
		var col catalog.ColumnInfo
		if err := rows.Scan(&table, &col.Name, &col.DBType, &col.Nullable, &col.PrimaryKey); err != nil {
			return nil, err
		}
		out = appendColumn(out, schema, table, col)
	}
	return out, rows.Err()
}

func appendColumn(out []catalog.TableInfo, schema, table string, c catalog.ColumnInfo) []catalog.TableInfo {
	if n := len(out); n == 0 || out[n-1].Name != table {
		out = append(out, catalog.TableInfo{Schema: schema, Name: strings.ToLower(table)})
	}
	out[len(out)-1].Columns = append(out[len(out)-1].Columns, c)
	return out
}
