package bankgen_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/examples/bank/bankgen"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
)

// Tests on the demo bank as the rest of askmesh sees it: seed 42, as of
// 2026-11-15, scale 1, read back from the files with SQL written here.

// mesh opens retail-banking.db read-only with the other domains attached
// under their PostgreSQL schema names, so one query can join across them.
func mesh(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "retail-banking.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1) // ATTACH is per connection
	t.Cleanup(func() { db.Close() })
	for _, d := range bankgen.Domains[1:] {
		if _, err := db.Exec("ATTACH DATABASE ? AS "+bankgen.SchemaFor(d), "file:"+filepath.Join(dir, d+".db")+"?mode=ro"); err != nil {
			t.Fatalf("attach %s: %v", d, err)
		}
	}
	return db
}

func queryInt(t *testing.T, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func queryStrings(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The counts of the mesh document, at scale 1.
var wantRows = []struct {
	domain, table string
	rows          int
}{
	{"retail-banking", "customers", 5000},
	{"retail-banking", "transactions", 100000},
	{"lending", "loan_applications", 8000},
	{"marketing", "campaigns", 40},
	{"growth", "acquisitions", 5000},
	{"customer-service", "interactions", 20000},
}

func TestRowCounts(t *testing.T) {
	t.Parallel()
	dir := banktest.SQLiteDir(t)
	m := banktest.Manifest(t)
	for _, w := range wantRows {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, w.domain+".db")+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if n := queryInt(t, db, "SELECT COUNT(*) FROM "+w.table); n != int64(w.rows) {
			t.Errorf("%s.%s holds %d rows, want %d", w.domain, w.table, n, w.rows)
		}
		if n, ok := m.Rows(w.domain, w.table); !ok || n != w.rows {
			t.Errorf("the manifest says %s.%s holds %d rows (listed %v), want %d", w.domain, w.table, n, ok, w.rows)
		}
	}
	if len(m.Tables) != len(wantRows) {
		t.Errorf("the manifest lists %d tables, want %d", len(m.Tables), len(wantRows))
	}
}

func TestManifest(t *testing.T) {
	t.Parallel()
	dir := banktest.SQLiteDir(t)
	m, err := bankgen.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.GeneratorVersion != bankgen.Version || m.Seed != 42 || m.AsOf != "2026-11-15" || m.Scale != 1 {
		t.Errorf("manifest = version %q seed %d as of %q scale %d, want %q 42 2026-11-15 1", m.GeneratorVersion, m.Seed, m.AsOf, m.Scale, bankgen.Version)
	}
	if want := time.Date(2024, 11, 15, 0, 0, 0, 0, time.UTC); !m.From.Equal(want) {
		t.Errorf("From = %v, want %v", m.From, want)
	}
	if want := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC); !m.Until.Equal(want) {
		t.Errorf("Until = %v, want %v", m.Until, want)
	}
	if d, err := m.AsOfDate(); err != nil || !d.Equal(time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("AsOfDate = %v, %v", d, err)
	}
	if !m.Matches(banktest.Options()) {
		t.Error("the manifest does not match the options it was generated with")
	}
	other := banktest.Options()
	other.Seed = 43
	if m.Matches(other) {
		t.Error("the manifest matches another seed")
	}
	other = banktest.Options()
	other.AsOf = other.AsOf.AddDate(0, 0, 1)
	if m.Matches(other) {
		t.Error("the manifest matches another as-of date")
	}
	// Defaults: seed 0 is 42, scale 0 is 1.
	if !m.Matches(bankgen.Options{AsOf: banktest.Options().AsOf}) {
		t.Error("the manifest does not match the default seed and scale")
	}

	empty := t.TempDir()
	if _, err := bankgen.ReadManifest(empty); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadManifest of an empty directory: %v, want fs.ErrNotExist", err)
	}
	// A manifest without its database files is no mesh.
	b, err := os.ReadFile(filepath.Join(dir, bankgen.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(empty, bankgen.ManifestFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := bankgen.ReadManifest(empty); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "retail-banking.db") {
		t.Errorf("ReadManifest without database files: %v, want fs.ErrNotExist naming retail-banking.db", err)
	}
}

// TestDeterministic generates the mesh afresh, over an older copy with a
// stale WAL file beside it, and compares it byte for byte with the cached
// generation (made by this or an earlier process); another seed differs.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	cached := banktest.SQLiteDir(t)
	dir := banktest.PrivateDir(t)
	stale := filepath.Join(dir, "retail-banking.db-wal")
	if err := os.WriteFile(stale, []byte("not a WAL for the new file"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := banktest.Options()
	opts.DataDir = dir
	m, err := bankgen.GenerateSQLite(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the stale WAL file is still there: %v", err)
	}
	files := []string{bankgen.ManifestFile}
	for _, d := range bankgen.Domains {
		files = append(files, d+".db")
	}
	for _, f := range files {
		a, err := os.ReadFile(filepath.Join(cached, f))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two generations with the same options (if the generator changed on purpose, bump bankgen.Version)", f)
		}
	}
	if !slices.Equal(m.InjectedAnomalies, banktest.InjectedAnomalies(t)) {
		t.Error("the returned manifest differs from the cached one")
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*tmp-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}

	other := t.TempDir()
	opts.DataDir, opts.Seed = other, 7
	if _, err := bankgen.GenerateSQLite(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	for _, d := range bankgen.Domains {
		a, _ := os.ReadFile(filepath.Join(cached, d+".db"))
		b, err := os.ReadFile(filepath.Join(other, d+".db"))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(a, b) {
			t.Errorf("%s.db is the same with seed 7 as with seed 42", d)
		}
	}
}

func TestFailuresLeaveTheMeshAlone(t *testing.T) {
	t.Parallel()
	dir := banktest.PrivateDir(t)
	before := listDir(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	opts := banktest.Options()
	opts.DataDir, opts.Seed = dir, 7
	if _, err := bankgen.GenerateSQLite(ctx, opts); !errors.Is(err, context.Canceled) {
		t.Errorf("GenerateSQLite with a cancelled context: %v, want context.Canceled", err)
	}
	if after := listDir(t, dir); !slices.Equal(before, after) {
		t.Errorf("a failed generation changed the directory: %v, was %v", after, before)
	}
	if m, err := bankgen.ReadManifest(dir); err != nil || m.Seed != 42 {
		t.Errorf("after a failed generation the manifest is %+v, %v; want the old one", m, err)
	}

	for _, c := range []struct {
		name string
		opts bankgen.Options
		want string
	}{
		{"no data directory", bankgen.Options{}, "no data directory"},
		{"negative scale", bankgen.Options{DataDir: t.TempDir(), Scale: -1}, "scale -1"},
		{"scale too large", bankgen.Options{DataDir: t.TempDir(), Scale: bankgen.MaxScale + 1}, "out of range"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := bankgen.GenerateSQLite(context.Background(), c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one saying %q", err, c.want)
			}
			if c.opts.DataDir != "" {
				if left := listDir(t, c.opts.DataDir); len(left) > 0 {
					t.Errorf("files written: %v", left)
				}
			}
		})
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e.Name()+"@"+info.ModTime().String())
	}
	return out
}

func TestSchemaFor(t *testing.T) {
	t.Parallel()
	want := map[string]string{"retail-banking": "retail_banking", "lending": "lending", "marketing": "marketing",
		"growth": "growth", "customer-service": "customer_service"}
	for _, d := range bankgen.Domains {
		if got := bankgen.SchemaFor(d); got != want[d] {
			t.Errorf("SchemaFor(%q) = %q, want %q", d, got, want[d])
		}
	}
	if len(bankgen.Domains) != len(want) {
		t.Errorf("Domains = %v", bankgen.Domains)
	}
}

// TestConsistency: the products agree on their customers. Each query
// counts violations.
func TestConsistency(t *testing.T) {
	t.Parallel()
	db := mesh(t, banktest.SQLiteDir(t))
	checks := []struct{ name, sql string }{
		{"transactions of unknown customers", `SELECT COUNT(*) FROM transactions t LEFT JOIN customers c USING (customer_id) WHERE c.customer_id IS NULL`},
		{"loan applications of unknown customers", `SELECT COUNT(*) FROM lending.loan_applications l LEFT JOIN customers c USING (customer_id) WHERE c.customer_id IS NULL`},
		{"interactions of unknown customers", `SELECT COUNT(*) FROM customer_service.interactions i LEFT JOIN customers c USING (customer_id) WHERE c.customer_id IS NULL`},
		{"acquisitions of unknown customers", `SELECT COUNT(*) FROM growth.acquisitions a LEFT JOIN customers c USING (customer_id) WHERE c.customer_id IS NULL`},
		{"customers without an acquisition", `SELECT COUNT(*) FROM customers c LEFT JOIN growth.acquisitions a USING (customer_id) WHERE a.customer_id IS NULL`},
		{"acquisitions with another region or segment", `SELECT COUNT(*) FROM customers c JOIN growth.acquisitions a USING (customer_id) WHERE a.region <> c.region OR a.segment <> c.segment`},
		{"joined_at is not the acquisition date", `SELECT COUNT(*) FROM customers c JOIN growth.acquisitions a USING (customer_id) WHERE c.joined_at <> substr(a.acquired_at, 1, 10)`},
		{"transactions before the customer was acquired", `SELECT COUNT(*) FROM transactions t JOIN growth.acquisitions a USING (customer_id) WHERE t.occurred_at < a.acquired_at`},
		{"transactions before the joined date", `SELECT COUNT(*) FROM transactions t JOIN customers c USING (customer_id) WHERE substr(t.occurred_at, 1, 10) < c.joined_at`},
		{"loan applications before the customer was acquired", `SELECT COUNT(*) FROM lending.loan_applications l JOIN growth.acquisitions a USING (customer_id) WHERE l.applied_at < a.acquired_at`},
		{"interactions before the customer was acquired", `SELECT COUNT(*) FROM customer_service.interactions i JOIN growth.acquisitions a USING (customer_id) WHERE i.occurred_at < a.acquired_at`},
		{"transactions in another region than their customer", `SELECT COUNT(*) FROM transactions t JOIN customers c USING (customer_id) WHERE t.region <> c.region`},
		{"loan applications in another region than their customer", `SELECT COUNT(*) FROM lending.loan_applications l JOIN customers c USING (customer_id) WHERE l.region <> c.region`},
		{"conversions that are not the attributed acquisitions", `SELECT COUNT(*) FROM marketing.campaigns c
			WHERE c.conversions <> (SELECT COUNT(*) FROM growth.acquisitions a WHERE a.campaign_id = c.campaign_id)`},
		{"acquisitions of unknown campaigns", `SELECT COUNT(*) FROM growth.acquisitions a LEFT JOIN marketing.campaigns c USING (campaign_id)
			WHERE a.campaign_id IS NOT NULL AND c.campaign_id IS NULL`},
		{"campaign acquisitions outside the campaign's dates", `SELECT COUNT(*) FROM growth.acquisitions a JOIN marketing.campaigns c USING (campaign_id)
			WHERE substr(a.acquired_at, 1, 10) < c.start_date OR substr(a.acquired_at, 1, 10) > c.end_date`},
		{"campaign acquisitions with another name or channel", `SELECT COUNT(*) FROM growth.acquisitions a JOIN marketing.campaigns c USING (campaign_id)
			WHERE a.campaign_name <> c.name OR a.channel <> c.channel`},
		{"campaign id without name or name without id", `SELECT COUNT(*) FROM growth.acquisitions WHERE (campaign_id IS NULL) <> (campaign_name IS NULL)`},
		{"organic acquisitions from a campaign channel", `SELECT COUNT(*) FROM growth.acquisitions WHERE campaign_id IS NULL AND channel NOT IN ('referral', 'search', 'branch')`},
		{"accounts of several customers", `SELECT COUNT(*) FROM (SELECT account_id FROM transactions GROUP BY account_id HAVING COUNT(DISTINCT customer_id) > 1)`},
		{"customers with more than 3 accounts", `SELECT COUNT(*) FROM (SELECT customer_id FROM transactions GROUP BY customer_id HAVING COUNT(DISTINCT account_id) > 3)`},
		{"accounts with several currencies", `SELECT COUNT(*) FROM (SELECT account_id FROM transactions GROUP BY account_id HAVING COUNT(DISTINCT currency) > 1)`},
		{"account ids that are not six digits", `SELECT COUNT(*) FROM transactions WHERE length(account_id) <> 6 OR account_id GLOB '*[^0-9]*' OR account_id GLOB '0*'`},
	}
	for _, c := range checks {
		if n := queryInt(t, db, c.sql); n != 0 {
			t.Errorf("%s: %d", c.name, n)
		}
	}
	// About 60% of acquisitions come from campaigns.
	campaign := queryInt(t, db, `SELECT COUNT(*) FROM growth.acquisitions WHERE campaign_id IS NOT NULL`)
	if share := float64(campaign) / 5000; share < 0.5 || share > 0.7 {
		t.Errorf("%.1f%% of acquisitions come from campaigns, want about 60%%", share*100)
	}
	// Every customer has at least one transaction's worth of accounts; some have several.
	if n := queryInt(t, db, `SELECT COUNT(*) FROM (SELECT customer_id FROM transactions GROUP BY customer_id HAVING COUNT(DISTINCT account_id) > 1)`); n < 500 {
		t.Errorf("only %d customers use more than one account", n)
	}
}

func TestAccount123456(t *testing.T) {
	t.Parallel()
	db := mesh(t, banktest.SQLiteDir(t))
	var n, customers, october int64
	err := db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT customer_id),
		SUM(CASE WHEN occurred_at >= '2026-10-01' AND occurred_at < '2026-11-01' THEN 1 ELSE 0 END)
		FROM transactions WHERE account_id = '123456'`).Scan(&n, &customers, &october)
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 || customers != 1 || october == 0 {
		t.Errorf("account 123456: %d transactions (%d last month) of %d customers; want at least 20, some last month, one customer", n, october, customers)
	}
}

// anomalyRule is find_anomalies' rule in plain SQL: amount above the
// customer's mean + 3 population standard deviations, over all of the
// customer's transactions (compared squared: SQLite has no sqrt).
const anomalyRule = `WITH m AS (SELECT customer_id, AVG(amount) AS mean FROM transactions GROUP BY customer_id),
	v AS (SELECT t.customer_id, AVG((t.amount - m.mean) * (t.amount - m.mean)) AS var FROM transactions t JOIN m USING (customer_id) GROUP BY t.customer_id)
	SELECT t.transaction_id FROM transactions t JOIN m USING (customer_id) JOIN v USING (customer_id)
	WHERE t.amount > m.mean AND (t.amount - m.mean) * (t.amount - m.mean) > 9 * v.var ORDER BY t.transaction_id`

func TestAnomalies(t *testing.T) {
	t.Parallel()
	db := mesh(t, banktest.SQLiteDir(t))
	injected := banktest.InjectedAnomalies(t)
	flagged := queryStrings(t, db, anomalyRule)
	if len(flagged) < 45 || len(flagged) > 60 {
		t.Errorf("the rule flags %d transactions, want 45 to 60", len(flagged))
	}
	if len(injected) < 45 || len(injected) > 55 {
		t.Errorf("%d injected anomalies, want about 50", len(injected))
	}
	for _, id := range injected {
		if _, found := slices.BinarySearch(flagged, id); !found {
			t.Errorf("injected anomaly %s is not flagged by the rule", id)
		}
	}
	// Injected anomalies are large withdrawals and international
	// transfers of distinct, busy customers.
	var bad, customers, busy int64
	err := db.QueryRow(`SELECT COALESCE(SUM(t.type NOT IN ('withdrawal', 'international_transfer')), 0), COUNT(DISTINCT t.customer_id),
		COALESCE(SUM((SELECT COUNT(*) FROM transactions o WHERE o.customer_id = t.customer_id) >= 20), 0)
		FROM transactions t WHERE t.transaction_id IN (SELECT value FROM json_each(?))`, toJSON(injected)).Scan(&bad, &customers, &busy)
	if err != nil {
		t.Fatal(err)
	}
	if bad != 0 || customers != int64(len(injected)) || busy != int64(len(injected)) {
		t.Errorf("injected anomalies: %d of another type, %d customers, %d with 20+ transactions; want 0, %d, %d",
			bad, customers, busy, len(injected), len(injected))
	}
	// Recent questions find some: this month, and last month in every region.
	recent := queryInt(t, db, `SELECT COUNT(*) FROM transactions WHERE occurred_at >= '2026-11-01' AND transaction_id IN (SELECT value FROM json_each(?))`, toJSON(injected))
	regions := queryInt(t, db, `SELECT COUNT(DISTINCT region) FROM transactions WHERE occurred_at >= '2026-10-01' AND occurred_at < '2026-11-01'
		AND transaction_id IN (SELECT value FROM json_each(?))`, toJSON(injected))
	if recent == 0 || regions != 3 {
		t.Errorf("%d injected anomalies this month, last month's in %d regions; want some, and 3", recent, regions)
	}
}

func toJSON(ids []string) string {
	return `["` + strings.Join(ids, `","`) + `"]`
}

// TestAcquisitionMonthOverMonth: an executive asking for last month
// against the month before sees a clear change.
func TestAcquisitionMonthOverMonth(t *testing.T) {
	t.Parallel()
	db := mesh(t, banktest.SQLiteDir(t))
	count := func(from, to string) int64 {
		return queryInt(t, db, `SELECT COUNT(*) FROM growth.acquisitions WHERE acquired_at >= ? AND acquired_at < ?`, from, to)
	}
	oct, sep := count("2026-10-01", "2026-11-01"), count("2026-09-01", "2026-10-01")
	if change := float64(oct-sep) / float64(sep); change < 0.10 && change > -0.10 {
		t.Errorf("October: %d new customers, September %d: %+.1f%%, want at least 10%% either way", oct, sep, change*100)
	}
	// A growing trend: the second year brings more customers than the first.
	first, second := count("2024-11-15", "2025-11-15"), count("2025-11-15", "2026-11-16")
	if float64(second) < 1.3*float64(first) {
		t.Errorf("new customers: %d in the first year, %d in the second; want clear growth", first, second)
	}
}

// TestDataWindow: every timestamp lies in the 24 months ending on the
// as-of date, in whole seconds, in the fixed-width layout.
func TestDataWindow(t *testing.T) {
	t.Parallel()
	db := mesh(t, banktest.SQLiteDir(t))
	const from, until = "2024-11-15T00:00:00.000000Z", "2026-11-16T00:00:00.000000Z"
	timestamps := []struct{ table, column string }{
		{"transactions", "occurred_at"},
		{"lending.loan_applications", "applied_at"},
		{"lending.loan_applications", "decided_at"},
		{"growth.acquisitions", "acquired_at"},
		{"customer_service.interactions", "occurred_at"},
	}
	for _, c := range timestamps {
		q := `SELECT COUNT(*) FROM ` + c.table + ` WHERE ` + c.column + ` IS NOT NULL AND (` + c.column + ` < ? OR ` + c.column + ` >= ?
			OR length(` + c.column + `) <> 27 OR ` + c.column + ` NOT GLOB '????-??-??T??:??:??.000000Z'
			OR datetime(` + c.column + `) IS NULL)`
		if n := queryInt(t, db, q, from, until); n != 0 {
			t.Errorf("%s.%s: %d values outside [%s, %s) or not in whole seconds", c.table, c.column, n, from, until)
		}
	}
	dates := []struct{ table, column string }{
		{"customers", "joined_at"},
		{"marketing.campaigns", "start_date"},
		{"marketing.campaigns", "end_date"},
	}
	for _, c := range dates {
		q := `SELECT COUNT(*) FROM ` + c.table + ` WHERE ` + c.column + ` < '2024-11-15' OR ` + c.column + ` > '2026-11-15' OR date(` + c.column + `) IS NOT ` + c.column
		if n := queryInt(t, db, q); n != 0 {
			t.Errorf("%s.%s: %d dates outside 2024-11-15..2026-11-15", c.table, c.column, n)
		}
	}
	// The data reaches both ends of the window.
	if first := queryStrings(t, db, `SELECT MIN(occurred_at) FROM transactions`)[0]; first[:7] != "2024-11" {
		t.Errorf("the first transaction is at %s, want November 2024", first)
	}
	if last := queryStrings(t, db, `SELECT MAX(occurred_at) FROM transactions`)[0]; last[:10] != "2026-11-15" {
		t.Errorf("the last transaction is at %s, want on the as-of date", last)
	}
	other := []struct{ name, sql string }{
		{"decided before applied", `SELECT COUNT(*) FROM lending.loan_applications WHERE decided_at <= applied_at`},
		{"campaigns ending before they start", `SELECT COUNT(*) FROM marketing.campaigns WHERE end_date < start_date`},
		{"customers younger than 18 when they joined", `SELECT COUNT(*) FROM customers WHERE date(date_of_birth, '+18 years') > joined_at OR date(date_of_birth) IS NOT date_of_birth`},
	}
	for _, c := range other {
		if n := queryInt(t, db, c.sql); n != 0 {
			t.Errorf("%s: %d", c.name, n)
		}
	}
}

// TestValues: categorical columns hold exactly the mesh document's values,
// all of them; ids, amounts and scores have their documented shape.
func TestValues(t *testing.T) {
	t.Parallel()
	db := mesh(t, banktest.SQLiteDir(t))
	regions := []string{"asia-pacific", "europe", "north-america"}
	segments := []string{"affluent", "business", "mass", "private"}
	categorical := []struct {
		table, column string
		values        []string
	}{
		{"transactions", "type", []string{"card_payment", "deposit", "international_transfer", "transfer", "withdrawal"}},
		{"transactions", "currency", []string{"EUR", "GBP", "USD"}},
		{"transactions", "channel", []string{"atm", "branch", "mobile", "online"}},
		{"transactions", "region", regions},
		{"customers", "region", regions},
		{"customers", "segment", segments},
		{"customers", "risk_rating", []string{"high", "low", "medium"}},
		{"lending.loan_applications", "loan_type", []string{"auto", "business", "mortgage", "personal"}},
		{"lending.loan_applications", "status", []string{"approved", "funded", "rejected", "submitted"}},
		{"lending.loan_applications", "region", regions},
		{"marketing.campaigns", "channel", []string{"branch", "email", "search", "social", "tv"}},
		{"growth.acquisitions", "channel", []string{"branch", "email", "referral", "search", "social", "tv"}},
		{"growth.acquisitions", "region", regions},
		{"growth.acquisitions", "segment", segments},
		{"customer_service.interactions", "channel", []string{"call", "chat", "email", "social"}},
		{"customer_service.interactions", "topic", []string{"account", "card", "fees", "fraud", "loan", "other"}},
		{"customer_service.interactions", "sentiment", []string{"negative", "neutral", "positive"}},
	}
	for _, c := range categorical {
		got := queryStrings(t, db, `SELECT DISTINCT `+c.column+` FROM `+c.table+` ORDER BY 1`)
		if !slices.Equal(got, c.values) {
			t.Errorf("%s.%s holds %v, want %v", c.table, c.column, got, c.values)
		}
	}
	ids := []struct {
		table, column, glob, first, last string
	}{
		{"customers", "customer_id", "cust-[0-9][0-9][0-9][0-9][0-9]", "cust-00001", "cust-05000"},
		{"transactions", "transaction_id", "txn-[0-9][0-9][0-9][0-9][0-9][0-9][0-9]", "txn-0000001", "txn-0100000"},
		{"lending.loan_applications", "application_id", "loan-[0-9][0-9][0-9][0-9][0-9][0-9]", "loan-000001", "loan-008000"},
		{"marketing.campaigns", "campaign_id", "camp-[0-9][0-9][0-9]", "camp-001", "camp-040"},
		{"customer_service.interactions", "interaction_id", "int-[0-9][0-9][0-9][0-9][0-9][0-9]", "int-000001", "int-020000"},
	}
	for _, c := range ids {
		var first, last string
		var bad int64
		err := db.QueryRow(`SELECT MIN(`+c.column+`), MAX(`+c.column+`), SUM(`+c.column+` NOT GLOB ?) FROM `+c.table, c.glob).Scan(&first, &last, &bad)
		if err != nil {
			t.Fatal(err)
		}
		if first != c.first || last != c.last || bad != 0 {
			t.Errorf("%s.%s runs %s..%s with %d malformed, want %s..%s", c.table, c.column, first, last, bad, c.first, c.last)
		}
	}
	checks := []struct{ name, sql string }{
		{"transaction amounts not positive with two decimals", `SELECT COUNT(*) FROM transactions WHERE typeof(amount) <> 'real' OR amount <= 0 OR abs(amount * 100 - round(amount * 100)) > 1e-6`},
		{"loan amounts not positive with two decimals", `SELECT COUNT(*) FROM lending.loan_applications WHERE typeof(amount) <> 'real' OR amount <= 0 OR abs(amount * 100 - round(amount * 100)) > 1e-6`},
		{"budgets not positive with two decimals", `SELECT COUNT(*) FROM marketing.campaigns WHERE typeof(budget) <> 'real' OR budget <= 0 OR abs(budget * 100 - round(budget * 100)) > 1e-6`},
		{"handle minutes not positive with two decimals", `SELECT COUNT(*) FROM customer_service.interactions WHERE typeof(handle_minutes) <> 'real' OR handle_minutes <= 0 OR abs(handle_minutes * 100 - round(handle_minutes * 100)) > 1e-6`},
		{"credit scores outside 300-850", `SELECT COUNT(*) FROM lending.loan_applications WHERE typeof(credit_score) <> 'integer' OR credit_score NOT BETWEEN 300 AND 850`},
		{"submitted with a decision, or decided without one", `SELECT COUNT(*) FROM lending.loan_applications WHERE (status = 'submitted') <> (decided_at IS NULL)`},
		{"resolved not 0 or 1", `SELECT COUNT(*) FROM customer_service.interactions WHERE typeof(resolved) <> 'integer' OR resolved NOT IN (0, 1)`},
		{"campaign counts out of order", `SELECT COUNT(*) FROM marketing.campaigns WHERE typeof(impressions) <> 'integer' OR NOT (0 <= conversions AND conversions <= clicks AND clicks <= impressions)`},
		{"ssn not fake 9xx-xx-xxxx", `SELECT COUNT(*) FROM customers WHERE ssn NOT GLOB '9[0-9][0-9]-[0-9][0-9]-[0-9][0-9][0-9][0-9]'`},
		{"emails without @", `SELECT COUNT(*) FROM customers WHERE email NOT LIKE '%_@example.%'`},
		{"duplicate emails", `SELECT COUNT(*) - COUNT(DISTINCT email) FROM customers`},
		{"duplicate campaign names", `SELECT COUNT(*) - COUNT(DISTINCT name) FROM marketing.campaigns`},
		{"empty counterparties", `SELECT COUNT(*) FROM transactions WHERE counterparty IS NULL OR counterparty = ''`},
	}
	for _, c := range checks {
		if n := queryInt(t, db, c.sql); n != 0 {
			t.Errorf("%s: %d", c.name, n)
		}
	}
	// The Summer Special Offer runs in summer.
	var start, end string
	if err := db.QueryRow(`SELECT start_date, end_date FROM marketing.campaigns WHERE name = 'Summer Special Offer'`).Scan(&start, &end); err != nil {
		t.Fatalf("Summer Special Offer: %v", err)
	}
	if start[:4] != end[:4] || start[5:] < "06-01" || end[5:] > "08-31" {
		t.Errorf("Summer Special Offer runs %s..%s, want within June-August of one year", start, end)
	}
	// Campaigns clearly differ in conversion rate.
	var lo, hi float64
	if err := db.QueryRow(`SELECT MIN(1.0 * conversions / clicks), MAX(1.0 * conversions / clicks) FROM marketing.campaigns`).Scan(&lo, &hi); err != nil {
		t.Fatal(err)
	}
	if lo > 0.02 || hi < 0.10 {
		t.Errorf("conversion rates range %.3f..%.3f, want from about 1%% to over 10%%", lo, hi)
	}
}

// TestPatterns: the structure the demo invites questions about.
func TestPatterns(t *testing.T) {
	t.Parallel()
	db := mesh(t, banktest.SQLiteDir(t))
	// Transactions per weekday (0 = Sunday) and card payments' share.
	type day struct {
		n    int64
		card float64
	}
	var days [7]day
	rows, err := db.Query(`SELECT CAST(strftime('%w', occurred_at) AS INTEGER), COUNT(*), AVG(type = 'card_payment') FROM transactions GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var d int
		var x day
		if err := rows.Scan(&d, &x.n, &x.card); err != nil {
			t.Fatal(err)
		}
		days[d] = x
	}
	rows.Close()
	for _, weekend := range []int{0, 6} {
		for weekday := 1; weekday <= 5; weekday++ {
			if days[weekend].n >= days[weekday].n {
				t.Errorf("weekday %d has %d transactions, not fewer than weekday %d's %d", weekend, days[weekend].n, weekday, days[weekday].n)
			}
		}
	}
	for _, heavy := range []int{5, 6} {
		for weekday := 1; weekday <= 4; weekday++ {
			if days[heavy].card <= days[weekday].card+0.05 {
				t.Errorf("card payments are %.1f%% of weekday %d, not clearly above weekday %d's %.1f%%", days[heavy].card*100, heavy, weekday, days[weekday].card*100)
			}
		}
	}
	month := func(m string) int64 {
		return queryInt(t, db, `SELECT COUNT(*) FROM transactions WHERE substr(occurred_at, 1, 7) = ?`, m)
	}
	if dec, nov, jan := month("2025-12"), month("2025-11"), month("2026-01"); dec <= nov || dec <= jan {
		t.Errorf("December 2025 has %d transactions, November %d, January %d: want a December peak", dec, nov, jan)
	}
	may, jul, aug, sep := month("2026-05"), month("2026-07"), month("2026-08"), month("2026-09")
	if jul >= may || aug >= may || jul >= sep || aug >= sep {
		t.Errorf("transactions in May-September 2026: %d, July %d, August %d, %d: want a summer dip", may, jul, aug, sep)
	}

	// Loan approval rates differ by type and rise with credit score.
	approval := func(where string) float64 {
		var r float64
		q := `SELECT 1.0 * SUM(status IN ('approved', 'funded')) / SUM(status IN ('approved', 'funded', 'rejected')) FROM lending.loan_applications WHERE ` + where
		if err := db.QueryRow(q).Scan(&r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	byType := map[string]float64{}
	for _, lt := range []string{"personal", "mortgage", "auto", "business"} {
		byType[lt] = approval("loan_type = '" + lt + "'")
	}
	if byType["auto"]-byType["mortgage"] < 0.2 {
		t.Errorf("approval rates by loan type %v: want auto clearly above mortgage", byType)
	}
	if low, high := approval("credit_score < 600"), approval("credit_score >= 700"); high-low < 0.4 {
		t.Errorf("approval rate %.2f below 600, %.2f from 700: want a strong link to credit score", low, high)
	}

	// Fraud interactions skew negative; channels differ in resolution and handle time.
	negative := map[string]float64{}
	rows, err = db.Query(`SELECT topic, AVG(sentiment = 'negative') FROM customer_service.interactions GROUP BY topic`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var topic string
		var share float64
		if err := rows.Scan(&topic, &share); err != nil {
			t.Fatal(err)
		}
		negative[topic] = share
	}
	rows.Close()
	for topic, share := range negative {
		if topic != "fraud" && share >= negative["fraud"] {
			t.Errorf("negative share of %s (%.2f) is not below fraud's (%.2f)", topic, share, negative["fraud"])
		}
	}
	if negative["fraud"] < 0.5 {
		t.Errorf("fraud interactions are %.0f%% negative, want most", negative["fraud"]*100)
	}
	var resLo, resHi, minLo, minHi float64
	err = db.QueryRow(`SELECT MIN(r), MAX(r), MIN(m), MAX(m) FROM (SELECT AVG(resolved) AS r, AVG(handle_minutes) AS m
		FROM customer_service.interactions GROUP BY channel)`).Scan(&resLo, &resHi, &minLo, &minHi)
	if err != nil {
		t.Fatal(err)
	}
	if resHi-resLo < 0.2 || minHi < 2*minLo {
		t.Errorf("by channel, resolution rates range %.2f..%.2f and handle minutes %.1f..%.1f: want clear differences", resLo, resHi, minLo, minHi)
	}
}
