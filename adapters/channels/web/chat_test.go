package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/askmesh/askmesh/adapters/channels/web"
	"github.com/askmesh/askmesh/adapters/models/openai"
	"github.com/askmesh/askmesh/adapters/models/openai/openaitest"
	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/audit"
)

// thousands formats n as the answer text does (1,234).
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func TestChatAnswersWithNumbersTablesChartsAndSources(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	res, body := h.do("POST", "/v1/chat", "demo-carol", map[string]any{"message": acquisitionQuestion},
		map[string]string{"X-Request-Id": "req-acq-1"})
	if res.StatusCode != 200 {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	// The request id is the server's; the client's own is echoed beside it.
	reqID := res.Header.Get("X-Request-Id")
	if reqID == "" || reqID == "req-acq-1" || res.Header.Get("X-Client-Request-Id") != "req-acq-1" {
		t.Fatalf("request ids: server %q, client %q", reqID, res.Header.Get("X-Client-Request-Id"))
	}
	var ans assistant.Answer
	if err := json.Unmarshal(body, &ans); err != nil {
		t.Fatal(err)
	}
	oct, sep := octSep(t, h.dir)
	for _, n := range []int{oct, sep} {
		if !strings.Contains(ans.Text, thousands(n)) {
			t.Errorf("answer text does not state %d: %q", n, ans.Text)
		}
	}
	if len(ans.Tables) == 0 || len(ans.Charts) == 0 || len(ans.Sources) == 0 {
		t.Fatalf("answer lacks a table, chart or source: %s", body)
	}
	if ans.Sources[0].Product != "customer-acquisition" || ans.Sources[0].AuditID == "" {
		t.Fatalf("source %+v", ans.Sources[0])
	}
	if ans.RequestID != reqID || ans.ConversationID == "" || res.Header.Get("X-Askmesh-Conversation-Id") != ans.ConversationID {
		t.Fatalf("ids: request %q conversation %q header %q", ans.RequestID, ans.ConversationID, res.Header.Get("X-Askmesh-Conversation-Id"))
	}
	// Every tool call left an audit record carrying the HTTP request id, the
	// channel and the asker.
	recs, err := h.app.Audit.Search(context.Background(), audit.Query{Subject: "carol@bank.example"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(ans.ToolCalls) || len(recs) == 0 {
		t.Fatalf("%d audit records for %d tool calls", len(recs), len(ans.ToolCalls))
	}
	ids := map[string]bool{}
	for _, r := range recs {
		ids[r.ID] = true
		if r.RequestID != reqID || r.Channel != "api" || r.ConversationID != ans.ConversationID || r.Question != acquisitionQuestion {
			t.Errorf("audit record %+v", r)
		}
	}
	for _, c := range ans.ToolCalls {
		if !ids[c.AuditID] {
			t.Errorf("tool call %s cites audit record %q, which is not in the log", c.Tool, c.AuditID)
		}
	}
}

func TestChatRejectsBadRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{opts: func(o *web.Options) { o.Limits.RatePerMinute = -1 }})
	cases := []struct {
		name, body, ctype string
		status            int
		code, message     string
	}{
		{"malformed JSON", `{"message": "hi"`, "application/json", 400, "invalid_json", "malformed JSON"},
		{"not an object", `["hi"]`, "application/json", 400, "invalid_request", "must be a JSON object"},
		{"unknown field", `{"message":"hi","temperature":0.2}`, "application/json", 400, "invalid_request", `unknown field "temperature"`},
		{"two values", `{"message":"hi"} {"message":"again"}`, "application/json", 400, "invalid_json", "more than one JSON value"},
		{"empty body", ``, "application/json", 400, "invalid_request", "empty"},
		{"empty message", `{"message":""}`, "application/json", 400, "invalid_request", "message is empty"},
		{"blank message", `{"message":"  \n\t "}`, "application/json", 400, "invalid_request", "message is empty"},
		{"oversized message", `{"message":"` + strings.Repeat("é", 8001) + `"}`, "application/json", 400, "message_too_long", "8001 characters; the limit is 8000"},
		{"message of the wrong type", `{"message":42}`, "application/json", 400, "invalid_request", `"message" must be string`},
		{"bad conversation id", `{"message":"hi","conversation_id":"../../etc"}`, "application/json", 400, "invalid_request", "conversation_id"},
		{"not JSON", `message=hi`, "application/x-www-form-urlencoded", 415, "unsupported_media_type", "application/json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, body := h.do("POST", "/v1/chat", "demo-carol", []byte(c.body), map[string]string{"Content-Type": c.ctype})
			if res.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, c.status, body)
			}
			code, msg := errorOf(t, body)
			if code != c.code || !strings.Contains(msg, c.message) {
				t.Fatalf("error %q %q, want %q containing %q", code, msg, c.code, c.message)
			}
		})
	}
	// Nothing reached the executor.
	if recs, _ := h.app.Audit.Search(context.Background(), audit.Query{}); len(recs) != 0 {
		t.Fatalf("%d audit records from rejected requests", len(recs))
	}
	if res, _ := h.do("GET", "/v1/chat", "demo-carol", nil, nil); res.StatusCode != 405 || res.Header.Get("Allow") != "POST" {
		t.Fatalf("GET /v1/chat: %d Allow %q", res.StatusCode, res.Header.Get("Allow"))
	}
}

