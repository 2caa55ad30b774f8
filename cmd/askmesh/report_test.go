package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/audit/auditlog"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
)

// runAt executes the command line with the clock pinned to now.
func runAt(t *testing.T, dataDir, now string, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetIn(strings.NewReader(""))
	root.SetArgs(append([]string{"--data-dir", dataDir, "--now", now}, args...))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := root.ExecuteContext(ctx)
	return out.String(), err
}

// askHistory asks questions as several people on several days, so the log
// holds accesses, denials and pii reads across a period.
func askHistory(t *testing.T, dir string) {
	t.Helper()
	for _, a := range []struct{ at, user, question string }{
		{"2026-10-30T10:00:00Z", "bob", "show 5 customers in europe"},
		{"2026-11-02T09:00:00Z", "frank", "list loan applications over 500000"},
		{"2026-11-03T11:00:00Z", "bob", "show 10 customers in asia-pacific"},
		{"2026-11-05T15:00:00Z", "carol", "What is the approval rate of loan applications last month?"},
		{"2026-11-09T08:00:00Z", "erin", "list loan applications over 500000"},
		{"2026-11-12T16:00:00Z", "alice", "How many new customers did we acquire last month?"},
		{"2026-11-14T08:15:00Z", "frank", "How many new customers did we acquire last month?"},
		{"2026-11-16T09:00:00Z", "bob", "show 2 customers in europe"},
	} {
		if out, err := runAt(t, dir, a.at, "ask", "--as", a.user, a.question); err != nil {
			t.Fatalf("%s asking %q: %v\n%s", a.user, a.question, err, out)
		}
	}
}

