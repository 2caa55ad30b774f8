// Package openaitest is a scripted OpenAI-compatible chat completions
// server for tests and benchmarks. Each Step answers one request to
// .../chat/completions, as JSON or, when the client asks for a stream, as
// server-sent events in OpenAI's chunk format. Every request is recorded,
// decoded, so tests can assert what the client sent.
//
// Like the real API it rejects malformed conversations with 400: a tool
// message that answers no preceding tool call, an assistant tool call left
// unanswered, a tool without a valid name or an object schema.
package openaitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/askmesh/askmesh/internal/textfmt"
)

// ToolCall is a call the scripted model makes. Arguments are sent verbatim,
// so a test can send invalid JSON. On the wire it is OpenAI's
// {"id","type":"function","function":{"name","arguments"}}.
type ToolCall struct {
	ID        string
	Name      string
	Arguments string
}

type wireToolCall struct {
	Index    *int   `json:"index,omitempty"`
	ID       string `json:"id,omitempty"`
	Type     string `json:"type,omitempty"`
	Function struct {
		Name      string `json:"name,omitempty"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// MarshalJSON writes the wire form.
func (c ToolCall) MarshalJSON() ([]byte, error) {
	w := wireToolCall{ID: c.ID, Type: "function"}
	w.Function.Name, w.Function.Arguments = c.Name, c.Arguments
	return json.Marshal(w)
}

// UnmarshalJSON reads the wire form.
func (c *ToolCall) UnmarshalJSON(b []byte) error {
	var w wireToolCall
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*c = ToolCall{ID: w.ID, Name: w.Function.Name, Arguments: w.Function.Arguments}
	return nil
}

// Usage is the token count a step reports.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// Step answers one request. The zero Step answers with empty text.
type Step struct {
	Text      string
	ToolCalls []ToolCall // several are parallel calls

	// Status, when not 0 or 200, answers with this HTTP status and an
	// OpenAI error body carrying Error (default: the status text).
	Status     int
	Error      string
	RetryAfter string // Retry-After header value, e.g. "1"

	// Delay waits before answering (and gives up if the client leaves).
	Delay time.Duration
	// Raw, when set, is written verbatim as the 200 response body (a JSON
	// document, or the event stream when the client streams).
	Raw string

	Usage        *Usage // default: about 4 bytes per token of request and answer
	FinishReason string // default "tool_calls" with calls, else "stop"

	// ChunkSize is how many bytes of text or arguments each streamed delta
	// carries (default 7). Interleave sends parallel calls' argument
	// deltas in turn instead of one call after the other.
	ChunkSize  int
	Interleave bool
	// Truncate ends a stream before its finish_reason and [DONE], as a
	// dropped connection would.
	Truncate bool

	// Respond, when set, computes the step from the request.
	Respond func(Request) Step
}

// Request is a request the server received.
type Request struct {
	Method string      `json:"-"`
	Path   string      `json:"-"`
	Query  url.Values  `json:"-"` // api-version, with Azure
	Header http.Header `json:"-"`

	Model         string          `json:"model"`
	Messages      []Message       `json:"messages"`
	Tools         []Tool          `json:"tools"`
	ToolChoice    json.RawMessage `json:"tool_choice"`
	Stream        bool            `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Temperature *float64 `json:"temperature"`

	Body json.RawMessage `json:"-"` // the whole body as sent
}

// Message is a message of a request.
type Message struct {
	Role       string     `json:"role"`
	Content    string     `json:"content"`
	Name       string     `json:"name,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

// UnmarshalJSON accepts content as a string, null or an array of text parts.
func (m *Message) UnmarshalJSON(b []byte) error {
	var w struct {
		Role       string          `json:"role"`
		Content    json.RawMessage `json:"content"`
		Name       string          `json:"name"`
		ToolCalls  []ToolCall      `json:"tool_calls"`
		ToolCallID string          `json:"tool_call_id"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*m = Message{Role: w.Role, Name: w.Name, ToolCalls: w.ToolCalls, ToolCallID: w.ToolCallID}
	c := bytes.TrimSpace(w.Content)
	switch {
	case len(c) == 0 || string(c) == "null":
	case c[0] == '"':
		return json.Unmarshal(c, &m.Content)
	case c[0] == '[':
		var parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(c, &parts); err != nil {
			return fmt.Errorf("content parts: %w", err)
		}
		for _, p := range parts {
			m.Content += p.Text
		}
	default:
		return fmt.Errorf("content is neither a string nor an array of parts: %s", c)
	}
	return nil
}

// Tool is a tool offered in a request.
type Tool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
		Strict      bool            `json:"strict"`
	} `json:"function"`
}