func TestChatStreamsEventsInOrder(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	b, _ := json.Marshal(map[string]any{"message": acquisitionQuestion, "conversation_id": "conv-stream-1"})
	req, _ := http.NewRequest("POST", h.ts.URL+"/v1/chat", strings.NewReader(string(b)))
	req.Header.Set("Authorization", "Bearer demo-carol")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	res, err := h.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("%d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	events := readSSE(t, res.Body, nil)
	if len(events) < 4 {
		t.Fatalf("only %d events", len(events))
	}
	if events[0].Type != assistant.EventThinking {
		t.Fatalf("first event %s", events[0].Type)
	}
	last := events[len(events)-1]
	if last.Type != assistant.EventAnswer {
		t.Fatalf("last event %s: %s", last.Type, last.Data)
	}
	started, finished := map[string]int{}, map[string]int{}
	for i, ev := range events {
		var e assistant.Event
		if err := json.Unmarshal(ev.Data, &e); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if e.Type != ev.Type {
			t.Fatalf("event %d named %s carries type %s", i, ev.Type, e.Type)
		}
		switch ev.Type {
		case assistant.EventToolStarted:
			started[e.ToolCall.ID] = i
		case assistant.EventToolFinished:
			s, ok := started[e.ToolCall.ID]
			if !ok || s > i {
				t.Fatalf("tool %s finished before it started", e.ToolCall.ID)
			}
			if e.ToolCall.Decision == "" || e.ToolCall.AuditID == "" {
				t.Fatalf("finished call without decision or audit id: %+v", e.ToolCall)
			}
			finished[e.ToolCall.ID] = i
		case assistant.EventAnswer:
			if i != len(events)-1 {
				t.Fatalf("answer is event %d of %d", i, len(events))
			}
		case assistant.EventError:
			t.Fatalf("error event: %s", ev.Data)
		}
	}
	if len(started) == 0 || len(started) != len(finished) {
		t.Fatalf("%d calls started, %d finished", len(started), len(finished))
	}
	var final assistant.Event
	_ = json.Unmarshal(last.Data, &final)
	oct, sep := octSep(t, h.dir)
	if !strings.Contains(final.Answer.Text, thousands(oct)) || !strings.Contains(final.Answer.Text, thousands(sep)) {
		t.Fatalf("streamed answer lacks %d and %d: %q", oct, sep, final.Answer.Text)
	}
	if final.Answer.ConversationID != "conv-stream-1" || len(final.Answer.ToolCalls) != len(started) {
		t.Fatalf("answer: conversation %q, %d calls", final.Answer.ConversationID, len(final.Answer.ToolCalls))
	}
}

// TestClientDisconnectCancelsTheAgent: the model is slow; the client leaves
// after the first event; the model server sees its request cancelled and
// the agent makes no further calls.
func TestClientDisconnectCancelsTheAgent(t *testing.T) {
	t.Parallel()
	script := openaitest.NewServer(t, openaitest.Step{Text: "too late", Delay: time.Hour})
	arrived := make(chan struct{}, 1)
	cancelled := make(chan error, 1)
	var calls atomic.Int32
	front := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		arrived <- struct{}{}
		script.Config.Handler.ServeHTTP(w, r)
		cancelled <- r.Context().Err()
	})
	model := newFrontedModel(t, front)
	h := newHarness(t, setup{model: model})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b, _ := json.Marshal(map[string]any{"message": acquisitionQuestion})
	req, _ := http.NewRequestWithContext(ctx, "POST", h.ts.URL+"/v1/chat", strings.NewReader(string(b)))
	req.Header.Set("Authorization", "Bearer demo-carol")
	req.Header.Set("Accept", "text/event-stream")
	res, err := h.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	first := readSSE(t, res.Body, func(sseEvent) bool { return false })
	if len(first) != 1 || first[0].Type != assistant.EventThinking {
		t.Fatalf("first event: %+v", first)
	}
	select {
	case <-arrived:
	case <-time.After(time.Minute):
		t.Fatal("the model was never called")
	}
	cancel()
	res.Body.Close()
	select {
	case err := <-cancelled:
		if err == nil {
			t.Fatal("the model's request completed instead of being cancelled")
		}
	case <-time.After(time.Minute):
		t.Fatal("the model's request was not cancelled after the client left")
	}
	waitFor(t, "the server to log the departure", func() bool { return len(h.logs.logLines("client left; the agent stopped")) == 1 })
	if n := calls.Load(); n != 1 {
		t.Fatalf("the agent made %d model requests; want 1", n)
	}
	if recs, _ := h.app.Audit.Search(context.Background(), audit.Query{}); len(recs) != 0 {
		t.Fatalf("%d tool calls after the client left", len(recs))
	}
}

