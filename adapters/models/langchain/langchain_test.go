package langchain_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/adapters/models/langchain"
	"github.com/askmesh/askmesh/adapters/models/langchain/langchaintest"
	"github.com/askmesh/askmesh/adapters/models/openai/openaitest"
	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/internal/retry"
	"github.com/askmesh/askmesh/tools"
)

var modes = []struct {
	name   string
	stream bool
}{{"json", false}, {"stream", true}}

func anthropicModel(t *testing.T, srv *langchaintest.AnthropicServer, edit func(*langchain.Config)) *langchain.Model {
	t.Helper()
	cfg := langchain.Config{Provider: langchain.Anthropic, APIKey: "sk-ant-test", BaseURL: srv.URL, Model: "claude-test", RetryDelay: time.Millisecond}
	if edit != nil {
		edit(&cfg)
	}
	m, err := langchain.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func generate(ctx context.Context, m assistant.Model, stream bool, req assistant.ModelRequest) (*assistant.Reply, []string, error) {
	var pieces []string
	var onText func(string)
	if stream {
		pieces = []string{}
		onText = func(s string) { pieces = append(pieces, s) }
	}
	reply, err := m.Generate(ctx, req, onText)
	return reply, pieces, err
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		t.Fatalf("not JSON: %s / %s", a, b)
	}
	ax, _ := json.Marshal(x)
	by, _ := json.Marshal(y)
	return bytes.Equal(ax, by)
}

const system = "You answer questions about the bank's data."

func TestAnthropicToolRoundTrip(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv := langchaintest.NewAnthropicServer(t,
				langchaintest.AnthropicStep{Text: "Let me look that up.", ToolUses: []langchaintest.ToolUse{
					{ID: "toolu_A", Name: tools.ToolSearch, Input: json.RawMessage(`{"query":"deposits","limit":5}`)},
					{ID: "toolu_B", Name: tools.ToolDescribe, Input: json.RawMessage(`{"product":"customer-transactions"}`)},
				}, Usage: &langchaintest.AnthropicUsage{InputTokens: 1500, OutputTokens: 80}},
				langchaintest.AnthropicStep{Text: "Deposits last week totalled 1.2M EUR.", Usage: &langchaintest.AnthropicUsage{InputTokens: 1900, OutputTokens: 12}},
			)
			m := anthropicModel(t, srv, nil)
			if m.Name() != "anthropic:claude-test" {
				t.Fatalf("name %q", m.Name())
			}
			req := assistant.ModelRequest{Messages: []assistant.Message{
				{Role: assistant.RoleSystem, Content: system},
				{Role: assistant.RoleUser, Content: "Total deposits last week?"},
			}, Tools: tools.Specs()}
			reply, pieces, err := generate(context.Background(), m, mode.stream, req)
			if err != nil {
				t.Fatal(err)
			}
			if reply.Message.Content != "Let me look that up." || reply.FinishReason != "tool_calls" ||
				reply.Usage != (assistant.Usage{PromptTokens: 1500, CompletionTokens: 80}) || len(reply.Message.ToolCalls) != 2 {
				t.Fatalf("first reply = %+v", reply)
			}
			if mode.stream && strings.Join(pieces, "") != "Let me look that up." {
				t.Fatalf("streamed %q", pieces)
			}
			for i, want := range []struct{ id, name, args string }{
				{"toolu_A", tools.ToolSearch, `{"query":"deposits","limit":5}`},
				{"toolu_B", tools.ToolDescribe, `{"product":"customer-transactions"}`},
			} {
				got := reply.Message.ToolCalls[i]
				if got.ID != want.id || got.Name != want.name || !sameJSON(t, got.Arguments, []byte(want.args)) {
					t.Fatalf("call %d = %s %s %s, want %+v", i, got.ID, got.Name, got.Arguments, want)
				}
			}

			first := srv.Requests()[0]
			if first.Header.Get("x-api-key") != "sk-ant-test" || first.Header.Get("anthropic-version") == "" {
				t.Fatalf("headers %v", first.Header)
			}
			if first.Model != "claude-test" || first.MaxTokens != 4096 || first.SystemText() != system || first.Stream != mode.stream {
				t.Fatalf("model %q max_tokens %d system %q stream %v", first.Model, first.MaxTokens, first.SystemText(), first.Stream)
			}
			if len(first.Messages) != 1 || first.Messages[0].Role != "user" || first.Messages[0].Content[0].Text != "Total deposits last week?" {
				t.Fatalf("messages %+v", first.Messages)
			}
			specs := tools.Specs()
			if len(first.Tools) != len(specs) {
				t.Fatalf("%d tools sent, want %d", len(first.Tools), len(specs))
			}
			for i, s := range specs {
				got := first.Tools[i]
				if got.Name != s.Name || got.Description != s.Description || !sameJSON(t, got.InputSchema, s.ParametersJSON()) {
					t.Fatalf("tool %d = %s %s, want %s with %s", i, got.Name, got.InputSchema, s.Name, s.ParametersJSON())
				}
			}

			// The agent runs both calls and sends the results back.
			reply.Message.Role = assistant.RoleAssistant
			req.Messages = append(req.Messages, reply.Message,
				assistant.Message{Role: assistant.RoleTool, ToolCallID: "toolu_A", Name: tools.ToolSearch, Content: "1. customer-transactions (retail-banking)"},
				assistant.Message{Role: assistant.RoleTool, ToolCallID: "toolu_B", Name: tools.ToolDescribe, Content: "denied: not in your domain"})
			reply, _, err = generate(context.Background(), m, mode.stream, req)
			if err != nil {
				t.Fatal(err) // the server rejects a malformed conversation with 400
			}
			if reply.Message.Content != "Deposits last week totalled 1.2M EUR." || reply.FinishReason != "stop" ||
				len(reply.Message.ToolCalls) != 0 || reply.Usage != (assistant.Usage{PromptTokens: 1900, CompletionTokens: 12}) {
				t.Fatalf("second reply = %+v", reply)
			}
			second := srv.Requests()[1]
			if len(second.Messages) != 3 {
				t.Fatalf("%d turns, want user, assistant, user: %+v", len(second.Messages), second.Messages)
			}
			asst, results := second.Messages[1], second.Messages[2]
			if asst.Role != "assistant" || len(asst.Content) != 3 || asst.Content[0].Type != "text" || asst.Content[0].Text != "Let me look that up." ||
				asst.Content[1].Type != "tool_use" || asst.Content[1].ID != "toolu_A" || asst.Content[1].Name != tools.ToolSearch ||
				!sameJSON(t, asst.Content[1].Input, []byte(`{"query":"deposits","limit":5}`)) ||
				asst.Content[2].Type != "tool_use" || asst.Content[2].ID != "toolu_B" {
				t.Fatalf("assistant turn sent back: %+v", asst)
			}
			if results.Role != "user" || len(results.Content) != 2 ||
				results.Content[0].Type != "tool_result" || results.Content[0].ToolUseID != "toolu_A" ||
				results.Content[0].ResultText() != "1. customer-transactions (retail-banking)" ||
				results.Content[1].ToolUseID != "toolu_B" || results.Content[1].ResultText() != "denied: not in your domain" {
				t.Fatalf("tool results sent: %+v", results)
			}
		})
	}
}

