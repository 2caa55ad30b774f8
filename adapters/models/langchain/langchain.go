// Package langchain is askmesh's model over providers that do not speak the
// OpenAI API, through github.com/tmc/langchaingo: Anthropic's Messages API.
// It also serves Ollama: langchaingo's Ollama provider (v0.1.14) sends no
// tools and cannot carry tool calls, so Ollama is reached through its
// OpenAI-compatible /v1 endpoint with adapters/openai, which can.
package langchain

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/anthropic"

	"github.com/askmesh/askmesh/adapters/models/openai"
	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/internal/retry"
	"github.com/askmesh/askmesh/tools"
)

// Providers.
const (
	Anthropic = "anthropic"
	Ollama    = "ollama"
)

// Defaults when neither Config nor the environment names a model.
const (
	DefaultAnthropicModel = "claude-sonnet-4-5"
	DefaultOllamaModel    = "llama3.1"
	DefaultOllamaHost     = "http://127.0.0.1:11434"
)

// Config configures a Model.
type Config struct {
	Provider string // anthropic | ollama
	Model    string
	APIKey   string // Anthropic: required; Ollama: only behind a proxy that wants one
	// BaseURL is the API's address: https://api.anthropic.com (default; a
	// trailing /v1 is optional), or Ollama's host, http://127.0.0.1:11434
	// by default.
	BaseURL string
	// Timeout bounds each attempt, a streamed answer included (default 60s).
	Timeout time.Duration
	// MaxRetries bounds retries on 408, 429, 5xx (529 included) and
	// connection failures (default 3; negative: never retry).
	MaxRetries int
	// RetryDelay is the first retry's backoff, doubled on each retry, with
	// jitter (default 500ms). A Retry-After header overrides it.
	RetryDelay time.Duration
	// MaxTokens bounds an Anthropic answer's length (default 4096).
	MaxTokens  int
	HTTPClient *http.Client
}

// Model is an assistant.Model over a langchaingo provider. It is safe for
// concurrent use.
type Model struct {
	name      string
	llm       llms.Model      // Anthropic
	delegate  assistant.Model // Ollama, over its OpenAI-compatible API
	policy    retry.Policy
	maxTokens int
	ping      anthropicPing // Anthropic: what Ping calls
}

var _ assistant.Model = (*Model)(nil)

// New checks cfg and returns a Model. It makes no request.
func New(ctx context.Context, cfg Config) (*Model, error) {
	_ = ctx // unused: the providers connect on the first request
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 3
	}
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = 4096
	}
	switch cfg.Provider {
	case Anthropic:
		if cfg.Model == "" {
			cfg.Model = DefaultAnthropicModel
		}
		if cfg.APIKey == "" {
			return nil, errors.New("anthropic: no API key: set ANTHROPIC_API_KEY")
		}
		base := strings.TrimRight(cfg.BaseURL, "/")
		if base == "" {
			base = "https://api.anthropic.com"
		}
		if !strings.HasSuffix(base, "/v1") {
			// ANTHROPIC_BASE_URL names the host, as Anthropic's SDKs read
			// it; langchaingo wants the versioned base.
			base += "/v1"
		}
		llm, err := anthropic.New(anthropic.WithToken(cfg.APIKey), anthropic.WithModel(cfg.Model), anthropic.WithBaseURL(base),
			anthropic.WithHTTPClient(turnMerger{next: retry.Doer{Client: cfg.HTTPClient}}))
		if err != nil {
			return nil, fmt.Errorf("anthropic: %w", err)
		}
		return &Model{name: Anthropic + ":" + cfg.Model, llm: llm, maxTokens: cfg.MaxTokens,
			policy: retry.Policy{MaxRetries: cfg.MaxRetries, Timeout: cfg.Timeout, BaseDelay: cfg.RetryDelay},
			ping:   anthropicPing{url: base + "/models", key: cfg.APIKey, client: cfg.HTTPClient}}, nil
	case Ollama:
		if cfg.Model == "" {
			cfg.Model = DefaultOllamaModel
		}
		base, err := ollamaBase(cfg.BaseURL)
		if err != nil {
			return nil, err
		}
		name := Ollama + ":" + cfg.Model
		m, err := openai.New(openai.Config{BaseURL: base, APIKey: cfg.APIKey, Model: cfg.Model, Timeout: cfg.Timeout,
			MaxRetries: cfg.MaxRetries, RetryDelay: cfg.RetryDelay, Stream: true, HTTPClient: cfg.HTTPClient, Name: name})
		if err != nil {
			return nil, fmt.Errorf("ollama: %w", err)
		}
		return &Model{name: name, delegate: m}, nil
	case "":
		return nil, errors.New("langchain: no provider: choose anthropic or ollama")
	default:
		return nil, fmt.Errorf("langchain: unknown provider %q: choose anthropic or ollama (openai and azure are served by adapters/openai)", cfg.Provider)
	}
}

