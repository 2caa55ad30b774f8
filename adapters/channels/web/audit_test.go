package web_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/audit/auditlog"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/tools"
)

// activity is one question asked at a pinned time, to fill the audit log
// with history worth reviewing.
type activity struct {
	at       string // RFC 3339
	user     string
	question string
}

// The clock is pinned to Sunday 2026-11-15 12:00 UTC: "this week" starts on
// Monday 9 November, "yesterday" is 14 November, "this month" 1 November.
var auditHistory = []activity{
	// Last month: outside every window dave asks about.
	{"2026-10-28T10:00:00Z", "bob", "show 5 customers in europe"},
	{"2026-10-28T10:05:00Z", "frank", "list loan applications over 500000"},
	// Earlier this month, before this week.
	{"2026-11-03T09:00:00Z", "bob", "show 10 customers in asia-pacific"},
	{"2026-11-04T11:00:00Z", "erin", "list loan applications over 500000"},
	// This week.
	{"2026-11-10T09:30:00Z", "frank", "list loan applications over 500000"},
	{"2026-11-10T09:31:00Z", "erin", "What is the approval rate of loan applications last month?"},
	{"2026-11-11T14:00:00Z", "carol", "What is the approval rate of loan applications last month?"},
	{"2026-11-12T16:20:00Z", "bob", "show 3 customers in north-america"},
	{"2026-11-12T16:25:00Z", "alice", "list loan applications over 500000"},
	// Yesterday.
	{"2026-11-14T08:15:00Z", "frank", "How many new customers did we acquire last month?"},
	{"2026-11-14T08:16:00Z", "frank", "list loan applications over 500000"},
	{"2026-11-14T08:17:00Z", "frank", "What data do we have about customer transactions?"},
	{"2026-11-14T17:45:00Z", "erin", "Total deposits in Europe last week, by channel"},
	// Today, before dave looks.
	{"2026-11-15T07:00:00Z", "bob", "show 2 customers in europe"},
	{"2026-11-15T07:05:00Z", "frank", "show customers"},
}

// writeHistory asks every question of history as its user, each with the
// clock pinned to its time, against the audit log in dir.
func writeHistory(t *testing.T, dir string, history []activity) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, a := range history {
		stack, err := app.Build(ctx, app.Config{DataDir: dir, Now: a.at})
		if err != nil {
			t.Fatal(err)
		}
		user := a.user + "@bank.example"
		_, err = stack.Agent.Answer(ctx, assistant.Request{Question: a.question,
			Caller: tools.Caller{Subject: stack.Directory.Lookup(user), Channel: "cli", RequestID: "history-" + a.at}})
		stack.Close()
		if err != nil {
			t.Fatalf("%s asking %q at %s: %v", user, a.question, a.at, err)
		}
	}
}

// auditDB opens the audit log read-only for independent SQL.
func auditDB(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "governance.db")+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// sqlStrings runs a query whose rows are text columns and returns each row
// joined with "|", sorted.
func sqlStrings(t *testing.T, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(query, args...)
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
	sort.Strings(out)
	return out
}

// historyHarness is the whole stack at banktest.Now over an audit log that
// already holds auditHistory.
func historyHarness(t *testing.T) (*harness, string) {
	t.Helper()
	dir := banktest.PrivateDir(t)
	writeHistory(t, dir, auditHistory)
	h := newHarness(t, setup{cfg: func(c *app.Config) { c.DataDir = dir }})
	h.dir = dir
	return h, dir
}

// chatAs asks a question over the JSON chat API.
func (h *harness) chatAs(user, question string) *assistant.Answer {
	h.t.Helper()
	res, body := h.do("POST", "/v1/chat", "demo-"+user, map[string]string{"message": question}, nil)
	if res.StatusCode != http.StatusOK {
		h.t.Fatalf("%s asking %q: %d %s", user, question, res.StatusCode, body)
	}
	var ans assistant.Answer
	if err := json.Unmarshal(body, &ans); err != nil {
		h.t.Fatal(err)
	}
	return &ans
}

// tableRows returns a table's rows, the named columns joined with "|", sorted.
func tableRows(t *testing.T, tb assistant.Table, cols ...string) []string {
	t.Helper()
	idx := make([]int, len(cols))
	for i, c := range cols {
		idx[i] = slices.IndexFunc(tb.Columns, func(rc tools.ResultColumn) bool { return rc.Name == c })
		if idx[i] < 0 {
			t.Fatalf("table %q has no column %s", tb.Title, c)
		}
	}
	var out []string
	for _, row := range tb.Rows {
		parts := make([]string, len(cols))
		for i, k := range idx {
			parts[i] = fmt.Sprint(row[k])
		}
		out = append(out, strings.Join(parts, "|"))
	}
	sort.Strings(out)
	return out
}

