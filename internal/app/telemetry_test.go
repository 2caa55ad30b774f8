package app_test

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/askmesh/askmesh/adapters/models/openai"
	"github.com/askmesh/askmesh/adapters/models/openai/openaitest"
	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/tools"
)

// otlpReceiver is an OTLP/HTTP collector in the test process: it decodes
// the protobuf export requests the exporters send and keeps their spans
// and metrics.
type otlpReceiver struct {
	*httptest.Server
	mu      sync.Mutex
	spans   []*tracepb.Span
	metrics []*colmetricpb.ExportMetricsServiceRequest
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	r := &otlpReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body io.Reader = req.Body
		if req.Header.Get("Content-Encoding") == "gzip" {
			gz, err := gzip.NewReader(req.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = gz
		}
		b, err := io.ReadAll(body)
		if err != nil || req.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "want a protobuf body", http.StatusBadRequest)
			return
		}
		var resp proto.Message
		r.mu.Lock()
		defer r.mu.Unlock()
		switch req.URL.Path {
		case "/v1/traces":
			var m coltracepb.ExportTraceServiceRequest
			if err := proto.Unmarshal(b, &m); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			for _, rs := range m.ResourceSpans {
				for _, ss := range rs.ScopeSpans {
					r.spans = append(r.spans, ss.Spans...)
				}
			}
			resp = &coltracepb.ExportTraceServiceResponse{}
		case "/v1/metrics":
			var m colmetricpb.ExportMetricsServiceRequest
			if err := proto.Unmarshal(b, &m); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.metrics = append(r.metrics, &m)
			resp = &colmetricpb.ExportMetricsServiceResponse{}
		default:
			http.NotFound(w, req)
			return
		}
		out, _ := proto.Marshal(resp)
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(r.Close)
	return r
}

func attrs(kvs []*commonpb.KeyValue) map[string]string {
	out := map[string]string{}
	for _, kv := range kvs {
		switch v := kv.Value.Value.(type) {
		case *commonpb.AnyValue_StringValue:
			out[kv.Key] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			out[kv.Key] = strconv.FormatInt(v.IntValue, 10)
		case *commonpb.AnyValue_ArrayValue:
			var ss []string
			for _, e := range v.ArrayValue.Values {
				ss = append(ss, e.GetStringValue())
			}
			out[kv.Key] = strings.Join(ss, ",")
		}
	}
	return out
}

// A question traced to a collector: invoke_agent, under it a chat span per
// model turn and an execute_tool span per call, under each tool call the
// policy decision and the audit append; token usage on the spans and in the
// GenAI metrics; arguments and results only when opted in.
// rowCount is the answer's number as a word of its own.
var rowCount = regexp.MustCompile(`\b398\b`)

