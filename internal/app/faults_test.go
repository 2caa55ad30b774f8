package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/askmesh/askmesh/adapters/models/openai"
	"github.com/askmesh/askmesh/adapters/models/openai/openaitest"
	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/internal/pgtest"
	"github.com/askmesh/askmesh/tools"
)

// Fault tests really break things: the audit database is stopped under load
// and started again, the model server misbehaves, a product's database goes
// missing. Slack's 429s are covered by adapters/slack's
// TestRateLimitedPostIsRetried.

const acquisitionQuestion = "How many new customers did we acquire last month, compared with the month before?"

// loadCall is one call of the audit-outage load.
type loadCall struct {
	reqID        string
	phaseStart   int32 // phase when the call started and when it ended
	phaseEnd     int32
	res          *tools.Result
	err          error
	answerTables int
	auditIDs     []string // every record the call made (an answer may make several)
}

const (
	phaseUp int32 = iota
	phaseStopping
	phaseDown
	phaseStarting
	phaseRecovered
)

func TestAuditPostgresOutageFailsClosedAndRecovers(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts and stops a PostgreSQL cluster")
	}
	cluster := pgtest.StartCluster(t)
	dir := banktest.PrivateDir(t)
	cfg := app.Config{DataDir: dir, Now: banktest.Now.Format(time.RFC3339)}
	cfg.Audit.Postgres = cluster.DSN()
	a, err := app.Build(context.Background(), cfg, app.WithLogger(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })

	type work struct {
		user string
		tool string
		args string
	}
	mix := []work{
		{"carol", tools.ToolQueryMetrics, `{"product":"customer-acquisition","metrics":["new_customers"],"time_range":"last_month"}`},
		{"alice", tools.ToolQueryRecords, `{"product":"marketing-campaigns","columns":["campaign_id","name"],"limit":5}`},
		{"frank", tools.ToolQueryRecords, `{"product":"customers"}`}, // a denial needs its record too
		// The audit log as a product reads the same PostgreSQL through the product store's own pool.
		{"dave", tools.ToolQueryMetrics, `{"product":"access-audit","metrics":["access_count"],"group_by":["decision"]}`},
		{"bob", tools.ToolGetRecord, `{"product":"loan-applications","id":"loan-000001"}`},
	}
	var (
		phase   atomic.Int32
		seq     atomic.Int64
		mu      sync.Mutex
		calls   []*loadCall
		okAfter atomic.Int64 // successes that started after the restart
		okUp    atomic.Int64
		downEnd atomic.Int64 // calls wholly inside the outage
		stop    = make(chan struct{})
		wg      sync.WaitGroup
	)
	oneCall := func(worker int) {
		n := seq.Add(1)
		w := mix[int(n)%len(mix)]
		lc := &loadCall{reqID: fmt.Sprintf("load-%d", n), phaseStart: phase.Load()}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		caller := tools.Caller{Subject: a.Directory.Lookup(userID(w.user)), Channel: "fault", RequestID: lc.reqID, ConversationID: lc.reqID}
		if worker == 0 && n%4 == 0 {
			// Whole questions through the agent too: nothing half-answered.
			caller.Subject = a.Directory.Lookup(userID("carol"))
			ans, err := a.Agent.Answer(ctx, assistant.Request{Caller: caller, Question: acquisitionQuestion})
			lc.err = err
			if err == nil {
				lc.answerTables = len(ans.Tables)
				lc.res = &tools.Result{Tool: "answer"}
				for _, tc := range ans.ToolCalls {
					lc.auditIDs = append(lc.auditIDs, tc.AuditID)
					if tc.Decision != audit.DecisionAllow {
						lc.res, lc.err = nil, errors.New(tc.Error)
					}
				}
				if len(ans.ToolCalls) == 0 {
					lc.err = fmt.Errorf("no tool call made: %q", ans.Text)
				}
			}
		} else {
			lc.res, lc.err = a.Executor.Call(ctx, caller, tools.Call{Tool: w.tool, Arguments: json.RawMessage(w.args)})
		}
		lc.phaseEnd = phase.Load()
		if lc.res != nil && lc.res.AuditID != "" {
			lc.auditIDs = []string{lc.res.AuditID}
		}
		var denied *tools.DeniedError
		if errors.As(lc.err, &denied) {
			lc.res, lc.err = &tools.Result{Tool: w.tool}, nil // a recorded refusal: a success here
			lc.auditIDs = []string{denied.AuditID}
		}
		switch {
		case lc.err == nil && lc.phaseStart == phaseUp && lc.phaseEnd == phaseUp:
			okUp.Add(1)
		case lc.err == nil && lc.phaseStart == phaseRecovered:
			okAfter.Add(1)
		case lc.phaseStart == phaseDown && lc.phaseEnd == phaseDown:
			downEnd.Add(1)
		}
		mu.Lock()
		calls = append(calls, lc)
		mu.Unlock()
	}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					oneCall(w)
				}
			}
		}()
	}
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				close(stop)
				wg.Wait()
				t.Fatalf("gave up waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitUntil("calls to succeed", func() bool { return okUp.Load() >= 100 })
	phase.Store(phaseStopping)
	cluster.Stop(t)
	phase.Store(phaseDown)
	waitUntil("calls during the outage", func() bool { return downEnd.Load() >= 40 })
	phase.Store(phaseStarting)
	cluster.Start(t)
	phase.Store(phaseRecovered)
	waitUntil("calls to succeed after the restart", func() bool { return okAfter.Load() >= 100 })
	close(stop)
	wg.Wait()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	recs, err := a.Audit.Search(ctx, audit.Query{})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]int{}
	byReq := map[string]int{}
	allowedReq := map[string]int{}
	for _, r := range recs {
		byID[r.ID]++
		byReq[r.RequestID]++
		if r.Decision == audit.DecisionAllow {
			allowedReq[r.RequestID]++
		}
	}
	var succeeded, failed, inOutage, edge, recorded int
	for _, lc := range calls {
		wholeOutage := lc.phaseStart == phaseDown && lc.phaseEnd == phaseDown
		if byReq[lc.reqID] > 1 {
			t.Errorf("%s: %d audit records for one call", lc.reqID, byReq[lc.reqID])
		}
		if lc.err == nil {
			succeeded++
			if wholeOutage {
				t.Errorf("%s succeeded while the audit store was down", lc.reqID)
			}
			if len(lc.auditIDs) == 0 || byReq[lc.reqID] != len(lc.auditIDs) {
				t.Errorf("%s succeeded with %d audit ids but %d records", lc.reqID, len(lc.auditIDs), byReq[lc.reqID])
			}
			for _, id := range lc.auditIDs {
				if byID[id] != 1 {
					t.Errorf("%s succeeded but its audit record %q appears %d times", lc.reqID, id, byID[id])
				}
			}
			recorded += len(lc.auditIDs)
			continue
		}
		failed++
		if lc.res != nil || lc.answerTables > 0 {
			t.Errorf("%s failed yet returned data", lc.reqID)
		}
		var unavailable *tools.UnavailableError
		if !errors.Is(lc.err, tools.ErrAuditUnavailable) && !errors.As(lc.err, &unavailable) && !strings.Contains(lc.err.Error(), tools.ErrAuditUnavailable.Error()) {
			t.Errorf("%s failed with an unclear error: %v", lc.reqID, lc.err)
		}
		if wholeOutage {
			inOutage++
			if byReq[lc.reqID] != 0 {
				t.Errorf("%s failed during the outage but left a record", lc.reqID)
			}
		} else if byReq[lc.reqID] != 0 {
			// A failure recorded as such (the product's own pool failed while
			// the audit store was back), or, for an allow record, a COMMIT
			// that landed as the connection died: the caller got no data,
			// the safe side of an ambiguous commit.
			edge += byReq[lc.reqID]
			if allowedReq[lc.reqID] > 0 {
				t.Logf("%s (phases %d..%d) failed, yet its allow record landed: %v", lc.reqID, lc.phaseStart, lc.phaseEnd, lc.err)
			}
		}
	}
	if inOutage < 40 {
		t.Fatalf("only %d calls ran wholly inside the outage", inOutage)
	}
	// No record without a call: every record is a success's, or an ambiguous one's.
	if len(recs) != recorded+edge {
		t.Errorf("%d audit records for %d records of successful calls (+%d of failures at the edges)", len(recs), recorded, edge)
	}
	v, err := a.Audit.Verify(ctx)
	if err != nil || !v.OK || v.Records != int64(len(recs)) {
		t.Fatalf("audit chain after the outage: %+v %v", v, err)
	}
	// The stack recovered without a rebuild: the last calls all succeeded.
	last := calls[len(calls)-40:]
	for _, lc := range last {
		if lc.err != nil {
			t.Errorf("%s failed after recovery: %v", lc.reqID, lc.err)
		}
	}
	t.Logf("%d calls: %d succeeded, %d failed (%d wholly during the outage, %d recorded at its edges), %d audit records, chain ok",
		len(calls), succeeded, failed, inOutage, edge, len(recs))
}