func TestAnthropicWithoutToolsInlinesEarlierCalls(t *testing.T) {
	t.Parallel()
	// On its last step the agent offers no tools; the API refuses tool
	// blocks in such a request, so earlier calls go as text.
	srv := langchaintest.NewAnthropicServer(t, langchaintest.AnthropicStep{Text: "Here is what I found."})
	m := anthropicModel(t, srv, nil)
	req := assistant.ModelRequest{Messages: []assistant.Message{
		{Role: assistant.RoleSystem, Content: system},
		{Role: assistant.RoleUser, Content: "list loans"},
		{Role: assistant.RoleAssistant, ToolCalls: []assistant.ToolCall{{ID: "toolu_1", Name: tools.ToolQueryRecords, Arguments: json.RawMessage(`{"product":"loan-applications"}`)}}},
		{Role: assistant.RoleTool, ToolCallID: "toolu_1", Name: tools.ToolQueryRecords, Content: "denied: loans are restricted"},
	}}
	reply, _, err := generate(context.Background(), m, false, req)
	if err != nil || reply.Message.Content != "Here is what I found." {
		t.Fatalf("reply %+v err %v", reply, err)
	}
	got := srv.Requests()[0]
	if len(got.Tools) != 0 || len(got.Messages) != 3 {
		t.Fatalf("tools %d, messages %+v", len(got.Tools), got.Messages)
	}
	if c := got.Messages[1].Content[0].Text; c != `[called query_records with {"product":"loan-applications"}]` {
		t.Fatalf("assistant turn %q", c)
	}
	if c := got.Messages[2].Content[0].Text; c != "[result of query_records]\ndenied: loans are restricted" {
		t.Fatalf("user turn %q", c)
	}
}

