// Package mcp serves askmesh's six tools over the Model Context Protocol, so
// MCP clients (Claude Desktop, IDEs, agents) can call them directly: the same
// names, descriptions and JSON Schemas the agent's model sees, run through
// the same executor, so every call is authorized for the person behind the
// client and audited like any other. Streamable HTTP (Handler) takes the
// identity from the bearer token; stdio (ServeStdio) from the command line.
package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/tools"
)

// Channel is the channel MCP calls are recorded under.
const Channel = "mcp"

// Version is the server version MCP clients see.
const Version = "1"

// Observer is told about tool calls (metrics); web.Metrics implements it.
type Observer interface {
	ToolCall(tool, decision string, d time.Duration)
}

// Identity is who makes the calls of one HTTP request.
type Identity struct {
	Subject   authz.Subject
	RequestID string
	// ClientRequestID is the client's own X-Request-Id, validated.
	ClientRequestID string
}

// Options configure the MCP server.
type Options struct {
	Logger   *slog.Logger
	Observer Observer
	// Caller returns the authenticated identity of an HTTP request (the web
	// server authenticates before MCP sees the request). Required by Handler.
	Caller func(*http.Request) (Identity, bool)
	// MaxBodyBytes caps a request body (default 1 MiB).
	MaxBodyBytes int64
	// MaxBatch bounds the messages of one JSON-RPC batch from clients of
	// protocol versions that still have batches (before 2025-06-18; default
	// 10). Later versions removed batching, and their batches are refused.
	MaxBatch int
}

// quiet passes on the SDK's warnings and errors only: it logs every
// session's connection at info, which for stateless HTTP is every request,
// and the web server already logs each request once.
func quiet(l *slog.Logger) *slog.Logger {
	if l == nil {
		l = slog.Default()
	}
	return slog.New(minLevel{l.Handler(), slog.LevelWarn})
}

type minLevel struct {
	slog.Handler
	min slog.Level
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.min && m.Handler.Enabled(ctx, l)
}

func (m minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{m.Handler.WithAttrs(a), m.min}
}
func (m minLevel) WithGroup(n string) slog.Handler { return minLevel{m.Handler.WithGroup(n), m.min} }

// subjectKey carries the identity from the HTTP layer to tool handlers in
// the SDK's token info, which it hands to every call of that request.
const subjectKey = "askmesh.identity"

// NewServer returns an MCP server exposing the tools through exec. identify
// tells a call's caller; a call without one is refused.
func NewServer(exec assistant.ToolRunner, identify func(context.Context, *sdk.CallToolRequest) (tools.Caller, error), o Options) *sdk.Server {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := sdk.NewServer(&sdk.Implementation{Name: "askmesh", Title: "askmesh: governed questions over the data mesh", Version: Version},
		&sdk.ServerOptions{Logger: quiet(o.Logger), Capabilities: &sdk.ServerCapabilities{Tools: &sdk.ToolCapabilities{}},
			Instructions: "Tools over the organization's data products. Start with search_data_products, then describe_data_product; " +
				"prefer query_metrics for aggregates. Every call is authorized for the signed-in person and recorded in the audit log."})
	// A call to a tool that does not exist never reaches a tool handler, so
	// it is run through the executor here: it refuses it and leaves the
	// audit record every attempt gets.
	s.AddReceivingMiddleware(func(next sdk.MethodHandler) sdk.MethodHandler {
		return func(ctx context.Context, method string, req sdk.Request) (sdk.Result, error) {
			ctr, ok := req.(*sdk.CallToolRequest)
			if !ok || method != "tools/call" || ctr.Params == nil {
				return next(ctx, method, req)
			}
			if _, known := tools.SpecFor(ctr.Params.Name); known {
				return next(ctx, method, req)
			}
			caller, err := identify(ctx, ctr)
			if err != nil {
				return nil, err
			}
			args := ctr.Params.Arguments
			if len(args) == 0 {
				args = json.RawMessage(`{}`)
			}
			_, err = exec.Call(ctx, caller, tools.Call{Tool: ctr.Params.Name, Arguments: args})
			if err == nil {
				err = errors.New("unknown tool")
			}
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: err.Error()}
		}
	})
	for _, spec := range tools.Specs() {
		name := spec.Name
		s.AddTool(&sdk.Tool{Name: name, Description: spec.Description, InputSchema: spec.ParametersJSON()},
			func(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
				caller, err := identify(ctx, req)
				if err != nil {
					return nil, err
				}
				args := req.Params.Arguments
				if len(args) == 0 {
					args = json.RawMessage(`{}`)
				}
				start := time.Now()
				res, err := exec.Call(ctx, caller, tools.Call{Tool: name, Arguments: args})
				decision := decisionOf(err)
				if o.Observer != nil {
					o.Observer.ToolCall(name, decision, time.Since(start))
				}
				return toolResult(res, err), nil
			})
	}
	return s
}

