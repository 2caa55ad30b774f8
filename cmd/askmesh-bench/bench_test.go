package main

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
)

// bench load against a demo server: every question answered, every tool
// call the answers cite recorded exactly once, the chain intact; the audit
// log, read with plain SQL, agrees with the report.
func TestBenchLoadChecksTheAuditLog(t *testing.T) {
	dir := banktest.PrivateDir(t)
	// The per-user limits (requests, tool calls, model turns) would turn a
	// load test into a test of 429s.
	cfg := filepath.Join(t.TempDir(), "askmesh.yaml")
	if err := os.WriteFile(cfg, []byte("web:\n  limits:\n    rate_per_minute: -1\nlimits:\n  tool_calls_per_minute: -1\n  concurrent_tool_calls: -1\n  model_turns_per_minute: -1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ASKMESH_CONFIG", cfg)
	base := startDemo(t, dir)

	out, err := run(t, dir, "load", "--url", base, "--concurrency", "3", "--duration", "1500ms", "--json")
	if err != nil {
		t.Fatalf("bench load: %v\n%s", err, out)
	}
	// run mixes stderr (one progress line) into out; the report is the JSON.
	var rep loadReport
	if err := json.Unmarshal([]byte(out[max(0, strings.Index(out, "{\n")):]), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out)
	}
	if rep.Requests == 0 || rep.OK != rep.Requests || rep.Errors != 0 {
		t.Errorf("requests %d, ok %d, errors %d (%v); want all answered", rep.Requests, rep.OK, rep.Errors, rep.ErrorsByKind)
	}
	if len(rep.Users) != len(defaultLoadUsers) || rep.Concurrency != 3 {
		t.Errorf("report users %v, concurrency %d", rep.Users, rep.Concurrency)
	}
	if rep.Latency.P50 <= 0 || rep.Latency.P99 < rep.Latency.P50 || rep.Latency.Max < rep.Latency.P99 {
		t.Errorf("latency percentiles out of order: %+v", rep.Latency)
	}
	// frank (intern) is denied every data query: denials are tool calls too.
	if rep.ToolCalls == 0 || rep.Denials == 0 {
		t.Errorf("tool calls %d, denials %d; want both", rep.ToolCalls, rep.Denials)
	}
	a := rep.Audit
	if !a.Passed || !a.ChainOK || a.Missing != 0 || a.Duplicates != 0 || a.Unreported != 0 || a.FromFailed != 0 {
		t.Errorf("audit check: %+v", a)
	}
	if a.Reported != rep.ToolCalls || a.RunRecords != rep.ToolCalls {
		t.Errorf("audit: %d records of the run, %d reported, %d tool calls; want all equal", a.RunRecords, a.Reported, rep.ToolCalls)
	}

	// Independently: the run's records, counted in the SQLite file itself.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "governance.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, distinct, denied int
	err = db.QueryRow(`SELECT count(*), count(DISTINCT id), count(*) FILTER (WHERE decision = 'deny')
		FROM access_audit WHERE seq > ?`, a.AfterSeq).Scan(&n, &distinct, &denied)
	if err != nil {
		t.Fatal(err)
	}
	if n != rep.ToolCalls || distinct != n {
		t.Errorf("governance.db holds %d records (%d distinct ids) of the run; the answers cite %d tool calls", n, distinct, rep.ToolCalls)
	}
	if denied < rep.Denials {
		t.Errorf("governance.db holds %d denials of the run; the answers report %d", denied, rep.Denials)
	}

	// The text report names every figure.
	out, err = run(t, dir, "load", "--url", base, "--concurrency", "2", "--duration", "300ms", "--token-for", "carol,frank")
	if err != nil {
		t.Fatalf("bench load (text): %v\n%s", err, out)
	}
	for _, want := range []string{"p50", "p90", "p99", "errors", "tool calls", "missing 0, duplicates 0, unreported 0", "chain   intact", "audit check passed"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
}

func TestBenchLoadRefusesRemoteServers(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"http://example.com:8080", "http://10.0.0.5:8080", "ftp://127.0.0.1/"} {
		out, err := run(t, t.TempDir(), "load", "--url", u, "--duration", "1s")
		if err == nil {
			t.Errorf("bench load --url %s ran:\n%s", u, out)
		}
	}
	if _, err := loopbackOnly("http://[::1]:8080"); err != nil {
		t.Errorf("::1 refused: %v", err)
	}
}

