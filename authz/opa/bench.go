package opa

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/catalog"
)

// BenchmarkRatio times n decisions of in through Decide against n
// evaluations of the engine's own decision query with the input already
// converted, evaluated as Decide evaluates it (topdown directly, the same
// caches): the bare OPA baseline, same policy, same data, no conversion or
// decision parsing. It returns the mean time of each; the two alternate
// in rounds so that both see the same machine load. The design's bar is
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
	input := e.inputValue(&in)
	t, err := e.dq.eval(ctx, input)
	if err != nil || t == nil {
		return 0, 0, fmt.Errorf("authz: bare evaluation: %v", err)
	}
	if got, err := parseDecision(t.Value); err != nil || got.Allow != want.Allow {
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
			if _, err := e.dq.eval(ctx, input); err != nil {
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

// MinimalRBAC is minimalRBAC prepared over a catalog and a directory, two
// ways: compiled for topdown directly with the caches Decide uses, so that
// it is evaluated as Decide evaluates (the like-for-like ceiling, which the
// bar is held to), and through OPA's rego API (PreparedEvalQuery.Eval, as
// a user of OPA would evaluate it), which costs more per call.
type MinimalRBAC struct {
	direct   *decisionQuery
	prepared rego.PreparedEvalQuery
}

// PrepareMinimalRBAC prepares minimalRBAC's data.rbac.allow over products
// and d.
func PrepareMinimalRBAC(ctx context.Context, products []*catalog.Product, d *authz.Directory) (*MinimalRBAC, error) {
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
	const query = "data.rbac.allow"
	pq, err := rego.New(rego.Query(query), rego.Module("rbac.rego", minimalRBAC), rego.Store(store)).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("authz: preparing the minimal RBAC policy: %w", err)
	}
	compiler, err := ast.CompileModules(map[string]string{"rbac.rego": minimalRBAC})
	if err != nil {
		return nil, fmt.Errorf("authz: compiling the minimal RBAC policy: %w", err)
	}
	direct, err := newDecisionQuery(compiler, store, query)
	if err != nil {
		return nil, fmt.Errorf("authz: compiling the minimal RBAC query: %w", err)
	}
	return &MinimalRBAC{direct: direct, prepared: pq}, nil
}

// RBACTimes are the medians RBACRatio measured.
type RBACTimes struct {
	Decide time.Duration // opa.Engine.Decide, input conversion included
	Direct time.Duration // minimal RBAC evaluated as Decide evaluates, input converted
	Rego   time.Duration // minimal RBAC through rego.PreparedEvalQuery.Eval, input converted
}

// RBACRatio times n decisions of in through Decide against n evaluations
// of the minimal RBAC policy rbac (PrepareMinimalRBAC, same products and
// directory) with the input already converted, evaluated both ways,
// alternating in rounds so that all three see the same machine load, and
// returns the median of each. The bar is Decide <= 2 x Direct,
// flat in the catalog's size.
func RBACRatio(ctx context.Context, e *Engine, rbac *MinimalRBAC, in authz.Input, n int) (RBACTimes, error) {
	if n <= 0 {
		return RBACTimes{}, errors.New("authz: benchmark needs a positive number of iterations")
	}
	// All must work before they are timed, and the two RBAC evaluations
	// agree. RBAC and Decide need not: RBAC knows no column visibility
	// (carol's denial is one), it is the cost of the least a policy can
	// check.
	if _, err := e.Decide(ctx, in); err != nil {
		return RBACTimes{}, err
	}
	input := e.inputValue(&in)
	pre := rego.EvalParsedInput(input)
	rs, err := rbac.prepared.Eval(ctx, pre)
	if err != nil || len(rs) != 1 {
		return RBACTimes{}, fmt.Errorf("authz: minimal RBAC evaluation: %v", err)
	}
	t, err := rbac.direct.eval(ctx, input)
	if err != nil || t == nil || t.Value.Compare(ast.Boolean(rs[0].Expressions[0].Value == true)) != 0 {
		return RBACTimes{}, fmt.Errorf("authz: the minimal RBAC policy evaluated directly gives %v, through rego %v (%v)", t, rs[0].Expressions[0].Value, err)
	}
	ts, err := alternateP50s(n,
		func() error { _, err := e.Decide(ctx, in); return err },
		func() error { _, err := rbac.direct.eval(ctx, input); return err },
		func() error { _, err := rbac.prepared.Eval(ctx, pre); return err })
	if err != nil {
		return RBACTimes{}, err
	}
	return RBACTimes{Decide: ts[0], Direct: ts[1], Rego: ts[2]}, nil
}

// AlternateP50 times n calls of a against n calls of b, alternating in
// rounds so that both see the same machine load, and returns the median of
// each. It stops at the first error.
func AlternateP50(n int, a, b func() error) (time.Duration, time.Duration, error) {
	ts, err := alternateP50s(n, a, b)
	if err != nil {
		return 0, 0, err
	}
	return ts[0], ts[1], nil
}

// alternateP50s times n calls of each of fns, in rounds where each takes
// its turn, and returns the median of each.
func alternateP50s(n int, fns ...func() error) ([]time.Duration, error) {
	if n <= 0 {
		return nil, errors.New("authz: benchmark needs a positive number of iterations")
	}
	const rounds = 10
	ts := make([][]time.Duration, len(fns))
	for i := range ts {
		ts[i] = make([]time.Duration, 0, n)
	}
	for r := 0; r < rounds && len(ts[0]) < n; r++ {
		k := n / rounds
		if r == rounds-1 || k == 0 {
			k = n - len(ts[0])
		}
		for i, f := range fns {
			for range k {
				start := time.Now()
				if err := f(); err != nil {
					return nil, err
				}
				ts[i] = append(ts[i], time.Since(start))
			}
		}
	}
	out := make([]time.Duration, len(fns))
	for i := range ts {
		out[i] = median(ts[i])
	}
	return out, nil
}

func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}
