package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/askmesh/askmesh/adapters/channels/slack"
	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/assistant/brief"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/tools"
)

func (g *globals) briefCmd() *cobra.Command {
	var as, period, compare, model string
	var asJSON, asHTML bool
	cmd := &cobra.Command{
		Use:   "brief --as USER [--period last_month] [--json | --html]",
		Short: "Print an executive brief: headline metrics with their change, top contributors, anomalies, what is withheld",
		Long: "Print an executive brief for USER: every data product with headline metrics that USER may see, " +
			"each metric's value over the period, the comparison period's value and the change, the top contributor, " +
			"notable anomalies and the sources. Products USER may not see are named as withheld, with the reason. " +
			"Every figure is fetched through the tools on USER's behalf, so policy applies and each call is audited. " +
			"With a language model configured (--model), the model rewrites the brief as prose from the same figures, " +
			"and any number it writes that no tool returned is flagged.",
		Example: "  askmesh brief --as carol\n  askmesh brief --as alice --period 2026-10 --json\n  askmesh brief --as carol --html > brief.html",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, c, err := g.buildFor(cmd, model, as)
			if err != nil {
				return err
			}
			defer a.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Minute)
			defer cancel()
			ans, err := brief.Build(ctx, a.Executor, a.Catalog, c, brief.Options{Period: period, Compare: compare, Writer: writer(a)})
			if err != nil {
				return err
			}
			switch {
			case asJSON:
				return writeJSON(cmd.OutOrStdout(), ans)
			case asHTML:
				return writeBriefHTML(cmd.OutOrStdout(), ans)
			}
			if ans.Brief != nil {
				printBrief(cmd.OutOrStdout(), ans.Brief)
			}
			return printAnswer(cmd.OutOrStdout(), ans)
		},
	}
	cmd.Flags().StringVar(&as, "as", "", "the directory user the brief is for (demo and development only)")
	cmd.Flags().StringVar(&period, "period", brief.DefaultPeriod, "the period: a named period (last_month, last_quarter, ...), an ISO month (2026-10) or a range")
	cmd.Flags().StringVar(&compare, "compare", brief.DefaultCompare, "compare with previous_period or previous_year")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the brief, its tables, chart, sources and denials as JSON (see docs/cli.md)")
	cmd.Flags().BoolVar(&asHTML, "html", false, "write the brief as one self-contained HTML page (inline CSS and SVG, printable to PDF)")
	cmd.MarkFlagsMutuallyExclusive("json", "html")
	g.modelFlag(cmd, &model)
	return cmd
}

// startSlackBriefs schedules the executive briefs configured under
// slack.briefs, posting through the Slack app configured by scfg. With no
// briefs configured, or Slack off, it does nothing. The returned stop
// waits (up to 30 seconds) for briefs being posted; call it on shutdown.
// claims, shared by replicas, lets one of them post each run (nil: this
// process posts every run).
//
// serve calls it once the stack is built:
//
//	stopBriefs, err := startSlackBriefs(a, slackCfg, claims)
//	if err != nil { return err }
//	defer stopBriefs()
func startSlackBriefs(a *app.App, scfg slack.Config, claims slack.Deduper) (stop func(), err error) {
	if len(a.Config.Slack.Briefs) == 0 {
		return func() {}, nil
	}
	if !scfg.Enabled() {
		return nil, fmt.Errorf("slack.briefs are configured but Slack is not (SLACK_BOT_TOKEN is not set)")
	}
	jobs := make([]slack.BriefJob, len(a.Config.Slack.Briefs))
	for i, b := range a.Config.Slack.Briefs {
		jobs[i] = slack.BriefJob{Cron: b.Cron, Channel: b.Channel, As: b.As, Period: b.Period}
	}
	s, err := slack.NewScheduler(scfg, jobs, slackBriefer(a), a.Directory, slack.ScheduleOptions{Logger: a.Logger, Claims: claims})
	if err != nil {
		return nil, err
	}
	s.Start()
	slog.Info("scheduled slack briefs", "count", len(jobs))
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			slog.Warn("slack briefs did not stop in time", "err", err)
		}
	}, nil
}

// slackBriefer builds briefs through the stack's executor.
func slackBriefer(a *app.App) slack.Briefer {
	return slack.BrieferFunc(func(ctx context.Context, c tools.Caller, period string) (*assistant.Answer, error) {
		return brief.Build(ctx, a.Executor, a.Catalog, c, brief.Options{Period: period, Writer: writer(a)})
	})
}

// writer is the stack's model when it is a language model: it writes the
// brief's prose. The offline planner writes nothing the template does not.
func writer(a *app.App) assistant.Model {
	if g, ok := a.Model.(assistant.Grounded); ok && g.Grounded() {
		return nil
	}
	return a.Model
}
