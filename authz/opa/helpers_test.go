package opa

import (
	"context"
	"testing"

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
