// Package productapi serves data products as their own REST APIs: the
// records, metrics and anomalies of each product, its descriptor and an
// OpenAPI 3.1 contract generated from it, and a stream of new records.
//
// A product API enforces the same policy as the assistant for whoever calls
// it: every request goes through a tools.Executor built over the product's
// own registry, so authorization, row filters, masks and the audit record
// are exactly the executor's. Callers identify with a short-lived JWT that
// askmesh signs for the person it asks for (audience = the product), a
// static token (stored as its SHA-256 hash), or in demo mode a demo token.
package productapi

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/internal/httpguard"
	"github.com/askmesh/askmesh/tools"
	"github.com/google/uuid"
)

// Directory resolves a user id to a subject; *authz.Directory implements it.
type Directory interface {
	Lookup(id string) authz.Subject
}

// Channel is the audit channel of calls a product API serves.
const Channel = "product-api"

// Options configure a Server.
type Options struct {
	// Products are the products served, with the bindings of their own
	// stores (sqlite, postgres): a product API never serves a rest binding.
	Products []*catalog.Product
	// Backend runs plans against the products' stores (adapters/sqlstore).
	Backend    tools.Backend
	Authorizer tools.Authorizer
	Audit      audit.Store
	Directory  Directory
	// Verifier checks askmesh's per-call JWTs; nil refuses them.
	Verifier *Verifier
	// Tokens maps "sha256:<hex>" token hashes to user ids (static tokens of
	// other consumers), as in adapters/web.
	Tokens map[string]string
	// Demo accepts demo-<name> tokens for the directory's users.
	Demo      bool
	DemoUsers []string
	Clock     tools.Clock
	// CursorKey and MaskKey key page cursors and hash masks; share MaskKey
	// with askmesh so hash pseudonyms agree.
	CursorKey, MaskKey []byte
	// PollInterval is how often a stream looks for records added by other
	// writers; records added through Notify are sent at once (default 10s).
	PollInterval time.Duration
	Logger       *slog.Logger
	// Limits are each caller's tool call budget, as on askmesh's own
	// surfaces: every request is one tool call.
	Limits tools.Limits
	// MaxStreams bounds streams open at once (default 100), and
	// MaxStreamsPerUser one caller's (default 4).
	MaxStreams, MaxStreamsPerUser int
	// BodyTimeout bounds reading a request body (default 10s); the API takes
	// none, so any is read and dropped within it.
	BodyTimeout time.Duration
}

// Server is a product API. It is an http.Handler.
type Server struct {
	products map[string]*catalog.Product
	names    []string
	openapis map[string][]byte // each product's OpenAPI document, encoded once
	exec     *tools.Executor
	run      tools.Runner // exec within the callers' budgets
	dir      Directory
	verifier *Verifier
	tokens   map[[32]byte]string
	demo     map[string]string
	poll     time.Duration
	log      *slog.Logger
	mux      *http.ServeMux

	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{}

	maxStreams, maxUserStreams int
	bodyTimeout                time.Duration
	streamsMu                  sync.Mutex
	streams                    map[string]int // open streams per caller
	openStreams                int
}

// New builds a product API server.
func New(o Options) (*Server, error) {
	if len(o.Products) == 0 {
		return nil, errors.New("productapi: no products to serve")
	}
	if o.Backend == nil || o.Directory == nil {
		return nil, errors.New("productapi: a server needs a backend and a directory")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 10 * time.Second
	}
	if o.MaxStreams <= 0 {
		o.MaxStreams = 100
	}
	if o.MaxStreamsPerUser <= 0 {
		o.MaxStreamsPerUser = 4
	}
	if o.BodyTimeout <= 0 {
		o.BodyTimeout = 10 * time.Second
	}
	reg, err := catalog.NewRegistry(o.Products...)
	if err != nil {
		return nil, fmt.Errorf("productapi: %w", err)
	}
	s := &Server{products: map[string]*catalog.Product{}, openapis: map[string][]byte{}, dir: o.Directory, verifier: o.Verifier,
		tokens: map[[32]byte]string{}, poll: o.PollInterval, log: o.Logger, subs: map[string]map[chan struct{}]struct{}{},
		maxStreams: o.MaxStreams, maxUserStreams: o.MaxStreamsPerUser, bodyTimeout: o.BodyTimeout, streams: map[string]int{}}
	backends := map[string]tools.Backend{}
	for _, p := range o.Products {
		if p.Binding.Kind == catalog.BackendREST {
			return nil, fmt.Errorf("productapi: %s is bound to a REST API; serve it from its own store", p.Name)
		}
		backends[p.Binding.Kind] = o.Backend
		s.products[p.Name] = p
		s.names = append(s.names, p.Name)
		if s.openapis[p.Name], err = encodeJSON(OpenAPI(p)); err != nil {
			return nil, fmt.Errorf("productapi: %s: openapi: %w", p.Name, err)
		}
	}
	sort.Strings(s.names)
	s.exec, err = tools.NewExecutor(tools.ExecutorOptions{Catalog: reg, Authorizer: o.Authorizer, Audit: o.Audit,
		Backends: backends, Clock: o.Clock, CursorKey: o.CursorKey, MaskKey: o.MaskKey, Logger: o.Logger})
	if err != nil {
		return nil, fmt.Errorf("productapi: %w", err)
	}
	s.run = tools.NewLimiter(o.Limits).Wrap(s.exec)
	if s.tokens, err = authz.ParseTokenHashes(o.Tokens); err != nil {
		return nil, fmt.Errorf("productapi: %w", err)
	}
	if o.Demo {
		s.demo = map[string]string{}
		for _, id := range o.DemoUsers {
			s.demo[authz.DemoToken(id)] = id
		}
	}
	s.routes()
	return s, nil
}

