package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/askmesh/askmesh/examples/bank/bankgen"
)

func (g *globals) demoGenerateCmd() *cobra.Command {
	var (
		seed     int64
		asOf     string
		scale    int
		postgres string
		mysql    string
		domains  []string
	)
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Generate the demo bank mesh (SQLite files, PostgreSQL schemas or MySQL/MariaDB tables)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := bankgen.Options{DataDir: g.dataDir, Seed: seed, Scale: scale}
			if asOf != "" {
				t, err := time.Parse("2006-01-02", asOf)
				if err != nil {
					return fmt.Errorf("--as-of: want YYYY-MM-DD: %w", err)
				}
				opts.AsOf = t
			} else {
				clock, err := g.clock()
				if err != nil {
					return err
				}
				now := clock.Now()
				opts.AsOf = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
			}
			if postgres != "" && mysql != "" {
				return fmt.Errorf("--postgres and --mysql: choose one")
			}
			if len(domains) > 0 && mysql == "" {
				return fmt.Errorf("--domain applies to --mysql only")
			}
			start := time.Now()
			var m bankgen.Manifest
			var err error
			where := g.dataDir
			switch {
			case postgres != "":
				m, err = bankgen.GeneratePostgres(cmd.Context(), postgres, opts)
				where = "PostgreSQL"
			case mysql != "":
				var d *bankgen.Data
				if d, err = bankgen.Generate(cmd.Context(), opts); err == nil {
					err = d.LoadMySQL(cmd.Context(), mysql, domains...)
					m = d.Manifest()
				}
				where = "MySQL"
			default:
				m, err = bankgen.GenerateSQLite(cmd.Context(), opts)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "generated the demo bank mesh in %s (seed %d, as of %s, scale %d) in %s\n",
				where, seed, opts.AsOf.Format("2006-01-02"), scale, time.Since(start).Round(time.Millisecond))
			return writeJSON(cmd.OutOrStdout(), m)
		},
	}
	f := cmd.Flags()
	f.Int64Var(&seed, "seed", 42, "random seed; the same seed, as-of date and scale give identical data")
	f.StringVar(&asOf, "as-of", "", "last day of the data (YYYY-MM-DD; default: today, UTC)")
	f.IntVar(&scale, "scale", 1, "multiplies row counts")
	f.StringVar(&postgres, "postgres", "", "load into this PostgreSQL database (one schema per domain) instead of SQLite files")
	f.StringVar(&mysql, "mysql", "", "load into this MySQL/MariaDB database (user:password@tcp(host:3306)/database) instead of SQLite files")
	f.StringSliceVar(&domains, "domain", nil, "with --mysql: load only these domains (default: all)")
	return cmd
}
