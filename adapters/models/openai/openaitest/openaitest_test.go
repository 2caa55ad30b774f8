package openaitest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/askmesh/askmesh/adapters/models/openai/openaitest"
)

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// The stream is OpenAI's chunk format, byte for byte: role chunk, content
// deltas, a tool call's first delta with id/type/name then argument pieces,
// the finish chunk, the usage chunk, [DONE].
func TestStreamFormat(t *testing.T) {
	srv := openaitest.NewServer(t, openaitest.Step{Text: "Hi there", ChunkSize: 5,
		ToolCalls: []openaitest.ToolCall{{ID: "call_1", Name: "get_record", Arguments: `{"id":"7"}`}},
		Usage:     &openaitest.Usage{PromptTokens: 3, CompletionTokens: 4}})
	status, got := post(t, srv.URL, `{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`)
	head := `"id":"chatcmpl-openaitest-1","model":"m","object":"chat.completion.chunk","system_fingerprint":"fp_openaitest"`
	choice := func(delta, finish string) string {
		return `{"choices":[{"delta":` + delta + `,"finish_reason":` + finish + `,"index":0,"logprobs":null}],"created":1767225600,` + head + `,"usage":null}`
	}
	want := strings.Join([]string{
		choice(`{"content":"","refusal":null,"role":"assistant"}`, "null"),
		choice(`{"content":"Hi th"}`, "null"),
		choice(`{"content":"ere"}`, "null"),
		choice(`{"tool_calls":[{"function":{"arguments":"","name":"get_record"},"id":"call_1","index":0,"type":"function"}]}`, "null"),
		choice(`{"tool_calls":[{"function":{"arguments":"{\"id\""},"index":0}]}`, "null"),
		choice(`{"tool_calls":[{"function":{"arguments":":\"7\"}"},"index":0}]}`, "null"),
		choice(`{}`, `"tool_calls"`),
		`{"choices":[],"created":1767225600,` + head + `,"usage":{"completion_tokens":4,"prompt_tokens":3,"total_tokens":7}}`,
		`[DONE]`,
	}, "\n\ndata: ")
	if status != 200 || got != "data: "+want+"\n\n" {
		t.Fatalf("status %d, stream:\n%s\nwant:\n%s", status, got, "data: "+want+"\n\n")
	}
}

func TestJSONFormat(t *testing.T) {
	srv := openaitest.NewServer(t, openaitest.Step{ToolCalls: []openaitest.ToolCall{{Name: "search_data_products", Arguments: `{"query":"x"}`}}})
	status, got := post(t, srv.URL, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
	var resp struct {
		Object  string `json:"object"`
		Choices []struct {
			Message struct {
				Role      string                `json:"role"`
				Content   *string               `json:"content"`
				ToolCalls []openaitest.ToolCall `json:"tool_calls"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
			TotalTokens      int `json:"total_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal([]byte(got), &resp); err != nil || status != 200 {
		t.Fatalf("status %d body %s: %v", status, got, err)
	}
	c := resp.Choices[0]
	// Default usage: ceil(57 request bytes / 4) and ceil((20+13) answer bytes / 4).
	if resp.Object != "chat.completion" || c.Message.Role != "assistant" || c.Message.Content != nil || c.FinishReason != "tool_calls" ||
		len(c.Message.ToolCalls) != 1 || c.Message.ToolCalls[0] != (openaitest.ToolCall{ID: "call_1_0", Name: "search_data_products", Arguments: `{"query":"x"}`}) ||
		resp.Usage.PromptTokens != 15 || resp.Usage.CompletionTokens != 9 || resp.Usage.TotalTokens != 24 {
		t.Fatalf("response %s", got)
	}
}

func TestRejectsWhatTheRealAPIRejects(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"no model", `{"messages":[{"role":"user","content":"hi"}]}`, "model parameter"},
		{"tool result without a call", `{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"tool","tool_call_id":"c1","content":"x"}]}`, "must be a response to a preceeding message with 'tool_calls'"},
		{"unanswered call", `{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"user","content":"and?"}]}`, "must be followed by tool messages"},
		{"wrong tool id", `{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c2","content":"x"}]}`, "(messages[2], tool_call_id"},
		{"bad tool name", `{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"has space","parameters":{"type":"object"}}}]}`, "does not match pattern"},
		{"schema not an object", `{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"string"}}}]}`, "schema must be a JSON Schema of 'type:"},
		{"not JSON", `{"model":`, "could not parse the JSON body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := openaitest.NewServer(t, openaitest.Step{Text: "unused"})
			status, got := post(t, srv.URL, c.body)
			if status != 400 || !strings.Contains(got, c.want) {
				t.Fatalf("status %d body %s, want 400 with %q", status, got, c.want)
			}
		})
	}
}

