package web_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/askmesh/askmesh/adapters/channels/web"
	"github.com/askmesh/askmesh/adapters/models/openai"
	"github.com/askmesh/askmesh/adapters/models/openai/openaitest"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/app"
)

// BenchmarkChatHTTP is one question of askmesh-bench's end-to-end HTTP
// section, one at a time and in one process: POST /v1/chat as carol, the
// OpenAI adapter (streaming configured, as askmesh serve does) against the
// lean scripted server answering at once with a query_metrics call, then
// the answer. Its allocations and profile are the server's path plus the
// scripted server's and the client's (small, and the same on both sides of
// an A/B).
func BenchmarkChatHTTP(b *testing.B) {
	ms := openaitest.NewServer(b)
	ms.SetLean(true)
	ms.SetResponder(func(r openaitest.Request) openaitest.Step {
		if n := len(r.Messages); n > 0 && r.Messages[n-1].Role == "tool" {
			return openaitest.Step{Text: "Here are last month's new customers, compared with the month before; the table has the figures."}
		}
		return openaitest.Step{ToolCalls: []openaitest.ToolCall{{Name: "query_metrics",
			Arguments: `{"product":"customer-acquisition","metrics":["new_customers"],"time_range":"last_month","compare_to":"previous_period"}`}}}
	})
	model, err := openai.New(openai.Config{BaseURL: ms.BaseURL(), APIKey: "bench", Model: "gpt-bench", Stream: true, Timeout: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	cfg := app.Config{DataDir: banktest.PrivateDir(b), Now: banktest.Now.Format(time.RFC3339)}
	cfg.Limits.ToolCallsPerMinute, cfg.Limits.ModelTurnsPerMinute = -1, -1 // one user asks back to back
	metrics := web.NewMetrics()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.Build(context.Background(), cfg, app.WithModel(model), app.WithObserver(metrics), app.WithLogger(logger),
		app.WithAuditWrapper(metrics.InstrumentAudit))
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	srv, err := web.New(web.Options{Agent: a.Agent, Executor: a.Tools, AuditReview: a.Review, Directory: a.Directory, Audit: a.Audit,
		Catalog: a.Catalog, Access: a.Executor, Logger: logger, Metrics: metrics, Demo: true, Feedback: a.Feedback,
		Limits: web.Limits{RatePerMinute: -1}})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	body := []byte(`{"message":"` + acquisitionQuestion + `"}`)
	client := ts.Client()
	ask := func() {
		req, err := http.NewRequest(http.MethodPost, ts.URL+"/v1/chat", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer demo-carol")
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !bytes.Contains(out, []byte(`"sources"`)) {
			b.Fatalf("HTTP %d: %s", res.StatusCode, out)
		}
	}
	for range 5 { // warm every cache and pool
		ask()
	}
	b.ReportAllocs()
	for b.Loop() {
		ask()
	}
}
