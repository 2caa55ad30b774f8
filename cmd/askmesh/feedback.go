package main

import (
	"fmt"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/askmesh/askmesh/feedback"
	"github.com/askmesh/askmesh/internal/eval"
)

// feedbackCmd shows a product's team what people said about its answers.
func (g *globals) feedbackCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "feedback", Short: "Feedback on answers: thumbs up or down, with comments"}
	var product, as, rating string
	var asJSON bool
	list := &cobra.Command{
		Use:   "list --product P --as USER",
		Short: "List the feedback on a product's answers (its own team, decided by policy; audited)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			entries, err := g.productFeedback(cmd, product, as, rating)
			if err != nil {
				return err
			}
			if asJSON {
				if entries == nil {
					entries = []feedback.Entry{}
				}
				return writeJSON(cmd.OutOrStdout(), entries)
			}
			rows := make([][]any, len(entries))
			for i, e := range entries {
				rows[i] = []any{e.At.Format("2006-01-02 15:04"), e.Rating, e.Subject, e.Channel, oneLine(e.Question, 60), oneLine(e.Comment, 60), e.RequestID}
			}
			if err := printTable(cmd.OutOrStdout(), []string{"AT", "RATING", "WHO", "CHANNEL", "QUESTION", "COMMENT", "REQUEST"}, rows); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "\n%d answers rated\n", len(entries))
			return nil
		},
	}
	list.Flags().StringVar(&product, "product", "", "the product (required)")
	list.Flags().StringVar(&as, "as", "", "the directory user asking to see it (demo and development only)")
	list.Flags().StringVar(&rating, "rating", "", "only up or only down")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(list)
	return cmd
}

// productFeedback reads a product's feedback as the --as user.
func (g *globals) productFeedback(cmd *cobra.Command, product, as, rating string) ([]feedback.Entry, error) {
	if product == "" {
		return nil, fmt.Errorf("--product is required")
	}
	if rating != "" && rating != feedback.Up && rating != feedback.Down {
		return nil, fmt.Errorf("--rating is up or down")
	}
	a, err := g.build(cmd)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	c, err := caller(a, as, "cli")
	if err != nil {
		return nil, err
	}
	return a.Feedback.ForProduct(cmd.Context(), c, product, feedback.Filter{Rating: rating})
}

// importFeedbackCmd turns down-voted answers into eval cases to fix.
func (g *globals) importFeedbackCmd() *cobra.Command {
	var product, as, out string
	cmd := &cobra.Command{
		Use:   "import-feedback --product P --as USER --out SUITE.yaml",
		Short: "Turn down-voted answers on a product into eval cases (pending until you write what is right)",
		Long: `Reads the down-votes on a product (as --as, whom policy must let read its records) and adds
one case per answer to --out, creating it or appending to it: the question, its asker and the
comment, marked pending. Write the truth (SQL, values or calls) and remove the pending line to
make the case count; askmesh eval lists pending cases without scoring them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("--out is required: the suite file to create or append to")
			}
			entries, err := g.productFeedback(cmd, product, as, feedback.Down)
			if err != nil {
				return err
			}
			suite := &eval.Suite{Name: "Down-voted answers on " + product}
			if _, err := os.Stat(out); err == nil {
				if suite, err = eval.LoadSuite(out); err != nil {
					return err
				}
			}
			added := eval.ImportFeedback(suite, entries)
			b, err := suite.Marshal()
			if err != nil {
				return err
			}
			if err := os.WriteFile(out, b, 0o644); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d down-voted answers on %s; %d new cases in %s (pending: write what is right)\n", len(entries), product, added, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&product, "product", "", "the product whose down-votes to import (required)")
	cmd.Flags().StringVar(&as, "as", "", "the directory user reading the feedback (demo and development only)")
	cmd.Flags().StringVar(&out, "out", "", "the suite file to create or append to (required)")
	return cmd
}

// oneLine fits text from users on one terminal line: control characters
// (escape sequences) become spaces, runs of space one.
func oneLine(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n-1]) + "…"
	}
	return s
}
