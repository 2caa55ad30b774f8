package openai_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/adapters/models/openai"
	"github.com/askmesh/askmesh/adapters/models/openai/openaitest"
	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/internal/retry"
	"github.com/askmesh/askmesh/tools"
)

// modes runs a test with and without streaming: the same model must behave
// the same over both wire formats.
var modes = []struct {
	name   string
	stream bool
}{{"json", false}, {"stream", true}}

func newModel(t *testing.T, srv *openaitest.Server, edit func(*openai.Config)) *openai.Model {
	t.Helper()
	cfg := openai.Config{APIKey: "sk-test", BaseURL: srv.BaseURL(), Model: "gpt-test", Stream: true, RetryDelay: time.Millisecond}
	if edit != nil {
		edit(&cfg)
	}
	m, err := openai.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// generate calls the model in the given mode and returns the reply and the
// text passed to onText (nil when not streaming).
func generate(ctx context.Context, m *openai.Model, stream bool, req assistant.ModelRequest) (*assistant.Reply, []string, error) {
	var pieces []string
	var onText func(string)
	if stream {
		pieces = []string{}
		onText = func(s string) { pieces = append(pieces, s) }
	}
	reply, err := m.Generate(ctx, req, onText)
	return reply, pieces, err
}

func question(q string) assistant.ModelRequest {
	return assistant.ModelRequest{Messages: []assistant.Message{
		{Role: assistant.RoleSystem, Content: "You answer questions about data."},
		{Role: assistant.RoleUser, Content: q},
	}, Tools: tools.Specs()}
}

func jsonEqual(t *testing.T, got, want []byte) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("not JSON: %s", got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("not JSON: %s", want)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	return bytes.Equal(gb, wb)
}

func TestRequestCarriesConversationAndToolSchemas(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			answer := "Deposits in Europe last week totalled 1,204,332.10 EUR across 3 channels."
			srv := openaitest.NewServer(t, openaitest.Step{Text: answer})
			m := newModel(t, srv, nil)
			req := question("Total deposits in Europe last week?")
			req.Messages = append(req.Messages,
				assistant.Message{Role: assistant.RoleAssistant, Content: "Let me look.", ToolCalls: []assistant.ToolCall{
					{ID: "call_a", Name: tools.ToolSearch, Arguments: json.RawMessage(`{"query":"deposits"}`)},
					{ID: "call_b", Name: tools.ToolDescribe, Arguments: json.RawMessage(`{"product":"customer-transactions"}`)},
				}},
				assistant.Message{Role: assistant.RoleTool, ToolCallID: "call_a", Name: tools.ToolSearch, Content: "1. customer-transactions"},
				assistant.Message{Role: assistant.RoleTool, ToolCallID: "call_b", Name: tools.ToolDescribe, Content: "denied: not in your domain"},
			)
			reply, pieces, err := generate(context.Background(), m, mode.stream, req)
			if err != nil {
				t.Fatal(err)
			}
			if reply.Message.Role != assistant.RoleAssistant || reply.Message.Content != answer || len(reply.Message.ToolCalls) != 0 || reply.FinishReason != "stop" {
				t.Fatalf("reply = %+v", reply)
			}
			if mode.stream {
				// 73 bytes in deltas of 7: 11 pieces that add up to the answer.
				if strings.Join(pieces, "") != answer || len(pieces) != 11 {
					t.Fatalf("onText got %d pieces %q", len(pieces), pieces)
				}
			}

			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			got := reqs[0]
			if got.Path != "/v1/chat/completions" || got.Model != "gpt-test" || got.Stream != mode.stream {
				t.Fatalf("path %s model %s stream %v", got.Path, got.Model, got.Stream)
			}
			if mode.stream && (got.StreamOptions == nil || !got.StreamOptions.IncludeUsage) {
				t.Fatalf("streamed request does not ask for usage: %s", got.Body)
			}
			if got.Header.Get("Authorization") != "Bearer sk-test" {
				t.Fatalf("Authorization = %q", got.Header.Get("Authorization"))
			}
			wantMsgs := []openaitest.Message{
				{Role: "system", Content: "You answer questions about data."},
				{Role: "user", Content: "Total deposits in Europe last week?"},
				{Role: "assistant", Content: "Let me look.", ToolCalls: []openaitest.ToolCall{
					{ID: "call_a", Name: "search_data_products", Arguments: `{"query":"deposits"}`},
					{ID: "call_b", Name: "describe_data_product", Arguments: `{"product":"customer-transactions"}`}}},
				{Role: "tool", ToolCallID: "call_a", Content: "1. customer-transactions"},
				{Role: "tool", ToolCallID: "call_b", Content: "denied: not in your domain"},
			}
			if fmt.Sprintf("%+v", got.Messages) != fmt.Sprintf("%+v", wantMsgs) {
				t.Fatalf("messages sent:\n%+v\nwant:\n%+v", got.Messages, wantMsgs)
			}
			specs := tools.Specs()
			if len(got.Tools) != len(specs) {
				t.Fatalf("%d tools sent, want %d", len(got.Tools), len(specs))
			}
			for i, s := range specs {
				tool := got.Tools[i]
				if tool.Type != "function" || tool.Function.Name != s.Name || tool.Function.Description != s.Description {
					t.Fatalf("tool %d = %+v, want %s", i, tool, s.Name)
				}
				if !jsonEqual(t, tool.Function.Parameters, s.ParametersJSON()) {
					t.Fatalf("tool %s schema sent:\n%s\nwant:\n%s", s.Name, tool.Function.Parameters, s.ParametersJSON())
				}
			}
		})
	}
}