// ToolNames lists the offered tools' names in order.
func (r Request) ToolNames() []string {
	out := make([]string, len(r.Tools))
	for i, t := range r.Tools {
		out[i] = t.Function.Name
	}
	return out
}

// LastToolResults returns the tool messages that end the conversation.
func (r Request) LastToolResults() []Message {
	i := len(r.Messages)
	for i > 0 && r.Messages[i-1].Role == "tool" {
		i--
	}
	return r.Messages[i:]
}

// Server is the scripted server. Its methods are safe for concurrent use.
type Server struct {
	*httptest.Server

	mu        sync.Mutex
	script    []Step
	requests  []Request
	latency   time.Duration
	responder func(Request) Step
	onServed  func(Served)
	lean      bool
	conns     atomic.Int64
	n         int
}

// SetLean makes the server cost what a benchmark can afford to run beside
// the client it measures (in production the model is another machine): it
// keeps no record of requests (Requests returns none) and decodes of each
// body only what it answers from and checks the conversation with: the
// model, the stream options, and each message's role and tool-call ids.
// Message content and the tools offered are not decoded, so the checks on
// them are not made, and a responder sees messages with their role and ids
// only; Request.Body still holds the whole body.
func (s *Server) SetLean(lean bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lean = lean
}

// Served is one request as the server handled it, for benchmarks that
// subtract the model's own time from a latency: Duration runs from the
// handler's start (headers read) to the last byte of the answer handed to
// the connection, so it includes reading and decoding the body, the
// configured latency and any Delay, and encoding the answer.
type Served struct {
	Request  Request // zero but for Method, Path and Header if unreadable
	Status   int
	Duration time.Duration
}

// SetOnServed calls f after each request is answered (concurrently, from
// the request's goroutine).
func (s *Server) SetOnServed(f func(Served)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onServed = f
}

// NewServer starts a server that answers with script, one step per
// request, and stops it when the test ends.
func NewServer(t testing.TB, script ...Step) *Server {
	s := &Server{script: script}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.handle))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// Conns is how many connections the server has accepted: a client that
// keeps its connections alive opens few, however many requests it sends.
func (s *Server) Conns() int64 { return s.conns.Load() }

// BaseURL is the URL to configure clients with: the server's URL + "/v1".
func (s *Server) BaseURL() string { return s.URL + "/v1" }

// SetLatency adds a fixed delay before every answer, as a slow model would.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetResponder answers every request that comes after the script is spent.
func (s *Server) SetResponder(f func(Request) Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.responder = f
}

// Requests returns the requests received so far, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Pending is the number of scripted steps not used yet.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.script)
}

// statusWriter remembers the status written, for Served.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	onServed := s.onServed
	s.mu.Unlock()
	if onServed == nil {
		s.answer(w, r, &Request{})
		return
	}
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	req := &Request{Method: r.Method, Path: r.URL.Path, Header: r.Header}
	s.answer(sw, r, req)
	// Hand what is buffered to the connection, so Duration ends at the
	// last byte written, not before the server's final flush.
	sw.Flush()
	onServed(Served{Request: *req, Status: sw.status, Duration: time.Since(start)})
}

