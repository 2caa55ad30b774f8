package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestWebSignInInABrowser: in headless Chromium, at 1280 and 390 px (a
// phone), the web chat offers the identity provider's sign-in; the round
// trip through the in-process provider ends on the chat signed in as carol
// (directory groups and the token's), a question answers over the session
// with its CSRF token, the page cannot read the session cookie, and
// sign-out ends the session on the server. Then dave signs in from the
// audit page and lands back on it. Every screen fits the viewport.
func TestWebSignInInABrowser(t *testing.T) {
	t.Parallel()
	needChromium(t)
	for _, width := range []int{1280, 390} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			t.Parallel()
			signInRoundTrip(t, width)
		})
	}
}

func signInRoundTrip(t *testing.T, width int) {
	p := newOIDCProvider(t)
	h := ssoHarness(t, p, nil)
	oct, _ := octSep(t, h.dir)

	br := startChromium(t, width, 1000)
	br.expect("401") // the test's own /v1/me after sign-out
	step, cancel := context.WithTimeout(br.ctx, 2*time.Minute)
	defer cancel()

	if err := chromedp.Do(step,
		chromedp.EmulateViewport(int64(width), 1000),
		chromedp.Navigate(h.ts.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#sso-link`)),
	); err != nil {
		t.Fatalf("sign-in screen: %v", err)
	}
	checkLayout(t, step, "the identity provider's sign-in screen")
	link, err := chromedp.Run(step, chromedp.Text(chromedp.CSS(`#sso-link`)))
	if err != nil || !strings.Contains(link, "Sign in with 127.0.0.1") {
		t.Errorf("the sign-in link reads %q (%v)", link, err)
	}
	if demo, _ := chromedp.Run(step, chromedp.Evaluate[bool](`document.getElementById("demo").hidden`)); !demo {
		t.Errorf("demo users are offered outside demo mode")
	}
	if err := chromedp.Do(step,
		chromedp.Click(chromedp.CSS(`#sso-link`)),
		chromedp.WaitVisible(chromedp.CSS(`#question`)),
	); err != nil {
		t.Fatalf("sign-in round trip: %v", err)
	}
	type header struct {
		Who, Groups, URL, Cookies string
		Audit, Watch              bool
	}
	hd, err := chromedp.Run(step, chromedp.Evaluate[header](`({
		Who: document.getElementById("who-name").textContent,
		Groups: document.getElementById("who-groups").textContent,
		URL: location.pathname + location.search,
		Cookies: document.cookie,
		Audit: !document.getElementById("audit-link").hidden,
		Watch: !document.getElementById("watch-toggle").hidden,
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(hd.Who, "carol@bank.example") || hd.Groups != "executive, risk-committee" || hd.URL != "/" {
		t.Errorf("after sign-in the page shows %+v", hd)
	}
	if strings.Contains(hd.Cookies, "askmesh_session") {
		t.Errorf("the page can read the session cookie: %q", hd.Cookies)
	}
	if hd.Audit || hd.Watch {
		t.Errorf("carol is offered links her grants do not cover: %+v", hd)
	}
	checkLayout(t, step, "the chat after sign-in")

	if err := chromedp.Do(step,
		chromedp.SendKeys(chromedp.CSS(`#question`), acquisitionQuestion),
		chromedp.Click(chromedp.CSS(`#send`)),
		chromedp.WaitVisible(chromedp.CSS(`.answer.done`)),
	); err != nil {
		t.Fatalf("ask: %v", err)
	}
	text, err := chromedp.Run(step, chromedp.Text(chromedp.CSS(`.answer.done`)))
	if err != nil || !strings.Contains(text, thousands(oct)) || strings.Contains(text, "No answer") {
		t.Errorf("the answer over the session reads %q (%v)", text, err)
	}

	if err := chromedp.Do(step,
		chromedp.Click(chromedp.CSS(`#sign-out`)),
		chromedp.WaitVisible(chromedp.CSS(`#sso-link`)),
	); err != nil {
		t.Fatalf("sign-out: %v", err)
	}
	status, err := chromedp.Run(step, chromedp.Evaluate[int](`fetch("/v1/me").then(r => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil || status != 401 {
		t.Errorf("after sign-out /v1/me answers %d (%v)", status, err)
	}

	// An auditor signs in from the audit page and comes back to it.
	p.signInAs("dave@bank.example", "Dave", "auditors-eu")
	if err := chromedp.Do(step,
		chromedp.Navigate(h.ts.URL+"/audit"),
		chromedp.WaitVisible(chromedp.CSS(`#sso-link`)),
		chromedp.Click(chromedp.CSS(`#sso-link`)),
		chromedp.WaitVisible(chromedp.CSS(`#review`)),
		chromedp.WaitVisible(chromedp.CSS(`#records tbody tr`)),
	); err != nil {
		t.Fatalf("dave's sign-in from the audit page: %v", err)
	}
	where, err := chromedp.Run(step, chromedp.Evaluate[string](`location.pathname + " " + document.getElementById("who-name").textContent`))
	if err != nil || !strings.HasPrefix(where, "/audit ") || !strings.Contains(where, "dave@bank.example") {
		t.Errorf("dave is at %q (%v)", where, err)
	}
	checkLayout(t, step, "the audit page after sign-in")
	br.checkConsole(t)
}
