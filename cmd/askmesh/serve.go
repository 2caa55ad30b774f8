package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/askmesh/askmesh/adapters/channels/mcp"
	"github.com/askmesh/askmesh/adapters/channels/slack"
	"github.com/askmesh/askmesh/adapters/channels/web"
	"github.com/askmesh/askmesh/adapters/state"
	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/examples/bank/bankgen"
	"github.com/askmesh/askmesh/internal/app"
)

const defaultAddr = "127.0.0.1:8080"

func (g *globals) serveCmd() *cobra.Command {
	var addr, model, metricsAddr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the web chat, the HTTP API (/v1, OpenAI-compatible, MCP) and, when configured, Slack",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.serve(cmd, serveOptions{addr: addr, model: model, metricsAddr: metricsAddr})
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "", "listen address (default: web.addr, ASKMESH_ADDR or "+defaultAddr+")")
	cmd.Flags().StringVar(&metricsAddr, "metrics-addr", "", "serve Prometheus /metrics on this address of its own (default: web.metrics_addr; none: /metrics only with web.limits.metrics_token)")
	g.modelFlag(cmd, &model)
	return cmd
}

// demoCmd is `askmesh demo`: generate the demo mesh when it is missing or
// stale, then serve it with the demo users' tokens.
func (g *globals) demoCmd() *cobra.Command {
	var addr, model string
	var mesh bool
	var simulate float64
	var places []string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Generate the demo bank mesh if needed, then serve the web chat and HTTP API in demo mode",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			where, err := parsePlace(places)
			if err != nil {
				return err
			}
			if len(where) > 0 && !mesh {
				return usageError{fmt.Errorf("--place needs --mesh: each placed domain is served by its own product API")}
			}
			if err := g.ensureDemoData(cmd); err != nil {
				return err
			}
			if err := g.loadPlaced(cmd, where); err != nil {
				return err
			}
			return g.serve(cmd, serveOptions{addr: addr, model: model, demo: true, mesh: mesh, simulate: simulate, place: where})
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "", "listen address (default "+defaultAddr+")")
	cmd.Flags().BoolVar(&mesh, "mesh", false, "serve each domain's products as its own API on its own port, and answer through those APIs")
	cmd.Flags().StringSliceVar(&places, "place", nil, "with --mesh: put domains on their own engines, e.g. lending=mysql:root@tcp(127.0.0.1:3306)/lending,customer-service=postgres:postgres://...")
	cmd.Flags().Float64Var(&simulate, "simulate-rate", 0, "insert this many synthetic transactions per second into customer-transactions (watch them in the web chat)")
	g.modelFlag(cmd, &model)
	cmd.AddCommand(g.demoGenerateCmd())
	return cmd
}

