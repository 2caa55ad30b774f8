package main

import (
	"strings"
	"testing"

	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
)

// Control characters a caller put in arguments reach the audit log (the
// reason quotes them), and the auditor's terminal prints them escaped:
// ESC [2J would clear the screen, ESC ]0; retitle the window.
func TestAuditTailAndSearchEscapeControlCharacters(t *testing.T) {
	t.Parallel()
	dir := banktest.PrivateDir(t)
	evil := `\u001b[2J\u001b]0;pwned\u0007\rSSN\u202e`
	for _, args := range []string{`{"columns":["name","` + evil + `"]}`, `{"order_by":[{"field":"name","direction":"` + evil + `"}]}`,
		`{"time_range":"` + evil + `"}`, `{"filters":[{"column":"channel","op":"` + evil + `","value":"tv"}]}`, `{"limit":"` + evil + `"}`} {
		_, _ = run(t, dir, "query", "marketing-campaigns", "--records", args, "--as", "alice")
	}
	_, _ = run(t, dir, "query", "marketing-campaigns\x1b[31m", "--records", `{}`, "--as", "alice")
	for _, args := range [][]string{{"audit", "tail"}, {"audit", "search", "--subject", "alice@bank.example"}} {
		out, err := run(t, dir, args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		if !strings.Contains(out, "alice@bank.example") || !strings.Contains(out, `\x1b`) {
			t.Errorf("%v does not show alice's records with the escape escaped:\n%q", args, out)
		}
		for _, c := range []string{"\x1b", "\x07", "\r", "\u202e"} {
			if strings.Contains(out, c) {
				t.Errorf("%v prints a raw %q:\n%q", args, c, out)
			}
		}
	}
}
