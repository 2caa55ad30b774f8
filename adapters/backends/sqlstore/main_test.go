package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/pgtest"
	"github.com/askmesh/askmesh/tools"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// backend is one store holding a data set, with a way to run hand-written
// SQL against the same data. Tests run every case on each backend.
type backend struct {
	name  string
	store *Store
	// bind returns the product bound to this backend.
	bind func(p *catalog.Product) *catalog.Product
	// raw runs hand-written SQL where the product's table is visible
	// unqualified (SQLite: its file; PostgreSQL: its schema on the search path).
	raw func(t testing.TB, p *catalog.Product, query string, args ...any) [][]any
}

// metrics runs plan against p bound to b; t fails on an error. The
// records, get and anomalies methods do the same for the other tools.
func (b *backend) metrics(t testing.TB, p *catalog.Product, plan tools.MetricsPlan) *tools.Result {
	t.Helper()
	plan.Product = b.bind(p)
	return ok(t)(b.store.QueryMetrics(ctx(t), plan))
}

func (b *backend) records(t testing.TB, p *catalog.Product, plan tools.RecordsPlan) *tools.Result {
	t.Helper()
	plan.Product = b.bind(p)
	return ok(t)(b.store.QueryRecords(ctx(t), plan))
}

func (b *backend) get(t testing.TB, p *catalog.Product, plan tools.GetPlan) *tools.Result {
	t.Helper()
	plan.Product = b.bind(p)
	return ok(t)(b.store.GetRecord(ctx(t), plan))
}

func (b *backend) anomalies(t testing.TB, p *catalog.Product, plan tools.AnomaliesPlan) *tools.Result {
	t.Helper()
	plan.Product = b.bind(p)
	return ok(t)(b.store.FindAnomalies(ctx(t), plan))
}

