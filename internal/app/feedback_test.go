package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/feedback"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/internal/pgtest"
	"github.com/askmesh/askmesh/tools"
)

// Feedback round trip through the stack, in SQLite (the default) and in
// PostgreSQL beside the conversations: bob down-votes his answer with a
// comment, then changes his mind (the last click wins); each click is
// audited as his action, linked to the answer's calls. alice cannot rate
// bob's answer. bob's team reads the feedback on the product; alice's
// attempt is denied by policy and audited.
func TestFeedbackRoundTrip(t *testing.T) {
	t.Parallel()
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			cfg := app.Config{DataDir: banktest.PrivateDir(t), Now: banktest.Now.Format(time.RFC3339)}
			if store == "postgres" {
				cfg.Memory.Postgres = pgtest.NewDatabase(t)
			}
			ctx := context.Background()
			a, err := app.Build(ctx, cfg, app.WithLogger(discardLogger()))
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			who := func(id string) tools.Caller { return tools.Caller{Subject: a.Directory.Lookup(id), Channel: "api"} }
			ans, err := a.Agent.Answer(ctx, assistant.Request{Caller: who("bob@bank.example"), Question: "What was the mortgage approval rate last quarter?"})
			if err != nil {
				t.Fatal(err)
			}
			down, err := a.Feedback.Submit(ctx, who("bob@bank.example"), feedback.Submission{RequestID: ans.RequestID, Rating: "down", Comment: "mortgages <b>only</b> please"})
			if err != nil {
				t.Fatal(err)
			}
			if down.Question != "What was the mortgage approval rate last quarter?" || len(down.Products) != 1 || down.Products[0] != "loan-applications" ||
				len(down.AuditIDs) != len(ans.ToolCalls) || down.AuditIDs[0] != ans.ToolCalls[0].AuditID {
				t.Errorf("feedback not linked to the answer: %+v", down)
			}
			if _, err := a.Feedback.Submit(ctx, who("alice@bank.example"), feedback.Submission{RequestID: ans.RequestID, Rating: "up"}); err == nil ||
				!strings.Contains(err.Error(), "no answer of yours") {
				t.Errorf("alice rated bob's answer: %v", err)
			}
			var in *feedback.InputError
			if _, err := a.Feedback.Submit(ctx, who("bob@bank.example"), feedback.Submission{RequestID: ans.RequestID, Rating: "meh"}); !errors.As(err, &in) {
				t.Errorf("a bad rating: %v", err)
			}
			list, err := a.Feedback.ForProduct(ctx, who("bob@bank.example"), "loan-applications", feedback.Filter{})
			if err != nil || len(list) != 1 || list[0].Rating != "down" || list[0].Comment != "mortgages <b>only</b> please" {
				t.Fatalf("bob's team sees %+v (%v)", list, err)
			}
			up, err := a.Feedback.Submit(ctx, who("bob@bank.example"), feedback.Submission{RequestID: ans.RequestID, Rating: "up"})
			if err != nil {
				t.Fatal(err)
			}
			list, err = a.Feedback.ForProduct(ctx, who("bob@bank.example"), "loan-applications", feedback.Filter{})
			if err != nil || len(list) != 1 || list[0].Rating != "up" || list[0].Comment != "" || list[0].AuditID != up.AuditID {
				t.Fatalf("after the second click bob's team sees %+v (%v)", list, err)
			}
			var denied *feedback.DeniedError
			if _, err := a.Feedback.ForProduct(ctx, who("alice@bank.example"), "loan-applications", feedback.Filter{}); !errors.As(err, &denied) {
				t.Fatalf("alice reads lending's feedback: %v", err)
			}
			recs, err := a.Audit.Search(ctx, audit.Query{Tool: feedback.Tool})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, r.Subject+" "+r.Action+" "+r.Decision+" "+r.RequestID)
			}
			want := []string{
				"bob@bank.example feedback.submit allow " + ans.RequestID,
				"bob@bank.example feedback.review allow ",
				"bob@bank.example feedback.submit allow " + ans.RequestID,
				"bob@bank.example feedback.review allow ",
				"alice@bank.example feedback.review deny ",
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("audit records of feedback:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if recs[0].ID != down.AuditID || !strings.Contains(string(recs[0].Arguments), ans.ToolCalls[0].AuditID) {
				t.Errorf("the first click's record %+v", recs[0])
			}
		})
	}
}