func decisionOf(err error) string {
	var denied *tools.DeniedError
	switch {
	case err == nil:
		return audit.DecisionAllow
	case errors.As(err, &denied):
		return audit.DecisionDeny
	}
	return audit.DecisionError
}

// callError is an error result's text: JSON, like a successful result.
type callError struct {
	Error   string `json:"error"` // denied, invalid_arguments, unavailable, audit_unavailable, rate_limited, failed
	Message string `json:"message"`
	Product string `json:"product,omitempty"`
	AuditID string `json:"audit_id,omitempty"`
}

// toolResult is the Result as JSON text, or the error as JSON text with
// isError set, so the client's model reads why and can correct itself.
func toolResult(res *tools.Result, err error) *sdk.CallToolResult {
	if err == nil {
		b, merr := json.Marshal(res)
		if merr != nil {
			err = fmt.Errorf("the result could not be encoded: %w", merr)
		} else {
			return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: string(b)}}}
		}
	}
	ce := callError{Error: "failed", Message: err.Error(), AuditID: tools.AuditIDOf(err)}
	var (
		denied *tools.DeniedError
		argErr *tools.ArgumentError
		unav   *tools.UnavailableError
		lim    *tools.LimitError
	)
	switch {
	case errors.As(err, &lim):
		ce.Error = "rate_limited"
	case errors.As(err, &denied):
		ce.Error, ce.Message, ce.Product = "denied", denied.Reason, denied.Product
	case errors.As(err, &argErr):
		ce.Error, ce.Message = "invalid_arguments", argErr.Message
	case errors.Is(err, tools.ErrAuditUnavailable):
		ce.Error, ce.Message = "audit_unavailable", tools.ErrAuditUnavailable.Error()
	case errors.As(err, &unav):
		ce.Error, ce.Product = "unavailable", unav.Product
	}
	b, _ := json.Marshal(ce)
	return &sdk.CallToolResult{IsError: true, Content: []sdk.Content{&sdk.TextContent{Text: string(b)}}}
}

// Handler serves MCP over Streamable HTTP, stateless: each POST carries its
// own bearer token and is answered on its own, so replicas need no shared
// session state. The web server authenticates the request first
// (Options.Caller); the identity reaches tool handlers through the SDK's
// token info for that request only.
func Handler(exec assistant.ToolRunner, o Options) http.Handler {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 10
	}
	identify := func(_ context.Context, req *sdk.CallToolRequest) (tools.Caller, error) {
		var ti *auth.TokenInfo
		if req.Extra != nil {
			ti = req.Extra.TokenInfo
		}
		if ti == nil {
			return tools.Caller{}, errors.New("unauthenticated tool call")
		}
		id, ok := ti.Extra[subjectKey].(Identity)
		if !ok {
			return tools.Caller{}, errors.New("unauthenticated tool call")
		}
		c := caller(id.Subject, id.RequestID, req)
		c.ClientRequestID = id.ClientRequestID
		return c, nil
	}
	server := NewServer(exec, identify, o)
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return server },
		&sdk.StreamableHTTPOptions{Stateless: true, JSONResponse: true, Logger: quiet(o.Logger),
			MaxRequestBodyBytes: o.MaxBodyBytes, PropagateRequestCancellation: true})
	verify := func(_ context.Context, _ string, r *http.Request) (*auth.TokenInfo, error) {
		if o.Caller == nil {
			return nil, fmt.Errorf("%w: no authenticator", auth.ErrInvalidToken)
		}
		id, ok := o.Caller(r)
		if !ok {
			return nil, fmt.Errorf("%w: not authenticated", auth.ErrInvalidToken)
		}
		return &auth.TokenInfo{UserID: id.Subject.ID, Extra: map[string]any{subjectKey: id}}, nil
	}
	return auth.RequireBearerToken(verify, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(boundBatches(h, o.MaxBodyBytes, o.MaxBatch))
}

