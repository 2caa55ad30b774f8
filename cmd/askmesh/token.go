package main

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/askmesh/askmesh/authz"
)

// tokenCmd makes static bearer tokens: the person or application gets the
// token, the configuration (web.auth.tokens) gets only its hash.
func (g *globals) tokenCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Static bearer tokens for the HTTP API and product APIs"}
	var user string
	newCmd := &cobra.Command{
		Use:   "new --for USER",
		Short: "Make a token; print it (hand it over once) and the configuration line with its hash",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if user == "" {
				return errors.New("--for USER is required: the directory user the token authenticates")
			}
			tok, err := authz.NewToken()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "token: %s\nweb.auth.tokens entry:\n  %q: %s\n", tok, authz.HashToken(tok), user)
			return nil
		},
	}
	newCmd.Flags().StringVar(&user, "for", "", "the directory user id the token authenticates")
	hashCmd := &cobra.Command{
		Use:   "hash [TOKEN]",
		Short: "Print the hash to configure for a token (read from stdin when not given, to keep it out of shell history)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var tok string
			if len(args) == 1 {
				tok = args[0]
			} else {
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if err != nil && line == "" {
					return fmt.Errorf("read the token from stdin: %w", err)
				}
				tok = strings.TrimSpace(line)
			}
			if tok == "" {
				return errors.New("no token given")
			}
			fmt.Fprintln(cmd.OutOrStdout(), authz.HashToken(tok))
			return nil
		},
	}
	cmd.AddCommand(newCmd, hashCmd)
	return cmd
}
