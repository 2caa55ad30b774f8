package main

import (
	"context"
	"fmt"
	"time"

	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/authz/opa"
	"github.com/askmesh/askmesh/catalog/catalogtest"
)

func (e *benchEnv) benchAuthz() *benchSection {
	sec := &benchSection{Title: "Authorization",
		What: "`opa.Engine.Decide` (Go input to OPA value, evaluation of the decision query with topdown directly and the engine's own caches, decision parsing, the restricted-column guard) against the bare baseline: the engine's own decision query evaluated as Decide evaluates it (topdown directly, the same caches) with the input already converted (same policy, same data), so that the ratio is what Decide adds: input conversion, decision parsing and the guard. Both alternate in rounds (`opa.BenchmarkRatio`); mean per decision."}
	a, err := e.benchApp()
	if err != nil {
		sec.Err = err
		return sec
	}
	defer a.Close()
	cases := authzCases(a.Directory)
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
		sec.Profile = e.profile("authz", 4*time.Second, "", func(ctx context.Context) error {
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

type authzCase struct {
	name string
	in   authz.Input
}

// authzCases are typical calls: allowed with a row filter, allowed with
// masks, and a denial.
func authzCases(d *authz.Directory) []authzCase {
	return []authzCase{
		{"erin: transactions records (row filter, masks)", authz.Input{Subject: d.Lookup("erin@bank.example"), Action: authz.ActionQueryRecords,
			Resource: authz.Resource{Product: "customer-transactions", Columns: []string{"transaction_id", "occurred_at", "amount", "account_id", "region"}, Referenced: []string{"account_id", "occurred_at"}}}},
		{"bob: customers records (pii masked, ssn withheld)", authz.Input{Subject: d.Lookup("bob@bank.example"), Action: authz.ActionQueryRecords,
			Resource: authz.Resource{Product: "customers", Columns: []string{"customer_id", "full_name", "email", "ssn", "date_of_birth", "region", "segment", "joined_at", "risk_rating"}}}},
		{"carol: loan metrics by credit score (denied)", authz.Input{Subject: d.Lookup("carol@bank.example"), Action: authz.ActionQueryMetrics,
			Resource: authz.Resource{Product: "loan-applications", Columns: []string{"loan_type"}, Referenced: []string{"loan_type", "credit_score", "applied_at"}}}},
	}
}

// benchAuthzScale holds a decision to the bar: within 2x of the
// minimal bare RBAC policy, and flat from 10 to 10,000 products.
func (e *benchEnv) benchAuthzScale() *benchSection {
	sec := &benchSection{Title: "Authorization against minimal RBAC, by catalog size",
		What: "`opa.Engine.Decide` on catalogs of the demo's products plus 10, 1,000 and 10,000 synthetic ones (`catalogtest.Synthetic`), against the ceiling: a minimal RBAC policy (a known asker in the directory, in a group granted the action on the product; grants indexed by product and group) evaluated bare with the input already converted, on the same catalog, the way Decide evaluates (the decision query compiled once, topdown directly, the same caches), so that the ratio compares policies and not evaluation paths; the value also gives the same policy through OPA's `rego` API (`PreparedEvalQuery.Eval`, OPA's default caches), which costs more per call (`opa.PrepareMinimalRBAC`, `opa.RBACRatio`; the three alternate in rounds). p50 per decision; the catalog's growth is the decision's p50 on the largest catalog against the smallest, the two alternating."}
	a, err := e.benchApp()
	if err != nil {
		sec.Err = err
		return sec
	}
	defer a.Close()
	cases := authzCases(a.Directory)
	sizes := []int{10, 1000, 10000}
	n := e.n(4000)
	engines := map[int]*opa.Engine{}
	for _, size := range sizes {
		products := append(a.Catalog.List(), catalogtest.Synthetic(size, 18)...)
		start := time.Now()
		eng, err := opa.New(e.ctx, opa.Options{Products: products, Directory: a.Directory})
		if err != nil {
			sec.Err = fmt.Errorf("%d products: %w", size, err)
			return sec
		}
		engines[size] = eng
		sec.Notes = append(sec.Notes, fmt.Sprintf("Building the engine (policy compilation, data and the policy's per-product index) for %s products took %s.",
			fmtCount(int64(len(products))), fmtDur(time.Since(start))))
		rbac, err := opa.PrepareMinimalRBAC(e.ctx, products, a.Directory)
		if err != nil {
			sec.Err = err
			return sec
		}
		for _, c := range cases {
			for range 200 { // warm up
				_, _ = eng.Decide(e.ctx, c.in)
			}
			ts, err := opa.RBACRatio(e.ctx, eng, rbac, c.in, n)
			if err != nil {
				sec.Err = fmt.Errorf("%s, %d products: %w", c.name, size, err)
				return sec
			}
			r := ratio(float64(ts.Decide), float64(ts.Direct))
			sec.Rows = append(sec.Rows, benchRow{Case: fmt.Sprintf("%s; +%s products", c.name, fmtCount(int64(size))),
				Value:    fmt.Sprintf("p50 %s (%s against minimal RBAC through OPA's rego API, p50 %s)", fmtDur(ts.Decide), fmtRatio(ratio(float64(ts.Decide), float64(ts.Rego))), fmtDur(ts.Rego)),
				Baseline: "p50 " + fmtDur(ts.Direct) + " (minimal RBAC, evaluated as Decide evaluates)",
				Ratio:    fmtRatio(r), Target: "≤ 2x minimal RBAC", Met: met(r <= 2)})
		}
	}
	// Growth: the smallest and the largest catalog's engines, alternating,
	// so that a change in the machine's load does not pass for growth.
	first, last := sizes[0], sizes[len(sizes)-1]
	for _, c := range cases {
		small, large, err := opa.AlternateP50(n,
			func() error { _, err := engines[first].Decide(e.ctx, c.in); return err },
			func() error { _, err := engines[last].Decide(e.ctx, c.in); return err })
		if err != nil {
			sec.Err = fmt.Errorf("%s: %w", c.name, err)
			return sec
		}
		r := ratio(float64(large), float64(small))
		sec.Rows = append(sec.Rows, benchRow{Case: fmt.Sprintf("%s: growth from %s to %s products", c.name, fmtCount(int64(first)), fmtCount(int64(last))),
			Value: "p50 " + fmtDur(large), Baseline: "p50 " + fmtDur(small) + " (" + fmtCount(int64(first)) + " products)",
			Ratio: fmtRatio(r), Target: "flat (within 10%)", Met: met(r <= 1.10)})
	}
	sec.Notes = append(sec.Notes, fmt.Sprintf("%s decisions of each way per case and catalog; for the growth rows, the smallest and the largest catalog's engines alternate in rounds. Allocations per decision, which load does not move, are in `BenchmarkCatalogSize` in the `go test -bench` output below.", fmtCount(int64(n))))
	return sec
}
