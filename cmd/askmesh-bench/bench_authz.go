package main

import (
	"context"
	"fmt"
	"time"

	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/authz/opa"
)

func (e *benchEnv) benchAuthz() *benchSection {
	sec := &benchSection{Title: "Authorization",
		What: "`opa.Engine.Decide` (Go input to OPA value, evaluation of the prepared decision query, decision parsing, the restricted-column guard) against the bare baseline: the engine's own prepared OPA query evaluated with the input already converted (same policy, same data). Both alternate in rounds (`opa.BenchmarkRatio`); mean per decision."}
	a, err := e.benchApp()
	if err != nil {
		sec.Err = err
		return sec
	}
	defer a.Close()
	d := a.Directory
	cases := []struct {
		name string
		in   authz.Input
	}{
		{"erin: transactions records (row filter, masks)", authz.Input{Subject: d.Lookup("erin@bank.example"), Action: authz.ActionQueryRecords,
			Resource: authz.Resource{Product: "customer-transactions", Columns: []string{"transaction_id", "occurred_at", "amount", "account_id", "region"}, Referenced: []string{"account_id", "occurred_at"}}}},
		{"bob: customers records (pii masked, ssn withheld)", authz.Input{Subject: d.Lookup("bob@bank.example"), Action: authz.ActionQueryRecords,
			Resource: authz.Resource{Product: "customers", Columns: []string{"customer_id", "full_name", "email", "ssn", "date_of_birth", "region", "segment", "joined_at", "risk_rating"}}}},
		{"carol: loan metrics by credit score (denied)", authz.Input{Subject: d.Lookup("carol@bank.example"), Action: authz.ActionQueryMetrics,
			Resource: authz.Resource{Product: "loan-applications", Columns: []string{"loan_type"}, Referenced: []string{"loan_type", "credit_score", "applied_at"}}}},
	}
	n := e.n(8000)
	var worst authz.Input
	worstRatio := 0.0
	for _, c := range cases {
		for range 200 { // warm up
			_, _ = a.Authz.Decide(e.ctx, c.in)
		}
		decide, bare, err := opa.BenchmarkRatio(e.ctx, a.Authz, c.in, n)
		if err != nil {
			sec.Err = fmt.Errorf("%s: %w", c.name, err)
			return sec
		}
		r := ratio(float64(decide), float64(bare))
		if r > worstRatio {
			worstRatio, worst = r, c.in
		}
		sec.Rows = append(sec.Rows, benchRow{Case: c.name, Value: fmtDur(decide), Baseline: fmtDur(bare),
			Ratio: fmtRatio(r), Target: "≤ 1.5x bare OPA", Met: met(r <= 1.5)})
	}
	sec.Notes = append(sec.Notes, fmt.Sprintf("%s decisions of each way per case.", fmtCount(int64(n))))
	if sec.missed() {
		sec.Profile = e.profile("authz", 4*time.Second, func(ctx context.Context) error {
			for range 1000 {
				if _, err := a.Authz.Decide(ctx, worst); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return sec
}
