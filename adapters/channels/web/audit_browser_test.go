package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// TestAuditPageInABrowser reviews the log as dave in headless Chromium:
// filters frank's denials, opens a record, verifies the chain and exports
// CSV, each checked against SQL on the audit store; then erin, who is no
// auditor, is refused with a message and the refusal is recorded. With
// UPDATE_SCREENSHOTS=1 it saves docs/audit-screenshot.png.
func TestAuditPageInABrowser(t *testing.T) {
	t.Parallel()
	needChromium(t)
	h, dir := historyHarness(t)
	db := auditDB(t, dir)
	downloads := t.TempDir()

	br := startChromium(t, 1400, 1000)
	ctx := br.ctx
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads}); err != nil {
		t.Fatalf("allow downloads: %v", err)
	}

	step, stepCancel := context.WithTimeout(ctx, 2*time.Minute)
	defer stepCancel()

	// Sign in as dave and filter: frank's denials.
	want := sqlStrings(t, db, `SELECT id FROM access_audit WHERE subject = 'frank@bank.example' AND decision = 'deny'`)
	if len(want) < 4 {
		t.Fatalf("SQL finds %d of frank's denials; the history has more", len(want))
	}
	dave := `#demo-users button[data-user="dave@bank.example"]`
	err := chromedp.Do(step,
		chromedp.Navigate(h.ts.URL+"/audit"),
		chromedp.WaitVisible(chromedp.CSS(dave)),
		chromedp.Click(chromedp.CSS(dave)),
		chromedp.WaitVisible(chromedp.CSS(`#summary[data-total]`)),
		chromedp.SetValue(chromedp.CSS(`#f-user`), "frank@bank.example"),
		chromedp.SetValue(chromedp.CSS(`#f-decision`), "deny"),
		chromedp.Click(chromedp.CSS(`#apply`)),
	)
	if err != nil {
		t.Fatalf("sign in and filter: %v", err)
	}
	if _, err := chromedp.Run(step, chromedp.Poll[bool](fmt.Sprintf(`document.querySelector("#summary").dataset.total === %q &&
		document.querySelectorAll("#records tbody tr.rec").length === %d`, strconv.Itoa(len(want)), len(want)))); err != nil {
		t.Fatalf("the filtered list never showed SQL's %d records: %v", len(want), err)
	}
	type row struct {
		ID       string `json:"id"`
		Subject  string `json:"subject"`
		Decision string `json:"decision"`
	}
	rows, err := chromedp.Run(step, chromedp.Evaluate[[]row](`[...document.querySelectorAll("#records tbody tr.rec")].map(tr =>
		({id: tr.dataset.id, subject: tr.dataset.subject, decision: tr.dataset.decision}))`))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rows {
		ids = append(ids, r.ID)
		if r.Subject != "frank@bank.example" || r.Decision != "deny" {
			t.Errorf("a row does not match the filter: %+v", r)
		}
	}
	sort.Strings(ids)
	if !slices.Equal(ids, want) {
		t.Errorf("rows on the page %v, SQL %v", ids, want)
	}

	// Open the newest record: its full detail, hashes included.
	first := rows[0].ID
	var hash, prev, reason, at string
	if err := db.QueryRow(`SELECT hash, prev_hash, reason, at FROM access_audit WHERE id = ?`, first).Scan(&hash, &prev, &reason, &at); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(step,
		chromedp.Click(chromedp.CSS(`#records tbody tr.rec[data-id="`+first+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#detail[data-id="`+first+`"] .fields`)),
	); err != nil {
		t.Fatalf("open a record: %v", err)
	}
	detail, err := chromedp.Run(step, chromedp.Text(chromedp.CSS(`#detail`)))
	if err != nil {
		t.Fatal(err)
	}
	when, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		t.Fatal(err)
	}
	// The time reads as a date and a time at the stored precision, not ISO 8601.
	readable := "Time\n" + when.UTC().Format("2006-01-02 15:04:05.999999999") + " UTC"
	for _, s := range []string{hash, prev, reason, readable, "frank@bank.example", "Arguments", "Masks", "still hashes to its stored hash"} {
		if !strings.Contains(detail, s) {
			t.Errorf("the record's detail lacks %q:\n%s", s, detail)
		}
	}

	// Verify the chain.
	if err := chromedp.Do(step,
		chromedp.Click(chromedp.CSS(`#verify`)),
		chromedp.WaitVisible(chromedp.CSS(`#verify-result[data-ok]`)),
	); err != nil {
		t.Fatalf("verify: %v", err)
	}
	verified, err := chromedp.Run(step, chromedp.Evaluate[map[string]string](`({...document.querySelector("#verify-result").dataset})`))
	if err != nil {
		t.Fatal(err)
	}
	total := sqlCount(t, dir, "governance", `SELECT count(*) FROM access_audit`)
	if verified["ok"] != "true" || verified["records"] != strconv.Itoa(total) {
		t.Errorf("verify on the page: %v; the log holds %d records", verified, total)
	}

	// Export the filtered set as CSV: the file that lands holds exactly SQL's records.
	if err := chromedp.Do(step,
		chromedp.Click(chromedp.CSS(`#export-csv`)),
		chromedp.WaitVisible(chromedp.CSS(`#export-result[data-count]`)),
	); err != nil {
		t.Fatalf("export: %v", err)
	}
	count, err := chromedp.Run(step, chromedp.Evaluate[string](`document.querySelector("#export-result").dataset.count`))
	if err != nil || count != strconv.Itoa(len(want)) {
		t.Errorf("export reports %q records (%v), SQL %d", count, err, len(want))
	}
	csvFile := waitForDownload(t, step, downloads, ".csv")
	lines := strings.Split(strings.TrimSpace(csvFile), "\n")
	var exported []string
	for _, l := range lines[1:] {
		exported = append(exported, strings.SplitN(l, ",", 2)[0])
	}
	sort.Strings(exported)
	if !slices.Equal(exported, want) {
		t.Errorf("downloaded CSV ids %v, SQL %v", exported, want)
	}
	// Every review step is in the log under dave's name.
	for _, what := range []string{"audit review: list records (user=frank@bank.example, decision=deny)", "audit review: open record " + first,
		"audit review: verify the hash chain", "audit review: export csv (user=frank@bank.example, decision=deny)"} {
		if n := sqlCount(t, dir, "governance", `SELECT count(*) FROM access_audit WHERE subject = 'dave@bank.example'
			AND product = 'access-audit' AND decision = 'allow' AND channel = 'web' AND question = ?`, what); n < 1 {
			t.Errorf("%q is not recorded", what)
		}
	}

	png, err := chromedp.Run(step, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}

	// erin is no auditor: the page says so, and the log holds the refusal.
	before := sqlCount(t, dir, "governance", `SELECT count(*) FROM access_audit WHERE subject = 'erin@bank.example' AND product = 'access-audit' AND decision = 'deny'`)
	br.expect("status of 403") // erin's refused fetch is logged by the browser
	erin := `#demo-users button[data-user="erin@bank.example"]`
	if err := chromedp.Do(step,
		chromedp.Click(chromedp.CSS(`#sign-out`)),
		chromedp.WaitVisible(chromedp.CSS(erin)),
		chromedp.Click(chromedp.CSS(erin)),
		chromedp.WaitVisible(chromedp.CSS(`#forbidden`)),
	); err != nil {
		t.Fatalf("erin: %v", err)
	}
	msg, err := chromedp.Run(step, chromedp.Text(chromedp.CSS(`#forbidden`)))
	if err != nil || !strings.Contains(msg, "only auditors may review the audit log") {
		t.Errorf("erin sees %q (%v)", msg, err)
	}
	shown, err := chromedp.Run(step, chromedp.Evaluate[int](`document.querySelectorAll("#records tbody tr.rec").length`))
	if err != nil || shown != 0 {
		t.Errorf("erin sees %d records (%v)", shown, err)
	}
	if after := sqlCount(t, dir, "governance", `SELECT count(*) FROM access_audit WHERE subject = 'erin@bank.example' AND product = 'access-audit' AND decision = 'deny'`); after != before+1 {
		t.Errorf("erin's refusal: %d denials recorded, want %d", after, before+1)
	}

	br.checkConsole(t)
	if updateScreenshots() && !t.Failed() {
		out := filepath.Join("..", "..", "..", "docs", "audit-screenshot.png")
		if err := os.WriteFile(out, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("saved %s (%d bytes)", out, len(png))
	}
}

// waitForDownload waits, within ctx, for a finished file with the suffix.
func waitForDownload(t *testing.T, ctx context.Context, dir, suffix string) string {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), suffix) {
				b, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err == nil && len(b) > 0 {
					return string(b)
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no %s file was downloaded to %s", suffix, dir)
		case <-tick.C:
		}
	}
}
