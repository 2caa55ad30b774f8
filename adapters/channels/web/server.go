// Package web is askmesh's HTTP server: the chat API (JSON and server-sent
// events), an OpenAI-compatible API, MCP over Streamable HTTP, the web chat,
// and health, readiness and Prometheus metrics. Every API request is
// authenticated with a bearer token and attributed to a directory user; the
// request id it carries is the audit records' request id.
package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/askmesh/askmesh/adapters/channels/mcp"
	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/internal/httpguard"
	"github.com/askmesh/askmesh/tools"
)

// Agent answers questions; *assistant.Agent implements it.
type Agent interface {
	Stream(ctx context.Context, req assistant.Request, emit func(assistant.Event)) (*assistant.Answer, error)
	Memory() assistant.Memory
}

// Pinger reports whether a store can take writes; audit.Store implements it.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Catalog lists products; *catalog.Registry implements it. Optional: the web
// chat offers the products' example questions.
type Catalog interface {
	List() []*catalog.Product
}

// PolicyAccess asks policy, in one evaluation, what a caller may do with
// products, recording nothing; *tools.Executor implements it.
type PolicyAccess interface {
	Access(ctx context.Context, caller tools.Caller, products []string, actions ...string) ([]tools.Access, error)
}

// Options configure a Server. Agent, Directory and Audit are required;
// Executor enables /mcp.
type Options struct {
	Agent     Agent
	Executor  assistant.ToolRunner // the same executor the agent uses; serves MCP tool calls
	Directory Directory
	Audit     Pinger // /readyz pings it: without an audit log nothing may be answered
	// Ready are /readyz's further checks (the model, the product backends:
	// app.App.ReadyChecks).
	Ready []ReadyCheck
	// AuditReview serves the audit review page and API (tools.AuditReview):
	// the only way this server reads the log.
	AuditReview AuditReviewer
	Catalog     Catalog
	// Access lets the page offer only what a person may use (the audit
	// review, the live view, example questions): one policy evaluation per
	// sign-in. Without it the page offers only a catalog question.
	Access PolicyAccess
	Logger *slog.Logger
	// Metrics is shared with the agent (app.WithObserver); one is created
	// when nil, which then sees HTTP traffic only.
	Metrics *Metrics

	// Demo enables the demo users' tokens (demo-<name>) and GET /v1/demo/users.
	// Never in production: anyone can use these tokens.
	Demo bool
	// DemoUsers are the demo users' ids (default: the directory's users);
	// only those the directory lists get a token.
	DemoUsers []string

	Auth   AuthConfig
	Limits Limits
	// Now is the clock web sessions expire by (default time.Now).
	Now func() time.Time

	// Feedback enables POST /v1/feedback and GET /v1/feedback (feedback.go).
	Feedback FeedbackService

	// Routes are further public handlers served beside the API, such as
	// Slack's Events API endpoints, which verify their own signatures.
	Routes map[string]http.Handler
}

