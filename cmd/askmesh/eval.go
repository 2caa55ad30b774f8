package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/askmesh/askmesh/internal/eval"
)

// evalCmd scores models on a question suite through the whole stack.
func (g *globals) evalCmd() *cobra.Command {
	var (
		models             []string
		out                string
		minRight, maxWrong float64
	)
	cmd := &cobra.Command{
		Use:   "eval SUITE.yaml",
		Short: "Score models on a question suite: right, wrong, declined, clarified, latency, cost",
		Long: `Asks every question of the suite as its asker, through policy and audit (each question in
its own audit conversation on the eval channel), with each --model in turn, and scores the
answers against the suite's ground truth. Prints the scores and writes report.md, report.html
and report.json to --out. Exits 1 when a model is below --min-right or above --max-wrong.
See docs/evaluation.md.`,
		Example: `  askmesh eval examples/bank/eval.yaml --model offline
  askmesh eval examples/bank/eval.yaml --model offline --model openai:gpt-4o --min-right 0.9 --max-wrong 0.01`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for name, v := range map[string]float64{"--min-right": minRight, "--max-wrong": maxWrong} {
				if cmd.Flags().Changed(name[2:]) && (v < 0 || v > 1) {
					return fmt.Errorf("%s %v: give a share between 0 and 1 (0.9 is 90%%)", name, v)
				}
			}
			suite, err := eval.LoadSuite(args[0])
			if err != nil {
				return err
			}
			cfg, err := g.appConfig(cmd)
			if err != nil {
				return err
			}
			rep, err := eval.Run(cmd.Context(), suite, eval.Options{Config: cfg, Models: models})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if err := rep.WriteText(w); err != nil {
				return err
			}
			if err := writeReports(rep, out); err != nil {
				return err
			}
			fmt.Fprintf(w, "\nreport: %s\n", filepath.Join(out, "report.html"))
			if err := rep.Gate(minRight, maxWrong); err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "askmesh:", err)
				return exitError{code: 1}
			}
			return nil
		},
	}
	cmd.AddCommand(g.importFeedbackCmd())
	cmd.Flags().StringArrayVar(&models, "model", nil, "a model to score, repeatable: offline, openai:gpt-4o, anthropic:claude-sonnet-4-5, ollama:llama3.1 (default offline)")
	cmd.Flags().StringVar(&out, "out", "eval-report", "directory the reports are written to")
	cmd.Flags().Float64Var(&minRight, "min-right", -1, "fail when a model answers fewer than this share of questions right (0..1)")
	cmd.Flags().Float64Var(&maxWrong, "max-wrong", -1, "fail when a model answers more than this share of questions wrong (0..1)")
	return cmd
}

// writeReports writes the Markdown, HTML and JSON reports into dir.
func writeReports(rep *eval.Report, dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	for name, write := range map[string]func(*os.File) error{
		"report.md":   func(f *os.File) error { return rep.WriteMarkdown(f) },
		"report.html": func(f *os.File) error { return rep.WriteHTML(f) },
		"report.json": func(f *os.File) error { return rep.WriteJSON(f) },
	} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		err = write(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("report %s: %w", name, err)
		}
	}
	return nil
}