// ollamaBase turns OLLAMA_HOST's forms into the OpenAI-compatible base URL,
// as Ollama reads the variable: a bare host or host:port means http on
// port 11434 by default, a URL its scheme's port.
func ollamaBase(host string) (string, error) {
	host = strings.TrimRight(strings.TrimSpace(host), "/")
	if host == "" {
		host = DefaultOllamaHost
	}
	bare := !strings.Contains(host, "://")
	if bare {
		host = "http://" + host
	}
	u, err := url.Parse(host)
	if err != nil || u.Hostname() == "" && u.Port() == "" {
		return "", fmt.Errorf("ollama: OLLAMA_HOST %q is not a host or URL", host)
	}
	if u.Hostname() == "" {
		u.Host = "127.0.0.1" + u.Host
	}
	if bare && u.Port() == "" {
		u.Host += ":11434"
	}
	u.Path = strings.TrimSuffix(u.Path, "/v1") + "/v1"
	return u.String(), nil
}

// Name is "<provider>:<model>".
func (m *Model) Name() string { return m.name }

// Generate sends one turn and returns the model's message. With onText the
// answer is streamed to it; a failed attempt is retried only while nothing
// has been passed to onText.
func (m *Model) Generate(ctx context.Context, req assistant.ModelRequest, onText func(string)) (*assistant.Reply, error) {
	if m.delegate != nil {
		return m.delegate.Generate(ctx, req, onText)
	}
	msgs := toMessages(req)
	opts := []llms.CallOption{llms.WithMaxTokens(m.maxTokens)}
	if len(req.Tools) > 0 {
		opts = append(opts, llms.WithTools(requestTools(req.Tools)))
	}
	// langchaingo calls the streaming function from its reader goroutine.
	var emitted atomic.Bool
	if onText != nil {
		opts = append(opts, llms.WithStreamingFunc(func(_ context.Context, chunk []byte) error {
			if len(chunk) > 0 {
				emitted.Store(true)
				onText(string(chunk))
			}
			return nil
		}))
	}
	var resp *llms.ContentResponse
	err := retry.Do(ctx, m.policy, func(ctx context.Context) error {
		r, err := m.llm.GenerateContent(ctx, msgs, opts...)
		switch {
		case err == nil:
			resp = r
			return nil
		case emitted.Load():
			return retry.Permanent(describe(err))
		case errors.Is(err, anthropic.ErrEmptyResponse):
			// Also what a stream cut before message_stop looks like.
			return retry.Transient(err)
		}
		return describe(err)
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.name, err)
	}
	return fromResponse(resp), nil
}

// toMessages maps the conversation to langchaingo's. langchaingo's
// Anthropic provider reads one part per message, so an assistant turn with
// text and several tool calls becomes one message per part, and each tool
// result its own message; turnMerger joins them back into the alternating
// turns the Messages API requires. When no tools are offered (the agent's
// last step), earlier tool calls and results are written out as text: the
// API refuses tool blocks in a request that defines no tools.
func toMessages(req assistant.ModelRequest) []llms.MessageContent {
	inline := len(req.Tools) == 0
	var system []string
	var out []llms.MessageContent
	text := func(role llms.ChatMessageType, s string) {
		if s != "" {
			out = append(out, llms.MessageContent{Role: role, Parts: []llms.ContentPart{llms.TextContent{Text: s}}})
		}
	}
	for _, m := range req.Messages {
		switch m.Role {
		case assistant.RoleSystem:
			system = append(system, m.Content)
		case assistant.RoleUser:
			text(llms.ChatMessageTypeHuman, m.Content)
		case assistant.RoleAssistant:
			text(llms.ChatMessageTypeAI, m.Content)
			for _, tc := range m.ToolCalls {
				args := objectArgs(tc.Arguments)
				if inline {
					text(llms.ChatMessageTypeAI, fmt.Sprintf("[called %s with %s]", tc.Name, args))
					continue
				}
				out = append(out, llms.MessageContent{Role: llms.ChatMessageTypeAI, Parts: []llms.ContentPart{
					llms.ToolCall{ID: tc.ID, Type: "function", FunctionCall: &llms.FunctionCall{Name: tc.Name, Arguments: args}}}})
			}
		case assistant.RoleTool:
			if inline {
				text(llms.ChatMessageTypeHuman, fmt.Sprintf("[result of %s]\n%s", m.Name, m.Content))
				continue
			}
			out = append(out, llms.MessageContent{Role: llms.ChatMessageTypeTool, Parts: []llms.ContentPart{
				llms.ToolCallResponse{ToolCallID: m.ToolCallID, Name: m.Name, Content: m.Content}}})
		}
	}
	if len(system) > 0 {
		out = append([]llms.MessageContent{{Role: llms.ChatMessageTypeSystem,
			Parts: []llms.ContentPart{llms.TextContent{Text: strings.Join(system, "\n\n")}}}}, out...)
	}
	return out
}

// objectArgs returns a call's arguments if they are a JSON object, else
// "{}": Anthropic's tool_use input must be an object, and arguments the
// executor already rejected need not be replayed exactly.
func objectArgs(raw json.RawMessage) string {
	var obj map[string]any
	if json.Unmarshal(raw, &obj) == nil && obj != nil {
		return string(raw)
	}
	return "{}"
}

// allTools is tools.Specs() as langchaingo takes them, built once: the
// agent offers that same list on every step but its last. Requests only
// read it.
var allTools = toTools(tools.Specs())