// newFrontedModel is the OpenAI adapter talking to handler over real HTTP,
// so tests can watch requests (and their cancellation) reach the server.
func newFrontedModel(t *testing.T, handler http.Handler) assistant.Model {
	t.Helper()
	srv := newHTTPServer(t, handler)
	m, err := openai.New(openai.Config{BaseURL: srv.URL + "/v1", APIKey: "test", Model: "gpt-test", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestConversationsArePrivate(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	res, body := h.do("POST", "/v1/chat", "demo-carol", map[string]any{"message": acquisitionQuestion, "conversation_id": "carol-q4"}, nil)
	if res.StatusCode != 200 {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	res, body = h.do("GET", "/v1/conversations/carol-q4", "demo-carol", nil, nil)
	if res.StatusCode != 200 {
		t.Fatalf("owner: %d %s", res.StatusCode, body)
	}
	var conv struct {
		ID       string              `json:"id"`
		Messages []assistant.Message `json:"messages"`
	}
	if err := json.Unmarshal(body, &conv); err != nil {
		t.Fatal(err)
	}
	if conv.ID != "carol-q4" || len(conv.Messages) < 2 || conv.Messages[0].Role != "user" || conv.Messages[0].Content != acquisitionQuestion {
		t.Fatalf("conversation %s", body)
	}
	_, unknown := h.do("GET", "/v1/conversations/no-such-conversation", "demo-carol", nil, nil)
	for _, user := range []string{"demo-dave", "demo-alice"} {
		res, body := h.do("GET", "/v1/conversations/carol-q4", user, nil, nil)
		if res.StatusCode != 404 {
			t.Fatalf("%s read carol's conversation: %d %s", user, res.StatusCode, body)
		}
		// The same answer as for a conversation that does not exist.
		if string(body) != string(unknown) {
			t.Fatalf("404 bodies differ, revealing existence: %s vs %s", body, unknown)
		}
	}
	// Dave using carol's conversation id starts his own conversation.
	res, body = h.do("POST", "/v1/chat", "demo-dave", map[string]any{"message": "and the month before?", "conversation_id": "carol-q4"}, nil)
	if res.StatusCode != 200 {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	_, body = h.do("GET", "/v1/conversations/carol-q4", "demo-carol", nil, nil)
	if strings.Contains(string(body), "and the month before?") {
		t.Fatalf("dave's question joined carol's conversation: %s", body)
	}
}

func TestRequestIDsAndAccessLog(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	res, _ := h.do("GET", "/v1/me", "demo-erin", nil, map[string]string{"X-Request-Id": "abc-123"})
	first := res.Header.Get("X-Request-Id")
	if first == "abc-123" || first == "" || res.Header.Get("X-Client-Request-Id") != "abc-123" {
		t.Fatalf("request id %q, client's %q", first, res.Header.Get("X-Client-Request-Id"))
	}
	res, _ = h.do("GET", "/v1/me", "demo-erin", nil, map[string]string{"X-Request-Id": "bad id with spaces <script>"})
	generated := res.Header.Get("X-Request-Id")
	if generated == "" || strings.ContainsAny(generated, " <") || res.Header.Get("X-Client-Request-Id") != "" {
		t.Fatalf("an invalid request id was echoed or none generated: %q", generated)
	}
	res, _ = h.do("GET", "/v1/me", "", nil, nil)
	lines := h.logs.logLines("http request")
	if len(lines) != 3 {
		t.Fatalf("%d access log lines", len(lines))
	}
	want := []struct {
		id, user string
		status   float64
	}{{first, "erin@bank.example", 200}, {generated, "erin@bank.example", 200}, {res.Header.Get("X-Request-Id"), "", 401}}
	for i, w := range want {
		l := lines[i]
		user, _ := l["user"].(string)
		if l["request_id"] != w.id || user != w.user || l["status"] != w.status || l["route"] != "/v1/me" {
			t.Errorf("log line %d: %v", i, l)
		}
		if client, _ := l["client_request_id"].(string); (i == 0) != (client == "abc-123") {
			t.Errorf("log line %d: client request id %q", i, client)
		}
	}
}

func TestMetricsCountQuestionsToolCallsAndRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{opts: func(o *web.Options) { o.Limits.MetricsToken = "metrics-secret" }})
	if res, body := h.do("POST", "/v1/chat", "demo-carol", map[string]any{"message": acquisitionQuestion}, nil); res.StatusCode != 200 {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if res, _ := h.do("POST", "/v1/chat", "demo-frank", map[string]any{"message": "How many loan applications were approved last month?"}, nil); res.StatusCode != 200 {
		t.Fatalf("frank: %d", res.StatusCode)
	}
	h.do("GET", "/v1/me", "nope", nil, nil)
	res, body := h.do("GET", "/metrics", "metrics-secret", nil, nil)
	if res.StatusCode != 200 {
		t.Fatalf("%d", res.StatusCode)
	}
	text := string(body)
	denies, err := h.app.Audit.Search(context.Background(), audit.Query{Decision: audit.DecisionDeny})
	if err != nil || len(denies) == 0 {
		t.Fatalf("no deny records (%v)", err)
	}
	deniedTool, n := denies[0].Tool, 0
	for _, d := range denies {
		if d.Tool == deniedTool {
			n++
		}
	}
	for _, want := range []string{
		`askmesh_questions_total{channel="api"} 2`,
		`askmesh_http_requests_total{code="200",method="POST",route="/v1/chat"} 2`,
		`askmesh_http_requests_total{code="401",method="GET",route="/v1/me"} 1`,
		`askmesh_auth_failures_total{reason="unknown"} 1`,
		`askmesh_tool_calls_total{decision="deny",tool="` + deniedTool + `"} ` + strconv.Itoa(n),
		`askmesh_tool_calls_total{decision="allow",tool="query_metrics"}`,
		`askmesh_model_request_duration_seconds_count{model="` + h.app.Model.Name() + `",outcome="ok"}`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
