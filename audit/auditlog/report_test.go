package auditlog

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"github.com/askmesh/askmesh/audit"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var reportPII = map[string][]string{"customers": {"full_name", "email", "date_of_birth"}}

// reportLog fills a fresh SQLite log with a month and a half of varied,
// seeded activity and returns the store and a raw read connection.
func reportLog(t *testing.T) (audit.Store, *sql.DB) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), SQLiteFile)
	st, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	rnd := rand.New(rand.NewPCG(42, 7))
	users := []string{"alice@bank.example", "bob@bank.example", "carol@bank.example", "dave@bank.example", "erin@bank.example", "frank@bank.example"}
	products := []string{"", "customers", "loan-applications", "customer-transactions", "access-audit", "marketing-campaigns"}
	colSets := [][]string{{"customer_id", "region"}, {"customer_id", "full_name", "region"}, {"full_name", "email", "date_of_birth"}, {"email"}}
	start := time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC)
	for i := range 600 {
		r := &audit.Record{
			At:       start.Add(time.Duration(rnd.Int64N(int64(32 * 24 * time.Hour)))).Truncate(time.Second),
			Subject:  users[rnd.IntN(len(users))],
			Product:  products[rnd.IntN(len(products))],
			Tool:     "query_records",
			Action:   "product.query_records",
			Question: fmt.Sprintf("question %d", i),
		}
		switch n := rnd.IntN(10); {
		case n < 6:
			r.Decision = audit.DecisionAllow
			r.RowsReturned = rnd.IntN(50)
		case n < 9:
			r.Decision = audit.DecisionDeny
			r.Reason = "you are not in a group that may query " + r.Product
		default:
			r.Decision = audit.DecisionError
			r.Reason = "unavailable"
		}
		if r.Product == "customers" && r.Decision == audit.DecisionAllow {
			r.Columns = colSets[rnd.IntN(len(colSets))]
			if rnd.IntN(2) == 0 && slices.Contains(r.Columns, "full_name") {
				r.Masks = map[string]string{"full_name": "redact"}
			}
		}
		if err := st.Append(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return st, db
}

// sqlRows returns the query's rows as "|"-joined text, in query order.
func sqlRows(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(cols))
		for i, v := range vals {
			parts[i] = v.String
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func stored(t time.Time) string { return t.UTC().Format(TimeLayout) }

// TestReportMatchesSQL: every total of the report equals independent SQL
// over the same period.
func TestReportMatchesSQL(t *testing.T) {
	t.Parallel()
	st, db := reportLog(t)
	since, until := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	rep, err := BuildReport(context.Background(), st, ReportOptions{Since: since, Until: until, PII: reportPII,
		Now: time.Date(2026, 11, 16, 8, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	win := `at >= '` + stored(since) + `' AND at < '` + stored(until) + `'`
	piiCond := `(decision = 'allow' AND product = 'customers' AND (instr(columns, '"full_name"') > 0 OR instr(columns, '"email"') > 0 OR instr(columns, '"date_of_birth"') > 0))`
	totals := sqlRows(t, db, `SELECT count(*), sum(decision = 'allow'), sum(decision = 'deny'), sum(decision = 'error'), sum(`+piiCond+`),
		count(DISTINCT subject), min(at), max(at) FROM access_audit WHERE `+win)[0]
	tt := rep.Totals
	if got := fmt.Sprintf("%d|%d|%d|%d|%d|%d|%s|%s", tt.Calls, tt.Allowed, tt.Denied, tt.Errors, tt.PIIAccesses, rep.Users, stored(tt.First), stored(tt.Last)); got != totals {
		t.Errorf("totals %s, SQL %s", got, totals)
	}
	if tt.Calls < 200 || tt.Denied == 0 || tt.PIIAccesses == 0 {
		t.Fatalf("the seeded log should give a rich period: %+v", tt)
	}

	rowsText := func(rows []ReportRow) []string {
		var out []string
		for _, r := range rows {
			out = append(out, fmt.Sprintf("%s|%d|%d|%d|%d|%d|%d|%s|%s", r.Name, r.Calls, r.Allowed, r.Denied, r.Errors, r.PIIAccesses, r.Others, stored(r.First), stored(r.Last)))
		}
		return out
	}
	group := func(key, other string) []string {
		return sqlRows(t, db, `SELECT `+key+` AS k, count(*) AS n, sum(decision = 'allow'), sum(decision = 'deny'), sum(decision = 'error'),
			sum(`+piiCond+`), count(DISTINCT `+other+`), min(at), max(at) FROM access_audit WHERE `+win+` GROUP BY k ORDER BY n DESC, k`)
	}
	if got, want := rowsText(rep.Products), group(`CASE product WHEN '' THEN '(catalog)' ELSE product END`, "subject"); !slices.Equal(got, want) {
		t.Errorf("per product:\n%s\nSQL:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got, want := rowsText(rep.Subjects), group("subject", "product"); !slices.Equal(got, want) {
		t.Errorf("per user:\n%s\nSQL:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	var pii []string
	for _, a := range rep.PII {
		pii = append(pii, fmt.Sprintf("%s|%s|%d|%s|%s", a.Subject, a.Product, a.Calls, stored(a.First), stored(a.Last)))
	}
	slices.Sort(pii)
	if want := sqlRows(t, db, `SELECT subject, product, count(*), min(at), max(at) FROM access_audit WHERE `+win+` AND `+piiCond+`
		GROUP BY subject, product ORDER BY subject, product`); !slices.Equal(pii, want) {
		t.Errorf("pii accesses:\n%s\nSQL:\n%s", strings.Join(pii, "\n"), strings.Join(want, "\n"))
	}
	// Masked columns: a user is listed as having received full_name masked
	// exactly when SQL finds such a record.
	for _, a := range rep.PII {
		n := sqlRows(t, db, `SELECT count(*) FROM access_audit WHERE `+win+` AND `+piiCond+` AND subject = ? AND instr(masks, '"full_name"') > 0`, a.Subject)[0]
		if (n != "0") != slices.Contains(a.Masked, "full_name") {
			t.Errorf("%s: masked %v, SQL finds %s masked full_name records", a.Subject, a.Masked, n)
		}
	}

	var days []string
	for _, d := range rep.Days {
		if d.Allowed+d.Denied+d.Errors > 0 {
			days = append(days, fmt.Sprintf("%s|%d|%d|%d", d.Day.Format("2006-01-02"), d.Allowed, d.Denied, d.Errors))
		}
	}
	if want := sqlRows(t, db, `SELECT substr(at, 1, 10) AS d, sum(decision = 'allow'), sum(decision = 'deny'), sum(decision = 'error')
		FROM access_audit WHERE `+win+` GROUP BY d ORDER BY d`); !slices.Equal(days, want) {
		t.Errorf("per day:\n%s\nSQL:\n%s", strings.Join(days, "\n"), strings.Join(want, "\n"))
	}
	total := sqlRows(t, db, `SELECT count(*) FROM access_audit`)[0]
	if !rep.Chain.OK || fmt.Sprint(rep.Chain.Records) != total {
		t.Errorf("chain %+v; the log holds %s records", rep.Chain, total)
	}

	// The text form states the same totals.
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	head := fmt.Sprintf("calls %d: %d allowed (accesses), %d denied, %d errors; %d users; %d pii accesses", tt.Calls, tt.Allowed, tt.Denied, tt.Errors, rep.Users, tt.PIIAccesses)
	for _, s := range []string{head, "chain: intact: " + total + " records", "2026-11-01 to 2026-11-16 (exclusive)", "PER PRODUCT", "PER USER", "PII ACCESSES"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("the text report lacks %q:\n%s", s, text.String())
		}
	}

	// The HTML form: self-contained, the same numbers, one bar per product
	// and user, one column per day.
	var page bytes.Buffer
	if err := rep.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	for _, banned := range []string{"<script", "src=", "href=", "url(", "@import", "http://", "https://"} {
		if strings.Contains(html, banned) {
			t.Errorf("the HTML report is not self-contained: it holds %q", banned)
		}
	}
	for id, n := range map[string]int{"calls": tt.Calls, "allowed": tt.Allowed, "denied": tt.Denied, "errors": tt.Errors, "users": rep.Users, "pii": tt.PIIAccesses} {
		if want := fmt.Sprintf(`id="kpi-%s"><b>%d</b>`, id, n); !strings.Contains(html, want) {
			t.Errorf("the HTML report lacks %s", want)
		}
	}
	if n := strings.Count(html, "<svg"); n != 3 {
		t.Errorf("%d charts, want 3", n)
	}
	if n := strings.Count(html, "<g><title>"); n != len(rep.Days) {
		t.Errorf("%d day columns, want %d", n, len(rep.Days))
	}
	// Every bar segment's tooltip is a count: their sum per decision is the total.
	sums := map[string]int{}
	for _, m := range regexp.MustCompile(`<rect class="(allow|deny|error)"[^>]*><title>(\d+) `).FindAllStringSubmatch(html, -1) {
		var n int
		fmt.Sscan(m[2], &n)
		sums[m[1]] += n
	}
	// Two bar charts (products, users) each sum to the totals.
	if sums["allow"] != 2*tt.Allowed || sums["deny"] != 2*tt.Denied || sums["error"] != 2*tt.Errors {
		t.Errorf("bar segments sum to %v, want twice %d/%d/%d", sums, tt.Allowed, tt.Denied, tt.Errors)
	}
	if !strings.Contains(html, `class="chain ok"`) {
		t.Error("the HTML report does not show the chain as intact")
	}
}

// TestReportShowsABrokenChain: a record altered behind the store's back
// makes the report say the chain is broken, and where.
func TestReportShowsABrokenChain(t *testing.T) {
	t.Parallel()
	h := newSQLiteHarness(t)
	for i := 1; i <= 5; i++ {
		r := sampleRecord(i)
		if err := h.store.Append(context.Background(), &r); err != nil {
			t.Fatal(err)
		}
	}
	h.bypass(t, "UPDATE "+h.table+` SET "subject" = 'someone-else@bank.example' WHERE "seq" = 3`)
	rep, err := BuildReport(context.Background(), h.store, ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Chain.OK || rep.Chain.BrokenSeq != 3 || !strings.HasPrefix(rep.ChainStatus(), "BROKEN at seq 3") {
		t.Errorf("chain %+v, status %q", rep.Chain, rep.ChainStatus())
	}
	var page bytes.Buffer
	if err := rep.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), `class="chain bad"`) || !strings.Contains(page.String(), "BROKEN at seq 3") {
		t.Error("the HTML report does not show the broken chain")
	}
}

func TestReportRejectsAnEmptyPeriod(t *testing.T) {
	t.Parallel()
	h := newSQLiteHarness(t)
	day := time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC)
	if _, err := BuildReport(context.Background(), h.store, ReportOptions{Since: day, Until: day}); err == nil || !strings.Contains(err.Error(), "is not after since") {
		t.Errorf("err %v", err)
	}
}