// ensureDemoData generates the demo mesh when there is none in the data
// directory or it ends before today: "last month" should mean last month.
func (g *globals) ensureDemoData(cmd *cobra.Command) error {
	clock, err := g.clock()
	if err != nil {
		return err
	}
	now := clock.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	m, err := bankgen.ReadManifest(g.dataDir)
	switch {
	case err == nil && m.AsOf == today.Format("2006-01-02"):
		return nil
	case err == nil:
		fmt.Fprintf(cmd.ErrOrStderr(), "the demo data in %s ends on %s; regenerating it to end today\n", g.dataDir, m.AsOf)
	case errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(cmd.ErrOrStderr(), "generating the demo bank mesh in %s ...\n", g.dataDir)
	default:
		return fmt.Errorf("demo data: %w", err)
	}
	start := time.Now()
	if _, err := bankgen.GenerateSQLite(cmd.Context(), bankgen.Options{DataDir: g.dataDir, Seed: 42, Scale: 1, AsOf: today}); err != nil {
		return fmt.Errorf("generate the demo mesh: %w", err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "generated in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}

type serveOptions struct {
	addr, model string
	metricsAddr string
	demo, mesh  bool
	simulate    float64              // synthetic new transactions per second
	place       map[string]placement // domains on engines of their own (--place)
}

func (g *globals) serve(cmd *cobra.Command, o serveOptions) error {
	ctx := cmd.Context()
	cfg, err := g.configWithModel(cmd, o.model)
	if err != nil {
		return err
	}
	addr := cmp.Or(o.addr, cfg.Web.Addr, defaultAddr)
	log := slog.Default()
	rt := app.ServeRuntime()
	log.Debug("go runtime", "gc_percent", rt.GCPercent, "memory_limit", rt.MemoryLimit)
	metrics := web.NewMetrics()
	buildOpts := []app.Option{app.WithObserver(metrics), app.WithLogger(log), app.WithAuditWrapper(metrics.InstrumentAudit), app.WithLimits()}
	if o.mesh {
		meshOpts, stopMesh, err := g.startMesh(cmd, cfg, o.demo, o.place)
		if err != nil {
			return err
		}
		defer stopMesh()
		buildOpts = append(buildOpts, meshOpts...)
	}
	a, err := app.Build(ctx, cfg, buildOpts...)
	if err != nil {
		return err
	}
	defer a.Close()
	a.Limiter.OnRefused(metrics.RateLimited)
	if err := checkData(ctx, a, cmd.ErrOrStderr()); err != nil {
		return err
	}
	if o.simulate > 0 {
		stopSim, err := startSimulator(ctx, cfg, a.Clock.Now, o.simulate)
		if err != nil {
			return err
		}
		defer stopSim()
	}

	opts := web.Options{Agent: a.Agent, Executor: a.Tools, AuditReview: a.Review, Directory: a.Directory, Audit: a.Audit, Ready: a.ReadyChecks(), Catalog: a.Catalog, Access: a.Executor,
		Logger: log, Metrics: metrics, Demo: o.demo, Auth: cfg.Web.Auth, Limits: cfg.Web.Limits, Feedback: a.Feedback}
	bot, err := newSlackBot(ctx, cfg, a, log)
	if err != nil {
		return err
	}
	if bot != nil {
		defer bot.close()
	}
	var briefClaims slack.Deduper
	if bot != nil {
		briefClaims = bot.claims
	}
	stopBriefs, err := startSlackBriefs(a, slackConfig(cfg), briefClaims)
	if err != nil {
		return err
	}
	defer stopBriefs()
	if bot != nil && !bot.socketMode {
		opts.Routes = map[string]http.Handler{
			"POST /slack/events":       bot.EventsHandler(),
			"POST /slack/commands":     bot.CommandsHandler(),
			"POST /slack/interactions": bot.InteractionsHandler(),
		}
	}
	srv, err := web.New(opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	printWelcome(cmd.OutOrStdout(), "http://"+ln.Addr().String(), a, o.demo, bot)

	group, gctx := errgroup.WithContext(ctx)
	group.Go(func() error { return srv.Serve(gctx, ln) })
	if ma := cmp.Or(o.metricsAddr, cfg.Web.MetricsAddr); ma != "" {
		mln, err := net.Listen("tcp", ma)
		if err != nil {
			return fmt.Errorf("listen %s (metrics): %w", ma, err)
		}
		group.Go(func() error { return serveMetrics(gctx, mln, srv.MetricsHandler(), log) })
	}
	if bot != nil {
		if bot.socketMode {
			group.Go(func() error { return bot.RunSocketMode(gctx) })
		} else {
			// Events API answers run after the HTTP reply; let them finish.
			group.Go(func() error { <-gctx.Done(); bot.Wait(); return nil })
		}
	}
	return group.Wait()
}

type slackBot struct {
	*slack.Bot
	socketMode bool
	// claims is the store replicas share (PostgreSQL) for Slack's retried
	// events and scheduled briefs' runs; nil on one process.
	claims slack.Deduper
	close  func()
}

// newSlackBot starts Slack when its tokens are in the environment: Socket
// Mode with an app token, else the Events API on /slack/events.
func newSlackBot(ctx context.Context, cfg app.Config, a *app.App, log *slog.Logger) (_ *slackBot, err error) {
	closeFn := func() {}
	defer func() {
		if err != nil {
			closeFn()
		}
	}()
	sc := slackConfig(cfg) // Config.Validate has checked the tokens go together
	if !sc.Enabled() {
		return nil, nil
	}
	opts := []slack.Option{slack.WithLogger(log), slack.WithFeedback(a.Feedback)}
	var claims slack.Deduper
	if cfg.Memory.Postgres != "" {
		// Replicas share conversations there; they share Slack's retried
		// deliveries too, so only one replica answers an event, and the
		// runs of scheduled briefs, so only one replica posts each.
		pool, err := pgxpool.New(ctx, cfg.Memory.Postgres)
		if err != nil {
			return nil, fmt.Errorf("slack event de-duplication: %w", err)
		}
		d, err := state.NewPostgresDeduper(ctx, pool, time.Hour)
		if err != nil {
			pool.Close()
			return nil, err
		}
		opts = append(opts, slack.WithDeduper(d))
		claims, closeFn = d, pool.Close
	}
	b, err := slack.New(sc, a.Agent, a.Directory, opts...)
	if err != nil {
		return nil, err
	}
	return &slackBot{Bot: b, socketMode: sc.SocketMode(), claims: claims, close: closeFn}, nil
}

func printWelcome(w io.Writer, url string, a *app.App, demo bool, bot *slackBot) {
	fmt.Fprintf(w, "askmesh is serving %s (model %s)\n", url, a.Model.Name())
	fmt.Fprintf(w, "  web chat      %s/\n  HTTP API      %s/v1/chat  (docs/api.md)\n  OpenAI API    %s/v1/chat/completions\n  MCP           %s/mcp\n",
		url, url, url, url)
	switch {
	case bot == nil:
	case bot.socketMode:
		fmt.Fprintln(w, "  Slack         Socket Mode")
	default:
		fmt.Fprintf(w, "  Slack         %s/slack/events and %s/slack/commands\n", url, url)
	}
	if !demo {
		return
	}
	fmt.Fprintln(w, "\nDemo mode: these tokens are public; never serve real data this way.")
	for _, u := range a.Directory.Users() {
		fmt.Fprintf(w, "  %-28s Authorization: Bearer %s\n", u.ID, authz.DemoToken(u.ID))
	}
	fmt.Fprintf(w, "\nTry:\n  curl -s %s/v1/chat -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' \\\n    -d '{\"message\":\"How many new customers did we acquire last month, compared with the month before?\"}'\n",
		url, authz.DemoToken("carol@bank.example"))
	fmt.Fprintln(w, "\nQuestions to try in the web chat (sign in as the person named):")
	for _, q := range demoQuestions {
		fmt.Fprintf(w, "  %-6s %s\n", q[0], q[1])
	}
	fmt.Fprintln(w, "\nPress Ctrl-C to stop.")
}

// demoQuestions show each demo user's view of the mesh, a refusal included.
var demoQuestions = [][2]string{
	{"carol", "How many new customers did we acquire last month, compared with the month before?"},
	{"carol", "Give me an executive summary of last month"},
	{"erin", "Total deposits in Europe last week, by channel"},
	{"bob", "Show me the 5 largest loan applications last month"},
	{"dave", "Who was denied access to loan-applications this week?"},
	{"frank", "How many customers do we have?   (an intern: refused, and the refusal is audited)"},
}

func (g *globals) mcpCmd() *cobra.Command {
	var as string
	cmd := &cobra.Command{
		Use:   "mcp --as USER",
		Short: "Serve the askmesh tools over MCP on stdin/stdout for one directory user (desktop MCP clients)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// stdout carries the protocol: logs go to stderr only.
			log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			a, err := g.buildChecked(cmd, app.WithLogger(log), app.WithLimits())
			if err != nil {
				return err
			}
			defer a.Close()
			c, err := caller(a, as, "mcp")
			if err != nil {
				return err
			}
			if !c.Subject.Known {
				return fmt.Errorf("--as %s: not in the directory", as)
			}
			return mcp.ServeStdio(cmd.Context(), a.Tools, c.Subject, mcp.Options{Logger: log})
		},
	}
	cmd.Flags().StringVar(&as, "as", "", "the directory user the tools act for")
	return cmd
}

// startSimulator adds rate synthetic transactions per second to the demo's
// customer-transactions SQLite file, read from the descriptor as written
// (in mesh mode askmesh's own catalog binds it to its API instead).
func startSimulator(ctx context.Context, cfg app.Config, now func() time.Time, rate float64) (stop func(), err error) {
	if cfg.Products.Postgres != "" {
		return nil, errors.New("--simulate-rate writes the SQLite demo data; products are served from PostgreSQL here")
	}
	reg, err := app.LoadCatalog(cfg.CatalogDir)
	if err != nil {
		return nil, fmt.Errorf("simulator: catalog: %w", err)
	}
	p, ok := reg.Get(bankgen.SimulatedProduct)
	if !ok {
		return nil, fmt.Errorf("--simulate-rate needs the %s product", bankgen.SimulatedProduct)
	}
	sim, err := bankgen.NewSimulator(ctx, p, cfg.DataDir, now, nil)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := sim.Run(sctx, rate); err != nil {
			slog.Warn("the transaction simulator stopped", "err", err)
		}
	}()
	return func() { cancel(); <-done; _ = sim.Close() }, nil
}

// slackConfig is Slack's part of the configuration, as the Slack channel takes it.
func slackConfig(c app.Config) slack.Config {
	sl := c.Slack
	return slack.Config{BotToken: sl.BotToken, AppToken: sl.AppToken, SigningSecret: sl.SigningSecret, APIURL: sl.APIURL,
		Streaming: sl.Streaming, MaxConcurrent: sl.MaxConcurrent, SuggestedPrompts: sl.SuggestedPrompts, Users: sl.Users}
}

// serveMetrics serves /metrics alone on its own listener, one only the
// monitoring network should reach, until ctx ends.
func serveMetrics(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	log.Info("metrics are listening", "addr", ln.Addr().String())
	go func() {
		<-ctx.Done()
		_ = hs.Close()
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}
