package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/askmesh/askmesh/adapters/backends/sqlstore"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/catalog/dbt"
	"github.com/askmesh/askmesh/internal/app"
)

// Commands that write descriptors from what a team already has (a dbt
// project, a live schema) and check descriptors for what needs a person.

func (g *globals) catalogImportCmd() *cobra.Command {
	imp := &cobra.Command{Use: "import", Short: "Write descriptors from catalogs teams already keep"}
	var conn, out, domain string
	var force bool
	c := &cobra.Command{
		Use:   "dbt PATH",
		Short: "Import a dbt project's semantic manifest (PATH: the project or target/semantic_manifest.json)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.appConfig(cmd)
			if err != nil {
				return err
			}
			binding, err := connectionBinding(cfg, conn)
			if err != nil {
				return err
			}
			path := args[0]
			if st, err := os.Stat(path); err == nil && st.IsDir() {
				path = filepath.Join(path, "target", "semantic_manifest.json")
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("%w (run `dbt parse` in the project to write target/semantic_manifest.json)", err)
			}
			products, reviews, skipped, err := dbt.Import(data, dbt.Options{Binding: binding, Domain: domain})
			if err != nil {
				return err
			}
			if err := writeDescriptors(cmd, out, products, reviews, force); err != nil {
				return err
			}
			for _, s := range skipped {
				fmt.Fprintln(cmd.OutOrStdout(), "not imported:", s)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "next: review the descriptors, then `askmesh catalog lint", out+"`")
			return nil
		},
	}
	c.Flags().StringVar(&conn, "connection", "", "the warehouse connection (connections: in the configuration) the products are bound to")
	c.Flags().StringVar(&out, "out", "", "directory to write descriptors to (required)")
	c.Flags().StringVar(&domain, "domain", "", "domain of the products whose model meta names none (default analytics)")
	c.Flags().BoolVar(&force, "force", false, "overwrite descriptors that exist")
	_ = c.MarkFlagRequired("connection")
	_ = c.MarkFlagRequired("out")
	imp.AddCommand(c)
	return imp
}

// connectionBinding is the binding of a named connection of the
// configuration: descriptors carry its kind, schema and DSN variable.
func connectionBinding(cfg app.Config, name string) (catalog.Binding, error) {
	c, ok := cfg.Connections[name]
	if !ok {
		var names []string
		for n := range cfg.Connections {
			names = append(names, n)
		}
		sort.Strings(names)
		return catalog.Binding{}, usageError{fmt.Errorf("no connection %q in the configuration (connections: %s)", name, strings.Join(names, ", "))}
	}
	switch c.Kind {
	case catalog.BackendPostgres, catalog.BackendMySQL:
	default:
		return catalog.Binding{}, fmt.Errorf("connection %s: kind %q is not postgres or mysql", name, c.Kind)
	}
	return catalog.Binding{Kind: c.Kind, Schema: c.Schema, DSNEnv: c.DSNEnv}, nil
}

func (g *globals) catalogInitCmd() *cobra.Command {
	var from, schema, out, domain, dsnEnv string
	var force bool
	c := &cobra.Command{
		Use:   "init --from DSN --schema S --out DIR",
		Short: "Scaffold descriptors from a live schema for review (no grants)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			kind, dsn := catalog.BackendPostgres, from
			if rest, ok := strings.CutPrefix(from, "mysql:"); ok {
				kind, dsn = catalog.BackendMySQL, rest
			}
			tables, err := sqlstore.Introspect(cmd.Context(), kind, dsn, schema)
			if err != nil {
				return err
			}
			if len(tables) == 0 {
				return fmt.Errorf("schema %q has no tables", schema)
			}
			if domain == "" {
				domain = catalog.ProductName(schema)
			}
			var products []*catalog.Product
			reviews := map[string]map[string]string{}
			for _, t := range tables {
				p, review := catalog.Scaffold(t, domain, catalog.Binding{Kind: kind, Schema: schema, DSNEnv: dsnEnv})
				products = append(products, p)
				reviews[p.Name] = review
			}
			if err := writeDescriptors(cmd, out, products, reviews, force); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "next: review the descriptors, then `askmesh catalog lint", out+"`")
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&from, "from", "", "the database: a PostgreSQL DSN, or mysql:user:password@tcp(host:3306)/database")
	f.StringVar(&schema, "schema", "", "the schema (MySQL: database) to describe")
	f.StringVar(&out, "out", "", "directory to write descriptors to")
	f.StringVar(&domain, "domain", "", "domain of the products (default: the schema's name)")
	f.StringVar(&dsnEnv, "dsn-env", "", "environment variable the descriptors name for the DSN (default: products.postgres / products.mysql of the configuration)")
	f.BoolVar(&force, "force", false, "overwrite descriptors that exist")
	for _, r := range []string{"from", "schema", "out"} {
		_ = c.MarkFlagRequired(r)
	}
	return c
}

// writeDescriptors writes one <product>.yaml per product into dir; each is
// parsed back first, so nothing is written that askmesh would not load.
func writeDescriptors(cmd *cobra.Command, dir string, products []*catalog.Product, reviews map[string]map[string]string, force bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, p := range products {
		b, err := catalog.Encode(p, reviews[p.Name])
		if err != nil {
			return err
		}
		path := filepath.Join(dir, p.Name+".yaml")
		if _, err := catalog.Parse(path, b); err != nil {
			return fmt.Errorf("the descriptor drafted for %s does not load; fix the source or write it by hand: %w", p.Name, err)
		}
		if _, err := os.Stat(path); err == nil && !force {
			return fmt.Errorf("%s exists; --force overwrites it", path)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%d columns, %d metrics, no grants)\n", path, len(p.Columns), len(p.Metrics))
	}
	return nil
}

func (g *globals) catalogLintCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "lint [DIR]",
		Short: "List what descriptors still need from a person (owner, grants, classifications); exit 1 when anything does",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := ""
			if len(args) == 1 {
				dir = args[0]
			} else if cfg, err := g.appConfig(cmd); err == nil {
				dir = cfg.CatalogDir
			}
			reg, err := app.LoadCatalog(dir)
			if err != nil {
				return err
			}
			var findings []catalog.Finding
			for _, p := range reg.List() {
				findings = append(findings, catalog.Lint(p)...)
			}
			for _, f := range findings {
				fmt.Fprintln(cmd.OutOrStdout(), f.String())
			}
			if len(findings) > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "%d findings in %d products\n", len(findings), len(reg.List()))
				return exitError{1}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d products: nothing needs a person\n", len(reg.List()))
			return nil
		},
	}
}
