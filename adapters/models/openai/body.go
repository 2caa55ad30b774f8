package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/internal/retry"
	"github.com/askmesh/askmesh/internal/textfmt"
	"github.com/askmesh/askmesh/tools"
)

// A request's body is what json.Marshal makes of it, byte for byte, but two
// parts of it are not encoded by encoding/json on every request: go-openai
// marshals each tool through a map and each message through its own
// MarshalJSON, so encoding/json re-scans every byte of the ~9 KB of tool
// schemas and of the messages once per nesting level (about two thirds of
// the adapter's CPU in BenchmarkGenerateTurn). Instead go-openai is handed
// the request with one marker message and one marker tool, which it
// validates and encodes as usual (every other field, in its order), and
// bodyDoer, the client's transport, splices in the messages encoded here in
// one pass and the tools encoded once per spec. TestBodyIsWhatGoOpenAIEncodes
// holds the result equal to go-openai's own encoding.

// The markers: a NUL cannot occur in a model name or any other field the
// adapter sets, and both are looked for as whole JSON arrays.
const (
	markerRole = "\x00askmesh:messages"
	markerType = "\x00askmesh:tools"
)

var (
	markerMessages = []goopenai.ChatCompletionMessage{{Role: markerRole}}
	markerTools    = []goopenai.Tool{{Type: markerType}}
	// Their encodings, as go-openai writes them in the body.
	markerMessagesJSON = mustMarshal(markerMessages)
	markerToolsJSON    = mustMarshal(markerTools)
)

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// parts are what one request's body is spliced from: its messages and the
// specs of its tools (nil: none offered).
type parts struct {
	messages []goopenai.ChatCompletionMessage
	specs    []*tools.Spec
}

type partsKey struct{}

// withParts returns ctx carrying creq's messages and the tools of specs,
// and the request to hand go-openai: creq with the markers in their place
// (so that it validates a request that offers tools when one does).
func withParts(ctx context.Context, creq goopenai.ChatCompletionRequest, specs []*tools.Spec) (context.Context, goopenai.ChatCompletionRequest) {
	p := &parts{messages: creq.Messages}
	marked := creq
	marked.Messages = markerMessages
	if len(specs) > 0 {
		p.specs = specs
		marked.Tools = markerTools
	}
	return context.WithValue(ctx, partsKey{}, p), marked
}

// bodyDoer splices a request's parts into the body go-openai encoded, then
// sends it with next.
type bodyDoer struct {
	next interface {
		Do(*http.Request) (*http.Response, error)
	}
}

func (d bodyDoer) Do(req *http.Request) (*http.Response, error) {
	if p, ok := req.Context().Value(partsKey{}).(*parts); ok && req.Body != nil {
		marked := make([]byte, 0, max(req.ContentLength, 0)+bytes.MinRead)
		marked, err := readAll(marked, req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read the request body: %w", err)
		}
		body, err := p.splice(marked)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		req.ContentLength = int64(len(body))
	}
	return d.next.Do(req)
}

