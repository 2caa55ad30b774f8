package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/audit/auditlog"
	"github.com/askmesh/askmesh/internal/app"
)

// openAuditOnly opens just the audit store: reviewing the log needs neither
// the catalog nor a model.
func (g *globals) openAuditOnly(cmd *cobra.Command) (audit.Store, error) {
	cfg, err := g.appConfig(cmd)
	if err != nil {
		return nil, err
	}
	if cfg.Audit.Postgres != "" {
		return auditlog.OpenPostgres(cmd.Context(), cfg.Audit.Postgres)
	}
	if err := app.CheckDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	path := app.AuditPath(cfg.DataDir)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no audit log at %s (set --data-dir or audit.postgres): %w", path, err)
	}
	return auditlog.OpenSQLite(cmd.Context(), path)
}

func (g *globals) auditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Review and verify the audit log"}
	var q struct {
		subject, product, decision, tool, since, until string
		limit                                          int
		asJSON                                         bool
	}
	// find runs the search the filter flags describe (search, export).
	find := func(cmd *cobra.Command) ([]audit.Record, error) {
		st, err := g.openAuditOnly(cmd)
		if err != nil {
			return nil, err
		}
		defer st.Close()
		aq := audit.Query{Subject: q.subject, Product: q.product, Decision: q.decision, Tool: q.tool, Limit: q.limit}
		if aq.Since, aq.Until, err = parseWindow(q.since, q.until); err != nil {
			return nil, err
		}
		return st.Search(cmd.Context(), aq)
	}
	filterFlags := func(c *cobra.Command) {
		f := c.Flags()
		f.StringVar(&q.subject, "subject", "", "only this user")
		f.StringVar(&q.product, "product", "", "only this product")
		f.StringVar(&q.decision, "decision", "", "allow, deny or error")
		f.StringVar(&q.tool, "tool", "", "only this tool")
		f.StringVar(&q.since, "since", "", "from this date or RFC 3339 time (inclusive)")
		f.StringVar(&q.until, "until", "", "until this date or RFC 3339 time (exclusive)")
	}

	search := &cobra.Command{
		Use: "search", Short: "Find audit records", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			recs, err := find(cmd)
			if err != nil {
				return err
			}
			if q.asJSON {
				return writeJSON(cmd.OutOrStdout(), recs)
			}
			return printRecords(cmd.OutOrStdout(), recs)
		},
	}
	filterFlags(search)
	search.Flags().IntVar(&q.limit, "limit", 0, "at most this many records (0: all)")
	search.Flags().BoolVar(&q.asJSON, "json", false, "print JSON (see docs/cli.md)")

	var follow bool
	var tailN int
	tail := &cobra.Command{
		Use: "tail", Short: "Show the latest records; -f follows new ones", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := g.openAuditOnly(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			recs, err := st.Search(cmd.Context(), audit.Query{Limit: tailN, Desc: true})
			if err != nil {
				return err
			}
			for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
				recs[i], recs[j] = recs[j], recs[i]
			}
			if err := printRecords(cmd.OutOrStdout(), recs); err != nil {
				return err
			}
			if !follow {
				return nil
			}
			var after int64
			if len(recs) > 0 {
				after = recs[len(recs)-1].Seq
			}
			err = auditlog.Follow(cmd.Context(), st, audit.Query{AfterSeq: after}, time.Second, func(r audit.Record) error {
				return printRecords(cmd.OutOrStdout(), []audit.Record{r})
			})
			if cmd.Context().Err() != nil {
				return nil // interrupted: a normal way to stop following
			}
			return err
		},
	}
	tail.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new records")
	tail.Flags().IntVarP(&tailN, "lines", "n", 20, "how many recent records")

	var checkpointFile, publicKey string
	verify := &cobra.Command{
		Use: "verify", Short: "Walk the hash chain; name the first broken record", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := g.openAuditOnly(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			res, err := st.Verify(cmd.Context())
			if err != nil {
				return err
			}
			if q.asJSON {
				if err := writeJSON(cmd.OutOrStdout(), res); err != nil {
					return err
				}
			} else if res.OK {
				fmt.Fprintf(cmd.OutOrStdout(), "audit chain intact: %d records, head seq %d, hash %s\n", res.Records, res.HeadSeq, res.Head)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "AUDIT CHAIN BROKEN at seq %d (record %s): %s\n", res.BrokenSeq, res.BrokenID, res.Problem)
			}
			if !res.OK {
				return exitError{code: 2}
			}
			if checkpointFile != "" {
				return verifyCheckpoint(cmd.Context(), cmd.OutOrStdout(), st, checkpointFile, publicKey)
			}
			return nil
		},
	}
	verify.Flags().BoolVar(&q.asJSON, "json", false, "print JSON (see docs/cli.md)")
	verify.Flags().StringVar(&checkpointFile, "checkpoint", "", "also check the log against this signed checkpoint")
	verify.Flags().StringVar(&publicKey, "public-key", "", "the checkpoint signer's Ed25519 public key (PEM); required with --checkpoint")

	var format, out string
	export := &cobra.Command{
		Use: "export", Short: "Export records as JSONL or CSV", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			recs, err := find(cmd)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if out != "" && out != "-" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			switch format {
			case "jsonl":
				return auditlog.WriteJSONL(w, recs)
			case "csv":
				return auditlog.WriteCSV(w, recs)
			}
			return fmt.Errorf("--format %q: want jsonl or csv", format)
		},
	}
	filterFlags(export)
	export.Flags().StringVar(&format, "format", "jsonl", "jsonl or csv")
	export.Flags().StringVarP(&out, "output", "o", "-", "file to write (- for standard output)")

	var keyFile string
	checkpoint := &cobra.Command{
		Use: "checkpoint", Short: "Write the signed head of the chain (keep a copy elsewhere)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.appConfig(cmd)
			if err != nil {
				return err
			}
			if keyFile == "" {
				keyFile = cfg.Audit.CheckpointKey
			}
			if keyFile == "" {
				return fmt.Errorf("no signing key: pass --key FILE or set audit.checkpoint_key (askmesh audit keygen makes one)")
			}
			priv, err := auditlog.LoadPrivateKey(keyFile)
			if err != nil {
				return err
			}
			st, err := g.openAuditOnly(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			clock, err := g.clock()
			if err != nil {
				return err
			}
			cp, err := auditlog.MakeCheckpoint(cmd.Context(), st, priv, clock.Now())
			if err != nil {
				return err
			}
			return writeJSON(cmd.OutOrStdout(), cp)
		},
	}
	checkpoint.Flags().StringVar(&keyFile, "key", "", "Ed25519 private key (PEM)")

	var keyOut string
	keygen := &cobra.Command{
		Use: "keygen", Short: "Create an Ed25519 key pair for checkpoints", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return auditlog.GenerateKeyFiles(keyOut)
		},
	}
	keygen.Flags().StringVar(&keyOut, "out", "askmesh-checkpoint", "write OUT.key (private) and OUT.pub (public)")

	cmd.AddCommand(search, tail, verify, export, checkpoint, keygen, g.auditReportCmd())
	return cmd
}

