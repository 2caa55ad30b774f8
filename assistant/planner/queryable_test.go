package planner

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/catalog/catalogtest"
	"github.com/askmesh/askmesh/examples/bank"
	"github.com/askmesh/askmesh/tools"
)

// countingChecker allows query_metrics on every product and records which
// products it was asked about.
type countingChecker struct {
	mu    sync.Mutex
	asked []string
}

func (c *countingChecker) Access(_ context.Context, _ tools.Caller, products []string, actions ...string) ([]tools.Access, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]tools.Access, len(products))
	for i, p := range products {
		c.asked = append(c.asked, p)
		out[i] = tools.Access{Product: p, Allowed: slices.Clone(actions), Nameable: true}
	}
	return out, nil
}

// TestPolicyIsAskedOfTheProductsAQuestionNames holds a question's policy
// checks to the products its words could mean: a planner that asked about
// the whole catalog made every question cost as many decisions as the
// catalog has products (twice: query and describe), 13,000 allocations for
// one question on the demo's 7 and thousands of decisions on a real mesh.
func TestPolicyIsAskedOfTheProductsAQuestionNames(t *testing.T) {
	t.Parallel()
	demo, err := catalog.LoadFS(bank.Files, bank.ProductsDir)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := catalog.NewRegistry(append(demo.List(), catalogtest.Synthetic(1000, 7)...)...)
	if err != nil {
		t.Fatal(err)
	}
	chk := &countingChecker{}
	p := New(reg, tools.FixedClock(testNow)).WithAccess(chk)
	ctx := tools.WithCaller(context.Background(), tools.Caller{Subject: authz.Subject{ID: "carol@bank.example", Known: true}, Channel: "api"})
	for _, q := range []string{
		"How many new customers did we acquire last month, by channel?",
		"total spending last month", // a word two products share: policy is asked of those two
	} {
		chk.asked = nil
		r, err := p.Generate(ctx, assistant.ModelRequest{Messages: []assistant.Message{{Role: assistant.RoleUser, Content: q}}, Tools: tools.Specs()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(chk.asked) > 4 {
			t.Errorf("%q: policy was asked about %d products (%s…); want only those its words name", q, len(chk.asked), strings.Join(chk.asked[:4], ", "))
		}
		if q == "total spending last month" && (r.Clarification == nil || len(r.Clarification.Options) != 2) {
			t.Errorf("%q: want the ask-back between the two products that may be queried, got %+v", q, r)
		}
	}
}