// Products lists the names of the products served.
func (s *Server) Products() []string { return append([]string(nil), s.names...) }

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /products", s.list)
	m.HandleFunc("GET /products/{name}/openapi.json", s.openapi)
	m.Handle("GET /products/{name}", s.authed(s.describe))
	m.Handle("GET /products/{name}/records", s.authed(s.records))
	m.Handle("GET /products/{name}/records/{id}", s.authed(s.record))
	m.Handle("GET /products/{name}/metrics", s.authed(s.metrics))
	m.Handle("GET /products/{name}/anomalies", s.authed(s.anomalies))
	m.Handle("GET /products/{name}/stream", s.authed(s.stream))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusNotFound, "not-found", "Not found", "no such endpoint; see /products/{name}/openapi.json")
	})
	s.mux = m
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "product API handler panicked", "path", r.URL.Path, "panic", v)
			writeProblem(w, r, http.StatusInternalServerError, "internal", "Internal error", "the request could not be served")
		}
	}()
	for _, seg := range strings.Split(r.URL.Path, "/") {
		if seg == "." || seg == ".." {
			// Refused, not cleaned and redirected: /records/.. is no record,
			// and a client following the redirect would get another resource.
			writeProblem(w, r, http.StatusBadRequest, "bad-request", "Bad request", "a path segment may not be . or ..")
			return
		}
	}
	if r.Body != nil && r.Body != http.NoBody {
		// The API takes no body: whatever comes is read, within the body
		// timeout and a small bound, and dropped, so no slow body holds the
		// connection.
		if _, err := httpguard.ReadBody(w, r, 64<<10, s.bodyTimeout); err != nil {
			writeProblem(w, r, http.StatusRequestTimeout, "bad-request", "Bad request", "the request body was too large or too slow; this API takes none")
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	out := make([]map[string]string, 0, len(s.names))
	for _, n := range s.names {
		p := s.products[n]
		out = append(out, map[string]string{"name": n, "domain": p.Domain, "href": "/products/" + n, "openapi": "/products/" + n + "/openapi.json"})
	}
	writeJSON(w, http.StatusOK, map[string]any{"products": out})
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, p *catalog.Product, c tools.Caller)

// authed resolves the product and the caller's identity, or answers 404/401.
func (s *Server) authed(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.products[r.PathValue("name")]
		if !ok {
			writeProblem(w, r, http.StatusNotFound, "product-not-found", "Product not found",
				fmt.Sprintf("this server serves %s", strings.Join(s.names, ", ")))
			return
		}
		c, err := s.authenticate(r, p.Name)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="askmesh product API", error="invalid_token"`)
			writeProblem(w, r, http.StatusUnauthorized, "unauthorized", "Unauthorized", err.Error())
			return
		}
		h(w, r, p, c)
	})
}

// authenticate resolves the bearer token to the caller. The message never
// says whether a token exists.
func (s *Server) authenticate(r *http.Request, product string) (tools.Caller, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if h == "" {
		return tools.Caller{}, errors.New("this endpoint needs a bearer token: send Authorization: Bearer <token>")
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return tools.Caller{}, errors.New(`the Authorization header must be "Bearer <token>"`)
	}
	// The request id is the server's own, or askmesh's in its signed token;
	// a client's (bounded, validated) is recorded beside it as the client's.
	c := tools.Caller{Channel: Channel, RequestID: uuid.NewString(), ClientRequestID: httpguard.ClientID(r.Header.Get("X-Request-ID"))}
	if id, ok := s.tokens[sha256.Sum256([]byte(token))]; ok {
		c.Subject = s.dir.Lookup(id)
		return c, nil
	}
	if id, ok := s.demo[token]; ok {
		c.Subject = s.dir.Lookup(id)
		return c, nil
	}
	if s.verifier != nil && strings.Count(token, ".") == 2 {
		claims, err := s.verifier.Verify(token, product)
		if err != nil {
			s.log.InfoContext(r.Context(), "product API token refused", "product", product, "err", err)
			return tools.Caller{}, errors.New("the bearer token is not valid for this product")
		}
		c.Subject = s.dir.Lookup(claims.Subject)
		if httpguard.ValidID(claims.RequestID) {
			c.RequestID = claims.RequestID
		}
		c.ConversationID = claims.ConversationID
		if claims.Channel != "" {
			c.Channel = Channel + ":" + claims.Channel
		}
		return c, nil
	}
	return tools.Caller{}, errors.New("the bearer token is not valid")
}

// call runs one tool call through the executor.
func (s *Server) call(ctx context.Context, c tools.Caller, tool string, args any) (*tools.Result, error) {
	b, err := json.Marshal(args)
	if err != nil {
		return nil, fmt.Errorf("encode arguments: %w", err)
	}
	return s.run.Call(ctx, c, tools.Call{Tool: tool, Arguments: b})
}

func (s *Server) describe(w http.ResponseWriter, r *http.Request, p *catalog.Product, c tools.Caller) {
	res, err := s.call(r.Context(), c, tools.ToolDescribe, tools.DescribeArgs{Product: p.Name})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res.Description)
}

func (s *Server) records(w http.ResponseWriter, r *http.Request, p *catalog.Product, c tools.Caller) {
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, "bad-request", "Bad request", err.Error())
		return
	}
	a, err := q.recordsArgs(p)
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, "bad-request", "Bad request", err.Error())
		return
	}
	if q.offset > 0 {
		if a.Cursor != "" {
			writeProblem(w, r, http.StatusBadRequest, "bad-request", "Bad request", "give either cursor or offset, not both")
			return
		}
		a.Cursor = s.exec.PageCursor(c.Subject.ID, a, q.offset)
	}
	res, err := s.call(r.Context(), c, tools.ToolQueryRecords, a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	links := map[string]string{}
	if res.NextCursor != "" {
		next := *r.URL
		v := next.Query()
		v.Del("offset")
		v.Set("cursor", res.NextCursor)
		next.RawQuery = v.Encode()
		links["next"] = next.RequestURI()
		w.Header().Add("Link", fmt.Sprintf("<%s>; rel=\"next\"", links["next"]))
	}
	s.respond(w, r, res, links)
}

func (s *Server) record(w http.ResponseWriter, r *http.Request, p *catalog.Product, c tools.Caller) {
	id := r.PathValue("id")
	if err := ValidRecordID(p, id); err != nil {
		writeProblem(w, r, http.StatusBadRequest, "bad-request", "Bad request", err.Error())
		return
	}
	res, err := s.call(r.Context(), c, tools.ToolGetRecord, tools.GetRecordArgs{Product: p.Name, ID: id})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(res.Rows) == 0 {
		writeProblemAudit(w, r, http.StatusNotFound, "record-not-found", "Record not found",
			fmt.Sprintf("no %s record with %s = %q that you may see", p.Name, p.KeyColumn, id), res.AuditID)
		return
	}
	s.respond(w, r, res, nil)
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request, p *catalog.Product, c tools.Caller) {
	serveTool(s, w, r, p, c, tools.ToolQueryMetrics, (*query).metricsArgs)
}

func (s *Server) anomalies(w http.ResponseWriter, r *http.Request, p *catalog.Product, c tools.Caller) {
	serveTool(s, w, r, p, c, tools.ToolFindAnomalies, (*query).anomaliesArgs)
}

// serveTool turns the query string into a tool's arguments and answers with
// the executor's result: a bad query is the client's 400, the rest is the
// executor's (403 denied, 503 unavailable, ...).
func serveTool[A any](s *Server, w http.ResponseWriter, r *http.Request, p *catalog.Product, c tools.Caller, tool string,
	args func(*query, *catalog.Product) (A, error)) {
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, "bad-request", "Bad request", err.Error())
		return
	}
	a, err := args(q, p)
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, "bad-request", "Bad request", err.Error())
		return
	}
	res, err := s.call(r.Context(), c, tool, a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.respond(w, r, res, nil)
}

// fail maps an executor error to a problem.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var (
		ae *tools.ArgumentError
		de *tools.DeniedError
		ue *tools.UnavailableError
		le *tools.LimitError
	)
	id := tools.AuditIDOf(err)
	switch {
	case errors.As(err, &le):
		w.Header().Set("Retry-After", fmt.Sprint(le.RetrySeconds()))
		writeProblem(w, r, http.StatusTooManyRequests, "rate-limited", "Too many requests", le.Error())
	case errors.As(err, &ae):
		writeProblemAudit(w, r, http.StatusBadRequest, "bad-request", "Bad request", ae.Message, id)
	case errors.As(err, &de):
		writeProblemAudit(w, r, http.StatusForbidden, "forbidden", "Forbidden", de.Reason, id)
	case errors.As(err, &ue), errors.Is(err, tools.ErrAuditUnavailable):
		s.log.WarnContext(r.Context(), "product API call failed", "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "5")
		writeProblemAudit(w, r, http.StatusServiceUnavailable, "unavailable", "Service unavailable", err.Error(), id)
	default:
		s.log.ErrorContext(r.Context(), "product API call failed", "path", r.URL.Path, "err", err)
		writeProblemAudit(w, r, http.StatusInternalServerError, "internal", "Internal error", "the request could not be served", id)
	}
}
