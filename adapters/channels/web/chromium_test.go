package web_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// chromium is headless Debian Chromium for one browser test, collecting the
// page's uncaught exceptions and console errors: a page that throws is
// broken even if the test's selectors happen to match.
type chromium struct {
	ctx      context.Context
	mu       sync.Mutex
	problems []string
	expected []string // console errors the test provokes on purpose
	stop     func()
}

// needChromium skips a browser test in -short (the short tier runs no
// browser), and loudly when Chromium is not installed. Browser tests call it
// first, before building what the browser would look at.
func needChromium(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skipf("SKIPPING THE BROWSER TEST %s in -short: the short tier runs no browser (make test runs it)", t.Name())
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := fmt.Sprintf("SKIPPING THE BROWSER TEST %s: no Chromium at %s (apt-get install -y chromium)", t.Name(), chromiumPath)
		fmt.Fprintln(os.Stderr, "\n*** "+msg+" ***")
		t.Skip(msg)
	}
}

// updateScreenshots says whether browser tests write their screenshots to
// docs/ (make screenshots sets it): a test run leaves tracked files alone.
func updateScreenshots() bool { return os.Getenv("UPDATE_SCREENSHOTS") == "1" }

// startChromium starts Chromium with the flags this machine's closed network
// needs, or skips the test as needChromium does.
func startChromium(t *testing.T, width, height int) *chromium {
	t.Helper()
	needChromium(t)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height))
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("chromium did not start: %v", err)
	}
	c := &chromium{ctx: ctx}
	cctx, stopConsole := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for m, err := range chromedp.Console(cctx) {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleError {
				c.mu.Lock()
				if !c.isExpected(m.Text) {
					c.problems = append(c.problems, string(m.Type)+": "+m.Text)
				}
				c.mu.Unlock()
			}
		}
	}()
	c.stop = func() { stopConsole(); wg.Wait() }
	return c
}

// expect tolerates console errors containing text from now on (a refused
// fetch the test provokes, say).
func (c *chromium) expect(text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expected = append(c.expected, text)
}

func (c *chromium) isExpected(msg string) bool {
	for _, e := range c.expected {
		if strings.Contains(msg, e) {
			return true
		}
	}
	return false
}

// checkConsole stops listening and fails the test if the page reported errors.
func (c *chromium) checkConsole(t *testing.T) {
	t.Helper()
	c.stop()
	if len(c.problems) > 0 {
		t.Errorf("the page reported errors: %q", c.problems)
	}
}