// The report names machine, reproduction, every row's value, baseline,
// ratio and target, and says plainly which targets were missed.
// A run carries over the profiles of the report it replaces, so that a
// change's before and after stand side by side.
func TestBenchReportKeepsPreviousProfiles(t *testing.T) {
	t.Parallel()
	old := &benchReport{CPU: "Test CPU", Cores: 2, Started: time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC), LoadBefore: "0.1", LoadAfter: "0.1", Sections: []*benchSection{
		{Title: "Audit", What: "appends", Rows: []benchRow{{Case: "64 writers", Value: "9,000/s", Target: "≥ 0.5x", Met: met(false)}},
			Profile: "CPU by package: Go runtime 70%\nencoding/json 20%"},
		{Title: "Search", What: "search", Rows: []benchRow{{Case: "10,000 products", Value: "100 µs", Target: "< 2 ms", Met: met(true)}}},
	}}
	path := filepath.Join(t.TempDir(), "benchmarks.md")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.write(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	prev, since := previousProfiles(path)
	if want := map[string]string{"Audit": "CPU by package: Go runtime 70%\nencoding/json 20%"}; !reflect.DeepEqual(prev, want) || since != "2026-12-01 09:30 UTC" {
		t.Fatalf("previous profiles = %q since %q, want %q since 2026-12-01 09:30 UTC", prev, since, want)
	}
	next := &benchReport{CPU: "Test CPU", Cores: 2, LoadBefore: "0.1", LoadAfter: "0.1", Sections: []*benchSection{
		{Title: "Audit", What: "appends", Profile: "CPU by package: Go runtime 40%", Previous: prev["Audit"], Since: since}}}
	var b strings.Builder
	if err := next.write(&b); err != nil {
		t.Fatal(err)
	}
	want := "For comparison, the CPU profile the previous report (2026-12-01 09:30 UTC) gave here:\n\n```\nCPU by package: Go runtime 70%\nencoding/json 20%\n```"
	if md := b.String(); !strings.Contains(md, want) || !strings.Contains(md, "Go runtime 40%") {
		t.Errorf("report lacks the previous profile %q:\n%s", want, md)
	}
	if p, _ := previousProfiles(filepath.Join(t.TempDir(), "missing.md")); p != nil {
		t.Errorf("a missing report gave profiles %q", p)
	}
}

func TestBenchReportMarkdown(t *testing.T) {
	t.Parallel()
	rep := &benchReport{CPU: "Test CPU", Cores: 2, LoadBefore: "0.10 0.20 0.30", LoadAfter: "0.40 0.50 0.60", Sections: []*benchSection{
		{Title: "Audit", What: "appends", Rows: []benchRow{{Case: "64 writers", Value: "9,000/s", Baseline: "40,000/s", Ratio: "0.23x", Target: "≥ 20,000/s", Met: met(false)}},
			Profile: "CPU by package: Go runtime 70%"},
		{Title: "Search", What: "search", Rows: []benchRow{{Case: "10,000 products", Value: "100 µs", Baseline: "1 ms", Ratio: "0.10x", Target: "< 2 ms", Met: met(true)}}},
	}}
	var b strings.Builder
	if err := rep.write(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{"Test CPU", "go1.", "make bench", "| Audit: 64 writers | ≥ 20,000/s | **not met** |",
		"| Search: 10,000 products | < 2 ms | met |", "| 64 writers | 9,000/s | 40,000/s | 0.23x | ≥ 20,000/s | **not met** |",
		"CPU by package: Go runtime 70%", "0.10 0.20 0.30 at the start"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "machine was busy") {
		t.Error("a quiet machine reported busy")
	}
}

func TestByPackage(t *testing.T) {
	t.Parallel()
	top := `      flat  flat%   sum%        cum   cum%
     0.63s 15.71% 15.71%      1.79s 44.64%  modernc.org/sqlite/lib._sqlite3VdbeExec
     0.26s  6.48% 22.19%      0.26s  6.48%  runtime.futex
     0.20s  5.00% 27.19%      0.30s  7.00%  github.com/askmesh/askmesh/audit.(*chain).Append
     0.10s  2.50% 29.69%      0.10s  2.50%  modernc.org/libc.X
`
	got, kept := byPackage(top)
	if want := "SQLite (modernc) 18%, Go runtime (GC, allocation, scheduler) 6%, askmesh/audit 5%"; got != want {
		t.Errorf("byPackage = %q, want %q", got, want)
	}
	if kept < 29.6 || kept > 29.8 {
		t.Errorf("byPackage kept %.2f%% of the samples, want 29.69%%", kept)
	}
}

// TestBenchOnly runs one section alone and refuses what would lose figures:
// a name no section has, and a partial report written over a whole one.
func TestBenchOnly(t *testing.T) {
	dir := t.TempDir()
	out, err := run(t, dir, "--quick", "--only", "prompt size")
	if err != nil {
		t.Fatalf("--only prompt size: %v\n%s", err, out)
	}
	if !strings.Contains(out, "## Prompt size") || strings.Contains(out, "## Catalog search") {
		t.Fatalf("--only prompt size printed other sections or none:\n%s", out)
	}
	if out, err := run(t, dir, "--only", "prompt sise"); err == nil || !strings.Contains(err.Error(), `no such section`) {
		t.Fatalf("--only with an unknown section: %v\n%s", err, out)
	}
	report := filepath.Join(dir, "benchmarks.md")
	if err := os.WriteFile(report, []byte("whole report"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, dir, "--only", "prompt size", "--out", report); err == nil {
		t.Fatal("--only with --out replaced a whole report with a partial one")
	}
	if b, _ := os.ReadFile(report); string(b) != "whole report" {
		t.Fatalf("the report was written over: %q", b)
	}
}
