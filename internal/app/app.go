package app

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/askmesh/askmesh/adapters/backends/combined"
	"github.com/askmesh/askmesh/adapters/backends/rest"
	"github.com/askmesh/askmesh/adapters/backends/sqlstore"
	"github.com/askmesh/askmesh/adapters/channels/productapi"
	"github.com/askmesh/askmesh/adapters/models/langchain"
	"github.com/askmesh/askmesh/adapters/models/openai"
	"github.com/askmesh/askmesh/adapters/state"
	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/assistant/planner"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/audit/auditlog"
	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/authz/opa"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/examples/bank"
	"github.com/askmesh/askmesh/feedback"
	"github.com/askmesh/askmesh/internal/telemetry"
	"github.com/askmesh/askmesh/tools"
)

// App is a built askmesh stack.
type App struct {
	Config    Config
	Clock     tools.Clock
	Catalog   *catalog.Registry
	Directory *authz.Directory
	Authz     *opa.Engine
	Audit     audit.Store
	Products  *sqlstore.Store
	Executor  *tools.Executor
	// Tools is Executor within each user's budgets (Config.Limits): what
	// every surface (agent, MCP, product API) must call.
	Tools   *tools.Limited
	Limiter *tools.Limiter
	// Review is the read-only audit port of the review surfaces.
	Review *tools.AuditReview
	Model  assistant.Model
	Agent  *assistant.Agent
	Logger *slog.Logger
	// Telemetry holds the OpenTelemetry providers (no-op ones when off).
	Telemetry *telemetry.Providers
	// Feedback takes and serves feedback on answers.
	Feedback *feedback.Service

	backends map[string]tools.Backend // by binding kind
	closers  []func() error
}

// Option adjusts a build.
type Option func(*buildOptions)

type buildOptions struct {
	limits   bool
	model    assistant.Model
	logger   *slog.Logger
	observer assistant.Observer
	backends map[string]tools.Backend
	wrap     func(audit.Store) audit.Store
	restURLs map[string]string
}

// WithProductAPIs binds the named products to their own APIs (product ->
// base URL) instead of their stores; a "rest" backend must serve them.
func WithProductAPIs(urls map[string]string) Option {
	return func(o *buildOptions) { o.restURLs = urls }
}

// WithLimits applies the users' budgets (Config.Limits, defaults where
// unset) even when the configuration sets none: every served surface.
func WithLimits() Option { return func(o *buildOptions) { o.limits = true } }

// WithModel uses m instead of the configured model (tests, benchmarks).
func WithModel(m assistant.Model) Option { return func(o *buildOptions) { o.model = m } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(o *buildOptions) { o.logger = l } }

// WithObserver reports model and tool calls (metrics).
func WithObserver(obs assistant.Observer) Option { return func(o *buildOptions) { o.observer = obs } }

// WithAuditWrapper wraps the audit store the executor writes through
// (metrics that time each append).
func WithAuditWrapper(wrap func(audit.Store) audit.Store) Option {
	return func(o *buildOptions) { o.wrap = wrap }
}

// WithBackend serves bindings of a kind with b (e.g. "rest").
func WithBackend(kind string, b tools.Backend) Option {
	return func(o *buildOptions) {
		if o.backends == nil {
			o.backends = map[string]tools.Backend{}
		}
		o.backends[kind] = b
	}
}

