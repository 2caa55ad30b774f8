package bankgen_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/askmesh/askmesh/examples/bank/bankgen"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
)

// Columns of each table by how the test renders them as text on both
// dialects: t text, ts timestamp, d date, m two-decimal number, i integer,
// b boolean.
type layout struct {
	domain, table, key string
	cols               [][2]string
}

var layouts = []layout{
	{"retail-banking", "customers", "customer_id", [][2]string{{"customer_id", "t"}, {"full_name", "t"}, {"email", "t"}, {"ssn", "t"},
		{"date_of_birth", "d"}, {"region", "t"}, {"segment", "t"}, {"joined_at", "d"}, {"risk_rating", "t"}}},
	{"retail-banking", "transactions", "transaction_id", [][2]string{{"transaction_id", "t"}, {"account_id", "t"}, {"customer_id", "t"},
		{"occurred_at", "ts"}, {"type", "t"}, {"amount", "m"}, {"currency", "t"}, {"channel", "t"}, {"region", "t"}, {"counterparty", "t"}}},
	{"lending", "loan_applications", "application_id", [][2]string{{"application_id", "t"}, {"customer_id", "t"}, {"loan_type", "t"},
		{"amount", "m"}, {"status", "t"}, {"credit_score", "i"}, {"applied_at", "ts"}, {"decided_at", "ts"}, {"region", "t"}}},
	{"marketing", "campaigns", "campaign_id", [][2]string{{"campaign_id", "t"}, {"name", "t"}, {"channel", "t"}, {"start_date", "d"},
		{"end_date", "d"}, {"budget", "m"}, {"impressions", "i"}, {"clicks", "i"}, {"conversions", "i"}}},
	{"growth", "acquisitions", "customer_id", [][2]string{{"customer_id", "t"}, {"acquired_at", "ts"}, {"campaign_id", "t"},
		{"campaign_name", "t"}, {"channel", "t"}, {"region", "t"}, {"segment", "t"}}},
	{"customer-service", "interactions", "interaction_id", [][2]string{{"interaction_id", "t"}, {"customer_id", "t"}, {"occurred_at", "ts"},
		{"channel", "t"}, {"topic", "t"}, {"sentiment", "t"}, {"resolved", "b"}, {"handle_minutes", "m"}}},
}

