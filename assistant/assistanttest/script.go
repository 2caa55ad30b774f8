package assistanttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/askmesh/askmesh/assistant"
)

// ErrScriptExhausted is returned by Script.Generate when every turn has been
// played and no Then turn was written: the code under test asked the model
// more often than the test expected.
var ErrScriptExhausted = errors.New("assistanttest: script exhausted")

// A Turn is one model turn of a Script: a fixed reply (Text, Calls) or a
// function of the request the model was given. A turn may block; it should
// then honour ctx as a real model does.
type Turn func(ctx context.Context, req assistant.ModelRequest) (*assistant.Reply, error)

// Script is an assistant.Model whose turns are written by the test: the
// language model is the one stand-in, whatever it drives is real. Each
// Generate plays the next turn; once they are played, Then answers every
// further request, or, without Then, Generate fails with ErrScriptExhausted.
// Every request is recorded (see Requests). Set the fields before first
// use; a Script is then safe for concurrent use, and turns run outside its
// lock, so one blocked turn holds up no other.
type Script struct {
	ModelName string // what Name returns; "scripted" when empty
	Turns     []Turn
	Then      Turn // answers every request after Turns; nil: the script is exhausted
	// Stream passes each reply's text to onText before returning it, as a
	// streaming model does; without it the text comes only in the reply.
	Stream bool
	// NoRecord keeps no requests: for models answering without end
	// (fuzzing, benchmarks), whose record would only grow.
	NoRecord bool

	mu       sync.Mutex
	next     int
	requests []assistant.ModelRequest
}

var _ assistant.Model = (*Script)(nil)

// Name implements assistant.Model.
func (s *Script) Name() string {
	if s.ModelName == "" {
		return "scripted"
	}
	return s.ModelName
}

// Generate implements assistant.Model: it records req and plays the next turn.
func (s *Script) Generate(ctx context.Context, req assistant.ModelRequest, onText func(string)) (*assistant.Reply, error) {
	s.mu.Lock()
	n := s.next
	s.next++
	if !s.NoRecord {
		s.requests = append(s.requests, req)
	}
	s.mu.Unlock()
	turn := s.Then
	if n < len(s.Turns) {
		turn = s.Turns[n]
	}
	if turn == nil {
		return nil, fmt.Errorf("%w: model request %d, but the script has %d turns and no Then", ErrScriptExhausted, n+1, len(s.Turns))
	}
	reply, err := turn(ctx, req)
	if err != nil {
		return nil, err
	}
	if reply == nil {
		return nil, fmt.Errorf("assistanttest: turn %d of the script returned no reply and no error", n+1)
	}
	if s.Stream && onText != nil && reply.Message.Content != "" {
		onText(reply.Message.Content)
	}
	return reply, nil
}

// Requests returns a copy of the requests recorded so far, in the order
// Generate was called.
func (s *Script) Requests() []assistant.ModelRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]assistant.ModelRequest(nil), s.requests...)
}

// Text is a turn answering with fixed text.
func Text(text string) Turn {
	return TextFunc(func(assistant.ModelRequest) string { return text })
}

// TextFunc is a turn answering with text computed from the request.
func TextFunc(f func(req assistant.ModelRequest) string) Turn {
	return func(_ context.Context, req assistant.ModelRequest) (*assistant.Reply, error) {
		return TextReply(f(req)), nil
	}
}

// TextReply is a final answer with text, as a model sends it.
func TextReply(text string) *assistant.Reply {
	return &assistant.Reply{Message: assistant.Message{Role: assistant.RoleAssistant, Content: text}, FinishReason: "stop"}
}

// Calls is a turn asking for the given tool calls.
func Calls(calls ...assistant.ToolCall) Turn {
	return func(context.Context, assistant.ModelRequest) (*assistant.Reply, error) {
		return CallsReply(calls...), nil
	}
}

// CallsReply is a reply asking for the given tool calls, as a model sends it.
func CallsReply(calls ...assistant.ToolCall) *assistant.Reply {
	return &assistant.Reply{Message: assistant.Message{Role: assistant.RoleAssistant, ToolCalls: calls}, FinishReason: "tool_calls"}
}

// Call is a tool call with its arguments as the model sent them (which may
// be invalid JSON, on purpose).
func Call(id, tool, args string) assistant.ToolCall {
	return assistant.ToolCall{ID: id, Name: tool, Arguments: json.RawMessage(args)}
}

// Fail is a turn on which the model fails with err.
func Fail(err error) Turn {
	return func(context.Context, assistant.ModelRequest) (*assistant.Reply, error) { return nil, err }
}

// LastToolResults returns the tool messages at the end of req: the results
// of the model's last calls, in call order.
func LastToolResults(req assistant.ModelRequest) []assistant.Message {
	i := len(req.Messages)
	for i > 0 && req.Messages[i-1].Role == assistant.RoleTool {
		i--
	}
	return append([]assistant.Message(nil), req.Messages[i:]...)
}
