package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// TestWebChatInABrowser signs in as carol in headless Chromium, asks the
// acquisition question, and checks the streamed answer against SQL run on
// the demo data, the chart and the sources. With UPDATE_SCREENSHOTS=1 it
// saves docs/screenshot.png.
func TestWebChatInABrowser(t *testing.T) {
	t.Parallel()
	needChromium(t)
	h := newHarness(t, setup{})
	oct, sep := octSep(t, h.dir)

	br := startChromium(t, 1280, 1000)
	ctx := br.ctx

	step, stepCancel := context.WithTimeout(ctx, 2*time.Minute)
	defer stepCancel()
	err := chromedp.Do(step,
		chromedp.Navigate(h.ts.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#demo-users button[data-user="carol@bank.example"]`)),
		chromedp.Click(chromedp.CSS(`#demo-users button[data-user="carol@bank.example"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#question`)),
		chromedp.SendKeys(chromedp.CSS(`#question`), acquisitionQuestion),
		chromedp.Click(chromedp.CSS(`#send`)),
		chromedp.WaitVisible(chromedp.CSS(`.answer.done`)),
	)
	if err != nil {
		t.Fatalf("browser steps: %v", err)
	}
	who, err := chromedp.Run(step, chromedp.Text(chromedp.CSS(`#who-name`)))
	if err != nil || !strings.Contains(who, "carol@bank.example") {
		t.Fatalf("signed in as %q (%v)", who, err)
	}
	text, err := chromedp.Run(step, chromedp.Text(chromedp.CSS(`.answer.done .text`)))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{oct, sep} {
		if !strings.Contains(text, thousands(n)) {
			t.Errorf("the answer on the page does not state %d: %q", n, text)
		}
	}
	type pageState struct {
		Charts   int      `json:"charts"`
		Shapes   int      `json:"shapes"`
		Sources  []string `json:"sources"`
		Calls    []string `json:"calls"`
		Failures int      `json:"failures"`
	}
	st, err := chromedp.Run(step, chromedp.Evaluate[pageState](`({
		charts: document.querySelectorAll(".answer.done svg.chart").length,
		shapes: document.querySelectorAll(".answer.done svg.chart path").length,
		sources: [...document.querySelectorAll(".answer.done .sources li")].map(li => li.textContent),
		calls: [...document.querySelectorAll(".answer.done .call")].map(li => li.dataset.decision),
		failures: document.querySelectorAll(".failed").length,
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if st.Charts == 0 || st.Shapes == 0 {
		t.Errorf("no chart drawn: %+v", st)
	}
	if len(st.Sources) == 0 || !strings.Contains(st.Sources[0], "customer-acquisition") || !strings.Contains(st.Sources[0], "audit") {
		t.Errorf("sources %q", st.Sources)
	}
	if len(st.Calls) == 0 || st.Failures != 0 {
		t.Errorf("tool calls shown %q, failures %d", st.Calls, st.Failures)
	}
	for _, d := range st.Calls {
		if d != "allow" {
			t.Errorf("a call shows decision %q; every call of carol's is allowed", d)
		}
	}
	png, err := chromedp.Run(step, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	br.checkConsole(t)
	if updateScreenshots() && !t.Failed() {
		out := filepath.Join("..", "..", "..", "docs", "screenshot.png")
		if err := os.WriteFile(out, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("saved %s (%d bytes)", out, len(png))
	}
}