// answer serves one request; it fills *out with the request once read.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, out *Request) {
	if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/models") {
		// Readiness probes list the models; it uses no scripted step.
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"object":"list","data":[{"id":"scripted","object":"model","created":0,"owned_by":"openaitest"}]}`)
		return
	}
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/chat/completions") {
		writeError(w, http.StatusNotFound, "invalid_request_error", fmt.Sprintf("Unknown request URL: %s %s", r.Method, r.URL.Path))
		return
	}
	body, err := readBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "could not read the body: "+err.Error())
		return
	}
	s.mu.Lock()
	lean := s.lean
	s.mu.Unlock()
	req := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: body}
	var decodeErr error
	if lean {
		// Nothing keeps the request past the handler: its headers need no copy.
		req.Header = r.Header
		decodeErr = decodeLean(body, &req)
	} else {
		req.Header = r.Header.Clone()
		decodeErr = json.Unmarshal(body, &req)
	}
	*out = req

	s.mu.Lock()
	if !lean {
		s.requests = append(s.requests, req)
	}
	s.n++
	n := s.n
	latency := s.latency
	var step Step
	ok := len(s.script) > 0
	if ok {
		step, s.script = s.script[0], s.script[1:]
	} else if s.responder != nil {
		step, ok = Step{Respond: s.responder}, true // called below, unlocked
	}
	s.mu.Unlock()

	if decodeErr != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "We could not parse the JSON body of your request: "+decodeErr.Error())
		return
	}
	if msg := validate(req, lean); msg != "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", msg)
		return
	}
	if !ok {
		// 400, not 5xx: a spent script must not be retried into a hang.
		writeError(w, http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("openaitest: no step left for request %d", n))
		return
	}
	for step.Respond != nil {
		step = step.Respond(req)
	}
	if !Sleep(r.Context(), latency+step.Delay) {
		return
	}
	if step.Status != 0 && step.Status != http.StatusOK {
		if step.RetryAfter != "" {
			w.Header().Set("Retry-After", step.RetryAfter)
		}
		msg := step.Error
		if msg == "" {
			msg = http.StatusText(step.Status)
		}
		typ := "invalid_request_error"
		switch {
		case step.Status == http.StatusTooManyRequests:
			typ = "rate_limit_exceeded"
		case step.Status >= 500:
			typ = "server_error"
		}
		writeError(w, step.Status, typ, msg)
		return
	}
	id := fmt.Sprintf("chatcmpl-openaitest-%d", n)
	for i := range step.ToolCalls {
		if step.ToolCalls[i].ID == "" {
			step.ToolCalls[i].ID = fmt.Sprintf("call_%d_%d", n, i)
		}
	}
	if step.FinishReason == "" {
		step.FinishReason = "stop"
		if len(step.ToolCalls) > 0 {
			step.FinishReason = "tool_calls"
		}
	}
	if step.Usage == nil {
		out := len(step.Text)
		for _, c := range step.ToolCalls {
			out += len(c.Name) + len(c.Arguments)
		}
		step.Usage = &Usage{PromptTokens: tokens(len(body)), CompletionTokens: tokens(out)}
	}
	if req.Stream {
		s.stream(w, r, req, step, id)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if step.Raw != "" {
		_, _ = io.WriteString(w, step.Raw)
		return
	}
	// Encoded whole, with its length, as the real API answers; a flush
	// then sends it without switching to chunked encoding.
	b := appendCompletion(make([]byte, 0, 512+len(step.Text)), id, req.Model, step)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// readBody reads a request body into one buffer of its declared length,
// rather than growing one from 512 bytes.
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength <= 0 || r.ContentLength > 64<<20 {
		return io.ReadAll(r.Body)
	}
	b := make([]byte, r.ContentLength)
	if _, err := io.ReadFull(r.Body, b); err != nil {
		return nil, err
	}
	return b, nil
}

// leanRequest is what a lean server decodes of a body (see SetLean).
type leanRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role       string `json:"role"`
		ToolCallID string `json:"tool_call_id"`
		ToolCalls  []struct {
			ID string `json:"id"`
		} `json:"tool_calls"`
	} `json:"messages"`
	Stream        bool `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

func decodeLean(body []byte, req *Request) error {
	var l leanRequest
	if err := json.Unmarshal(body, &l); err != nil {
		return err
	}
	req.Model, req.Stream, req.StreamOptions = l.Model, l.Stream, l.StreamOptions
	req.Messages = make([]Message, len(l.Messages))
	for i, m := range l.Messages {
		req.Messages[i] = Message{Role: m.Role, ToolCallID: m.ToolCallID}
		for _, c := range m.ToolCalls {
			req.Messages[i].ToolCalls = append(req.Messages[i].ToolCalls, ToolCall{ID: c.ID})
		}
	}
	return nil
}

// appendCompletion appends a chat.completion answer and a newline. Only
// the strings that vary are encoded; the rest is written as it stands.
func appendCompletion(b []byte, id, model string, step Step) []byte {
	b = append(b, `{"id":`...)
	b = textfmt.AppendJSONString(b, id)
	b = append(b, `,"object":"chat.completion","created":`...)
	b = strconv.AppendInt(b, created, 10)
	b = append(b, `,"model":`...)
	b = textfmt.AppendJSONString(b, model)
	b = append(b, `,"system_fingerprint":"`+fingerprint+`","choices":[{"index":0,"message":{"role":"assistant","content":`...)
	if step.Text != "" || len(step.ToolCalls) == 0 {
		b = textfmt.AppendJSONString(b, step.Text)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"refusal":null`...)
	if len(step.ToolCalls) > 0 {
		b = append(b, `,"tool_calls":[`...)
		for i, c := range step.ToolCalls {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"id":`...)
			b = textfmt.AppendJSONString(b, c.ID)
			b = append(b, `,"type":"function","function":{"name":`...)
			b = textfmt.AppendJSONString(b, c.Name)
			b = append(b, `,"arguments":`...)
			b = textfmt.AppendJSONString(b, c.Arguments)
			b = append(b, "}}"...)
		}
		b = append(b, ']')
	}
	b = append(b, `},"logprobs":null,"finish_reason":`...)
	b = textfmt.AppendJSONString(b, step.FinishReason)
	b = append(b, `}],"usage":`...)
	b = appendUsage(b, *step.Usage)
	return append(b, "}\n"...)
}

