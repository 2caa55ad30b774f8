package tools_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/internal/pgtest"
	"github.com/askmesh/askmesh/tools"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// stores builds the real stack twice: audit log in SQLite and in PostgreSQL
// (SQLite's alone in -short, which runs without PostgreSQL).
func stores(t *testing.T) map[string]*app.App {
	t.Helper()
	out := map[string]*app.App{}
	names := []string{"sqlite", "postgres"}
	if testing.Short() {
		names = names[:1]
	}
	for _, name := range names {
		cfg := app.Config{DataDir: banktest.PrivateDir(t), Now: banktest.Now.Format(time.RFC3339)}
		if name == "postgres" {
			cfg.Audit.Postgres = pgtest.NewDatabase(t)
		}
		a, err := app.Build(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		out[name] = a
	}
	return out
}

type accessCase struct {
	name     string
	user     string
	tool     string
	args     string
	decision string   // allow, deny or error
	reason   string   // substring of the recorded reason
	columns  []string // columns recorded (allow)
	filters  string   // recorded row filters, as JSON
	masks    map[string]string
}

var accessTable = []accessCase{
	{name: "carol metrics of acquisition", user: "carol", tool: tools.ToolQueryMetrics, args: `{"product":"customer-acquisition","metrics":["new_customers"],"time_range":"last_month"}`, decision: "allow", columns: []string{"new_customers"}},
	{name: "carol records of campaigns", user: "carol", tool: tools.ToolQueryRecords, args: `{"product":"marketing-campaigns","columns":["name","conversions"],"limit":3}`, decision: "allow", columns: []string{"name", "conversions"}},
	{name: "carol no loan records", user: "carol", tool: tools.ToolQueryRecords, args: `{"product":"loan-applications"}`, decision: "deny", reason: "not individual records"},
	{name: "carol no avg credit score", user: "carol", tool: tools.ToolQueryMetrics, args: `{"product":"loan-applications","metrics":["average_credit_score"]}`, decision: "deny", reason: "credit_score"},
	{name: "carol no grouping by account", user: "carol", tool: tools.ToolQueryMetrics, args: `{"product":"customer-transactions","metrics":["transaction_count"],"group_by":["account_id"]}`, decision: "deny", reason: "account_id"},
	{name: "alice metrics of customers", user: "alice", tool: tools.ToolQueryMetrics, args: `{"product":"customers","metrics":["customer_count"],"group_by":["segment"]}`, decision: "allow", columns: []string{"segment", "customer_count"}},
	{name: "alice no customer records", user: "alice", tool: tools.ToolQueryRecords, args: `{"product":"customers"}`, decision: "deny", reason: "not individual records"},
	{name: "alice acquisition records", user: "alice", tool: tools.ToolQueryRecords, args: `{"product":"customer-acquisition","columns":["customer_id","channel"],"limit":2}`, decision: "allow", columns: []string{"customer_id", "channel"}},
	{name: "bob customers pii masked", user: "bob", tool: tools.ToolQueryRecords, args: `{"product":"customers","columns":["customer_id","full_name","email","ssn"],"limit":5}`, decision: "allow", columns: []string{"customer_id", "full_name", "email"}, masks: map[string]string{"full_name": "redact", "email": "redact", "date_of_birth": "redact"}},
	{name: "bob loan records with credit score", user: "bob", tool: tools.ToolQueryRecords, args: `{"product":"loan-applications","columns":["application_id","credit_score"],"limit":3}`, decision: "allow", columns: []string{"application_id", "credit_score"}},
	{name: "bob no transactions", user: "bob", tool: tools.ToolQueryMetrics, args: `{"product":"customer-transactions","metrics":["total_amount"]}`, decision: "deny", reason: "not in a group"},
	{name: "erin transactions in europe", user: "erin", tool: tools.ToolQueryMetrics, args: `{"product":"customer-transactions","metrics":["total_amount"]}`, decision: "allow", columns: []string{"currency", "total_amount"}, filters: `[{"column":"region","op":"=","value":"europe"}]`},
	{name: "erin account records", user: "erin", tool: tools.ToolQueryRecords, args: `{"product":"customer-transactions","columns":["transaction_id","account_id","region"],"filters":[{"column":"account_id","op":"=","value":"123456"}],"limit":10}`, decision: "allow", columns: []string{"transaction_id", "account_id", "region"}, filters: `[{"column":"region","op":"=","value":"europe"}]`},
	{name: "erin no lending", user: "erin", tool: tools.ToolQueryMetrics, args: `{"product":"loan-applications","metrics":["application_count"]}`, decision: "deny", reason: "not in a group"},
	{name: "dave reads the audit log", user: "dave", tool: tools.ToolQueryMetrics, args: `{"product":"access-audit","metrics":["access_count"]}`, decision: "allow", columns: []string{"access_count"}},
	{name: "dave no customers", user: "dave", tool: tools.ToolQueryMetrics, args: `{"product":"customers","metrics":["customer_count"]}`, decision: "deny", reason: "not in a group"},
	{name: "erin no audit log", user: "erin", tool: tools.ToolQueryRecords, args: `{"product":"access-audit"}`, decision: "deny", reason: "not in a group"},
	{name: "frank searches", user: "frank", tool: tools.ToolSearch, args: `{"query":"loans"}`, decision: "allow"},
	{name: "frank describes", user: "frank", tool: tools.ToolDescribe, args: `{"product":"customers"}`, decision: "allow"},
	{name: "frank no metrics", user: "frank", tool: tools.ToolQueryMetrics, args: `{"product":"customer-acquisition","metrics":["new_customers"]}`, decision: "deny", reason: "not in a group"},
	{name: "frank no records", user: "frank", tool: tools.ToolQueryRecords, args: `{"product":"marketing-campaigns"}`, decision: "deny", reason: "not in a group"},
	{name: "stranger nothing", user: "mallory@elsewhere.example", tool: tools.ToolSearch, args: `{"query":"loans"}`, decision: "deny", reason: "not in the askmesh directory"},
	{name: "typo in product", user: "carol", tool: tools.ToolQueryMetrics, args: `{"product":"custmers","metrics":["customer_count"]}`, decision: "error", reason: `did you mean "customers"`},
	{name: "typo in column", user: "erin", tool: tools.ToolQueryRecords, args: `{"product":"customer-transactions","columns":["amout"]}`, decision: "error", reason: `unknown column "amout" in customer-transactions; did you mean "amount"?`},
	{name: "undeclared metric", user: "bob", tool: tools.ToolQueryMetrics, args: `{"product":"loan-applications","metrics":["revenue"]}`, decision: "error", reason: `metric "revenue" is not defined for loan-applications; defined: application_count`},
	{name: "malformed arguments", user: "carol", tool: tools.ToolQueryMetrics, args: `{"product": 7}`, decision: "error", reason: "arguments do not match the schema"},
}

func userID(u string) string {
	if strings.Contains(u, "@") {
		return u
	}
	return u + "@bank.example"
}

func TestAccessTableAndAuditRecords(t *testing.T) {
	t.Parallel()
	for storeName, a := range stores(t) {
		t.Run(storeName, func(t *testing.T) {
			for _, c := range accessTable {
				t.Run(c.name, func(t *testing.T) {
					caller := tools.Caller{Subject: a.Directory.Lookup(userID(c.user)), Channel: "cli", RequestID: "req-" + c.name, Question: c.name}
					res, err := a.Executor.Call(context.Background(), caller, tools.Call{Tool: c.tool, Arguments: json.RawMessage(c.args)})
					var denied *tools.DeniedError
					var argErr *tools.ArgumentError
					switch c.decision {
					case "allow":
						if err != nil {
							t.Fatalf("want allowed, got %v", err)
						}
					case "deny":
						if !errors.As(err, &denied) || res != nil {
							t.Fatalf("want denied, got %v %+v", err, res)
						}
					case "error":
						if !errors.As(err, &argErr) || res != nil {
							t.Fatalf("want an argument error, got %v", err)
						}
					}
					recs, serr := a.Audit.Search(context.Background(), audit.Query{Desc: true, Limit: 1})
					if serr != nil || len(recs) != 1 {
						t.Fatalf("no audit record: %v", serr)
					}
					r := recs[0]
					wantID := tools.AuditIDOf(err)
					if res != nil {
						wantID = res.AuditID
					}
					if r.ID != wantID || r.Decision != c.decision || r.Subject != userID(c.user) || r.Tool != c.tool ||
						r.RequestID != "req-"+c.name || r.Question != c.name || r.Channel != "cli" {
						t.Fatalf("audit record does not describe the call: %+v", r)
					}
					if !strings.Contains(r.Reason, c.reason) {
						t.Fatalf("recorded reason %q lacks %q", r.Reason, c.reason)
					}
					if c.decision != "allow" {
						if r.RowsReturned != 0 {
							t.Fatalf("refused call recorded %d rows", r.RowsReturned)
						}
						if denied != nil && denied.Reason != r.Reason {
							t.Fatalf("told %q, recorded %q", denied.Reason, r.Reason)
						}
						return
					}
					if r.RowsReturned != res.RowCount || r.PolicyRevision == "" {
						t.Fatalf("rows %d vs %d, revision %q", r.RowsReturned, res.RowCount, r.PolicyRevision)
					}
					if c.columns != nil && !slices.Equal(r.Columns, c.columns) {
						t.Fatalf("recorded columns %v, want %v", r.Columns, c.columns)
					}
					gotFilters, _ := json.Marshal(r.RowFilters)
					if c.filters != "" && string(gotFilters) != c.filters || c.filters == "" && len(r.RowFilters) != 0 {
						t.Fatalf("recorded row filters %s, want %s", gotFilters, c.filters)
					}
					for col, kind := range c.masks {
						if slices.Contains(r.Columns, col) && r.Masks[col] != kind {
							t.Fatalf("mask of %s recorded as %q, want %q", col, r.Masks[col], kind)
						}
					}
				})
			}
		})
	}
}

func TestBobSeesPIIMaskedAndNobodySeesSSN(t *testing.T) {
	t.Parallel()
	a := stores(t)["sqlite"]
	ssns := independentColumn(t, a, "retail-banking", "SELECT ssn FROM customers")
	names := independentColumn(t, a, "retail-banking", "SELECT full_name FROM customers")
	for _, u := range []string{"carol", "alice", "bob", "erin", "dave", "frank"} {
		for _, args := range []string{
			`{"product":"customers","columns":["ssn"]}`,
			`{"product":"customers","limit":1000}`,
			`{"product":"customers","filters":[{"column":"ssn","op":"contains","value":"900"}]}`,
			`{"product":"customers","order_by":[{"field":"ssn"}]}`,
		} {
			caller := tools.Caller{Subject: a.Directory.Lookup(userID(u)), Channel: "cli"}
			res, err := a.Executor.Call(context.Background(), caller, tools.Call{Tool: tools.ToolQueryRecords, Arguments: json.RawMessage(args)})
			if err != nil {
				continue // refused: nothing returned
			}
			b, _ := json.Marshal(res)
			for _, s := range ssns {
				if strings.Contains(string(b), s) {
					t.Fatalf("%s saw an ssn with %s", u, args)
				}
			}
			if u == "bob" {
				for _, n := range names {
					if strings.Contains(string(b), `"`+n+`"`) {
						t.Fatalf("bob saw a full name in clear: %s", n)
					}
				}
				if res.Masked["full_name"] != "redact" || res.Masked["email"] != "redact" {
					t.Fatalf("bob's result not marked masked: %+v", res.Masked)
				}
			}
		}
	}
}

// Erin sees europe only, and amounts per currency: the executor breaks
// total_amount down by the currency column the descriptor declares.
func TestErinTotalsEqualSQLForEurope(t *testing.T) {
	t.Parallel()
	a := stores(t)["sqlite"]
	caller := tools.Caller{Subject: a.Directory.Lookup("erin@bank.example"), Channel: "cli"}
	res, err := a.Executor.Call(context.Background(), caller, tools.Call{Tool: tools.ToolQueryMetrics,
		Arguments: json.RawMessage(`{"product":"customer-transactions","metrics":["total_amount","transaction_count"],"time_range":"last_month"}`)})
	if err != nil {
		t.Fatal(err)
	}
	db := openDomain(t, a, "retail-banking")
	want := sqlByCurrency(t, db, `SELECT currency, round(sum(amount), 2), count(*) FROM transactions WHERE region = 'europe'
		AND occurred_at >= '2026-10-01T00:00:00.000000Z' AND occurred_at < '2026-11-01T00:00:00.000000Z' GROUP BY currency`)
	got := resultByCurrency(t, res, "total_amount", "transaction_count")
	if len(want) < 2 || !maps.EqualFunc(got, want, func(a, b [2]float64) bool { return math.Abs(a[0]-b[0]) < 0.001 && a[1] == b[1] }) {
		t.Fatalf("erin's October totals by currency %v, SQL for europe says %v", got, want)
	}
	var all float64
	_ = db.QueryRow(`SELECT round(sum(amount), 2) FROM transactions WHERE occurred_at >= '2026-10-01T00:00:00.000000Z' AND occurred_at < '2026-11-01T00:00:00.000000Z'`).Scan(&all)
	var europe float64
	for _, v := range want {
		europe += v[0]
	}
	if all <= europe {
		t.Fatal("the test data has no transactions outside europe: the filter is not exercised")
	}
}

// A call whose own filter asks only for rows the policy's row filter
// excludes is refused, with why, and the refusal recorded: its figures
// would be of no row asked for, and a count of 0 would read as one of them.
// A filter that overlaps the policy's rows, or is the same, is answered.
func TestFilterOutsidePolicyIsRefused(t *testing.T) {
	t.Parallel()
	a := stores(t)["sqlite"]
	caller := tools.Caller{Subject: a.Directory.Lookup("erin@bank.example"), Channel: "cli"}
	for _, c := range []struct {
		filters string
		reason  string
	}{
		{`[{"column":"region","op":"=","value":"asia-pacific"}]`, "region = asia-pacific is outside the rows you may see (only region = europe)"},
		{`[{"column":"region","op":"in","value":["asia-pacific","north-america"]}]`, "region in [asia-pacific north-america] is outside the rows you may see (only region = europe)"},
		{`[{"column":"region","op":"in","value":["asia-pacific","europe"]}]`, ""},
		{`[{"column":"region","op":"=","value":"europe"}]`, ""},
		{`[{"column":"region","op":"!=","value":"europe"}]`, ""}, // not an equality: left to the query
	} {
		for _, tool := range []string{tools.ToolQueryMetrics, tools.ToolQueryRecords} {
			args := `{"product":"customer-transactions","metrics":["transaction_count"],"filters":` + c.filters + `}`
			if tool == tools.ToolQueryRecords {
				args = `{"product":"customer-transactions","columns":["transaction_id","region"],"filters":` + c.filters + `,"limit":5}`
			}
			_, err := a.Executor.Call(context.Background(), caller, tools.Call{Tool: tool, Arguments: json.RawMessage(args)})
			var denied *tools.DeniedError
			switch {
			case c.reason == "" && err != nil:
				t.Errorf("%s %s: %v, want an answer", tool, c.filters, err)
			case c.reason == "":
			case !errors.As(err, &denied) || denied.Reason != c.reason:
				t.Errorf("%s %s: %v, want refused with %q", tool, c.filters, err, c.reason)
			default:
				recs, serr := a.Audit.Search(context.Background(), audit.Query{Desc: true, Limit: 1})
				if serr != nil || len(recs) == 0 || recs[0].ID != denied.AuditID || recs[0].Decision != audit.DecisionDeny || recs[0].Reason != c.reason {
					t.Errorf("%s %s: refusal %s not recorded as it was said: %+v, %v", tool, c.filters, denied.AuditID, recs, serr)
				}
			}
		}
	}
}

// "Total deposits this year vs last year": never one sum of EUR, GBP and
// USD. Each currency's figure, its previous-year figure (the same days:
// 2026 is not over on 15 November) and the caveats match hand-written SQL.
func TestDepositsThisYearVsLastYearPerCurrency(t *testing.T) {
	t.Parallel()
	a := stores(t)["sqlite"]
	caller := tools.Caller{Subject: a.Directory.Lookup("carol@bank.example"), Channel: "cli"}
	res, err := a.Executor.Call(context.Background(), caller, tools.Call{Tool: tools.ToolQueryMetrics,
		Arguments: json.RawMessage(`{"product":"customer-transactions","metrics":["total_amount"],"filters":[{"column":"type","op":"=","value":"deposit"}],"time_range":"this_year","compare_to":"previous_year"}`)})
	if err != nil {
		t.Fatal(err)
	}
	db := openDomain(t, a, "retail-banking")
	cur := sqlByCurrency(t, db, `SELECT currency, round(sum(amount), 2), count(*) FROM transactions WHERE type = 'deposit'
		AND occurred_at >= '2026-01-01T00:00:00.000000Z' AND occurred_at < '2026-11-16T00:00:00.000000Z' GROUP BY currency`)
	prev := sqlByCurrency(t, db, `SELECT currency, round(sum(amount), 2), count(*) FROM transactions WHERE type = 'deposit'
		AND occurred_at >= '2025-01-01T00:00:00.000000Z' AND occurred_at < '2025-11-16T00:00:00.000000Z' GROUP BY currency`)
	if len(cur) != 3 {
		t.Fatalf("the test data has deposits in %d currencies, want 3", len(cur))
	}
	got := resultByCurrency(t, res, "total_amount", "total_amount_previous")
	for c, w := range cur {
		if g := got[c]; math.Abs(g[0]-w[0]) > 0.001 || math.Abs(g[1]-prev[c][0]) > 0.001 {
			t.Errorf("%s: this year %.2f, same days last year %.2f; SQL says %.2f and %.2f", c, g[0], g[1], w[0], prev[c][0])
		}
	}
	if len(got) != len(cur) {
		t.Errorf("result has %d currencies, SQL %d", len(got), len(cur))
	}
	for _, col := range res.Columns {
		if (col.Name == "total_amount" || col.Name == "total_amount_previous") && col.UnitColumn != "currency" {
			t.Errorf("column %s does not say its unit is in column currency: %+v", col.Name, col)
		}
	}
	if want := "2025-01-01..2025-11-16"; res.CompareRange == nil || res.CompareRange.From.Format("2006-01-02")+".."+res.CompareRange.To.Format("2006-01-02") != want {
		t.Errorf("compare range %+v, want %s (exclusive end)", res.CompareRange, want)
	}
	wantCaveats := []string{
		"total amount is in several currencies, so it is broken down by currency, never added up across currencies",
		"2026 is not over: the figures are for 2026 so far, 319 days of 365 (through 15 November 2026); compared like for like with the same 319 days of 1 January-15 November 2025",
	}
	if !slices.Equal(res.Caveats, wantCaveats) {
		t.Errorf("caveats %q\nwant %q", res.Caveats, wantCaveats)
	}
	for _, c := range wantCaveats {
		if !slices.Contains(res.Notes, c) {
			t.Errorf("notes %q lack the caveat %q", res.Notes, c)
		}
	}
	if len(res.Partial) != 1 || res.Partial[0] != (tools.PartialPeriod{Period: "2026-01-01..2026-12-31", Through: "2026-11-15", Days: 319, Of: 365, Compared: "2025-01-01..2025-11-15"}) {
		t.Errorf("partial = %+v", res.Partial)
	}

	// Pinned to one currency, nothing is broken down and the unit is known.
	res, err = a.Executor.Call(context.Background(), caller, tools.Call{Tool: tools.ToolQueryMetrics,
		Arguments: json.RawMessage(`{"product":"customer-transactions","metrics":["total_amount"],"filters":[{"column":"currency","op":"=","value":"EUR"},{"column":"type","op":"=","value":"deposit"}],"time_range":"last_year"}`)})
	if err != nil {
		t.Fatal(err)
	}
	var eur float64
	if err := db.QueryRow(`SELECT round(sum(amount), 2) FROM transactions WHERE type = 'deposit' AND currency = 'EUR'
		AND occurred_at >= '2025-01-01T00:00:00.000000Z' AND occurred_at < '2026-01-01T00:00:00.000000Z'`).Scan(&eur); err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || len(res.Columns) != 1 || res.Columns[0].UnitValue != "EUR" || len(res.Caveats) != 0 || len(res.Partial) != 0 {
		t.Fatalf("EUR only: columns %+v rows %v caveats %q partial %+v", res.Columns, res.Rows, res.Caveats, res.Partial)
	}
	if g, _ := res.Rows[0][0].(float64); math.Abs(g-eur) > 0.001 {
		t.Errorf("EUR deposits in 2025: %.2f, SQL says %.2f", g, eur)
	}

	// A count does not depend on the currency: no breakdown.
	res, err = a.Executor.Call(context.Background(), caller, tools.Call{Tool: tools.ToolQueryMetrics,
		Arguments: json.RawMessage(`{"product":"customer-transactions","metrics":["transaction_count"],"time_range":"last_year"}`)})
	if err != nil || len(res.Rows) != 1 || len(res.Caveats) != 0 {
		t.Fatalf("count: %v %v %q", err, res, res.Caveats)
	}
}

// New customers by month this year: November (15 days) is marked partial.
func TestPartialMonthMarked(t *testing.T) {
	t.Parallel()
	a := stores(t)["sqlite"]
	caller := tools.Caller{Subject: a.Directory.Lookup("carol@bank.example"), Channel: "cli"}
	res, err := a.Executor.Call(context.Background(), caller, tools.Call{Tool: tools.ToolQueryMetrics,
		Arguments: json.RawMessage(`{"product":"customer-acquisition","metrics":["new_customers"],"time_range":"last_12_months","time_grain":"month"}`)})
	if err == nil {
		t.Fatalf("last_12_months is not a period; got %+v", res)
	}
	res, err = a.Executor.Call(context.Background(), caller, tools.Call{Tool: tools.ToolQueryMetrics,
		Arguments: json.RawMessage(`{"product":"customer-acquisition","metrics":["new_customers"],"time_range":"2026-01..2026-12","time_grain":"month"}`)})
	if err != nil {
		t.Fatal(err)
	}
	db := openDomain(t, a, "growth")
	var nov int64
	if err := db.QueryRow(`SELECT count(*) FROM acquisitions WHERE acquired_at >= '2026-11-01T00:00:00.000000Z' AND acquired_at < '2026-12-01T00:00:00.000000Z'`).Scan(&nov); err != nil {
		t.Fatal(err)
	}
	last := res.Rows[len(res.Rows)-1]
	if last[0] != "2026-11-01" || last[1] != nov {
		t.Fatalf("last bucket %v, want 2026-11-01 with %d (SQL)", last, nov)
	}
	want := tools.PartialPeriod{Period: "2026-11-01..2026-11-30", Through: "2026-11-15", Days: 15, Of: 30, Bucket: "2026-11-01"}
	// The range runs to December, which is not over either: both are said.
	if len(res.Partial) != 2 || res.Partial[1] != want {
		t.Fatalf("partial = %+v, want the range and %+v", res.Partial, want)
	}
	if got, w := res.Caveats[1], "November 2026 is not over: its figures are for November 2026 so far, 15 days of 30 (through 15 November 2026), not the whole month"; got != w {
		t.Errorf("caveat %q\nwant %q", got, w)
	}
}

// October 2026 by week: its first and last weeks are cut by the month's
// bounds, and the answer's figures for them are for the days in October
// only; a week's figure is never passed off as the whole week's.
func TestCutPeriodsAreSaid(t *testing.T) {
	t.Parallel()
	a := stores(t)["sqlite"]
	caller := tools.Caller{Subject: a.Directory.Lookup("carol@bank.example"), Channel: "cli"}
	call := func(args string) *tools.Result {
		t.Helper()
		res, err := a.Executor.Call(context.Background(), caller, tools.Call{Tool: tools.ToolQueryMetrics, Arguments: json.RawMessage(args)})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := call(`{"product":"customer-acquisition","metrics":["new_customers"],"time_range":"last_month","time_grain":"week"}`)
	db := openDomain(t, a, "growth")
	count := func(from, to string) int64 {
		var n int64
		if err := db.QueryRow(`SELECT count(*) FROM acquisitions WHERE acquired_at >= ? AND acquired_at < ?`, from+"T00:00:00.000000Z", to+"T00:00:00.000000Z").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	first, last := res.Rows[0], res.Rows[len(res.Rows)-1]
	if first[0] != "2026-09-28" || first[1] != count("2026-10-01", "2026-10-05") || last[0] != "2026-10-26" || last[1] != count("2026-10-26", "2026-11-01") {
		t.Fatalf("first and last weeks %v %v, want 2026-09-28 with 1-4 October's and 2026-10-26 with 26-31 October's (SQL)", first, last)
	}
	want := []string{
		"28 September-4 October 2026 is cut by the period's start: its figures are for 4 days of 7 (1-4 October 2026), not the whole week",
		"26 October-1 November 2026 is cut by the period's end: its figures are for 6 days of 7 (26-31 October 2026), not the whole week",
	}
	if !reflect.DeepEqual(res.Caveats, want) {
		t.Errorf("caveats %q\nwant %q", res.Caveats, want)
	}
	// One period cut on both sides; a range on the grain's bounds cuts none.
	res = call(`{"product":"customer-acquisition","metrics":["new_customers"],"time_range":"2026-10","time_grain":"quarter"}`)
	if w := "Q4 2026 is cut by the period's end: its figures are for 31 days of 92 (October 2026), not the whole quarter"; len(res.Caveats) != 1 || res.Caveats[0] != w {
		t.Errorf("October by quarter: caveats %q, want %q", res.Caveats, w)
	}
	res = call(`{"product":"customer-acquisition","metrics":["new_customers"],"time_range":"2026-08..2026-08","time_grain":"quarter"}`)
	if w := "Q3 2026 is cut by the period's start and end: its figures are for 31 days of 92 (August 2026), not the whole quarter"; len(res.Caveats) != 1 || res.Caveats[0] != w {
		t.Errorf("August by quarter: caveats %q, want %q", res.Caveats, w)
	}
	if res = call(`{"product":"customer-acquisition","metrics":["new_customers"],"time_range":"last_year","time_grain":"month"}`); len(res.Caveats) != 0 {
		t.Errorf("2025 by month: caveats %q, want none", res.Caveats)
	}
}

func sqlByCurrency(t *testing.T, db *sql.DB, query string) map[string][2]float64 {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][2]float64{}
	for rows.Next() {
		var c string
		var v, n float64
		if err := rows.Scan(&c, &v, &n); err != nil {
			t.Fatal(err)
		}
		out[c] = [2]float64{v, n}
	}
	return out
}

// resultByCurrency reads two numeric columns of a result keyed by its currency column.
func resultByCurrency(t *testing.T, res *tools.Result, a, b string) map[string][2]float64 {
	t.Helper()
	idx := map[string]int{}
	for i, c := range res.Columns {
		idx[c.Name] = i
	}
	ci, ok := idx["currency"]
	if !ok {
		t.Fatalf("result has no currency column: %+v", res.Columns)
	}
	num := func(v any) float64 {
		switch n := v.(type) {
		case float64:
			return n
		case int64:
			return float64(n)
		}
		t.Fatalf("not a number: %#v", v)
		return 0
	}
	out := map[string][2]float64{}
	for _, row := range res.Rows {
		out[row[ci].(string)] = [2]float64{num(row[idx[a]]), num(row[idx[b]])}
	}
	return out
}

func TestCursorTamperingIsRejected(t *testing.T) {
	t.Parallel()
	a := stores(t)["sqlite"]
	alice := tools.Caller{Subject: a.Directory.Lookup("alice@bank.example"), Channel: "cli"}
	args := `{"product":"marketing-campaigns","columns":["campaign_id"],"limit":15}`
	first, err := a.Executor.Call(context.Background(), alice, tools.Call{Tool: tools.ToolQueryRecords, Arguments: json.RawMessage(args)})
	if err != nil || first.NextCursor == "" {
		t.Fatalf("first page: %v", err)
	}
	page := func(caller tools.Caller, args, cursor string) (*tools.Result, error) {
		var m map[string]any
		_ = json.Unmarshal([]byte(args), &m)
		m["cursor"] = cursor
		b, _ := json.Marshal(m)
		return a.Executor.Call(context.Background(), caller, tools.Call{Tool: tools.ToolQueryRecords, Arguments: b})
	}
	var seen []string
	for res, cur := first, first.NextCursor; ; {
		for _, r := range res.Rows {
			seen = append(seen, r[0].(string))
		}
		if cur == "" {
			break
		}
		if res, err = page(alice, args, cur); err != nil {
			t.Fatal(err)
		}
		cur = res.NextCursor
	}
	if len(seen) != 40 || len(slices.Compact(slices.Sorted(slices.Values(seen)))) != 40 {
		t.Fatalf("pages gave %d campaigns (want the 40, each once)", len(seen))
	}
	tampered := []byte(first.NextCursor)
	tampered[3] ^= 1
	carol := tools.Caller{Subject: a.Directory.Lookup("carol@bank.example"), Channel: "cli"}
	for name, try := range map[string]func() (*tools.Result, error){
		"flipped bit": func() (*tools.Result, error) { return page(alice, args, string(tampered)) },
		"other query": func() (*tools.Result, error) {
			return page(alice, `{"product":"marketing-campaigns","columns":["name"],"limit":15}`, first.NextCursor)
		},
		"other person": func() (*tools.Result, error) { return page(carol, args, first.NextCursor) },
		"garbage":      func() (*tools.Result, error) { return page(alice, args, "'; DROP TABLE campaigns; --") },
	} {
		var argErr *tools.ArgumentError
		if _, err := try(); !errors.As(err, &argErr) || !strings.Contains(err.Error(), "cursor is not valid") {
			t.Errorf("%s: want a cursor error, got %v", name, err)
		}
	}
}

func openDomain(t *testing.T, a *app.App, domain string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(a.Config.DataDir, domain+".db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func independentColumn(t *testing.T, a *app.App, domain, query string) []string {
	t.Helper()
	rows, err := openDomain(t, a, domain).Query(query)
	if err != nil {
		t.Fatal(err)
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
	return out
}

// Records' amounts name their currency: the row's currency column, or the
// one currency a filter pinned, so every surface shows "EUR 31,200".
func TestRecordAmountsCarryTheirCurrency(t *testing.T) {
	a := stores(t)["sqlite"]
	caller := tools.Caller{Subject: a.Directory.Lookup("erin@bank.example"), Channel: "cli"}
	unitOf := func(args string) tools.ResultColumn {
		t.Helper()
		res, err := a.Executor.Call(context.Background(), caller, tools.Call{Tool: tools.ToolQueryRecords, Arguments: json.RawMessage(args)})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range res.Columns {
			if c.Name == "amount" {
				return c
			}
		}
		t.Fatalf("no amount column in %+v", res.Columns)
		return tools.ResultColumn{}
	}
	if c := unitOf(`{"product":"customer-transactions","filters":[{"column":"type","op":"=","value":"withdrawal"}],"limit":5}`); c.UnitColumn != "currency" || c.UnitValue != "" {
		t.Errorf("amount's unit: %+v, want the currency column", c)
	}
	if c := unitOf(`{"product":"customer-transactions","filters":[{"column":"currency","op":"=","value":"GBP"}],"limit":5}`); c.UnitValue != "GBP" {
		t.Errorf("amount's unit with currency pinned: %+v, want GBP", c)
	}
	if c := unitOf(`{"product":"customer-transactions","columns":["transaction_id","amount"],"limit":5}`); c.UnitColumn != "" {
		t.Errorf("amount names a unit column the result does not hold: %+v", c)
	}
}
