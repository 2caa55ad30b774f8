package opa

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/askmesh/askmesh/authz"
	"github.com/open-policy-agent/opa/v1/rego"
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
	pre := rego.EvalParsedInput(inputValue(&in))
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