// appendUsage appends a usage object, its keys in encoding/json's order.
func appendUsage(b []byte, u Usage) []byte {
	b = append(b, `{"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CompletionTokens), 10)
	b = append(b, `,"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(u.PromptTokens), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(u.PromptTokens+u.CompletionTokens), 10)
	return append(b, '}')
}

const (
	created     = 1767225600 // 2026-01-01T00:00:00Z: answers are reproducible
	fingerprint = "fp_openaitest"
)

func tokens(bytes int) int { return (bytes + 3) / 4 }

// stream writes the answer as OpenAI does: a first chunk with the role,
// content deltas, tool-call deltas (the first of each call with index, id,
// type and name, then argument pieces with the index only), a chunk with
// the finish_reason, a usage chunk when asked for, then [DONE]. Each chunk
// is flushed on its own, as the real API sends them. Chunks are written
// from literal parts, their keys in the order encoding/json would give a
// map's; only the strings that vary are encoded.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, req Request, step Step, id string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	flusher, _ := w.(http.Flusher)
	if step.Raw != "" {
		_, _ = io.WriteString(w, step.Raw)
		return
	}
	includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	// What follows the choices in every chunk.
	tail := textfmt.AppendJSONString([]byte(`,"created":`+strconv.Itoa(created)+`,"id":`), id)
	tail = append(tail, `,"model":`...)
	tail = textfmt.AppendJSONString(tail, req.Model)
	tail = append(tail, `,"object":"chat.completion.chunk","system_fingerprint":"`+fingerprint+`"`...)
	var buf []byte
	write := func(b []byte) bool {
		if _, err := w.Write(b); err != nil {
			return false
		}
		if flusher != nil {
			flusher.Flush()
		}
		return r.Context().Err() == nil
	}
	// delta sends one choice: its delta (a JSON object, written by
	// appendDelta) and finish_reason (JSON).
	delta := func(finish string, appendDelta func([]byte) []byte) bool {
		buf = append(buf[:0], `data: {"choices":[{"delta":`...)
		buf = appendDelta(buf)
		buf = append(buf, `,"finish_reason":`...)
		buf = append(buf, finish...)
		buf = append(buf, `,"index":0,"logprobs":null}]`...)
		buf = append(buf, tail...)
		if includeUsage {
			buf = append(buf, `,"usage":null`...)
		}
		buf = append(buf, "}\n\n"...)
		return write(buf)
	}
	literal := func(s string) func([]byte) []byte { return func(b []byte) []byte { return append(b, s...) } }
	size := step.ChunkSize
	if size <= 0 {
		size = 7
	}
	if !delta("null", literal(`{"content":"","refusal":null,"role":"assistant"}`)) {
		return
	}
	for _, piece := range Split(step.Text, size) {
		if !delta("null", func(b []byte) []byte {
			b = textfmt.AppendJSONString(append(b, `{"content":`...), piece)
			return append(b, '}')
		}) {
			return
		}
	}
	type callDelta struct {
		index int
		first bool
		args  string
	}
	var perCall [][]callDelta
	for i, c := range step.ToolCalls {
		ds := []callDelta{{index: i, first: true}}
		for _, p := range Split(c.Arguments, size) {
			ds = append(ds, callDelta{index: i, args: p})
		}
		perCall = append(perCall, ds)
	}
	var order []callDelta
	if step.Interleave {
		for k := 0; ; k++ {
			more := false
			for _, ds := range perCall {
				if k < len(ds) {
					order, more = append(order, ds[k]), true
				}
			}
			if !more {
				break
			}
		}
	} else {
		for _, ds := range perCall {
			order = append(order, ds...)
		}
	}
	for _, d := range order {
		if !delta("null", func(b []byte) []byte {
			b = append(b, `{"tool_calls":[{"function":{"arguments":`...)
			if d.first {
				c := step.ToolCalls[d.index]
				b = append(b, `"","name":`...)
				b = textfmt.AppendJSONString(b, c.Name)
				b = append(b, `},"id":`...)
				b = textfmt.AppendJSONString(b, c.ID)
				b = append(b, `,"index":`...)
				b = strconv.AppendInt(b, int64(d.index), 10)
				return append(b, `,"type":"function"}]}`...)
			}
			b = textfmt.AppendJSONString(b, d.args)
			b = append(b, `},"index":`...)
			b = strconv.AppendInt(b, int64(d.index), 10)
			return append(b, "}]}"...)
		}) {
			return
		}
	}
	if step.Truncate {
		return
	}
	if !delta(string(textfmt.AppendJSONString(nil, step.FinishReason)), literal("{}")) {
		return
	}
	if includeUsage {
		buf = append(buf[:0], `data: {"choices":[]`...)
		buf = append(buf, tail...)
		buf = append(buf, `,"usage":`...)
		buf = appendUsage(buf, *step.Usage)
		buf = append(buf, "}\n\n"...)
		if !write(buf) {
			return
		}
	}
	_, _ = io.WriteString(w, "data: [DONE]\n\n")
	if flusher != nil {
		flusher.Flush()
	}
}

