// Command askmesh asks questions of a data mesh in plain language, with every
// tool call authorized on behalf of the asker and recorded in an audit log.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/tools"
)

// globals are the flags every command shares.
type globals struct {
	dataDir  string
	now      string
	config   string
	logLevel string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, newRoot(), os.Stderr)
	stop()
	os.Exit(code)
}

// exitError ends the process with a code and no further message: the command
// has already said what it had to (audit verify's broken record, say).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "askmesh",
		Short:         "Ask your data mesh questions in plain language, governed and audited",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return g.setupLogging()
		},
	}
	pf := root.PersistentFlags()
	envFlag(pf, &g.dataDir, "data-dir", "ASKMESH_DATA_DIR", "./askmesh-data", "directory of the embedded stores (demo SQLite files, audit log)")
	envFlag(pf, &g.now, "now", "ASKMESH_NOW", "", "pin the clock to this RFC 3339 instant (env ASKMESH_NOW); named periods resolve against it")
	envFlag(pf, &g.config, "config", "ASKMESH_CONFIG", "", "configuration file (YAML); environment variables override it")
	envFlag(pf, &g.logLevel, "log-level", "ASKMESH_LOG_LEVEL", "warn", "debug, info, warn or error")

	root.AddCommand(g.demoCmd(), g.serveCmd(), g.mcpCmd(), g.catalogCmd(), g.queryCmd(), g.auditCmd(), g.policyCmd(), g.askCmd(), g.chatCmd(), g.briefCmd())
	root.AddCommand(g.productCmd(), g.tokenCmd(), g.doctorCmd(), g.docsCmd())
	root.AddCommand(g.evalCmd(), g.feedbackCmd())
	return root
}

func (g *globals) setupLogging() error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	return nil
}

// clock returns the clock every command uses: pinned by --now, ASKMESH_NOW
// or the configuration file's now, else the system's.
func (g *globals) clock() (tools.Clock, error) {
	cfg, err := app.LoadConfig(g.config)
	if err != nil {
		return nil, err
	}
	if g.now != "" {
		cfg.Now = g.now
	}
	return cfg.Clock()
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
