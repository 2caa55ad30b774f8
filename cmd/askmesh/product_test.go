package main

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/audit/auditlog"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/tools"
)

// TestMeshAnswersAcrossProductAPIs: with the demo as a mesh, a question is
// answered through the growth domain's own API, and that API decided and
// recorded the call for the asker.
func TestMeshAnswersAcrossProductAPIs(t *testing.T) {
	t.Parallel()
	dir := banktest.PrivateDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := &cobra.Command{}
	cmd.SetContext(ctx)
	cfg := app.Config{DataDir: dir, Now: banktest.Now.Format(time.RFC3339)}
	g := &globals{dataDir: dir}
	opts, stop, err := g.startMesh(cmd, cfg, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Build(ctx, cfg, opts...)
	if err != nil {
		stop()
		t.Fatal(err)
	}
	if p, _ := a.Catalog.Get("customer-acquisition"); p.Binding.Kind != "rest" || !strings.HasPrefix(p.Binding.URL, "http://127.0.0.1:") {
		t.Fatalf("customer-acquisition binding: %+v", p.Binding)
	}
	ans, err := a.Agent.Answer(ctx, assistant.Request{Caller: tools.Caller{Subject: a.Directory.Lookup("carol@bank.example"), Channel: "test"},
		Question: "How many new customers did we acquire last month, compared with the month before?"})
	a.Close()
	stop()
	if err != nil {
		t.Fatal(err)
	}
	if !figure("398").MatchString(ans.Text) || !figure("297").MatchString(ans.Text) {
		t.Fatalf("answer: %s", ans.Text)
	}
	st, err := auditlog.OpenSQLite(ctx, filepath.Join(dir, "product-api", "governance.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.Search(ctx, audit.Query{Subject: "carol@bank.example", Product: "customer-acquisition", Decision: audit.DecisionAllow})
	if err != nil || len(recs) == 0 {
		t.Fatalf("the product API recorded no call for carol: %v", err)
	}
}

// TestProductServe runs `askmesh product serve` and calls it with a demo token.
func TestProductServe(t *testing.T) {
	t.Parallel()
	dir := banktest.PrivateDir(t)
	base, out := startCommand(t, dir, "/products", "product", "serve", "customer-transactions", "--demo")
	if !strings.Contains(out.String(), "at "+base+"/products/customer-transactions") {
		t.Errorf("product serve did not print its address:\n%s", out.String())
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/products/customer-transactions/metrics?metrics=transaction_count&group_by=region", nil)
	req.Header.Set("Authorization", "Bearer demo-erin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Data []map[string]any `json:"data"`
	}
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || len(body.Data) != 1 || body.Data[0]["region"] != "europe" {
		t.Fatalf("%d %v %+v", resp.StatusCode, err, body.Data)
	}
}