func auditTable(t *testing.T, ans *assistant.Answer, firstCol string) assistant.Table {
	t.Helper()
	for _, tb := range ans.Tables {
		if tb.Source.Product == "access-audit" && len(tb.Columns) > 0 && tb.Columns[0].Name == firstCol {
			return tb
		}
	}
	t.Fatalf("no access-audit table starting with %s in %+v", firstCol, ans)
	return assistant.Table{}
}

// TestAuditQuestionsMatchSQL: dave's questions about the log, asked through
// the chat API with the offline planner, return exactly the records SQL on
// the audit store finds; erin asking the same is refused, and the refusal is
// itself in the log.
func TestAuditQuestionsMatchSQL(t *testing.T) {
	t.Parallel()
	h, dir := historyHarness(t)
	db := auditDB(t, dir)
	const week, day, month, end = "2026-11-09T00:00:00.000000Z", "2026-11-14T00:00:00.000000Z", "2026-11-01T00:00:00.000000Z", "2026-11-16T00:00:00.000000Z"

	t.Run("who was denied access to loan-applications this week", func(t *testing.T) {
		want := sqlStrings(t, db, `SELECT subject, tool, product, decision FROM access_audit
			WHERE decision = 'deny' AND product = 'loan-applications' AND at >= ? AND at < ?`, week, end)
		if len(want) < 3 {
			t.Fatalf("the history should hold at least 3 such denials, SQL finds %d", len(want))
		}
		ans := h.chatAs("dave", "Who was denied access to loan-applications this week?")
		got := tableRows(t, auditTable(t, ans, "at"), "subject", "tool", "product", "decision")
		if !slices.Equal(got, want) {
			t.Errorf("records:\n%s\nSQL finds:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
	t.Run("what did frank try yesterday", func(t *testing.T) {
		want := sqlStrings(t, db, `SELECT subject, tool, product, decision FROM access_audit
			WHERE subject = 'frank@bank.example' AND at >= ? AND at < ?`, day, "2026-11-15T00:00:00.000000Z")
		if len(want) < 3 {
			t.Fatalf("frank made at least 3 calls yesterday, SQL finds %d", len(want))
		}
		ans := h.chatAs("dave", "What did frank try yesterday?")
		got := tableRows(t, auditTable(t, ans, "at"), "subject", "tool", "product", "decision")
		if !slices.Equal(got, want) {
			t.Errorf("records:\n%s\nSQL finds:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
	t.Run("which users read customers pii this month", func(t *testing.T) {
		ans := h.chatAs("dave", "Which users read customers pii this month?")
		var subjectTables []assistant.Table
		for _, tb := range ans.Tables {
			if tb.Source.Product == "access-audit" && len(tb.Columns) > 0 && tb.Columns[0].Name == "subject" {
				subjectTables = append(subjectTables, tb)
			}
		}
		if len(subjectTables) != 3 {
			t.Fatalf("want one table per pii column of customers (3), got %d: %+v", len(subjectTables), ans.Tables)
		}
		for i, col := range []string{"full_name", "email", "date_of_birth"} {
			want := sqlStrings(t, db, `SELECT subject, count(*) FROM access_audit
				WHERE decision = 'allow' AND product = 'customers' AND instr(columns, ?) > 0 AND at >= ? AND at < ?
				GROUP BY subject`, `"`+col+`"`, month, end)
			if col == "full_name" && !slices.Equal(want, []string{"bob@bank.example|3"}) {
				t.Fatalf("the history has bob read customers 3 times this month; SQL finds %q", want)
			}
			got := tableRows(t, subjectTables[i], "subject", "access_count")
			if !slices.Equal(got, want) {
				t.Errorf("%s: readers %q, SQL finds %q", col, got, want)
			}
		}
		if !strings.Contains(ans.Text, "bob@bank.example") {
			t.Errorf("the answer does not name bob: %q", ans.Text)
		}
	})
	t.Run("erin is refused and the refusal is recorded", func(t *testing.T) {
		for _, q := range []string{"Who was denied access to loan-applications this week?", "What did frank try yesterday?", "Which users read customers pii this month?"} {
			before := sqlCount(t, dir, "governance", `SELECT count(*) FROM access_audit WHERE subject = 'erin@bank.example' AND product = 'access-audit' AND decision = 'deny'`)
			ans := h.chatAs("erin", q)
			if len(ans.Denials) == 0 {
				t.Fatalf("%q: erin was not refused: %+v", q, ans)
			}
			for _, tb := range ans.Tables {
				if tb.Source.Product == "access-audit" {
					t.Errorf("%q: erin got an audit table: %+v", q, tb)
				}
			}
			for _, d := range ans.Denials {
				n := sqlCount(t, dir, "governance", `SELECT count(*) FROM access_audit WHERE id = ? AND subject = 'erin@bank.example'
					AND product = 'access-audit' AND decision = 'deny'`, d.AuditID)
				if n != 1 {
					t.Errorf("%q: denial %s is not in the log as erin's denial of access-audit", q, d.AuditID)
				}
			}
			after := sqlCount(t, dir, "governance", `SELECT count(*) FROM access_audit WHERE subject = 'erin@bank.example' AND product = 'access-audit' AND decision = 'deny'`)
			if after-before != len(ans.Denials) {
				t.Errorf("%q: %d denials recorded, the answer reports %d", q, after-before, len(ans.Denials))
			}
		}
	})
}

// auditAPI calls the audit API as user and decodes the JSON body.
func (h *harness) auditAPI(method, path, user string, out any) (*http.Response, []byte) {
	h.t.Helper()
	res, body := h.do(method, path, "demo-"+user, nil, nil)
	if out != nil && res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, out); err != nil {
			h.t.Fatalf("%s %s: %v: %s", method, path, err, body)
		}
	}
	return res, body
}

type listBody struct {
	Records []struct {
		ID       string `json:"id"`
		Seq      int64  `json:"seq"`
		Subject  string `json:"subject"`
		Product  string `json:"product"`
		Decision string `json:"decision"`
	} `json:"records"`
	TotalCount int64  `json:"total_count"`
	NextCursor string `json:"next_cursor"`
	Head       int64  `json:"head_seq"`
	AuditID    string `json:"audit_id"`
}

// TestAuditAPI: the review API lists, pages, opens, verifies and exports
// exactly what SQL finds, records each of those reads, and refuses
// non-auditors with a recorded denial.
func TestAuditAPI(t *testing.T) {
	t.Parallel()
	h, dir := historyHarness(t)
	db := auditDB(t, dir)

	// Filters: frank's denials this month.
	q := url.Values{"user": {"frank@bank.example"}, "decision": {"deny"}, "since": {"2026-11-01"}, "until": {"2026-11-15"}}
	want := sqlStrings(t, db, `SELECT id FROM access_audit WHERE subject = 'frank@bank.example' AND decision = 'deny'
		AND at >= '2026-11-01T00:00:00.000000Z' AND at < '2026-11-16T00:00:00.000000Z'`)
	if len(want) < 4 {
		t.Fatalf("SQL finds %d of frank's denials this month; the history has more", len(want))
	}
	var page listBody
	res, body := h.auditAPI("GET", "/v1/audit/records?"+q.Encode()+"&limit=2", "dave", &page)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("list: %d %s", res.StatusCode, body)
	}
	if page.TotalCount != int64(len(want)) {
		t.Errorf("total_count %d, SQL finds %d", page.TotalCount, len(want))
	}
	var got []string
	for {
		for _, r := range page.Records {
			got = append(got, r.ID)
			if r.Subject != "frank@bank.example" || r.Decision != "deny" {
				t.Errorf("a listed record does not match the filter: %+v", r)
			}
		}
		if page.NextCursor == "" {
			break
		}
		next := page.NextCursor
		page = listBody{}
		if res, body := h.auditAPI("GET", "/v1/audit/records?"+q.Encode()+"&limit=2&cursor="+url.QueryEscape(next), "dave", &page); res.StatusCode != http.StatusOK {
			t.Fatalf("next page: %d %s", res.StatusCode, body)
		}
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("paged ids:\n%v\nSQL:\n%v", got, want)
	}
	// Each page read is itself recorded, as dave's allowed query of access-audit.
	reads := sqlCount(t, dir, "governance", `SELECT count(*) FROM access_audit WHERE subject = 'dave@bank.example'
		AND product = 'access-audit' AND tool = 'query_records' AND decision = 'allow' AND question LIKE 'audit review: list records%'`)
	if wantReads := (len(want) + 1) / 2; reads != wantReads {
		t.Errorf("%d list reads recorded, want %d (one per page)", reads, wantReads)
	}

	// Detail: the full record, straight from the store.
	var detail struct {
		Record      audit.Record `json:"record"`
		HashMatches bool         `json:"hash_matches"`
		AuditID     string       `json:"audit_id"`
	}
	res, body = h.auditAPI("GET", "/v1/audit/records/"+want[0], "dave", &detail)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("detail: %d %s", res.StatusCode, body)
	}
	var hash, prev, question, args string
	if err := db.QueryRow(`SELECT hash, prev_hash, question, arguments FROM access_audit WHERE id = ?`, want[0]).Scan(&hash, &prev, &question, &args); err != nil {
		t.Fatal(err)
	}
	canon, err := auditlog.Canonicalize(detail.Record.Arguments)
	if err != nil {
		t.Fatal(err)
	}
	if detail.Record.ID != want[0] || detail.Record.Hash != hash || detail.Record.PrevHash != prev || detail.Record.Question != question ||
		string(canon) != args || !detail.HashMatches || detail.AuditID == "" {
		t.Errorf("detail %+v does not match the stored record (hash %s, prev %s, question %q, arguments %s)", detail, hash, prev, question, args)
	}
	res, _ = h.auditAPI("GET", "/v1/audit/records/no-such-record", "dave", nil)
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown record: %d, want 404", res.StatusCode)
	}

	// Verify.
	var vr struct {
		OK      bool   `json:"ok"`
		Records int64  `json:"records"`
		HeadSeq int64  `json:"head_seq"`
		AuditID string `json:"audit_id"`
	}
	res, body = h.auditAPI("POST", "/v1/audit/verify", "dave", &vr)
	total := sqlCount(t, dir, "governance", `SELECT count(*) FROM access_audit`)
	if res.StatusCode != http.StatusOK || !vr.OK || vr.Records != int64(total) || vr.AuditID == "" {
		t.Errorf("verify: %d %s; the log holds %d records", res.StatusCode, body, total)
	}

	// Export: the filtered set, in full, in both formats.
	for _, format := range []string{"jsonl", "csv"} {
		res, body = h.auditAPI("GET", "/v1/audit/export?format="+format+"&"+q.Encode(), "dave", nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("export %s: %d %s", format, res.StatusCode, body)
		}
		lines := strings.Split(strings.TrimSpace(string(body)), "\n")
		if format == "csv" {
			if lines[0] != strings.Join(auditlog.CSVHeader, ",") {
				t.Errorf("csv header %q", lines[0])
			}
			lines = lines[1:]
		}
		var ids []string
		for _, l := range lines {
			if format == "jsonl" {
				var r audit.Record
				if err := json.Unmarshal([]byte(l), &r); err != nil {
					t.Fatalf("jsonl line %q: %v", l, err)
				}
				if auditlog.ComputeHash(&r) != r.Hash {
					t.Errorf("exported record %s does not hash to its hash", r.ID)
				}
				ids = append(ids, r.ID)
			} else {
				ids = append(ids, strings.SplitN(l, ",", 2)[0])
			}
		}
		sort.Strings(ids)
		if !slices.Equal(ids, want) {
			t.Errorf("%s export ids %v, SQL %v", format, ids, want)
		}
		if n := sqlCount(t, dir, "governance", `SELECT count(*) FROM access_audit WHERE subject = 'dave@bank.example'
			AND product = 'access-audit' AND question = ?`, "audit review: export "+format+" (user=frank@bank.example, decision=deny, since=2026-11-01, until=2026-11-15)"); n != 1 {
			t.Errorf("the %s export is recorded %d times, want once", format, n)
		}
	}

	// A first name matches the start of the id, in the export as in the list.
	byName := url.Values{"user": {"frank"}, "decision": {"deny"}, "since": {"2026-11-01"}, "until": {"2026-11-15"}}
	res, body = h.auditAPI("GET", "/v1/audit/export?format=jsonl&"+byName.Encode(), "dave", nil)
	if res.StatusCode != http.StatusOK || res.Header.Get("X-Askmesh-Records") != strconv.Itoa(len(want)) {
		t.Errorf("export by first name: %d, %s records, want %d: %s", res.StatusCode, res.Header.Get("X-Askmesh-Records"), len(want), body)
	}

	// erin is no auditor: every endpoint refuses, says why, and records it.
	for _, c := range []struct{ method, path string }{
		{"GET", "/v1/audit/records"}, {"GET", "/v1/audit/records/" + want[0]}, {"POST", "/v1/audit/verify"}, {"GET", "/v1/audit/export?format=csv"},
	} {
		res, body := h.auditAPI(c.method, c.path, "erin", nil)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("erin %s %s: %d %s", c.method, c.path, res.StatusCode, body)
			continue
		}
		_, msg := errorOf(t, body)
		id := res.Header.Get("X-Askmesh-Audit-Id")
		if !strings.Contains(msg, "only auditors may review the audit log") || !strings.Contains(msg, "access-audit") || id == "" || !strings.Contains(msg, id) {
			t.Errorf("erin %s %s: message %q, audit id %q", c.method, c.path, msg, id)
		}
		if n := sqlCount(t, dir, "governance", `SELECT count(*) FROM access_audit WHERE id = ? AND subject = 'erin@bank.example'
			AND product = 'access-audit' AND decision = 'deny' AND channel = 'web'`, id); n != 1 {
			t.Errorf("erin %s %s: the denial %s is not recorded", c.method, c.path, id)
		}
	}
	// The page itself is public HTML: the data behind it is what is guarded.
	res, body = h.do("GET", "/audit", "", nil, nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "/static/audit.js") {
		t.Errorf("GET /audit: %d", res.StatusCode)
	}
}
