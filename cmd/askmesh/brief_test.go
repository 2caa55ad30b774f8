package main

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/askmesh/askmesh/adapters/channels/slack"
	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/app"
)

func TestBriefPrintsCarolsMonth(t *testing.T) {
	t.Parallel()
	dir := banktest.PrivateDir(t)
	out, err := run(t, dir, "brief", "--as", "carol")
	if err != nil {
		t.Fatalf("brief: %v\n%s", err, out)
	}
	for _, want := range []string{
		"Executive brief for October 2026, compared with September 2026.",
		"- Customer acquisition: new customers 398, up 34.0% from 297.",
		"Withheld from you: access-audit (",
		"Headline metrics · October 2026 vs September 2026",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("brief lacks %q:\n%s", want, out)
		}
	}
}

// TestBriefJSONNamesWhatIsWithheld: the JSON brief names what policy
// withholds from alice, with the reason, without calling it.
func TestBriefJSONNamesWhatIsWithheld(t *testing.T) {
	t.Parallel()
	dir := banktest.PrivateDir(t)
	out, err := run(t, dir, "brief", "--as", "alice", "--period", "2026-10", "--json")
	if err != nil {
		t.Fatalf("brief: %v\n%s", err, out)
	}
	var ans assistant.Answer
	if err := json.Unmarshal([]byte(out), &ans); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(ans.Denials) != 0 {
		t.Errorf("a brief calls only what policy allows, yet %d calls were denied: %+v", len(ans.Denials), ans.Denials)
	}
	withheld := map[string]string{}
	for _, w := range ans.Brief.Withheld {
		withheld[w.Product] = w.Reason
	}
	for _, p := range []string{"access-audit", "customer-interactions", "customer-transactions", "loan-applications"} {
		reason := "you are not in a group that may query " + p
		if withheld[p] != reason || !strings.Contains(ans.Text, p+" ("+reason+")") {
			t.Errorf("%s is not named as withheld: %v\n%s", p, ans.Brief.Withheld, ans.Text)
		}
	}
	if len(ans.Charts) != 1 || len(ans.Sources) == 0 {
		t.Errorf("want one chart and sources: %d charts, %d sources", len(ans.Charts), len(ans.Sources))
	}
}

func TestBriefNeedsAUser(t *testing.T) {
	t.Parallel()
	if out, err := run(t, banktest.PrivateDir(t), "brief"); err == nil || !strings.Contains(err.Error(), "--as USER is required") {
		t.Fatalf("brief without --as: %v\n%s", err, out)
	}
}

// startSlackBriefs is serve's hook: a no-op without briefs; with briefs and
// no Slack app it refuses to start rather than silently never post.
func TestStartSlackBriefs(t *testing.T) {
	t.Parallel()
	a := &app.App{}
	stop, err := startSlackBriefs(a, slack.Config{}, nil)
	if err != nil || stop == nil {
		t.Fatalf("no briefs: %v", err)
	}
	stop()
	a.Config.Slack.Briefs = []app.BriefSchedule{{Cron: "0 8 1 * *", Channel: "C1", As: "carol@bank.example"}}
	if _, err := startSlackBriefs(a, slack.Config{}, nil); err == nil || !strings.Contains(err.Error(), "SLACK_BOT_TOKEN") {
		t.Fatalf("briefs without Slack: %v", err)
	}
}

func TestBriefScheduleConfig(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/askmesh.yaml"
	if err := os.WriteFile(path, []byte("slack:\n  briefs:\n    - cron: \"0 8 1 * *\"\n      channel: C0EXEC\n      as: carol@bank.example\n      period: last_month\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := app.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	want := app.BriefSchedule{Cron: "0 8 1 * *", Channel: "C0EXEC", As: "carol@bank.example", Period: "last_month"}
	if len(cfg.Slack.Briefs) != 1 || cfg.Slack.Briefs[0] != want {
		t.Fatalf("briefs %+v, want %+v", cfg.Slack.Briefs, want)
	}
}

// TestBriefTextLeadsWithTheCards: the terminal brief opens with the
// headline and one line per metric card (value, arrow and change, the
// trend), then what is withheld and one sources line, before the details.
func TestBriefTextLeadsWithTheCards(t *testing.T) {
	out, err := run(t, banktest.PrivateDir(t), "brief", "--as", "alice")
	if err != nil {
		t.Fatalf("brief: %v\n%s", err, out)
	}
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "October 2026 against September 2026: total conversions (marketing-campaigns) fell 46.0%") {
		t.Errorf("first line %q", lines[0])
	}
	if !regexp.MustCompile(`(?m)^  New customers \(customer-acquisition\) +398  ▲ \+34\.0% from 297  [▁▂▃▄▅▆▇█]{12}$`).MatchString(out) {
		t.Errorf("no new customers card line:\n%s", out)
	}
	for _, want := range []string{"Withheld from you\n  access-audit: you are not in a group that may query access-audit", "Sources: 10 queries, 4 withheld"} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "Sources: 10 queries") > strings.Index(out, "Executive brief for October 2026") {
		t.Errorf("the details come before the brief's own lines:\n%s", out)
	}
}

// TestBriefHTMLIsSelfContained: --html writes one page that fetches
// nothing (inline CSS and SVG), prints to PDF (@media print), and shows
// the cards and withheld parts.
func TestBriefHTMLIsSelfContained(t *testing.T) {
	out, err := run(t, banktest.PrivateDir(t), "brief", "--as", "carol", "--html")
	if err != nil {
		t.Fatalf("brief --html: %v\n%s", err, out)
	}
	if !strings.HasPrefix(out, "<!doctype html>") || !strings.Contains(out, "@media print") || strings.Count(out, "<svg") < 13 {
		t.Errorf("not a self-contained page with its sparklines and chart:\n%.500s", out)
	}
	for _, attr := range regexp.MustCompile(`(?:src|href)\s*=\s*"([^"]*)"`).FindAllStringSubmatch(out, -1) {
		t.Errorf("the page refers to %q: it must fetch nothing", attr[1])
	}
	for _, want := range []string{`<div class="value">EUR 1,824,025.62</div>`, `<div class="up">▲ &#43;0.96 pts`, "<strong>access-audit</strong>: you are not in a group that may query access-audit"} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q", want)
		}
	}
}

// TestBriefHTMLEscapes: text from data and policy is escaped in the page,
// in its text and in its charts' SVG.
func TestBriefHTMLEscapes(t *testing.T) {
	evil := `<script>alert("x")</script>&`
	ans := &assistant.Answer{Text: evil, Brief: &assistant.Brief{Headline: evil, Cards: []assistant.BriefCard{{Label: evil, Product: evil, Value: "1",
		Trend: []assistant.TrendPoint{{Period: "2026-01-01", Value: 1}, {Period: "2026-02-01", Value: 2}}}},
		Withheld: []assistant.BriefWithheld{{Product: "p", What: evil, Reason: evil}}},
		Charts: []assistant.Chart{{Kind: assistant.ChartBar, Title: evil, Series: []assistant.Series{{Name: evil, Points: []assistant.Point{{X: evil, Y: 1}, {X: "b", Y: 2}}}}}}}
	var b strings.Builder
	if err := writeBriefHTML(&b, ans); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "<script>") || !strings.Contains(b.String(), "&lt;script&gt;") {
		t.Errorf("unescaped data in the page:\n%s", b.String())
	}
}
