package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/askmesh/askmesh/catalog"
)

// MissingError is a product whose data file, schema, table or column does
// not exist where its binding says: a configuration mistake to fix, not an
// outage to wait out.
type MissingError struct {
	Product string
	Err     error
}

func (e *MissingError) Error() string { return e.Product + ": " + e.Err.Error() }

func (e *MissingError) Unwrap() error { return e.Err }

// Check makes sure a product's data is where its binding says, with every
// column the catalog declares, by reading no rows: a *MissingError when
// something is missing, an *UnavailableError when the database cannot be
// reached or queried. Start-up checks, askmesh doctor and /readyz use it.
func (s *Store) Check(ctx context.Context, p *catalog.Product) error {
	if p == nil {
		return errors.New("check: no product")
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.QueryTimeout)
	defer cancel()
	c := &call{s: s, tool: "check", p: p}
	if p.Binding.Kind == catalog.BackendSQLite && s.opts.SQLiteDir != "" {
		path := filepath.Join(s.opts.SQLiteDir, p.Binding.Database+".db")
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return &MissingError{Product: p.Name, Err: fmt.Errorf("its data file %s does not exist", path)}
		}
	}
	q, d, err := s.source(ctx, p)
	if err != nil {
		return c.unavailable(ctx, err)
	}
	// Restricted columns are never read, so whether they exist is moot.
	var cols []string
	for _, col := range p.Columns {
		if col.Classification != catalog.ClassRestricted {
			cols = append(cols, col.Name)
		}
	}
	if d == sqliteDialect {
		return c.checkSQLite(ctx, q, cols)
	}
	sel := make([]string, len(cols))
	for i, col := range cols {
		sel[i] = quote(col)
	}
	if len(sel) == 0 {
		sel = []string{"1"}
	}
	_, err = q.query(ctx, stmt{sql: "SELECT " + strings.Join(sel, ", ") + " FROM " + d.table(p) + " LIMIT 0"})
	if err == nil {
		return nil
	}
	if where := missingWhat(err); where != "" {
		return &MissingError{Product: p.Name, Err: fmt.Errorf("%s %s: %s", d, where, missingDetail(err))}
	}
	return c.unavailable(ctx, err)
}

// checkSQLite reads the table's columns from SQLite's own catalog: a
// SELECT would not do, since SQLite reads a double-quoted name that is not
// a column as a string.
func (c *call) checkSQLite(ctx context.Context, q querier, cols []string) error {
	rows, err := q.query(ctx, stmt{sql: "SELECT name FROM pragma_table_info(?)", args: []any{c.p.Binding.Table}})
	if err != nil {
		return c.unavailable(ctx, err)
	}
	if len(rows) == 0 {
		return &MissingError{Product: c.p.Name, Err: fmt.Errorf("sqlite table: no such table: %s", c.p.Binding.Table)}
	}
	have := map[string]bool{}
	for _, r := range rows {
		if name, ok := r[0].(string); ok {
			have[name] = true
		}
	}
	var missing []string
	for _, col := range cols {
		if !have[col] {
			missing = append(missing, col)
		}
	}
	if len(missing) > 0 {
		return &MissingError{Product: c.p.Name, Err: fmt.Errorf("sqlite column: no such column: %s (table %s)", strings.Join(missing, ", "), c.p.Binding.Table)}
	}
	return nil
}

// missingWhat says what a PostgreSQL or MySQL error reports missing
// ("table", "column", "schema"), or "" when it is not about something
// missing.
func missingWhat(err error) string {
	var my *mysql.MySQLError
	if errors.As(err, &my) {
		switch my.Number {
		case 1146: // ER_NO_SUCH_TABLE
			return "table"
		case 1054: // ER_BAD_FIELD_ERROR
			return "column"
		case 1049: // ER_BAD_DB_ERROR
			return "schema"
		}
		return ""
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "42P01":
			return "table"
		case "42703":
			return "column"
		case "3F000":
			return "schema"
		}
		return ""
	}
	return ""
}

// missingDetail is the database's own words: which name is missing.
func missingDetail(err error) string {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Message
	}
	var my *mysql.MySQLError
	if errors.As(err, &my) {
		return my.Message
	}
	return err.Error()
}
