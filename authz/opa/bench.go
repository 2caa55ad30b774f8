package opa

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/catalog"
)

// BenchmarkRatio times n decisions of in through Decide against n
// evaluations of the engine's own prepared query with the input already
// converted (the bare OPA baseline: same policy, same data, no conversion
// either way), and returns the mean time of each. The two alternate in
// rounds so that both see the same machine load. The design's bar is
// decide <= 1.5 x bare.
func BenchmarkRatio(ctx context.Context, e *Engine, in authz.Input, n int) (decide, bare time.Duration, err error) {
	if n <= 0 {
		return 0, 0, errors.New("authz: benchmark needs a positive number of iterations")
	}
	// Both paths must work, and agree, before they are timed.
	want, err := e.Decide(ctx, in)
	if err != nil {
		return 0, 0, err
	}
	pre := rego.EvalParsedInput(e.inputValue(&in))
	rs, err := e.pq.Eval(ctx, pre)
	if err != nil || len(rs) == 0 {
		return 0, 0, fmt.Errorf("authz: bare evaluation: %v", err)
	}
	if got, err := parseDecision(rs[0].Expressions[0].Value); err != nil || got.Allow != want.Allow {
		return 0, 0, fmt.Errorf("authz: the bare evaluation disagrees with Decide (%v)", err)
	}
	const rounds = 10
	var td, tb time.Duration
	done := 0
	for r := 0; r < rounds && done < n; r++ {
		k := n / rounds
		if r == rounds-1 || k == 0 {
			k = n - done
		}
		start := time.Now()
		for i := 0; i < k; i++ {
			if _, err := e.Decide(ctx, in); err != nil {
				return 0, 0, err
			}
		}
		td += time.Since(start)
		start = time.Now()
		for i := 0; i < k; i++ {
			if _, err := e.pq.Eval(ctx, pre); err != nil {
				return 0, 0, err
			}
		}
		tb += time.Since(start)
		done += k
	}
	return td / time.Duration(done), tb / time.Duration(done), nil
}

// minimalRBAC is the ceiling a decision is measured against: the least an
// RBAC policy can do with the same input (a known asker in the directory,
// in a group granted the action on the product), evaluated bare, with the
// input already converted and the grants indexed by product and group.
const minimalRBAC = `package rbac

default allow := false

allow if {
	input.subject.known == true
	data.directory.users[lower(input.subject.id)]
	some g in input.subject.groups
	input.action in data.grants[input.resource.product][g]
}
`

var grantActions = map[string][]string{"records": {authz.ActionQueryRecords, authz.ActionGetRecord, authz.ActionFindAnomalies}, "metrics": {authz.ActionQueryMetrics}}

// PrepareMinimalRBAC prepares minimalRBAC's data.rbac.allow over products
// and d.
func PrepareMinimalRBAC(ctx context.Context, products []*catalog.Product, d *authz.Directory) (rego.PreparedEvalQuery, error) {
	grants := map[string]any{}
	for _, p := range products {
		byGroup := map[string][]string{}
		for _, g := range p.Access {
			for _, grp := range g.Groups {
				for _, a := range g.Actions {
					byGroup[grp] = append(byGroup[grp], grantActions[a]...)
				}
			}
		}
		grants[p.Name] = byGroup
	}
	users := map[string]any{}
	for _, u := range d.Users() {
		users[strings.ToLower(u.ID)] = map[string]any{"groups": u.Groups}
	}
	store := inmem.NewFromObject(map[string]any{"grants": grants, "directory": map[string]any{"users": users}})
	pq, err := rego.New(rego.Query("data.rbac.allow"), rego.Module("rbac.rego", minimalRBAC), rego.Store(store)).PrepareForEval(ctx)
	if err != nil {
		return rego.PreparedEvalQuery{}, fmt.Errorf("authz: preparing the minimal RBAC policy: %w", err)
	}
	return pq, nil
}

// RBACRatio times n decisions of in through Decide against n evaluations
// of the minimal RBAC policy rbac (PrepareMinimalRBAC, same products and
// directory) with the input already converted, alternating in rounds so
// that both see the same machine load, and returns the median of each.
// The bar is decide <= 2 x rbac, flat in the catalog's size.
func RBACRatio(ctx context.Context, e *Engine, rbac rego.PreparedEvalQuery, in authz.Input, n int) (decide, bare time.Duration, err error) {
	if n <= 0 {
		return 0, 0, errors.New("authz: benchmark needs a positive number of iterations")
	}
	// Both must work before they are timed. They need not agree: RBAC
	// knows no column visibility (carol's denial is one), it is the cost
	// of the least a policy can check.
	if _, err := e.Decide(ctx, in); err != nil {
		return 0, 0, err
	}
	pre := rego.EvalParsedInput(e.inputValue(&in))
	if rs, err := rbac.Eval(ctx, pre); err != nil || len(rs) != 1 {
		return 0, 0, fmt.Errorf("authz: minimal RBAC evaluation: %v", err)
	}
	return AlternateP50(n,
		func() error { _, err := e.Decide(ctx, in); return err },
		func() error { _, err := rbac.Eval(ctx, pre); return err })
}

// AlternateP50 times n calls of a against n calls of b, alternating in
// rounds so that both see the same machine load, and returns the median of
// each. It stops at the first error.
func AlternateP50(n int, a, b func() error) (time.Duration, time.Duration, error) {
	if n <= 0 {
		return 0, 0, errors.New("authz: benchmark needs a positive number of iterations")
	}
	const rounds = 10
	ta, tb := make([]time.Duration, 0, n), make([]time.Duration, 0, n)
	for r := 0; r < rounds && len(ta) < n; r++ {
		k := n / rounds
		if r == rounds-1 || k == 0 {
			k = n - len(ta)
		}
		for range k {
			start := time.Now()
			if err := a(); err != nil {
				return 0, 0, err
			}
			ta = append(ta, time.Since(start))
		}
		for range k {
			start := time.Now()
			if err := b(); err != nil {
				return 0, 0, err
			}
			tb = append(tb, time.Since(start))
		}
	}
	return median(ta), median(tb), nil
}

func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}
