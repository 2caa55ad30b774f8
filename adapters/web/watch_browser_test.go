package web_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
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
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := fmt.Sprintf("SKIPPING THE BROWSER TEST: no Chromium at %s (apt-get install -y chromium)", chromiumPath)
		fmt.Fprintln(os.Stderr, "\n*** "+msg+" ***")
		t.Skip(msg)
	}
	h := newHarness(t, setup{})
	x := openTxnDB(t, h.dir)

	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("chromium did not start: %v", err)
	}
	var mu sync.Mutex
	var problems []string
	cctx, stopConsole := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for m, err := range chromedp.Console(cctx) {
			if err != nil {
				return
			}
			// frank's refusal is a 403 the browser logs; that one is expected.
			if (m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleError) && !strings.Contains(m.Text, "403") {
				mu.Lock()
				problems = append(problems, string(m.Type)+": "+m.Text)
				mu.Unlock()
			}
		}
	}()

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
		Audit  string `json:"audit"`
	}
	rows, err := chromedp.Run(step, chromedp.Evaluate[[]row](`[...document.querySelectorAll(".answer.watch tr.watch-row")].map(tr => ({
		id: tr.querySelector('td[data-col="transaction_id"]').textContent,
		region: tr.querySelector('td[data-col="region"]').textContent,
		audit: tr.querySelector("td.audit").textContent,
	}))`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.ID)
		if r.Region != "europe" || r.Audit == "" {
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
	if err := chromedp.Do(step, chromedp.Click(chromedp.CSS(`#watch-toggle`)),
		chromedp.WaitVisible(chromedp.CSS(`.answer.watch .denials`))); err != nil {
		t.Fatalf("frank's watch: %v", err)
	}
	denial, err := chromedp.Run(step, chromedp.Text(chromedp.CSS(`.answer.watch .denials`)))
	if err != nil || !strings.Contains(strings.ToLower(denial), "not allowed") || !strings.Contains(denial, "(audit ") {
		t.Errorf("frank's denial shown as %q (%v)", denial, err)
	}
	stopConsole()
	wg.Wait()
	if len(problems) > 0 {
		t.Errorf("the page reported errors: %q", problems)
	}
}
