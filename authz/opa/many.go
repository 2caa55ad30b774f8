package opa

import (
	"context"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/askmesh/askmesh/authz"
)

// manyQuery decides every input of input.batch with the one decision rule,
// in one evaluation: [decision for each input], in order. The same rule
// decides as for one call, so a module that adds a reason to deny applies
// here too.
const manyQuery = "[d | some x in input.batch; d := " + authz.DecisionQuery + " with input as x]"

var kBatch = str("batch")

// DecideMany decides several inputs in one policy evaluation ("which of
// these products may this subject query"), so a caller that plans over
// many products asks once rather than once per product and makes no call
// it already knows policy refuses. Decisions are in the order of ins and
// carry the policy revision; an evaluation error fails them all (closed).
func (e *Engine) DecideMany(ctx context.Context, ins []authz.Input) ([]authz.Decision, error) {
	if len(ins) == 0 {
		return nil, nil
	}
	terms := make([]*ast.Term, len(ins))
	for i := range ins {
		terms[i] = ast.NewTerm(e.inputValue(&ins[i]))
	}
	input := ast.NewObject(ast.Item(kBatch, ast.ArrayTerm(terms...)))
	rs, err := e.many.Eval(ctx, rego.EvalParsedInput(input), asTerm, noMetrics)
	if err != nil {
		return nil, fmt.Errorf("authz: evaluating the policy for %d inputs: %w", len(ins), err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return nil, fmt.Errorf("authz: the policy gave no decisions for %d inputs", len(ins))
	}
	t, ok := rs[0].Expressions[0].Value.(*ast.Term)
	if !ok {
		return nil, fmt.Errorf("authz: the policy's decisions are %T", rs[0].Expressions[0].Value)
	}
	arr, ok := t.Value.(*ast.Array)
	if !ok || arr.Len() != len(ins) {
		// An undefined decision for one input drops it from the array.
		return nil, fmt.Errorf("authz: the policy decided %d of %d inputs (%s is undefined for some)", lenOf(arr), len(ins), authz.DecisionQuery)
	}
	out := make([]authz.Decision, len(ins))
	for i := range ins {
		d, err := parseDecision(arr.Elem(i))
		if err != nil {
			return nil, fmt.Errorf("authz: the policy's decision for %s on %q cannot be read: %w", ins[i].Action, ins[i].Resource.Product, err)
		}
		e.guardRestricted(&ins[i], &d)
		d.PolicyRevision = e.revision
		out[i] = d
	}
	return out, nil
}

func lenOf(a *ast.Array) int {
	if a == nil {
		return 0
	}
	return a.Len()
}
