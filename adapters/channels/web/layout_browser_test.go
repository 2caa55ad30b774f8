package web_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// layoutCheck measures the page from the DOM: the document is no wider than
// the viewport; every visible element lies inside the viewport unless a
// horizontally scrolling container (inside the viewport) holds it; every
// visible header button and link lies inside the header bar.
const layoutCheck = `(() => {
  const vw = document.documentElement.clientWidth;
  const bad = [];
  const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\s+/).join(".") : "");
  const scroller = (e) => {
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      const ov = getComputedStyle(p).overflowX;
      if (ov === "auto" || ov === "scroll" || ov === "hidden") return p;
    }
    return null;
  };
  for (const e of document.querySelectorAll("body *")) {
    if (!e.checkVisibility()) continue;
    const r = e.getBoundingClientRect();
    if (r.width === 0 || (r.left >= -0.5 && r.right <= vw + 0.5)) continue;
    const s = scroller(e);
    if (s) {
      const sr = s.getBoundingClientRect();
      if (sr.left >= -0.5 && sr.right <= vw + 0.5) continue;
    }
    bad.push(name(e) + " spans " + Math.round(r.left) + ".." + Math.round(r.right));
  }
  const bar = document.querySelector("header.top").getBoundingClientRect();
  for (const b of document.querySelectorAll("header.top button, header.top a")) {
    if (!b.checkVisibility()) continue;
    const r = b.getBoundingClientRect();
    if (r.left < bar.left - 0.5 || r.right > bar.right + 0.5 || r.top < bar.top - 0.5 || r.bottom > bar.bottom + 0.5) {
      bad.push("header button " + JSON.stringify(b.textContent) + " lies outside the bar");
    }
  }
  return { viewport: vw, document: document.documentElement.scrollWidth, bad: bad.slice(0, 12) };
})()`

type layout struct {
	Viewport int      `json:"viewport"`
	Document int      `json:"document"`
	Bad      []string `json:"bad"`
}

func checkLayout(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	l, err := chromedp.Run(ctx, chromedp.Evaluate[layout](layoutCheck))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if l.Document > l.Viewport || len(l.Bad) > 0 {
		t.Errorf("%s at %d px: the page is %d px wide; overflowing: %q", what, l.Viewport, l.Document, l.Bad)
	}
}

