package tools_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
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
	{name: "erin transactions in europe", user: "erin", tool: tools.ToolQueryMetrics, args: `{"product":"customer-transactions","metrics":["total_amount"]}`, decision: "allow", columns: []string{"total_amount"}, filters: `[{"column":"region","op":"=","value":"europe"}]`},
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

func TestErinTotalsEqualSQLForEurope(t *testing.T) {
	a := stores(t)["sqlite"]
	caller := tools.Caller{Subject: a.Directory.Lookup("erin@bank.example"), Channel: "cli"}
	res, err := a.Executor.Call(context.Background(), caller, tools.Call{Tool: tools.ToolQueryMetrics,
		Arguments: json.RawMessage(`{"product":"customer-transactions","metrics":["total_amount","transaction_count"],"time_range":"last_month"}`)})
	if err != nil {
		t.Fatal(err)
	}
	var want float64
	var wantN int64
	db := openDomain(t, a, "retail-banking")
	if err := db.QueryRow(`SELECT round(sum(amount), 2), count(*) FROM transactions WHERE region = 'europe'
		AND occurred_at >= '2026-10-01T00:00:00.000000Z' AND occurred_at < '2026-11-01T00:00:00.000000Z'`).Scan(&want, &wantN); err != nil {
		t.Fatal(err)
	}
	got, _ := res.Rows[0][0].(float64)
	gotN, _ := res.Rows[0][1].(int64)
	if math.Abs(got-want) > 0.001 || gotN != wantN {
		t.Fatalf("erin's October total %v (%d rows), SQL for europe says %v (%d)", got, gotN, want, wantN)
	}
	var all float64
	_ = db.QueryRow(`SELECT round(sum(amount), 2) FROM transactions WHERE occurred_at >= '2026-10-01T00:00:00.000000Z' AND occurred_at < '2026-11-01T00:00:00.000000Z'`).Scan(&all)
	if all <= want {
		t.Fatal("the test data has no transactions outside europe: the filter is not exercised")
	}
}

func TestCursorTamperingIsRejected(t *testing.T) {
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