// ok returns a tool's result, failing t on its error.
func ok(t testing.TB) func(*tools.Result, error) *tools.Result {
	return func(res *tools.Result, err error) *tools.Result {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
}

// sqliteBackend serves the products' data from <dir>/<database>.db.
func sqliteBackend(t testing.TB, dir string) *backend {
	s := New(Options{SQLiteDir: dir})
	t.Cleanup(s.Close)
	files := banktest.OpenFiles(t, dir)
	return &backend{
		name:  "sqlite",
		store: s,
		bind: func(p *catalog.Product) *catalog.Product {
			q := *p
			q.Binding = catalog.Binding{Kind: catalog.BackendSQLite, Database: p.Binding.Database, Table: p.Binding.Table}
			return &q
		},
		raw: func(t testing.TB, p *catalog.Product, query string, args ...any) [][]any {
			t.Helper()
			return files.Query(t, p.Binding.Database, query, args...)
		},
	}
}

// postgresBackend serves the products' data from schemas of the database at dsn.
func postgresBackend(t testing.TB, dsn string) *backend {
	s := New(Options{PostgresDSN: dsn})
	t.Cleanup(s.Close)
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return &backend{
		name:  "postgres",
		store: s,
		bind: func(p *catalog.Product) *catalog.Product {
			q := *p
			q.Binding = catalog.Binding{Kind: catalog.BackendPostgres, Schema: p.Binding.Schema, Table: p.Binding.Table}
			return &q
		},
		raw: func(t testing.TB, p *catalog.Product, query string, args ...any) [][]any {
			t.Helper()
			ctx := context.Background()
			tx, err := conn.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			if _, err := tx.Exec(ctx, "SET LOCAL search_path TO "+pgx.Identifier{p.Binding.Schema}.Sanitize()+"; SET LOCAL timezone TO 'UTC'"); err != nil {
				t.Fatal(err)
			}
			rows, err := tx.Query(ctx, query, args...)
			if err != nil {
				t.Fatalf("raw postgres query %s: %v", query, err)
			}
			defer rows.Close()
			var out [][]any
			for rows.Next() {
				vals, err := rows.Values()
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, vals)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			return out
		},
	}
}

// mysqlBackend serves the products' data from the default database of the
// MySQL/MariaDB dsn.
func mysqlBackend(t testing.TB, dsn string) *backend {
	s := New(Options{MySQLDSN: dsn})
	t.Cleanup(s.Close)
	db := rawMySQL(t, dsn)
	return &backend{
		name:  "mysql",
		store: s,
		bind: func(p *catalog.Product) *catalog.Product {
			q := *p
			q.Binding = catalog.Binding{Kind: catalog.BackendMySQL, Table: p.Binding.Table}
			return &q
		},
		raw: func(t testing.TB, p *catalog.Product, query string, args ...any) [][]any {
			t.Helper()
			query = mysqlRaw(query)
			rows, err := db.QueryContext(context.Background(), query, args...)
			if err != nil {
				t.Fatalf("raw mysql query %s: %v", query, err)
			}
			defer rows.Close()
			cols, _ := rows.Columns()
			var out [][]any
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				out = append(out, vals)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			return out
		},
	}
}

// rawMySQL is a plain connection for hand-written SQL: the server's own
// sql_mode, times read as UTC.
func rawMySQL(t testing.TB, dsn string) *sql.DB {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ParseTime, cfg.Loc = true, time.UTC
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	t.Cleanup(func() { db.Close() })
	return db
}

var (
	tsLiteral = regexp.MustCompile(`'(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?Z'`)
	nullsLast = regexp.MustCompile(`([a-z_]+) NULLS LAST`)
)

// mysqlRaw translates the tests' hand-written SQL into MySQL: timestamp
// literals in MySQL's form, NULLS LAST (which MySQL lacks) as a leading IS
// NULL key, and "1.0 *" (real arithmetic in SQLite, exact in PostgreSQL) as
// a double: MySQL's 1.0 is a DECIMAL, whose quotients keep only four more
// places than their operands.
func mysqlRaw(query string) string {
	query = strings.ReplaceAll(query, "1.0 * ", "1e0 * ")
	query = tsLiteral.ReplaceAllString(query, "'$1 $2'")
	return nullsLast.ReplaceAllString(query, "$1 IS NULL, $1")
}

// --- building tables from Go values, in each storage layout ---

// createSQLite writes rows into the product's table in <dir>/<database>.db,
// in the documented SQLite layout: timestamps as fixed-width UTC text, dates
// as YYYY-MM-DD, booleans as 0/1, decimals as REAL.
func createSQLite(t testing.TB, dir string, p *catalog.Product, rows [][]any) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, p.Binding.Database+".db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var defs, marks []string
	for _, c := range p.Columns {
		typ := map[string]string{catalog.TypeString: "TEXT", catalog.TypeInteger: "INTEGER", catalog.TypeNumber: "REAL",
			catalog.TypeBoolean: "INTEGER", catalog.TypeDate: "TEXT", catalog.TypeTimestamp: "TEXT"}[c.Type]
		defs = append(defs, c.Name+" "+typ)
		marks = append(marks, "?")
	}
	if _, err := db.Exec("CREATE TABLE " + p.Binding.Table + " (" + strings.Join(defs, ", ") + ")"); err != nil {
		t.Fatal(err)
	}
	ins := "INSERT INTO " + p.Binding.Table + " VALUES (" + strings.Join(marks, ", ") + ")"
	for _, r := range rows {
		vals := make([]any, len(r))
		for i, v := range r {
			switch x := v.(type) {
			case time.Time:
				if p.Columns[i].Type == catalog.TypeDate {
					vals[i] = x.Format("2006-01-02")
				} else {
					vals[i] = x.UTC().Format("2006-01-02T15:04:05.000000Z")
				}
			case bool:
				vals[i] = 0
				if x {
					vals[i] = 1
				}
			default:
				vals[i] = v
			}
		}
		if _, err := db.Exec(ins, vals...); err != nil {
			t.Fatal(err)
		}
	}
}