// text renders a column as text: NULL as '∅'.
func text(dialect, col, kind string) string {
	var e string
	switch {
	case dialect == "sqlite" && kind == "m":
		// Six places: a double that is not the two-decimal value shows.
		e = "printf('%.6f', " + col + ")"
	case dialect == "sqlite" && kind == "b":
		e = "CASE " + col + " WHEN 1 THEN 'true' WHEN 0 THEN 'false' END"
	case dialect == "sqlite":
		e = "CAST(" + col + " AS TEXT)"
	case kind == "ts":
		e = "to_char(" + col + ` AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
	case kind == "d":
		e = "to_char(" + col + ", 'YYYY-MM-DD')"
	case kind == "m":
		e = col + "::numeric(20,6)::text"
	default:
		e = col + "::text"
	}
	return "COALESCE(" + e + ", '∅')"
}

func dumpQuery(dialect string, i int) string {
	l := layouts[i]
	parts := make([]string, len(l.cols))
	for j, c := range l.cols {
		parts[j] = text(dialect, c[0], c[1])
	}
	table := l.table
	if dialect == "postgres" {
		table = bankgen.SchemaFor(l.domain) + "." + l.table
	}
	return "SELECT " + strings.Join(parts, " || '|' || ") + " FROM " + table + " ORDER BY " + l.key
}

func sqliteDump(t *testing.T, dir string, i int, q string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, layouts[i].domain+".db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return queryStrings(t, db, q)
}

func postgresDump(t *testing.T, conn *pgx.Conn, q string) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

// TestPostgresMatchesSQLite: the PostgreSQL load holds the same data as
// the SQLite files, row for row, with native types.
func TestPostgresMatchesSQLite(t *testing.T) {
	t.Parallel()
	dir := banktest.SQLiteDir(t)
	dsn := banktest.Postgres(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	for i, l := range layouts {
		t.Run(l.table, func(t *testing.T) {
			a := sqliteDump(t, dir, i, dumpQuery("sqlite", i))
			b := postgresDump(t, conn, dumpQuery("postgres", i))
			if len(a) != len(b) {
				t.Fatalf("%d rows in SQLite, %d in PostgreSQL", len(a), len(b))
			}
			for r := range a {
				if a[r] != b[r] {
					t.Fatalf("row %d differs:\nsqlite:   %s\npostgres: %s", r, a[r], b[r])
				}
			}
		})
	}

	// Aggregates, computed by each database: sums to the cent, counts per
	// category.
	aggregates := []struct {
		domain, sqlite, postgres string
	}{
		{"retail-banking", `SELECT type || ' ' || COUNT(*) || ' ' || printf('%.2f', SUM(amount)) FROM transactions GROUP BY type ORDER BY type`,
			`SELECT type || ' ' || COUNT(*) || ' ' || SUM(amount)::text FROM retail_banking.transactions GROUP BY type ORDER BY type`},
		{"lending", `SELECT status || ' ' || COUNT(*) || ' ' || printf('%.2f', SUM(amount)) || ' ' || SUM(credit_score) FROM loan_applications GROUP BY status ORDER BY status`,
			`SELECT status || ' ' || COUNT(*) || ' ' || SUM(amount)::text || ' ' || SUM(credit_score) FROM lending.loan_applications GROUP BY status ORDER BY status`},
		{"marketing", `SELECT channel || ' ' || printf('%.2f', SUM(budget)) || ' ' || SUM(impressions) || ' ' || SUM(clicks) || ' ' || SUM(conversions) FROM campaigns GROUP BY channel ORDER BY channel`,
			`SELECT channel || ' ' || SUM(budget)::text || ' ' || SUM(impressions) || ' ' || SUM(clicks) || ' ' || SUM(conversions) FROM marketing.campaigns GROUP BY channel ORDER BY channel`},
		{"growth", `SELECT COALESCE(campaign_id, 'organic') || ' ' || COUNT(*) FROM acquisitions GROUP BY campaign_id ORDER BY campaign_id`,
			`SELECT COALESCE(campaign_id, 'organic') || ' ' || COUNT(*) FROM growth.acquisitions GROUP BY campaign_id ORDER BY campaign_id NULLS FIRST`},
		{"customer-service", `SELECT channel || ' ' || SUM(resolved) || ' ' || printf('%.2f', SUM(handle_minutes)) FROM interactions GROUP BY channel ORDER BY channel`,
			`SELECT channel || ' ' || SUM(resolved::int) || ' ' || SUM(handle_minutes)::text FROM customer_service.interactions GROUP BY channel ORDER BY channel`},
	}
	for _, a := range aggregates {
		i := slices.IndexFunc(layouts, func(l layout) bool { return l.domain == a.domain })
		x, y := sqliteDump(t, dir, i, a.sqlite), postgresDump(t, conn, a.postgres)
		if !slices.Equal(x, y) || len(x) == 0 {
			t.Errorf("%s aggregates differ:\nsqlite:   %v\npostgres: %v", a.domain, x, y)
		}
	}

	// The anomaly rule, with PostgreSQL's own stddev_pop, flags the same
	// transactions.
	flaggedPG := postgresDump(t, conn, `WITH s AS (SELECT customer_id, AVG(amount) AS mean, stddev_pop(amount) AS sd
		FROM retail_banking.transactions GROUP BY customer_id)
		SELECT t.transaction_id FROM retail_banking.transactions t JOIN s USING (customer_id)
		WHERE t.amount > s.mean + 3 * s.sd ORDER BY t.transaction_id`)
	flaggedSQLite := sqliteDump(t, dir, 1, anomalyRule)
	if !slices.Equal(flaggedPG, flaggedSQLite) {
		t.Errorf("PostgreSQL flags %d transactions, SQLite %d", len(flaggedPG), len(flaggedSQLite))
	}

	// Native types, keys and indexes.
	types := postgresDump(t, conn, `SELECT table_schema || '.' || table_name || '.' || column_name || ' ' || data_type ||
		COALESCE('(' || numeric_precision || ',' || numeric_scale || ')', '') || ' ' || is_nullable
		FROM information_schema.columns WHERE table_schema IN ('retail_banking', 'lending', 'marketing', 'growth', 'customer_service')
		AND data_type IN ('numeric', 'timestamp with time zone', 'date', 'boolean', 'integer') ORDER BY 1`)
	want := []string{
		"customer_service.interactions.handle_minutes numeric(8,2) NO",
		"customer_service.interactions.occurred_at timestamp with time zone NO",
		"customer_service.interactions.resolved boolean NO",
		"growth.acquisitions.acquired_at timestamp with time zone NO",
		"lending.loan_applications.amount numeric(12,2) NO",
		"lending.loan_applications.applied_at timestamp with time zone NO",
		"lending.loan_applications.credit_score integer(32,0) NO",
		"lending.loan_applications.decided_at timestamp with time zone YES",
		"marketing.campaigns.budget numeric(12,2) NO",
		"marketing.campaigns.clicks integer(32,0) NO",
		"marketing.campaigns.conversions integer(32,0) NO",
		"marketing.campaigns.end_date date NO",
		"marketing.campaigns.impressions integer(32,0) NO",
		"marketing.campaigns.start_date date NO",
		"retail_banking.customers.date_of_birth date NO",
		"retail_banking.customers.joined_at date NO",
		"retail_banking.transactions.amount numeric(12,2) NO",
		"retail_banking.transactions.occurred_at timestamp with time zone NO",
	}
	if !slices.Equal(types, want) {
		t.Errorf("typed columns:\n%s\nwant:\n%s", strings.Join(types, "\n"), strings.Join(want, "\n"))
	}
	indexes := postgresDump(t, conn, `SELECT schemaname || '.' || indexname FROM pg_indexes
		WHERE schemaname IN ('retail_banking', 'lending', 'marketing', 'growth', 'customer_service') ORDER BY 1`)
	wantIdx := []string{
		"customer_service.interactions_customer_id_idx", "customer_service.interactions_occurred_at_idx", "customer_service.interactions_pkey",
		"growth.acquisitions_acquired_at_idx", "growth.acquisitions_pkey",
		"lending.loan_applications_applied_at_idx", "lending.loan_applications_customer_id_idx", "lending.loan_applications_pkey",
		"marketing.campaigns_name_key", "marketing.campaigns_pkey", "marketing.campaigns_start_date_idx",
		"retail_banking.customers_joined_at_idx", "retail_banking.customers_pkey",
		"retail_banking.transactions_account_id_idx", "retail_banking.transactions_customer_id_idx", "retail_banking.transactions_occurred_at_idx",
		"retail_banking.transactions_pkey",
	}
	if !slices.Equal(indexes, wantIdx) {
		t.Errorf("indexes %v, want %v", indexes, wantIdx)
	}
}

// TestPostgresReload: loading again replaces the schemas whole, and the
// manifest GeneratePostgres returns is the SQLite one.
func TestPostgresReload(t *testing.T) {
	t.Parallel()
	dsn := banktest.Postgres(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// Something of the old load's that a reload must not keep.
	if _, err := conn.Exec(ctx, `CREATE TABLE retail_banking.leftover (x int)`); err != nil {
		t.Fatal(err)
	}
	opts := banktest.Options()
	opts.Seed = 7
	m, err := bankgen.GeneratePostgres(ctx, dsn, opts)
	if err != nil {
		t.Fatal(err)
	}
	if m.Seed != 7 || m.AsOf != banktest.AsOf || len(m.Tables) != len(wantRows) {
		t.Errorf("manifest %+v", m)
	}
	var leftovers, n int64
	if err := conn.QueryRow(ctx, `SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'leftover'`).Scan(&leftovers); err != nil {
		t.Fatal(err)
	}
	if leftovers != 0 {
		t.Error("the reload kept a table of the old schema")
	}
	for _, w := range wantRows {
		q := fmt.Sprintf("SELECT COUNT(*) FROM %s.%s", bankgen.SchemaFor(w.domain), w.table)
		if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != int64(w.rows) {
			t.Errorf("%s: %d rows, want %d", q, n, w.rows)
		}
	}
	// Seed 7 is other data than seed 42's.
	var first string
	if err := conn.QueryRow(ctx, `SELECT account_id || occurred_at::text FROM retail_banking.transactions WHERE transaction_id = 'txn-0000001'`).Scan(&first); err != nil {
		t.Fatal(err)
	}
	db := mesh(t, banktest.SQLiteDir(t))
	var first42 string
	if err := db.QueryRow(`SELECT account_id || occurred_at FROM transactions WHERE transaction_id = 'txn-0000001'`).Scan(&first42); err != nil {
		t.Fatal(err)
	}
	if first[:6] == first42[:6] {
		t.Errorf("txn-0000001 is on account %s with seed 7 and with seed 42", first[:6])
	}

	if _, err := bankgen.GeneratePostgres(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", opts); err == nil ||
		!strings.Contains(err.Error(), "connect to PostgreSQL") {
		t.Errorf("unreachable server: %v", err)
	}
}
