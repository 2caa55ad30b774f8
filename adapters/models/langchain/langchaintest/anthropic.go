// Package langchaintest holds scripted servers that speak model providers'
// native APIs, for tests of adapters/langchain and anything built on it.
//
// AnthropicServer speaks the Anthropic Messages API (POST /v1/messages):
// tools, tool_use and tool_result content blocks, usage, errors with
// retry-after, and streaming as server-sent events. Like the real API it
// rejects with 400 a conversation that does not alternate user and
// assistant turns or whose tool_use blocks are not answered, first thing in
// the next user turn, by tool_result blocks with the same ids.
package langchaintest

import (
	"bytes"
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

// ToolUse is a tool call the scripted model makes.
type ToolUse struct {
	ID    string          // default toolu_<request>_<i>
	Name  string          //
	Input json.RawMessage // a JSON object
}

// AnthropicUsage is the token count a step reports.
type AnthropicUsage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
}

// AnthropicStep answers one request.
type AnthropicStep struct {
	Text     string
	ToolUses []ToolUse

	// Status, when not 0 or 200, answers with this status and an Anthropic
	// error body carrying Error (default: the status text).
	Status     int
	Error      string
	RetryAfter string

	Delay      time.Duration   // before answering
	Usage      *AnthropicUsage // default: about 4 bytes per token
	StopReason string          // default "tool_use" with tool uses, else "end_turn"

	// Respond, when set, computes the step from the request.
	Respond func(AnthropicRequest) AnthropicStep
}

// AnthropicRequest is a request the server received.
type AnthropicRequest struct {
	Header http.Header     `json:"-"`
	Body   json.RawMessage `json:"-"`

	Model     string             `json:"model"`
	MaxTokens int                `json:"max_tokens"`
	System    json.RawMessage    `json:"system"`
	Messages  []AnthropicMessage `json:"messages"`
	Tools     []AnthropicTool    `json:"tools"`
	Stream    bool               `json:"stream"`
}

// AnthropicMessage is one turn; string content is read as one text block.
type AnthropicMessage struct {
	Role    string  `json:"role"`
	Content []Block `json:"content"`
}

// UnmarshalJSON accepts content as a string or an array of blocks.
func (m *AnthropicMessage) UnmarshalJSON(b []byte) error {
	var w struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	m.Role = w.Role
	if c := bytes.TrimSpace(w.Content); len(c) > 0 && c[0] == '"' {
		var s string
		if err := json.Unmarshal(c, &s); err != nil {
			return err
		}
		m.Content = []Block{{Type: "text", Text: s}}
		return nil
	}
	return json.Unmarshal(w.Content, &m.Content)
}

// Block is a content block: text, tool_use or tool_result.
type Block struct {
	Type      string          `json:"type"`
	Text      string          `json:"text,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   json.RawMessage `json:"content,omitempty"` // tool_result: a string or blocks
	IsError   bool            `json:"is_error,omitempty"`
}

// ResultText is a tool_result block's content as text.
func (b Block) ResultText() string {
	var s string
	if json.Unmarshal(b.Content, &s) == nil {
		return s
	}
	var parts []Block
	_ = json.Unmarshal(b.Content, &parts)
	var sb strings.Builder
	for _, p := range parts {
		sb.WriteString(p.Text)
	}
	return sb.String()
}

// AnthropicTool is a tool offered in a request.
type AnthropicTool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"input_schema"`
}

// SystemText is the system prompt, whether sent as a string or as blocks.
func (r AnthropicRequest) SystemText() string {
	var s string
	if json.Unmarshal(r.System, &s) == nil {
		return s
	}
	var blocks []Block
	_ = json.Unmarshal(r.System, &blocks)
	var sb strings.Builder
	for _, b := range blocks {
		sb.WriteString(b.Text)
	}
	return sb.String()
}

// AnthropicServer is the scripted server; safe for concurrent use.
type AnthropicServer struct {
	*httptest.Server

	mu       sync.Mutex
	script   []AnthropicStep
	requests []AnthropicRequest
	n        int
}

// NewAnthropicServer starts a server that answers with script, one step
// per request, and stops it when the test ends.
func NewAnthropicServer(t testing.TB, script ...AnthropicStep) *AnthropicServer {
	s := &AnthropicServer{script: script}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.Close)
	return s
}

// Requests returns the requests received so far.
func (s *AnthropicServer) Requests() []AnthropicRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AnthropicRequest(nil), s.requests...)
}