func TestResponderAfterScriptAndExhaustion(t *testing.T) {
	srv := openaitest.NewServer(t, openaitest.Step{Text: "scripted"})
	body := `{"model":"m","messages":[{"role":"user","content":"hi"}]}`
	if _, got := post(t, srv.URL, body); !strings.Contains(got, `"content":"scripted"`) {
		t.Fatalf("first answer %s", got)
	}
	if status, got := post(t, srv.URL, body); status != 400 || !strings.Contains(got, "no step left for request 2") {
		t.Fatalf("spent script: %d %s", status, got)
	}
	srv.SetResponder(func(r openaitest.Request) openaitest.Step {
		// A responder may look at the server: it is not called under its lock.
		return openaitest.Step{Text: fmt.Sprintf("echo %s #%d", r.Messages[len(r.Messages)-1].Content, len(srv.Requests()))}
	})
	if _, got := post(t, srv.URL, body); !strings.Contains(got, `"content":"echo hi #3"`) {
		t.Fatalf("responder answer %s", got)
	}
	if n := len(srv.Requests()); n != 3 || srv.Pending() != 0 {
		t.Fatalf("%d requests recorded, %d pending", n, srv.Pending())
	}
}

func TestErrorStep(t *testing.T) {
	srv := openaitest.NewServer(t, openaitest.Step{Status: 429, RetryAfter: "2", Error: "Rate limit reached"})
	resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	want := `{"error":{"code":null,"message":"Rate limit reached","param":null,"type":"rate_limit_exceeded"}}` + "\n"
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" || string(b) != want {
		t.Fatalf("%d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
}

// OnServed reports each request with its status and the server's own time,
// which includes the configured latency; the answer carries its length.
func TestOnServed(t *testing.T) {
	srv := openaitest.NewServer(t, openaitest.Step{Text: "hello"}, openaitest.Step{Status: http.StatusTooManyRequests})
	srv.SetLatency(20 * time.Millisecond)
	var mu sync.Mutex
	var served []openaitest.Served
	srv.SetOnServed(func(s openaitest.Served) { mu.Lock(); served = append(served, s); mu.Unlock() })
	body := `{"model":"m","messages":[{"role":"user","content":"hi"}]}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("X-Question", "q1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ContentLength != int64(len(b)) || !strings.Contains(string(b), `"content":"hello"`) {
		t.Fatalf("Content-Length %d for %d bytes: %s", resp.ContentLength, len(b), b)
	}
	if status, _ := post(t, srv.URL, body); status != http.StatusTooManyRequests {
		t.Fatalf("second request: status %d", status)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(served) != 2 {
		t.Fatalf("served %d requests, want 2", len(served))
	}
	if s := served[0]; s.Status != http.StatusOK || s.Duration < 20*time.Millisecond || s.Request.Header.Get("X-Question") != "q1" || s.Request.Model != "m" {
		t.Fatalf("first: %+v", s)
	}
	if s := served[1]; s.Status != http.StatusTooManyRequests || s.Duration < 20*time.Millisecond {
		t.Fatalf("second: status %d, %s", s.Status, s.Duration)
	}
}

// A lean server answers as the full one does, checks the conversation's
// tool calls, keeps no record, and hands the responder roles and ids only.
func TestLean(t *testing.T) {
	srv := openaitest.NewServer(t)
	srv.SetLean(true)
	var seen []openaitest.Request
	var mu sync.Mutex
	srv.SetResponder(func(r openaitest.Request) openaitest.Step {
		mu.Lock()
		seen = append(seen, r)
		mu.Unlock()
		if r.Messages[len(r.Messages)-1].Role == "tool" {
			return openaitest.Step{Text: "Line 1\n\"quoted\" <b> & é"}
		}
		return openaitest.Step{ToolCalls: []openaitest.ToolCall{{Name: "query_metrics", Arguments: `{"product":"p"}`}}}
	})
	var served []openaitest.Served
	srv.SetOnServed(func(s openaitest.Served) { mu.Lock(); served = append(served, s); mu.Unlock() })

	first := `{"model":"m","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"query_metrics","parameters":{"type":"object"}}}]}`
	status, got := post(t, srv.URL, first)
	var resp struct {
		Model   string `json:"model"`
		Choices []struct {
			Message struct {
				Content   *string               `json:"content"`
				ToolCalls []openaitest.ToolCall `json:"tool_calls"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
			TotalTokens  int `json:"total_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal([]byte(got), &resp); err != nil || status != 200 {
		t.Fatalf("status %d body %s: %v", status, got, err)
	}
	c := resp.Choices[0]
	if resp.Model != "m" || c.Message.Content != nil || c.FinishReason != "tool_calls" || len(c.Message.ToolCalls) != 1 ||
		c.Message.ToolCalls[0] != (openaitest.ToolCall{ID: "call_1_0", Name: "query_metrics", Arguments: `{"product":"p"}`}) ||
		resp.Usage.PromptTokens != (len(first)+3)/4 || resp.Usage.TotalTokens <= resp.Usage.PromptTokens {
		t.Fatalf("response %s", got)
	}

	second := `{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1_0","type":"function","function":{"name":"query_metrics","arguments":"{}"}}]},{"role":"tool","tool_call_id":"call_1_0","content":"rows"}]}`
	status, got = post(t, srv.URL, second)
	if err := json.Unmarshal([]byte(got), &resp); err != nil || status != 200 {
		t.Fatalf("status %d body %s: %v", status, got, err)
	}
	if c := resp.Choices[0]; c.Message.Content == nil || *c.Message.Content != "Line 1\n\"quoted\" <b> & é" || c.FinishReason != "stop" {
		t.Fatalf("answer %s", got)
	}

	// The pairing of tool calls and results is still checked.
	if status, got := post(t, srv.URL, `{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"tool","tool_call_id":"c1","content":"x"}]}`); status != 400 ||
		!strings.Contains(got, "must be a response to a preceeding message with 'tool_calls'") {
		t.Fatalf("tool result without a call: %d %s", status, got)
	}
	if status, _ := post(t, srv.URL, `{"model":`); status != 400 {
		t.Fatalf("not JSON: status %d", status)
	}

	mu.Lock()
	defer mu.Unlock()
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("a lean server recorded %d requests", n)
	}
	if len(seen) != 2 {
		t.Fatalf("responder saw %d requests, want 2", len(seen))
	}
	if m := seen[0].Messages; len(m) != 2 || m[0].Role != "system" || m[0].Content != "" || len(seen[0].Tools) != 0 {
		t.Errorf("first request as the responder saw it: %+v", seen[0])
	}
	if m := seen[1].Messages; len(m) != 3 || m[1].ToolCalls[0].ID != "call_1_0" || m[2].ToolCallID != "call_1_0" {
		t.Errorf("second request as the responder saw it: %+v", seen[1])
	}
	if len(served) != 4 || string(served[0].Request.Body) != first || served[2].Status != 400 {
		t.Errorf("served: %d requests, first body %q", len(served), served[0].Request.Body)
	}
}

// Conns counts connections, not requests: a client that keeps its
// connection alive opens one.
func TestConns(t *testing.T) {
	srv := openaitest.NewServer(t)
	srv.SetResponder(func(openaitest.Request) openaitest.Step { return openaitest.Step{Text: "ok"} })
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	for range 3 {
		resp, err := c.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if n := srv.Conns(); n != 1 {
		t.Fatalf("3 requests on one kept-alive connection: %d connections counted", n)
	}
	closing := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := closing.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n := srv.Conns(); n != 2 {
		t.Fatalf("after a request without keep-alive: %d connections counted, want 2", n)
	}
}

// benchBody is a request of the size askmesh sends: a long system prompt,
// three tools with schemas, and a tool result.
func benchBody() string {
	schema := `{"type":"object","properties":{"product":{"type":"string","description":"` + strings.Repeat("the data product to query; ", 20) + `"},"metrics":{"type":"array","items":{"type":"string"}}},"required":["product"]}`
	tools := make([]string, 3)
	for i := range tools {
		tools[i] = fmt.Sprintf(`{"type":"function","function":{"name":"tool_%d","description":"%s","parameters":%s}}`, i, strings.Repeat("what the tool does. ", 15), schema)
	}
	return `{"model":"m","messages":[{"role":"system","content":"` + strings.Repeat("You answer questions over the data mesh. ", 120) +
		`"},{"role":"user","content":"How many new customers did we acquire last month?"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"tool_0","arguments":"{\"product\":\"p\"}"}}]},{"role":"tool","tool_call_id":"c1","content":"` +
		strings.Repeat(`{\"month\":\"2026-10\",\"new_customers\":1234} `, 40) + `"}],"tools":[` + strings.Join(tools, ",") + `]}`
}

// BenchmarkServe is one request answered, full and lean, as JSON and as a
// stream (an answer of 100 bytes, in 15 deltas), without latency.
func BenchmarkServe(b *testing.B) {
	for _, stream := range []bool{false, true} {
		for _, lean := range []bool{false, true} {
			b.Run(fmt.Sprintf("stream=%v/lean=%v", stream, lean), func(b *testing.B) { benchmarkServe(b, stream, lean) })
		}
	}
}

func benchmarkServe(b *testing.B, stream, lean bool) {
	body := benchBody()
	if stream {
		body = strings.Replace(body, `{"model":"m",`, `{"model":"m","stream":true,"stream_options":{"include_usage":true},`, 1)
	}
	srv := openaitest.NewServer(b)
	srv.SetLean(lean)
	srv.SetResponder(func(openaitest.Request) openaitest.Step {
		return openaitest.Step{Text: strings.Repeat("the answer", 10)}
	})
	h := srv.Config.Handler
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body)))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