func TestEmptyAnswerInHistoryIsLeftOut(t *testing.T) {
	t.Parallel()
	srv := openaitest.NewServer(t, openaitest.Step{Text: "ok"})
	req := question("first question")
	req.Messages = append(req.Messages, assistant.Message{Role: assistant.RoleAssistant},
		assistant.Message{Role: assistant.RoleUser, Content: "second question"})
	if _, _, err := generate(context.Background(), newModel(t, srv, nil), false, req); err != nil {
		t.Fatal(err) // the server rejects an assistant message with neither content nor calls
	}
	var roles []string
	for _, m := range srv.Requests()[0].Messages {
		roles = append(roles, m.Role)
	}
	if got := strings.Join(roles, ","); got != "system,user,user" {
		t.Fatalf("roles sent %s", got)
	}
}

func TestParallelToolCallsAssembled(t *testing.T) {
	t.Parallel()
	calls := []openaitest.ToolCall{
		{ID: "call_1", Name: tools.ToolQueryMetrics, Arguments: `{"product":"customer-transactions","metrics":["total_amount"],"group_by":["channel"],"time_range":"last_7_days"}`},
		{ID: "call_2", Name: tools.ToolDescribe, Arguments: `{"product":"customers"}`},
		{ID: "call_3", Name: tools.ToolSearch, Arguments: `{"query":"loan applications in Europe","limit":3}`},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv := openaitest.NewServer(t, openaitest.Step{ToolCalls: calls, Interleave: true, ChunkSize: 5})
			m := newModel(t, srv, nil)
			reply, pieces, err := generate(context.Background(), m, mode.stream, question("deposits by channel, and who are our customers?"))
			if err != nil {
				t.Fatal(err)
			}
			if len(reply.Message.ToolCalls) != len(calls) {
				t.Fatalf("%d tool calls, want %d: %+v", len(reply.Message.ToolCalls), len(calls), reply.Message.ToolCalls)
			}
			for i, c := range calls {
				got := reply.Message.ToolCalls[i]
				if got.ID != c.ID || got.Name != c.Name || string(got.Arguments) != c.Arguments {
					t.Fatalf("call %d = {%s %s %s}, want %+v", i, got.ID, got.Name, got.Arguments, c)
				}
			}
			if reply.FinishReason != "tool_calls" || reply.Message.Content != "" {
				t.Fatalf("finish %q content %q", reply.FinishReason, reply.Message.Content)
			}
			if len(pieces) != 0 {
				t.Fatalf("tool-call deltas reached onText: %q", pieces)
			}
		})
	}
}

