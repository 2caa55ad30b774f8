package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/askmesh/askmesh/examples/bank/bankgen"
)

// benchAsOf and benchNow pin the demo mesh and the clock, so that every run
// asks the same questions of the same data.
var (
	benchAsOf = time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC)
	benchNow  = time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
)

const defaultBenchDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

func (g *globals) benchCmd() *cobra.Command {
	var (
		out, goBench, dsn string
		quick             bool
		only              []string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure askmesh against baselines in one run and write docs/benchmarks.md",
		Long: `bench measures, each against a baseline timed in the same run: tool call
overhead vs the bare SQL, authorization vs bare OPA, audit appends to
PostgreSQL vs bare CopyFrom, catalog search vs a linear scan, prompt size at
10 and 10,000 products, and end-to-end HTTP chat against a scripted model
with a fixed latency. It needs PostgreSQL (DATABASE_URL, default
` + defaultBenchDSN + `), where it creates a database and drops it afterwards.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBench(cmd.Context(), benchOptions{out: out, goBench: goBench, dsn: dsn, quick: quick, only: only,
				stdout: cmd.OutOrStdout(), progress: cmd.ErrOrStderr()})
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "write the Markdown report to this file (default: stdout)")
	f.BoolVar(&quick, "quick", false, "fewer iterations and conversations: a faster, noisier run")
	f.StringSliceVar(&only, "only", nil, "run only these sections (by the names progress prints: \"end-to-end HTTP chat\", \"audit appends\", ...), to iterate on one figure; a partial report must not be written over docs/benchmarks.md")
	f.StringVar(&goBench, "go-bench", "", "a file holding `go test -bench` output to include in the report")
	f.StringVar(&dsn, "database-url", envOr("DATABASE_URL", defaultBenchDSN), "PostgreSQL server for the audit figures (env DATABASE_URL); a fresh database is created on it and dropped")
	cmd.AddCommand(g.benchLoadCmd())
	return cmd
}

type benchOptions struct {
	out, goBench, dsn string
	quick             bool
	only              []string // section names; empty: all
	stdout, progress  io.Writer
}

// benchEnv is what every section shares.
type benchEnv struct {
	ctx      context.Context
	dataDir  string // the generated demo mesh
	tmp      string
	quick    bool
	dsn      string
	progress io.Writer
	goBench  string // the --go-bench file's text
	// previous is the report this run replaces (--out), if any, and
	// previousDate its date: the before of figures it also gave.
	previous, previousDate string
}

// n scales an iteration count down in quick mode.
func (e *benchEnv) n(full int) int {
	if e.quick {
		return max(1, full/5)
	}
	return full
}

func (e *benchEnv) logf(format string, args ...any) {
	fmt.Fprintf(e.progress, "bench: "+format+"\n", args...)
}

func runBench(ctx context.Context, o benchOptions) error {
	if len(o.only) > 0 && o.out != "" {
		return errors.New("bench: --only writes a partial report: print it (no --out) rather than replace a whole one")
	}
	rep := &benchReport{Started: time.Now(), Quick: o.quick, CPU: cpuModel(), Cores: runtime.NumCPU(), LoadBefore: loadAvg()}
	if o.goBench != "" {
		b, err := os.ReadFile(o.goBench)
		if err != nil {
			return fmt.Errorf("--go-bench: %w", err)
		}
		rep.GoBench = string(b)
	}
	tmp, err := os.MkdirTemp("", "askmesh-bench-")
	if err != nil {
		return fmt.Errorf("bench: temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	e := &benchEnv{ctx: ctx, dataDir: filepath.Join(tmp, "mesh"), tmp: tmp, quick: o.quick, dsn: o.dsn, progress: o.progress, goBench: rep.GoBench}
	if o.out != "" {
		if b, err := os.ReadFile(o.out); err == nil {
			e.previous = string(b)
			_, e.previousDate = previousProfiles(o.out)
		}
	}
	steps := []struct {
		name string
		run  func() *benchSection
	}{
		{"tool call overhead", e.benchToolCall},
		{"authorization", e.benchAuthz},
		{"authorization by catalog size", e.benchAuthzScale},
		{"audit appends", e.benchAudit},
		{"catalog search", e.benchSearch},
		{"prompt size", e.benchPrompt},
		{"end-to-end HTTP chat", e.benchHTTP},
		{"replicas", e.benchReplicas},
		{"well-behaved users under abuse", e.benchAbuse},
	}
	if len(o.only) > 0 {
		known := map[string]bool{}
		for _, s := range steps {
			known[s.name] = true
		}
		var kept = steps[:0]
		for _, s := range steps {
			if slices.Contains(o.only, s.name) {
				kept = append(kept, s)
			}
		}
		for _, name := range o.only {
			if !known[name] {
				return fmt.Errorf("bench: --only %q: no such section", name)
			}
		}
		steps = kept
	}
	e.logf("generating the demo mesh in %s", e.dataDir)
	if _, err := bankgen.GenerateSQLite(ctx, bankgen.Options{DataDir: e.dataDir, Seed: 42, Scale: 1, AsOf: benchAsOf}); err != nil {
		return fmt.Errorf("bench: generate the demo mesh: %w", err)
	}
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		e.logf("%s ...", s.name)
		start := time.Now()
		sec := s.run()
		sec.Duration = time.Since(start)
		if sec.Err != nil {
			e.logf("%s: %v", s.name, sec.Err)
		} else {
			e.logf("%s: done in %s", s.name, sec.Duration.Round(100*time.Millisecond))
		}
		rep.Sections = append(rep.Sections, sec)
	}
	if o.out != "" {
		// The profiles the report being replaced gave are the before of
		// whatever changed since.
		prev, since := previousProfiles(o.out)
		for _, sec := range rep.Sections {
			if pr := prev[sec.Title]; pr != "" {
				sec.Previous, sec.Since = pr, since
			}
		}
	}
	rep.Elapsed = time.Since(rep.Started)
	rep.LoadAfter = loadAvg()
	var buf bytes.Buffer
	if err := rep.write(&buf); err != nil {
		return err
	}
	if o.out == "" {
		_, err := o.stdout.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(o.out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	e.logf("wrote %s in %s", o.out, rep.Elapsed.Round(time.Second))
	return nil
}
