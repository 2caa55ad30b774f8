package main

import (
	"fmt"
	"github.com/askmesh/askmesh/internal/textfmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/tools"
)

func (g *globals) modelFlag(cmd *cobra.Command, model *string) {
	cmd.Flags().StringVar(model, "model", "", "offline (default), openai, azure, anthropic, ollama (see docs/models.md)")
}

// configWithModel is the configuration with --model, when given, choosing
// the model provider.
func (g *globals) configWithModel(cmd *cobra.Command, model string) (app.Config, error) {
	cfg, err := g.appConfig(cmd)
	if err == nil && model != "" {
		cfg.Model.Provider = model
	}
	return cfg, err
}

// buildFor builds the stack with --model and resolves --as against its
// directory; the caller closes the app.
func (g *globals) buildFor(cmd *cobra.Command, model, as string) (*app.App, tools.Caller, error) {
	cfg, err := g.configWithModel(cmd, model)
	if err != nil {
		return nil, tools.Caller{}, err
	}
	a, err := app.Build(cmd.Context(), cfg)
	if err != nil {
		return nil, tools.Caller{}, err
	}
	if err := checkData(cmd.Context(), a, cmd.ErrOrStderr()); err != nil {
		a.Close()
		return nil, tools.Caller{}, err
	}
	c, err := caller(a, as, "cli")
	if err != nil {
		a.Close()
		return nil, tools.Caller{}, err
	}
	return a, c, nil
}

func (g *globals) askCmd() *cobra.Command {
	var as, model string
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "ask --as USER \"question\"",
		Short:   "Ask one question and print the answer with its sources",
		Example: `  askmesh ask --as carol "How many new customers did we acquire last month, compared with the month before?"`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, c, err := g.buildFor(cmd, model, as)
			if err != nil {
				return err
			}
			defer a.Close()
			ans, err := a.Agent.Answer(cmd.Context(), assistant.Request{Caller: c, Question: strings.Join(args, " ")})
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), ans)
			}
			return printAnswer(cmd.OutOrStdout(), ans)
		},
	}
	cmd.Flags().StringVar(&as, "as", "", "the directory user asking (demo and development only)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the answer, tables, sources and tool calls as JSON (the shape: docs/cli.md)")
	g.modelFlag(cmd, &model)
	return cmd
}

// printAnswer prints an answer for a terminal: the text, then each table,
// then the sources and denials with their audit records.
func printAnswer(w io.Writer, ans *assistant.Answer) error {
	fmt.Fprintln(w, textfmt.Terminal(ans.Text, true))
	if v := ans.Verified; v != nil {
		fmt.Fprintf(w, "Verified by %s, %s\n", term(v.VerifiedBy), term(v.VerifiedAt))
	}
	for _, t := range ans.Tables {
		fmt.Fprintf(w, "\n%s\n", term(t.Title))
		header := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			header[i] = term(c.Name)
		}
		rows := t.Rows
		if len(rows) > 20 {
			rows = rows[:20]
		}
		if err := printTable(w, header, rows); err != nil {
			return err
		}
		if int64(len(rows)) < t.TotalRows {
			fmt.Fprintf(w, "(%d of %d rows)\n", len(rows), t.TotalRows)
		}
	}
	if len(ans.Sources) > 0 {
		fmt.Fprintln(w, "\nSources:")
		for _, s := range ans.Sources {
			fmt.Fprintf(w, "  %s · %s %s · audit %s\n", term(s.Product), term(s.Tool), term(string(s.Arguments)), s.AuditID)
		}
	}
	for _, d := range ans.Denials {
		fmt.Fprintf(w, "Denied: %s (%s) · audit %s\n", term(d.Reason), term(d.Product), d.AuditID)
	}
	for _, f := range ans.Flags {
		fmt.Fprintf(w, "Warning: %s\n", term(f))
	}
	return nil
}
