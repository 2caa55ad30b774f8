package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
)

// run executes the askmesh command line in-process against a private copy
// of the test mesh, with the clock pinned to the test as-of day.
func run(t *testing.T, dataDir string, args ...string) (string, error) {
	t.Helper()
	return runAt(t, dataDir, banktest.Now.Format(time.RFC3339), args...)
}

func TestCatalogSearchRanksTheProductAskedFor(t *testing.T) {
	t.Parallel()
	dir := banktest.PrivateDir(t)
	for query, want := range map[string]string{
		"customer transactions": "customer-transactions",
		"loans":                 "loan-applications",
		"campaign performance":  "marketing-campaigns",
	} {
		out, err := run(t, dir, "catalog", "search", query)
		if err != nil {
			t.Fatalf("search %q: %v", query, err)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) < 2 || !strings.HasPrefix(lines[1], want+" ") {
			t.Errorf("search %q ranks first:\n%s\nwant %s", query, out, want)
		}
	}
}

func TestAskPrintsTheComparisonWithItsSource(t *testing.T) {
	t.Parallel()
	dir := banktest.PrivateDir(t)
	out, err := run(t, dir, "ask", "--as", "carol", "How many new customers did we acquire last month, compared with the month before?")
	if err != nil {
		t.Fatalf("ask: %v\n%s", err, out)
	}
	for _, want := range []string{"October 2026", "September 2026", "customer-acquisition", "query_metrics", "audit "} {
		if !strings.Contains(out, want) {
			t.Errorf("answer lacks %q:\n%s", want, out)
		}
	}
	if !figure("398").MatchString(out) || !figure("297").MatchString(out) {
		t.Errorf("answer lacks 398 and 297:\n%s", out)
	}
}

func TestAskDeniedIsExplainedAndAudited(t *testing.T) {
	t.Parallel()
	dir := banktest.PrivateDir(t)
	// dave (marketing) may not read lending data: the answer says so and the
	// audit log holds the denial under his name.
	out, err := run(t, dir, "ask", "--as", "dave", "What is the approval rate of loan applications last month?")
	if err != nil {
		t.Fatalf("ask: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Denied:") || strings.Contains(out, "approval_rate\n") {
		t.Fatalf("dave's answer does not report the denial:\n%s", out)
	}
	out, err = run(t, dir, "audit", "search", "--subject", "dave@bank.example", "--decision", "deny", "--json")
	if err != nil {
		t.Fatalf("audit search: %v\n%s", err, out)
	}
	if !strings.Contains(out, `"loan-applications"`) {
		t.Fatalf("no denial of loan-applications for dave in the audit log:\n%s", out)
	}
	out, err = run(t, dir, "audit", "verify")
	if err != nil {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
}

func TestAskWithoutAKnownUserIsRefused(t *testing.T) {
	t.Parallel()
	dir := banktest.PrivateDir(t)
	if _, err := run(t, dir, "ask", "How many customers?"); err == nil || !strings.Contains(err.Error(), "--as USER is required") {
		t.Fatalf("ask without --as: %v", err)
	}
}

func TestServeRefusesDemoTokens(t *testing.T) {
	t.Parallel()
	base, out := startServing(t, banktest.PrivateDir(t), "serve")
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/chat", strings.NewReader(`{"message":"How many new customers did we acquire last month?"}`))
	req.Header.Set("Authorization", "Bearer demo-carol")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("demo token outside demo mode: %d, want 401", resp.StatusCode)
	}
	if !strings.Contains(out.String(), "askmesh is serving "+base) {
		t.Errorf("serve did not print its address:\n%s", out.String())
	}
}

func TestDemoGeneratesWhenMissingThenServes(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	base, out := startServing(t, dir, "demo")
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/chat",
		strings.NewReader(`{"message":"How many new customers did we acquire last month, compared with the month before?"}`))
	req.Header.Set("Authorization", "Bearer demo-carol")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Text    string `json:"text"`
		Sources []struct {
			Product string `json:"product"`
			AuditID string `json:"audit_id"`
		} `json:"sources"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	// The generated mesh is the test fixture's: same seed, same as-of day.
	if !figure("398").MatchString(body.Text) || !figure("297").MatchString(body.Text) {
		t.Errorf("demo answer: %q", body.Text)
	}
	if len(body.Sources) == 0 || body.Sources[0].Product != "customer-acquisition" || body.Sources[0].AuditID == "" {
		t.Errorf("demo answer sources: %+v", body.Sources)
	}
	if _, err := os.Stat(filepath.Join(dir, "demo-manifest.json")); err != nil {
		t.Errorf("demo did not generate its mesh: %v", err)
	}
	for _, want := range []string{"Bearer demo-carol", "/v1/chat", "Give me an executive summary of last month"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a server goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// The configuration file's now pins the clock of every command, as --now does.
func TestConfigNowPinsTheClock(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "askmesh.yaml")
	if err := os.WriteFile(cfg, []byte("now: 2026-11-15T12:00:00Z\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := &globals{config: cfg}
	clock, err := g.clock()
	if err != nil {
		t.Fatal(err)
	}
	if got := clock.Now(); !got.Equal(banktest.Now) {
		t.Fatalf("clock from the configuration: %s, want %s", got, banktest.Now)
	}
	g.now = "2026-10-01T00:00:00Z" // the flag wins
	if clock, err = g.clock(); err != nil || clock.Now().Month() != time.October {
		t.Fatalf("--now over the configuration: %v %v", clock, err)
	}
}

// figure matches a number as a word of its own: audit ids (hex) in the
// output may hold its digits, which must not count as the figure.
func figure(n string) *regexp.Regexp { return regexp.MustCompile(`\b` + n + `\b`) }