func TestToolCallsWithoutIndexAssembledInOrder(t *testing.T) {
	t.Parallel()
	// Some OpenAI-compatible servers omit "index" on tool-call deltas and
	// send calls one after the other; a new id starts a new call.
	raw := strings.Join([]string{
		`{"choices":[{"index":0,"delta":{"role":"assistant"}}]}`,
		`{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"c1","type":"function","function":{"name":"describe_data_product","arguments":"{\"product\":"}}]}}]}`,
		`{"choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":"\"customers\"}"}}]}}]}`,
		`{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"c2","type":"function","function":{"name":"search_data_products","arguments":"{\"query\":\"loans\"}"}}]}}]}`,
		`{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
		`[DONE]`,
	}, "\n\ndata: ")
	srv := openaitest.NewServer(t, openaitest.Step{Raw: "data: " + raw + "\n\n"})
	reply, _, err := generate(context.Background(), newModel(t, srv, nil), true, question("q"))
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%s %s %s | %s %s %s", reply.Message.ToolCalls[0].ID, reply.Message.ToolCalls[0].Name, reply.Message.ToolCalls[0].Arguments,
		reply.Message.ToolCalls[1].ID, reply.Message.ToolCalls[1].Name, reply.Message.ToolCalls[1].Arguments)
	want := `c1 describe_data_product {"product":"customers"} | c2 search_data_products {"query":"loans"}`
	if len(reply.Message.ToolCalls) != 2 || got != want {
		t.Fatalf("calls = %s, want %s", got, want)
	}
}

func TestMalformedArgumentsPassedThroughVerbatim(t *testing.T) {
	t.Parallel()
	bad := []string{`{"product": "customer-transactions", "limit": `, `not json at all`, `{"a":1}{"b":2}`}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			var steps []openaitest.Step
			for i, a := range bad {
				steps = append(steps, openaitest.Step{ToolCalls: []openaitest.ToolCall{{ID: fmt.Sprint("c", i), Name: tools.ToolQueryRecords, Arguments: a}}})
			}
			srv := openaitest.NewServer(t, steps...)
			m := newModel(t, srv, nil)
			for _, a := range bad {
				reply, _, err := generate(context.Background(), m, mode.stream, question("q"))
				if err != nil {
					t.Fatal(err)
				}
				if len(reply.Message.ToolCalls) != 1 || string(reply.Message.ToolCalls[0].Arguments) != a {
					t.Fatalf("arguments = %q, want %q verbatim", reply.Message.ToolCalls[0].Arguments, a)
				}
			}
		})
	}
}

func TestUsageRecorded(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv := openaitest.NewServer(t,
				openaitest.Step{Text: "hello", Usage: &openaitest.Usage{PromptTokens: 1234, CompletionTokens: 56}},
				openaitest.Step{ToolCalls: []openaitest.ToolCall{{Name: tools.ToolSearch, Arguments: `{"query":"x"}`}},
					Usage: &openaitest.Usage{PromptTokens: 2000, CompletionTokens: 7}})
			m := newModel(t, srv, nil)
			for _, want := range []assistant.Usage{{PromptTokens: 1234, CompletionTokens: 56}, {PromptTokens: 2000, CompletionTokens: 7}} {
				reply, _, err := generate(context.Background(), m, mode.stream, question("q"))
				if err != nil {
					t.Fatal(err)
				}
				if reply.Usage != want {
					t.Fatalf("usage = %+v, want %+v", reply.Usage, want)
				}
			}
		})
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	ok := openaitest.Step{Text: "fine"}
	cases := []struct {
		name       string
		maxRetries int
		script     []openaitest.Step
		requests   int
		status     int    // 0: success expected
		errHas     string // in the error message
	}{
		{"429 then 200", 0, []openaitest.Step{{Status: 429, RetryAfter: "0", Error: "Rate limit reached for gpt-test"}, ok}, 2, 0, ""},
		{"500, 500 then 200", 0, []openaitest.Step{{Status: 500}, {Status: 500}, ok}, 3, 0, ""},
		{"502, 503, 504 then 200", 0, []openaitest.Step{{Status: 502}, {Status: 503}, {Status: 504}, ok}, 4, 0, ""},
		{"408 then 200", 0, []openaitest.Step{{Status: 408}, ok}, 2, 0, ""},
		{"400 is not retried", 0, []openaitest.Step{{Status: 400, Error: "Invalid 'messages': empty"}, ok}, 1, 400, "HTTP 400: Invalid 'messages': empty"},
		{"401 is not retried", 0, []openaitest.Step{{Status: 401, Error: "Incorrect API key provided"}, ok}, 1, 401, "HTTP 401: Incorrect API key provided"},
		{"404 is not retried", 0, []openaitest.Step{{Status: 404, Error: "The model `gpt-test` does not exist"}, ok}, 1, 404, "does not exist"},
		{"retries are bounded", 0, []openaitest.Step{{Status: 500}, {Status: 500}, {Status: 500}, {Status: 500, Error: "boom"}, ok}, 4, 500, "HTTP 500: boom (after 4 attempts)"},
		{"MaxRetries 1", 1, []openaitest.Step{{Status: 429}, {Status: 429, Error: "slow down"}, ok}, 2, 429, "HTTP 429: slow down (after 2 attempts)"},
		{"retries disabled", -1, []openaitest.Step{{Status: 503, Error: "overloaded"}, ok}, 1, 503, "HTTP 503: overloaded"},
	}
	for _, mode := range modes {
		for _, c := range cases {
			t.Run(mode.name+"/"+c.name, func(t *testing.T) {
				srv := openaitest.NewServer(t, c.script...)
				m := newModel(t, srv, func(cfg *openai.Config) { cfg.MaxRetries = c.maxRetries })
				reply, _, err := generate(context.Background(), m, mode.stream, question("q"))
				if n := len(srv.Requests()); n != c.requests {
					t.Fatalf("%d requests, want %d", n, c.requests)
				}
				if c.status == 0 {
					if err != nil || reply.Message.Content != "fine" {
						t.Fatalf("reply %+v, err %v", reply, err)
					}
					return
				}
				if err == nil {
					t.Fatalf("no error, reply %+v", reply)
				}
				if retry.StatusOf(err) != c.status || !strings.Contains(err.Error(), c.errHas) || !strings.HasPrefix(err.Error(), "openai:gpt-test: ") {
					t.Fatalf("error %q (status %d), want status %d and %q", err, retry.StatusOf(err), c.status, c.errHas)
				}
			})
		}
	}
}

func TestRetryAfterRespected(t *testing.T) {
	t.Parallel()
	// The backoff alone would retry after a millisecond; the server asks for one second.
	srv := openaitest.NewServer(t, openaitest.Step{Status: 429, RetryAfter: "1"}, openaitest.Step{Text: "ok"})
	m := newModel(t, srv, nil)
	start := time.Now()
	if _, _, err := generate(context.Background(), m, false, question("q")); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Fatalf("retried after %v, before the 1s the server asked for", waited)
	}
}

func TestRetryAfterBeyondDeadlineFailsAtOnce(t *testing.T) {
	t.Parallel()
	// Waiting 30s cannot help a caller with a 20s deadline: the 429 is returned.
	srv := openaitest.NewServer(t, openaitest.Step{Status: 429, RetryAfter: "30", Error: "quota"}, openaitest.Step{Text: "ok"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, _, err := generate(ctx, newModel(t, srv, nil), false, question("q"))
	if retry.StatusOf(err) != 429 || !strings.Contains(err.Error(), "quota") || len(srv.Requests()) != 1 {
		t.Fatalf("err %v after %d requests", err, len(srv.Requests()))
	}
}

// waitRequests waits until the server has received n requests.
func waitRequests(t *testing.T, srv *openaitest.Server, n int) {
	t.Helper()
	for len(srv.Requests()) < n {
		time.Sleep(5 * time.Millisecond)
	}
}

func TestContextCancelStops(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		step openaitest.Step
	}{
		{"while the model thinks", openaitest.Step{Delay: time.Minute, Text: "too late"}},
		{"while waiting to retry", openaitest.Step{Status: 429, RetryAfter: "60"}},
	}
	for _, mode := range modes {
		for _, c := range cases {
			t.Run(mode.name+"/"+c.name, func(t *testing.T) {
				srv := openaitest.NewServer(t, c.step, openaitest.Step{Text: "too late"})
				m := newModel(t, srv, nil)
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() {
					_, _, err := generate(ctx, m, mode.stream, question("q"))
					done <- err
				}()
				waitRequests(t, srv, 1)
				cancel()
				err := <-done
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("err = %v, want context.Canceled", err)
				}
				if n := len(srv.Requests()); n != 1 {
					t.Fatalf("%d requests after cancel, want 1", n)
				}
			})
		}
	}
}

func TestAttemptTimeoutRetried(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv := openaitest.NewServer(t, openaitest.Step{Delay: time.Minute}, openaitest.Step{Text: "second try"})
			m := newModel(t, srv, func(c *openai.Config) { c.Timeout = 200 * time.Millisecond })
			reply, _, err := generate(context.Background(), m, mode.stream, question("q"))
			if err != nil || reply.Message.Content != "second try" || len(srv.Requests()) != 2 {
				t.Fatalf("reply %+v err %v after %d requests", reply, err, len(srv.Requests()))
			}
		})
	}
}

func TestTimeoutOnEveryAttempt(t *testing.T) {
	t.Parallel()
	slow := openaitest.Step{Delay: time.Minute}
	srv := openaitest.NewServer(t, slow, slow)
	m := newModel(t, srv, func(c *openai.Config) { c.Timeout = 100 * time.Millisecond; c.MaxRetries = 1 })
	_, _, err := generate(context.Background(), m, false, question("q"))
	if err == nil || !strings.Contains(err.Error(), "attempt timed out after 100ms") || !strings.Contains(err.Error(), "after 2 attempts") {
		t.Fatalf("err = %v", err)
	}
}

func TestTruncatedStream(t *testing.T) {
	t.Parallel()
	t.Run("before any text: retried", func(t *testing.T) {
		srv := openaitest.NewServer(t,
			openaitest.Step{ToolCalls: []openaitest.ToolCall{{Name: tools.ToolSearch, Arguments: `{"query":"loa`}}, Truncate: true},
			openaitest.Step{ToolCalls: []openaitest.ToolCall{{ID: "c9", Name: tools.ToolSearch, Arguments: `{"query":"loans"}`}}})
		reply, _, err := generate(context.Background(), newModel(t, srv, nil), true, question("q"))
		if err != nil || len(srv.Requests()) != 2 || string(reply.Message.ToolCalls[0].Arguments) != `{"query":"loans"}` {
			t.Fatalf("reply %+v err %v after %d requests", reply, err, len(srv.Requests()))
		}
	})
	t.Run("after text was shown: not retried", func(t *testing.T) {
		srv := openaitest.NewServer(t, openaitest.Step{Text: "The total is", Truncate: true}, openaitest.Step{Text: "another answer"})
		_, pieces, err := generate(context.Background(), newModel(t, srv, nil), true, question("q"))
		if err == nil || !strings.Contains(err.Error(), "stream ended before the model finished") || len(srv.Requests()) != 1 {
			t.Fatalf("err %v after %d requests", err, len(srv.Requests()))
		}
		if strings.Join(pieces, "") != "The total is" {
			t.Fatalf("shown %q", pieces)
		}
	})
}

func TestConnectionRefusedRetried(t *testing.T) {
	t.Parallel()
	dead := httptest.NewServer(nil)
	url := dead.URL
	dead.Close()
	m, err := openai.New(openai.Config{BaseURL: url + "/v1", Model: "m", RetryDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Generate(context.Background(), question("q"), nil)
	if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "after 4 attempts") {
		t.Fatalf("err = %v", err)
	}
}

func TestMalformedResponseIsAnError(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			raw := `{"id": "x", "choices": [`
			if mode.stream {
				raw = "data: {\"choices\": [{\"delta\": \n\n"
			}
			srv := openaitest.NewServer(t, openaitest.Step{Raw: raw}, openaitest.Step{Text: "unused"})
			_, _, err := generate(context.Background(), newModel(t, srv, nil), mode.stream, question("q"))
			if err == nil {
				t.Fatal("a malformed response was accepted")
			}
			if n := len(srv.Requests()); n != 1 {
				t.Fatalf("%d requests: a malformed 200 was retried", n)
			}
		})
	}
}

