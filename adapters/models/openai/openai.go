// Package openai is askmesh's model over the OpenAI chat completions API
// (github.com/sashabaranov/go-openai): OpenAI itself, Azure OpenAI, and any
// server that speaks the same API (vLLM, Ollama's /v1, llama.cpp) by base URL.
package openai

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/internal/retry"
	"github.com/askmesh/askmesh/tools"
)

// DefaultModel is used when neither Config.Model nor OPENAI_MODEL says.
const DefaultModel = "gpt-4o-mini"

// DefaultAzureAPIVersion is the Azure OpenAI API version used when none is
// set: a GA version with tool calling and streamed usage.
const DefaultAzureAPIVersion = "2024-10-21"

// Config configures a Model.
type Config struct {
	APIKey string
	// BaseURL is the API's base, /v1 included: https://api.openai.com/v1
	// (default), http://localhost:8000/v1 (vLLM), http://localhost:11434/v1
	// (Ollama). With Azure it is the resource endpoint,
	// https://<resource>.openai.azure.com.
	BaseURL string
	// Model is the model name; with Azure, the deployment name.
	Model           string
	Azure           bool
	AzureAPIVersion string // default DefaultAzureAPIVersion
	Organization    string
	// Timeout bounds each attempt, a streamed answer included (default 60s).
	Timeout time.Duration
	// MaxRetries bounds retries on 408, 429, 5xx and connection failures
	// (default 3; negative: never retry).
	MaxRetries int
	// RetryDelay is the first retry's backoff, doubled on each retry, with
	// jitter (default 500ms). A Retry-After header overrides it.
	RetryDelay time.Duration
	// Stream streams the answer when Generate is given an onText callback.
	// askmesh's configuration sets it; a zero Config does not stream.
	Stream bool
	// Temperature, when set, is sent as is (0 included); unset, the
	// server's default applies.
	Temperature *float32
	HTTPClient  *http.Client // default: a plain client (attempts have their own timeout)
	// Name overrides what Name returns ("openai:<model>", "azure:<deployment>"),
	// for servers reached through this adapter under another name.
	Name string
}

// Model is an assistant.Model over the chat completions API. It is safe
// for concurrent use.
type Model struct {
	cfg    Config
	name   string
	client *goopenai.Client
	policy retry.Policy
}

var _ assistant.Model = (*Model)(nil)

// New checks cfg and returns a Model. It makes no request.
func New(cfg Config) (*Model, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 3
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	doer := retry.Doer{Client: cfg.HTTPClient}
	var cc goopenai.ClientConfig
	if cfg.Azure {
		switch {
		case cfg.BaseURL == "":
			return nil, errors.New("azure openai: no endpoint: set AZURE_OPENAI_ENDPOINT (https://<resource>.openai.azure.com)")
		case cfg.APIKey == "":
			return nil, errors.New("azure openai: no API key: set AZURE_OPENAI_API_KEY")
		case cfg.Model == "":
			return nil, errors.New("azure openai: no deployment: set AZURE_OPENAI_DEPLOYMENT")
		}
		if cfg.AzureAPIVersion == "" {
			cfg.AzureAPIVersion = DefaultAzureAPIVersion
		}
		cc = goopenai.DefaultAzureConfig(cfg.APIKey, cfg.BaseURL)
		cc.APIVersion = cfg.AzureAPIVersion
		// The model is the deployment's name, used as given (the library
		// would otherwise rewrite names containing "." or ":").
		cc.AzureModelMapperFunc = func(model string) string { return model }
	} else {
		if cfg.Model == "" {
			cfg.Model = DefaultModel
		}
		if cfg.BaseURL == "" && cfg.APIKey == "" {
			return nil, errors.New("openai: no API key: set OPENAI_API_KEY, or OPENAI_BASE_URL for a server that needs none")
		}
		cc = goopenai.DefaultConfig(cfg.APIKey)
		if cfg.BaseURL != "" {
			cc.BaseURL = cfg.BaseURL
		}
	}
	cc.OrgID = cfg.Organization
	cc.HTTPClient = bodyDoer{next: doer}
	name := cfg.Name
	if name == "" {
		name = "openai:" + cfg.Model
		if cfg.Azure {
			name = "azure:" + cfg.Model
		}
	}
	return &Model{
		cfg:    cfg,
		name:   name,
		client: goopenai.NewClientWithConfig(cc),
		policy: retry.Policy{MaxRetries: cfg.MaxRetries, Timeout: cfg.Timeout, BaseDelay: cfg.RetryDelay},
	}, nil
}

