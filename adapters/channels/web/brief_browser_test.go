package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// briefPage is what the brief page shows, read from the DOM.
type briefPage struct {
	Headline  string   `json:"headline"`
	Cards     []string `json:"cards"`     // label: value
	Changes   []string `json:"changes"`   // class and text of each card's change
	Sparks    int      `json:"sparks"`    // sparklines drawn
	Sections  []string `json:"sections"`  // section titles, in page order
	Withheld  []string `json:"withheld"`  // withheld items
	Sources   string   `json:"sources"`   // the disclosure's summary
	CallsOpen bool     `json:"callsOpen"` // tool calls visible without opening it
	Overflow  bool     `json:"overflow"`  // some of the brief is past the right edge
	Wide      []string `json:"wide"`      // which
	Computed  bool     `json:"computed"`  // "How was this computed?" is offered
}

// overlaps finds, in each server-drawn chart visible on the page, text
// elements on the same line (the x-axis labels) whose boxes intersect,
// from getBoundingClientRect; and counts the labels of the busiest line.
const overlapsJS = `(() => {
  const out = { charts: 0, labels: 0, overlaps: [], texts: [] };
  for (const svg of document.querySelectorAll(".answer.done .server-chart svg.chart")) {
    if (svg.getBoundingClientRect().width === 0) continue; // the other size's drawing, hidden
    out.charts++;
    const rows = {};
    for (const t of svg.querySelectorAll("text")) {
      const r = t.getBoundingClientRect();
      if (r.width === 0) continue;
      (rows[Math.round(r.top)] = rows[Math.round(r.top)] || []).push({ s: t.textContent, l: r.left, r: r.right });
    }
    for (const row of Object.values(rows)) {
      row.sort((a, b) => a.l - b.l);
      if (row.length > out.labels) { out.labels = row.length; out.texts = row.map((x) => x.s); }
      for (let i = 1; i < row.length; i++) {
        if (row[i].l < row[i - 1].r) out.overlaps.push(row[i - 1].s + " | " + row[i].s);
      }
    }
  }
  return out;
})()`

type overlapReport struct {
	Charts   int      `json:"charts"`
	Labels   int      `json:"labels"`
	Overlaps []string `json:"overlaps"`
	Texts    []string `json:"texts"`
}

