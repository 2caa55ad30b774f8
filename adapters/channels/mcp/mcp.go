// Package mcp serves askmesh's six tools over the Model Context Protocol, so
// MCP clients (Claude Desktop, IDEs, agents) can call them directly: the same
// names, descriptions and JSON Schemas the agent's model sees, run through
// the same executor, so every call is authorized for the person behind the
// client and audited like any other. Streamable HTTP (Handler) takes the
// identity from the bearer token; stdio (ServeStdio) from the command line.
package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/modelcontextprotocol/go-sdk/auth"
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
	Error   string `json:"error"` // denied, invalid_arguments, unavailable, audit_unavailable, failed
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
	)
	switch {
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
		return caller(id.Subject, id.RequestID, req), nil
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
	return auth.RequireBearerToken(verify, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(h)
}

// ServeStdio serves MCP over stdin and stdout for one subject (askmesh mcp
// --as USER) until the client disconnects or ctx ends.
func ServeStdio(ctx context.Context, exec assistant.ToolRunner, subject authz.Subject, o Options) error {
	if err := Serve(ctx, exec, subject, &sdk.StdioTransport{}, o); err != nil && ctx.Err() == nil {
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
			model = "mcp:" + p.ClientInfo.Name
		}
	}
	return tools.Caller{Subject: subj, Channel: Channel, RequestID: requestID, Model: model}
}
