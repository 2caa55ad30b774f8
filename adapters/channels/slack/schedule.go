package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/slack-go/slack"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/tools"
)

// BriefJob is one scheduled executive brief: when (standard five-field
// cron, e.g. "0 8 1 * *" for 08:00 on the first of the month), where (a
// channel id or name), for whom (a directory user id: the brief is built on
// their behalf, so it shows what they may see and every call is audited
// under their name) and over which period (a time_range; default last_month).
type BriefJob struct {
	Cron    string
	Channel string
	As      string
	Period  string
}

// Briefer builds a brief for a caller over a period.
type Briefer interface {
	Brief(ctx context.Context, caller tools.Caller, period string) (*assistant.Answer, error)
}

// BrieferFunc adapts a function to Briefer.
type BrieferFunc func(ctx context.Context, caller tools.Caller, period string) (*assistant.Answer, error)

// Brief calls f.
func (f BrieferFunc) Brief(ctx context.Context, caller tools.Caller, period string) (*assistant.Answer, error) {
	return f(ctx, caller, period)
}

// ScheduleOptions adjust a Scheduler.
type ScheduleOptions struct {
	Location *time.Location // cron times are in this zone (default UTC)
	Timeout  time.Duration  // bounds building and posting one brief (default 5 minutes)
	Logger   *slog.Logger
	// Claims, when set, lets one process post each run of a job: every
	// replica's cron fires, and the one that first claims the run posts it
	// (replicas share the claims through PostgreSQL, as they share Slack's
	// retried events). Nil: this process posts every run.
	Claims Deduper
}

// Scheduler posts executive briefs to Slack channels on cron schedules.
type Scheduler struct {
	client  *slack.Client
	cron    *cron.Cron
	jobs    []BriefJob
	briefer Briefer
	dir     Directory
	timeout time.Duration
	log     *slog.Logger
	claims  Deduper
}

// NewScheduler checks the jobs (cron syntax, channel, a user the directory
// knows) and schedules them; nothing runs until Start. The Slack client is
// built from cfg as the bot's is.
func NewScheduler(cfg Config, jobs []BriefJob, b Briefer, dir Directory, o ScheduleOptions) (*Scheduler, error) {
	if !cfg.Enabled() {
		return nil, errors.New("slack briefs: SLACK_BOT_TOKEN is not set")
	}
	if b == nil || dir == nil {
		return nil, errors.New("slack briefs: a briefer and a directory are required")
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Scheduler{client: newClient(cfg), briefer: b, dir: dir, timeout: o.Timeout, log: o.Logger, claims: o.Claims,
		cron: cron.New(cron.WithLocation(o.Location), cron.WithChain(cron.Recover(cron.DiscardLogger)))}
	var errs []error
	for i, j := range jobs {
		j.Cron, j.Channel, j.As = strings.TrimSpace(j.Cron), strings.TrimSpace(j.Channel), strings.TrimSpace(j.As)
		if _, err := cron.ParseStandard(j.Cron); err != nil {
			errs = append(errs, fmt.Errorf("slack briefs[%d]: cron %q: %w", i, j.Cron, err))
			continue
		}
		if j.Channel == "" {
			errs = append(errs, fmt.Errorf("slack briefs[%d]: channel is required", i))
			continue
		}
		if !dir.Lookup(j.As).Known {
			errs = append(errs, fmt.Errorf("slack briefs[%d]: as %q is not a user of the directory", i, j.As))
			continue
		}
		s.jobs = append(s.jobs, j)
		idx := len(s.jobs) - 1
		if _, err := s.cron.AddFunc(j.Cron, func() {
			if err := s.fire(context.Background(), idx, time.Now()); err != nil {
				s.log.Error("scheduled slack brief failed", "channel", j.Channel, "as", j.As, "err", err)
			}
		}); err != nil {
			errs = append(errs, fmt.Errorf("slack briefs[%d]: %w", i, err))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// Jobs are the scheduled jobs, in configuration order.
func (s *Scheduler) Jobs() []BriefJob { return append([]BriefJob(nil), s.jobs...) }

// Start runs the schedules in the background.
func (s *Scheduler) Start() { s.cron.Start() }

// Stop stops scheduling and waits (up to ctx) for briefs being posted.
func (s *Scheduler) Stop(ctx context.Context) error {
	done := s.cron.Stop()
	select {
	case <-done.Done():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("slack briefs: stop: %w", ctx.Err())
	}
}

// fire is job i's run scheduled for the minute of at: it is posted by the
// process that claims that run first, or by this one without claims.
func (s *Scheduler) fire(ctx context.Context, i int, at time.Time) error {
	if s.claims != nil {
		j := s.jobs[i]
		run := strings.Join([]string{"slack-brief", j.Cron, j.Channel, j.As, j.Period, at.UTC().Truncate(time.Minute).Format(time.RFC3339)}, "|")
		first, err := s.claims.FirstSeen(ctx, run)
		if err != nil {
			// Unclaimed, it might be posted by every replica: not posted.
			return fmt.Errorf("slack briefs: claim the run of %s: %w", at.UTC().Truncate(time.Minute).Format(time.RFC3339), err)
		}
		if !first {
			s.log.InfoContext(ctx, "scheduled brief posted by another replica", "channel", j.Channel, "as", j.As)
			return nil
		}
	}
	return s.Run(ctx, i)
}

// Run builds job i's brief now and posts it: the brief as the bot renders
// answers (text, first table, withheld parts, sources), further tables in
// its thread, and the chart and full tables as uploads.
func (s *Scheduler) Run(ctx context.Context, i int) error {
	if i < 0 || i >= len(s.jobs) {
		return fmt.Errorf("slack briefs: no job %d", i)
	}
	j := s.jobs[i]
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	caller := tools.Caller{Subject: s.dir.Lookup(j.As), Channel: "slack"}
	ans, err := s.briefer.Brief(ctx, caller, j.Period)
	if err != nil {
		return fmt.Errorf("slack briefs: build the brief for %s: %w", j.As, err)
	}
	r := render(ans)
	label := "last month"
	if j.Period != "" {
		label = strings.ReplaceAll(j.Period, "_", " ")
	}
	header := fmt.Sprintf(":calendar: Scheduled executive brief (%s) for %s", mrkdwn(label), mrkdwn(caller.Subject.ID))
	blocks := append([]slack.Block{slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, header, false, false))}, r.messages[0]...)
	if len(blocks) > maxBlocks {
		blocks = blocks[:maxBlocks]
	}
	var ts string
	err = withRateLimit(ctx, func() error {
		var err error
		_, ts, err = s.client.PostMessageContext(ctx, j.Channel, slack.MsgOptionText(r.fallback, false), slack.MsgOptionBlocks(blocks...))
		return err
	})
	if err != nil {
		return fmt.Errorf("slack briefs: post to %s: %w", j.Channel, err)
	}
	postFollowUps(ctx, s.client, s.log, j.Channel, ts, r)
	s.log.InfoContext(ctx, "posted scheduled brief", "channel", j.Channel, "as", j.As, "request", ans.RequestID)
	return nil
}
