package main

import (
	"cmp"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/askmesh/askmesh/adapters/channels/slack"
	"github.com/askmesh/askmesh/internal/app"
)

func (g *globals) doctorCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check the configuration, catalog, backends, audit store, model and Slack; say what is wrong and how to fix it",
		Long: `doctor checks every part askmesh needs, as serve would use it, and reports
each one, so that one fault does not hide the next: the configuration, the
data directory, the directory of users, the catalog (descriptor faults,
grants naming unknown groups), the policies, the audit store, every
product's data (file, table and columns, or its API), the model (a cheap
call that spends no tokens) and, when configured, Slack's credentials.
It changes nothing. Exit status 1 when anything failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			cfg, err := app.LoadConfig(g.config)
			// A configuration that reads but does not validate is diagnosed
			// further: Diagnose reports Validate's faults itself.
			if verr := cfg.Validate(); err != nil && (verr == nil || verr.Error() != err.Error()) {
				printFindings(w, []app.Finding{{Check: "configuration", State: app.FindingFailed, What: err.Error(),
					Fix: "fix the file named (--config, ASKMESH_CONFIG) or the environment variable; see docs/configuration.md"}})
				return exitError{code: exitFailed}
			}
			findings := app.Diagnose(cmd.Context(), g.withFlags(cmd, cfg), cmp.Or(g.config, "no configuration file: the embedded demo defaults and the environment"))
			findings = append(findings, slackFinding(cmd, cfg))
			printFindings(w, findings)
			for _, f := range findings {
				if f.State == app.FindingFailed {
					fmt.Fprintln(w, "\nsome checks failed: fix them as shown and run askmesh doctor again")
					return exitError{code: exitFailed}
				}
			}
			fmt.Fprintln(w, "\nall green")
			return nil
		},
	}
}

func slackFinding(cmd *cobra.Command, cfg app.Config) app.Finding {
	sc := slackConfig(cfg)
	if !sc.Enabled() {
		return app.Finding{Check: "slack", State: app.FindingSkipped, What: "not configured (optional; docs/slack.md)"}
	}
	who, err := slack.CheckCredentials(cmd.Context(), sc)
	if err != nil {
		return app.Finding{Check: "slack", State: app.FindingFailed, What: err.Error(),
			Fix: "set SLACK_BOT_TOKEN (xoxb-) and SLACK_APP_TOKEN (xapp-, Socket Mode) or SLACK_SIGNING_SECRET (Events API) from the Slack app's settings; docs/slack.md"}
	}
	mode := "Events API"
	if sc.SocketMode() {
		mode = "Socket Mode"
	}
	return app.Finding{Check: "slack", State: app.FindingOK, What: fmt.Sprintf("the bot is %s (%s)", who, mode)}
}

// printFindings prints one finding a line, continuation lines and the fix
// indented under it.
func printFindings(w io.Writer, findings []app.Finding) {
	const indent = "                        "
	for _, f := range findings {
		lines := strings.Split(f.What, "\n")
		fmt.Fprintf(w, "  %-5s %-15s %s\n", f.State, f.Check, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "%s%s\n", indent, strings.TrimSpace(l))
		}
		if f.Fix != "" {
			fmt.Fprintf(w, "%sfix: %s\n", indent, f.Fix)
		}
	}
}