// The helpers below are shared with the scripted servers of other APIs
// (adapters/langchain/langchaintest).

// Split cuts s into pieces of at most size bytes without splitting a rune,
// for streamed deltas.
func Split(s string, size int) []string {
	var out []string
	for len(s) > 0 {
		n := min(size, len(s))
		for n < len(s) && !utf8.RuneStart(s[n]) {
			n++
		}
		out = append(out, s[:n])
		s = s[n:]
	}
	return out
}

// Sleep waits d, or less if ctx ends first; it reports whether d passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func writeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}})
}

var toolName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// ValidToolName reports whether name is a tool name the model APIs accept:
// 1 to 64 letters, digits, '_' or '-'.
func ValidToolName(name string) bool { return toolName.MatchString(name) }

// schemaOK remembers which tool schemas (by their exact bytes) are objects.
// Clients send the same few schemas with every request, and decoding each
// again made this server's CPU a large share of a benchmark's that runs it
// in the process it measures.
var (
	schemaOK    sync.Map // string -> bool
	schemaCount atomic.Int64
)

// ObjectSchema reports whether raw is a JSON Schema of type "object", as
// the APIs require of a tool's parameters.
func ObjectSchema(raw json.RawMessage) bool {
	if ok, found := schemaOK.Load(string(raw)); found {
		return ok.(bool)
	}
	var schema struct {
		Type string `json:"type"`
	}
	ok := json.Unmarshal(raw, &schema) == nil && schema.Type == "object"
	// Bounded, so a fuzz test sending endless new schemas cannot grow it.
	if len(raw) <= 64<<10 && schemaCount.Add(1) <= 1024 {
		schemaOK.Store(string(raw), ok)
	}
	return ok
}

// validate applies the checks the real API makes that a client could get
// wrong; it returns the API's complaint, or "". A lean server did not
// decode content, so it cannot tell an empty assistant message.
func validate(req Request, lean bool) string {
	if req.Model == "" {
		return "you must provide a model parameter"
	}
	if len(req.Messages) == 0 {
		return "'messages' must contain at least one message"
	}
	for i, t := range req.Tools {
		if t.Type != "function" {
			return fmt.Sprintf("Invalid value for 'tools[%d].type': %q", i, t.Type)
		}
		if !ValidToolName(t.Function.Name) {
			return fmt.Sprintf("Invalid 'tools[%d].function.name': string does not match pattern '^[a-zA-Z0-9_-]+$'", i)
		}
		if len(t.Function.Parameters) > 0 && !ObjectSchema(t.Function.Parameters) {
			return fmt.Sprintf("Invalid schema for function '%s': schema must be a JSON Schema of 'type: \"object\"'", t.Function.Name)
		}
	}
	pending := map[string]bool{} // tool calls of the last assistant message not yet answered
	for i, m := range req.Messages {
		switch m.Role {
		case "system", "developer", "user":
		case "assistant":
			if m.Content == "" && len(m.ToolCalls) == 0 && !lean {
				return fmt.Sprintf("Invalid value for 'messages[%d].content': an assistant message needs content or tool_calls", i)
			}
		case "tool":
			if !pending[m.ToolCallID] {
				return fmt.Sprintf("Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls' (messages[%d], tool_call_id %q)", i, m.ToolCallID)
			}
			delete(pending, m.ToolCallID)
			continue
		default:
			return fmt.Sprintf("Invalid value for 'messages[%d].role': %q", i, m.Role)
		}
		if len(pending) > 0 {
			return fmt.Sprintf("An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id' (messages[%d])", i)
		}
		pending = map[string]bool{}
		for _, c := range m.ToolCalls {
			pending[c.ID] = true
		}
	}
	if len(pending) > 0 {
		return "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'"
	}
	return ""
}
