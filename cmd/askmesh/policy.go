package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/askmesh/askmesh/authz/opa"
)

func (g *globals) policyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Test and inspect authorization policies"}
	var dir string
	var verbose bool
	test := &cobra.Command{
		Use: "test", Short: "Run the policy unit tests (*_test.rego)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			results, err := opa.TestPolicies(cmd.Context(), dir)
			if err != nil {
				return err
			}
			failed := 0
			for _, r := range results {
				if !r.Passed() {
					failed++
					fmt.Fprintf(cmd.OutOrStdout(), "FAIL %s\n", r)
				} else if verbose {
					fmt.Fprintf(cmd.OutOrStdout(), "PASS %s\n", r)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d passed, %d failed\n", len(results)-failed, failed)
			if failed > 0 {
				return exitError{code: 1}
			}
			return nil
		},
	}
	test.Flags().StringVar(&dir, "policy-dir", "", "policy directory (default: the embedded policies)")
	test.Flags().BoolVarP(&verbose, "verbose", "v", false, "list passing tests too")
	cmd.AddCommand(test)
	return cmd
}
