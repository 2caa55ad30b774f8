package opa

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/catalog/catalogtest"

	"github.com/askmesh/askmesh/authz"
	"github.com/open-policy-agent/opa/v1/rego"
)

// benchInputs are typical calls: allowed with a row filter, allowed with
// masks, and a denial.
func benchInputs(tb testing.TB, e *Engine) map[string]authz.Input {
	d := demoDirectory(tb)
	return map[string]authz.Input{
		"erin-records": {Subject: d.Lookup("erin@bank.example"), Action: authz.ActionQueryRecords,
			Resource: authz.Resource{Product: "customer-transactions", Columns: []string{"transaction_id", "occurred_at", "amount", "account_id", "region"}, Referenced: []string{"account_id", "occurred_at"}}},
		"bob-customers": {Subject: d.Lookup("bob@bank.example"), Action: authz.ActionQueryRecords,
			Resource: authz.Resource{Product: "customers", Columns: []string{"customer_id", "full_name", "email", "ssn", "date_of_birth", "region", "segment", "joined_at", "risk_rating"}}},
		"carol-credit-score": {Subject: d.Lookup("carol@bank.example"), Action: authz.ActionQueryMetrics,
			Resource: authz.Resource{Product: "loan-applications", Columns: []string{"loan_type"}, Referenced: []string{"loan_type", "credit_score", "applied_at"}}},
	}
}

func BenchmarkDecide(b *testing.B) {
	e := demoEngine(b)
	ctx := context.Background()
	for name, in := range benchInputs(b, e) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Decide(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecideFreshGoroutine is a decision as a request makes it: on a
// goroutine of its own, whose stack starts small, as every HTTP request's
// does.
func BenchmarkDecideFreshGoroutine(b *testing.B) {
	e := demoEngine(b)
	ctx := context.Background()
	for name, in := range benchInputs(b, e) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			done := make(chan error)
			for b.Loop() {
				go func() {
					_, err := e.Decide(ctx, in)
					done <- err
				}()
				if err := <-done; err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBarePreparedOPA(b *testing.B) {
	e := demoEngine(b)
	pq := preparedDecision(b, e)
	ctx := context.Background()
	for name, in := range benchInputs(b, e) {
		pre := rego.EvalParsedInput(e.inputValue(&in))
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := pq.Eval(ctx, pre); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func bareRBAC(tb testing.TB, products []*catalog.Product) *MinimalRBAC {
	pq, err := PrepareMinimalRBAC(context.Background(), products, demoDirectory(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return pq
}

// BenchmarkCatalogSize is a decision through Decide (input conversion,
// evaluation, decision parsing, the restricted-column guard) on catalogs of
// 10, 1,000 and 10,000 synthetic products besides the demo's, against the
// minimal bare RBAC policy on the same catalog and inputs, and against the
// default policy as it was before grants were indexed (testdata/today).
func BenchmarkCatalogSize(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{10, 1000, 10000} {
		products := append(demoProducts(b), catalogtest.Synthetic(n, 18)...)
		e, err := New(ctx, Options{Products: products, Directory: demoDirectory(b)})
		if err != nil {
			b.Fatal(err)
		}
		today, err := New(ctx, Options{PolicyDir: "testdata/today", Products: products, Directory: demoDirectory(b)})
		if err != nil {
			b.Fatal(err)
		}
		rbac := bareRBAC(b, products)
		for _, name := range []string{"erin-records", "bob-customers", "carol-credit-score"} {
			in := benchInputs(b, e)[name]
			want, err := today.Decide(ctx, in)
			if err != nil {
				b.Fatal(err)
			}
			if got, err := e.Decide(ctx, in); err != nil || !reflect.DeepEqual(got.Allow, want.Allow) || !reflect.DeepEqual(got.RowFilters, want.RowFilters) ||
				!reflect.DeepEqual(got.ColumnMasks, want.ColumnMasks) || !reflect.DeepEqual(got.DeniedColumns, want.DeniedColumns) || !reflect.DeepEqual(got.Reasons, want.Reasons) {
				b.Fatalf("%s: the indexed policy decides %+v, the previous one %+v (%v)", name, got, want, err)
			}
			pre := rego.EvalParsedInput(e.inputValue(&in))
			b.Run(fmt.Sprintf("products=%d/%s/decide", n, name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := e.Decide(ctx, in); err != nil {
						b.Fatal(err)
					}
				}
			})
			// The ceiling, evaluated as Decide evaluates (the bar's), and
			// through OPA's rego API.
			b.Run(fmt.Sprintf("products=%d/%s/bare-rbac", n, name), func(b *testing.B) {
				b.ReportAllocs()
				input := e.inputValue(&in)
				for b.Loop() {
					if t, err := rbac.direct.eval(ctx, input); err != nil || t == nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("products=%d/%s/bare-rbac-rego", n, name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if rs, err := rbac.prepared.Eval(ctx, pre); err != nil || len(rs) != 1 {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("products=%d/%s/previous-policy", n, name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := today.Decide(ctx, in); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
