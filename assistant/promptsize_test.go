package assistant_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/assistant/assistanttest"
	"github.com/askmesh/askmesh/audit/auditlog"
	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/authz/opa"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/examples/bank"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/tools"
)

// firstRequestSize is the size in bytes of what the agent sends the model
// on the first turn of a question (system prompt, question and tool
// schemas) when the catalog holds n products.
func firstRequestSize(t *testing.T, n int) int {
	t.Helper()
	ctx := context.Background()
	products := catalog.Synthetic(n, 7)
	reg, err := catalog.NewRegistry(products...)
	if err != nil {
		t.Fatal(err)
	}
	dirYAML, err := bank.Files.ReadFile(bank.DirectoryFile)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := authz.LoadDirectory(bytes.NewReader(dirYAML))
	if err != nil {
		t.Fatal(err)
	}
	engine, err := opa.New(ctx, opa.Options{Products: products, Directory: dir})
	if err != nil {
		t.Fatal(err)
	}
	store, err := auditlog.OpenSQLite(ctx, filepath.Join(t.TempDir(), "governance.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	exec, err := tools.NewExecutor(tools.ExecutorOptions{Catalog: reg, Authorizer: engine, Audit: store})
	if err != nil {
		t.Fatal(err)
	}
	model := &assistanttest.Script{Stream: true, Turns: []assistanttest.Turn{
		assistanttest.Text("I have not looked anything up."),
	}}
	agent, err := assistant.New(assistant.Options{Model: model, Tools: exec, Clock: tools.FixedClock(banktest.Now)})
	if err != nil {
		t.Fatal(err)
	}
	caller := tools.Caller{Subject: dir.Lookup("carol@bank.example"), Channel: "cli"}
	if _, err := agent.Answer(ctx, assistant.Request{Caller: caller, Question: "What data do we have about customers?"}); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(model.Requests()[0])
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
}

// The model discovers products through search_data_products, so what it is
// sent does not grow with the catalog: a mesh of 10,000 products costs the
// same prompt as one of 10.
func TestPromptSizeDoesNotGrowWithTheCatalog(t *testing.T) {
	small, large := firstRequestSize(t, 10), firstRequestSize(t, 10_000)
	if small != large {
		t.Fatalf("first request is %d bytes with 10 products and %d with 10,000", small, large)
	}
	t.Logf("first request: %d bytes at 10 and at 10,000 products", small)
}
