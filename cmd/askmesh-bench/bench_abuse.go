package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/askmesh/askmesh/adapters/channels/web"
	"github.com/askmesh/askmesh/adapters/models/openai"
	"github.com/askmesh/askmesh/adapters/models/openai/openaitest"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/tools"
)

// The mixed-abuse run (issue 14): while well-behaved users ask questions,
// one abusive user sends what the attack review used against the server:
// MCP JSON-RPC batches, request bodies that trickle in (slowloris) on
// /v1/chat and on the unauthenticated /slack/events, and oversized client
// history on /v1/chat/completions. The well-behaved users' latency is
// measured without and then with the abuse; their p99 ratio is the figure.
// Everything is on loopback and bounded in count (abuseSlowConns
// connections, one request at a time per other abuser) and in time (the
// abuse stops with the measured phase).

const (
	abuseSlowConns = 16 // slow-body connections held open at once
	abuseBatch     = 10 // tools/call per MCP batch (the most an older client may send)
	abuseHistory   = 200
)

// abuseStats counts what the abuser sent and how the server answered.
type abuseStats struct {
	Batches      atomic.Int64
	BatchRefused atomic.Int64
	SlowBodies   atomic.Int64
	SlowCut      atomic.Int64 // answered (408, 429) or closed before the body was complete
	Histories    atomic.Int64
}

// abuseReport is the abuse part of a load report.
type abuseReport struct {
	Abuser          string  `json:"abuser"`
	BaselineP99MS   float64 `json:"baseline_p99_ms"`
	AbusedP99MS     float64 `json:"abused_p99_ms"`
	P99Ratio        float64 `json:"p99_ratio"`
	BaselineOK      int     `json:"baseline_answered"`
	AbusedOK        int     `json:"abused_answered"`
	AbusedErrors    int     `json:"abused_errors"`
	MCPBatches      int64   `json:"mcp_batches"`
	MCPBatchRefused int64   `json:"mcp_batches_refused"`
	SlowBodies      int64   `json:"slow_bodies"`
	SlowBodiesCut   int64   `json:"slow_bodies_cut"`
	Histories       int64   `json:"oversized_histories"`
}

func (s *abuseStats) report(r *abuseReport) {
	r.MCPBatches, r.MCPBatchRefused = s.Batches.Load(), s.BatchRefused.Load()
	r.SlowBodies, r.SlowBodiesCut = s.SlowBodies.Load(), s.SlowCut.Load()
	r.Histories = s.Histories.Load()
}

// abuse runs the abusers against base as token's user until ctx ends.
func abuse(ctx context.Context, base, token string, st *abuseStats) {
	u, err := url.Parse(base)
	if err != nil || !loopbackHost(u.Hostname()) {
		return // loopback only, as the load command checks
	}
	client := pooledClient()
	client.Timeout = 30 * time.Second
	defer client.CloseIdleConnections()
	var wg sync.WaitGroup
	run := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				f()
			}
		}()
	}
	batch := rpcBatchBody(abuseBatch)
	huge := rpcBatchBody(1000)
	run(func() { // MCP batches: a bounded one an older client may send, and a thousand
		for _, b := range []struct {
			body, version string
		}{{batch, "2025-03-26"}, {huge, ""}} {
			st.Batches.Add(1)
			status := post(ctx, client, base+"/mcp", token, b.body, map[string]string{
				"Accept": "application/json, text/event-stream", "Mcp-Protocol-Version": b.version})
			if status != http.StatusOK {
				st.BatchRefused.Add(1)
			}
		}
	})
	history := historyBody(abuseHistory)
	run(func() { // oversized client history
		st.Histories.Add(1)
		post(ctx, client, base+"/v1/chat/completions", token, history, nil)
	})
	for i := range abuseSlowConns { // slow bodies, half on the chat, half on Slack's route
		path := "/v1/chat"
		if i%2 == 1 {
			path = "/slack/events"
		}
		run(func() {
			st.SlowBodies.Add(1)
			if slowBody(ctx, u.Host, path, token) {
				st.SlowCut.Add(1)
			}
		})
	}
	wg.Wait()
}

func rpcBatchBody(n int) string {
	msgs := make([]string, n)
	for i := range msgs {
		msgs[i] = fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":{"query":"loans"}}}`, i+1, tools.ToolSearch)
	}
	return "[" + strings.Join(msgs, ",") + "]"
}

func historyBody(n int) string {
	var b strings.Builder
	b.WriteString(`{"model":"askmesh","messages":[`)
	for i := range n {
		role := "user"
		if i%2 == 1 {
			role = "assistant"
		}
		fmt.Fprintf(&b, `{"role":%q,"content":%q},`, role, strings.Repeat("y", 4500))
	}
	b.WriteString(`{"role":"user","content":"` + benchQuestion + `"}]}`)
	return b.String()
}

