package slack

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/assistant/brief"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/tools"
)

func briefStack(t *testing.T) (*app.App, *fakeSlack, Config) {
	t.Helper()
	f := newFakeSlack(t)
	a, err := app.Build(context.Background(), app.Config{DataDir: banktest.PrivateDir(t), Now: banktest.Now.Format(time.RFC3339)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a, f, Config{BotToken: "xoxb-test", APIURL: f.GetAPIURL()}
}

func briefer(a *app.App) Briefer {
	return BrieferFunc(func(ctx context.Context, c tools.Caller, period string) (*assistant.Answer, error) {
		return brief.Build(ctx, a.Executor, a.Catalog, c, brief.Options{Period: period})
	})
}

// TestScheduledBriefIsPostedToTheChannel: a configured brief, triggered
// directly (no waiting on the clock), posts carol's brief to the channel the
// way the bot renders answers, with its chart, every call audited as carol.
func TestScheduledBriefIsPostedToTheChannel(t *testing.T) {
	t.Parallel()
	a, f, cfg := briefStack(t)
	s, err := NewScheduler(cfg, []BriefJob{{Cron: "0 8 1 * *", Channel: "C0EXEC", As: "carol@bank.example"}}, briefer(a), a.Directory, ScheduleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The schedule itself: 08:00 UTC on the first of each month.
	if next := s.cron.Entries()[0].Schedule.Next(banktest.Now); !next.Equal(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("next run %v, want 2026-12-01 08:00 UTC", next)
	}
	if err := s.Run(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	posts := f.callsOf("chat.postMessage")
	if len(posts) == 0 {
		t.Fatalf("nothing posted; calls: %s", f.summary())
	}
	first := posts[0]
	blocks := first.Form.Get("blocks")
	if first.Form.Get("channel") != "C0EXEC" || first.Form.Get("thread_ts") != "" {
		t.Errorf("posted to %q thread %q, want the channel itself", first.Form.Get("channel"), first.Form.Get("thread_ts"))
	}
	for _, want := range []string{"Scheduled executive brief", "carol@bank.example", "Executive brief for October 2026, compared with September 2026",
		"new customers 398, up 34.0% from 297", "Withheld from you: access-audit", "Sources:", "Headline metrics"} {
		if !strings.Contains(blocks, want) {
			t.Errorf("the post lacks %q:\n%s", want, blocks)
		}
	}
	// Further tables go in the thread; the chart is uploaded there as a PNG.
	for _, p := range posts[1:] {
		if p.Form.Get("thread_ts") == "" {
			t.Errorf("a follow-up message is not in the brief's thread: %v", p.Form)
		}
	}
	png := false
	for _, u := range f.callsOf("upload.file") {
		png = png || bytes.HasPrefix(u.File, []byte("\x89PNG"))
	}
	if !png {
		t.Errorf("no chart uploaded; calls: %s", f.summary())
	}
	recs, err := a.Audit.Search(context.Background(), audit.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 {
		t.Fatal("the brief left no audit records")
	}
	for _, r := range recs {
		if r.Subject != "carol@bank.example" || r.Channel != "slack" || r.Model != brief.ModelName {
			t.Errorf("audit record not carol's scheduled brief: %+v", r)
		}
	}
}

// TestScheduledBriefConfigIsChecked: bad cron syntax, a missing channel and
// a user the directory does not know are refused when the schedule is made,
// not when it first fires.
func TestScheduledBriefConfigIsChecked(t *testing.T) {
	t.Parallel()
	a, _, cfg := briefStack(t)
	_, err := NewScheduler(cfg, []BriefJob{
		{Cron: "every monday", Channel: "C1", As: "carol@bank.example"},
		{Cron: "0 8 * * 1", Channel: "", As: "carol@bank.example"},
		{Cron: "0 8 * * 1", Channel: "C1", As: "mallory@bank.example"},
	}, briefer(a), a.Directory, ScheduleOptions{})
	if err == nil {
		t.Fatal("bad jobs accepted")
	}
	for _, want := range []string{`briefs[0]: cron "every monday"`, "briefs[1]: channel is required", `briefs[2]: as "mallory@bank.example" is not a user`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}
