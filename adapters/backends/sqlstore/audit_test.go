package sqlstore

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/examples/bank"
	"github.com/askmesh/askmesh/internal/pgtest"
	"github.com/askmesh/askmesh/tools"
)

// The access-audit product has no generated data (askmesh writes it as it
// runs), so it is tested on a small log of its own, with the descriptor's
// columns, whose expected results are worked out by hand.

func demoRegistry(t testing.TB) *catalog.Registry {
	t.Helper()
	reg, err := catalog.LoadFS(bank.Files, bank.ProductsDir)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func demoProduct(t testing.TB, name string) *catalog.Product {
	t.Helper()
	p, ok := demoRegistry(t).Get(name)
	if !ok {
		t.Fatalf("the demo catalog has no %s", name)
	}
	return p
}

type auditEntry struct {
	id, at, subject, tool, product, decision string
	rows                                     int64
	model                                    any // nil or a model name
	question                                 string
}

var auditLog = []auditEntry{
	{"a01", "2026-11-02T09:00:00Z", "dave@bank.example", "query_records", "access-audit", "allow", 5, "offline", "Who was denied access this week?"},
	{"a02", "2026-11-02T10:30:00Z", "frank@bank.example", "query_metrics", "loan-applications", "deny", 0, "offline", "Loan approval rate last quarter"},
	{"a03", "2026-11-03T08:15:00Z", "frank@bank.example", "query_records", "customers", "deny", 0, nil, "Show me customers' SSNs"},
	{"a04", "2026-11-04T23:59:59Z", "erin@bank.example", "query_records", "customer-transactions", "allow", 20, "offline", "Transactions of account 123456"},
	{"a05", "2026-11-06T12:00:00Z", "erin@bank.example", "find_anomalies", "customer-transactions", "error", 0, "offline", "Unusual transactions this month"},
	{"a06", "2026-11-08T00:00:00Z", "frank@bank.example", "query_records", "loan-applications", "deny", 0, "gpt-4o", "List loans"},
	{"a07", "2026-11-09T14:00:00Z", "dave@bank.example", "query_metrics", "access-audit", "allow", 3, "gpt-4o", "Denials by user"},
	{"a08", "2026-11-10T07:45:00Z", "erin@bank.example", "query_metrics", "customer-transactions", "allow", 12, nil, "Total deposits in Europe last week"},
	{"a09", "2026-11-10T16:20:00Z", "frank@bank.example", "get_record", "customers", "deny", 0, "gpt-4o", "customer cust-00042"},
	{"a10", "2026-11-12T11:11:11Z", "frank@bank.example", "query_records", "loan-applications", "deny", 0, "offline", "loan applications over 100% of income"},
	{"a11", "2026-11-13T09:30:00Z", "dave@bank.example", "query_records", "access-audit", "allow", 1, "offline", "What did frank try yesterday?"},
	{"a12", "2026-11-14T23:59:59.999999Z", "erin@bank.example", "query_records", "customer-transactions", "allow", 7, "offline", "Europe transactions"},
	{"a13", "2026-11-15T00:00:00Z", "dave@bank.example", "query_metrics", "access-audit", "allow", 2, "offline", "Accesses today"},
}

// auditRows lays the log out in the descriptor's column order.
func auditRows(p *catalog.Product) [][]any {
	var rows [][]any
	for i, e := range auditLog {
		vals := map[string]any{
			"id": e.id, "seq": int64(i + 1), "at": instant(e.at), "request_id": "req-" + e.id, "client_request_id": "", "conversation_id": "conv-1",
			"channel": "web", "subject": e.subject, "groups": `["group"]`, "action": "product." + e.tool, "tool": e.tool,
			"product": e.product, "arguments": "{}", "columns": "[]", "row_filters": "[]", "masks": "{}", "decision": e.decision,
			"reason": "", "rows_returned": e.rows, "policy_revision": "rev1", "model": e.model, "question": e.question,
			"duration_ms": int64(10 * (i + 1)), "prev_hash": "h" + e.id, "hash": "x" + e.id,
		}
		row := make([]any, len(p.Columns))
		for j, c := range p.Columns {
			v, ok := vals[c.Name]
			if !ok {
				panic("auditRows: no value for " + c.Name)
			}
			row[j] = v
		}
		rows = append(rows, row)
	}
	return rows
}

func auditBackends(t *testing.T) ([]*backend, *catalog.Product) {
	t.Helper()
	p := demoProduct(t, "access-audit")
	if p.Binding.Kind != catalog.BackendAudit {
		t.Fatalf("access-audit is bound to %q; the test expects the audit binding", p.Binding.Kind)
	}
	rows := auditRows(p)
	dir := t.TempDir()
	createSQLite(t, dir, p, rows)
	dsn := pgtest.NewDatabase(t)
	createPostgres(t, dsn, p, rows)
	return []*backend{sqliteBackend(t, dir), postgresBackend(t, dsn)}, p
}

func TestAccessAuditMetrics(t *testing.T) {
	t.Parallel()
	backends, p := auditBackends(t)
	week, before := span("2026-11-08", "2026-11-15"), span("2026-11-01", "2026-11-08")
	cases := []struct {
		name string
		plan tools.MetricsPlan
		want [][]any
	}{
		{
			// This week a06-a12 (a13 is on the range's end); the week before a01-a05.
			name: "by subject against the week before",
			plan: tools.MetricsPlan{Metrics: []string{"access_count", "denial_count"}, GroupBy: []string{"subject"},
				Range: week, CompareTo: tools.ComparePreviousPeriod, Compare: before},
			want: [][]any{
				{"dave@bank.example", int64(2), int64(1), int64(1), 100.0, int64(0), int64(0), int64(0), nil},
				{"erin@bank.example", int64(2), int64(2), int64(0), 0.0, int64(0), int64(0), int64(0), nil},
				{"frank@bank.example", int64(3), int64(2), int64(1), 50.0, int64(3), int64(2), int64(1), 50.0},
			},
		},
		{
			// Days are matched by position: the 8th with the 1st, the 9th with the 2nd...
			name: "by day against the week before",
			plan: tools.MetricsPlan{Metrics: []string{"access_count"}, Grain: tools.GrainDay,
				Range: week, CompareTo: tools.ComparePreviousPeriod, Compare: before},
			want: [][]any{
				{"2026-11-08", int64(1), nil, nil, nil},
				{"2026-11-09", int64(1), int64(2), int64(-1), -50.0},
				{"2026-11-10", int64(2), int64(1), int64(1), 100.0},
				{"2026-11-12", int64(1), nil, nil, nil},
				{"2026-11-13", int64(1), int64(1), int64(0), 0.0},
				{"2026-11-14", int64(1), nil, nil, nil},
			},
		},
		{
			name: "denials by product, most first",
			plan: tools.MetricsPlan{Metrics: []string{"denial_count"}, GroupBy: []string{"product"}, Order: []tools.Sort{{Field: "denial_count", Desc: true}}},
			want: [][]any{
				{"loan-applications", int64(3)},
				{"customers", int64(2)},
				{"access-audit", int64(0)},
				{"customer-transactions", int64(0)},
			},
		},
		{
			name: "by model, NULL last",
			plan: tools.MetricsPlan{Metrics: []string{"access_count"}, GroupBy: []string{"model"}},
			want: [][]any{{"gpt-4o", int64(3)}, {"offline", int64(8)}, {nil, int64(2)}},
		},
		{
			name: "decision filter, weekly",
			plan: tools.MetricsPlan{Metrics: []string{"access_count"}, Grain: tools.GrainWeek,
				Filters: []tools.Condition{{Column: "decision", Op: "in", Value: []any{"deny", "error"}}}},
			// Weeks start on Monday: a06, on Sunday 2026-11-08, belongs to
			// the week of the 2nd with a02, a03 and a05.
			want: [][]any{{"2026-11-02", int64(4)}, {"2026-11-09", int64(2)}},
		},
	}
	for _, c := range cases {
		for _, b := range backends {
			t.Run(c.name+"/"+b.name, func(t *testing.T) {
				res := b.metrics(t, p, c.plan)
				assertRows(t, res, c.want)
			})
		}
	}
}

func TestAccessAuditRecords(t *testing.T) {
	t.Parallel()
	backends, p := auditBackends(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			plan := tools.RecordsPlan{Columns: []string{"id", "at", "subject", "product", "rows_returned"},
				Filters: []tools.Condition{{Column: "decision", Op: "=", Value: "deny"}}}
			res := b.records(t, p, plan)
			assertRows(t, res, [][]any{
				{"a10", "2026-11-12T11:11:11Z", "frank@bank.example", "loan-applications", int64(0)},
				{"a09", "2026-11-10T16:20:00Z", "frank@bank.example", "customers", int64(0)},
				{"a06", "2026-11-08T00:00:00Z", "frank@bank.example", "loan-applications", int64(0)},
				{"a03", "2026-11-03T08:15:00Z", "frank@bank.example", "customers", int64(0)},
				{"a02", "2026-11-02T10:30:00Z", "frank@bank.example", "loan-applications", int64(0)},
			})
			// The second page of two.
			plan.Limit, plan.Offset = 2, 2
			res = b.records(t, p, plan)
			assertRows(t, res, [][]any{
				{"a06", "2026-11-08T00:00:00Z", "frank@bank.example", "loan-applications", int64(0)},
				{"a03", "2026-11-03T08:15:00Z", "frank@bank.example", "customers", int64(0)},
			})
			if *res.TotalCount != 5 {
				t.Errorf("TotalCount = %d, want 5", *res.TotalCount)
			}
			// The question, searched case-insensitively and with % taken literally.
			res = b.records(t, p, tools.RecordsPlan{Columns: []string{"id", "question"},
				Filters: []tools.Condition{{Column: "question", Op: "contains", Value: "100%"}}})
			assertRows(t, res, [][]any{{"a10", "loan applications over 100% of income"}})
			res = b.records(t, p, tools.RecordsPlan{Columns: []string{"id"},
				Filters: []tools.Condition{{Column: "question", Op: "contains", Value: "LOAN"}, {Column: "model", Op: "is not null"}},
				Range:   tools.Range{From: instant("2026-11-02T10:30:00.000001Z"), To: instant("2026-11-14T23:59:59.999999Z")}})
			assertRows(t, res, [][]any{{"a10"}, {"a06"}})
			res = b.records(t, p, tools.RecordsPlan{Columns: []string{"id", "at"},
				Range: tools.Range{From: instant("2026-11-14T23:59:59.999999Z"), To: instant("2026-11-15T00:00:00.000001Z")}})
			assertRows(t, res, [][]any{{"a13", "2026-11-15T00:00:00Z"}, {"a12", "2026-11-14T23:59:59Z"}})
		})
	}
}