func verifyCheckpoint(ctx context.Context, w io.Writer, st audit.Store, file, pubFile string) error {
	if pubFile == "" {
		return fmt.Errorf("--public-key is required with --checkpoint: a checkpoint proves nothing without the signer's key")
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var cp auditlog.Checkpoint
	if err := json.Unmarshal(raw, &cp); err != nil {
		return fmt.Errorf("checkpoint %s: %w", file, err)
	}
	pub, err := auditlog.LoadPublicKey(pubFile)
	if err != nil {
		return err
	}
	if err := auditlog.VerifyCheckpoint(ctx, st, cp, pub); err != nil {
		fmt.Fprintf(w, "CHECKPOINT MISMATCH: %v\n", err)
		return exitError{code: 2}
	}
	fmt.Fprintf(w, "checkpoint seq %d (%s) matches the log\n", cp.Seq, cp.At.Format(time.RFC3339))
	return nil
}

func printRecords(w io.Writer, recs []audit.Record) error {
	rows := make([][]any, len(recs))
	for i, r := range recs {
		reason := term(r.Reason)
		if rs := []rune(reason); len(rs) > 80 {
			reason = string(rs[:77]) + "..."
		}
		rows[i] = []any{r.Seq, r.At.Format(time.RFC3339), r.Subject, r.Tool, r.Product, r.Decision, r.RowsReturned, reason}
	}
	return printTable(w, []string{"SEQ", "AT", "SUBJECT", "TOOL", "PRODUCT", "DECISION", "ROWS", "REASON"}, rows)
}

// parseWindow parses --since and --until.
func parseWindow(since, until string) (from, to time.Time, err error) {
	if from, err = parseWhen(since); err != nil {
		return from, to, fmt.Errorf("--since: %w", err)
	}
	if to, err = parseWhen(until); err != nil {
		return from, to, fmt.Errorf("--until: %w", err)
	}
	return from, to, nil
}

// parseWhen accepts a date or an RFC 3339 time.
func parseWhen(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}
