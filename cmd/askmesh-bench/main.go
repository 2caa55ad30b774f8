// Command askmesh-bench measures askmesh against baselines timed in the same
// run (writing docs/benchmarks.md) and loads a running server. It is a
// separate binary so that the shipped askmesh carries no benchmark code, no
// scripted model and no testing package.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// globals are the flags every command shares.
type globals struct {
	dataDir string
}

// defaultAddr is where `askmesh serve` and `askmesh demo` listen by default.
const defaultAddr = "127.0.0.1:8080"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRoot().ExecuteContext(ctx); err != nil {
		var exit exitError
		if errors.As(err, &exit) {
			os.Exit(exit.code)
		}
		fmt.Fprintln(os.Stderr, "askmesh-bench:", err)
		os.Exit(1)
	}
}

// exitError ends the process with a code and no further message: the
// command has already said what it had to (a failed audit check, say).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func newRoot() *cobra.Command {
	g := &globals{}
	root := g.benchCmd()
	root.Use = "askmesh-bench"
	root.SilenceUsage, root.SilenceErrors = true, true
	root.AddCommand(chainAppendCmd())
	root.PersistentFlags().StringVar(&g.dataDir, "data-dir", envOr("ASKMESH_DATA_DIR", "./askmesh-data"), "the served askmesh's data directory (its audit log, for `load`)")
	return root
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
