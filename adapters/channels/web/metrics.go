package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/audit"
)

// Metrics are askmesh's Prometheus metrics, on a registry of their own (so
// tests and several servers in one process never collide on the default
// one). Metrics implements assistant.Observer: create it before building the
// stack and pass it with app.WithObserver, then to web.Options.Metrics.
type Metrics struct {
	reg *prometheus.Registry

	questions    *prometheus.CounterVec
	toolCalls    *prometheus.CounterVec
	toolSeconds  *prometheus.HistogramVec
	modelSeconds *prometheus.HistogramVec
	modelTokens  *prometheus.CounterVec
	auditSeconds *prometheus.HistogramVec
	httpRequests *prometheus.CounterVec
	httpSeconds  *prometheus.HistogramVec
	rateLimited  prometheus.Counter
	authFailures *prometheus.CounterVec
}

// NewMetrics creates the metrics and their registry, with the Go runtime and
// process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.questions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "askmesh_questions_total",
		Help: "Questions asked, by channel (api, web, openai)."}, []string{"channel"})
	m.toolCalls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "askmesh_tool_calls_total",
		Help: "Tool calls, by tool and decision (allow, deny, error)."}, []string{"tool", "decision"})
	m.toolSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "askmesh_tool_call_duration_seconds",
		Help: "Tool call duration (validate, authorize, run, audit), by tool.", Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12)}, []string{"tool"})
	m.modelSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "askmesh_model_request_duration_seconds",
		Help: "Model turn latency, by model and outcome (ok, error).", Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 12)}, []string{"model", "outcome"})
	m.modelTokens = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "askmesh_model_tokens_total",
		Help: "Tokens the model's API reported, by model and kind (prompt, completion)."}, []string{"model", "kind"})
	m.auditSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "askmesh_audit_append_duration_seconds",
		Help: "Audit append latency until durably committed, by outcome (ok, error).", Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 12)}, []string{"outcome"})
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "askmesh_http_requests_total",
		Help: "HTTP requests, by route, method and status code."}, []string{"route", "method", "code"})
	m.httpSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "askmesh_http_request_duration_seconds",
		Help: "HTTP request duration (streams: until the stream ends), by route.", Buckets: prometheus.ExponentialBuckets(0.001, 3, 12)}, []string{"route"})
	m.rateLimited = prometheus.NewCounter(prometheus.CounterOpts{Name: "askmesh_rate_limited_total",
		Help: "Requests refused with 429 by the per-user rate limit."})
	m.authFailures = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "askmesh_auth_failures_total",
		Help: "Requests refused with 401, by reason (missing, unknown, invalid, expired)."}, []string{"reason"})
	m.reg.MustRegister(m.questions, m.toolCalls, m.toolSeconds, m.modelSeconds, m.modelTokens, m.auditSeconds,
		m.httpRequests, m.httpSeconds, m.rateLimited, m.authFailures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is the metrics' registry, for adding collectors of your own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Question counts a question asked on a channel.
func (m *Metrics) Question(channel string) { m.questions.WithLabelValues(channel).Inc() }

// ModelCall implements assistant.Observer.
func (m *Metrics) ModelCall(model string, d time.Duration, usage assistant.Usage, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.modelSeconds.WithLabelValues(model, outcome).Observe(d.Seconds())
	if usage.PromptTokens > 0 {
		m.modelTokens.WithLabelValues(model, "prompt").Add(float64(usage.PromptTokens))
	}
	if usage.CompletionTokens > 0 {
		m.modelTokens.WithLabelValues(model, "completion").Add(float64(usage.CompletionTokens))
	}
}

// ToolCall implements assistant.Observer (and the MCP adapter's observer).
func (m *Metrics) ToolCall(tool, decision string, d time.Duration) {
	m.toolCalls.WithLabelValues(tool, decision).Inc()
	m.toolSeconds.WithLabelValues(tool).Observe(d.Seconds())
}

// InstrumentAudit wraps an audit store so that append latency is observed.
// The wrapper changes nothing else: errors and records pass through as they are.
func (m *Metrics) InstrumentAudit(s audit.Store) audit.Store { return &timedStore{Store: s, m: m} }

type timedStore struct {
	audit.Store
	m *Metrics
}

func (t *timedStore) Append(ctx context.Context, rec *audit.Record) error {
	start := time.Now()
	err := t.Store.Append(ctx, rec)
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	t.m.auditSeconds.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
	return err
}

func (m *Metrics) request(route, method string, code int, d time.Duration) {
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.httpSeconds.WithLabelValues(route).Observe(d.Seconds())
}

// RateLimited counts a request, tool call or model turn refused for a spent
// budget (tools.Limiter.OnRefused).
func (m *Metrics) RateLimited(string) { m.rateLimited.Inc() }