// Limits bound what one client can ask of the server.
type Limits struct {
	MaxBodyBytes    int64         `yaml:"max_body_bytes"`    // request body cap (default 1 MiB): 413 beyond it
	MaxMessageChars int           `yaml:"max_message_chars"` // question length cap (default 8000): 400 beyond it
	RatePerMinute   float64       `yaml:"rate_per_minute"`   // per user sustained rate (default 60; negative: no limit)
	Burst           int           `yaml:"burst"`             // per user burst (default 10)
	ReadyTimeout    time.Duration `yaml:"ready_timeout"`     // /readyz checks' deadline (default 2s)
	ReadyCache      time.Duration `yaml:"ready_cache"`       // how long a passed /readyz check (model, products) stands (default 15s; negative: none)
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`  // time in-flight requests get to finish (default 60s)
	KeepAlive       time.Duration `yaml:"keep_alive"`        // SSE comment interval while a stream is quiet (default 15s)
	// BodyTimeout bounds reading a request body (default 10s): a client that
	// trickles its body holds a connection that long, not forever.
	BodyTimeout time.Duration `yaml:"body_timeout"`
	// PublicRatePerMinute and PublicBurst limit each client address on the
	// endpoints that authenticate nobody before working (Slack's, which check
	// their own signatures), defaults 120 and 30; negative: no limit.
	PublicRatePerMinute float64 `yaml:"public_rate_per_minute"`
	PublicBurst         int     `yaml:"public_burst"`
	// MaxPublicBodyBytes caps those endpoints' bodies (default 256 KiB):
	// the signature is checked against this small bound, not MaxBodyBytes.
	MaxPublicBodyBytes int64 `yaml:"max_public_body_bytes"`
	// MetricsToken, when set, is the bearer token GET /metrics requires on
	// the API listener; without it /metrics is not served there (serve it
	// on its own listener: askmesh serve --metrics-addr).
	MetricsToken string `yaml:"metrics_token"`
}

func (l Limits) withDefaults() Limits {
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = 1 << 20
	}
	if l.MaxMessageChars <= 0 {
		l.MaxMessageChars = 8000
	}
	if l.RatePerMinute == 0 {
		l.RatePerMinute = 60
	}
	if l.Burst <= 0 {
		l.Burst = 10
	}
	if l.ReadyTimeout <= 0 {
		l.ReadyTimeout = 2 * time.Second
	}
	if l.ReadyCache == 0 {
		l.ReadyCache = 15 * time.Second
	}
	if l.ShutdownTimeout <= 0 {
		l.ShutdownTimeout = 60 * time.Second
	}
	if l.KeepAlive <= 0 {
		l.KeepAlive = 15 * time.Second
	}
	if l.BodyTimeout <= 0 {
		l.BodyTimeout = 10 * time.Second
	}
	if l.PublicRatePerMinute == 0 {
		l.PublicRatePerMinute = 120
	}
	if l.PublicBurst <= 0 {
		l.PublicBurst = 30
	}
	if l.MaxPublicBodyBytes <= 0 {
		l.MaxPublicBodyBytes = 256 << 10
	}
	return l
}

// Server is the HTTP server.
type Server struct {
	o       Options
	lim     Limits
	log     *slog.Logger
	metrics *Metrics
	auth    *authenticator
	rate    *rateLimiter
	ipRate  *httpguard.IPLimiter
	// crossOrigin refuses cross-site state-changing requests that a web
	// session's cookie would otherwise authenticate.
	crossOrigin *http.CrossOriginProtection
	mux         *http.ServeMux
	handler     http.Handler
	started     time.Time
	ready       *readiness
}

// New checks the options and builds the server's routes.
func New(o Options) (*Server, error) {
	if o.Agent == nil {
		return nil, errors.New("web: Options.Agent is required")
	}
	if o.Directory == nil {
		return nil, errNoDirectory
	}
	if o.Audit == nil {
		return nil, errors.New("web: Options.Audit is required (readiness fails closed without it)")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics()
	}
	if l, ok := o.Directory.(userLister); ok && len(o.DemoUsers) == 0 {
		for _, u := range l.Users() {
			o.DemoUsers = append(o.DemoUsers, u.ID)
		}
	}
	if o.Demo {
		// Only users the directory lists get demo tokens: a demo token for a
		// stranger would authenticate someone policy knows nothing about.
		known := o.DemoUsers[:0:0]
		for _, id := range o.DemoUsers {
			if o.Directory.Lookup(id).Known {
				known = append(known, id)
			}
		}
		o.DemoUsers = known
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	auth, err := newAuthenticator(o.Directory, o.Auth, o.Demo, o.DemoUsers, o.Now)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s := &Server{o: o, lim: o.Limits.withDefaults(), log: o.Logger, metrics: o.Metrics, auth: auth,
		mux: http.NewServeMux(), started: time.Now(), crossOrigin: http.NewCrossOriginProtection()}
	s.rate = newRateLimiter(s.lim.RatePerMinute, s.lim.Burst)
	s.ready = newReadiness(o.Ready, s.lim.ReadyCache)
	s.ipRate = httpguard.NewIPLimiter(s.lim.PublicRatePerMinute, s.lim.PublicBurst)
	s.routes()
	s.handler = http.HandlerFunc(s.serve)
	if o.Demo {
		s.log.Warn("demo mode: the demo users' tokens (demo-<name>) are accepted; do not expose this server")
	}
	return s, nil
}

func (s *Server) routes() {
	s.handle("GET /healthz", public, s.healthz)
	s.handle("GET /readyz", public, s.readyz)
	s.handle("GET /metrics", public, s.metricsHandler)
	s.handle("GET /{$}", public, page("index.html", "the web chat"))
	s.handle("GET /static/", public, s.static().ServeHTTP)
	s.handle("GET /favicon.ico", public, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	if s.o.Demo {
		s.handle("GET /v1/demo/users", public, s.demoUsers)
	}
	s.handle("GET /v1/me", authed, s.me)
	s.handle("GET /v1/examples", authed, s.examples)
	s.handle("POST /v1/chat", authed, s.chat)
	s.handle("POST /v1/web/chat", authed, s.chat) // the web chat's: recorded as channel web
	s.handle("GET /v1/conversations/{id}", authed, s.conversation)
	s.handle("POST /v1/chat/completions", authed, s.completions)
	s.handle("GET /v1/models", authed, s.models)
	s.handle("GET /v1/models/{id}", authed, s.model)
	s.loginRoutes()    // web sign-in with the identity provider: login.go
	s.auditRoutes()    // audit review page and API: audit.go
	s.feedbackRoutes() // feedback on answers: feedback.go
	s.handle("GET /v1/watch/{product}", authed, s.watchHandler())
	s.handle("GET /v1/web/watch/{product}", authed, s.watchHandler())
	if s.o.Executor != nil {
		h := mcp.Handler(s.o.Executor, mcp.Options{Logger: s.log, Observer: s.metrics, MaxBodyBytes: s.lim.MaxBodyBytes,
			Caller: func(r *http.Request) (mcp.Identity, bool) {
				st := stateOf(r.Context())
				if st == nil || st.subject == nil {
					return mcp.Identity{}, false
				}
				return mcp.Identity{Subject: *st.subject, RequestID: st.id, ClientRequestID: st.client}, true
			}})
		s.handle("/mcp", authed|rawBody, h.ServeHTTP)
	}
	for pattern, h := range s.o.Routes {
		s.handle(pattern, public|perIP, h.ServeHTTP)
	}
	// Everything else: a JSON 404 (or 405 for a known path and another method).
	for _, p := range []string{"/v1/chat", "/v1/chat/completions", "/v1/models", "/v1/me", "/v1/examples", "/healthz", "/readyz", "/metrics"} {
		s.handle(p, public, methodNotAllowed)
	}
	s.handle("/", public, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no endpoint %s %s; see docs/api.md", r.Method, r.URL.Path))
	})
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	allow := "GET"
	switch r.URL.Path {
	case "/v1/chat", "/v1/chat/completions":
		allow = "POST"
	}
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s takes %s, not %s", r.URL.Path, allow, r.Method))
}

// Handler is the server's handler, for mounting or tests.
func (s *Server) Handler() http.Handler { return s.handler }

// Metrics are the server's metrics.
func (s *Server) Metrics() *Metrics { return s.metrics }

// Run listens on addr and serves until ctx is cancelled, then shuts down
// gracefully: it stops accepting connections and lets in-flight requests,
// streams included, finish within Limits.ShutdownTimeout, after which the
// remaining ones are cancelled (their agents stop, their streams end).
func (s *Server) Run(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("web: listen %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve is Run on a listener the caller opened (e.g. on port 0, to learn
// the address first).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		// No WriteTimeout: answers stream for as long as the agent works,
		// which the agent's own timeout bounds.
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("askmesh is listening", "addr", ln.Addr().String(), "demo", s.o.Demo)
	select {
	case err := <-errc:
		return fmt.Errorf("web: serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down: no new connections; letting in-flight requests finish", "timeout", s.lim.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.lim.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		s.log.Warn("in-flight requests did not finish in time; cancelling them", "err", err)
		_ = srv.Close()
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("web: serve: %w", serr)
	}
	if err != nil {
		return fmt.Errorf("web: shutdown: %w", err)
	}
	s.log.Info("shut down")
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "uptime_seconds": int64(time.Since(s.started).Seconds())})
}

// metricsHandler serves /metrics on the API listener only to a bearer of
// Limits.MetricsToken: the metrics name users' traffic and the stack's
// health, and the API port is the one exposed to everyone. Without a token
// they are served on their own listener (MetricsHandler) or not at all.
func (s *Server) metricsHandler(w http.ResponseWriter, r *http.Request) {
	if s.lim.MetricsToken == "" {
		writeError(w, http.StatusNotFound, "not_found", "metrics are served on the metrics listener (askmesh serve --metrics-addr), not on the API port")
		return
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(s.lim.MetricsToken)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="askmesh metrics"`)
		writeError(w, http.StatusUnauthorized, "unauthorized", "GET /metrics needs the metrics token")
		return
	}
	s.o.Metrics.Handler().ServeHTTP(w, r)
}

// MetricsHandler serves the metrics without a token, for a listener of
// their own that only the monitoring network reaches.
func (s *Server) MetricsHandler() http.Handler { return s.o.Metrics.Handler() }