func readAll(b []byte, r io.Reader) ([]byte, error) {
	buf := bytes.NewBuffer(b)
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// splice replaces the markers in marked with the parts. Should another
// go-openai write them otherwise, nothing is sent (the tests fail on it).
func (p *parts) splice(marked []byte) ([]byte, error) {
	mi := bytes.Index(marked, markerMessagesJSON)
	ti := -1
	if p.specs != nil {
		ti = bytes.Index(marked, markerToolsJSON)
	}
	if mi < 0 || (p.specs != nil && ti < mi) {
		return nil, retry.Permanent(errors.New("openai: go-openai encoded the request in a shape this adapter does not know"))
	}
	// One buffer for the whole body: the messages' text grows a little
	// when escaped; the tools' encodings are known.
	size := len(marked) + 64
	for _, m := range p.messages {
		size += len(m.Content) + len(m.Content)/16 + 64
		for _, tc := range m.ToolCalls {
			size += len(tc.Function.Arguments) + len(tc.Function.Arguments)/8 + 96
		}
	}
	for _, s := range p.specs {
		size += len(encodedTool(s)) + 1
	}
	out := make([]byte, 0, size)
	out = append(out, marked[:mi]...)
	out = appendMessages(out, p.messages)
	rest := marked[mi+len(markerMessagesJSON):]
	if ti >= 0 {
		ti -= mi + len(markerMessagesJSON)
		out = append(out, rest[:ti]...)
		out = appendTools(out, p.specs)
		rest = rest[ti+len(markerToolsJSON):]
	}
	return append(out, rest...), nil
}

// appendMessages appends msgs as encoding/json writes them through
// ChatCompletionMessage.MarshalJSON, for the fields request sets (role,
// content, tool calls, tool call id); any other field set makes it fall
// back to encoding/json for that message.
func appendMessages(b []byte, msgs []goopenai.ChatCompletionMessage) []byte {
	b = append(b, '[')
	for i, m := range msgs {
		if i > 0 {
			b = append(b, ',')
		}
		if m.Refusal != "" || len(m.MultiContent) > 0 || m.Name != "" || m.ReasoningContent != "" || m.FunctionCall != nil {
			b = append(b, mustMarshal(m)...)
			continue
		}
		b = append(b, `{"role":`...)
		b = textfmt.AppendJSONString(b, m.Role)
		if m.Content != "" {
			b = append(b, `,"content":`...)
			b = textfmt.AppendJSONString(b, m.Content)
		}
		if len(m.ToolCalls) > 0 {
			b = append(b, `,"tool_calls":[`...)
			for j, tc := range m.ToolCalls {
				if j > 0 {
					b = append(b, ',')
				}
				if tc.Index != nil {
					b = append(b, mustMarshal(tc)...)
					continue
				}
				b = append(b, '{')
				if tc.ID != "" {
					b = append(b, `"id":`...)
					b = textfmt.AppendJSONString(b, tc.ID)
					b = append(b, ',')
				}
				b = append(b, `"type":`...)
				b = textfmt.AppendJSONString(b, string(tc.Type))
				b = append(b, `,"function":{`...)
				sep := false
				if tc.Function.Name != "" {
					b = append(b, `"name":`...)
					b = textfmt.AppendJSONString(b, tc.Function.Name)
					sep = true
				}
				if tc.Function.Arguments != "" {
					if sep {
						b = append(b, ',')
					}
					b = append(b, `"arguments":`...)
					b = textfmt.AppendJSONString(b, tc.Function.Arguments)
				}
				b = append(b, "}}"...)
			}
			b = append(b, ']')
		}
		if m.ToolCallID != "" {
			b = append(b, `,"tool_call_id":`...)
			b = textfmt.AppendJSONString(b, m.ToolCallID)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// toolJSON holds each spec's tool as encoding/json writes it, encoded on
// first use. Only the specs of tools.Specs and assistant.AskSpecs, a fixed
// set, are kept.
var (
	toolJSON    sync.Map // *tools.Spec → []byte
	cachedSpecs = map[*tools.Spec]bool{}
)

func init() {
	for _, s := range tools.Specs() {
		cachedSpecs[s] = true
	}
	for _, s := range assistant.AskSpecs() {
		cachedSpecs[s] = true
	}
}

func encodedTool(s *tools.Spec) []byte {
	if !cachedSpecs[s] {
		return mustMarshal(toTool(s))
	}
	if b, ok := toolJSON.Load(s); ok {
		return b.([]byte)
	}
	b := mustMarshal(toTool(s))
	toolJSON.Store(s, b)
	return b
}

// appendTools appends specs as the request's tools array.
func appendTools(b []byte, specs []*tools.Spec) []byte {
	b = append(b, '[')
	for i, s := range specs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, encodedTool(s)...)
	}
	return append(b, ']')
}