// post sends one request and drains the answer; it returns the status
// (0 when the request failed).
func post(ctx context.Context, c *http.Client, target, token, body string, header map[string]string) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	res, err := c.Do(req)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode
}

// slowBody opens a connection, announces a 1,000-byte body and sends one
// byte every 200 ms; it reports whether the server cut it off (answered or
// closed) before the body was complete.
func slowBody(ctx context.Context, host, path, token string) bool {
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		sleepCtx(ctx, 100*time.Millisecond)
		return false
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n", path, host, token)
	answered := make(chan struct{})
	go func() {
		_, _ = bufio.NewReader(conn).ReadString('\n')
		close(answered)
	}()
	for range 1000 {
		select {
		case <-answered:
			sleepCtx(ctx, 100*time.Millisecond) // a refused abuser comes back, not in a tight loop
			return true
		case <-ctx.Done():
			return false
		case <-time.After(200 * time.Millisecond):
		}
		if _, err := conn.Write([]byte{' '}); err != nil {
			return true
		}
	}
	return false
}

// wellBehaved asks questions from clients, each as one of users in turn,
// one question after the other, for n questions each; it returns the
// latencies of the answered ones and the number of errors.
func wellBehaved(ctx context.Context, base string, users []string, clients, n int) (durations, int, error) {
	c := pooledClient()
	c.Timeout = 2 * time.Minute
	defer c.CloseIdleConnections()
	var (
		mu    sync.Mutex
		lat   durations
		errs  int
		first error
		wg    sync.WaitGroup
	)
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				t0 := time.Now()
				_, _, err := ask(ctx, c, base, demoToken(users[(w+i)%len(users)]), loadQuestions[(w+i)%len(loadQuestions)], "")
				mu.Lock()
				if err != nil {
					errs++
					first = cmp.Or(first, err)
				} else {
					lat = append(lat, time.Since(t0))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return lat, errs, first
}

// abuseLimits are the served budgets of this run: as `askmesh serve` sets
// them, with the per-user tool call and model turn rates raised so that a
// well-behaved user asking back to back stays within them; the abuser is
// held by the same budgets.
var abuseLimits = tools.Limits{ToolCallsPerMinute: 1200, ToolCallBurst: 100, ModelTurnsPerMinute: 1200, ModelTurnBurst: 100}

// benchAbuse is the docs/benchmarks.md section of the mixed-abuse run.
func (e *benchEnv) benchAbuse() *benchSection {
	users := []string{"carol", "alice", "bob", "erin"}
	const abuser = "frank"
	sec := &benchSection{Title: "Well-behaved users under abuse",
		What: fmt.Sprintf("The real web server on loopback as `askmesh serve` runs it (per-user budgets on: %.0f tool calls and %.0f model turns a minute, bursts %d; body timeout, batch bound and history bound at their defaults), answering with the OpenAI adapter and the scripted model (%s a turn, two turns a question). %d clients ask the load questions as %s, one question after the other: first alone (baseline), then while %s abuses the server: MCP JSON-RPC batches (%d `tools/call` as a 2025-03-26 client, and 1,000 with no version) back to back, %d connections at a time trickling request bodies (one byte every 200 ms) into `/v1/chat` and `/slack/events`, and `/v1/chat/completions` requests with %d earlier messages of 4.5 KB. Figure: the well-behaved users' p99 under abuse against their p99 alone, as a ratio.",
			abuseLimits.ToolCallsPerMinute, abuseLimits.ModelTurnsPerMinute, abuseLimits.ToolCallBurst, fmtDur(modelTurn), 8, strings.Join(users, ", "), abuser, abuseBatch, abuseSlowConns, abuseHistory)}
	tb := &cleanupTB{}
	defer tb.close()
	ms := openaitest.NewServer(tb)
	ms.SetLatency(modelTurn)
	ms.SetResponder(benchScript)
	model, err := openai.New(openai.Config{BaseURL: ms.BaseURL(), APIKey: "bench", Model: "gpt-bench", HTTPClient: pooledClient(), MaxRetries: -1})
	if err != nil {
		sec.Err = err
		return sec
	}
	a, err := app.Build(e.ctx, app.Config{DataDir: e.dataDir, Now: benchNow.Format(time.RFC3339), Limits: abuseLimits},
		app.WithLogger(discardLogger()), app.WithModel(model), app.WithLimits())
	if err != nil {
		sec.Err = err
		return sec
	}
	defer a.Close()
	// Slack's route as the server guards it: per address, small bodies, the
	// body timeout; the stand-in handler itself reads nothing.
	slack := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	srv, err := web.New(web.Options{Agent: a.Agent, Executor: a.Tools, Directory: a.Directory, Audit: a.Audit, Catalog: a.Catalog,
		Logger: discardLogger(), Demo: true, Limits: web.Limits{RatePerMinute: -1, ShutdownTimeout: 10 * time.Second},
		Routes: map[string]http.Handler{"POST /slack/events": slack}})
	if err != nil {
		sec.Err = err
		return sec
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		sec.Err = err
		return sec
	}
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	base := "http://" + ln.Addr().String()

	rep, err := measureAbuse(e.ctx, base, users, abuser, 8, e.n(6))
	if err != nil {
		sec.Err = err
		return sec
	}
	ok := rep.AbusedErrors == 0 && rep.P99Ratio <= 2
	sec.Rows = append(sec.Rows, benchRow{Case: fmt.Sprintf("p99 of %d well-behaved questions, under abuse", rep.AbusedOK),
		Value:    fmt.Sprintf("%s (%d errors)", fmtDur(time.Duration(rep.AbusedP99MS*float64(time.Millisecond))), rep.AbusedErrors),
		Baseline: fmt.Sprintf("%s without abuse (%d questions)", fmtDur(time.Duration(rep.BaselineP99MS*float64(time.Millisecond))), rep.BaselineOK),
		Ratio:    fmtRatio(rep.P99Ratio), Target: "≤ 2×, no errors", Met: met(ok)})
	sec.Notes = append(sec.Notes, fmt.Sprintf("The abuser sent %d MCP batches (%d refused: the 1,000-message ones), %d slow bodies (%d cut off by the server before they were complete) and %d oversized histories while the well-behaved users asked.",
		rep.MCPBatches, rep.MCPBatchRefused, rep.SlowBodies, rep.SlowBodiesCut, rep.Histories))
	sec.Notes = append(sec.Notes, "The same run against a server you started: `askmesh-bench load --url URL --abuse` (loopback only).")
	return sec
}

// measureAbuse asks as users from clients, n questions each, first alone,
// then while abuser abuses the server at base.
func measureAbuse(ctx context.Context, base string, users []string, abuser string, clients, n int) (*abuseReport, error) {
	_, _, _ = wellBehaved(ctx, base, users, len(users), 1) // warm-up
	calm, calmErrs, err := wellBehaved(ctx, base, users, clients, n)
	if len(calm) == 0 || calmErrs > 0 {
		return nil, fmt.Errorf("without abuse, %d of %d questions failed; the first: %w", calmErrs, clients*n, err)
	}
	var st abuseStats
	actx, stop := context.WithCancel(ctx)
	abused := make(chan struct{})
	go func() { abuse(actx, base, demoToken(abuser), &st); close(abused) }()
	sleepCtx(ctx, time.Second) // the abusers get going
	lat, errs, _ := wellBehaved(ctx, base, users, clients, n)
	stop()
	<-abused
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	rep := &abuseReport{Abuser: abuser, BaselineP99MS: ms(calm.pct(99)), BaselineOK: len(calm), AbusedOK: len(lat), AbusedErrors: errs}
	if len(lat) > 0 {
		rep.AbusedP99MS = ms(lat.pct(99))
		rep.P99Ratio = ratio(rep.AbusedP99MS, rep.BaselineP99MS)
	}
	st.report(rep)
	return rep, nil
}

// loadAbuse is `bench load --abuse`: after the run, the mixed-abuse
// measurement against the same server, o.abuser abusing while the other
// users ask (5 questions per client each phase, so it is bounded).
func loadAbuse(ctx context.Context, o loadOptions, base string, progress io.Writer) (*abuseReport, error) {
	var users []string
	for _, u := range o.users {
		if u != o.abuser && demoToken(u) != demoToken(o.abuser) {
			users = append(users, u)
		}
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("bench load --abuse: every --token-for user is the abuser %s", o.abuser)
	}
	fmt.Fprintf(progress, "bench load: abuse run, %s abusing while %s ask\n", o.abuser, strings.Join(users, ", "))
	return measureAbuse(ctx, base, users, o.abuser, o.concurrency, 5)
}

// abuseLine is the load report's line for the abuse run.
func (r *abuseReport) line() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "abuse       as %s: well-behaved p99 %.1f ms under abuse vs %.1f ms without: %.2fx (%d errors); %d MCP batches (%d refused), %d slow bodies (%d cut), %d oversized histories\n",
		r.Abuser, r.AbusedP99MS, r.BaselineP99MS, r.P99Ratio, r.AbusedErrors, r.MCPBatches, r.MCPBatchRefused, r.SlowBodies, r.SlowBodiesCut, r.Histories)
	return b.String()
}
