package bankgen

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// LoadMySQL loads domains of the mesh (every domain when none is named)
// into the default database of the MySQL or MariaDB DSN, with the same
// table names as the SQLite files: table names are unique across the mesh,
// so a database per domain and one database for all both work. Each table
// is dropped and recreated; MySQL commits each CREATE TABLE at once, so
// unlike LoadPostgres a reader may see a half-loaded mesh while this runs.
//
// Text is utf8mb4 with the binary collation, so text compares and sorts by
// code point as on SQLite and PostgreSQL; timestamps are DATETIME holding
// UTC; decimals DECIMAL with their scale; booleans BOOLEAN (TINYINT(1)).
func (d *Data) LoadMySQL(ctx context.Context, dsn string, domains ...string) error {
	for _, name := range domains {
		if !slices.Contains(Domains, name) {
			return fmt.Errorf("bankgen: %q is not a domain of the mesh (%s)", name, strings.Join(Domains, ", "))
		}
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return errors.New("bankgen: MySQL DSN: not a DSN of the form user:password@tcp(host:3306)/database")
	}
	if cfg.DBName == "" {
		return errors.New("bankgen: the MySQL DSN names no database (…/database)")
	}
	cfg.ParseTime, cfg.Loc = true, time.UTC
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return fmt.Errorf("bankgen: %w", err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	for i, tables := range d.domains {
		if len(domains) > 0 && !slices.Contains(domains, Domains[i]) {
			continue
		}
		for _, t := range tables {
			if err := loadMySQL(ctx, db, t); err != nil {
				return fmt.Errorf("bankgen: %s.%s: %w", cfg.DBName, t.name, err)
			}
		}
	}
	return nil
}

func (t *table) mysqlType(k kind) string {
	switch k {
	case kTimestamp:
		return "DATETIME"
	case kDate:
		return "DATE"
	case kMoney:
		return "DECIMAL(12,2)"
	case kMinutes:
		return "DECIMAL(8,2)"
	case kInt:
		return "INT"
	case kBool:
		return "BOOLEAN"
	}
	// Bounded so that text columns can be indexed.
	return "VARCHAR(255)"
}

func loadMySQL(ctx context.Context, db *sql.DB, t *table) error {
	defs := make([]string, 0, len(t.cols))
	for _, c := range t.cols {
		d := c.name + " " + t.mysqlType(c.kind)
		if !c.nullable {
			d += " NOT NULL"
		}
		defs = append(defs, d)
	}
	for _, stmt := range []string{
		"DROP TABLE IF EXISTS " + t.name,
		"CREATE TABLE " + t.name + " (" + strings.Join(defs, ", ") + ") CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(t.cols)), ", ") + ")"
	row := make([]any, len(t.cols))
	var args []any
	flush := func(n int) error {
		if n == 0 {
			return nil
		}
		q := "INSERT INTO " + t.name + " VALUES " + strings.TrimSuffix(strings.Repeat(one+", ", n), ", ")
		_, err := tx.ExecContext(ctx, q, args...)
		args = args[:0]
		return err
	}
	pending := 0
	for i := range t.n {
		t.row(i, row)
		for j, c := range t.cols {
			args = append(args, mysqlValue(c.kind, row[j]))
		}
		if pending++; pending == batchRows {
			if err := flush(pending); err != nil {
				return err
			}
			pending = 0
		}
	}
	if err := flush(pending); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	for _, stmt := range indexStatements(t, "", t.key) {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return nil
}

// mysqlValue converts a neutral value to the value bound for MySQL:
// decimals as exact text, so DECIMAL holds the same two-decimal value.
func mysqlValue(k kind, v any) any {
	if v == nil {
		return nil
	}
	switch k {
	case kTimestamp, kDate:
		return time.Unix(v.(int64), 0).UTC()
	case kMoney, kMinutes:
		n := v.(int64)
		sign := ""
		if n < 0 {
			sign, n = "-", -n
		}
		return sign + strconv.FormatInt(n/100, 10) + "." + fmt.Sprintf("%02d", n%100)
	}
	return v
}
