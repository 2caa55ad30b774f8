package app_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/examples/bank"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/tools"

	_ "modernc.org/sqlite"
)

// The demo's verified question, in another phrasing: bob (lending) gets the
// owners' calls, run for him, marked verified, with the numbers the data
// holds; every ask is audited again (never cached). alice (marketing) asking
// the same is denied, and her denial is audited; her answer is not marked.
func TestVerifiedQuestionIsAuthorizedAndAuditedEveryTime(t *testing.T) {
	t.Parallel()
	dir := banktest.PrivateDir(t)
	a, err := app.Build(context.Background(), app.Config{DataDir: dir, Now: banktest.Now.Format(time.RFC3339)}, app.WithLogger(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	ask := func(who string) *assistant.Answer {
		ans, err := a.Agent.Answer(ctx, assistant.Request{Caller: tools.Caller{Subject: a.Directory.Lookup(who), Channel: "api"},
			Question: "Loan approval rate per loan type this quarter?"})
		if err != nil {
			t.Fatal(err)
		}
		return ans
	}
	for i := 0; i < 2; i++ {
		ans := ask("bob@bank.example")
		v := ans.Verified
		if v == nil || v.VerifiedBy != "Lending data team" || v.VerifiedAt != "2026-11-02" || v.Product != "loan-applications" || ans.Outcome != assistant.OutcomeAnswered {
			t.Fatalf("bob's answer is not marked verified: %+v %q", v, ans.Text)
		}
		// Independent SQL: the approval rate of auto loans this quarter.
		rate := sqlFloat(t, dir, "lending", `SELECT 1.0 * sum(status IN ('approved','funded')) / sum(status IN ('approved','funded','rejected'))
			FROM loan_applications WHERE loan_type = 'auto' AND applied_at >= '2026-10-01T00:00:00.000000Z' AND applied_at < '2026-11-16T00:00:00.000000Z'`)
		if want := formatPct(rate); !strings.Contains(ans.Text, "auto: approval rate "+want) {
			t.Errorf("bob's answer lacks auto's rate %s: %q", want, ans.Text)
		}
		if len(ans.Tables) != 1 || len(ans.Sources) != 1 || ans.Sources[0].AuditID == "" || ans.Steps != 0 || ans.Usage.PromptTokens != 0 {
			t.Errorf("tables %d, sources %+v, steps %d, usage %+v", len(ans.Tables), ans.Sources, ans.Steps, ans.Usage)
		}
	}
	recs, err := a.Audit.Search(ctx, audit.Query{Subject: "bob@bank.example"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Model != assistant.VerifiedModel || recs[0].Decision != audit.DecisionAllow || recs[0].Product != "loan-applications" {
		t.Errorf("bob's two asks left %d records: %+v", len(recs), recs)
	}

	ans := ask("alice@bank.example")
	if ans.Verified != nil || ans.Outcome != assistant.OutcomeDeclined || len(ans.Denials) != 1 || !strings.Contains(ans.Text, "not in a group that may query loan-applications") {
		t.Errorf("alice's answer: verified %+v, outcome %q, text %q", ans.Verified, ans.Outcome, ans.Text)
	}
	recs, err = a.Audit.Search(ctx, audit.Query{Subject: "alice@bank.example"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Decision != audit.DecisionDeny || recs[0].ID != ans.Denials[0].AuditID {
		t.Errorf("alice's denial is not audited: %+v", recs)
	}
}

// A descriptor change that breaks a verified question (a renamed metric)
// fails loading the catalog, naming the file, the question and the reason.
func TestBrokenVerifiedQuestionFailsCatalogValidation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	entries, err := bank.Files.ReadDir(bank.ProductsDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := bank.Files.ReadFile(bank.ProductsDir + "/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "loan-applications.yaml" {
			b = []byte(strings.Replace(string(b), "metrics: [approval_rate, application_count], group_by", "metrics: [approval_ratio, application_count], group_by", 1))
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err = app.LoadCatalog(dir)
	want := `loan-applications.yaml:`
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `verified question "What was the loan approval rate by loan type this quarter?": its query_metrics call no longer validates`) ||
		!strings.Contains(err.Error(), `approval_ratio`) {
		t.Fatalf("loading a catalog with a broken verified question: %v", err)
	}
	t.Log(err)
}

// sqlFloat runs an independent query on a demo SQLite file.
func sqlFloat(t *testing.T, dir, db, query string) float64 {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+filepath.Join(dir, db+".db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var f float64
	if err := conn.QueryRow(query).Scan(&f); err != nil {
		t.Fatal(err)
	}
	return f
}

// formatPct writes a ratio as the answer does: a percentage to two places.
func formatPct(r float64) string { return fmt.Sprintf("%.2f%%", 100*r) }
