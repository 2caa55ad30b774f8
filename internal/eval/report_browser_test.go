package eval_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/internal/eval"
)

const chromiumPath = "/usr/bin/chromium"

// The HTML report opens in a real browser as a page of its own (no network,
// no scripts) and shows both models' scores side by side. With
// UPDATE_SCREENSHOTS=1 it saves docs/eval-report.png.
func TestHTMLReportInABrowser(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skipf("SKIPPING THE BROWSER TEST %s in -short: the short tier runs no browser (make test runs it)", t.Name())
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := fmt.Sprintf("SKIPPING THE BROWSER TEST %s: no Chromium at %s", t.Name(), chromiumPath)
		fmt.Fprintln(os.Stderr, "\n*** "+msg+" ***")
		t.Skip(msg)
	}
	srv := scriptedModel(t)
	suite, err := eval.LoadSuite("testdata/scripted.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := app.Config{DataDir: banktest.PrivateDir(t), Now: banktest.Now.Format(time.RFC3339)}
	cfg.Model = app.ModelConfig{Provider: "openai", BaseURL: srv.BaseURL(), APIKey: "test", Timeout: 10 * time.Second}
	cfg.Eval.Prices = map[string]app.Price{"openai:scripted": {Input: 2.5, Output: 10}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := eval.Run(ctx, suite, eval.Options{Config: cfg, Models: []string{"offline", "openai:scripted"}, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(t.TempDir(), "report.html")
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteHTML(f); err != nil {
		t.Fatal(err)
	}
	f.Close()

	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if err := chromedp.Do(bctx, chromedp.Navigate("file://"+page), chromedp.WaitVisible(chromedp.CSS(`table.cases`))); err != nil {
		t.Fatalf("open the report: %v", err)
	}
	type shown struct {
		Models  []string
		Rows    int
		Offline string
		Marks   []string
		Scripts int
	}
	st, err := chromedp.Run(bctx, chromedp.Evaluate[shown](`({
		Models: [...document.querySelectorAll("table.summary tbody tr td:first-child")].map(e => e.textContent.trim()),
		Rows: document.querySelectorAll("table.cases tbody tr").length,
		Offline: document.querySelector("table.summary tbody tr td:nth-child(3)").textContent.trim(),
		Marks: [...document.querySelectorAll("table.cases tbody tr:first-child div.st")].map(e => e.textContent.trim()),
		Scripts: document.scripts.length,
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(st.Models, ",") != "offline,openai:scripted" || st.Rows != len(suite.Cases) || st.Scripts != 0 {
		t.Errorf("the page shows models %q, %d question rows (want %d), %d scripts", st.Models, st.Rows, len(suite.Cases), st.Scripts)
	}
	if want := "6 (100%)"; st.Offline != want {
		t.Errorf("offline scores %q, want %q", st.Offline, want)
	}
	if strings.Join(st.Marks, ",") != "right,right" {
		t.Errorf("first question's verdicts %q", st.Marks)
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("UPDATE_SCREENSHOTS") == "1" && !t.Failed() {
		out := filepath.Join("..", "..", "docs", "eval-report.png")
		if err := os.WriteFile(out, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("saved %s (%d bytes)", out, len(png))
	}
}