// createPostgres writes rows into <schema>.<table> with native types. Text
// columns get an English ICU collation, as a deployment's database might
// have, under which "Alpha" sorts next to "alpha" and punctuation is
// ignored: results must still come out in the same order as on SQLite.
func createPostgres(t testing.TB, dsn string, p *catalog.Product, rows [][]any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var defs, marks []string
	for i, c := range p.Columns {
		typ := map[string]string{catalog.TypeString: `text COLLATE "en-x-icu"`, catalog.TypeInteger: "bigint", catalog.TypeNumber: "numeric(12,2)",
			catalog.TypeBoolean: "boolean", catalog.TypeDate: "date", catalog.TypeTimestamp: "timestamptz"}[c.Type]
		defs = append(defs, c.Name+" "+typ)
		marks = append(marks, fmt.Sprintf("$%d", i+1))
	}
	table := p.Binding.Schema + "." + p.Binding.Table
	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+p.Binding.Schema+"; CREATE TABLE "+table+" ("+strings.Join(defs, ", ")+")"); err != nil {
		t.Fatal(err)
	}
	ins := "INSERT INTO " + table + " VALUES (" + strings.Join(marks, ", ") + ")"
	for _, r := range rows {
		if _, err := conn.Exec(ctx, ins, r...); err != nil {
			t.Fatal(err)
		}
	}
}

// createMySQL writes rows into the product's table in the default database
// of dsn with native types. Text columns get a case-insensitive collation,
// as a deployment's database usually has: results must still come out as
// on SQLite.
func createMySQL(t testing.TB, dsn string, p *catalog.Product, rows [][]any) {
	t.Helper()
	db := rawMySQL(t, dsn)
	var defs, marks []string
	for _, c := range p.Columns {
		typ := map[string]string{catalog.TypeString: "VARCHAR(255) COLLATE utf8mb4_general_ci", catalog.TypeInteger: "BIGINT",
			catalog.TypeNumber: "DECIMAL(12,2)", catalog.TypeBoolean: "BOOLEAN", catalog.TypeDate: "DATE", catalog.TypeTimestamp: "DATETIME(6)"}[c.Type]
		defs = append(defs, c.Name+" "+typ)
		marks = append(marks, "?")
	}
	if _, err := db.Exec("CREATE TABLE " + p.Binding.Table + " (" + strings.Join(defs, ", ") + ") CHARACTER SET utf8mb4"); err != nil {
		t.Fatal(err)
	}
	ins := "INSERT INTO " + p.Binding.Table + " VALUES (" + strings.Join(marks, ", ") + ")"
	for _, r := range rows {
		if _, err := db.Exec(ins, r...); err != nil {
			t.Fatal(err)
		}
	}
}

// --- normalizing hand-written SQL results, independently of the store ---

// want converts raw rows of hand-written SQL into the values a Result holds,
// column by column: "int", "text", "bool", "date", "ts", "real<p>" (rounded
// to p places), "rawreal" (unrounded).
func want(t testing.TB, rows [][]any, kinds ...string) [][]any {
	t.Helper()
	out := make([][]any, len(rows))
	for i, r := range rows {
		if len(r) != len(kinds) {
			t.Fatalf("row %d has %d columns, kinds name %d", i, len(r), len(kinds))
		}
		out[i] = make([]any, len(r))
		for j, v := range r {
			out[i][j] = wantValue(t, v, kinds[j])
		}
	}
	return out
}