// Build assembles the stack. On error everything opened so far is closed.
func Build(ctx context.Context, cfg Config, opts ...Option) (_ *App, err error) {
	var bo buildOptions
	for _, o := range opts {
		o(&bo)
	}
	if bo.logger == nil {
		bo.logger = slog.Default()
	}
	if cfg.DataDir == "" {
		cfg.DataDir = "./askmesh-data"
	}
	a := &App{Config: cfg, Logger: bo.logger}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if a.Clock, err = cfg.Clock(); err != nil {
		return nil, err
	}
	if a.Telemetry, err = telemetry.Setup(ctx, cfg.Telemetry, "dev"); err != nil {
		return nil, err
	}
	a.closers = append(a.closers, func() error {
		// Flush the last spans, without holding shutdown up for long.
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return a.Telemetry.Shutdown(sctx)
	})
	if a.Directory, err = loadDirectory(cfg.DirectoryFile); err != nil {
		return nil, err
	}
	products, err := loadProducts(cfg.CatalogDir)
	if err != nil {
		return nil, err
	}
	if err := catalog.CheckGroups(products, a.Directory.Groups()); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	products = a.bind(products, bo.restURLs)
	if a.Catalog, err = catalog.NewRegistry(products...); err != nil {
		return nil, err
	}
	if a.Authz, err = opa.New(ctx, opa.Options{PolicyDir: cfg.PolicyDir, Products: products, Directory: a.Directory}); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	if a.Audit, err = openAudit(ctx, cfg); err != nil {
		return nil, err
	}
	a.closers = append(a.closers, a.Audit.Close)
	if bo.wrap != nil {
		a.Audit = bo.wrap(a.Audit)
	}
	a.Products = sqlstore.New(sqlstore.Options{SQLiteDir: cfg.DataDir, PostgresDSN: cfg.Products.Postgres, MySQLDSN: cfg.Products.MySQL, Secret: os.LookupEnv})
	a.closers = append(a.closers, func() error { a.Products.Close(); return nil })
	restBackend, err := newRESTBackend(cfg, bo.logger)
	if err != nil {
		return nil, err
	}
	if err := combined.Check(products); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	combine := combined.New()
	backends := map[string]tools.Backend{catalog.BackendSQLite: a.Products, catalog.BackendPostgres: a.Products,
		catalog.BackendMySQL: a.Products, catalog.BackendREST: restBackend, catalog.BackendCombined: combine}
	for k, b := range bo.backends {
		backends[k] = b
	}
	a.backends = backends
	a.Executor, err = tools.NewExecutor(tools.ExecutorOptions{Catalog: a.Catalog, Authorizer: a.Authz, Audit: a.Audit,
		Backends: backends, Clock: a.Clock, CursorKey: DeriveKey(cfg.CursorKey), MaskKey: DeriveKey(cfg.MaskKey), Logger: bo.logger,
		TracerProvider: a.Telemetry.Tracer})
	if err != nil {
		return nil, err
	}
	combine.SetExecutor(a.Executor)
	limits := cfg.Limits
	if limits == (tools.Limits{}) && !bo.limits {
		// Budgets guard served surfaces (WithLimits); an in-process run of
		// one operator (suites, evaluations, the CLI) has none unless the
		// configuration sets some.
		limits = tools.NoLimits
	}
	a.Limiter = tools.NewLimiter(limits)
	a.Tools = a.Limiter.Wrap(a.Executor)
	a.Review = tools.NewAuditReview(a.Tools, a.Audit, auditlog.ComputeHash)
	a.Model = bo.model
	if a.Model == nil {
		if a.Model, err = a.buildModel(ctx); err != nil {
			return nil, err
		}
	}
	memory, err := a.buildMemory(ctx)
	if err != nil {
		return nil, err
	}
	a.Agent, err = assistant.New(assistant.Options{Model: a.Model, Tools: a.Tools, Turns: a.Limiter, Memory: memory, Clock: a.Clock,
		Organization: cfg.Organization, MaxSteps: cfg.Agent.MaxSteps, Timeout: cfg.Agent.Timeout,
		Observer: bo.observer, Logger: bo.logger, Verified: assistant.NewVerifiedIndex(a.Catalog),
		Telemetry: assistant.Telemetry{TracerProvider: a.Telemetry.Tracer, MeterProvider: a.Telemetry.Meter,
			Provider: genAIProvider(cfg.Model.Provider), CaptureContent: cfg.Telemetry.CaptureContent}})
	if err != nil {
		return nil, err
	}
	if err := a.buildFeedback(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// genAIProvider is gen_ai.provider.name for the configured model provider
// (the conventions' names where they have one).
func genAIProvider(provider string) string {
	switch p := strings.ToLower(provider); {
	case p == "":
		return "" // from the model's name
	case p == "offline":
		return assistant.AgentName
	case p == "azure":
		return "azure.ai.openai"
	case p == "google" || p == "gemini":
		return "gcp.gemini"
	case p == "bedrock":
		return "aws.bedrock"
	default:
		return p
	}
}

// buildFeedback keeps feedback beside the conversations: in their
// PostgreSQL database when configured, else in <data_dir>/feedback.db. The
// store opens on first use, so commands that take no feedback create nothing.
func (a *App) buildFeedback(context.Context) error {
	store := &lazyFeedback{open: func(ctx context.Context) (feedback.Store, error) {
		if dsn := a.Config.Memory.Postgres; dsn != "" {
			return state.OpenPostgresFeedback(ctx, dsn)
		}
		return state.OpenSQLiteFeedback(ctx, state.FeedbackPath(a.Config.DataDir))
	}}
	a.closers = append(a.closers, store.Close)
	a.Feedback = &feedback.Service{Store: store, Audit: a.Audit, Authorizer: a.Authz, Catalog: a.Catalog, Clock: a.Clock}
	return nil
}

// lazyFeedback opens its store on first use; a failed open is retried.
type lazyFeedback struct {
	mu    sync.Mutex
	open  func(context.Context) (feedback.Store, error)
	store feedback.Store
}

func (l *lazyFeedback) get(ctx context.Context) (feedback.Store, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.store == nil {
		s, err := l.open(ctx)
		if err != nil {
			return nil, err
		}
		l.store = s
	}
	return l.store, nil
}

func (l *lazyFeedback) Put(ctx context.Context, e *feedback.Entry) error {
	s, err := l.get(ctx)
	if err != nil {
		return err
	}
	return s.Put(ctx, e)
}

func (l *lazyFeedback) List(ctx context.Context, f feedback.Filter) ([]feedback.Entry, error) {
	s, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return s.List(ctx, f)
}

func (l *lazyFeedback) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.store == nil {
		return nil
	}
	err := l.store.Close()
	l.store = nil
	return err
}

// Close releases the stack's stores.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}

// Clock is the clock the configuration pins (now), else the system clock.
func (c Config) Clock() (tools.Clock, error) {
	if c.Now == "" {
		return tools.SystemClock{}, nil
	}
	t, err := time.Parse(time.RFC3339, c.Now)
	if err != nil {
		return nil, fmt.Errorf("now %q: want RFC 3339, e.g. 2026-11-15T12:00:00Z: %w", c.Now, err)
	}
	return tools.FixedClock(t), nil
}

func loadDirectory(path string) (*authz.Directory, error) {
	var data []byte
	var err error
	if path == "" {
		data, err = bank.Files.ReadFile(bank.DirectoryFile)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	d, err := authz.LoadDirectory(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("directory %s: %w", cmp.Or(path, "(embedded demo)"), err)
	}
	return d, nil
}

// LoadCatalog reads the descriptors in dir (Config.CatalogDir), or the
// embedded demo bank's when dir is empty, as written: without the run-time
// bindings Build gives them.
func LoadCatalog(dir string) (*catalog.Registry, error) {
	load := func() (*catalog.Registry, error) {
		if dir == "" {
			return catalog.LoadFS(bank.Files, bank.ProductsDir)
		}
		return catalog.LoadDir(dir)
	}
	reg, err := load()
	if err != nil {
		return nil, err
	}
	// A verified question whose calls no longer validate fails loading,
	// naming the question, rather than failing when someone asks it.
	if err := tools.CheckVerified(reg, time.Now()); err != nil {
		return nil, err
	}
	return reg, nil
}

func loadProducts(dir string) ([]*catalog.Product, error) {
	reg, err := LoadCatalog(dir)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	return reg.List(), nil
}

// bind resolves run-time bindings: products named in restURLs go to their
// own APIs (WithProductAPIs), the access-audit product reads the audit store
// wherever it is, and SQL products move to PostgreSQL when configured.
func (a *App) bind(products []*catalog.Product, restURLs map[string]string) []*catalog.Product {
	out := make([]*catalog.Product, len(products))
	for i, p := range products {
		q := *p
		u, rest := restURLs[q.Name]
		switch {
		case rest:
			q.Binding = catalog.Binding{Kind: catalog.BackendREST, URL: u}
		case q.Binding.Kind == catalog.BackendAudit && a.Config.Audit.Postgres != "":
			q.Binding = catalog.Binding{Kind: catalog.BackendPostgres, Schema: "governance", Table: "access_audit", DSN: a.Config.Audit.Postgres}
		case q.Binding.Kind == catalog.BackendAudit:
			q.Binding = catalog.Binding{Kind: catalog.BackendSQLite, Database: "governance", Table: "access_audit"}
		case q.Binding.Kind == catalog.BackendSQLite && a.Config.Products.Postgres != "":
			q.Binding = catalog.Binding{Kind: catalog.BackendPostgres, Schema: q.Binding.Schema, Table: q.Binding.Table, DSN: a.Config.Products.Postgres}
		}
		out[i] = &q
	}
	return out
}

// newRESTBackend serves products bound to their own APIs (rest bindings in
// their descriptors), signing each call with the asker's identity when a
// mesh key is configured.
func newRESTBackend(cfg Config, log *slog.Logger) (*rest.Backend, error) {
	var signer *productapi.Signer
	if cfg.MeshKey != "" {
		key, err := productapi.KeyFromSeed(cfg.MeshKey)
		if err != nil {
			return nil, fmt.Errorf("mesh_key / ASKMESH_MESH_KEY: %w", err)
		}
		if signer, err = productapi.NewSigner(key, 0); err != nil {
			return nil, fmt.Errorf("mesh key: %w", err)
		}
	}
	return rest.New(rest.Options{Signer: signer, Logger: log, Secret: os.LookupEnv}), nil
}

// AuditPath is where the embedded audit store lives.
func AuditPath(dataDir string) string { return filepath.Join(dataDir, "governance.db") }

func openAudit(ctx context.Context, cfg Config) (audit.Store, error) {
	if cfg.Audit.Postgres != "" {
		s, err := auditlog.OpenPostgres(ctx, cfg.Audit.Postgres)
		if err != nil {
			return nil, fmt.Errorf("audit store (PostgreSQL): %w", err)
		}
		return s, nil
	}
	if err := CheckDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	s, err := auditlog.OpenSQLite(ctx, AuditPath(cfg.DataDir))
	if err != nil {
		return nil, fmt.Errorf("audit store (SQLite): %w", err)
	}
	return s, nil
}

func (a *App) buildModel(ctx context.Context) (assistant.Model, error) {
	mc := a.Config.Model
	switch mc.Provider {
	case "", "offline":
		return planner.New(a.Catalog, a.Clock).WithAccess(a.Executor), nil
	case "openai", "azure":
		return openai.New(openai.Config{Azure: mc.Provider == "azure", APIKey: mc.APIKey, BaseURL: mc.BaseURL,
			Model: cmp.Or(mc.Name, openai.DefaultModel), Organization: mc.Organization, AzureAPIVersion: mc.AzureAPIVersion,
			Timeout: mc.Timeout, Stream: true})
	default:
		lc := langchain.Config{Provider: mc.Provider, APIKey: mc.APIKey, BaseURL: mc.BaseURL, Model: mc.Name, Timeout: mc.Timeout}
		if mc.Provider == langchain.Ollama {
			lc.BaseURL = cmp.Or(lc.BaseURL, langchain.DefaultOllamaHost)
			lc.Model = cmp.Or(lc.Model, langchain.DefaultOllamaModel)
		}
		return langchain.New(ctx, lc)
	}
}

func (a *App) buildMemory(ctx context.Context) (assistant.Memory, error) {
	limits := assistant.MemoryLimits{TTL: a.Config.Memory.TTL}
	if a.Config.Memory.Postgres == "" {
		return assistant.NewInMemory(limits), nil
	}
	m, err := state.OpenPostgresMemory(ctx, a.Config.Memory.Postgres, limits)
	if err != nil {
		return nil, fmt.Errorf("conversation memory (PostgreSQL): %w", err)
	}
	a.closers = append(a.closers, func() error { m.Close(); return nil })
	return m, nil
}

// DeriveKey derives a fixed-size key from configured text (cursor_key,
// mask_key); empty stays empty (the executor then uses a random key).
func DeriveKey(s string) []byte {
	if s == "" {
		return nil
	}
	k := sha256.Sum256([]byte(s))
	return k[:]
}
