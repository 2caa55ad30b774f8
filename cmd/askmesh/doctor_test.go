package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
)

// noSlack clears Slack's environment: doctor reads it as serve does.
func noSlack(t *testing.T) {
	for _, k := range []string{"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL"} {
		t.Setenv(k, "")
	}
}

// findingLine is doctor's line for a check: state, check, what.
func findingLine(state, check string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(state) + ` +` + regexp.QuoteMeta(check) + `  +(.*)$`)
}

// On the demo every check is green and Slack, not configured, is skipped.
func TestDoctorOnTheDemoIsAllGreen(t *testing.T) {
	noSlack(t)
	dir := banktest.PrivateDir(t)
	code, out, errOut := execArgs(t, "--data-dir", dir, "doctor")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for check, what := range map[string]string{
		"configuration":  "no configuration file: the embedded demo defaults and the environment",
		"data directory": dir,
		"directory":      "the embedded demo directory: 6 users, 7 groups",
		"catalog":        "the embedded demo catalog: 7 products",
		"audit store":    "SQLite " + filepath.Join(dir, "governance.db") + " does not exist yet; the first start creates it",
		"products":       "7 of 7 products answer",
		"model":          "offline (the built-in planner: nothing to reach)",
	} {
		m := findingLine("ok", check).FindStringSubmatch(out)
		if m == nil || m[1] != what {
			t.Errorf("no line %q ok %q:\n%s", check, what, out)
		}
	}
	if !findingLine("ok", "policy").MatchString(out) || !findingLine("-", "slack").MatchString(out) {
		t.Errorf("policy or slack:\n%s", out)
	}
	if strings.Contains(out, "FAIL") || !strings.HasSuffix(out, "\nall green\n") {
		t.Errorf("not all green:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "product-api")); err == nil {
		t.Error("doctor created files")
	}
}

// On a broken configuration each fault is named, with its fix, and one
// fault does not hide the next.
func TestDoctorNamesEachFaultWithItsFix(t *testing.T) {
	slackAPI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":false,"error":"invalid_auth"}`))
	}))
	defer slackAPI.Close()
	noSlack(t)
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-revoked")
	t.Setenv("SLACK_SIGNING_SECRET", "8f742231b10e8888abcd99yyyzzz85a5")
	t.Setenv("SLACK_API_URL", slackAPI.URL+"/")

	cfg := demoCatalog(t, func(name, yaml string) string {
		yaml = replaceIn("loan-applications.yaml", "- groups: [lending]", "- groups: [lendng]")(name, yaml)
		return replaceIn("customers.yaml", "table: customers", "table: customer")(name, yaml)
	})
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	broken := string(b) + `audit:
  postgres: postgres://postgres@127.0.0.1:1/audit?sslmode=disable&connect_timeout=2
model:
  provider: openai
  base_url: http://127.0.0.1:1/v1
  api_key: test
`
	if err := os.WriteFile(cfg, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ := execArgs(t, "--data-dir", banktest.PrivateDir(t), "--config", cfg, "--now", "yesterday", "doctor")
	if code != exitFailed {
		t.Errorf("exit %d, want %d", code, exitFailed)
	}
	for _, c := range []struct{ check, what, fix string }{
		{"configuration", `config: now: "yesterday" is not an RFC 3339 instant`, "fix: fix each field named, in the file or its environment variable"},
		{"catalog", `loan-applications.yaml:128: customProperties[0].value.access[0].groups[0]: group "lendng" is not in the directory, so this grant matches nobody; did you mean "lending"?; the directory's groups are auditor, customer-service, executive, intern, lending, marketing, retail-ops`,
			"fix: name the directory's groups in each grant"},
		{"audit store", "PostgreSQL: ", "fix: check audit.postgres (ASKMESH_AUDIT_POSTGRES)"},
		{"products", "customers: sqlite table: no such table: customer", "fix: fix each product's backend binding"},
		{"model", "does not answer: openai:gpt-4o-mini: Get \"http://127.0.0.1:1/v1/models\"", "fix: check model.base_url"},
		{"slack", "auth.test with SLACK_BOT_TOKEN: invalid_auth", "fix: set SLACK_BOT_TOKEN (xoxb-)"},
	} {
		loc := findingLine("FAIL", c.check).FindStringIndex(out)
		if loc == nil {
			t.Errorf("no FAIL line for %s:\n%s", c.check, out)
			continue
		}
		// The finding runs to the next check's line.
		rest := out[loc[0]:]
		if end := regexp.MustCompile(`(?m)^  \S`).FindStringIndex(rest[2:]); end != nil {
			rest = rest[:end[0]+2]
		}
		if !strings.Contains(rest, c.what) || !strings.Contains(rest, c.fix) {
			t.Errorf("%s: want %q and %q in:\n%s", c.check, c.what, c.fix, rest)
		}
	}
	for _, check := range []string{"data directory", "directory", "policy"} {
		if !findingLine("ok", check).MatchString(out) {
			t.Errorf("%s should pass:\n%s", check, out)
		}
	}
	if !strings.HasSuffix(out, "\nsome checks failed: fix them as shown and run askmesh doctor again\n") {
		t.Errorf("no summary:\n%s", out)
	}

	// A data directory that does not exist: named, with the command that makes one.
	missing := filepath.Join(t.TempDir(), "nowhere")
	code, out, _ = execArgs(t, "--data-dir", missing, "doctor")
	if code != exitFailed || !strings.Contains(out, "FAIL  data directory  the data directory does not exist: "+missing) ||
		!strings.Contains(out, "fix: askmesh demo generate --data-dir "+missing+" creates the demo mesh there") {
		t.Errorf("missing data directory: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("doctor created the data directory")
	}
}