// Name is "openai:<model>", "azure:<deployment>" or Config.Name.
func (m *Model) Name() string { return m.name }

// Generate sends one turn and returns the model's message. With onText and
// Config.Stream it streams: text is passed to onText as it arrives and
// tool-call deltas are assembled. A failed attempt is retried only while
// nothing has been passed to onText.
func (m *Model) Generate(ctx context.Context, req assistant.ModelRequest, onText func(string)) (*assistant.Reply, error) {
	ctx, creq := withParts(ctx, m.request(req), req.Tools)
	stream := m.cfg.Stream && onText != nil
	var reply *assistant.Reply
	err := retry.Do(ctx, m.policy, func(ctx context.Context) error {
		var err error
		if stream {
			reply, err = m.stream(ctx, creq, onText)
		} else {
			reply, err = m.complete(ctx, creq)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.name, err)
	}
	return reply, nil
}

func (m *Model) request(req assistant.ModelRequest) goopenai.ChatCompletionRequest {
	creq := goopenai.ChatCompletionRequest{Model: m.cfg.Model, Messages: make([]goopenai.ChatCompletionMessage, 0, len(req.Messages))}
	if t := m.cfg.Temperature; t != nil {
		creq.Temperature = *t
		if *t == 0 {
			// go-openai omits a zero temperature; the smallest float32 is
			// sent instead and means the same.
			creq.Temperature = math.SmallestNonzeroFloat32
		}
	}
	for _, msg := range req.Messages {
		if msg.Role == assistant.RoleAssistant && msg.Content == "" && len(msg.ToolCalls) == 0 {
			// An empty answer kept in the history (a filtered or cut-off
			// reply): the API rejects an assistant message with neither
			// content nor tool calls, and it carries nothing.
			continue
		}
		out := goopenai.ChatCompletionMessage{Role: msg.Role, Content: msg.Content}
		switch msg.Role {
		case assistant.RoleAssistant:
			for _, tc := range msg.ToolCalls {
				args := string(tc.Arguments)
				if strings.TrimSpace(args) == "" {
					args = "{}"
				}
				out.ToolCalls = append(out.ToolCalls, goopenai.ToolCall{ID: tc.ID, Type: goopenai.ToolTypeFunction,
					Function: goopenai.FunctionCall{Name: tc.Name, Arguments: args}})
			}
		case assistant.RoleTool:
			out.ToolCallID = msg.ToolCallID
		}
		creq.Messages = append(creq.Messages, out)
	}
	// The tools (req.Tools as toTools converts them) are spliced into the
	// body by withParts and bodyDoer, from encodings made once.
	return creq
}

func toTools(specs []*tools.Spec) []goopenai.Tool {
	var out []goopenai.Tool
	for _, s := range specs {
		out = append(out, toTool(s))
	}
	return out
}

func toTool(s *tools.Spec) goopenai.Tool {
	return goopenai.Tool{Type: goopenai.ToolTypeFunction, Function: &goopenai.FunctionDefinition{
		Name: s.Name, Description: s.Description, Parameters: s.ParametersJSON()}}
}

func (m *Model) complete(ctx context.Context, creq goopenai.ChatCompletionRequest) (*assistant.Reply, error) {
	resp, err := m.client.CreateChatCompletion(ctx, creq)
	if err != nil {
		return nil, describe(err)
	}
	if len(resp.Choices) == 0 {
		return nil, errors.New("the response has no choices")
	}
	c := resp.Choices[0]
	msg := assistant.Message{Role: assistant.RoleAssistant, Content: c.Message.Content}
	if msg.Content == "" {
		msg.Content = c.Message.Refusal
	}
	for _, tc := range c.Message.ToolCalls {
		msg.ToolCalls = append(msg.ToolCalls, assistant.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: []byte(tc.Function.Arguments)})
	}
	return &assistant.Reply{Message: msg, FinishReason: string(c.FinishReason),
		Usage: assistant.Usage{PromptTokens: resp.Usage.PromptTokens, CompletionTokens: resp.Usage.CompletionTokens}}, nil
}

