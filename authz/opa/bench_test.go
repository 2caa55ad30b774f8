package opa

import (
	"context"
	"testing"

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

func BenchmarkBarePreparedOPA(b *testing.B) {
	e := demoEngine(b)
	ctx := context.Background()
	for name, in := range benchInputs(b, e) {
		pre := rego.EvalParsedInput(inputValue(&in))
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.pq.Eval(ctx, pre); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