// requestTools converts specs, or returns allTools when specs is
// tools.Specs() itself.
func requestTools(specs []*tools.Spec) []llms.Tool {
	if all := tools.Specs(); len(specs) > 0 && len(specs) == len(all) && &specs[0] == &all[0] {
		return allTools
	}
	return toTools(specs)
}

// toTools passes each schema as the JSON encoded at start-up: langchaingo
// sends Parameters as the tool's input_schema without reading it.
func toTools(specs []*tools.Spec) []llms.Tool {
	out := make([]llms.Tool, len(specs))
	for i, s := range specs {
		out[i] = llms.Tool{Type: "function", Function: &llms.FunctionDefinition{Name: s.Name, Description: s.Description, Parameters: s.ParametersJSON()}}
	}
	return out
}

func fromResponse(resp *llms.ContentResponse) *assistant.Reply {
	reply := &assistant.Reply{Message: assistant.Message{Role: assistant.RoleAssistant}}
	var text strings.Builder
	usageRead := false
	for _, c := range resp.Choices {
		text.WriteString(c.Content)
		for _, tc := range c.ToolCalls {
			if tc.FunctionCall != nil {
				reply.Message.ToolCalls = append(reply.Message.ToolCalls, assistant.ToolCall{ID: tc.ID, Name: tc.FunctionCall.Name,
					Arguments: json.RawMessage(tc.FunctionCall.Arguments)})
			}
		}
		if c.StopReason != "" {
			reply.FinishReason = finishReason(c.StopReason)
		}
		// Every choice repeats the message's usage: read it once.
		if !usageRead && c.GenerationInfo != nil {
			in, okIn := intOf(c.GenerationInfo["InputTokens"])
			out, okOut := intOf(c.GenerationInfo["OutputTokens"])
			if okIn || okOut {
				reply.Usage = assistant.Usage{PromptTokens: in, CompletionTokens: out}
				usageRead = true
			}
		}
	}
	reply.Message.Content = text.String()
	return reply
}

// finishReason uses the OpenAI names the rest of askmesh knows.
func finishReason(s string) string {
	switch s {
	case "end_turn", "stop_sequence":
		return "stop"
	case "tool_use":
		return "tool_calls"
	case "max_tokens":
		return "length"
	}
	return s
}

func intOf(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case float64:
		return int(n), true
	}
	return 0, false
}

var statusRe = regexp.MustCompile(`API returned unexpected status code: (\d+)(?:: (.*))?`)

// describe rewrites langchaingo's "anthropic: failed to create message:
// API returned unexpected status code: 429: <message>" as "HTTP 429:
// <message>", keeping the original in the chain.
func describe(err error) error {
	m := statusRe.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	status, _ := strconv.Atoi(m[1])
	msg := m[2]
	if msg == "" {
		msg = http.StatusText(status)
	}
	return &statusError{msg: fmt.Sprintf("HTTP %d: %s", status, msg), err: err}
}

type statusError struct {
	msg string
	err error
}

func (e *statusError) Error() string { return e.msg }
func (e *statusError) Unwrap() error { return e.err }

// turnMerger joins consecutive messages of the same role in a Messages API
// request into one turn, tool_result blocks first, as the API requires.
type turnMerger struct{ next retry.Doer }

func (t turnMerger) Do(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/messages") && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
		if merged, err := mergeTurns(body); err == nil {
			body = merged
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	return t.next.Do(req)
}

func mergeTurns(body []byte) ([]byte, error) {
	var payload map[string]json.RawMessage
	if err := json.Unmarshal(body, &payload); err != nil {
		return nil, err
	}
	var msgs []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(payload["messages"], &msgs); err != nil {
		return nil, err
	}
	type turn struct {
		Role    string            `json:"role"`
		Content []json.RawMessage `json:"content"`
	}
	var turns []turn
	for _, m := range msgs {
		var blocks []json.RawMessage
		if c := bytes.TrimSpace(m.Content); len(c) > 0 && c[0] == '"' {
			var s string
			if err := json.Unmarshal(c, &s); err != nil {
				return nil, err
			}
			b, _ := json.Marshal(map[string]string{"type": "text", "text": s})
			blocks = []json.RawMessage{b}
		} else if err := json.Unmarshal(c, &blocks); err != nil {
			return nil, err
		}
		if n := len(turns); n > 0 && turns[n-1].Role == m.Role {
			turns[n-1].Content = append(turns[n-1].Content, blocks...)
			continue
		}
		turns = append(turns, turn{Role: m.Role, Content: blocks})
	}
	for i := range turns {
		var results, rest []json.RawMessage
		for _, b := range turns[i].Content {
			var head struct {
				Type string `json:"type"`
			}
			_ = json.Unmarshal(b, &head)
			if head.Type == "tool_result" {
				results = append(results, b)
			} else {
				rest = append(rest, b)
			}
		}
		turns[i].Content = append(results, rest...)
	}
	b, err := json.Marshal(turns)
	if err != nil {
		return nil, err
	}
	payload["messages"] = b
	return json.Marshal(payload)
}