func wantValue(t testing.TB, v any, kind string) any {
	t.Helper()
	if v == nil {
		return nil
	}
	if b, ok := v.([]byte); ok {
		v = string(b) // MySQL's text and decimals
	}
	switch {
	case kind == "int":
		switch x := v.(type) {
		case int64:
			return x
		case int32:
			return int64(x)
		case float64:
			return int64(x)
		case pgtype.Numeric:
			return int64(math.Round(floatOf(t, x)))
		case string:
			n, err := strconv.ParseInt(x, 10, 64)
			if err != nil {
				t.Fatalf("%q is not an integer", x)
			}
			return n
		}
	case kind == "text":
		switch x := v.(type) {
		case string:
			return x
		case []byte:
			return string(x)
		}
	case kind == "bool":
		switch x := v.(type) {
		case bool:
			return x
		case int64:
			return x == 1
		}
	case kind == "date":
		switch x := v.(type) {
		case string:
			return x[:10]
		case time.Time:
			return x.Format("2006-01-02")
		}
	case kind == "ts":
		switch x := v.(type) {
		case string:
			ts, err := time.Parse("2006-01-02T15:04:05.000000Z", x)
			if err != nil {
				t.Fatalf("stored timestamp %q: %v", x, err)
			}
			return ts.Format("2006-01-02T15:04:05Z")
		case time.Time:
			return x.UTC().Format("2006-01-02T15:04:05Z")
		}
	case kind == "rawreal":
		return floatOf(t, v)
	case strings.HasPrefix(kind, "real"):
		p, _ := strconv.Atoi(strings.TrimPrefix(kind, "real"))
		return roundHalfAway(floatOf(t, v), p)
	}
	t.Fatalf("cannot read %v (%T) as %s", v, v, kind)
	return nil
}

func floatOf(t testing.TB, v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			t.Fatalf("%q is not a number", x)
		}
		return f
	case pgtype.Numeric:
		r, ok := new(big.Rat).SetString(x.Int.String())
		if !ok {
			t.Fatalf("numeric %v", x)
		}
		scale := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(int(x.Exp)))), nil))
		if x.Exp < 0 {
			r.Quo(r, scale)
		} else {
			r.Mul(r, scale)
		}
		f, _ := r.Float64()
		return f
	}
	t.Fatalf("%v (%T) is not a number", v, v)
	return 0
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// roundHalfAway rounds a float's value to 15 significant digits to p
// places, half away from zero, with exact rational arithmetic (the rule
// results follow; see roundTo).
func roundHalfAway(f float64, p int) float64 {
	r, _ := new(big.Rat).SetString(strconv.FormatFloat(f, 'e', 14, 64))
	neg := r.Sign() < 0
	r.Abs(r)
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(p)), nil)))
	r.Add(r, big.NewRat(1, 2))
	q := new(big.Int).Quo(r.Num(), r.Denom()) // floor(x*10^p + 1/2)
	out, _ := new(big.Rat).SetFrac(q, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(p)), nil)).Float64()
	if neg && out != 0 {
		out = -out
	}
	return out
}

// --- assertions ---

func assertRows(t testing.TB, got *tools.Result, want [][]any) {
	t.Helper()
	if len(got.Rows) != len(want) {
		t.Fatalf("got %d rows, want %d\ngot:  %v\nwant: %v", len(got.Rows), len(want), head(got.Rows), head(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got.Rows[i], want[i]) {
			t.Fatalf("row %d:\ngot:  %#v\nwant: %#v", i, got.Rows[i], want[i])
		}
	}
	if got.RowCount != len(want) {
		t.Errorf("RowCount = %d, want %d", got.RowCount, len(want))
	}
}

func head(rows [][]any) [][]any {
	if len(rows) > 8 {
		return rows[:8]
	}
	return rows
}

func columnNames(r *tools.Result) []string {
	out := make([]string, len(r.Columns))
	for i, c := range r.Columns {
		out[i] = c.Name
	}
	return out
}

func assertColumns(t testing.TB, r *tools.Result, names ...string) {
	t.Helper()
	if got := columnNames(r); !reflect.DeepEqual(got, names) {
		t.Fatalf("columns = %v, want %v", got, names)
	}
}

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func instant(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func span(from, to string) tools.Range { return tools.Range{From: day(from), To: day(to)} }

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}
