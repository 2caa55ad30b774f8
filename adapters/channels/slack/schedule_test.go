package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"slices"
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
	// The brief as Block Kit: the headline as a header, a field per metric
	// card (value, arrow and change), what is withheld and the sources as
	// context lines; the sentences, tables and audit ids in the thread.
	var kit []struct {
		Type     string                  `json:"type"`
		Text     *struct{ Text string }  `json:"text"`
		Fields   []struct{ Text string } `json:"fields"`
		Elements []struct{ Text string } `json:"elements"`
	}
	if err := json.Unmarshal([]byte(blocks), &kit); err != nil {
		t.Fatalf("blocks are not JSON: %v\n%s", err, blocks)
	}
	var types, fields, contexts []string
	for _, b := range kit {
		types = append(types, b.Type)
		for _, f := range b.Fields {
			fields = append(fields, f.Text)
		}
		for _, e := range b.Elements {
			contexts = append(contexts, e.Text)
		}
		if b.Type == "header" && !strings.HasPrefix(b.Text.Text, "October 2026 against September 2026: ") {
			t.Errorf("header %q", b.Text.Text)
		}
	}
	if len(types) < 4 || types[1] != "header" || types[2] != "section" {
		t.Errorf("block types %q: want the schedule's context, then a header, then the cards", types)
	}
	for _, want := range []string{"*New customers* · customer-acquisition\n*398*  ▲ +34.0% from 297", "*Resolution rate* · customer-interactions\n*72.51%*  ▲ +0.96 pts from 71.55%",
		"*Total amount (EUR)* · customer-transactions\n*EUR 1,824,025.62*  ▲ +5.8% from EUR 1,724,638.69"} {
		if !slices.Contains(fields, want) {
			t.Errorf("no card field %q in %q", want, fields)
		}
	}
	ctx := strings.Join(contexts, "\n")
	for _, want := range []string{"Scheduled executive brief", "carol@bank.example", ":lock: Withheld from you: *access-audit* (you are not in a group that may query access-audit)",
		":mag: Sources: 19 queries, 2 withheld"} {
		if !strings.Contains(ctx, want) {
			t.Errorf("the context lines lack %q:\n%s", want, ctx)
		}
	}
	var thread string
	for _, p := range posts[1:] {
		thread += p.Form.Get("blocks")
	}
	for _, want := range []string{"Executive brief for October 2026, compared with September 2026", "new customers 398, up 34.0% from 297", "Headline metrics", "audit `"} {
		if !strings.Contains(thread, want) {
			t.Errorf("the thread lacks %q", want)
		}
	}
	// Further tables go in the thread; the chart is uploaded there as a PNG.
	for _, p := range posts[1:] {
		if p.Form.Get("thread_ts") == "" {
			t.Errorf("a follow-up message is not in the brief's thread: %v", p.Form)
		}
	}
	charts := 0
	for _, u := range f.callsOf("upload.file") {
		if !bytes.HasPrefix(u.File, []byte("\x89PNG")) {
			continue
		}
		img, err := png.Decode(bytes.NewReader(u.File))
		if err != nil || img.Bounds().Dx() < 600 {
			t.Errorf("the chart upload is not a valid PNG of a readable size: %v", err)
		}
		charts++
	}
	if charts != 1 || len(f.callsOf("files.getUploadURLExternal")) == 0 || len(f.callsOf("files.completeUploadExternal")) == 0 {
		t.Errorf("%d charts uploaded (want 1, through files.getUploadURLExternal and files.completeUploadExternal); calls: %s", charts, f.summary())
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

// TestScheduledBriefIsPostedOncePerRun: replicas that share claims (here
// two schedulers over one claims store, as replicas share PostgreSQL's)
// each fire a job's run; one posts it, the other posts nothing. The next
// run is posted again; without claims every process posts.
func TestScheduledBriefIsPostedOncePerRun(t *testing.T) {
	t.Parallel()
	a, f, cfg := briefStack(t)
	jobs := []BriefJob{{Cron: "0 8 1 * *", Channel: "C0EXEC", As: "carol@bank.example"}}
	claims := newMemoryDeduper(time.Hour)
	var replicas []*Scheduler
	for range 2 {
		s, err := NewScheduler(cfg, jobs, briefer(a), a.Directory, ScheduleOptions{Claims: claims})
		if err != nil {
			t.Fatal(err)
		}
		replicas = append(replicas, s)
	}
	briefsPosted := func() int {
		n := 0
		for _, p := range f.callsOf("chat.postMessage") {
			if p.Form.Get("thread_ts") == "" {
				n++
			}
		}
		return n
	}
	december := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	for i, s := range replicas {
		// The replicas' clocks differ by a few hundred milliseconds.
		if err := s.fire(context.Background(), 0, december.Add(time.Duration(i)*300*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	if n := briefsPosted(); n != 1 {
		t.Fatalf("December's run was posted %d times by two replicas, want once", n)
	}
	january := time.Date(2027, 1, 1, 8, 0, 0, 0, time.UTC)
	for _, s := range replicas {
		if err := s.fire(context.Background(), 0, january); err != nil {
			t.Fatal(err)
		}
	}
	if n := briefsPosted(); n != 2 {
		t.Fatalf("after January's run %d briefs were posted, want 2", n)
	}
	alone, err := NewScheduler(cfg, jobs, briefer(a), a.Directory, ScheduleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := alone.fire(context.Background(), 0, january); err != nil {
		t.Fatal(err)
	}
	if n := briefsPosted(); n != 3 {
		t.Fatalf("a process without claims did not post its run (%d briefs posted, want 3)", n)
	}
}
