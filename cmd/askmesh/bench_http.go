package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/askmesh/askmesh/adapters/app"
	"github.com/askmesh/askmesh/adapters/openai"
	"github.com/askmesh/askmesh/adapters/openai/openaitest"
	"github.com/askmesh/askmesh/adapters/web"
	"github.com/askmesh/askmesh/assistant"
)

// cleanupTB lets openaitest.NewServer, written for tests, run in the
// binary: it only registers its Close with Cleanup.
type cleanupTB struct {
	testing.TB
	mu  sync.Mutex
	fns []func()
}

func (t *cleanupTB) Cleanup(f func()) { t.mu.Lock(); t.fns = append(t.fns, f); t.mu.Unlock() }
func (t *cleanupTB) Helper()          {}

func (t *cleanupTB) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.fns) - 1; i >= 0; i-- {
		t.fns[i]()
	}
	t.fns = nil
}

const (
	benchQuestion = "How many new customers did we acquire last month, compared with the month before?"
	benchCallArgs = `{"product":"customer-acquisition","metrics":["new_customers"],"time_range":"last_month","compare_to":"previous_period"}`
	benchAnswer   = "Here are last month's new customers, compared with the month before; the table has the figures."
)

// benchScript is the scripted model: a query_metrics call, then, once the
// tool result is in, the answer. Two model turns per question.
func benchScript(r openaitest.Request) openaitest.Step {
	if n := len(r.Messages); n > 0 && r.Messages[n-1].Role == "tool" {
		return openaitest.Step{Text: benchAnswer}
	}
	return openaitest.Step{ToolCalls: []openaitest.ToolCall{{Name: "query_metrics", Arguments: benchCallArgs}}}
}

// scriptedModel is benchScript in-process, without latency.
type scriptedModel struct{}

func (scriptedModel) Name() string { return "scripted" }

func (scriptedModel) Generate(_ context.Context, req assistant.ModelRequest, _ func(string)) (*assistant.Reply, error) {
	if n := len(req.Messages); n > 0 && req.Messages[n-1].Role == assistant.RoleTool {
		return &assistant.Reply{Message: assistant.Message{Role: assistant.RoleAssistant, Content: benchAnswer}, FinishReason: "stop"}, nil
	}
	call := assistant.ToolCall{ID: fmt.Sprintf("call_%d", time.Now().UnixNano()), Name: "query_metrics", Arguments: json.RawMessage(benchCallArgs)}
	return &assistant.Reply{Message: assistant.Message{Role: assistant.RoleAssistant, ToolCalls: []assistant.ToolCall{call}}, FinishReason: "tool_calls"}, nil
}

func pooledClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 2000
	tr.MaxIdleConnsPerHost = 2000
	return &http.Client{Transport: tr, Timeout: 5 * time.Minute}
}

// benchServer is the real web server over the real stack, on loopback.
type benchServer struct {
	app    *app.App
	url    string
	cancel context.CancelFunc
	done   chan error
}