func TestAnthropicInvalidArgumentsInHistory(t *testing.T) {
	t.Parallel()
	// A call whose arguments were not JSON (and which the executor
	// rejected) is replayed with empty input: the API wants an object.
	srv := langchaintest.NewAnthropicServer(t, langchaintest.AnthropicStep{Text: "ok"})
	req := assistant.ModelRequest{Messages: []assistant.Message{
		{Role: assistant.RoleUser, Content: "q"},
		{Role: assistant.RoleAssistant, ToolCalls: []assistant.ToolCall{{ID: "t1", Name: tools.ToolSearch, Arguments: json.RawMessage(`{"query": `)}}},
		{Role: assistant.RoleTool, ToolCallID: "t1", Name: tools.ToolSearch, Content: "error: arguments are not valid JSON"},
	}, Tools: tools.Specs()}
	if _, _, err := generate(context.Background(), anthropicModel(t, srv, nil), false, req); err != nil {
		t.Fatal(err)
	}
	if in := srv.Requests()[0].Messages[1].Content[0].Input; string(in) != "{}" {
		t.Fatalf("input sent %s", in)
	}
}

func TestAnthropicRetries(t *testing.T) {
	t.Parallel()
	ok := langchaintest.AnthropicStep{Text: "fine"}
	cases := []struct {
		name     string
		script   []langchaintest.AnthropicStep
		requests int
		status   int
		errHas   string
	}{
		{"429 then 200", []langchaintest.AnthropicStep{{Status: 429, RetryAfter: "0", Error: "Number of requests has exceeded your rate limit"}, ok}, 2, 0, ""},
		{"529 overloaded then 200", []langchaintest.AnthropicStep{{Status: 529, Error: "Overloaded"}, ok}, 2, 0, ""},
		{"500, 500 then 200", []langchaintest.AnthropicStep{{Status: 500}, {Status: 500}, ok}, 3, 0, ""},
		{"400 is not retried", []langchaintest.AnthropicStep{{Status: 400, Error: "max_tokens: too large"}, ok}, 1, 400, "anthropic:claude-test: HTTP 400: max_tokens: too large"},
		{"retries are bounded", []langchaintest.AnthropicStep{{Status: 529}, {Status: 529}, {Status: 529}, {Status: 529, Error: "Overloaded"}, ok}, 4, 529, "HTTP 529: Overloaded (after 4 attempts)"},
	}
	for _, mode := range modes {
		for _, c := range cases {
			t.Run(mode.name+"/"+c.name, func(t *testing.T) {
				srv := langchaintest.NewAnthropicServer(t, c.script...)
				reply, _, err := generate(context.Background(), anthropicModel(t, srv, nil), mode.stream,
					assistant.ModelRequest{Messages: []assistant.Message{{Role: assistant.RoleUser, Content: "q"}}, Tools: tools.Specs()})
				if n := len(srv.Requests()); n != c.requests {
					t.Fatalf("%d requests, want %d", n, c.requests)
				}
				if c.status == 0 {
					if err != nil || reply.Message.Content != "fine" {
						t.Fatalf("reply %+v err %v", reply, err)
					}
					return
				}
				if err == nil || retry.StatusOf(err) != c.status || !strings.Contains(err.Error(), c.errHas) {
					t.Fatalf("err %v (status %d), want %d and %q", err, retry.StatusOf(err), c.status, c.errHas)
				}
			})
		}
	}
}

func TestAnthropicRetryAfterRespected(t *testing.T) {
	t.Parallel()
	srv := langchaintest.NewAnthropicServer(t, langchaintest.AnthropicStep{Status: 429, RetryAfter: "1"}, langchaintest.AnthropicStep{Text: "ok"})
	start := time.Now()
	if _, _, err := generate(context.Background(), anthropicModel(t, srv, nil), false,
		assistant.ModelRequest{Messages: []assistant.Message{{Role: assistant.RoleUser, Content: "q"}}}); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Fatalf("retried after %v, before the 1s the server asked for", waited)
	}
}