var isoTime = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}`)

// TestLayoutInABrowser: at 1280 and 390 px (a phone), the chat with a
// record listing, a denial card and the audit page fit the viewport: header
// buttons stay inside the bar, and a wide table scrolls inside its frame.
// Records show as a table with dates, not ISO strings, and amounts with
// their currency.
func TestLayoutInABrowser(t *testing.T) {
	needChromium(t)
	h := newHarness(t, setup{})
	for _, width := range []int{1280, 390} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			br := startChromium(t, width, 900)
			step, cancel := context.WithTimeout(br.ctx, 2*time.Minute)
			defer cancel()
			if err := chromedp.Do(step, chromedp.EmulateViewport(int64(width), 900)); err != nil {
				t.Fatal(err)
			}
			signIn := func(page, user string) {
				t.Helper()
				// Forget the last person on a page that runs no script, so no
				// request of the page's is in flight when the token goes.
				if err := chromedp.Do(step, chromedp.Navigate(h.ts.URL+"/static/app.css")); err != nil {
					t.Fatal(err)
				}
				if _, err := chromedp.Run(step, chromedp.Evaluate[bool](`sessionStorage.clear(), true`)); err != nil {
					t.Fatal(err)
				}
				if err := chromedp.Do(step,
					chromedp.Navigate(h.ts.URL+page),
					chromedp.WaitVisible(chromedp.CSS(`#demo-users button[data-user="`+user+`"]`)),
				); err != nil {
					t.Fatalf("sign-in screen: %v", err)
				}
				checkLayout(t, step, "the sign-in screen")
				if err := chromedp.Do(step, chromedp.Click(chromedp.CSS(`#demo-users button[data-user="`+user+`"]`)),
					chromedp.WaitVisible(chromedp.CSS(`#who`))); err != nil {
					t.Fatalf("sign in as %s: %v", user, err)
				}
			}
			ask := func(q string) {
				t.Helper()
				n, _ := chromedp.Run(step, chromedp.Evaluate[int](`document.querySelectorAll(".answer.done").length`))
				if err := chromedp.Do(step,
					chromedp.SendKeys(chromedp.CSS(`#question`), q),
					chromedp.Click(chromedp.CSS(`#send`)),
				); err != nil {
					t.Fatalf("ask %q: %v", q, err)
				}
				if _, err := chromedp.Run(step, chromedp.Poll[bool](fmt.Sprintf(`document.querySelectorAll(".answer.done").length > %d`, n))); err != nil {
					t.Fatalf("no answer to %q: %v", q, err)
				}
			}

			// erin lists records: a wide table.
			signIn("/", "erin@bank.example")
			ask("show me the 5 largest withdrawals last month")
			type records struct {
				Head      []string   `json:"head"`
				Rows      [][]string `json:"rows"`
				Scrolls   bool       `json:"scrolls"`
				WrapWidth float64    `json:"wrapWidth"`
			}
			rec, err := chromedp.Run(step, chromedp.Evaluate[records](`(() => {
				const wrap = document.querySelector(".answer.done .tables .table-wrap");
				return {
					head: [...wrap.querySelectorAll("th")].map(th => th.textContent),
					rows: [...wrap.querySelectorAll("tbody tr")].map(tr => [...tr.children].map(td => td.textContent)),
					scrolls: wrap.scrollWidth > wrap.clientWidth,
					wrapWidth: wrap.getBoundingClientRect().width,
				};
			})()`))
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.Rows) != 5 {
				t.Fatalf("the record listing shows %d rows: %+v", len(rec.Rows), rec)
			}
			col := func(name string) int {
				for i, h := range rec.Head {
					if h == name {
						return i
					}
				}
				t.Fatalf("no column %q in %q", name, rec.Head)
				return -1
			}
			at, amount := col("occurred at"), col("amount")
			for _, r := range rec.Rows {
				if isoTime.MatchString(r[at]) || !strings.Contains(r[at], "October 2026") {
					t.Errorf("a time shows as %q, not a date", r[at])
				}
				if !regexp.MustCompile(`^(EUR|GBP|USD) [0-9,]+(\.\d+)?$`).MatchString(r[amount]) {
					t.Errorf("an amount shows as %q, without its currency", r[amount])
				}
			}
			if width == 390 && !rec.Scrolls {
				t.Errorf("at 390 px the records table (frame %.0f px) does not scroll inside its frame", rec.WrapWidth)
			}
			checkLayout(t, step, "the chat with a record listing")

			// frank's group may query nothing: his hint is the catalog question.
			signIn("/", "frank@bank.example")
			if _, err := chromedp.Run(step, chromedp.Poll[bool](`document.getElementById("question").placeholder.includes("What data do we have about customers?")`)); err != nil {
				t.Errorf("frank's question hint is not the catalog question: %v", err)
			}

			// carol is refused loan records: the denial card.
			signIn("/", "carol@bank.example")
			ask("list loans over 500000")
			if err := chromedp.Do(step, chromedp.WaitVisible(chromedp.CSS(`.answer.done .denials`))); err != nil {
				t.Fatalf("no denial card: %v", err)
			}
			checkLayout(t, step, "a denial card")

			// dave reviews the audit log.
			signIn("/audit", "dave@bank.example")
			if err := chromedp.Do(step, chromedp.WaitVisible(chromedp.CSS(`#records tbody tr.rec`))); err != nil {
				t.Fatalf("the audit page shows no records: %v", err)
			}
			checkLayout(t, step, "the audit page")
			if err := chromedp.Do(step, chromedp.Click(chromedp.CSS(`#records tbody tr.rec td:first-child`)), // a tap on what shows of the row
				chromedp.WaitVisible(chromedp.CSS(`#detail .fields`))); err != nil {
				t.Fatalf("record detail: %v", err)
			}
			checkLayout(t, step, "the audit page with a record open")
			br.checkConsole(t)
		})
	}
}
