package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/pgtest"
)

// TestMain runs the tests, or, as a child the chain-lock test starts
// (selfMainEnv=1), askmesh-bench itself: the bench starts its own
// executable for each appending process.
func TestMain(m *testing.M) {
	if os.Getenv(selfMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(pgtest.Main(m))
}

// Three processes appending to one chain at once, as replicas do: every
// record acknowledged is in the chain once, and the chain verifies. (Were
// the chain head not read under the lock, two processes would chain onto
// the same head and their batches fail on the seq's uniqueness.)
func TestChainAppendsFromThreeProcesses(t *testing.T) {
	admin := pgtest.Admin(t) // skips loudly when there is no PostgreSQL
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const n, writers, records = 3, 8, 300
	rates, verified, err := chainAppendProcesses(ctx, os.Args[0], admin, n, writers, records)
	if err != nil {
		t.Fatal(err)
	}
	if verified != n*(records+chainWarmups) || len(rates) != n {
		t.Fatalf("chain of %d records from %d processes, want %d", verified, len(rates), n*(records+chainWarmups))
	}
	for i, r := range rates {
		if r <= 0 {
			t.Errorf("process %d reported %.1f records/s", i+1, r)
		}
	}
}

// Three askmesh serve processes sharing one PostgreSQL database: the load
// spread over them is recorded once per tool call in one intact chain, a
// conversation begun on one continues on another, and a Slack event
// delivered to one and retried to another is answered once. What the
// report says is checked again with plain SQL on the shared database.
func TestBenchLoadReplicas(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs three askmesh processes and PostgreSQL; not in -short")
	}
	dsn := pgtest.NewDatabase(t) // skips loudly when there is no PostgreSQL
	bin := buildAskmesh(t)
	dir := banktest.PrivateDir(t)

	out, err := run(t, dir, "load", "--replicas", "3", "--askmesh", bin, "--database-url", dsn,
		"--concurrency", "6", "--duration", "2s", "--json")
	if err != nil {
		t.Fatalf("bench load --replicas 3: %v\n%s", err, out)
	}
	var rep loadReport
	if err := json.Unmarshal([]byte(out[max(0, strings.Index(out, "{\n")):]), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out)
	}
	if rep.Requests == 0 || rep.OK != rep.Requests || rep.Errors != 0 {
		t.Errorf("requests %d, ok %d, errors %d (%v); want all answered", rep.Requests, rep.OK, rep.Errors, rep.ErrorsByKind)
	}
	if len(rep.Servers) != 3 {
		t.Fatalf("%d replicas reported, want 3: %+v", len(rep.Servers), rep.Servers)
	}
	sum := 0
	for i, s := range rep.Servers {
		if s.Answered == 0 || s.PerSecond <= 0 || s.CPUMS <= 0 {
			t.Errorf("replica %d: %+v; want answers, a rate and its CPU", i+1, s)
		}
		sum += s.Answered
	}
	if sum != rep.OK || rep.CPUPerQuestionMS <= 0 {
		t.Errorf("replicas answered %d in all, the run %d; CPU per question %.3f ms", sum, rep.OK, rep.CPUPerQuestionMS)
	}
	a := rep.Audit
	if !a.Passed || !a.ChainOK || a.Missing != 0 || a.Duplicates != 0 || a.Unreported != 0 || a.FromFailed != 0 {
		t.Errorf("audit check: %+v", a)
	}
	if rep.ToolCalls == 0 || a.Reported != rep.ToolCalls || a.RunRecords != rep.ToolCalls {
		t.Errorf("audit: %d records of the run, %d reported, %d tool calls; want all equal and not 0", a.RunRecords, a.Reported, rep.ToolCalls)
	}
	if rep.Calls == nil || !rep.Calls.OK || rep.Calls.Made != rep.Calls.Recorded || rep.Calls.Made < rep.ToolCalls {
		t.Errorf("tool calls the model asked for vs records: %+v (the load's answers cite %d)", rep.Calls, rep.ToolCalls)
	}
	c := rep.Continuation
	if c == nil || !c.OK || !c.HistorySent || c.FirstReplica == c.SecondReplica || c.Conversation == "" {
		t.Errorf("conversation across replicas: %+v", c)
	}
	sc := rep.SlackRetry
	if sc == nil || !sc.OK || sc.Placements != 1 || sc.Answers != 1 || sc.Records != 1 || sc.Replicas[0] == sc.Replicas[1] ||
		sc.Acked[0] != 200 || sc.Acked[1] != 200 {
		t.Errorf("slack retry across replicas: %+v", sc)
	}

	// Independently, in the shared database.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	count := func(sql string, args ...any) int {
		t.Helper()
		var n int
		if err := conn.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return n
	}
	// The replicas' records: the chain as it was before, then one record
	// per tool call the model asked for (warm-ups, conversation, Slack, load).
	if n, d := count(`SELECT count(*) FROM governance.access_audit WHERE seq > $1`, a.AfterSeq),
		count(`SELECT count(DISTINCT id) FROM governance.access_audit WHERE seq > $1`, a.AfterSeq); n != rep.Calls.Made || d != n {
		t.Errorf("the shared chain gained %d records (%d distinct ids); the model asked for %d tool calls", n, d, rep.Calls.Made)
	}
	// One chain: seqs 1..n without a gap or a fork, each record linked to
	// the one before it.
	total := count(`SELECT count(*) FROM governance.access_audit`)
	if top := count(`SELECT coalesce(max(seq), 0) FROM governance.access_audit`); top != total || total == 0 {
		t.Errorf("%d records, highest seq %d", total, top)
	}
	if n := count(`SELECT count(*) FROM governance.access_audit a LEFT JOIN governance.access_audit p ON p.seq = a.seq - 1
		WHERE a.seq > 1 AND (p.hash IS NULL OR a.prev_hash <> p.hash)`); n != 0 {
		t.Errorf("%d records do not link to the record before them", n)
	}
	if n := count(`SELECT count(*) FROM governance.access_audit WHERE channel = 'slack'`); n != 1 {
		t.Errorf("%d audit records of channel slack for one event delivered twice", n)
	}
	if n := count(`SELECT count(*) FROM askmesh_slack_events WHERE event_id = $1`, sc.EventID); n != 1 {
		t.Errorf("%d rows for event %s in askmesh_slack_events", n, sc.EventID)
	}
	var history string
	if err := conn.QueryRow(ctx, `SELECT messages::text FROM askmesh_conversations WHERE id = $1`, c.Conversation).Scan(&history); err != nil {
		t.Fatalf("conversation %s: %v", c.Conversation, err)
	}
	if !strings.Contains(history, "turn 1)") || !strings.Contains(history, "turn 2)") {
		t.Errorf("the stored conversation lacks a turn: %.400s", history)
	}
}