// batchesRemovedIn is the MCP version that removed JSON-RPC batching.
const batchesRemovedIn = "2025-06-18"

// boundBatches refuses JSON-RPC batches where the protocol version in use
// has none, and bounds them where it has: the SDK reads a POST without a
// protocol version header as 2025-03-26, which allowed batches of any
// length, so one POST could carry a thousand tool calls.
func boundBatches(next http.Handler, maxBody int64, maxBatch int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Body == nil {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				rpcError(w, http.StatusRequestEntityTooLarge, jsonrpc.CodeInvalidRequest, fmt.Sprintf("the request body is larger than %d bytes", maxBody))
				return
			}
			rpcError(w, http.StatusBadRequest, jsonrpc.CodeParseError, "the request body could not be read")
			return
		}
		if msg := batchRefusal(body, r.Header.Get("Mcp-Protocol-Version"), maxBatch); msg != "" {
			rpcError(w, http.StatusBadRequest, jsonrpc.CodeInvalidRequest, msg)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r)
	})
}

// batchRefusal says why a message must not be served, if it is a JSON-RPC
// batch that protocol version (as negotiated; "" before it is) does not
// allow or one longer than maxBatch; "" otherwise.
func batchRefusal(msg []byte, version string, maxBatch int) string {
	trimmed := bytes.TrimLeft(msg, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '[' {
		return ""
	}
	if version >= batchesRemovedIn {
		return fmt.Sprintf("JSON-RPC batches are not part of MCP %s and later (this request: %s); send one message per request", batchesRemovedIn, version)
	}
	var batch []json.RawMessage
	if err := json.Unmarshal(trimmed, &batch); err == nil && len(batch) > maxBatch {
		return fmt.Sprintf("a JSON-RPC batch holds at most %d messages; this one holds %d", maxBatch, len(batch))
	}
	return ""
}

// rpcError answers a request the server will not process with a JSON-RPC
// error object (id null: no message of it was read as a request).
func rpcError(w http.ResponseWriter, status int, code int64, msg string) {
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": nil, "error": map[string]any{"code": code, "message": msg}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// ServeStdio serves MCP over stdin and stdout for one subject (askmesh mcp
// --as USER) until the client disconnects or ctx ends.
func ServeStdio(ctx context.Context, exec assistant.ToolRunner, subject authz.Subject, o Options) error {
	if err := ServeIO(ctx, exec, subject, os.Stdin, os.Stdout, o); err != nil && ctx.Err() == nil {
		return fmt.Errorf("mcp stdio: %w", err)
	}
	return nil
}

// Serve serves MCP for one subject over any transport (stdio, a pipe, an
// in-memory transport in tests). Each call gets its own request id.
func Serve(ctx context.Context, exec assistant.ToolRunner, subject authz.Subject, t sdk.Transport, o Options) error {
	identify := func(_ context.Context, req *sdk.CallToolRequest) (tools.Caller, error) {
		return caller(subject, uuid.NewString(), req), nil
	}
	return NewServer(exec, identify, o).Run(ctx, t)
}

// caller names the client program as the "model" of the audit record, since
// the MCP client's own model chose the call.
func caller(subj authz.Subject, requestID string, req *sdk.CallToolRequest) tools.Caller {
	model := "mcp-client"
	if req != nil && req.Session != nil {
		if p := req.Session.InitializeParams(); p != nil && p.ClientInfo != nil && p.ClientInfo.Name != "" {
			model = "mcp:" + ClientName(p.ClientInfo.Name)
		}
	}
	return tools.Caller{Subject: subj, Channel: Channel, RequestID: requestID, Model: model}
}

// ClientName is an MCP client's self-chosen name as the audit records it:
// at most 64 characters, letters, digits and . _ - / + @ and spaces kept,
// anything else (markup, control characters, quotes) replaced by "_", so a
// client cannot write markup or terminal escapes into the log.
func ClientName(name string) string {
	var b strings.Builder
	n := 0
	for _, r := range name {
		if n == 64 {
			break
		}
		n++
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(" ._-/+@", r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}
