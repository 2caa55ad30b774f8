// Package assistant turns a question into tool calls through the executor
// and writes an answer that cites its sources. The Model interface is its
// port to language models: adapters/openai, adapters/langchain and the
// offline planner (assistant/planner) implement it.
package assistant

import (
	"context"
	"encoding/json"

	"github.com/askmesh/askmesh/tools"
)

// Roles of conversation messages.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// Message is one message of a conversation, in the shape every chat model
// API shares: assistant messages may carry tool calls, tool messages answer
// one call by its id.
type Message struct {
	Role       string     `json:"role"`
	Content    string     `json:"content,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
	Name       string     `json:"name,omitempty"` // the tool's name, on tool messages
}

// ToolCall is a call the model asked for. Arguments are kept as the model
// sent them (possibly invalid JSON) so the executor can say what is wrong.
type ToolCall struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// ModelRequest is one turn's input to a model.
type ModelRequest struct {
	Messages []Message     // system prompt first, then the conversation
	Tools    []*tools.Spec // the tools the model may call
}

// Usage counts tokens, as the model's API reports them.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// Reply is the model's turn: text, tool calls, or both.
type Reply struct {
	Message      Message `json:"message"`
	Usage        Usage   `json:"usage"`
	FinishReason string  `json:"finish_reason,omitempty"`
	// Outcome, Unmatched and Clarification are set on a final reply by
	// models that know them (the offline planner); the agent copies them
	// onto the Answer.
	Outcome       string         `json:"outcome,omitempty"`
	Unmatched     []string       `json:"unmatched,omitempty"`
	Clarification *Clarification `json:"clarification,omitempty"`
}

// Model is a chat model with tool calling. Generate returns the model's
// next message; when onText is not nil and the backend streams, text is
// passed to it as it arrives (tool-call deltas are assembled, not passed).
// Implementations retry transient failures themselves and honour ctx.
type Model interface {
	Name() string
	Generate(ctx context.Context, req ModelRequest, onText func(string)) (*Reply, error)
}