func TestNoChoicesIsAnError(t *testing.T) {
	t.Parallel()
	srv := openaitest.NewServer(t, openaitest.Step{Raw: `{"id":"x","object":"chat.completion","choices":[]}`})
	_, _, err := generate(context.Background(), newModel(t, srv, nil), false, question("q"))
	if err == nil || !strings.Contains(err.Error(), "no choices") {
		t.Fatalf("err = %v", err)
	}
}

func TestTemperature(t *testing.T) {
	t.Parallel()
	zero, warm := float32(0), float32(0.5)
	cases := []struct {
		name string
		temp *float32
		want float64 // -1: not sent
	}{
		{"unset", nil, -1},
		// go-openai drops a zero; the smallest float32 goes out as 1e-45.
		{"zero is sent", &zero, 1e-45},
		{"0.5", &warm, 0.5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := openaitest.NewServer(t, openaitest.Step{Text: "ok"})
			m := newModel(t, srv, func(cfg *openai.Config) { cfg.Temperature = c.temp })
			if _, _, err := generate(context.Background(), m, false, question("q")); err != nil {
				t.Fatal(err)
			}
			got := srv.Requests()[0].Temperature
			if c.want < 0 {
				if got != nil {
					t.Fatalf("temperature %v sent", *got)
				}
				return
			}
			if got == nil || *got != c.want {
				t.Fatalf("temperature = %v, want %v", fmtPtr(got), c.want)
			}
		})
	}
}