func TestAnthropicContextCancel(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv := langchaintest.NewAnthropicServer(t, langchaintest.AnthropicStep{Delay: time.Minute, Text: "late"}, langchaintest.AnthropicStep{Text: "late"})
			m := anthropicModel(t, srv, nil)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				_, _, err := generate(ctx, m, mode.stream, assistant.ModelRequest{Messages: []assistant.Message{{Role: assistant.RoleUser, Content: "q"}}})
				done <- err
			}()
			for len(srv.Requests()) < 1 {
				time.Sleep(5 * time.Millisecond)
			}
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if n := len(srv.Requests()); n != 1 {
				t.Fatalf("%d requests", n)
			}
		})
	}
}

func TestAnthropicBaseURLForms(t *testing.T) {
	t.Parallel()
	for _, suffix := range []string{"", "/", "/v1", "/v1/"} {
		srv := langchaintest.NewAnthropicServer(t, langchaintest.AnthropicStep{Text: "ok"})
		m := anthropicModel(t, srv, func(c *langchain.Config) { c.BaseURL = srv.URL + suffix })
		if _, _, err := generate(context.Background(), m, false, assistant.ModelRequest{Messages: []assistant.Message{{Role: assistant.RoleUser, Content: "q"}}}); err != nil {
			t.Fatalf("base URL %q: %v", srv.URL+suffix, err)
		}
	}
}

func TestOllamaOverItsOpenAICompatibleAPI(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv := openaitest.NewServer(t,
				openaitest.Step{ToolCalls: []openaitest.ToolCall{{ID: "call_x", Name: tools.ToolQueryMetrics, Arguments: `{"product":"customer-acquisition","metrics":["new_customers"]}`}},
					Usage: &openaitest.Usage{PromptTokens: 900, CompletionTokens: 30}},
				openaitest.Step{Text: "412 new customers last month.", Usage: &openaitest.Usage{PromptTokens: 1000, CompletionTokens: 9}})
			m, err := langchain.New(context.Background(), langchain.Config{Provider: langchain.Ollama, BaseURL: srv.URL, Model: "qwen2.5:14b", RetryDelay: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if m.Name() != "ollama:qwen2.5:14b" {
				t.Fatalf("name %q", m.Name())
			}
			req := assistant.ModelRequest{Messages: []assistant.Message{
				{Role: assistant.RoleSystem, Content: system}, {Role: assistant.RoleUser, Content: "new customers last month?"}}, Tools: tools.Specs()}
			reply, _, err := generate(context.Background(), m, mode.stream, req)
			if err != nil {
				t.Fatal(err)
			}
			if len(reply.Message.ToolCalls) != 1 || reply.Message.ToolCalls[0].ID != "call_x" ||
				string(reply.Message.ToolCalls[0].Arguments) != `{"product":"customer-acquisition","metrics":["new_customers"]}` ||
				reply.Usage != (assistant.Usage{PromptTokens: 900, CompletionTokens: 30}) {
				t.Fatalf("reply %+v", reply)
			}
			reply.Message.Role = assistant.RoleAssistant
			req.Messages = append(req.Messages, reply.Message,
				assistant.Message{Role: assistant.RoleTool, ToolCallID: "call_x", Name: tools.ToolQueryMetrics, Content: `{"rows":[{"new_customers":412}]}`})
			reply, _, err = generate(context.Background(), m, mode.stream, req)
			if err != nil || reply.Message.Content != "412 new customers last month." || reply.Usage.PromptTokens != 1000 {
				t.Fatalf("reply %+v err %v", reply, err)
			}
			reqs := srv.Requests()
			if reqs[0].Path != "/v1/chat/completions" || reqs[0].Model != "qwen2.5:14b" || len(reqs[0].Tools) != len(tools.Specs()) {
				t.Fatalf("first request %s model %s tools %d", reqs[0].Path, reqs[0].Model, len(reqs[0].Tools))
			}
			res := reqs[1].LastToolResults()
			if len(res) != 1 || res[0].ToolCallID != "call_x" || res[0].Content != `{"rows":[{"new_customers":412}]}` {
				t.Fatalf("tool result sent %+v", res)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		cfg  langchain.Config
		want string
	}{
		{langchain.Config{Provider: langchain.Anthropic}, "ANTHROPIC_API_KEY"},
		{langchain.Config{}, "no provider"},
		{langchain.Config{Provider: "googleai"}, `unknown provider "googleai"`},
		{langchain.Config{Provider: langchain.Ollama, BaseURL: "http://[::1"}, "OLLAMA_HOST"},
	}
	for _, c := range cases {
		if _, err := langchain.New(context.Background(), c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want %q", c.cfg, err, c.want)
		}
	}
}
