package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/tools"
)

// catalog commands read descriptors: a platform team's view. With --as they
// go through the executor instead, as the assistant would, and are audited.
func (g *globals) catalogCmd() *cobra.Command {
	var asJSON bool
	var as string
	cmd := &cobra.Command{Use: "catalog", Short: "List, search and describe data products"}
	cmd.PersistentFlags().BoolVar(&asJSON, "json", false, "print JSON (stable; see docs/cli.md)")
	cmd.PersistentFlags().StringVar(&as, "as", "", "act as this directory user (goes through policy and audit)")

	run := func(cmd *cobra.Command, tool string, args any) error {
		a, err := g.build(cmd)
		if err != nil {
			return err
		}
		defer a.Close()
		var res *tools.Result
		if as != "" {
			c, err := caller(a, as, "cli")
			if err != nil {
				return err
			}
			raw, _ := json.Marshal(args)
			if res, err = a.Executor.Call(cmd.Context(), c, tools.Call{Tool: tool, Arguments: raw}); err != nil {
				return err
			}
		} else if res, err = catalogOnly(a, tool, args); err != nil {
			return err
		}
		if asJSON {
			return writeJSON(cmd.OutOrStdout(), res)
		}
		return printResult(cmd.OutOrStdout(), res)
	}
	cmd.AddCommand(&cobra.Command{
		Use: "list", Short: "List every data product", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd, tools.ToolSearch, tools.SearchArgs{})
		},
	}, &cobra.Command{
		Use: "search QUERY", Short: "Search products by topic", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd, tools.ToolSearch, tools.SearchArgs{Query: strings.Join(args, " "), Limit: tools.MaxSearch})
		},
	}, &cobra.Command{
		Use: "describe PRODUCT", Short: "Describe a product: owner, columns, metrics", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd, tools.ToolDescribe, tools.DescribeArgs{Product: args[0]})
		},
	})
	cmd.AddCommand(g.catalogImportCmd(), g.catalogInitCmd(), g.catalogLintCmd())
	return cmd
}

// catalogOnly answers from descriptors alone, without an asker.
func catalogOnly(a *app.App, tool string, args any) (*tools.Result, error) {
	switch tool {
	case tools.ToolSearch:
		q := args.(tools.SearchArgs)
		res := &tools.Result{Tool: tool, Products: []tools.ProductSummary{}}
		if q.Query == "" {
			for _, p := range a.Catalog.List() {
				res.Products = append(res.Products, tools.ProductSummary{Name: p.Name, Domain: p.Domain, Description: firstSentence(p.Description)})
			}
		} else {
			for _, h := range a.Catalog.Search(q.Query, q.Limit) {
				res.Products = append(res.Products, tools.ProductSummary{Name: h.Product.Name, Domain: h.Product.Domain, Description: firstSentence(h.Product.Description), Score: h.Score})
			}
		}
		res.RowCount = len(res.Products)
		return res, nil
	case tools.ToolDescribe:
		name := args.(tools.DescribeArgs).Product
		p, ok := a.Catalog.Get(name)
		if !ok {
			return nil, fmt.Errorf("unknown product %q; see askmesh catalog list", name)
		}
		return &tools.Result{Tool: tool, Product: p.Name, Description: tools.DescribeForOperator(p)}, nil
	}
	return nil, errors.New("unsupported")
}

func firstSentence(s string) string {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '.' && s[i+1] == ' ' {
			return s[:i+1]
		}
	}
	return s
}