func openGovernance(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "governance.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestAuditReportCLI: `audit report` states the period's totals, per
// product and per user, as SQL on the audit store finds them, and writes a
// self-contained HTML file with charts.
func TestAuditReportCLI(t *testing.T) {
	t.Parallel()
	dir := banktest.PrivateDir(t)
	askHistory(t, dir)
	db := openGovernance(t, dir)
	htmlFile := filepath.Join(t.TempDir(), "report.html")
	out, err := run(t, dir, "audit", "report", "--since", "2026-11-01", "--until", "2026-11-16", "--html", htmlFile)
	if err != nil {
		t.Fatalf("audit report: %v\n%s", err, out)
	}
	if testing.Verbose() {
		t.Logf("audit report:\n%s", out)
		if d := os.Getenv("ASKMESH_KEEP_REPORT"); d != "" {
			b, _ := os.ReadFile(htmlFile)
			_ = os.WriteFile(d, b, 0o644)
		}
	}
	const win = `at >= '2026-11-01T00:00:00.000000Z' AND at < '2026-11-16T00:00:00.000000Z'`
	var calls, allowed, denied, errs, users, pii int
	piiCond := `(decision = 'allow' AND product = 'customers' AND (instr(columns, '"full_name"') > 0 OR instr(columns, '"email"') > 0 OR instr(columns, '"date_of_birth"') > 0))`
	if err := db.QueryRow(`SELECT count(*), coalesce(sum(decision = 'allow'), 0), coalesce(sum(decision = 'deny'), 0), coalesce(sum(decision = 'error'), 0),
		count(DISTINCT subject), coalesce(sum(`+piiCond+`), 0) FROM access_audit WHERE `+win).Scan(&calls, &allowed, &denied, &errs, &users, &pii); err != nil {
		t.Fatal(err)
	}
	if denied < 3 || pii != 1 {
		t.Fatalf("the history should hold at least 3 denials and bob's one pii read in the period: %d, %d", denied, pii)
	}
	var total int
	if err := db.QueryRow(`SELECT count(*) FROM access_audit`).Scan(&total); err != nil {
		t.Fatal(err)
	}
	head := fmt.Sprintf("calls %d: %d allowed (accesses), %d denied, %d errors; %d users; %d pii accesses", calls, allowed, denied, errs, users, pii)
	for _, want := range []string{head, fmt.Sprintf("chain: intact: %d records", total), "2026-11-01 to 2026-11-16 (exclusive)", "HTML report written to " + htmlFile} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
	// Per product and per user lines: name, calls, allowed, denied.
	lines := strings.Split(out, "\n")
	check := func(section, key string) {
		t.Helper()
		rows, err := db.Query(`SELECT ` + key + `, count(*), sum(decision = 'allow'), sum(decision = 'deny') FROM access_audit WHERE ` + win + ` GROUP BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var name string
			var c, a, d int
			if err := rows.Scan(&name, &c, &a, &d); err != nil {
				t.Fatal(err)
			}
			if name == "" {
				name = auditlog.CatalogProduct
			}
			n++
			found := false
			in := false
			for _, l := range lines {
				if strings.HasPrefix(l, section) {
					in = true
				} else if in && l == "" {
					break
				}
				if in && strings.Join(strings.Fields(l)[:min(4, len(strings.Fields(l)))], " ") == fmt.Sprintf("%s %d %d %d", name, c, a, d) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: no line %q %d %d %d in:\n%s", section, name, c, a, d, out)
			}
		}
		if n == 0 {
			t.Errorf("%s: SQL finds nothing", section)
		}
	}
	check("PER PRODUCT", "product")
	check("PER USER", "subject")
	if !strings.Contains(out, "bob@bank.example") || strings.Contains(out, "2026-10-30") || strings.Contains(out, "2026-11-16T09") {
		t.Errorf("the report is not limited to the period:\n%s", out)
	}

	page, err := os.ReadFile(htmlFile)
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	for _, banned := range []string{"<script", "src=", "href=", "http://", "https://"} {
		if strings.Contains(html, banned) {
			t.Errorf("the HTML report is not self-contained: %q", banned)
		}
	}
	for id, n := range map[string]int{"calls": calls, "denied": denied, "pii": pii} {
		if want := fmt.Sprintf(`id="kpi-%s"><b>%d</b>`, id, n); !strings.Contains(html, want) {
			t.Errorf("the HTML report lacks %s", want)
		}
	}
	if strings.Count(html, "<svg") != 3 || !strings.Contains(html, `class="chain ok"`) {
		t.Errorf("the HTML report lacks its charts or chain status")
	}
}

// tamper runs statements on the audit table with its append-only triggers
// dropped, as someone with the database owner's rights could.
func tamper(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	rows, err := db.Query(`SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'access_audit'`)
	if err != nil {
		t.Fatal(err)
	}
	var script strings.Builder
	var ddls []string
	script.WriteString("BEGIN IMMEDIATE;\n")
	for rows.Next() {
		var name, ddl string
		if err := rows.Scan(&name, &ddl); err != nil {
			t.Fatal(err)
		}
		script.WriteString("DROP TRIGGER " + name + ";\n")
		ddls = append(ddls, ddl)
	}
	rows.Close()
	if len(ddls) == 0 {
		t.Fatal("no append-only triggers on access_audit")
	}
	for _, s := range stmts {
		script.WriteString(s + ";\n")
	}
	for _, ddl := range ddls {
		script.WriteString(ddl + ";\n")
	}
	script.WriteString("COMMIT;")
	if _, err := db.Exec(script.String()); err != nil {
		t.Fatalf("tamper: %v", err)
	}
}

func exitCode(err error) int {
	var e exitError
	if errors.As(err, &e) {
		return e.code
	}
	if err != nil {
		return 1
	}
	return 0
}

// TestVerifyCheckpointCatchesAlteredRecords: after a signed checkpoint, a
// record altered in SQLite fails `audit verify --checkpoint`; so does the
// subtler forgery a chain walk alone cannot see, the chain rehashed from
// the altered record on.
func TestVerifyCheckpointCatchesAlteredRecords(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		rehash bool // recompute every hash after the altered record
		want   string
	}{
		{"a record altered", false, "AUDIT CHAIN BROKEN at seq 3"},
		{"a record altered and the chain rehashed", true, "CHECKPOINT MISMATCH: audit: checkpoint: the record with seq"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := banktest.PrivateDir(t)
			askHistory(t, dir)
			keys := filepath.Join(t.TempDir(), "cp")
			if out, err := run(t, dir, "audit", "keygen", "--out", keys); err != nil {
				t.Fatalf("keygen: %v\n%s", err, out)
			}
			cpJSON, err := run(t, dir, "audit", "checkpoint", "--key", keys+".key")
			if err != nil {
				t.Fatalf("checkpoint: %v\n%s", err, cpJSON)
			}
			cpFile := filepath.Join(t.TempDir(), "checkpoint.json")
			if err := os.WriteFile(cpFile, []byte(cpJSON), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := run(t, dir, "audit", "verify", "--checkpoint", cpFile, "--public-key", keys+".pub")
			if err != nil || !strings.Contains(out, "matches the log") {
				t.Fatalf("verify before tampering: %v\n%s", err, out)
			}

			db := openGovernance(t, dir)
			var subject string
			if err := db.QueryRow(`SELECT subject FROM access_audit WHERE seq = 3`).Scan(&subject); err != nil {
				t.Fatal(err)
			}
			stmts := []string{`UPDATE access_audit SET subject = 'nobody@bank.example' WHERE seq = 3`}
			if c.rehash {
				stmts = rehashedFrom(t, dir, 3, "nobody@bank.example")
				// The forgery is consistent: a plain chain walk passes.
				tamper(t, db, stmts...)
				if out, err := run(t, dir, "audit", "verify"); err != nil || !strings.Contains(out, "audit chain intact") {
					t.Fatalf("the rehashed chain should pass a plain walk: %v\n%s", err, out)
				}
			} else {
				tamper(t, db, stmts...)
			}
			out, err = run(t, dir, "audit", "verify", "--checkpoint", cpFile, "--public-key", keys+".pub")
			if exitCode(err) != 2 || !strings.Contains(out, c.want) {
				t.Errorf("verify after tampering: exit %d (%v), want 2 and %q:\n%s", exitCode(err), err, c.want, out)
			}
			// The compliance report says so as well.
			out, err = run(t, dir, "audit", "report")
			if c.rehash {
				if err != nil {
					t.Errorf("report: %v", err)
				}
			} else if exitCode(err) != 2 || !strings.Contains(out, "chain: BROKEN at seq 3") {
				t.Errorf("report after tampering: exit %d, output:\n%s", exitCode(err), out)
			}
		})
	}
}

// rehashedFrom returns the UPDATEs of a forger who changes record seq's
// subject and recomputes every later hash so the chain links again.
func rehashedFrom(t *testing.T, dir string, seq int64, subject string) []string {
	t.Helper()
	st, err := auditlog.OpenSQLite(context.Background(), filepath.Join(dir, "governance.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.Search(context.Background(), audit.Query{AfterSeq: seq - 1})
	if err != nil {
		t.Fatal(err)
	}
	var stmts []string
	prev := recs[0].PrevHash
	for i := range recs {
		r := &recs[i]
		if r.Seq == seq {
			r.Subject = subject
		}
		r.PrevHash = prev
		r.Hash = auditlog.ComputeHash(r)
		prev = r.Hash
		stmts = append(stmts, fmt.Sprintf(`UPDATE access_audit SET subject = '%s', prev_hash = '%s', hash = '%s' WHERE seq = %d`, r.Subject, r.PrevHash, r.Hash, r.Seq))
	}
	return stmts
}