// TestBriefInABrowser: at 1280 and 390 px wide, alice asks for the
// executive summary of last month and the page shows the brief in order:
// headline, metric cards (value, change with arrow and colour class,
// sparkline), what moved it, and what is withheld from her (named, with the
// reason), the calls folded into one "Sources: N queries, M withheld"
// disclosure; nothing scrolls sideways. Then a monthly trend is drawn by
// the server with x labels that do not overlap, measured from the DOM. With
// UPDATE_SCREENSHOTS=1 the wide brief is saved as docs/brief.png.
func TestBriefInABrowser(t *testing.T) {
	needChromium(t)
	for _, width := range []int{1280, 390} {
		t.Run(map[int]string{1280: "wide", 390: "phone"}[width], func(t *testing.T) {
			h := newHarness(t, setup{})
			br := startChromium(t, width, 900)
			step, cancel := context.WithTimeout(br.ctx, 2*time.Minute)
			defer cancel()
			ask := func(q string, n int) {
				t.Helper()
				err := chromedp.Do(step,
					chromedp.SendKeys(chromedp.CSS(`#question`), q),
					chromedp.Click(chromedp.CSS(`#send`)),
					chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelectorAll(".answer.done").length >= %d`, n)))
				if err != nil {
					br.checkConsole(t)
					t.Fatalf("asking %q: %v", q, err)
				}
			}
			err := chromedp.Do(step,
				chromedp.Navigate(h.ts.URL+"/"),
				chromedp.WaitVisible(chromedp.CSS(`#demo-users button[data-user="alice@bank.example"]`)),
				chromedp.Click(chromedp.CSS(`#demo-users button[data-user="alice@bank.example"]`)),
				chromedp.WaitVisible(chromedp.CSS(`#question`)))
			if err != nil {
				t.Fatalf("sign in: %v", err)
			}
			ask("Give me an executive summary of last month", 1)
			page, err := chromedp.Run(step, chromedp.Evaluate[briefPage](`(() => {
				const b = document.querySelector(".answer.done .brief");
				const sum = document.querySelector(".answer.done .brief-sources > summary");
				const calls = document.querySelector(".answer.done .calls");
				return {
					headline: b ? b.querySelector(".brief-headline").textContent : "",
					cards: [...document.querySelectorAll(".answer.done .card")].map((c) => c.querySelector(".card-label").textContent + ": " + c.querySelector(".card-value").textContent),
					changes: [...document.querySelectorAll(".answer.done .card-change")].map((c) => c.className + " " + c.textContent),
					sparks: document.querySelectorAll(".answer.done .card svg.sparkline").length,
					sections: [...document.querySelectorAll(".answer.done .brief-section h3")].map((h) => h.textContent),
					withheld: [...document.querySelectorAll(".answer.done .brief-section.withheld li")].map((li) => li.textContent),
					sources: sum ? sum.textContent : "",
					callsOpen: !!calls && calls.checkVisibility(),
					computed: !!document.querySelector(".answer.done details.computed"),
					wide: [...document.querySelectorAll(".answer.done .brief *")].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 5).map((e) => e.tagName + "." + e.className),
					overflow: [...document.querySelectorAll(".answer.done .brief *")].some((e) => e.getBoundingClientRect().right > window.innerWidth + 1),
				};
			})()`))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", page)
			if !strings.HasPrefix(page.Headline, "October 2026 against September 2026: ") {
				t.Errorf("headline %q", page.Headline)
			}
			for _, want := range []string{"New customers: 398", "Conversion rate: 1.85%", "Customer count: 398"} {
				if !strings.Contains(strings.Join(page.Cards, "\n"), want) {
					t.Errorf("no card %q in %q", want, page.Cards)
				}
			}
			if len(page.Changes) != len(page.Cards) || page.Sparks != len(page.Cards) {
				t.Errorf("%d cards, %d changes, %d sparklines: every card has its change and trend", len(page.Cards), len(page.Changes), page.Sparks)
			}
			for _, c := range page.Changes {
				if strings.Contains(c, "down") != strings.Contains(c, "▼") || strings.Contains(c, "up") != strings.Contains(c, "▲") {
					t.Errorf("change %q: arrow and colour disagree", c)
				}
			}
			if strings.Join(page.Sections, ",") != "What moved it,Withheld from you" {
				t.Errorf("sections %q, want what moved it, then withheld", page.Sections)
			}
			for _, p := range []string{"access-audit", "customer-interactions", "customer-transactions", "loan-applications"} {
				want := p + " — you are not in a group that may query " + p
				if !strings.Contains(strings.Join(page.Withheld, "\n"), want) {
					t.Errorf("withheld lacks %q: %q", want, page.Withheld)
				}
			}
			if page.Sources != "Sources: 10 queries, 4 withheld" || page.CallsOpen || !page.Computed {
				t.Errorf("sources %q (calls visible: %v, how computed offered: %v), want the calls folded into \"Sources: 10 queries, 4 withheld\" and how it was computed offered",
					page.Sources, page.CallsOpen, page.Computed)
			}
			if page.Overflow {
				t.Errorf("the brief runs past the right edge at %d px: %q", width, page.Wide)
			}
			var shot []byte
			if width == 1280 {
				if shot, err = chromedp.Run(step, chromedp.FullScreenshot(100)); err != nil {
					t.Fatal(err)
				}
			}

			ask("new customers per month this year", 2)
			ov, err := chromedp.Run(step, chromedp.Evaluate[overlapReport](overlapsJS))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", ov)
			if ov.Charts != 1 || ov.Labels < 4 {
				t.Errorf("want one monthly chart with its x labels: %+v", ov)
			}
			if len(ov.Overlaps) > 0 {
				t.Errorf("x labels overlap at %d px: %q", width, ov.Overlaps)
			}
			// Months as months, the year said once: "Feb 26", "May", ...
			if !regexp.MustCompile(`^[A-Z][a-z]{2} 26$`).MatchString(ov.Texts[0]) || !regexp.MustCompile(`^[A-Z][a-z]{2}$`).MatchString(ov.Texts[len(ov.Texts)-1]) {
				t.Errorf("months are not labelled as months: %q", ov.Texts)
			}
			br.checkConsole(t)
			if shot != nil && updateScreenshots() && !t.Failed() {
				out := filepath.Join("..", "..", "..", "docs", "brief.png")
				if err := os.WriteFile(out, shot, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("saved %s (%d bytes)", out, len(shot))
			}
		})
	}
}
