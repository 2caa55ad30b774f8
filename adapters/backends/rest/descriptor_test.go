package rest_test

import (
	"context"
	"encoding/base64"
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
)

// A descriptor chooses its backend: customer-acquisition bound to its
// product API (`backend: {kind: rest, url: ...}`) is answered through that
// API by a plain build of askmesh with a mesh key, no mesh options; the
// asker's identity reaches the product, which records the call too.
func TestDescriptorBoundToItsAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t) // product servers verifying the zero-seed key
	url := h.apis.URLs()["customer-acquisition"]
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
		text := string(b)
		if e.Name() == "customer-acquisition.yaml" {
			sqlite := "        kind: sqlite\n        database: growth\n        schema: growth\n        table: acquisitions\n"
			if !strings.Contains(text, sqlite) {
				t.Fatal("the demo descriptor's backend block changed; update this test")
			}
			text = strings.Replace(text, sqlite, "        kind: rest\n        url: "+url+"\n", 1)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	seed := base64.StdEncoding.EncodeToString(make([]byte, 32))
	a, err := app.Build(context.Background(), app.Config{DataDir: t.TempDir(), CatalogDir: dir, MeshKey: seed,
		Now: banktest.Now.Format(time.RFC3339)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ans, err := a.Agent.Answer(ctx, assistant.Request{Caller: tools.Caller{Subject: a.Directory.Lookup("carol@bank.example"), Channel: "test"},
		Question: "How many new customers did we acquire last month, compared with the month before?"})
	if err != nil {
		t.Fatal(err)
	}
	if !figure("398").MatchString(ans.Text) || !figure("297").MatchString(ans.Text) {
		t.Fatalf("answer through the product API: %q", ans.Text)
	}
	recs, err := h.apiAudit.Search(ctx, audit.Query{Subject: "carol@bank.example", Product: "customer-acquisition"})
	if err != nil || len(recs) == 0 {
		t.Fatalf("the product API did not record carol's call: %v", err)
	}
}