func fmtPtr(f *float64) string {
	if f == nil {
		return "not sent"
	}
	return fmt.Sprint(*f)
}

func TestAzure(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv := openaitest.NewServer(t, openaitest.Step{Text: "from azure"})
			m, err := openai.New(openai.Config{Azure: true, BaseURL: srv.URL, APIKey: "az-key", Model: "gpt-4o.prod", Stream: true})
			if err != nil {
				t.Fatal(err)
			}
			if m.Name() != "azure:gpt-4o.prod" {
				t.Fatalf("name %q", m.Name())
			}
			reply, _, err := generate(context.Background(), m, mode.stream, question("q"))
			if err != nil || reply.Message.Content != "from azure" {
				t.Fatalf("reply %+v err %v", reply, err)
			}
			got := srv.Requests()[0]
			if got.Path != "/openai/deployments/gpt-4o.prod/chat/completions" || got.Query.Get("api-version") != openai.DefaultAzureAPIVersion {
				t.Fatalf("request to %s?%s", got.Path, got.Query.Encode())
			}
			if got.Header.Get("api-key") != "az-key" || got.Header.Get("Authorization") != "" {
				t.Fatalf("api-key %q, Authorization %q", got.Header.Get("api-key"), got.Header.Get("Authorization"))
			}
		})
	}
}

