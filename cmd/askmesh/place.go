package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/examples/bank/bankgen"
)

// placement is where `demo --mesh --place` puts a domain: its own engine,
// behind its own product API.
type placement struct{ kind, dsn string }

var placeItem = regexp.MustCompile(`^([a-z][a-z0-9-]*)=(mysql|postgres):`)

// parsePlace reads domain=engine:DSN items separated by commas; a comma
// inside a DSN stays with it (a new item starts only at domain=engine:).
func parsePlace(items []string) (map[string]placement, error) {
	var parts []string
	for _, it := range items {
		for _, p := range strings.Split(it, ",") {
			if len(parts) > 0 && !placeItem.MatchString(p) {
				parts[len(parts)-1] += "," + p
				continue
			}
			parts = append(parts, p)
		}
	}
	out := map[string]placement{}
	for _, p := range parts {
		if p == "" {
			continue
		}
		m := placeItem.FindStringSubmatch(p)
		if m == nil {
			return nil, usageError{fmt.Errorf("--place %q: want domain=mysql:DSN or domain=postgres:DSN", p)}
		}
		if !slices.Contains(bankgen.Domains, m[1]) {
			return nil, usageError{fmt.Errorf("--place: %q is not a domain of the demo mesh (%s)", m[1], strings.Join(bankgen.Domains, ", "))}
		}
		if _, dup := out[m[1]]; dup {
			return nil, usageError{fmt.Errorf("--place: %s is placed twice", m[1])}
		}
		out[m[1]] = placement{kind: m[2], dsn: strings.TrimPrefix(p, m[0])}
	}
	return out, nil
}

// place binds the products of placed domains to their engines; the rest
// keep their bindings.
func place(products []*catalog.Product, where map[string]placement) []*catalog.Product {
	out := make([]*catalog.Product, len(products))
	for i, p := range products {
		pl, ok := where[p.Domain]
		if !ok {
			out[i] = p
			continue
		}
		q := *p
		switch pl.kind {
		case catalog.BackendMySQL:
			q.Binding = catalog.Binding{Kind: catalog.BackendMySQL, Table: p.Binding.Table, DSN: pl.dsn}
		case catalog.BackendPostgres:
			q.Binding = catalog.Binding{Kind: catalog.BackendPostgres, Schema: p.Binding.Schema, Table: p.Binding.Table, DSN: pl.dsn}
		}
		out[i] = &q
	}
	return out
}

// loadPlaced loads each placed domain's demo data into its engine, with
// the same seed and as-of day as the SQLite files: MySQL gets the domain's
// tables in the DSN's database, PostgreSQL one schema per domain.
func (g *globals) loadPlaced(cmd *cobra.Command, where map[string]placement) error {
	if len(where) == 0 {
		return nil
	}
	m, err := bankgen.ReadManifest(g.dataDir)
	if err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	asOf, err := time.Parse("2006-01-02", m.AsOf)
	if err != nil {
		return fmt.Errorf("demo manifest: %w", err)
	}
	start := time.Now()
	d, err := bankgen.Generate(cmd.Context(), bankgen.Options{Seed: m.Seed, Scale: m.Scale, AsOf: asOf})
	if err != nil {
		return err
	}
	pgDone := map[string]bool{}
	for domain, pl := range where {
		switch pl.kind {
		case catalog.BackendMySQL:
			err = d.LoadMySQL(cmd.Context(), pl.dsn, domain)
		case catalog.BackendPostgres:
			if !pgDone[pl.dsn] {
				err = d.LoadPostgres(cmd.Context(), pl.dsn)
				pgDone[pl.dsn] = true
			}
		}
		if err != nil {
			return fmt.Errorf("--place %s: %w", domain, err)
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "mesh: %s's data loaded into %s\n", domain, pl.kind)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "placed domains loaded in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}
