package assistant_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/assistant/assistanttest"
	"github.com/askmesh/askmesh/audit/auditlog"
	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/authz/opa"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/catalog/catalogtest"
	"github.com/askmesh/askmesh/examples/bank"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/tools"
)

// firstRequestSize is the size in bytes of what the agent sends the model
// on the first turn of a question (system prompt, question and tool
// schemas) when the catalog holds n products.
func firstRequestSize(t *testing.T, n int) int {
	size, _ := firstRequest(t, catalogtest.Synthetic(n, 7), "What data do we have about customers?")
	return size
}

// firstRequest is the size of the first request for a question over the
// products, and its system prompt.
func firstRequest(t *testing.T, products []*catalog.Product, question string) (int, string) {
	t.Helper()
	ctx := context.Background()
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
	agent, err := assistant.New(assistant.Options{Model: model, Tools: exec, Clock: tools.FixedClock(banktest.Now), Verified: assistant.NewVerifiedIndex(reg)})
	if err != nil {
		t.Fatal(err)
	}
	caller := tools.Caller{Subject: dir.Lookup("carol@bank.example"), Channel: "cli"}
	if _, err := agent.Answer(ctx, assistant.Request{Caller: caller, Question: question}); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(model.Requests()[0])
	if err != nil {
		t.Fatal(err)
	}
	return len(b), model.Requests()[0].Messages[0].Content
}

// largeCatalog is the size of the large catalog these tests compare with 10
// products: 10,000, or 1,000 in the quick tier (-short), where building the
// policy index over 10,000 synthetic products would be most of the run.
func largeCatalog() int {
	if testing.Short() {
		return 1_000
	}
	return 10_000
}

// The model discovers products through search_data_products, so what it is
// sent does not grow with the catalog: a mesh of 10,000 products costs the
// same prompt as one of 10.
func TestPromptSizeDoesNotGrowWithTheCatalog(t *testing.T) {
	t.Parallel()
	n := largeCatalog()
	small, large := firstRequestSize(t, 10), firstRequestSize(t, n)
	if small != large {
		t.Fatalf("first request is %d bytes with 10 products and %d with %d", small, large, n)
	}
	t.Logf("first request: %d bytes at 10 and at %d products", small, n)
}

// With a verified question on every product, the model is shown the few
// most like the question, found through the catalog's search: the prompt
// holds the same number of examples at 10 products as at 10,000, and its
// size moves only by the examples' own lengths.
func TestPromptSizeWithVerifiedQuestionsOnEveryProduct(t *testing.T) {
	t.Parallel()
	n := largeCatalog()
	small10, large10k := catalogtest.SyntheticWithVerified(10, 7), catalogtest.SyntheticWithVerified(n, 7)
	// A question like the first product's verified one, not the same.
	q := strings.TrimSuffix(small10[0].ExampleQuestions[0], "?") + ", compared with the month before?"
	small, sp := firstRequest(t, small10, q)
	large, lp := firstRequest(t, large10k, q)
	ns, nl := strings.Count(sp, "\n- \""), strings.Count(lp, "\n- \"")
	if ns != assistant.MaxVerifiedExamples || nl != assistant.MaxVerifiedExamples {
		t.Fatalf("%d examples at 10 products, %d at %d; want %d each:\n%s", ns, nl, n, assistant.MaxVerifiedExamples, lp)
	}
	if d := large - small; d < -200 || d > 200 {
		t.Fatalf("first request is %d bytes with 10 products and %d with %d", small, large, n)
	}
	plain, _ := firstRequest(t, catalogtest.Synthetic(10, 7), q)
	t.Logf("first request: %d bytes at 10 products, %d at %d (%d without verified questions)", small, large, n, plain)
}
