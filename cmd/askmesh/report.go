package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/askmesh/askmesh/audit/auditlog"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/internal/app"
)

// auditReportCmd is `askmesh audit report`: the compliance summary of a
// period, as text (or JSON) and optionally as a self-contained HTML file.
func (g *globals) auditReportCmd() *cobra.Command {
	var since, until, htmlOut string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Compliance summary of a period: accesses and denials per product and user, pii accesses, chain status",
		Long: "Summarizes the audit log over [--since, --until): calls allowed (accesses), denied and failed per product\n" +
			"and per user with the first and last of each, who received personal (pii) columns, and whether the hash\n" +
			"chain is intact. --html FILE also writes a self-contained HTML report with charts. Exits with status 2\n" +
			"when the chain is broken, after printing the report.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var o auditlog.ReportOptions
			var err error
			if o.Since, o.Until, err = parseWindow(since, until); err != nil {
				return err
			}
			clock, err := g.clock()
			if err != nil {
				return err
			}
			o.Now = clock.Now()
			if o.PII, err = g.piiColumns(cmd); err != nil {
				return err
			}
			st, err := g.openAuditOnly(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			rep, err := auditlog.BuildReport(cmd.Context(), st, o)
			if err != nil {
				return err
			}
			if asJSON {
				err = writeJSON(cmd.OutOrStdout(), rep)
			} else {
				err = rep.WriteText(cmd.OutOrStdout())
			}
			if err != nil {
				return err
			}
			if htmlOut != "" {
				if err := writeReportHTML(rep, htmlOut); err != nil {
					return err
				}
				if !asJSON {
					fmt.Fprintf(cmd.OutOrStdout(), "\nHTML report written to %s\n", htmlOut)
				}
			}
			if !rep.Chain.OK {
				return exitError{code: 2}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&since, "since", "", "from this date or RFC 3339 time (inclusive); default: the first record")
	f.StringVar(&until, "until", "", "until this date or RFC 3339 time (exclusive); default: the last record")
	f.StringVar(&htmlOut, "html", "", "also write a self-contained HTML report with charts to this file")
	f.BoolVar(&asJSON, "json", false, "print JSON instead of text (see docs/cli.md)")
	return cmd
}

// piiColumns reads the catalog (configured or the embedded demo) for each
// product's personal columns.
func (g *globals) piiColumns(cmd *cobra.Command) (map[string][]string, error) {
	cfg, err := g.appConfig(cmd)
	if err != nil {
		return nil, err
	}
	reg, err := app.LoadCatalog(cfg.CatalogDir)
	if err != nil {
		return nil, fmt.Errorf("catalog (for pii columns): %w", err)
	}
	out := map[string][]string{}
	for _, p := range reg.List() {
		for _, c := range p.Columns {
			if c.Classification == catalog.ClassPII {
				out[p.Name] = append(out[p.Name], c.Name)
			}
		}
	}
	return out, nil
}

// writeReportHTML writes the file whole or not at all: a half-written
// report must not pass for evidence.
func writeReportHTML(rep *auditlog.Report, path string) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".askmesh-report-*.html")
	if err != nil {
		return fmt.Errorf("--html: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := bufio.NewWriter(tmp)
	if err = rep.WriteHTML(w); err != nil {
		return err
	}
	if err = w.Flush(); err != nil {
		return fmt.Errorf("--html: %w", err)
	}
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("--html: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("--html: %w", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("--html: %w", err)
	}
	return nil
}