// modelStack is the real stack behind an OpenAI-compatible model server.
func modelStack(t *testing.T, timeout time.Duration) (*app.App, *openaitest.Server) {
	t.Helper()
	srv := openaitest.NewServer(t)
	m, err := openai.New(openai.Config{BaseURL: srv.BaseURL(), APIKey: "test", Model: "scripted", Timeout: timeout,
		MaxRetries: 2, RetryDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Build(context.Background(), app.Config{DataDir: banktest.PrivateDir(t), Now: banktest.Now.Format(time.RFC3339)},
		app.WithModel(m), app.WithLogger(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a, srv
}

func TestModelServerFaults(t *testing.T) {
	t.Parallel()
	metricsCall := openaitest.ToolCall{Name: tools.ToolQueryMetrics,
		Arguments: `{"product":"customer-acquisition","metrics":["new_customers"],"time_range":"last_month"}`}
	cases := []struct {
		name  string
		steps []openaitest.Step
		// calls is how many tool calls the model made before failing.
		calls int
		// ok: the retries absorb the fault and the question is answered.
		ok bool
	}{
		{name: "500s", steps: []openaitest.Step{{Status: 500}, {Status: 500}, {Status: 500}, {Status: 500}}},
		{name: "500 after a tool call", calls: 1,
			steps: []openaitest.Step{{ToolCalls: []openaitest.ToolCall{metricsCall}}, {Status: 500}, {Status: 502}, {Status: 503}, {Status: 500}}},
		{name: "timeouts", steps: []openaitest.Step{{Delay: 10 * time.Second}, {Delay: 10 * time.Second}, {Delay: 10 * time.Second}}},
		{name: "timeout after a tool call", calls: 1,
			steps: []openaitest.Step{{ToolCalls: []openaitest.ToolCall{metricsCall}}, {Delay: 10 * time.Second}, {Delay: 10 * time.Second}, {Delay: 10 * time.Second}}},
		{name: "garbage body", steps: []openaitest.Step{{Raw: "<html>502 Bad Gateway</html>"}, {Raw: "{"}, {Raw: "null"}, {Raw: "\x00\xff"}}},
		{name: "no choices", steps: []openaitest.Step{{Raw: `{"id":"x","object":"chat.completion","choices":[]}`}, {Raw: `{"choices":[]}`}, {Raw: `{"choices":[]}`}}},
		{name: "one 500 then an answer", ok: true, calls: 1,
			steps: []openaitest.Step{{Status: 500}, {ToolCalls: []openaitest.ToolCall{metricsCall}}, {Text: "There were 398 new customers last month."}}},
		{name: "429 then an answer", ok: true,
			steps: []openaitest.Step{{Status: 429, RetryAfter: "0"}, {Text: "Hello."}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, srv := modelStack(t, 300*time.Millisecond)
			steps := c.steps
			var mu sync.Mutex
			srv.SetResponder(func(openaitest.Request) openaitest.Step {
				mu.Lock()
				defer mu.Unlock()
				if len(steps) == 0 {
					return openaitest.Step{Status: 500}
				}
				s := steps[0]
				steps = steps[1:]
				return s
			})
			reqID := "model-fault-" + strings.ReplaceAll(c.name, " ", "-")
			caller := tools.Caller{Subject: a.Directory.Lookup(userID("carol")), Channel: "fault", RequestID: reqID}
			var events []assistant.Event
			var emu sync.Mutex
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			ans, err := a.Agent.Stream(ctx, assistant.Request{Caller: caller, Question: acquisitionQuestion}, func(ev assistant.Event) {
				emu.Lock()
				events = append(events, ev)
				emu.Unlock()
			})
			recs, serr := a.Audit.Search(ctx, audit.Query{})
			if serr != nil {
				t.Fatal(serr)
			}
			var mine []audit.Record
			for _, r := range recs {
				if r.RequestID == reqID {
					mine = append(mine, r)
				}
			}
			if len(mine) != c.calls {
				t.Errorf("%d audit records for %d tool calls", len(mine), c.calls)
			}
			for _, r := range mine {
				if r.Decision != audit.DecisionAllow || r.Product != "customer-acquisition" {
					t.Errorf("audit record %+v", r)
				}
			}
			if c.ok {
				if err != nil {
					t.Fatalf("not answered: %v", err)
				}
				return
			}
			// The user gets a clear error and nothing half-answered.
			if err == nil {
				t.Fatalf("answered despite the fault: %+v", ans)
			}
			if ans != nil {
				t.Errorf("a half answer came back with the error: %+v", ans)
			}
			if !errors.Is(err, assistant.ErrNoAnswer) {
				t.Errorf("error does not say there is no answer: %v", err)
			}
			var last assistant.Event
			for _, ev := range events {
				if ev.Type == assistant.EventAnswer {
					t.Errorf("an answer event was emitted: %+v", ev)
				}
				last = ev
			}
			if last.Type != assistant.EventError || !strings.Contains(last.Error, "model is unavailable") {
				t.Errorf("the last event is not a clear error: %+v", last)
			}
		})
	}
}

// dsnPassword must never reach an answer, whatever the connection error says.
const dsnPassword = "fault-test-pa55word"

func TestProductDatabaseUnavailable(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	breakDB := map[string]func(t *testing.T, cfg *app.Config){
		"sqlite file deleted": func(t *testing.T, cfg *app.Config) {
			if err := os.Remove(filepath.Join(cfg.DataDir, "growth.db")); err != nil {
				t.Fatal(err)
			}
		},
		"sqlite file corrupted": func(t *testing.T, cfg *app.Config) {
			if err := os.WriteFile(filepath.Join(cfg.DataDir, "growth.db"), []byte("this is not a database, it is a fault test"), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		"postgres down": func(t *testing.T, cfg *app.Config) {
			// Nothing listens on port 1: a stopped server, as far as a client can tell.
			cfg.Products.Postgres = "postgres://postgres:" + dsnPassword + "@127.0.0.1:1/bank?sslmode=disable&connect_timeout=2"
		},
	}
	for name, brk := range breakDB {
		t.Run(name, func(t *testing.T) {
			cfg := app.Config{DataDir: banktest.PrivateDir(t), Now: banktest.Now.Format(time.RFC3339)}
			brk(t, &cfg)
			a, err := app.Build(ctx, cfg, app.WithLogger(discardLogger()))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { a.Close() })
			caller := tools.Caller{Subject: a.Directory.Lookup(userID("carol")), Channel: "fault", RequestID: "product-down"}
			ans, err := a.Agent.Answer(ctx, assistant.Request{Caller: caller, Question: acquisitionQuestion})
			if err != nil {
				t.Fatalf("no answer at all: %v", err)
			}
			if b, _ := json.Marshal(ans); strings.Contains(string(b), dsnPassword) {
				t.Errorf("the answer shows the database password: %s", b)
			}
			// A clear answer naming the product, no data, and no denial.
			if !strings.Contains(ans.Text, "customer-acquisition") || !strings.Contains(ans.Text, "unavailable") {
				t.Errorf("the answer does not say customer-acquisition is unavailable: %q", ans.Text)
			}
			if len(ans.Tables) != 0 || len(ans.Charts) != 0 || len(ans.Denials) != 0 {
				t.Errorf("tables %d, charts %d, denials %+v", len(ans.Tables), len(ans.Charts), ans.Denials)
			}
			// Matched as words: the audit record's id (hex) may hold the digits.
			for _, n := range []string{"398", "297"} {
				if regexp.MustCompile(`\b` + n + `\b`).MatchString(ans.Text) {
					t.Errorf("the answer states %s though the data is unavailable: %q", n, ans.Text)
				}
			}
			if len(ans.ToolCalls) == 0 {
				t.Fatal("no tool call was made")
			}
			recs, err := a.Audit.Search(ctx, audit.Query{})
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != len(ans.ToolCalls) {
				t.Fatalf("%d audit records for %d tool calls", len(recs), len(ans.ToolCalls))
			}
			for i, r := range recs {
				tc := ans.ToolCalls[i]
				if r.ID != tc.AuditID || r.Decision != audit.DecisionError || r.Product != "customer-acquisition" || r.Reason == "" || r.RowsReturned != 0 {
					t.Errorf("audit record %d: %s %s %s %q rows %d (call %+v)", i, r.ID, r.Decision, r.Product, r.Reason, r.RowsReturned, tc)
				}
				if strings.Contains(r.Reason, dsnPassword) {
					t.Errorf("the audit record shows the database password: %q", r.Reason)
				}
			}

			// Straight through the executor: an UnavailableError naming the product.
			res, err := a.Executor.Call(ctx, caller, tools.Call{Tool: tools.ToolQueryMetrics,
				Arguments: json.RawMessage(`{"product":"customer-acquisition","metrics":["new_customers"],"group_by":["channel"]}`)})
			var unavailable *tools.UnavailableError
			if res != nil || !errors.As(err, &unavailable) || unavailable.Product != "customer-acquisition" || unavailable.AuditID == "" ||
				!strings.HasPrefix(err.Error(), "customer-acquisition is unavailable") {
				t.Fatalf("executor: %+v %v", res, err)
			}
			// Other products still answer (SQLite faults hit only growth.db).
			if name != "postgres down" {
				if _, err := a.Executor.Call(ctx, caller, tools.Call{Tool: tools.ToolQueryMetrics,
					Arguments: json.RawMessage(`{"product":"marketing-campaigns","metrics":["total_conversions"]}`)}); err != nil {
					t.Errorf("an unrelated product failed too: %v", err)
				}
			}
		})
	}
}
