package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/feedback"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/internal/eval"
	"github.com/askmesh/askmesh/tools"
)

// A down-vote becomes an eval case: bob down-votes an answer, his team
// lists the feedback, imports it into a suite, and the suite lists it as
// pending until someone writes what is right.
func TestDownVoteImportedAsAnEvalCase(t *testing.T) {
	t.Parallel()
	dir := banktest.PrivateDir(t)
	ctx := context.Background()
	a, err := app.Build(ctx, app.Config{DataDir: dir, Now: banktest.Now.Format(time.RFC3339)})
	if err != nil {
		t.Fatal(err)
	}
	bob := tools.Caller{Subject: a.Directory.Lookup("bob@bank.example"), Channel: "web"}
	ans, err := a.Agent.Answer(ctx, assistant.Request{Caller: bob, Question: "What was the mortgage approval rate last quarter?"})
	if err == nil {
		_, err = a.Feedback.Submit(ctx, bob, feedback.Submission{RequestID: ans.RequestID, Rating: "down", Comment: "should exclude withdrawn\x1b[31m applications"})
	}
	a.Close()
	if err != nil {
		t.Fatal(err)
	}

	out, err := run(t, dir, "feedback", "list", "--product", "loan-applications", "--as", "bob")
	if err != nil || !strings.Contains(out, "down") || !strings.Contains(out, "What was the mortgage approval rate last quarter?") ||
		!strings.Contains(out, "should exclude withdrawn [31m applications") || strings.Contains(out, "\x1b") || !strings.Contains(out, "1 answers rated") {
		t.Fatalf("feedback list: %v\n%q", err, out)
	}
	if _, err := run(t, dir, "feedback", "list", "--product", "loan-applications", "--as", "alice"); err == nil || !strings.Contains(err.Error(), "for its own team") {
		t.Errorf("alice lists lending's feedback: %v", err)
	}

	suite := filepath.Join(t.TempDir(), "from-feedback.yaml")
	for i := 0; i < 2; i++ { // importing twice adds nothing twice
		out, err = run(t, dir, "eval", "import-feedback", "--product", "loan-applications", "--as", "bob", "--out", suite)
		if err != nil {
			t.Fatalf("import: %v\n%s", err, out)
		}
	}
	if !strings.Contains(out, "1 down-voted answers on loan-applications; 0 new cases") {
		t.Errorf("second import says %q", out)
	}
	s, err := eval.LoadSuite(suite)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Cases) != 1 {
		t.Fatalf("cases %+v", s.Cases)
	}
	c := s.Cases[0]
	if c.Question != "What was the mortgage approval rate last quarter?" || c.Asker != "bob@bank.example" || c.Pending == "" ||
		!strings.Contains(c.Note, "down-voted by bob@bank.example") || !strings.Contains(c.Note, ans.RequestID) || !strings.HasPrefix(c.ID, "feedback-") {
		t.Errorf("imported case %+v", c)
	}
	raw, _ := os.ReadFile(suite)
	t.Logf("imported suite:\n%s", raw)
	out, err = run(t, dir, "eval", suite, "--out", t.TempDir())
	if err != nil || !strings.Contains(out, "1 pending cases") || !strings.Contains(out, c.ID) {
		t.Errorf("eval of the imported suite: %v\n%s", err, out)
	}
}