func (e *benchEnv) startServer(model assistant.Model) (*benchServer, error) {
	a, err := e.benchApp(app.WithModel(model))
	if err != nil {
		return nil, err
	}
	srv, err := web.New(web.Options{Agent: a.Agent, Executor: a.Executor, Directory: a.Directory, Audit: a.Audit, Catalog: a.Catalog,
		Logger: discardLogger(), Demo: true, Limits: web.Limits{RatePerMinute: -1, ShutdownTimeout: 10 * time.Second}})
	if err != nil {
		a.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		a.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(e.ctx)
	bs := &benchServer{app: a, url: "http://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { bs.done <- srv.Serve(ctx, ln) }()
	return bs, nil
}

func (s *benchServer) stop() {
	s.cancel()
	<-s.done
	s.app.Close()
}

type chatReply struct {
	ConversationID string `json:"conversation_id"`
	RequestID      string `json:"request_id"`
	Sources        []struct {
		AuditID string `json:"audit_id"`
	} `json:"sources"`
	Denials []struct {
		AuditID string `json:"audit_id"`
	} `json:"denials"`
	ToolCalls []struct {
		AuditID string `json:"audit_id"`
	} `json:"tool_calls"`
}

// ask posts one question and returns the decoded answer.
func ask(ctx context.Context, c *http.Client, base, token, question, requestID string) (*chatReply, int, error) {
	body, _ := json.Marshal(map[string]string{"message": question})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/chat", bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if requestID != "" {
		req.Header.Set("X-Request-Id", requestID)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, resp.StatusCode, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode, fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	var r chatReply
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, resp.StatusCode, fmt.Errorf("decode the answer: %w", err)
	}
	return &r, resp.StatusCode, nil
}

type driveResult struct {
	lat      durations
	errs     int
	firstErr error
	elapsed  time.Duration
}

// drive runs conc workers, each asking perWorker new-conversation questions
// one after the other, as carol and alice in turn.
func drive(ctx context.Context, c *http.Client, base string, conc, perWorker int) driveResult {
	var (
		mu  sync.Mutex
		res driveResult
		wg  sync.WaitGroup
	)
	tokens := []string{"demo-carol", "demo-alice"}
	start := time.Now()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				t0 := time.Now()
				r, _, err := ask(ctx, c, base, tokens[(w+i)%len(tokens)], benchQuestion, "")
				d := time.Since(t0)
				if err == nil && len(r.Sources) == 0 {
					err = errors.New("the answer cites no source")
				}
				mu.Lock()
				if err != nil {
					res.errs++
					if res.firstErr == nil {
						res.firstErr = err
					}
				} else {
					res.lat = append(res.lat, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

func (e *benchEnv) benchHTTP() *benchSection {
	sec := &benchSection{Title: "End-to-end HTTP chat",
		What: fmt.Sprintf("The real web server (`adapters/web`, `app.Build`: OPA, SQLite products, SQLite audit log, in-memory conversations) on loopback, with the OpenAI adapter pointed at the scripted OpenAI-compatible server (`openaitest`) answering every request after a fixed %s: a `query_metrics` call, then the answer, so two model turns per question. 1, 50 and 500 concurrent clients each ask new-conversation questions back to back (`POST /v1/chat`, as carol and alice). Baseline: the model's own time, 2 × %s; overhead = latency − model time, which includes both HTTP hops, JSON, the tool call with its audit append, and the scripted server's own handling.",
			fmtDur(modelTurn), fmtDur(modelTurn))}
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
	srv, err := e.startServer(model)
	if err != nil {
		sec.Err = err
		return sec
	}
	defer srv.stop()
	client := pooledClient()
	defer client.CloseIdleConnections()
	if _, _, err := ask(e.ctx, client, srv.url, "demo-carol", benchQuestion, ""); err != nil {
		sec.Err = fmt.Errorf("warm-up question: %w", err)
		return sec
	}
	modelTime := 2 * modelTurn
	levels := []struct{ conc, per int }{{1, e.n(15)}, {50, e.n(6)}, {500, max(1, e.n(2))}}
	var worst struct{ conc, per int }
	for _, l := range levels {
		cpu0 := cpuTime()
		r := drive(e.ctx, client, srv.url, l.conc, l.per)
		cpuPerQ := (cpuTime() - cpu0) / time.Duration(max(1, len(r.lat)+r.errs))
		if len(r.lat) == 0 {
			sec.Err = fmt.Errorf("%d concurrent: every question failed: %v", l.conc, r.firstErr)
			return sec
		}
		p50, p99 := r.lat.pct(50), r.lat.pct(99)
		over := p50 - modelTime
		row := benchRow{Case: fmt.Sprintf("%d concurrent (%s questions)", l.conc, fmtCount(int64(l.conc*l.per))),
			Value: fmt.Sprintf("p50 %s, p99 %s; %.1f questions/s; overhead p50 %s (%.2f%%), p99 %s",
				fmtDur(p50), fmtDur(p99), float64(len(r.lat))/r.elapsed.Seconds(), fmtDur(over), 100*float64(over)/float64(modelTime), fmtDur(p99-modelTime)),
			Baseline: fmtDur(modelTime) + " model time",
			Ratio:    fmtRatio(ratio(float64(p50), float64(modelTime))),
			Target:   "overhead p50 < 1% of model time", Met: met(r.errs == 0 && over < modelTime/100)}
		if cpuPerQ > 0 {
			row.Value += fmt.Sprintf("; CPU %s per question", fmtDur(cpuPerQ))
			if l.conc == 500 {
				sec.Notes = append(sec.Notes, fmt.Sprintf("CPU per question (this process: server, client and scripted model together) is %s at 500 concurrent clients, so %d cores can finish at most about %.0f questions/s; 500 clients each waiting %s on the model would need %.0f/s. Past that point questions queue for CPU, and the queueing, not a fixed cost per question, is the overhead at high concurrency.",
					fmtDur(cpuPerQ), runtime.NumCPU(), float64(runtime.NumCPU())*float64(time.Second)/float64(cpuPerQ), fmtDur(modelTime), float64(l.conc)*float64(time.Second)/float64(modelTime)))
			}
		}
		if r.errs > 0 {
			row.Value += fmt.Sprintf("; **%d errors** (first: %v)", r.errs, r.firstErr)
		}
		if row.Met != nil && !*row.Met {
			worst = l
		}
		sec.Rows = append(sec.Rows, row)
	}
	perConv, rawConv, err := e.idleConversationMemory()
	if err != nil {
		sec.Notes = append(sec.Notes, "memory per idle conversation: not measured: "+err.Error())
	} else {
		sec.Rows = append(sec.Rows, benchRow{Case: "memory per idle conversation", Value: fmtBytes(perConv) + " of heap",
			Baseline: fmtBytes(rawConv) + " (its messages as JSON)", Ratio: fmtRatio(perConv / rawConv)})
		sec.Notes = append(sec.Notes, "Memory per idle conversation: a second server with the same script run in-process (so the scripted HTTP server's request log is not counted) answers 2,000 new-conversation questions; heap in use after GC, before and after, divided by 2,000. Baseline: the conversation as the memory store returns it, marshalled to JSON.")
	}
	sec.Notes = append(sec.Notes, fmt.Sprintf("Machine: %d cores; client, server and scripted model share them.", runtime.NumCPU()))
	if sec.missed() && worst.conc > 0 {
		sec.Notes = append(sec.Notes, fmt.Sprintf("The profile below is of the server process (client and scripted model included, they share it) while it runs the %d-concurrent level; time asleep in the scripted model's latency is off-CPU and not in it.", worst.conc))
		sec.Profile = e.profile("http", 6*time.Second, func(ctx context.Context) error {
			drive(ctx, client, srv.url, worst.conc, 1)
			return nil
		})
	}
	return sec
}

// idleConversationMemory measures heap per stored conversation, and the
// JSON size of one.
func (e *benchEnv) idleConversationMemory() (perConv, raw float64, err error) {
	srv, err := e.startServer(scriptedModel{})
	if err != nil {
		return 0, 0, err
	}
	defer srv.stop()
	client := pooledClient()
	const n = 2000
	// Warm every pool and cache before the first heap reading.
	if r := drive(e.ctx, client, srv.url, 50, 2); r.errs > 0 {
		return 0, 0, r.firstErr
	}
	client.CloseIdleConnections()
	time.Sleep(100 * time.Millisecond)
	before := heapInUse()
	r := drive(e.ctx, client, srv.url, 50, n/50)
	if r.errs > 0 {
		return 0, 0, r.firstErr
	}
	client.CloseIdleConnections()
	time.Sleep(100 * time.Millisecond)
	after := heapInUse()
	// One conversation, as stored.
	ans, _, err := ask(e.ctx, client, srv.url, "demo-carol", benchQuestion, "")
	if err != nil {
		return 0, 0, err
	}
	msgs, err := srv.app.Agent.Memory().Load(e.ctx, "carol@bank.example", ans.ConversationID)
	if err != nil {
		return 0, 0, err
	}
	b, err := json.Marshal(msgs)
	if err != nil {
		return 0, 0, err
	}
	return float64(after-before) / n, float64(len(b)), nil
}

func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