func TestOrganizationHeaderAndName(t *testing.T) {
	t.Parallel()
	srv := openaitest.NewServer(t, openaitest.Step{Text: "ok"})
	m := newModel(t, srv, func(c *openai.Config) { c.Organization = "org-bank" })
	if m.Name() != "openai:gpt-test" {
		t.Fatalf("name %q", m.Name())
	}
	if _, _, err := generate(context.Background(), m, false, question("q")); err != nil {
		t.Fatal(err)
	}
	if h := srv.Requests()[0].Header.Get("OpenAI-Organization"); h != "org-bank" {
		t.Fatalf("OpenAI-Organization = %q", h)
	}
	named := newModel(t, srv, func(c *openai.Config) { c.Name = "ollama:llama3.1" })
	if named.Name() != "ollama:llama3.1" {
		t.Fatalf("name %q", named.Name())
	}
}

func TestNewRejectsIncompleteConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cfg  openai.Config
		want string
	}{
		{"OpenAI without a key", openai.Config{Model: "gpt-4o"}, "OPENAI_API_KEY"},
		{"Azure without endpoint", openai.Config{Azure: true, APIKey: "k", Model: "d"}, "AZURE_OPENAI_ENDPOINT"},
		{"Azure without key", openai.Config{Azure: true, BaseURL: "https://x.openai.azure.com", Model: "d"}, "AZURE_OPENAI_API_KEY"},
		{"Azure without deployment", openai.Config{Azure: true, BaseURL: "https://x.openai.azure.com", APIKey: "k"}, "AZURE_OPENAI_DEPLOYMENT"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := openai.New(c.cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to name %s", err, c.want)
			}
		})
	}
	// A self-hosted server needs no key.
	if _, err := openai.New(openai.Config{BaseURL: "http://localhost:8000/v1", Model: "qwen"}); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkGenerate measures the adapter and wire round trip of one turn