func TestAccessAuditGetRecord(t *testing.T) {
	t.Parallel()
	backends, p := auditBackends(t)
	frankOnly := []tools.Condition{{Column: "subject", Op: "=", Value: "frank@bank.example"}}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			res := b.get(t, p, tools.GetPlan{ID: "a09", Columns: []string{"id", "seq", "at", "subject", "decision", "model"}, Filters: frankOnly})
			assertRows(t, res, [][]any{{"a09", int64(9), "2026-11-10T16:20:00Z", "frank@bank.example", "deny", "gpt-4o"}})
			for _, id := range []string{"a07", "nope", ""} {
				res := b.get(t, p, tools.GetPlan{ID: id, Columns: []string{"id"}, Filters: frankOnly})
				assertRows(t, res, nil)
			}
		})
	}
}

// The audit binding itself is not the SQL store's: askmesh rebinds the
// product to its audit database at run time.
func TestAuditBindingIsRefused(t *testing.T) {
	t.Parallel()
	s := New(Options{SQLiteDir: t.TempDir()})
	defer s.Close()
	p := demoProduct(t, "access-audit")
	_, err := s.QueryMetrics(ctx(t), tools.MetricsPlan{Product: p, Metrics: []string{"access_count"}})
	if err == nil || err.Error() != `access-audit is unavailable: the SQL store serves sqlite, postgres and mysql bindings, not "audit"` {
		t.Fatalf("err = %v", err)
	}
}

