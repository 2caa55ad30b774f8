package opa

import (
	"context"
	"testing"

	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/examples/bank"
)

func demoProducts(tb testing.TB) []*catalog.Product {
	tb.Helper()
	reg, err := catalog.LoadFS(bank.Files, bank.ProductsDir)
	if err != nil {
		tb.Fatal(err)
	}
	return reg.List()
}

func demoDirectory(tb testing.TB) *authz.Directory {
	tb.Helper()
	f, err := bank.Files.Open(bank.DirectoryFile)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	d, err := authz.LoadDirectory(f)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func demoEngine(tb testing.TB) *Engine {
	tb.Helper()
	e, err := New(context.Background(), Options{Products: demoProducts(tb), Directory: demoDirectory(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// preparedDecision is e's decision query prepared through OPA's rego API
// (its default caches, its own evaluation context), over e's compiler and
// store: what Decide's direct evaluation is compared with.
func preparedDecision(tb testing.TB, e *Engine) rego.PreparedEvalQuery {
	tb.Helper()
	pq, err := rego.New(rego.Query(authz.DecisionQuery), rego.Compiler(e.dq.compiler), rego.Store(e.store),
		rego.StrictBuiltinErrors(true)).PrepareForEval(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return pq
}