func (m *Model) stream(ctx context.Context, creq goopenai.ChatCompletionRequest, onText func(string)) (*assistant.Reply, error) {
	creq.Stream = true
	creq.StreamOptions = &goopenai.StreamOptions{IncludeUsage: true}
	s, err := m.client.CreateChatCompletionStream(ctx, creq)
	if err != nil {
		return nil, describe(err)
	}
	defer s.Close()
	var acc accumulator
	for {
		chunk, err := s.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			err = describe(err)
			if acc.emitted {
				// The user has seen part of this answer: a retry would
				// show a different one after it.
				return nil, retry.Permanent(err)
			}
			return nil, err
		}
		acc.add(chunk, onText)
	}
	if acc.finish == "" {
		err := errors.New("the stream ended before the model finished (no finish_reason)")
		if acc.emitted {
			return nil, retry.Permanent(err)
		}
		return nil, retry.Transient(err)
	}
	return acc.reply(), nil
}

// accumulator assembles a streamed message. Tool calls arrive as deltas
// keyed by index: the first carries id and name, the following ones pieces
// of the arguments, and parallel calls may interleave.
type accumulator struct {
	text    strings.Builder
	calls   []*partialCall
	byIndex map[int]*partialCall
	finish  string
	usage   assistant.Usage
	emitted bool
}

type partialCall struct {
	index    int
	id, name string
	args     strings.Builder
}

func (a *accumulator) add(chunk goopenai.ChatCompletionStreamResponse, onText func(string)) {
	if u := chunk.Usage; u != nil {
		a.usage = assistant.Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens}
	}
	for _, ch := range chunk.Choices {
		if ch.Index != 0 {
			continue // only one choice is asked for
		}
		for _, s := range []string{ch.Delta.Content, ch.Delta.Refusal} {
			if s != "" {
				a.text.WriteString(s)
				a.emitted = true
				onText(s)
			}
		}
		for _, d := range ch.Delta.ToolCalls {
			c := a.call(d)
			if d.ID != "" {
				c.id = d.ID
			}
			if c.name == "" {
				c.name = d.Function.Name
			}
			c.args.WriteString(d.Function.Arguments)
		}
		if ch.FinishReason != "" && ch.FinishReason != goopenai.FinishReasonNull {
			a.finish = string(ch.FinishReason)
		}
	}
}

// call finds the call a delta belongs to. Servers that omit the index send
// calls one after the other: a new id starts a new call.
func (a *accumulator) call(d goopenai.ToolCall) *partialCall {
	if a.byIndex == nil {
		a.byIndex = map[int]*partialCall{}
	}
	idx := len(a.calls)
	switch {
	case d.Index != nil:
		idx = *d.Index
	case len(a.calls) > 0 && (d.ID == "" || d.ID == a.calls[len(a.calls)-1].id):
		return a.calls[len(a.calls)-1]
	}
	c, ok := a.byIndex[idx]
	if !ok {
		c = &partialCall{index: idx}
		a.byIndex[idx] = c
		a.calls = append(a.calls, c)
	}
	return c
}

func (a *accumulator) reply() *assistant.Reply {
	sort.SliceStable(a.calls, func(i, j int) bool { return a.calls[i].index < a.calls[j].index })
	msg := assistant.Message{Role: assistant.RoleAssistant, Content: a.text.String()}
	for _, c := range a.calls {
		msg.ToolCalls = append(msg.ToolCalls, assistant.ToolCall{ID: c.id, Name: c.name, Arguments: []byte(c.args.String())})
	}
	return &assistant.Reply{Message: msg, Usage: a.usage, FinishReason: a.finish}
}

// describe rewrites go-openai's errors as "HTTP <status>: <API message>",
// keeping the original in the chain.
func describe(err error) error {
	var apiErr *goopenai.APIError
	var reqErr *goopenai.RequestError
	switch {
	case errors.As(err, &apiErr) && apiErr.HTTPStatusCode > 0:
		return &statusError{status: apiErr.HTTPStatusCode, msg: apiErr.Message, err: err}
	case errors.As(err, &apiErr):
		return &statusError{msg: apiErr.Message, err: err}
	case errors.As(err, &reqErr):
		body := strings.TrimSpace(string(reqErr.Body))
		if len(body) > 300 {
			body = body[:300] + "…"
		}
		if body == "" {
			body = http.StatusText(reqErr.HTTPStatusCode)
		}
		return &statusError{status: reqErr.HTTPStatusCode, msg: body, err: err}
	}
	return err
}

type statusError struct {
	status int
	msg    string
	err    error
}

func (e *statusError) Error() string {
	if e.status == 0 {
		return "API error: " + e.msg
	}
	return fmt.Sprintf("HTTP %d: %s", e.status, e.msg)
}

func (e *statusError) Unwrap() error { return e.err }
