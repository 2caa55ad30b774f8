package web_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestWatchInABrowser signs in as erin in headless Chromium, types "watch
// new transactions", and checks that the transactions added afterwards
// appear in the page: the European ones only (her policy), newest on top,
// each with its batch's audit id; then stops the watch. frank's attempt
// shows the denial.
func TestWatchInABrowser(t *testing.T) {
	t.Parallel()
	needChromium(t)
	h := newHarness(t, setup{})
	x := openTxnDB(t, h.dir)

	br := startChromium(t, 1280, 1000)
	br.expect("403") // frank's refusal is a 403 the browser logs
	ctx := br.ctx

	step, stepCancel := context.WithTimeout(ctx, 2*time.Minute)
	defer stepCancel()
	signIn := func(user string) error {
		return chromedp.Do(step,
			chromedp.Navigate(h.ts.URL+"/"),
			chromedp.WaitVisible(chromedp.CSS(`#demo-users button[data-user="`+user+`"]`)),
			chromedp.Click(chromedp.CSS(`#demo-users button[data-user="`+user+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#question`)))
	}
	if err := signIn("erin@bank.example"); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	err := chromedp.Do(step,
		chromedp.SendKeys(chromedp.CSS(`#question`), "watch new transactions"),
		chromedp.Click(chromedp.CSS(`#send`)),
		chromedp.WaitVisible(chromedp.CSS(`.answer.watch .watch-status.live`)))
	if err != nil {
		t.Fatalf("start watching: %v", err)
	}
	var want []string
	for i, region := range []string{"europe", "north-america", "europe", "asia-pacific", "europe"} {
		id := x.insert(region, i+1, 0)
		if region == "europe" {
			want = append(want, id)
		}
	}
	slices.Reverse(want) // newest on top
	if _, err := chromedp.Run(step, chromedp.Poll[bool](fmt.Sprintf(`document.querySelectorAll(".answer.watch tr.watch-row").length >= %d`, len(want)))); err != nil {
		t.Fatalf("the new transactions did not appear: %v", err)
	}
	type row struct {
		ID     string `json:"id"`
		Region string `json:"region"`
		At     string `json:"at"`
		Amount string `json:"amount"`
		Audit  string `json:"audit"`
	}
	rows, err := chromedp.Run(step, chromedp.Evaluate[[]row](`[...document.querySelectorAll(".answer.watch tr.watch-row")].map(tr => ({
		id: tr.querySelector('td[data-col="transaction_id"]').textContent,
		region: tr.querySelector('td[data-col="region"]').textContent,
		at: tr.querySelector('td[data-col="occurred_at"]').textContent,
		amount: tr.querySelector('td[data-col="amount"]').textContent,
		audit: tr.querySelector("td.audit").textContent,
	}))`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.ID)
		// Times as dates, amounts with their currency, as in answers.
		if r.Region != "europe" || r.Audit == "" || isoTime.MatchString(r.At) || !strings.HasSuffix(r.At, " UTC") || !strings.HasPrefix(r.Amount, "EUR ") {
			t.Errorf("row shown: %+v", r)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows shown %q, want %q", got, want)
	}
	if err := chromedp.Do(step, chromedp.Click(chromedp.CSS(`.answer.watch .watch-stop`)),
		chromedp.WaitVisible(chromedp.CSS(`.answer.watch.done`))); err != nil {
		t.Fatalf("stop: %v", err)
	}

	// frank may not read transactions: the page says so, with the audit id.
	if err := chromedp.Do(step, chromedp.Click(chromedp.CSS(`#sign-out`))); err != nil {
		t.Fatal(err)
	}
	if err := signIn("frank@bank.example"); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	// The header does not offer frank a view he may not use; typing the
	// request still reaches policy, which refuses it.
	if hidden, err := chromedp.Run(step, chromedp.Evaluate[bool](`document.getElementById("watch-toggle").hidden`)); err != nil || !hidden {
		t.Errorf("frank is offered the live view (hidden=%v, %v)", hidden, err)
	}
	if err := chromedp.Do(step, chromedp.SendKeys(chromedp.CSS(`#question`), "watch new transactions"),
		chromedp.Click(chromedp.CSS(`#send`)),
		chromedp.WaitVisible(chromedp.CSS(`.answer.watch .denials`))); err != nil {
		t.Fatalf("frank's watch: %v", err)
	}
	denial, err := chromedp.Run(step, chromedp.Text(chromedp.CSS(`.answer.watch .denials`)))
	if err != nil || !strings.Contains(strings.ToLower(denial), "not allowed") || !strings.Contains(denial, "(audit ") {
		t.Errorf("frank's denial shown as %q (%v)", denial, err)
	}
	br.checkConsole(t)
}