// with every tool's schema, against a local server with no model latency.
func BenchmarkGenerate(b *testing.B) {
	calls := []openaitest.ToolCall{
		{Name: tools.ToolQueryMetrics, Arguments: `{"product":"customer-transactions","metrics":["total_amount"],"group_by":["channel"],"time_range":"last_7_days"}`},
		{Name: tools.ToolDescribe, Arguments: `{"product":"customers"}`},
	}
	for _, mode := range modes {
		b.Run(mode.name, func(b *testing.B) {
			srv := openaitest.NewServer(b)
			srv.SetResponder(func(openaitest.Request) openaitest.Step {
				return openaitest.Step{Text: "Looking at deposits by channel.", ToolCalls: calls, ChunkSize: 16}
			})
			m, err := openai.New(openai.Config{APIKey: "k", BaseURL: srv.BaseURL(), Model: "m", Stream: true})
			if err != nil {
				b.Fatal(err)
			}
			req := question("Total deposits in Europe last week, by channel")
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				reply, _, err := generate(context.Background(), m, mode.stream, req)
				if err != nil || len(reply.Message.ToolCalls) != 2 {
					b.Fatalf("reply %+v err %v", reply, err)
				}
			}
		})
	}
}

func TestRequestOffersTheToolsGiven(t *testing.T) {
	t.Parallel()
	srv := openaitest.NewServer(t, openaitest.Step{Text: "a"}, openaitest.Step{Text: "b"})
	m := newModel(t, srv, func(c *openai.Config) { c.Stream = false })
	all := tools.Specs()
	for _, specs := range [][]*tools.Spec{all[1:3], all} {
		req := question("q")
		req.Tools = specs
		if _, err := m.Generate(context.Background(), req, nil); err != nil {
			t.Fatal(err)
		}
	}
	reqs := srv.Requests()
	for i, want := range [][]*tools.Spec{all[1:3], all} {
		got := reqs[i].ToolNames()
		if len(got) != len(want) {
			t.Fatalf("request %d offers %v, want %d tools", i, got, len(want))
		}
		for j, s := range want {
			if got[j] != s.Name || !jsonEqual(t, reqs[i].Tools[j].Function.Parameters, s.ParametersJSON()) {
				t.Fatalf("request %d tool %d = %s, want %s", i, j, got[j], s.Name)
			}
		}
	}
}
