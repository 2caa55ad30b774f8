package main

import (
	"encoding/json"
	"fmt"
	"github.com/askmesh/askmesh/internal/textfmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/tools"
)

// config loads the configuration file and applies the global flags on top.
func (g *globals) appConfig(cmd *cobra.Command) (app.Config, error) {
	cfg, err := app.LoadConfig(g.config)
	if err != nil {
		return cfg, err
	}
	return g.withFlags(cmd, cfg), nil
}

// withFlags applies the global flags: given on the command line, they win
// over file and environment.
func (g *globals) withFlags(cmd *cobra.Command, cfg app.Config) app.Config {
	if cmd.Flags().Changed("data-dir") || cfg.DataDir == "" {
		cfg.DataDir = g.dataDir
	}
	if g.now != "" {
		cfg.Now = g.now
	}
	return cfg
}

// build builds the stack for a command.
func (g *globals) build(cmd *cobra.Command, opts ...app.Option) (*app.App, error) {
	cfg, err := g.appConfig(cmd)
	if err != nil {
		return nil, err
	}
	return app.Build(cmd.Context(), cfg, opts...)
}

// caller resolves --as against the directory. Only the CLI trusts a name
// given on the command line: it is for demos and development.
func caller(a *app.App, as, channel string) (tools.Caller, error) {
	if as == "" {
		return tools.Caller{}, usageError{fmt.Errorf("--as USER is required (one of %s)", strings.Join(userIDs(a.Directory), ", "))}
	}
	subj := a.Directory.Lookup(expandUser(a.Directory, as))
	if !subj.Known {
		return tools.Caller{}, unknownUser(a.Directory, as)
	}
	return tools.Caller{Subject: subj, Channel: channel}, nil
}

// expandUser lets demo users be named by first name: --as carol.
func expandUser(d *authz.Directory, as string) string {
	if strings.Contains(as, "@") {
		return as
	}
	for _, u := range d.Users() {
		if strings.EqualFold(strings.SplitN(u.ID, "@", 2)[0], as) {
			return u.ID
		}
	}
	return as
}

func userIDs(d *authz.Directory) []string {
	var ids []string
	for _, u := range d.Users() {
		ids = append(ids, u.ID)
	}
	return ids
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printTable prints rows as an aligned table.
func printTable(w io.Writer, header []string, rows [][]any) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	hs := make([]string, len(header))
	for i, h := range header {
		hs[i] = term(h)
	}
	fmt.Fprintln(tw, strings.Join(hs, "\t"))
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, v := range r {
			cells[i] = cell(v)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

func cell(v any) string {
	switch t := v.(type) {
	case nil:
		return "—"
	case float64:
		return formatNumber(t)
	case string:
		return term(t)
	}
	return term(fmt.Sprint(v))
}

// term is text from users or data made safe for a terminal on one line:
// control characters (ESC sequences that clear the screen or retitle the
// window, CR, tabs that would break the columns) are printed escaped.
func term(s string) string { return textfmt.Terminal(s, false) }

func formatNumber(f float64) string {
	if f == float64(int64(f)) && f < 1e15 && f > -1e15 {
		return fmt.Sprintf("%d", int64(f))
	}
	// Amounts in cents, rates to four places; never exponent notation.
	places := 2
	if math.Abs(f) < 1 {
		places = 4
	}
	return strconv.FormatFloat(f, 'f', places, 64)
}

// printResult prints a tool result for people.
func printResult(w io.Writer, res *tools.Result) error {
	switch {
	case res.Description != nil:
		d := res.Description
		fmt.Fprintf(w, "%s (%s) — owner %s\n%s\n\n", d.Name, d.Domain, d.Owner, d.Description)
		rows := make([][]any, len(d.Columns))
		for i, c := range d.Columns {
			rows[i] = []any{c.Name, c.Type, c.Classification, c.Access, c.Description}
		}
		if err := printTable(w, []string{"COLUMN", "TYPE", "CLASS", "ACCESS", "DESCRIPTION"}, rows); err != nil {
			return err
		}
		if len(d.Metrics) > 0 {
			fmt.Fprintln(w)
			rows = rows[:0]
			for _, m := range d.Metrics {
				rows = append(rows, []any{m.Name, m.Unit, m.Description})
			}
			if err := printTable(w, []string{"METRIC", "UNIT", "DESCRIPTION"}, rows); err != nil {
				return err
			}
		}
	case res.Products != nil:
		rows := make([][]any, len(res.Products))
		for i, p := range res.Products {
			rows[i] = []any{p.Name, p.Domain, fmt.Sprintf("%.2f", p.Score), p.Description}
		}
		if err := printTable(w, []string{"PRODUCT", "DOMAIN", "SCORE", "DESCRIPTION"}, rows); err != nil {
			return err
		}
	default:
		header := make([]string, len(res.Columns))
		for i, c := range res.Columns {
			header[i] = c.Name
		}
		if err := printTable(w, header, res.Rows); err != nil {
			return err
		}
		fmt.Fprintf(w, "\n%d rows", res.RowCount)
		if res.TotalCount != nil {
			fmt.Fprintf(w, " of %d", *res.TotalCount)
		}
		fmt.Fprintln(w)
		if res.NextCursor != "" {
			fmt.Fprintf(w, "next cursor: %s\n", res.NextCursor)
		}
	}
	for _, n := range res.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if res.AuditID != "" {
		fmt.Fprintf(w, "audit: %s\n", res.AuditID)
	}
	return nil
}