func (s *AnthropicServer) handle(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/v1/models" {
		// Readiness probes list the models; it uses no scripted step.
		switch {
		case r.Header.Get("x-api-key") == "":
			anthropicError(w, http.StatusUnauthorized, "authentication_error", "x-api-key header is required")
		case r.Header.Get("anthropic-version") == "":
			anthropicError(w, http.StatusBadRequest, "invalid_request_error", "anthropic-version header is required")
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"data":[{"type":"model","id":"claude-sonnet-4-5","display_name":"Claude Sonnet 4.5"}],"has_more":false}`)
		}
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
		anthropicError(w, http.StatusNotFound, "not_found_error", "Not found: "+r.URL.Path)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		anthropicError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
		return
	}
	req := AnthropicRequest{Header: r.Header.Clone(), Body: body}
	decodeErr := json.Unmarshal(body, &req)
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.n++
	n := s.n
	var step AnthropicStep
	ok := len(s.script) > 0
	if ok {
		step, s.script = s.script[0], s.script[1:]
	}
	s.mu.Unlock()

	switch {
	case r.Header.Get("x-api-key") == "":
		anthropicError(w, http.StatusUnauthorized, "authentication_error", "x-api-key header is required")
		return
	case r.Header.Get("anthropic-version") == "":
		anthropicError(w, http.StatusBadRequest, "invalid_request_error", "anthropic-version header is required")
		return
	case decodeErr != nil:
		anthropicError(w, http.StatusBadRequest, "invalid_request_error", "invalid JSON body: "+decodeErr.Error())
		return
	}
	if msg := validateAnthropic(req); msg != "" {
		anthropicError(w, http.StatusBadRequest, "invalid_request_error", msg)
		return
	}
	if !ok {
		anthropicError(w, http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("langchaintest: no step left for request %d", n))
		return
	}
	for step.Respond != nil {
		step = step.Respond(req)
	}
	if !openaitest.Sleep(r.Context(), step.Delay) {
		return
	}
	if step.Status != 0 && step.Status != http.StatusOK {
		if step.RetryAfter != "" {
			w.Header().Set("retry-after", step.RetryAfter)
		}
		msg := step.Error
		if msg == "" {
			msg = http.StatusText(step.Status)
		}
		typ := "invalid_request_error"
		switch {
		case step.Status == http.StatusTooManyRequests:
			typ = "rate_limit_error"
		case step.Status == 529:
			typ = "overloaded_error"
		case step.Status >= 500:
			typ = "api_error"
		}
		anthropicError(w, step.Status, typ, msg)
		return
	}
	var content []map[string]any
	out := 0
	if step.Text != "" {
		content = append(content, map[string]any{"type": "text", "text": step.Text})
		out += len(step.Text)
	}
	for i, tu := range step.ToolUses {
		id := tu.ID
		if id == "" {
			id = fmt.Sprintf("toolu_%d_%d", n, i)
		}
		input := tu.Input
		if len(input) == 0 {
			input = json.RawMessage("{}")
		}
		content = append(content, map[string]any{"type": "tool_use", "id": id, "name": tu.Name, "input": input})
		out += len(tu.Name) + len(input)
	}
	if step.StopReason == "" {
		step.StopReason = "end_turn"
		if len(step.ToolUses) > 0 {
			step.StopReason = "tool_use"
		}
	}
	if step.Usage == nil {
		step.Usage = &AnthropicUsage{InputTokens: (len(body) + 3) / 4, OutputTokens: (out + 3) / 4}
	}
	id := fmt.Sprintf("msg_langchaintest_%d", n)
	if req.Stream {
		streamAnthropic(w, r, req, step, id, content)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": id, "type": "message", "role": "assistant", "model": req.Model, "content": content,
		"stop_reason": step.StopReason, "stop_sequence": nil, "usage": step.Usage,
	})
}

// streamAnthropic writes the answer as the Messages API streams it:
// message_start, for each block content_block_start, its deltas
// (text_delta or input_json_delta) and content_block_stop, then
// message_delta with the stop reason and output tokens, and message_stop.
func streamAnthropic(w http.ResponseWriter, r *http.Request, req AnthropicRequest, step AnthropicStep, id string, content []map[string]any) {
	w.Header().Set("Content-Type", "text/event-stream")
	flusher, _ := w.(http.Flusher)
	send := func(event string, data map[string]any) bool {
		data["type"] = event
		b, _ := json.Marshal(data)
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return false
		}
		if flusher != nil {
			flusher.Flush()
		}
		return r.Context().Err() == nil
	}
	if !send("message_start", map[string]any{"message": map[string]any{
		"id": id, "type": "message", "role": "assistant", "model": req.Model, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": step.Usage.InputTokens, "output_tokens": 1}}}) {
		return
	}
	if !send("ping", map[string]any{}) {
		return
	}
	for i, block := range content {
		switch block["type"] {
		case "text":
			if !send("content_block_start", map[string]any{"index": i, "content_block": map[string]any{"type": "text", "text": ""}}) {
				return
			}
			for _, piece := range openaitest.Split(block["text"].(string), 6) {
				if !send("content_block_delta", map[string]any{"index": i, "delta": map[string]any{"type": "text_delta", "text": piece}}) {
					return
				}
			}
		case "tool_use":
			if !send("content_block_start", map[string]any{"index": i, "content_block": map[string]any{
				"type": "tool_use", "id": block["id"], "name": block["name"], "input": map[string]any{}}}) {
				return
			}
			for _, piece := range openaitest.Split(string(block["input"].(json.RawMessage)), 9) {
				if !send("content_block_delta", map[string]any{"index": i, "delta": map[string]any{"type": "input_json_delta", "partial_json": piece}}) {
					return
				}
			}
		}
		if !send("content_block_stop", map[string]any{"index": i}) {
			return
		}
	}
	if !send("message_delta", map[string]any{"delta": map[string]any{"stop_reason": step.StopReason, "stop_sequence": nil},
		"usage": map[string]any{"output_tokens": step.Usage.OutputTokens}}) {
		return
	}
	send("message_stop", map[string]any{})
}

func anthropicError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": msg}})
}

// validateAnthropic applies the Messages API's checks on the conversation;
// it returns the API's complaint, or "".
func validateAnthropic(req AnthropicRequest) string {
	if req.Model == "" {
		return "model: Field required"
	}
	if req.MaxTokens <= 0 {
		return "max_tokens: Field required"
	}
	if len(req.Messages) == 0 {
		return "messages: at least one message is required"
	}
	for i, t := range req.Tools {
		if !openaitest.ValidToolName(t.Name) {
			return fmt.Sprintf("tools.%d.name: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'", i)
		}
		if !openaitest.ObjectSchema(t.InputSchema) {
			return fmt.Sprintf("tools.%d.input_schema.type: Input should be 'object'", i)
		}
	}
	usesTools := false
	var pending []string // tool_use ids of the previous assistant turn
	for i, m := range req.Messages {
		want := "user"
		if i%2 == 1 {
			want = "assistant"
		}
		if m.Role != want {
			return fmt.Sprintf("messages: roles must alternate between \"user\" and \"assistant\", but found multiple %q roles in a row (messages.%d)", req.Messages[i-1].Role, i)
		}
		if len(m.Content) == 0 && i < len(req.Messages)-1 {
			return fmt.Sprintf("messages.%d: all messages must have non-empty content except for the optional final assistant message", i)
		}
		lead := 0 // tool_result blocks at the start of a user turn
		for j, b := range m.Content {
			switch b.Type {
			case "text":
				if b.Text == "" {
					return fmt.Sprintf("messages.%d.content.%d: text content blocks must be non-empty", i, j)
				}
			case "tool_use":
				usesTools = true
				if m.Role != "assistant" {
					return fmt.Sprintf("messages.%d.content.%d: tool_use blocks are only allowed in assistant messages", i, j)
				}
				var obj map[string]any
				if json.Unmarshal(b.Input, &obj) != nil || obj == nil {
					return fmt.Sprintf("messages.%d.content.%d.input: Input should be a valid dictionary", i, j)
				}
			case "tool_result":
				usesTools = true
				if m.Role != "user" {
					return fmt.Sprintf("messages.%d.content.%d: tool_result blocks are only allowed in user messages", i, j)
				}
				if lead != j {
					return fmt.Sprintf("messages.%d.content.%d: tool_result blocks must come first in a user message", i, j)
				}
				lead++
			default:
				return fmt.Sprintf("messages.%d.content.%d.type: unexpected block type %q", i, j, b.Type)
			}
		}
		if m.Role == "user" {
			answered := map[string]bool{}
			for _, b := range m.Content[:lead] {
				answered[b.ToolUseID] = true
			}
			for _, id := range pending {
				if !answered[id] {
					return fmt.Sprintf("messages.%d: `tool_use` ids were found without `tool_result` blocks immediately after: %s. Each `tool_use` block must have a corresponding `tool_result` block in the next message.", i-1, id)
				}
				delete(answered, id)
			}
			for id := range answered {
				return fmt.Sprintf("messages.%d.content: unexpected `tool_use_id` found in `tool_result` blocks: %s. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.", i, id)
			}
			pending = nil
			continue
		}
		for _, b := range m.Content {
			if b.Type == "tool_use" {
				pending = append(pending, b.ID)
			}
		}
	}
	if usesTools && len(req.Tools) == 0 {
		return "Requests which include `tool_use` or `tool_result` blocks must define tools."
	}
	return ""
}