// TestLiveAuditLog: the audit store writes governance.db in WAL mode while
// the product store reads it read-only; every committed record is visible
// to the next query.
func TestLiveAuditLog(t *testing.T) {
	t.Parallel()
	p := demoProduct(t, "access-audit")
	dir := t.TempDir()
	rows := auditRows(p)
	createSQLite(t, dir, p, rows[:3])
	writer, err := sql.Open("sqlite", filepath.Join(dir, "governance.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	if _, err := writer.Exec("PRAGMA journal_mode = WAL"); err != nil {
		t.Fatal(err)
	}
	b := sqliteBackend(t, dir)
	count := func() int64 {
		t.Helper()
		res := b.metrics(t, p, tools.MetricsPlan{Metrics: []string{"access_count"}})
		return res.Rows[0][0].(int64)
	}
	if n := count(); n != 3 {
		t.Fatalf("access_count = %d, want 3", n)
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(p.Columns)), ", ")
	for _, r := range rows[3:5] {
		vals := append([]any{}, r...)
		for i, v := range vals {
			if tm, ok := v.(time.Time); ok {
				vals[i] = tm.Format(catalog.SQLiteTimeLayout)
			}
		}
		if _, err := writer.Exec("INSERT INTO access_audit VALUES ("+marks+")", vals...); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(); n != 5 {
		t.Fatalf("after two appends access_count = %d, want 5", n)
	}
}