func TestTracesOverOTLP(t *testing.T) {
	t.Parallel()
	for _, capture := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "capture_content"}[capture], func(t *testing.T) {
			rcv := newOTLPReceiver(t)
			srv := openaitest.NewServer(t,
				openaitest.Step{ToolCalls: []openaitest.ToolCall{
					{ID: "c1", Name: tools.ToolQueryMetrics, Arguments: `{"product":"customer-acquisition","metrics":["new_customers"],"time_range":"last_month"}`},
					{ID: "c2", Name: tools.ToolQueryMetrics, Arguments: `{"product":"loan-applications","metrics":["approval_rate"],"time_range":"last_month"}`},
				}, Usage: &openaitest.Usage{PromptTokens: 1200, CompletionTokens: 60}},
				openaitest.Step{Text: "New customers last month: 398.", Usage: &openaitest.Usage{PromptTokens: 1500, CompletionTokens: 12}},
			)
			m, err := openai.New(openai.Config{BaseURL: srv.BaseURL(), APIKey: "test", Model: "scripted", Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			cfg := app.Config{DataDir: banktest.PrivateDir(t), Now: banktest.Now.Format(time.RFC3339)}
			cfg.Model.Provider = "openai"
			cfg.Telemetry.Endpoint = rcv.URL
			cfg.Telemetry.CaptureContent = capture
			a, err := app.Build(context.Background(), cfg, app.WithModel(m), app.WithLogger(discardLogger()))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			ans, err := a.Agent.Answer(ctx, assistant.Request{Caller: tools.Caller{Subject: a.Directory.Lookup("alice@bank.example"), Channel: "api"},
				Question: "New customers last month, and the loan approval rate?"})
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Close(); err != nil { // flushes the exporters
				t.Fatal(err)
			}
			rcv.mu.Lock()
			defer rcv.mu.Unlock()

			byID := map[string]*tracepb.Span{}
			var agents, chats, execs, decides, appends, admits []*tracepb.Span
			for _, s := range rcv.spans {
				byID[string(s.SpanId)] = s
				switch {
				case s.Name == "invoke_agent askmesh":
					agents = append(agents, s)
				case s.Name == "chat scripted":
					chats = append(chats, s)
				case strings.HasPrefix(s.Name, "execute_tool "):
					execs = append(execs, s)
				case s.Name == "authz.decide" && attrs(s.Attributes)["askmesh.policy.action"] == authz.ActionSearch:
					admits = append(admits, s) // the asker's admission, before the model
				case s.Name == "authz.decide":
					decides = append(decides, s)
				case s.Name == "audit.append":
					appends = append(appends, s)
				default:
					t.Errorf("unexpected span %q", s.Name)
				}
			}
			if len(agents) != 1 || len(chats) != 2 || len(execs) != 2 || len(decides) != 2 || len(appends) != 2 {
				t.Fatalf("spans: %d invoke_agent, %d chat, %d execute_tool, %d authz.decide, %d audit.append; want 1, 2, 2, 2, 2",
					len(agents), len(chats), len(execs), len(decides), len(appends))
			}
			root := agents[0]
			if len(admits) != 0 {
				t.Errorf("%d admission decisions for a known asker, want none", len(admits))
			}
			ra := attrs(root.Attributes)
			for k, v := range map[string]string{"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "askmesh",
				"gen_ai.provider.name": "openai", "gen_ai.request.model": "scripted", "gen_ai.conversation.id": ans.ConversationID,
				"gen_ai.usage.input_tokens": "2700", "gen_ai.usage.output_tokens": "72"} {
				if ra[k] != v {
					t.Errorf("invoke_agent %s = %q, want %q", k, ra[k], v)
				}
			}
			if len(root.ParentSpanId) != 0 {
				t.Error("invoke_agent has a parent")
			}
			wantUsage := [][2]string{{"1200", "60"}, {"1500", "12"}}
			for i, c := range chats {
				ca := attrs(c.Attributes)
				if string(c.ParentSpanId) != string(root.SpanId) || c.Kind != tracepb.Span_SPAN_KIND_CLIENT ||
					ca["gen_ai.operation.name"] != "chat" || ca["gen_ai.provider.name"] != "openai" || ca["gen_ai.request.model"] != "scripted" {
					t.Errorf("chat span %d: kind %v, attributes %v", i, c.Kind, ca)
				}
				got := [2]string{ca["gen_ai.usage.input_tokens"], ca["gen_ai.usage.output_tokens"]}
				if got != wantUsage[0] && got != wantUsage[1] {
					t.Errorf("chat span %d usage %v", i, got)
				}
			}
			auditIDs := map[string]string{}
			for _, tc := range ans.ToolCalls {
				auditIDs[tc.ID] = tc.AuditID
			}
			decisions := map[string]string{}
			for _, e := range execs {
				ea := attrs(e.Attributes)
				id := ea["gen_ai.tool.call.id"]
				if string(e.ParentSpanId) != string(root.SpanId) || ea["gen_ai.operation.name"] != "execute_tool" ||
					ea["gen_ai.tool.name"] != tools.ToolQueryMetrics || ea["gen_ai.tool.type"] != "function" || ea["askmesh.audit.id"] != auditIDs[id] || auditIDs[id] == "" {
					t.Errorf("execute_tool span %s: %v", id, ea)
				}
				decisions[id] = ea["askmesh.policy.decision"]
				_, hasArgs := ea["gen_ai.tool.call.arguments"]
				_, hasResult := ea["gen_ai.tool.call.result"]
				if hasArgs != capture || hasResult != capture {
					t.Errorf("execute_tool %s: arguments in span %v, result %v; capture_content %v", id, hasArgs, hasResult, capture)
				}
				if capture && !strings.Contains(ea["gen_ai.tool.call.arguments"], `"product"`) {
					t.Errorf("captured arguments %q", ea["gen_ai.tool.call.arguments"])
				}
				// Whatever is captured, no span carries the rows themselves by default.
				// The count is matched as a word: random ids (hex) may hold the digits.
				if !capture {
					for _, s := range rcv.spans {
						for k, v := range attrs(s.Attributes) {
							if rowCount.MatchString(v) || strings.Contains(v, "customer-acquisition\",") {
								t.Errorf("span %s attribute %s carries content: %q", s.Name, k, v)
							}
						}
					}
				}
			}
			if decisions["c1"] != audit.DecisionAllow || decisions["c2"] != audit.DecisionDeny {
				t.Errorf("tool decisions %v", decisions)
			}
			for _, group := range [][]*tracepb.Span{decides, appends} {
				parents := map[string]bool{}
				for _, s := range group {
					p := byID[string(s.ParentSpanId)]
					if p == nil || !strings.HasPrefix(p.Name, "execute_tool ") {
						t.Errorf("%s is not a child of an execute_tool span", s.Name)
						continue
					}
					parents[string(p.SpanId)] = true
					sa, pa := attrs(s.Attributes), attrs(p.Attributes)
					if s.Name == "authz.decide" && (sa["askmesh.policy.decision"] != pa["askmesh.policy.decision"] || sa["askmesh.policy.revision"] != a.Authz.Revision()) {
						t.Errorf("authz.decide %v under %v", sa, pa)
					}
					if s.Name == "audit.append" && (sa["askmesh.audit.id"] != pa["askmesh.audit.id"] || sa["askmesh.audit.seq"] == "" || sa["askmesh.audit.decision"] != pa["askmesh.policy.decision"]) {
						t.Errorf("audit.append %v under %v", sa, pa)
					}
				}
				if len(parents) != 2 {
					t.Errorf("%d execute_tool spans have %s children, want 2", len(parents), group[0].Name)
				}
			}

			// Metrics: one duration per model turn, and the tokens.
			var durations uint64
			tokens := map[string]float64{}
			for _, req := range rcv.metrics {
				for _, rm := range req.ResourceMetrics {
					for _, sm := range rm.ScopeMetrics {
						for _, mt := range sm.Metrics {
							h := mt.GetHistogram()
							if h == nil {
								continue
							}
							for _, dp := range h.DataPoints {
								da := attrs(dp.Attributes)
								if da["gen_ai.operation.name"] != "chat" || da["gen_ai.provider.name"] != "openai" || da["gen_ai.request.model"] != "scripted" {
									t.Errorf("%s point attributes %v", mt.Name, da)
								}
								switch mt.Name {
								case "gen_ai.client.operation.duration":
									durations += dp.Count
									if mt.Unit != "s" || dp.GetSum() <= 0 {
										t.Errorf("duration unit %q sum %v", mt.Unit, dp.GetSum())
									}
								case "gen_ai.client.token.usage":
									tokens[da["gen_ai.token.type"]] += dp.GetSum()
								}
							}
						}
					}
				}
			}
			if durations != 2 || tokens["input"] != 2700 || tokens["output"] != 72 {
				t.Errorf("metrics: %d durations, tokens %v; want 2, input 2700 and output 72", durations, tokens)
			}
		})
	}
}
